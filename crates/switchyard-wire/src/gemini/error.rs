//! Google's error envelope (`{"error": {"code", "message", "status", "details"}}`) to the
//! parts of an OpenAI error.

use serde_json::Value;

/// Longest message passed on, in characters; Google's quota messages run to kilobytes.
const MAX_MESSAGE_CHARS: usize = 512;

/// Maps a Gemini error reply to an OpenAI error `(message, type, code)`.
///
/// The type comes from Google's canonical `status` (falling back to the HTTP status):
///
/// | Gemini status | OpenAI type | code |
/// |---|---|---|
/// | INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED | invalid_request_error | |
/// | INVALID_ARGUMENT with reason API_KEY_INVALID, UNAUTHENTICATED | authentication_error | invalid_api_key |
/// | PERMISSION_DENIED | permission_error | |
/// | NOT_FOUND | not_found_error | |
/// | RESOURCE_EXHAUSTED | rate_limit_error | rate_limit_exceeded |
/// | DEADLINE_EXCEEDED | server_error | timeout |
/// | INTERNAL, UNAVAILABLE, UNKNOWN, others | server_error | |
///
/// The message is Google's `message`, cut to 512 characters. A body that is not Google's
/// envelope is never echoed (it may be an HTML page from a proxy): the message then only
/// names the HTTP status.
pub fn error_to_openai(status: u16, body: &[u8]) -> (String, &'static str, Option<String>) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    // Streaming endpoints may wrap the envelope in a one-element array.
    let error = parsed
        .as_ref()
        .map(|v| v.get(0).unwrap_or(v))
        .and_then(|v| v.get("error"))
        .filter(|e| e.is_object());
    let Some(error) = error else {
        let (kind, code) = by_http_status(status);
        return (
            format!("Gemini returned HTTP {status} with an unrecognised body"),
            kind,
            code.map(str::to_owned),
        );
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map_or_else(|| format!("Gemini returned HTTP {status}"), cap);
    let api_key_invalid = error
        .get("details")
        .and_then(Value::as_array)
        .is_some_and(|details| {
            details
                .iter()
                .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
        });
    let (kind, code) = if api_key_invalid {
        ("authentication_error", Some("invalid_api_key"))
    } else {
        match error.get("status").and_then(Value::as_str) {
            Some(s) => by_grpc_status(s),
            None => by_http_status(status),
        }
    };
    (message, kind, code.map(str::to_owned))
}

fn by_grpc_status(status: &str) -> (&'static str, Option<&'static str>) {
    match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" | "UNIMPLEMENTED" => {
            ("invalid_request_error", None)
        }
        "UNAUTHENTICATED" => ("authentication_error", Some("invalid_api_key")),
        "PERMISSION_DENIED" => ("permission_error", None),
        "NOT_FOUND" => ("not_found_error", None),
        "RESOURCE_EXHAUSTED" => ("rate_limit_error", Some("rate_limit_exceeded")),
        "DEADLINE_EXCEEDED" => ("server_error", Some("timeout")),
        _ => ("server_error", None),
    }
}

fn by_http_status(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        401 => ("authentication_error", Some("invalid_api_key")),
        403 => ("permission_error", None),
        404 => ("not_found_error", None),
        429 => ("rate_limit_error", Some("rate_limit_exceeded")),
        408 | 504 => ("server_error", Some("timeout")),
        400..=499 => ("invalid_request_error", None),
        _ => ("server_error", None),
    }
}

/// At most [`MAX_MESSAGE_CHARS`] characters, with an ellipsis when cut.
fn cap(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}
