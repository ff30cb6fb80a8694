//! Anthropic Messages stream events decoded into [`Canon`] steps, for OpenAI clients.

use std::borrow::Cow;

use serde::Deserialize;

use super::{WireUsage, JSON_TOOL};
use crate::error::UpstreamError;
use crate::sse::SseEvent;
use crate::stream::canon::{Canon, Finish};
use crate::{TranslateError, Usage};

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct MessageStart<'a> {
    #[serde(borrow)]
    message: StartMessage<'a>,
}

#[derive(Deserialize)]
struct StartMessage<'a> {
    #[serde(default, borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    model: Cow<'a, str>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct BlockStart<'a> {
    index: u32,
    #[serde(borrow)]
    content_block: Block<'a>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BlockDelta<'a> {
    index: u32,
    #[serde(borrow)]
    delta: Delta<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct MessageDelta<'a> {
    #[serde(borrow)]
    delta: StopDelta<'a>,
    #[serde(default)]
    usage: Option<DeltaUsage>,
}

#[derive(Deserialize)]
struct StopDelta<'a> {
    #[serde(default, borrow)]
    stop_reason: Option<Cow<'a, str>>,
}

/// message_delta usage: cumulative counts, any of them possibly absent.
#[derive(Deserialize)]
struct DeltaUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<super::CacheCreation>,
}

/// What a content block index carries, so its deltas land in the right place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Tool(u32),
    /// The `response_format` tool: its input is the message text.
    Json,
}

/// Decodes one Anthropic stream; usage is accumulated across message_start and message_delta.
#[derive(Debug, Default)]
pub(crate) struct AnthropicDecoder {
    usage: WireUsage,
    /// Block index to slot; a short list (responses have a handful of blocks), not a map.
    slots: Vec<(u32, Slot)>,
    next_tool: u32,
    json_tool_seen: bool,
}

impl AnthropicDecoder {
    pub(crate) fn decode(
        &mut self,
        ev: SseEvent<'_>,
        emit: &mut impl FnMut(Canon<'_>),
    ) -> Result<(), TranslateError> {
        let data = ev.data;
        let owned_kind;
        let kind: &[u8] = if ev.event.is_empty() {
            owned_kind = parse::<TypeOnly<'_>>(data)?.kind.into_owned();
            owned_kind.as_bytes()
        } else {
            ev.event
        };
        match kind {
            b"message_start" => {
                let start: MessageStart<'_> = parse(data)?;
                emit(Canon::Start {
                    id: &start.message.id,
                    model: &start.message.model,
                });
                if let Some(usage) = start.message.usage {
                    self.usage = usage;
                    // The prompt's tokens, known from here on: a stream cut before its
                    // message_delta is still metered for them.
                    emit(Canon::Usage(Usage::from(self.usage)));
                }
            }
            b"content_block_start" => self.block_start(parse(data)?, emit),
            b"content_block_delta" => self.block_delta(parse(data)?, emit),
            b"message_delta" => {
                let delta: MessageDelta<'_> = parse(data)?;
                if let Some(u) = delta.usage {
                    let cur = &mut self.usage;
                    cur.input_tokens = u.input_tokens.unwrap_or(cur.input_tokens);
                    cur.output_tokens = u.output_tokens.unwrap_or(cur.output_tokens);
                    cur.cache_creation_input_tokens = u
                        .cache_creation_input_tokens
                        .unwrap_or(cur.cache_creation_input_tokens);
                    cur.cache_read_input_tokens = u
                        .cache_read_input_tokens
                        .unwrap_or(cur.cache_read_input_tokens);
                    cur.cache_creation = u.cache_creation.or(cur.cache_creation);
                }
                if let Some(reason) = delta.delta.stop_reason {
                    let mut finish = Finish::from_anthropic(&reason);
                    if finish == Finish::ToolCalls && self.json_tool_seen && self.next_tool == 0 {
                        finish = Finish::Stop;
                    }
                    emit(Canon::Finish(finish));
                }
                emit(Canon::Usage(Usage::from(self.usage)));
            }
            b"message_stop" => emit(Canon::Done),
            b"error" => {
                let err =
                    crate::error::parse_upstream_error(data).unwrap_or_else(|| UpstreamError {
                        message: "upstream stream error".to_owned(),
                        ..UpstreamError::default()
                    });
                emit(Canon::Error(&err));
            }
            // ping, content_block_stop and event types added later carry nothing to translate.
            _ => {}
        }
        Ok(())
    }

    fn block_start(&mut self, start: BlockStart<'_>, emit: &mut impl FnMut(Canon<'_>)) {
        let block = start.content_block;
        match &*block.kind {
            "text" => {
                if let Some(text) = block.text.as_deref().filter(|t| !t.is_empty()) {
                    emit(Canon::Text(text));
                }
            }
            "thinking" => {
                if let Some(text) = block.thinking.as_deref().filter(|t| !t.is_empty()) {
                    emit(Canon::Reasoning(text));
                }
            }
            "tool_use" if block.name.as_deref() == Some(JSON_TOOL) => {
                self.json_tool_seen = true;
                self.slots.push((start.index, Slot::Json));
            }
            "tool_use" => {
                let index = self.next_tool;
                self.next_tool += 1;
                self.slots.push((start.index, Slot::Tool(index)));
                emit(Canon::ToolStart {
                    index,
                    id: block.id.as_deref().unwrap_or(""),
                    name: block.name.as_deref().unwrap_or(""),
                });
            }
            // redacted_thinking, server tool blocks: nothing an OpenAI client can show.
            _ => {}
        }
    }

    fn block_delta(&mut self, d: BlockDelta<'_>, emit: &mut impl FnMut(Canon<'_>)) {
        let delta = d.delta;
        match &*delta.kind {
            "text_delta" => {
                if let Some(text) = delta.text.as_deref() {
                    emit(Canon::Text(text));
                }
            }
            "thinking_delta" => {
                if let Some(text) = delta.thinking.as_deref() {
                    emit(Canon::Reasoning(text));
                }
            }
            "input_json_delta" => {
                let Some(fragment) = delta.partial_json.as_deref().filter(|f| !f.is_empty()) else {
                    return;
                };
                match self.slots.iter().find(|(i, _)| *i == d.index).map(|s| s.1) {
                    Some(Slot::Tool(index)) => emit(Canon::ToolArgs { index, fragment }),
                    Some(Slot::Json) => emit(Canon::Text(fragment)),
                    None => {}
                }
            }
            // signature_delta, citations_delta: no OpenAI counterpart.
            _ => {}
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(data: &'a [u8]) -> Result<T, TranslateError> {
    serde_json::from_slice(data)
        .map_err(|e| TranslateError::MalformedUpstream(format!("anthropic event: {e}")))
}
