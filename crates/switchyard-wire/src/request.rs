//! The client's request as the filter chain sees it, and its encoding for an upstream.
//!
//! The body stays the client's own JSON object so that a same-dialect request passes through
//! with only the gateway-owned fields rewritten; the typed fields next to it are the few facts
//! every filter needs, validated once at parse time.

use serde_json::{Map, Value};

use crate::json::{self, Overlay};
use crate::{Dialect, TranslateError};

/// A parsed chat request, in its inbound dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The dialect the client spoke.
    pub dialect: Dialect,
    /// The client's JSON object; filters may edit it.
    pub body: Map<String, Value>,
    /// `body["model"]`: the route or model the client asked for.
    pub model: String,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Whether the client wants a usage report in the stream (OpenAI
    /// `stream_options.include_usage`; always true for Anthropic, whose stream carries usage).
    pub include_usage: bool,
    /// Output cap the client asked for: `max_completion_tokens`, else `max_tokens`.
    pub max_output_tokens: Option<u64>,
}

impl ChatRequest {
    /// Parses and validates the fields the gateway relies on; everything else is left to the
    /// upstream to judge.
    ///
    /// # Errors
    /// `InvalidJson` when the body is not a JSON object; `InvalidRequest` naming the field when
    /// `model`, `messages`, `stream` or a token cap is missing or ill-typed.
    pub fn parse(dialect: Dialect, body: &[u8]) -> Result<ChatRequest, TranslateError> {
        let (body, model) = object_with_model(body)?;
        if matches!(dialect, Dialect::Gemini | Dialect::Bedrock) {
            return Err(TranslateError::InvalidRequest {
                param: None,
                message: format!("{dialect} is not an inbound dialect"),
            });
        }
        if dialect == Dialect::OpenAiResponses {
            crate::responses::inbound::check_stateless(&body)?;
        } else if !matches!(body.get("messages"), Some(Value::Array(_))) {
            return Err(invalid(
                "messages",
                "`messages` is required and must be an array",
            ));
        }
        let stream = match body.get("stream") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("stream", "`stream` must be a boolean")),
        };
        let (include_usage, max_output_tokens) = match dialect {
            Dialect::Anthropic => {
                let max = opt_u64(&body, "max_tokens")?.ok_or_else(|| {
                    invalid(
                        "max_tokens",
                        "`max_tokens` is required and must be an integer",
                    )
                })?;
                (true, Some(max))
            }
            // Usage always arrives in `response.completed`.
            Dialect::OpenAiResponses => (true, opt_u64(&body, "max_output_tokens")?),
            _ => {
                let include_usage = body
                    .get("stream_options")
                    .and_then(|o| o.get("include_usage"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let max = match opt_u64(&body, "max_completion_tokens")? {
                    Some(m) => Some(m),
                    None => opt_u64(&body, "max_tokens")?,
                };
                (include_usage, max)
            }
        };
        Ok(ChatRequest {
            dialect,
            body,
            model,
            stream,
            include_usage,
            max_output_tokens,
        })
    }

    /// Parses an Anthropic `count_tokens` body: a Messages request without `max_tokens`.
    ///
    /// # Errors
    /// As [`ChatRequest::parse`].
    pub fn parse_count_tokens(body: &[u8]) -> Result<ChatRequest, TranslateError> {
        let (body, model) = object_with_model(body)?;
        if !matches!(body.get("messages"), Some(Value::Array(_))) {
            return Err(invalid(
                "messages",
                "`messages` is required and must be an array",
            ));
        }
        Ok(ChatRequest {
            dialect: Dialect::Anthropic,
            body,
            model,
            stream: false,
            include_usage: false,
            max_output_tokens: None,
        })
    }

    /// Lowers every output cap in the body (`max_tokens`, `max_completion_tokens`,
    /// `max_output_tokens`) that is above `cap` to it, for a target that can't produce more;
    /// returns the names lowered.
    pub fn clamp_max_output_tokens(&mut self, cap: u64) -> Vec<&'static str> {
        let mut lowered = Vec::new();
        for key in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
            if let Some(v) = self.body.get_mut(key) {
                if v.as_u64().is_some_and(|n| n > cap) {
                    *v = Value::from(cap);
                    lowered.push(key);
                }
            }
        }
        if self.max_output_tokens.is_some_and(|n| n > cap) {
            self.max_output_tokens = Some(cap);
        }
        lowered
    }

    /// `body.metadata[key]` when it is a string; routing and auth read hints from here.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.body.get("metadata")?.get(key)?.as_str()
    }

    /// Removes a gateway-only hint so the upstream never sees it; drops `metadata` once empty,
    /// since some providers reject an empty object or refuse `metadata` altogether.
    pub fn remove_metadata(&mut self, key: &str) {
        let Some(Value::Object(meta)) = self.body.get_mut("metadata") else {
            return;
        };
        meta.remove(key);
        if meta.is_empty() {
            self.body.remove("metadata");
        }
    }
}

/// A JSON object body and its required `model` string: the start of every request parse.
pub(crate) fn object_with_model(
    body: &[u8],
) -> Result<(serde_json::Map<String, Value>, String), TranslateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let Value::Object(body) = value else {
        return Err(TranslateError::InvalidJson(
            "expected a JSON object".to_owned(),
        ));
    };
    let model = match body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return Err(invalid("model", "`model` is required and must be a string")),
    };
    Ok((body, model))
}

pub(crate) fn invalid(param: &str, message: &str) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.to_owned()),
        message: message.to_owned(),
    }
}

fn opt_u64(body: &Map<String, Value>, key: &str) -> Result<Option<u64>, TranslateError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| TranslateError::InvalidRequest {
                param: Some(key.to_owned()),
                message: format!("`{key}` must be a non-negative integer"),
            }),
    }
}

/// Where a request is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeTarget<'a> {
    /// The upstream's dialect.
    pub dialect: Dialect,
    /// The model name the upstream knows.
    pub upstream_model: &'a str,
    /// Output cap for dialects that require one when the client gave none.
    pub default_max_output_tokens: Option<u64>,
    /// Refuse parameters the target can't take instead of dropping them.
    pub strict_params: bool,
    /// The upstream knows the output cap only by its older name, `max_tokens` (OpenAI-compatible
    /// servers such as Ollama, llama.cpp or Mistral): a request translated to OpenAI uses it
    /// instead of `max_completion_tokens`. Same-dialect requests are never renamed.
    pub legacy_max_tokens: bool,
    /// Ask an OpenAI upstream for a stream's usage chunk (`stream_options.include_usage`), so
    /// every stream is metered. When false, `stream_options` is left out altogether, for
    /// servers that refuse the field (Mistral, which reports usage in its last chunk anyway).
    pub stream_usage: bool,
}

/// The upstream request body, and what had to be left out to produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    /// Serialized JSON body for the upstream.
    pub body: Vec<u8>,
    /// Client parameters the target can't take, dropped (surfaced as
    /// `x-switchyard-dropped-params`).
    pub dropped_params: Vec<String>,
}

/// Encodes the request for `target`, translating dialects when they differ.
///
/// # Errors
/// `UnsupportedParam` when `strict_params` is set and a parameter would be dropped;
/// `InvalidRequest` when the request can't be expressed in the target dialect.
pub fn encode_request(
    req: &ChatRequest,
    target: &EncodeTarget,
) -> Result<EncodedRequest, TranslateError> {
    match (req.dialect, target.dialect) {
        (Dialect::OpenAi, Dialect::OpenAi) => Ok(encode_openai(&req.body, req.stream, target)),
        (Dialect::OpenAi, Dialect::Anthropic) => {
            crate::anthropic::request::encode(&req.body, req.stream, target)
        }
        (Dialect::Anthropic, Dialect::Anthropic) => Ok(encode_anthropic(req, target)),
        (Dialect::Anthropic, Dialect::OpenAi) => {
            let mut canonical = crate::anthropic::inbound::to_canonical(
                &req.body,
                target.strict_params,
                target.dialect,
            )?;
            if target.legacy_max_tokens {
                if let Some(max) = canonical.body.remove("max_completion_tokens") {
                    canonical.body.insert("max_tokens".to_owned(), max);
                }
            }
            let mut encoded = encode_openai(&canonical.body, req.stream, target);
            encoded.dropped_params = canonical.dropped;
            Ok(encoded)
        }
        (Dialect::OpenAi, Dialect::Gemini) => encode_gemini(&req.body, target, Vec::new()),
        (Dialect::Anthropic, Dialect::Gemini) => {
            let canonical = crate::anthropic::inbound::to_canonical(
                &req.body,
                target.strict_params,
                target.dialect,
            )?;
            encode_gemini(&canonical.body, target, canonical.dropped)
        }
        (Dialect::OpenAiResponses, Dialect::OpenAiResponses) => {
            Ok(encode_renamed(&req.body, target))
        }
        (Dialect::OpenAiResponses, to) => {
            let canonical =
                crate::responses::inbound::to_canonical(&req.body, target.strict_params, to)?;
            let mut body = canonical.body;
            let mut encoded = match to {
                Dialect::Anthropic => crate::anthropic::request::encode(&body, req.stream, target)?,
                Dialect::Gemini => encode_gemini(&body, target, Vec::new())?,
                Dialect::OpenAi => {
                    if target.legacy_max_tokens {
                        if let Some(max) = body.remove("max_completion_tokens") {
                            body.insert("max_tokens".to_owned(), max);
                        }
                    }
                    encode_openai(&body, req.stream, target)
                }
                Dialect::Bedrock => encode_bedrock(&body, target, Vec::new())?,
                other => return Err(crate::unsupported_pair(req.dialect, other)),
            };
            let mut dropped = canonical.dropped;
            for p in encoded.dropped_params {
                if !dropped.contains(&p) {
                    dropped.push(p);
                }
            }
            encoded.dropped_params = dropped;
            Ok(encoded)
        }
        (Dialect::OpenAi, Dialect::Bedrock) => encode_bedrock(&req.body, target, Vec::new()),
        (Dialect::Anthropic, Dialect::Bedrock) => {
            let canonical = crate::anthropic::inbound::to_canonical(
                &req.body,
                target.strict_params,
                target.dialect,
            )?;
            encode_bedrock(&canonical.body, target, canonical.dropped)
        }
        (from, to) => Err(crate::unsupported_pair(from, to)),
    }
}

/// The client's body with only `model` rewritten, for an upstream that takes it as it is
/// (Anthropic's `count_tokens`).
pub fn rename_model(req: &ChatRequest, upstream_model: &str) -> Vec<u8> {
    let target = EncodeTarget {
        dialect: req.dialect,
        upstream_model,
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: false,
    };
    encode_renamed(&req.body, &target).body
}

/// A body passed through to an upstream of its own dialect with only `model` rewritten.
fn encode_renamed(body: &Map<String, Value>, target: &EncodeTarget) -> EncodedRequest {
    let set = [("model", Value::String(target.upstream_model.to_owned()))];
    let mut out = Vec::with_capacity(256);
    json::write(
        &mut out,
        &Overlay {
            base: body,
            set: &set,
            remove: &[],
        },
    );
    EncodedRequest {
        body: out,
        dropped_params: Vec::new(),
    }
}

/// An OpenAI-canonical body as a Converse request; the model and streaming go in the URL
/// ([`crate::bedrock::model_path`]).
fn encode_bedrock(
    body: &Map<String, Value>,
    target: &EncodeTarget,
    mut dropped: Vec<String>,
) -> Result<EncodedRequest, TranslateError> {
    let (out, more) =
        crate::bedrock::request_from_openai(body, target.upstream_model, target.strict_params)?;
    dropped.extend(more);
    let mut bytes = Vec::with_capacity(256);
    json::write(&mut bytes, &out);
    Ok(EncodedRequest {
        body: bytes,
        dropped_params: dropped,
    })
}

/// An OpenAI-canonical body for Gemini; the model and streaming go in the URL
/// ([`crate::gemini::model_path`]), not the body.
fn encode_gemini(
    body: &Map<String, Value>,
    target: &EncodeTarget,
    mut dropped: Vec<String>,
) -> Result<EncodedRequest, TranslateError> {
    let (out, more) = crate::gemini::request_from_openai(body, target.strict_params)?;
    dropped.extend(more);
    let mut bytes = Vec::with_capacity(256);
    json::write(&mut bytes, &out);
    Ok(EncodedRequest {
        body: bytes,
        dropped_params: dropped,
    })
}

/// An OpenAI body for an OpenAI upstream: rename the model and, for streams, ask for the usage
/// chunk so the gateway can meter even when the client didn't (the stream translator hides it
/// again), unless the target refuses `stream_options`.
fn encode_openai(body: &Map<String, Value>, stream: bool, target: &EncodeTarget) -> EncodedRequest {
    let mut set: Vec<(&str, Value)> = Vec::with_capacity(2);
    set.push(("model", Value::String(target.upstream_model.to_owned())));
    if stream && target.stream_usage {
        let mut options = match body.get("stream_options") {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        options.insert("include_usage".to_owned(), Value::Bool(true));
        set.push(("stream_options", Value::Object(options)));
    }
    let remove: &[&str] = if target.stream_usage {
        &[]
    } else {
        &["stream_options"]
    };
    let mut out = Vec::with_capacity(256);
    json::write(
        &mut out,
        &Overlay {
            base: body,
            set: &set,
            remove,
        },
    );
    EncodedRequest {
        body: out,
        dropped_params: Vec::new(),
    }
}

/// Anthropic to Anthropic: rename the model; restore `max_tokens` if a filter removed it,
/// since Anthropic requires it.
fn encode_anthropic(req: &ChatRequest, target: &EncodeTarget) -> EncodedRequest {
    let mut set: Vec<(&str, Value)> = Vec::with_capacity(2);
    set.push(("model", Value::String(target.upstream_model.to_owned())));
    if !req.body.contains_key("max_tokens") {
        let max = req
            .max_output_tokens
            .or(target.default_max_output_tokens)
            .unwrap_or(4096);
        set.push(("max_tokens", Value::from(max)));
    }
    let mut out = Vec::with_capacity(256);
    json::write(
        &mut out,
        &Overlay {
            base: &req.body,
            set: &set,
            remove: &[],
        },
    );
    EncodedRequest {
        body: out,
        dropped_params: Vec::new(),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
