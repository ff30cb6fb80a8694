//! Canonical stream steps encoded as Anthropic Messages events, in the order Anthropic's SDKs
//! expect: message_start, then per content block start/delta.../stop, then message_delta (stop
//! reason and usage) and message_stop.

use serde::Serialize;

use super::WireUsage;
use crate::error::write_stream_error;
use crate::stream::canon::{Canon, Finish};
use crate::{Dialect, Usage};

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event<'a> {
    MessageStart {
        message: StartMessage<'a>,
    },
    ContentBlockStart {
        index: u32,
        content_block: BlockStart<'a>,
    },
    ContentBlockDelta {
        index: u32,
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: StopDelta,
        usage: WireUsage,
    },
    MessageStop,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
        }
    }
}

#[derive(Serialize)]
struct StartMessage<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Option<()>,
    stop_sequence: Option<()>,
    usage: WireUsage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockStart<'a> {
    Text {
        text: &'static str,
    },
    Thinking {
        thinking: &'static str,
        signature: &'static str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Empty,
    },
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Delta<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

#[derive(Serialize)]
struct StopDelta {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool(u32),
}

/// Encodes one response as Anthropic events. Usage goes in message_delta (with input tokens,
/// as Anthropic's cumulative message_delta usage allows) because OpenAI reports it only at the
/// end; message_start carries zeros.
#[derive(Debug, Default)]
pub(crate) struct AnthropicEncoder {
    id: String,
    model: String,
    started: bool,
    open: Option<(Open, u32)>,
    next_block: u32,
    /// OpenAI tool index to Anthropic block index.
    tools: Vec<(u32, u32)>,
    finish: Option<Finish>,
    usage: Option<Usage>,
    finished: bool,
}

impl AnthropicEncoder {
    pub(crate) fn emit(&mut self, step: Canon<'_>, out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        match step {
            Canon::Start { id, model } => {
                self.id = id.to_owned();
                self.model = model.to_owned();
                self.start(out);
            }
            Canon::Text(text) => {
                let index = self.ensure_open(Open::Text, out, |_| BlockStart::Text { text: "" });
                self.write(
                    out,
                    &Event::ContentBlockDelta {
                        index,
                        delta: Delta::Text { text },
                    },
                );
            }
            Canon::Reasoning(thinking) => {
                let index = self.ensure_open(Open::Thinking, out, |_| BlockStart::Thinking {
                    thinking: "",
                    signature: "",
                });
                let delta = Delta::Thinking { thinking };
                self.write(out, &Event::ContentBlockDelta { index, delta });
            }
            Canon::ReasoningSignature(signature) => {
                // The signature ends its block: reasoning after it opens a new one.
                let index = self.ensure_open(Open::Thinking, out, |_| BlockStart::Thinking {
                    thinking: "",
                    signature: "",
                });
                let delta = Delta::Signature { signature };
                self.write(out, &Event::ContentBlockDelta { index, delta });
                self.close(out);
            }
            Canon::ToolStart { index, id, name } => {
                // Some compatible servers repeat the id and name on every fragment.
                if self.tools.iter().any(|(t, _)| *t == index) {
                    return;
                }
                let block = self.ensure_open(Open::Tool(index), out, |_| BlockStart::ToolUse {
                    id,
                    name,
                    input: Empty {},
                });
                self.tools.push((index, block));
            }
            Canon::ToolArgs { index, fragment } => {
                let block = match self.tools.iter().find(|(t, _)| *t == index) {
                    Some(&(_, block)) => block,
                    None => {
                        // Arguments before any id/name: open the call anyway so nothing is lost.
                        let id = format!("call_{index}");
                        let block =
                            self.ensure_open(Open::Tool(index), out, |_| BlockStart::ToolUse {
                                id: &id,
                                name: "",
                                input: Empty {},
                            });
                        self.tools.push((index, block));
                        block
                    }
                };
                let delta = Delta::InputJson {
                    partial_json: fragment,
                };
                self.write(
                    out,
                    &Event::ContentBlockDelta {
                        index: block,
                        delta,
                    },
                );
            }
            Canon::Finish(reason) => {
                self.finish = Some(reason);
                self.close(out);
            }
            Canon::Usage(usage) => self.usage = Some(usage),
            Canon::Done => {
                self.start(out);
                self.close(out);
                let usage = self.usage.map(WireUsage::from).unwrap_or_default();
                let stop_reason = self.finish.unwrap_or(Finish::Stop).anthropic();
                let delta = StopDelta {
                    stop_reason,
                    stop_sequence: None,
                };
                self.write(out, &Event::MessageDelta { delta, usage });
                self.write(out, &Event::MessageStop);
                self.finished = true;
            }
            Canon::Error(err) => {
                write_stream_error(Dialect::Anthropic, err, out);
                self.finished = true;
            }
        }
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let message = StartMessage {
            id: &self.id,
            kind: "message",
            role: "assistant",
            model: &self.model,
            content: [],
            stop_reason: None,
            stop_sequence: None,
            usage: WireUsage::default(),
        };
        write_to(out, &Event::MessageStart { message });
    }

    /// The index of an open block of `kind`, closing a different one and opening this one first.
    fn ensure_open<'b>(
        &mut self,
        kind: Open,
        out: &mut Vec<u8>,
        block: impl FnOnce(u32) -> BlockStart<'b>,
    ) -> u32 {
        self.start(out);
        if let Some((open, index)) = self.open {
            if open == kind {
                return index;
            }
        }
        self.close(out);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some((kind, index));
        let content_block = block(index);
        self.write(
            out,
            &Event::ContentBlockStart {
                index,
                content_block,
            },
        );
        index
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if let Some((_, index)) = self.open.take() {
            self.write(out, &Event::ContentBlockStop { index });
        }
    }

    fn write(&self, out: &mut Vec<u8>, event: &Event<'_>) {
        write_to(out, event);
    }
}

fn write_to(out: &mut Vec<u8>, event: &Event<'_>) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.name().as_bytes());
    out.extend_from_slice(b"\ndata: ");
    crate::json::write(out, event);
    out.extend_from_slice(b"\n\n");
}
