//! ConverseStream events into canonical stream steps.
//!
//! The events (`:event-type`) are the members of botocore's `ConverseStreamOutput` union:
//! `messageStart`, `contentBlockStart` (a tool call's id and name), `contentBlockDelta`
//! (text, tool input JSON, reasoning text), `contentBlockStop`, `messageStop` (the stop
//! reason) and `metadata` (usage; the last event). An `exception` message
//! (`internalServerException`, `modelStreamErrorException`, `validationException`,
//! `throttlingException`, `serviceUnavailableException`) or a generic `error` message ends
//! the stream with an error step, so the client sees a loud error event, never a quiet end.

use serde::Deserialize;
use serde_json::Value;

use super::error::stream_exception;
use super::frames::Frame;
use super::{completion_id, finish, malformed, usage};
use crate::error::UpstreamError;
use crate::stream::canon::Canon;
use crate::TranslateError;

#[derive(Deserialize)]
struct BlockEvent {
    #[serde(rename = "contentBlockIndex", default)]
    index: u32,
    #[serde(default)]
    start: Option<Value>,
    #[serde(default)]
    delta: Option<Value>,
}

/// Decoder state for one stream.
#[derive(Debug, Default)]
pub(crate) struct BedrockDecoder {
    model: String,
    id: String,
    started: bool,
    /// Content block index → canonical tool index, for tool blocks.
    tools: Vec<(u32, u32)>,
    stopped: bool,
}

impl BedrockDecoder {
    /// `model` names the chunks: Converse events don't.
    pub(crate) fn new(model: &str) -> Self {
        BedrockDecoder {
            model: model.to_owned(),
            ..Self::default()
        }
    }

    pub(crate) fn decode(
        &mut self,
        frame: Frame<'_>,
        emit: &mut impl FnMut(Canon<'_>),
    ) -> Result<(), TranslateError> {
        match frame.message_type {
            "exception" => {
                let err = stream_exception(frame.kind, frame.payload);
                emit(Canon::Error(&err));
                return Ok(());
            }
            "error" => {
                let err = UpstreamError {
                    message: if frame.error_message.is_empty() {
                        format!("bedrock stream error {}", frame.kind)
                    } else {
                        frame.error_message.to_owned()
                    },
                    kind: Some("api_error".to_owned()),
                    code: (!frame.kind.is_empty()).then(|| frame.kind.to_owned()),
                    param: None,
                };
                emit(Canon::Error(&err));
                return Ok(());
            }
            _ => {}
        }
        if !self.started {
            self.started = true;
            self.id = completion_id(frame.payload);
            emit(Canon::Start {
                id: &self.id,
                model: &self.model,
            });
        }
        let payload: Value = serde_json::from_slice(frame.payload)
            .map_err(|e| malformed(format!("{} event is not JSON: {e}", frame.kind)))?;
        match frame.kind {
            "contentBlockStart" => {
                let ev: BlockEvent = parse(&payload, frame.kind)?;
                if let Some(tool) = ev.start.as_ref().and_then(|s| s.get("toolUse")) {
                    let id = tool.get("toolUseId").and_then(Value::as_str).unwrap_or("");
                    let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
                    let index = self.tool_index(ev.index);
                    emit(Canon::ToolStart { index, id, name });
                }
            }
            "contentBlockDelta" => {
                let ev: BlockEvent = parse(&payload, frame.kind)?;
                let Some(delta) = ev.delta else {
                    return Err(malformed("contentBlockDelta without delta"));
                };
                if let Some(text) = delta.get("text").and_then(Value::as_str) {
                    emit(Canon::Text(text));
                } else if let Some(input) = delta.pointer("/toolUse/input").and_then(Value::as_str)
                {
                    let index = self.tool_index(ev.index);
                    emit(Canon::ToolArgs {
                        index,
                        fragment: input,
                    });
                } else if let Some(r) = delta
                    .pointer("/reasoningContent/text")
                    .and_then(Value::as_str)
                {
                    emit(Canon::Reasoning(r));
                } else if let Some(s) = delta
                    .pointer("/reasoningContent/signature")
                    .and_then(Value::as_str)
                {
                    emit(Canon::ReasoningSignature(s));
                }
            }
            "messageStop" => {
                let reason = payload
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed("messageStop without stopReason"))?;
                self.stopped = true;
                emit(Canon::Finish(finish(reason)));
            }
            "metadata" => {
                if let Some(u) = payload.get("usage") {
                    emit(Canon::Usage(usage(u)));
                }
                emit(Canon::Done);
            }
            // messageStart, contentBlockStop, and event types added later.
            _ => {}
        }
        Ok(())
    }

    /// Upstream EOF after `messageStop` but without `metadata`: the answer is whole, only its
    /// usage is unknown, so the stream still ends normally.
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(Canon<'_>)) {
        if self.stopped {
            emit(Canon::Done);
        }
    }

    /// The canonical tool index of content block `block` (tool calls count from 0).
    fn tool_index(&mut self, block: u32) -> u32 {
        if let Some(&(_, i)) = self.tools.iter().find(|(b, _)| *b == block) {
            return i;
        }
        let i = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
        self.tools.push((block, i));
        i
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value, kind: &str) -> Result<T, TranslateError> {
    T::deserialize(v).map_err(|e| malformed(format!("{kind} event: {e}")))
}
