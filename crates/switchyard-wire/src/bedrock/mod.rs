//! AWS Bedrock Runtime's Converse and ConverseStream APIs (`2023-09-30`) to and from the
//! canonical OpenAI chat completions JSON.
//!
//! [`request_from_openai`] builds a `ConverseRequest` body, [`response_to_openai`] reads a
//! `ConverseResponse`, [`frames`] decodes the `application/vnd.amazon.eventstream` frames of
//! ConverseStream and [`stream`] turns their events into canonical stream steps; [`error`]
//! reads AWS's error types. Shapes and field names follow botocore's `bedrock-runtime` service
//! model, which the tests check every encoded body against.

pub(crate) mod error;
pub(crate) mod frames;
mod media;
mod params;
mod request;
mod response;
pub(crate) mod stream;

pub use error::{error_status, error_to_client, error_type, stream_exception_status};
pub use frames::{encode_frame, FrameError};
pub use request::request_from_openai;
pub use response::response_to_openai;

use serde_json::Value;

use crate::{TranslateError, Usage};

/// Name used in `UnsupportedParam { target }` and error messages.
const TARGET: &str = "bedrock";

/// Upstream path for chat: `/model/{modelId}/converse`, or `/converse-stream` when streaming.
///
/// The model id is one URI label, percent-encoded as the AWS SDKs encode it: everything but
/// RFC 3986 unreserved characters, so `anthropic.claude-3-haiku-20240307-v1:0` becomes
/// `…-v1%3A0` and an inference-profile or provisioned-model ARN keeps its `/` as `%2F`.
/// Empty ids, dot segments, `%` (no pre-encoded input), whitespace and control characters are
/// `InvalidRequest`.
pub fn model_path(model: &str, stream: bool) -> Result<String, TranslateError> {
    let reason = if model.is_empty() {
        Some("it is empty")
    } else if model == "." || model == ".." {
        Some("it is a dot segment")
    } else if model.contains('%') {
        Some("it contains `%`")
    } else if model.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace or control characters")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(TranslateError::InvalidRequest {
            param: Some("model".to_owned()),
            message: format!("bedrock model id {model:?} is not usable in a URL: {reason}"),
        });
    }
    let mut path = String::with_capacity(model.len() + 32);
    path.push_str("/model/");
    for &b in model.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            path.push('%');
            path.push(char::from(HEX[usize::from(b >> 4)]));
            path.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    path.push_str(if stream {
        "/converse-stream"
    } else {
        "/converse"
    });
    Ok(path)
}

/// Whether `model` is an Anthropic Claude model (foundation model, cross-region inference
/// profile such as `us.anthropic.…`, or an ARN naming one): only those take Anthropic's own
/// fields (`thinking`, `top_k`) in `additionalModelRequestFields`.
pub(crate) fn is_claude(model: &str) -> bool {
    model.contains("anthropic.") || model.contains("anthropic/") || model.contains("claude")
}

/// Whether `model` takes `cachePoint` blocks: Claude and Amazon Nova models do (AWS's prompt
/// caching docs); others refuse them, so a client's `cache_control` is dropped for them.
pub(crate) fn supports_cache_points(model: &str) -> bool {
    is_claude(model) || model.contains("amazon.nova") || model.contains("amazon/nova")
}

/// OpenAI `finish_reason` for a Converse `stopReason` (see [`crate::stream::canon::Finish`]).
fn finish(reason: &str) -> crate::stream::canon::Finish {
    use crate::stream::canon::Finish;
    match reason {
        "tool_use" => Finish::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => Finish::Length,
        "stop_sequence" => Finish::StopSequence,
        "guardrail_intervened" | "content_filtered" => Finish::ContentFilter,
        // end_turn, malformed_model_output, malformed_tool_use, and values added later.
        _ => Finish::Stop,
    }
}

/// Reads a `TokenUsage`. Like Anthropic's, Converse's `inputTokens` leaves out cache reads
/// and writes, so both are added back to make OpenAI's `prompt_tokens` (which includes them).
/// Cache writes are kept apart (they are priced at their own rate, and Anthropic clients see
/// them as `cache_creation_input_tokens`); `cacheDetails` tells which were written for an hour.
fn usage(u: &Value) -> Usage {
    let count = |key: &str| u.get(key).and_then(Value::as_u64).unwrap_or(0);
    let cache_read = count("cacheReadInputTokens");
    let cache_write = count("cacheWriteInputTokens");
    let hour: u64 = u
        .get("cacheDetails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get("ttl").and_then(Value::as_str) == Some("1h"))
        .filter_map(|d| d.get("inputTokens").and_then(Value::as_u64))
        .sum();
    Usage {
        prompt_tokens: count("inputTokens") + cache_read + cache_write,
        completion_tokens: count("outputTokens"),
        cached_tokens: cache_read,
        cache_write_tokens: cache_write,
        cache_write_1h_tokens: hour.min(cache_write),
        ..Usage::default()
    }
}

/// A stable completion id: Converse replies carry none, so it is derived from `seed` (the
/// reply's bytes, or the stream's first event) — the same reply always gets the same id.
fn completion_id(seed: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in seed {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("chatcmpl-bedrock-{hash:016x}")
}

fn malformed(message: impl Into<String>) -> TranslateError {
    TranslateError::MalformedUpstream(format!("bedrock: {}", message.into()))
}
