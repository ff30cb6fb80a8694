//! Output items and their parts, written straight from borrowed fields: a stream writes each
//! item twice (`output_item.added`, `.done`) and again in the terminal `response`, so no
//! `Value` tree is built for them. Keys come out sorted, as the `json!` maps these replaced
//! wrote them (the blessed fixtures in `tests.rs` pin every byte).

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// One `output` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputItem<'a> {
    /// An assistant message: no part yet (just opened), or its one part.
    Message {
        id: &'a str,
        status: &'a str,
        content: Option<Part<'a>>,
    },
    /// A reasoning item whose summary is `text` (none when empty).
    Reasoning { id: &'a str, text: &'a str },
    /// A function call.
    Call {
        id: &'a str,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
        status: &'a str,
    },
}

impl<'a> OutputItem<'a> {
    /// A message holding `text`, as output text or a refusal.
    pub(crate) fn message(id: &'a str, text: &'a str, refusal: bool, status: &'a str) -> Self {
        let part = if refusal {
            Part::Refusal(text)
        } else {
            Part::OutputText(text)
        };
        OutputItem::Message {
            id,
            status,
            content: Some(part),
        }
    }
}

impl Serialize for OutputItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            OutputItem::Message {
                id,
                status,
                content,
            } => {
                let mut m = s.serialize_map(Some(5))?;
                m.serialize_entry("content", content.as_slice())?;
                m.serialize_entry("id", id)?;
                m.serialize_entry("role", "assistant")?;
                m.serialize_entry("status", status)?;
                m.serialize_entry("type", "message")?;
                m.end()
            }
            OutputItem::Reasoning { id, text } => {
                let summary = (!text.is_empty()).then(|| SummaryText::new(text));
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("id", id)?;
                m.serialize_entry("summary", summary.as_slice())?;
                m.serialize_entry("type", "reasoning")?;
                m.end()
            }
            OutputItem::Call {
                id,
                call_id,
                name,
                arguments,
                status,
            } => {
                let mut m = s.serialize_map(Some(6))?;
                m.serialize_entry("arguments", arguments)?;
                m.serialize_entry("call_id", call_id)?;
                m.serialize_entry("id", id)?;
                m.serialize_entry("name", name)?;
                m.serialize_entry("status", status)?;
                m.serialize_entry("type", "function_call")?;
                m.end()
            }
        }
    }
}

/// A message's content part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part<'a> {
    /// `{"annotations":[],"logprobs":[],"text":…,"type":"output_text"}`
    OutputText(&'a str),
    /// `{"refusal":…,"type":"refusal"}`
    Refusal(&'a str),
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Part::OutputText(text) => OutputText::new(text).serialize(s),
            Part::Refusal(refusal) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("refusal", refusal)?;
                m.serialize_entry("type", "refusal")?;
                m.end()
            }
        }
    }
}

/// An `output_text` part (what `content_part.added` / `.done` carry too).
#[derive(Serialize)]
pub(crate) struct OutputText<'a> {
    annotations: [(); 0],
    logprobs: [(); 0],
    text: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> OutputText<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        OutputText {
            annotations: [],
            logprobs: [],
            text,
            kind: "output_text",
        }
    }
}

/// A reasoning summary's `summary_text` part.
#[derive(Serialize)]
pub(crate) struct SummaryText<'a> {
    text: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> SummaryText<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        SummaryText {
            text,
            kind: "summary_text",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// The bytes serde_json writes for `v` (a sorted-key map), to compare with ours.
    fn bytes_of(v: Value) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn items_are_written_as_the_json_maps_they_replaced() {
        let s = |item: OutputItem| serde_json::to_string(&item).unwrap();
        assert_eq!(
            s(OutputItem::message(
                "msg_1",
                "a \"q\"\n",
                false,
                "incomplete"
            )),
            bytes_of(
                json!({"id": "msg_1", "type": "message", "status": "incomplete",
                "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "a \"q\"\n"}],
                "role": "assistant"})
            )
        );
        assert_eq!(
            s(OutputItem::message("msg_1", "no", true, "completed")),
            bytes_of(
                json!({"id": "msg_1", "type": "message", "status": "completed",
                "content": [{"type": "refusal", "refusal": "no"}], "role": "assistant"})
            )
        );
        assert_eq!(
            s(OutputItem::Message {
                id: "msg_2",
                status: "in_progress",
                content: None
            }),
            bytes_of(
                json!({"id": "msg_2", "type": "message", "status": "in_progress",
                "content": [], "role": "assistant"})
            )
        );
        assert_eq!(
            s(OutputItem::Reasoning {
                id: "rs_1",
                text: ""
            }),
            bytes_of(json!({"id": "rs_1", "type": "reasoning", "summary": []}))
        );
        assert_eq!(
            s(OutputItem::Reasoning {
                id: "rs_1",
                text: "hm"
            }),
            bytes_of(json!({"id": "rs_1", "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "hm"}]}))
        );
        assert_eq!(
            s(OutputItem::Call {
                id: "fc_1",
                call_id: "call_1",
                name: "",
                arguments: "{\"a\":1}",
                status: "in_progress"
            }),
            bytes_of(
                json!({"id": "fc_1", "type": "function_call", "status": "in_progress",
                "arguments": "{\"a\":1}", "call_id": "call_1", "name": ""})
            )
        );
    }
}
