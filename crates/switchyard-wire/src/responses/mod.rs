//! The OpenAI Responses API (`POST /v1/responses`), for clients that speak it (Codex CLI, the
//! Agents SDK, the SDKs' `responses.*`). Requests go to OpenAI and Azure upstreams as they
//! are (only `model` rewritten) and to every other upstream through the OpenAI-canonical chat
//! form ([`inbound`]); replies come back from that form ([`response`], [`stream_encode`]).
//! Stateless: what needs a response store is refused ([`inbound::check_stateless`]).

mod events;
pub(crate) mod inbound;
mod items;
pub(crate) mod passthrough;
pub(crate) mod response;
pub(crate) mod stream_encode;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ErrorBody;
use crate::{Dialect, TranslateError, Usage};

/// A Responses stream `error` event (`{"type":"error","code","message","param",
/// "sequence_number"}`), for a failure after the response head went out.
pub fn error_event(e: &ErrorBody, sequence_number: u64) -> Vec<u8> {
    #[derive(Serialize)]
    struct Event<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        code: Option<&'a str>,
        message: &'a str,
        param: Option<&'a str>,
        sequence_number: u64,
    }
    let mut out = Vec::with_capacity(160 + e.message.len());
    out.extend_from_slice(b"event: error\ndata: ");
    crate::json::write(
        &mut out,
        &Event {
            kind: "error",
            code: Some(e.code.unwrap_or(e.kind)),
            message: e.message,
            param: e.param,
            sequence_number,
        },
    );
    out.extend_from_slice(b"\n\n");
    out
}

/// A successful upstream body (2xx) as a Responses reply, with its usage for metering:
/// passed through from a Responses upstream, translated from any other. `created` (Unix
/// seconds) and `model` fill what a reply may lack; `echo` repeats the request's settings.
///
/// # Errors
/// `MalformedUpstream` when the body is not the upstream dialect's response shape.
pub fn decode(
    upstream: Dialect,
    body: &[u8],
    created: u64,
    model: &str,
    echo: &Echo,
) -> Result<crate::DecodedResponse, TranslateError> {
    let (body, usage) = match upstream {
        Dialect::OpenAiResponses => {
            if std::str::from_utf8(body).is_err() {
                return Err(TranslateError::MalformedUpstream(
                    "response body is not UTF-8".to_owned(),
                ));
            }
            (body.to_vec(), passthrough::response_usage(body)?)
        }
        Dialect::OpenAi => response::from_openai(body, created, echo, None)?,
        other => {
            // The chat form has no cache writes: the usage read from the provider's reply wins.
            let chat = crate::decode_response_named(other, Dialect::OpenAi, body, created, model)?;
            response::from_openai(&chat.body, created, echo, chat.usage)?
        }
    };
    Ok(crate::DecodedResponse { body, usage })
}

/// The request fields a Responses reply repeats back (`instructions`, `tools`, `tool_choice`,
/// `temperature`, …), taken from the client's body before translation; the Python SDK
/// requires several of them in every `response` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Echo(Map<String, Value>);

/// Echoed keys, in the order OpenAI writes them.
const ECHOED: [&str; 15] = [
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "parallel_tool_calls",
    "prompt_cache_key",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
    "user",
];

impl Echo {
    /// The echo of a Responses request body.
    pub fn from_request(body: &Map<String, Value>) -> Echo {
        let mut out = Map::new();
        for key in ECHOED {
            if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
                out.insert(key.to_owned(), v.clone());
            }
        }
        if let Some(meta) = body.get("metadata").filter(|v| v.is_object()) {
            out.insert("metadata".to_owned(), meta.clone());
        }
        Echo(out)
    }
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InProgress,
    Completed,
    /// Stopped early: `max_output_tokens` or `content_filter`.
    Incomplete(&'static str),
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Incomplete(_) => "incomplete",
            Status::Failed => "failed",
        }
    }
}

/// Responses `usage`, as the Python SDK's `ResponseUsage` requires it (both input details).
#[derive(Serialize)]
pub(crate) struct WireUsage {
    input_tokens: u64,
    input_tokens_details: InputDetails,
    output_tokens: u64,
    output_tokens_details: OutputDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct InputDetails {
    cache_write_tokens: u64,
    cached_tokens: u64,
}

#[derive(Serialize)]
struct OutputDetails {
    reasoning_tokens: u64,
}

impl From<Usage> for WireUsage {
    fn from(u: Usage) -> WireUsage {
        WireUsage {
            input_tokens: u.prompt_tokens,
            input_tokens_details: InputDetails {
                cache_write_tokens: u.cache_write_tokens,
                cached_tokens: u.cached_tokens,
            },
            output_tokens: u.completion_tokens,
            output_tokens_details: OutputDetails {
                reasoning_tokens: u.reasoning_tokens,
            },
            total_tokens: u.prompt_tokens + u.completion_tokens,
        }
    }
}

/// An id's distinctive part: a provider id without its own prefix, restricted to characters
/// that are safe in any id.
pub(crate) fn id_base(upstream_id: &str) -> String {
    let trimmed = ["chatcmpl-", "msg_", "resp_", "gen-"]
        .iter()
        .find_map(|p| upstream_id.strip_prefix(p))
        .unwrap_or(upstream_id);
    let base: String = trimmed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect();
    if base.is_empty() {
        "0".to_owned()
    } else {
        base
    }
}

/// The `response` object: what every reply and the stream's lifecycle events carry.
pub(crate) struct ResponseObject<'a> {
    pub id: &'a str,
    pub created_at: u64,
    pub model: &'a str,
    pub status: Status,
    pub output: Vec<items::OutputItem<'a>>,
    pub usage: Option<Usage>,
    pub error: Option<(&'static str, &'a str)>,
    pub echo: &'a Echo,
}

/// What a `response` object says for an echoed key the request left out, written without
/// building a `Value` (three full objects go out per stream).
#[derive(Clone, Copy)]
enum Fallback {
    Null,
    True,
    One,
    Str(&'static str),
    EmptyArray,
    EmptyObject,
    /// `{"effort":null,"summary":null}`
    Reasoning,
    /// `{"format":{"type":"text"}}`
    TextFormat,
}

impl Serialize for Fallback {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Fallback::Null => s.serialize_unit(),
            Fallback::True => s.serialize_bool(true),
            Fallback::One => s.serialize_f64(1.0),
            Fallback::Str(v) => s.serialize_str(v),
            Fallback::EmptyArray => s.serialize_seq(Some(0))?.end(),
            Fallback::EmptyObject => s.serialize_map(Some(0))?.end(),
            Fallback::Reasoning => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("effort", &())?;
                m.serialize_entry("summary", &())?;
                m.end()
            }
            Fallback::TextFormat => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("format", &TextFormat { kind: "text" })?;
                m.end()
            }
        }
    }
}

#[derive(Serialize)]
struct TextFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The request's value for an echoed key, else its default.
struct Echoed<'a>(Option<&'a Value>, Fallback);

impl Serialize for Echoed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => v.serialize(s),
            None => self.1.serialize(s),
        }
    }
}

#[derive(Serialize)]
struct ErrorInfo<'a> {
    code: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct IncompleteDetails {
    reason: &'static str,
}

/// Written straight from the borrowed fields (no `Value` tree): keys in sorted order, as the
/// `Value` map this replaced wrote them.
impl Serialize for ResponseObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let echo = |key: &str, default: Fallback| Echoed(self.echo.0.get(key), default);
        let mut m = s.serialize_map(Some(28))?;
        m.serialize_entry("background", &false)?;
        m.serialize_entry("created_at", &self.created_at)?;
        m.serialize_entry(
            "error",
            &self
                .error
                .map(|(code, message)| ErrorInfo { code, message }),
        )?;
        m.serialize_entry("id", self.id)?;
        let incomplete = match self.status {
            Status::Incomplete(reason) => Some(IncompleteDetails { reason }),
            _ => None,
        };
        m.serialize_entry("incomplete_details", &incomplete)?;
        for key in ["instructions", "max_output_tokens", "max_tool_calls"] {
            m.serialize_entry(key, &echo(key, Fallback::Null))?;
        }
        m.serialize_entry("metadata", &echo("metadata", Fallback::EmptyObject))?;
        m.serialize_entry("model", self.model)?;
        m.serialize_entry("object", "response")?;
        m.serialize_entry("output", &self.output)?;
        m.serialize_entry(
            "parallel_tool_calls",
            &echo("parallel_tool_calls", Fallback::True),
        )?;
        m.serialize_entry("previous_response_id", &())?;
        m.serialize_entry(
            "prompt_cache_key",
            &echo("prompt_cache_key", Fallback::Null),
        )?;
        m.serialize_entry("reasoning", &echo("reasoning", Fallback::Reasoning))?;
        m.serialize_entry(
            "safety_identifier",
            &echo("safety_identifier", Fallback::Null),
        )?;
        m.serialize_entry(
            "service_tier",
            &echo("service_tier", Fallback::Str("default")),
        )?;
        m.serialize_entry("status", self.status.as_str())?;
        m.serialize_entry("store", &false)?;
        m.serialize_entry("temperature", &echo("temperature", Fallback::One))?;
        m.serialize_entry("text", &echo("text", Fallback::TextFormat))?;
        m.serialize_entry("tool_choice", &echo("tool_choice", Fallback::Str("auto")))?;
        m.serialize_entry("tools", &echo("tools", Fallback::EmptyArray))?;
        m.serialize_entry("top_p", &echo("top_p", Fallback::One))?;
        m.serialize_entry("truncation", &echo("truncation", Fallback::Str("disabled")))?;
        m.serialize_entry("usage", &self.usage.map(WireUsage::from))?;
        m.serialize_entry("user", &echo("user", Fallback::Null))?;
        m.end()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
