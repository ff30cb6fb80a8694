//! OpenAI `/v1/embeddings` to Gemini `batchEmbedContents` and back.

use serde_json::{json, Map, Value};

use super::model_segment;
use super::request::invalid;
use super::response::malformed;
use crate::{TranslateError, Usage};

/// Builds the `batchEmbedContents` call for an OpenAI embeddings request: the upstream path
/// `/v1beta/models/{model}:batchEmbedContents` and a body with one `EmbedContentRequest` per
/// input string. `dimensions` becomes `outputDimensionality`.
///
/// `encoding_format` and `user` are ignored: replies are always float arrays, which the
/// OpenAI SDKs accept even when they asked for base64 by default.
///
/// # Errors
/// `InvalidRequest` for an invalid model, an empty or missing `input`, token-array input
/// (Gemini only embeds text) or a bad `dimensions`.
pub fn embeddings_request_from_openai(
    req: &Map<String, Value>,
    model: &str,
) -> Result<(String, Value), TranslateError> {
    let segment = model_segment(model)?;
    let bare = model.strip_prefix("models/").unwrap_or(model);
    let texts: Vec<&str> = match req.get("input") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                invalid(
                    "input",
                    "Gemini embeds text only: `input` must be a string or an array of strings"
                        .to_owned(),
                )
            })?,
        _ => {
            return Err(invalid(
                "input",
                "`input` must be a non-empty string or array of strings".to_owned(),
            ))
        }
    };
    let dimensions = match req.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(d) => Some(d.as_u64().filter(|d| *d > 0).ok_or_else(|| {
            invalid(
                "dimensions",
                "`dimensions` must be a positive integer".to_owned(),
            )
        })?),
    };
    let requests: Vec<Value> = texts
        .iter()
        .map(|text| {
            let mut one = json!({
                "model": format!("models/{bare}"),
                "content": { "parts": [{ "text": text }] },
            });
            if let (Some(d), Some(obj)) = (dimensions, one.as_object_mut()) {
                obj.insert("outputDimensionality".to_owned(), json!(d));
            }
            one
        })
        .collect();
    Ok((
        format!("/v1beta/models/{segment}:batchEmbedContents"),
        json!({ "requests": requests }),
    ))
}

/// Translates a `batchEmbedContents` reply into an OpenAI embeddings list named `model`.
///
/// Usage is `usageMetadata.promptTokenCount` when Gemini reports it, else zero (the Gemini
/// API has long omitted token counts for embeddings).
///
/// # Errors
/// `MalformedUpstream` if the body has no `embeddings` array or an embedding has no numeric
/// `values`.
pub fn embeddings_response_to_openai(
    body: &[u8],
    model: &str,
) -> Result<(Value, Usage), TranslateError> {
    let resp: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("embeddings reply is not valid JSON: {e}")))?;
    let embeddings = resp
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("embeddings reply has no `embeddings` array".to_owned()))?;
    let mut data = Vec::with_capacity(embeddings.len());
    for (i, embedding) in embeddings.iter().enumerate() {
        let values = embedding
            .get("values")
            .and_then(Value::as_array)
            .filter(|v| v.iter().all(Value::is_number))
            .ok_or_else(|| malformed(format!("embeddings[{i}] has no numeric `values`")))?;
        data.push(json!({ "object": "embedding", "index": i, "embedding": values }));
    }
    let prompt_tokens = resp
        .pointer("/usageMetadata/promptTokenCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let usage = Usage {
        prompt_tokens,
        ..Usage::default()
    };
    let out = json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens },
    });
    Ok((out, usage))
}
