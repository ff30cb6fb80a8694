//! Complete (non-stream) upstream responses, translated into the client's dialect.

use crate::{Dialect, TranslateError, Usage};

/// A response body for the client, and the usage read from it for metering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedResponse {
    /// JSON body in the client's dialect.
    pub body: Vec<u8>,
    /// Token usage, when the upstream reported it.
    pub usage: Option<Usage>,
}

/// Translates a successful upstream body (2xx) for the client. Error bodies go through
/// [`crate::translate_upstream_error`] instead. Responses built for OpenAI clients from another
/// dialect carry `created: 0`; use [`decode_response_at`] to stamp the time.
///
/// # Errors
/// `MalformedUpstream` when the body is not the upstream dialect's response shape.
pub fn decode_response(
    upstream: Dialect,
    client: Dialect,
    body: &[u8],
) -> Result<DecodedResponse, TranslateError> {
    decode_response_at(upstream, client, body, 0)
}

/// [`decode_response`] with the `created` timestamp (Unix seconds) to write when a response
/// is built for an OpenAI client; this crate has no clock.
///
/// # Errors
/// `MalformedUpstream` when the body is not the upstream dialect's response shape.
pub fn decode_response_at(
    upstream: Dialect,
    client: Dialect,
    body: &[u8],
    created: u64,
) -> Result<DecodedResponse, TranslateError> {
    decode_response_named(upstream, client, body, created, "")
}

/// [`decode_response_at`] with the model name to write when a Gemini reply names none
/// (`modelVersion` is optional, and some proxies leave it out); other replies name their
/// model themselves.
///
/// # Errors
/// `MalformedUpstream` when the body is not the upstream dialect's response shape.
pub fn decode_response_named(
    upstream: Dialect,
    client: Dialect,
    body: &[u8],
    created: u64,
    model: &str,
) -> Result<DecodedResponse, TranslateError> {
    // Passthrough skips most of the body unparsed, and serde does not check UTF-8 in skipped
    // strings; checking here keeps every body the client gets valid JSON.
    if upstream == client && std::str::from_utf8(body).is_err() {
        return Err(TranslateError::MalformedUpstream(
            "response body is not UTF-8".to_owned(),
        ));
    }
    let (body, usage) = match (upstream, client) {
        (Dialect::OpenAi, Dialect::OpenAi) => {
            (body.to_vec(), crate::openai::usage::response_usage(body)?)
        }
        (Dialect::Anthropic, Dialect::Anthropic) => {
            (body.to_vec(), crate::anthropic::response::usage_only(body)?)
        }
        (Dialect::Anthropic, Dialect::OpenAi) => {
            crate::anthropic::response::to_openai(body, created)?
        }
        (Dialect::OpenAi, Dialect::Anthropic) => crate::anthropic::response::from_openai(body)?,
        (Dialect::Gemini, Dialect::OpenAi) => gemini_to_openai(body, model)?,
        (_, Dialect::OpenAiResponses) => {
            let decoded =
                crate::responses::decode(upstream, body, created, model, &Default::default())?;
            (decoded.body, decoded.usage)
        }
        (Dialect::Gemini, Dialect::Anthropic) => {
            let (openai, usage) = gemini_to_openai(body, model)?;
            let (anthropic, _) = crate::anthropic::response::from_openai(&openai)?;
            (anthropic, usage)
        }
        (Dialect::Bedrock, Dialect::OpenAi) => bedrock_to_openai(body, model, created)?,
        (Dialect::Bedrock, Dialect::Anthropic) => {
            let (openai, usage) = bedrock_to_openai(body, model, created)?;
            let (anthropic, _) = crate::anthropic::response::from_openai_with(&openai, usage)?;
            (anthropic, usage)
        }
        (from, to) => return Err(crate::unsupported_pair(from, to)),
    };
    Ok(DecodedResponse { body, usage })
}

/// A Converse reply as an OpenAI completion named `model` (Converse replies name none).
fn bedrock_to_openai(
    body: &[u8],
    model: &str,
    created: u64,
) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    let (value, usage) = crate::bedrock::response_to_openai(body, model, created)?;
    let mut out = Vec::with_capacity(body.len());
    crate::json::write(&mut out, &value);
    Ok((out, Some(usage)))
}

#[derive(serde::Deserialize)]
struct ModelVersion {
    #[serde(default, rename = "modelVersion")]
    model_version: Option<String>,
}

/// Gemini's reply as an OpenAI completion, named after the reply's `modelVersion`, else
/// `fallback`.
fn gemini_to_openai(
    body: &[u8],
    fallback: &str,
) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    let model = serde_json::from_slice::<ModelVersion>(body)
        .ok()
        .and_then(|m| m.model_version)
        .unwrap_or_else(|| fallback.to_owned());
    let (value, usage) = crate::gemini::response_to_openai(body, &model)?;
    let mut out = Vec::with_capacity(body.len());
    crate::json::write(&mut out, &value);
    Ok((out, Some(usage)))
}
