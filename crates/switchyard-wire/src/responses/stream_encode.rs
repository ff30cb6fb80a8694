//! Canonical stream steps encoded as Responses events, in the order OpenAI sends them:
//! `response.created`, `response.in_progress`, then per output item `output_item.added`,
//! its parts and deltas, `output_item.done`, and last `response.completed` (or `.incomplete`
//! when the output cap or a filter stopped it). Every event carries `sequence_number`, counted
//! from 0. Reasoning streams as a reasoning item's summary
//! (`response.reasoning_summary_part.added`, `response.reasoning_summary_text.delta`, …).
//! An upstream error becomes an `error` event followed by `response.failed`.

use serde::Serialize;

use super::events::{
    ArgsDelta, ArgsDone, ContentPart, ErrorEvent, ItemEvent, Lifecycle, SummaryDelta, SummaryPart,
    SummaryTextDone, TextDelta, TextDone,
};
use super::items::{OutputItem, OutputText, SummaryText};
use super::response::status_of;
use super::{id_base, Echo, ResponseObject, Status};
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

impl Item {
    /// The item as `output_item.added` (`open`) or `.done` and the final `response` list it;
    /// a message is `incomplete` when the response is.
    fn output(&self, open: bool, incomplete: bool) -> OutputItem<'_> {
        let id = &self.id;
        match &self.kind {
            Kind::Message if open => OutputItem::Message {
                id,
                status: "in_progress",
                content: None,
            },
            Kind::Message => {
                let status = if incomplete {
                    "incomplete"
                } else {
                    "completed"
                };
                OutputItem::message(id, &self.text, false, status)
            }
            Kind::Reasoning => OutputItem::Reasoning {
                id,
                text: &self.text,
            },
            Kind::Call { call_id, name, .. } => OutputItem::Call {
                id,
                call_id,
                name,
                arguments: &self.text,
                status: if open { "in_progress" } else { "completed" },
            },
        }
    }
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
        let prefix = match kind {
            Kind::Message => "msg",
            Kind::Reasoning => "rs",
            Kind::Call { .. } => "fc",
        };
        self.items.push(Item {
            id: format!("{prefix}_{}_{i}", self.base),
            kind,
            text: String::new(),
            done: false,
        });
        self.open = Some(i);
        let item = &self.items[i];
        let mut seq = self.seq;
        let added = ItemEvent {
            item: item.output(true, false),
            output_index: i,
            sequence_number: seq,
            kind: "response.output_item.added",
        };
        write(out, added.kind, &added);
        seq += 1;
        match item.kind {
            Kind::Message => {
                let ev = ContentPart {
                    content_index: 0,
                    item_id: &item.id,
                    output_index: i,
                    part: OutputText::new(""),
                    sequence_number: seq,
                    kind: "response.content_part.added",
                };
                write(out, ev.kind, &ev);
                seq += 1;
            }
            Kind::Reasoning => {
                let ev = SummaryPart {
                    item_id: &item.id,
                    output_index: i,
                    part: SummaryText::new(""),
                    sequence_number: seq,
                    summary_index: 0,
                    kind: "response.reasoning_summary_part.added",
                };
                write(out, ev.kind, &ev);
                seq += 1;
            }
            Kind::Call { .. } => {}
        }
        self.seq = seq;
        i
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        self.close_with(out, Status::Completed);
    }

    /// Ends the open item with its `.done` events.
    fn close_with(&mut self, out: &mut Vec<u8>, status: Status) {
        let Some(i) = self.open.take() else { return };
        let incomplete = matches!(status, Status::Incomplete(_));
        self.items[i].done = true;
        let item = &self.items[i];
        let (item_id, text) = (item.id.as_str(), item.text.as_str());
        let mut seq = self.seq;
        match item.kind {
            Kind::Message => {
                let ev = TextDone {
                    content_index: 0,
                    item_id,
                    logprobs: [],
                    output_index: i,
                    sequence_number: seq,
                    text,
                    kind: "response.output_text.done",
                };
                write(out, ev.kind, &ev);
                let ev = ContentPart {
                    content_index: 0,
                    item_id,
                    output_index: i,
                    part: OutputText::new(text),
                    sequence_number: seq + 1,
                    kind: "response.content_part.done",
                };
                write(out, ev.kind, &ev);
                seq += 2;
            }
            Kind::Reasoning => {
                let ev = SummaryTextDone {
                    item_id,
                    output_index: i,
                    sequence_number: seq,
                    summary_index: 0,
                    text,
                    kind: "response.reasoning_summary_text.done",
                };
                write(out, ev.kind, &ev);
                let ev = SummaryPart {
                    item_id,
                    output_index: i,
                    part: SummaryText::new(text),
                    sequence_number: seq + 1,
                    summary_index: 0,
                    kind: "response.reasoning_summary_part.done",
                };
                write(out, ev.kind, &ev);
                seq += 2;
            }
            Kind::Call { .. } => {
                let ev = ArgsDone {
                    arguments: text,
                    item_id,
                    output_index: i,
                    sequence_number: seq,
                    kind: "response.function_call_arguments.done",
                };
                write(out, ev.kind, &ev);
                seq += 1;
            }
        }
        let done = ItemEvent {
            item: item.output(false, incomplete),
            output_index: i,
            sequence_number: seq,
            kind: "response.output_item.done",
        };
        write(out, done.kind, &done);
        self.seq = seq + 1;
    }

    fn lifecycle(
        &mut self,
        out: &mut Vec<u8>,
        name: &'static str,
        status: Status,
        error: Option<(&'static str, &str)>,
    ) {
        let terminal = status != Status::InProgress;
        let incomplete = matches!(status, Status::Incomplete(_));
        let output = if terminal {
            // Output items so far, as the final `response` lists them.
            self.items
                .iter()
                .filter(|it| it.done)
                .map(|it| it.output(false, incomplete))
                .collect()
        } else {
            Vec::new()
        };
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
