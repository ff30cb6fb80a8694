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
    /// Cache writes by lifetime (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<CacheCreation>,
}

/// `usage.cache_creation`: cache writes split by lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct CacheCreation {
    #[serde(default, deserialize_with = "null_as_zero")]
    pub ephemeral_5m_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub ephemeral_1h_input_tokens: u64,
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
            cache_write_tokens: u.cache_creation_input_tokens,
            cache_write_1h_tokens: u
                .cache_creation
                .map_or(0, |c| c.ephemeral_1h_input_tokens)
                .min(u.cache_creation_input_tokens),
        }
    }
}

impl From<Usage> for WireUsage {
    /// Cache writes stay cache writes; the other uncached prompt tokens are plain input.
    fn from(u: Usage) -> WireUsage {
        WireUsage {
            input_tokens: u
                .prompt_tokens
                .saturating_sub(u.cached_tokens)
                .saturating_sub(u.cache_write_tokens),
            output_tokens: u.completion_tokens,
            cache_creation_input_tokens: u.cache_write_tokens,
            cache_read_input_tokens: u.cached_tokens,
            cache_creation: (u.cache_write_tokens > 0).then_some(CacheCreation {
                ephemeral_5m_input_tokens: u.cache_write_tokens
                    - u.cache_write_1h_tokens.min(u.cache_write_tokens),
                ephemeral_1h_input_tokens: u.cache_write_1h_tokens.min(u.cache_write_tokens),
            }),
        }
    }
}
