//! Responses to a Responses upstream (OpenAI, Azure): bodies and events pass through byte for
//! byte; only usage, the terminal event and errors are read, for metering and the data path.

use serde::Deserialize;

use crate::error::UpstreamError;
use crate::sse::{write_event, SseEvent};
use crate::stream::canon::Canon;
use crate::{TranslateError, Usage};

/// Responses `usage`.
#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<InputDetails>,
    #[serde(default)]
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct InputDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct OutputDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            prompt_tokens: u.input_tokens,
            completion_tokens: u.output_tokens,
            cached_tokens: u
                .input_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: u
                .input_tokens_details
                .as_ref()
                .and_then(|d| d.cache_write_tokens)
                .unwrap_or(0),
            reasoning_tokens: u
                .output_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
            ..Usage::default()
        }
    }
}

#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// Usage of a whole Responses body.
///
/// # Errors
/// `MalformedUpstream` when the body is not a JSON object.
pub(crate) fn response_usage(body: &[u8]) -> Result<Option<Usage>, TranslateError> {
    let parsed: WithUsage = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(e.to_string()))?;
    Ok(parsed.usage.map(Usage::from))
}

#[derive(Deserialize)]
struct Terminal {
    #[serde(default)]
    response: Option<WithUsage>,
}

#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(borrow, rename = "type")]
    kind: std::borrow::Cow<'a, str>,
}

#[derive(Deserialize)]
struct ErrorEvent {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

/// Whether an event named `name` is one [`forward`] reads (an unnamed one may be any); the
/// rest are forwarded as the upstream framed them, unparsed.
pub(crate) fn meaningful(name: &[u8]) -> bool {
    matches!(
        name,
        b"" | b"response.completed" | b"response.incomplete" | b"response.failed" | b"error"
    )
}

/// Forwards one event unchanged, noting usage and the end from `response.completed`,
/// `.incomplete` and `.failed`, and errors from `error` events.
pub(crate) fn forward(ev: SseEvent<'_>, note: &mut impl FnMut(Canon<'_>), out: &mut Vec<u8>) {
    let name = std::str::from_utf8(ev.event).unwrap_or("");
    let typed;
    let kind = if name.is_empty() {
        typed = serde_json::from_slice::<Typed<'_>>(ev.data).ok();
        typed.as_ref().map_or("", |t| t.kind.as_ref())
    } else {
        name
    };
    match kind {
        "response.completed" | "response.incomplete" | "response.failed" => {
            if let Ok(Terminal {
                response: Some(WithUsage { usage: Some(u) }),
            }) = serde_json::from_slice::<Terminal>(ev.data)
            {
                note(Canon::Usage(u.into()));
            }
            note(Canon::Done);
        }
        "error" => {
            let parsed = serde_json::from_slice::<ErrorEvent>(ev.data).ok();
            let err = UpstreamError {
                message: parsed
                    .as_ref()
                    .and_then(|p| p.message.clone())
                    .unwrap_or_else(|| "upstream stream error".to_owned()),
                kind: None,
                code: parsed.as_ref().and_then(|p| p.code.clone()),
                param: parsed.and_then(|p| p.param),
            };
            write_event(out, Some("error"), ev.data);
            note(Canon::Error(&err));
            return;
        }
        _ => {}
    }
    write_event(out, (!name.is_empty()).then_some(name), ev.data);
}
