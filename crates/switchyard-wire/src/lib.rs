//! Pure LLM wire formats: the OpenAI, Anthropic and Gemini request, response, stream and error
//! shapes, and translation between them. Bytes/JSON in, bytes/JSON out: this crate must never
//! depend on tokio, pingora or anything that does I/O, so translation stays easy to unit test,
//! fuzz and benchmark.
//!
//! The canonical form between dialects is OpenAI chat completions JSON: every provider module
//! converts to and from it, and a request whose inbound dialect equals the upstream's passes
//! through with only the fields the gateway owns rewritten.

use std::fmt;

/// A wire format, for the client side (inbound) or the upstream side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenAI chat completions (also Azure OpenAI and every OpenAI-compatible server).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini generateContent.
    Gemini,
    /// OpenAI Responses (`/v1/responses`): inbound from Responses clients, and upstream at
    /// OpenAI and Azure, which speak it natively.
    OpenAiResponses,
    /// AWS Bedrock Runtime Converse / ConverseStream (binary event-stream frames).
    Bedrock,
}

impl Dialect {
    /// Lowercase name, used as a log field and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::Anthropic => "anthropic",
            Dialect::Gemini => "gemini",
            Dialect::OpenAiResponses => "openai_responses",
            Dialect::Bedrock => "bedrock",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token usage of one response, in OpenAI's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt (input) tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Completion (output) tokens, reasoning ones included.
    pub completion_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: u64,
    /// Completion tokens spent on reasoning.
    pub reasoning_tokens: u64,
    /// Prompt tokens written to the provider's cache (Anthropic `cache_creation_input_tokens`),
    /// included in `prompt_tokens`.
    pub cache_write_tokens: u64,
    /// Of `cache_write_tokens`, those written with a 1-hour lifetime (priced higher).
    pub cache_write_1h_tokens: u64,
}

/// Why a body could not be translated. Each variant knows whether it is the client's fault
/// (a request) or the upstream's (a response or stream).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The client's body is not valid JSON or not an object.
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A required field is missing or has the wrong type.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// The offending field, e.g. `messages[2].content`.
        param: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A parameter the target can't take, refused because `strict_params` is set.
    #[error("parameter `{param}` is not supported by {target}")]
    UnsupportedParam {
        /// The parameter.
        param: String,
        /// The upstream dialect or model.
        target: String,
    },
    /// The upstream's reply is not in its documented format.
    #[error("malformed upstream reply: {0}")]
    MalformedUpstream(String),
}

mod anthropic;
pub mod bedrock;
mod error;
mod json;
mod openai;
mod raw_body;
mod request;
mod response;
pub mod sse;
mod stream;
mod turns;

pub use error::{
    anthropic_type, gemini_status, openai_type, parse_upstream_error, render, status_for_type,
    stream_error_event, translate_upstream_error, ErrorBody, UpstreamError,
};
pub use request::{encode_request, rename_model, ChatRequest, EncodeTarget, EncodedRequest};
pub use response::{decode_response, decode_response_at, decode_response_named, DecodedResponse};
pub use sse::{SseEvent, SseParser};
pub use stream::StreamTranslator;

/// The error for a dialect pair that has no translation yet.
pub(crate) fn unsupported_pair(from: Dialect, to: Dialect) -> TranslateError {
    TranslateError::InvalidRequest {
        param: None,
        message: format!("translation from {from} to {to} is not available yet"),
    }
}

pub mod azure;
pub mod embeddings;
pub mod gemini;
pub mod responses;
pub mod vertex;
