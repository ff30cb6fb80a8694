//! Error bodies in each client's own shape, for the gateway's own errors and for provider errors
//! re-rendered across dialects. A provider's error body is never passed through as is: it may
//! echo request headers or carry fields the client's SDK can't parse, so only its message and
//! its type/code are kept, bounded in length.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Dialect;

/// Longest provider message kept, in bytes; longer ones are cut at a char boundary.
const MAX_MESSAGE_BYTES: usize = 1024;
/// Longest provider type/code kept; anything longer is not an identifier.
const MAX_IDENT_BYTES: usize = 64;

/// One error, in OpenAI's vocabulary, ready to render for any client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorBody<'a> {
    /// HTTP status; also picks Anthropic's and Gemini's type names.
    pub status: u16,
    /// OpenAI `type`, e.g. `invalid_request_error`.
    pub kind: &'a str,
    /// OpenAI `code`, e.g. `model_not_found`.
    pub code: Option<&'a str>,
    /// The offending request field, when there is one.
    pub param: Option<&'a str>,
    /// Human-readable explanation.
    pub message: &'a str,
}

#[derive(Serialize)]
struct OpenAiEnvelope<'a> {
    error: OpenAiError<'a>,
}

#[derive(Serialize)]
struct OpenAiError<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicEnvelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: AnthropicError<'a>,
}

#[derive(Serialize)]
struct AnthropicError<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct GeminiEnvelope<'a> {
    error: GeminiError<'a>,
}

#[derive(Serialize)]
struct GeminiError<'a> {
    code: u16,
    message: &'a str,
    status: &'static str,
}

/// The error as a complete JSON body in the client's dialect.
pub fn render(client: Dialect, e: &ErrorBody) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + e.message.len());
    write_json(client, e, &mut out);
    out
}

/// The error as one stream event in the client's dialect, for failures after the response head
/// went out (the status can no longer change).
pub fn stream_error_event(client: Dialect, e: &ErrorBody) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + e.message.len());
    if client == Dialect::OpenAiResponses {
        return crate::responses::error_event(e, 0);
    }
    if client == Dialect::Anthropic {
        out.extend_from_slice(b"event: error\n");
    }
    out.extend_from_slice(b"data: ");
    write_json(client, e, &mut out);
    out.extend_from_slice(b"\n\n");
    out
}

fn write_json(client: Dialect, e: &ErrorBody, out: &mut Vec<u8>) {
    match client {
        // Bedrock is never a client dialect; its callers get OpenAI's shape.
        Dialect::OpenAi | Dialect::OpenAiResponses | Dialect::Bedrock => crate::json::write(
            out,
            &OpenAiEnvelope {
                error: OpenAiError {
                    message: e.message,
                    kind: e.kind,
                    param: e.param,
                    code: e.code,
                },
            },
        ),
        Dialect::Anthropic => crate::json::write(
            out,
            &AnthropicEnvelope {
                kind: "error",
                error: AnthropicError {
                    kind: anthropic_type(e.status, e.kind),
                    message: e.message,
                },
            },
        ),
        Dialect::Gemini => crate::json::write(
            out,
            &GeminiEnvelope {
                error: GeminiError {
                    code: e.status,
                    message: e.message,
                    status: gemini_status(e.status),
                },
            },
        ),
    }
}

/// Anthropic's error `type` for a status. With no error status (e.g. an error inside a 200
/// stream) a `kind` that is already one of Anthropic's types is kept.
pub fn anthropic_type(status: u16, kind: &str) -> &str {
    const KNOWN: [&str; 11] = [
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "rate_limit_error",
        "timeout_error",
        "api_error",
        "overloaded_error",
        "conflict_error",
    ];
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        500 => "api_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        s if (400..500).contains(&s) => "invalid_request_error",
        s if (500..600).contains(&s) => "api_error",
        _ if KNOWN.contains(&kind) => kind,
        _ => "api_error",
    }
}

/// Google's canonical status name for an HTTP status.
pub fn gemini_status(status: u16) -> &'static str {
    match status {
        400 | 413 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 | 529 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        s if (400..500).contains(&s) => "FAILED_PRECONDITION",
        _ => "INTERNAL",
    }
}

/// OpenAI's error `type` for a status, used when the provider gave none we can keep.
pub fn openai_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        s if (400..500).contains(&s) => "invalid_request_error",
        _ => "server_error",
    }
}

/// A status for an error that arrived without one (inside a 200 stream), from its type.
pub fn status_for_type(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" | "INVALID_ARGUMENT" => 400,
        "authentication_error" | "UNAUTHENTICATED" => 401,
        "permission_error" | "PERMISSION_DENIED" => 403,
        "not_found_error" | "NOT_FOUND" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "insufficient_quota" | "RESOURCE_EXHAUSTED" => 429,
        "overloaded_error" | "UNAVAILABLE" => 503,
        "timeout_error" | "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    }
}

/// The parts of a provider error worth keeping; everything else is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamError {
    /// The provider's message, capped at ~1 KiB.
    pub message: String,
    /// The provider's type (OpenAI/Anthropic `type`, Gemini `status`), if identifier-like.
    pub kind: Option<String>,
    /// The provider's code, if identifier-like (numbers become strings).
    pub code: Option<String>,
    /// The offending parameter, if the provider named one.
    pub param: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    detail: Option<Value>,
}

/// Reads the OpenAI (`{"error":{message,type,param,code}}`), Anthropic
/// (`{"type":"error","error":{type,message}}`) and Gemini (`{"error":{code,message,status}}`)
/// shapes, plus the bare `{"error":"..."}`/`{"message":"..."}`/`{"detail":"..."}` that
/// OpenAI-compatible servers send. `None` when no message can be found.
pub fn parse_upstream_error(body: &[u8]) -> Option<UpstreamError> {
    let env: Envelope = serde_json::from_slice(body).ok()?;
    let mut out = UpstreamError::default();
    match env.error {
        Some(Value::Object(obj)) => {
            out.message = capped(obj.get("message")?.as_str()?);
            out.kind = ident(obj.get("type")).or_else(|| ident(obj.get("status")));
            out.code = ident(obj.get("code"));
            out.param = ident(obj.get("param"));
        }
        Some(Value::String(s)) => out.message = capped(&s),
        _ => {
            let msg = env.message.or(env.detail)?;
            out.message = capped(msg.as_str()?);
        }
    }
    Some(out)
}

pub(crate) fn capped(s: &str) -> String {
    if s.len() <= MAX_MESSAGE_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A short identifier (type, code, param) or nothing: free text in these fields is dropped.
fn ident(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let ok = !s.is_empty()
        && s.len() <= MAX_IDENT_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'));
    ok.then_some(s)
}

/// Re-renders a provider's error reply for the client: keeps the provider's message and, where
/// the dialects share a vocabulary, its type and code. A body that doesn't parse yields a generic
/// message naming the status.
pub fn translate_upstream_error(
    upstream: Dialect,
    client: Dialect,
    status: u16,
    body: &[u8],
) -> Vec<u8> {
    let parsed = parse_upstream_error(body);
    let generic;
    let (message, kind, code, param) = match &parsed {
        Some(p) => (
            p.message.as_str(),
            p.kind.as_deref(),
            p.code.as_deref(),
            p.param.as_deref(),
        ),
        None => {
            generic = format!("upstream {upstream} provider returned HTTP {status}");
            (generic.as_str(), None, None, None)
        }
    };
    // Gemini's `status` (e.g. INVALID_ARGUMENT) is not an OpenAI type; OpenAI and Anthropic
    // types read fine to either client.
    let kind = match (upstream, kind) {
        (Dialect::Gemini, _) | (_, None) => openai_type(status),
        (_, Some(k)) => k,
    };
    let code = match upstream {
        // Gemini's numeric `code` only repeats the HTTP status.
        Dialect::Gemini => parsed.as_ref().and_then(|p| p.kind.as_deref()),
        _ => code,
    };
    render(
        client,
        &ErrorBody {
            status,
            kind,
            code,
            param,
            message,
        },
    )
}

/// Appends a provider's in-stream error as the client's error event; a stream error has no HTTP
/// status, so one is inferred from its type.
pub(crate) fn write_stream_error(client: Dialect, err: &UpstreamError, out: &mut Vec<u8>) {
    let raw = err.kind.as_deref().unwrap_or("server_error");
    let status = status_for_type(raw);
    // Google's status names (UNAVAILABLE) are not OpenAI types: keep one as the code.
    let google = raw.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let (kind, code) = if google {
        (openai_type(status), Some(raw))
    } else {
        (raw, err.code.as_deref())
    };
    out.extend_from_slice(&stream_error_event(
        client,
        &ErrorBody {
            status,
            kind,
            code,
            param: err.param.as_deref(),
            message: &err.message,
        },
    ));
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
