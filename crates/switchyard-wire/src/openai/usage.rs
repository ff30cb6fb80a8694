//! OpenAI's `usage` object, read without materializing the rest of the body: serde skips every
//! other field without allocating.

use serde::Deserialize;

use crate::Usage;

/// The usage object; every count optional because OpenAI-compatible servers omit some.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            prompt_tokens: u.prompt_tokens.unwrap_or(0),
            completion_tokens: u.completion_tokens.unwrap_or(0),
            cached_tokens: u
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            reasoning_tokens: u
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
            ..Usage::default()
        }
    }
}

/// A whole response or a chunk, reduced to what metering needs.
#[derive(Debug, Deserialize)]
pub(crate) struct UsageOnly {
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// A stream chunk that may carry usage: the `choices` length tells a usage-only chunk (empty)
/// from a content chunk that happens to include usage (some compatible servers do that).
#[derive(Debug, Deserialize)]
pub(crate) struct UsageChunk {
    #[serde(default)]
    pub choices: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// Usage of a complete (non-stream) response body.
///
/// # Errors
/// `MalformedUpstream` when the body is not a JSON object.
pub(crate) fn response_usage(body: &[u8]) -> Result<Option<Usage>, crate::TranslateError> {
    let parsed: UsageOnly = serde_json::from_slice(body)
        .map_err(|e| crate::TranslateError::MalformedUpstream(e.to_string()))?;
    Ok(parsed.usage.map(Usage::from))
}
