//! Google Gemini (`generativelanguage.googleapis.com`, API version `v1beta`) to and from the
//! canonical OpenAI chat completions JSON.
//!
//! Split by direction: [`request_from_openai`] builds a `GenerateContentRequest`,
//! [`response_to_openai`] and [`GeminiStreamToOpenAi`] turn `GenerateContentResponse`s back
//! into a `chat.completion` or `chat.completion.chunk`s, [`error_to_openai`] maps Google's
//! error envelope, and the embeddings pair targets `batchEmbedContents`. Field names follow
//! the Gemini REST reference (camelCase) and the google-genai SDK types.

mod config;
mod embeddings;
mod error;
pub(crate) mod path;
mod request;
mod response;
mod schema;
mod stream;

pub use embeddings::{embeddings_request_from_openai, embeddings_response_to_openai};
pub use error::error_to_openai;
pub use request::request_from_openai;
pub use response::response_to_openai;
pub use stream::GeminiStreamToOpenAi;

use serde_json::{json, Value};

use crate::{TranslateError, Usage};

/// Name used in `UnsupportedParam { target }` and error messages.
const TARGET: &str = "gemini";

/// Thought signature Google documents for function calls it did not produce (history from
/// another model, or a client that dropped the real signature). Gemini 3 rejects a replayed
/// `functionCall` without any signature; this value tells it to skip validation.
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Upstream path for chat: `/v1beta/models/{model}:generateContent`, or
/// `:streamGenerateContent?alt=sse` when streaming.
///
/// A leading `models/` (the resource-name form) is accepted and removed. The rest must be a
/// single safe path component (see the crate's path rules): `a/b`, `..`, `x?y`, `x#y`, `%2F`,
/// whitespace and control characters are `InvalidRequest`; other non-unreserved characters
/// are percent-encoded.
pub fn model_path(model: &str, stream: bool) -> Result<String, TranslateError> {
    let segment = model_segment(model)?;
    Ok(if stream {
        format!("/v1beta/models/{segment}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{segment}:generateContent")
    })
}

/// The validated, percent-encoded model id, shared with the embeddings path.
fn model_segment(model: &str) -> Result<String, TranslateError> {
    path::encode_component(model.strip_prefix("models/").unwrap_or(model), "model")
}

/// OpenAI `finish_reason` for a Gemini `finishReason`.
///
/// Safety-type stops become `content_filter`; a natural stop after a function call becomes
/// `tool_calls`; everything else that is not `MAX_TOKENS` (OTHER, LANGUAGE,
/// MALFORMED_FUNCTION_CALL, ...) becomes `stop`, since OpenAI has no closer value.
fn finish_reason(reason: &str, has_tool_calls: bool) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => "content_filter",
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

/// Reads `usageMetadata`.
///
/// `promptTokenCount` already includes cached tokens; `toolUsePromptTokenCount` (tool results
/// the server fed back, e.g. search) is billed as input so it is added to prompt tokens.
/// `candidatesTokenCount` excludes thinking, so thoughts are added to completion tokens.
fn usage_from_metadata(meta: &Value) -> Usage {
    let count = |key: &str| meta.get(key).and_then(Value::as_u64).unwrap_or(0);
    let thoughts = count("thoughtsTokenCount");
    Usage {
        prompt_tokens: count("promptTokenCount") + count("toolUsePromptTokenCount"),
        completion_tokens: count("candidatesTokenCount") + thoughts,
        cached_tokens: count("cachedContentTokenCount"),
        reasoning_tokens: thoughts,
        ..Usage::default()
    }
}

/// OpenAI `usage` object.
fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": { "cached_tokens": usage.cached_tokens },
        "completion_tokens_details": { "reasoning_tokens": usage.reasoning_tokens },
    })
}

/// OpenAI completion id for a Gemini `responseId` (absent on some proxies).
fn completion_id(response_id: Option<&str>) -> String {
    format!("chatcmpl-{}", response_id.unwrap_or("gemini"))
}

/// A tool call id for a `functionCall` that carries none (the Gemini API usually omits it).
/// Derived from the response id, the call's position and content so the same upstream reply
/// always yields the same id, streamed or not.
fn synthesize_call_id(response_id: &str, index: usize, name: &str, arguments: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let index = index.to_string();
    for piece in [response_id, index.as_str(), name, arguments] {
        for &b in piece.as_bytes().iter().chain(std::iter::once(&0u8)) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("call_{hash:016x}")
}

/// Seconds since the Unix epoch for `created`; 0 if the clock is before 1970.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
