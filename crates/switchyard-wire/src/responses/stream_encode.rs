//! Canonical stream steps encoded as Responses events, in the order OpenAI sends them:
//! `response.created`, `response.in_progress`, then per output item `output_item.added`,
//! its parts and deltas, `output_item.done`, and last `response.completed` (or `.incomplete`
//! when the output cap or a filter stopped it). Every event carries `sequence_number`, counted
//! from 0. Reasoning streams as a reasoning item's summary
//! (`response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`, …).
//! An upstream error becomes an `error` event followed by `response.failed`.

use serde::Serialize;
use serde_json::{json, Value};

use super::response::status_of;
use super::{call_item, id_base, message_item, reasoning_item, Echo, ResponseObject, Status};
use crate::error::{status_for_type, UpstreamError};
use crate::stream::canon::{Canon, Finish};
use crate::Usage;

#[derive(Debug)]
enum Kind {
    Message,
    Reasoning,
    /// A function call: the canonical tool index, call id and name.
    Call {
        index: u32,
        call_id: String,
        name: String,
    },
}

#[derive(Debug)]
struct Item {
    id: String,
    kind: Kind,
    /// Text, reasoning summary or arguments, accumulated for the `.done` events.
    text: String,
    done: bool,
}

/// Encodes one response as Responses events.
#[derive(Debug, Default)]
pub(crate) struct ResponsesEncoder {
    echo: Echo,
    created_at: u64,
    id: String,
    base: String,
    model: String,
    seq: u64,
    started: bool,
    items: Vec<Item>,
    open: Option<usize>,
    finish: Option<Finish>,
    usage: Option<Usage>,
    finished: bool,
}

#[derive(Serialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    delta: &'a str,
    logprobs: [(); 0],
    sequence_number: u64,
}

#[derive(Serialize)]
struct ArgsDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    item_id: &'a str,
    output_index: usize,
    delta: &'a str,
    sequence_number: u64,
}

#[derive(Serialize)]
struct SummaryDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    delta: &'a str,
    sequence_number: u64,
}

/// `response.created`, `.in_progress`, `.completed`, …: fields in the order the `Value` map
/// this replaced wrote them.
#[derive(Serialize)]
struct Lifecycle<'a> {
    response: &'a ResponseObject<'a>,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ErrorEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    code: Option<&'a str>,
    message: &'a str,
    param: Option<&'a str>,
    sequence_number: u64,
}

impl ResponsesEncoder {
    pub(crate) fn set_created(&mut self, created_at: u64) {
        self.created_at = created_at;
    }

    pub(crate) fn set_echo(&mut self, echo: Echo) {
        self.echo = echo;
    }

    pub(crate) fn emit(&mut self, step: Canon<'_>, out: &mut Vec<u8>) {
        if self.finished {
            return;
        }
        match step {
            Canon::Start { id, model } => {
                self.base = id_base(id);
                self.model = model.to_owned();
                self.start(out);
            }
            Canon::Text(text) => {
                let i = self.ensure_open(out, |items, _| {
                    matches!(items.kind, Kind::Message).then_some(())
                });
                let i = match i {
                    Some(i) => i,
                    None => self.open_item(out, Kind::Message),
                };
                self.items[i].text.push_str(text);
                let ev = TextDelta {
                    kind: "response.output_text.delta",
                    item_id: &self.items[i].id,
                    output_index: i,
                    content_index: 0,
                    delta: text,
                    logprobs: [],
                    sequence_number: self.seq,
                };
                write(out, ev.kind, &ev);
                self.seq += 1;
            }
            Canon::ReasoningSignature(_) => {}
            Canon::Reasoning(text) => {
                let i = match self.ensure_open(out, |it, _| {
                    matches!(it.kind, Kind::Reasoning).then_some(())
                }) {
                    Some(i) => i,
                    None => self.open_item(out, Kind::Reasoning),
                };
                self.items[i].text.push_str(text);
                let ev = SummaryDelta {
                    kind: "response.reasoning_summary_text.delta",
                    item_id: &self.items[i].id,
                    output_index: i,
                    summary_index: 0,
                    delta: text,
                    sequence_number: self.seq,
                };
                write(out, ev.kind, &ev);
                self.seq += 1;
            }
            Canon::ToolStart { index, id, name } => {
                if self.call(index).is_some() {
                    return; // some servers repeat the id and name on every fragment
                }
                self.start(out);
                self.close(out);
                let call_id = if id.is_empty() {
                    format!("call_{}_{index}", self.base)
                } else {
                    id.to_owned()
                };
                self.open_item(
                    out,
                    Kind::Call {
                        index,
                        call_id,
                        name: name.to_owned(),
                    },
                );
            }
            Canon::ToolArgs { index, fragment } => {
                let i = match self.call(index) {
                    Some(i) => i,
                    None => {
                        self.start(out);
                        self.close(out);
                        let call_id = format!("call_{}_{index}", self.base);
                        self.open_item(
                            out,
                            Kind::Call {
                                index,
                                call_id,
                                name: String::new(),
                            },
                        )
                    }
                };
                self.items[i].text.push_str(fragment);
                let ev = ArgsDelta {
                    kind: "response.function_call_arguments.delta",
                    item_id: &self.items[i].id,
                    output_index: i,
                    delta: fragment,
                    sequence_number: self.seq,
                };
                write(out, ev.kind, &ev);
                self.seq += 1;
            }
            Canon::Finish(reason) => self.finish = Some(reason),
            Canon::Usage(usage) => self.usage = Some(usage),
            Canon::Done => {
                self.start(out);
                let status = status_of(self.finish.map(Finish::openai));
                self.close_with(out, status);
                let name = match status {
                    Status::Incomplete(_) => "response.incomplete",
                    _ => "response.completed",
                };
                self.lifecycle(out, name, status, None);
                self.finished = true;
            }
            Canon::Error(err) => {
                self.start(out);
                self.error(out, err);
            }
        }
    }

    /// An `error` event, then `response.failed`; nothing follows.
    pub(crate) fn error(&mut self, out: &mut Vec<u8>, err: &UpstreamError) {
        let ev = ErrorEvent {
            kind: "error",
            code: err.code.as_deref().or(err.kind.as_deref()),
            message: &err.message,
            param: err.param.as_deref(),
            sequence_number: self.seq,
        };
        write(out, "error", &ev);
        self.seq += 1;
        if self.started {
            let kind = err.kind.as_deref().unwrap_or("server_error");
            let code = if status_for_type(kind) == 429 {
                "rate_limit_exceeded"
            } else {
                "server_error"
            };
            self.lifecycle(
                out,
                "response.failed",
                Status::Failed,
                Some((code, &err.message)),
            );
        }
        self.finished = true;
    }

    fn call(&self, index: u32) -> Option<usize> {
        self.items
            .iter()
            .position(|it| matches!(it.kind, Kind::Call { index: i, .. } if i == index))
    }

    /// The open item if `matches` accepts it; otherwise closes it and returns `None`.
    fn ensure_open(
        &mut self,
        out: &mut Vec<u8>,
        matches: impl Fn(&Item, usize) -> Option<()>,
    ) -> Option<usize> {
        self.start(out);
        if let Some(i) = self.open {
            if matches(&self.items[i], i).is_some() {
                return Some(i);
            }
        }
        self.close(out);
        None
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        if self.base.is_empty() {
            self.base = "0".to_owned();
        }
        self.id = format!("resp_{}", self.base);
        self.lifecycle(out, "response.created", Status::InProgress, None);
        self.lifecycle(out, "response.in_progress", Status::InProgress, None);
    }

    fn open_item(&mut self, out: &mut Vec<u8>, kind: Kind) -> usize {
        let i = self.items.len();
        let (id, item, part) = match &kind {
            Kind::Message => {
                let id = format!("msg_{}_{i}", self.base);
                let item = json!({"id": id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"});
                let part =
                    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": ""});
                (
                    id,
                    item,
                    Some(("response.content_part.added", "content_index", part)),
                )
            }
            Kind::Reasoning => {
                let id = format!("rs_{}_{i}", self.base);
                let item = reasoning_item(&id, "");
                let part = json!({"type": "summary_text", "text": ""});
                (
                    id,
                    item,
                    Some((
                        "response.reasoning_summary_part.added",
                        "summary_index",
                        part,
                    )),
                )
            }
            Kind::Call { call_id, name, .. } => {
                let id = format!("fc_{}_{i}", self.base);
                let item = call_item(&id, call_id, name, "", "in_progress");
                (id, item, None)
            }
        };
        let ev = json!({"type": "response.output_item.added", "output_index": i, "item": item, "sequence_number": self.seq});
        write(out, "response.output_item.added", &ev);
        self.seq += 1;
        if let Some((name, index_key, part)) = part {
            let ev = json!({"type": name, "item_id": id, "output_index": i, index_key: 0, "part": part, "sequence_number": self.seq});
            write(out, name, &ev);
            self.seq += 1;
        }
        self.items.push(Item {
            id,
            kind,
            text: String::new(),
            done: false,
        });
        self.open = Some(i);
        i
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        self.close_with(out, Status::Completed);
    }

    /// Ends the open item with its `.done` events.
    fn close_with(&mut self, out: &mut Vec<u8>, status: Status) {
        let Some(i) = self.open.take() else { return };
        let item_status = match status {
            Status::Incomplete(_) => "incomplete",
            _ => "completed",
        };
        let seq = &mut self.seq;
        let item = &mut self.items[i];
        item.done = true;
        let mut event = |out: &mut Vec<u8>, name: &str, mut v: Value| {
            v["type"] = json!(name);
            v["sequence_number"] = json!(*seq);
            write(out, name, &v);
            *seq += 1;
        };
        let (id, text) = (&item.id, &item.text);
        let done = match &item.kind {
            Kind::Message => {
                event(
                    out,
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": i, "content_index": 0, "text": text, "logprobs": []}),
                );
                let part =
                    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text});
                event(
                    out,
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": i, "content_index": 0, "part": part}),
                );
                message_item(id, text, false, item_status)
            }
            Kind::Reasoning => {
                event(
                    out,
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": i, "summary_index": 0, "text": text}),
                );
                let part = json!({"type": "summary_text", "text": text});
                event(
                    out,
                    "response.reasoning_summary_part.done",
                    json!({"item_id": id, "output_index": i, "summary_index": 0, "part": part}),
                );
                reasoning_item(id, text)
            }
            Kind::Call { call_id, name, .. } => {
                event(
                    out,
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": i, "arguments": text}),
                );
                call_item(id, call_id, name, text, "completed")
            }
        };
        event(
            out,
            "response.output_item.done",
            json!({"output_index": i, "item": done}),
        );
    }

    /// Output items so far, as the final `response` lists them.
    fn output(&self) -> Vec<Value> {
        self.items
            .iter()
            .filter(|it| it.done)
            .map(|it| match &it.kind {
                Kind::Message => message_item(&it.id, &it.text, false, "completed"),
                Kind::Reasoning => reasoning_item(&it.id, &it.text),
                Kind::Call { call_id, name, .. } => {
                    call_item(&it.id, call_id, name, &it.text, "completed")
                }
            })
            .collect()
    }

    fn lifecycle(
        &mut self,
        out: &mut Vec<u8>,
        name: &'static str,
        status: Status,
        error: Option<(&'static str, &str)>,
    ) {
        let terminal = status != Status::InProgress;
        let mut output = if terminal { self.output() } else { Vec::new() };
        if let Status::Incomplete(_) = status {
            for item in &mut output {
                if item["type"] == "message" {
                    item["status"] = json!("incomplete");
                }
            }
        }
        let obj = ResponseObject {
            id: &self.id,
            created_at: self.created_at,
            model: &self.model,
            status,
            output,
            usage: if terminal { self.usage } else { None },
            error,
            echo: &self.echo,
        };
        let ev = Lifecycle {
            response: &obj,
            sequence_number: self.seq,
            kind: name,
        };
        write(out, name, &ev);
        self.seq += 1;
    }
}

fn write<T: Serialize>(out: &mut Vec<u8>, name: &str, event: &T) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    crate::json::write(out, event);
    out.extend_from_slice(b"\n\n");
}
