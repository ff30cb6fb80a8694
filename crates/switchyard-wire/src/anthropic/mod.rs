//! Anthropic Messages, both ways: OpenAI-canonical requests, responses and streams to and from
//! Anthropic's shapes, for Anthropic upstreams and for clients that speak Anthropic.

pub(crate) mod inbound;
pub(crate) mod messages;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream_decode;
pub(crate) mod stream_encode;

use serde::{Deserialize, Serialize};

use crate::Usage;

/// Name of the tool that carries OpenAI `response_format` JSON output through Anthropic. A
/// forced tool works on every Claude model (native structured output needs recent ones), and a
/// reserved name lets the response side turn its input back into message text without knowing
/// the request.
pub(crate) const JSON_TOOL: &str = "switchyard_json_response";

/// Anthropic's usage object: `input_tokens` excludes cache reads and cache writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "null_as_zero")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            prompt_tokens: u.input_tokens
                + u.cache_read_input_tokens
                + u.cache_creation_input_tokens,
            completion_tokens: u.output_tokens,
            cached_tokens: u.cache_read_input_tokens,
            reasoning_tokens: 0,
        }
    }
}

impl From<Usage> for WireUsage {
    /// OpenAI reports no cache writes, so all uncached prompt tokens are plain input.
    fn from(u: Usage) -> WireUsage {
        WireUsage {
            input_tokens: u.prompt_tokens.saturating_sub(u.cached_tokens),
            output_tokens: u.completion_tokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: u.cached_tokens,
        }
    }
}
