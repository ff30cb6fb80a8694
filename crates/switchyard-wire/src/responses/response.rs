//! A whole reply for a Responses client: an OpenAI-canonical chat completion (what every other
//! upstream's reply is first turned into) becomes a `response` object.
//!
//! `finish_reason: length` is status `incomplete` with reason `max_output_tokens` (the message
//! item `incomplete` too); `content_filter` is `incomplete` with reason `content_filter`.
//! `reasoning_content` becomes a reasoning item with its text as the summary.

use serde::Deserialize;

use super::items::OutputItem;
use super::{id_base, Echo, ResponseObject, Status};
use crate::openai::usage::WireUsage as ChatUsage;
use crate::{TranslateError, Usage};

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    id: String,
    #[serde(default)]
    created: Option<u64>,
    #[serde(default)]
    model: String,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Deserialize)]
struct ToolCall {
    #[serde(default)]
    id: String,
    function: Function,
}

#[derive(Deserialize)]
struct Function {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: String,
}

/// The status a chat `finish_reason` means.
pub(crate) fn status_of(finish: Option<&str>) -> Status {
    match finish {
        Some("length") => Status::Incomplete("max_output_tokens"),
        Some("content_filter") => Status::Incomplete("content_filter"),
        _ => Status::Completed,
    }
}

/// A canonical chat completion as a Responses body, with its usage for metering.
///
/// # Errors
/// `MalformedUpstream` when `body` is not a chat completion.
pub(crate) fn from_openai(
    body: &[u8],
    created: u64,
    echo: &Echo,
    usage: Option<Usage>,
) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    let c: Completion = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(format!("chat completion: {e}")))?;
    let choice = c.choices.into_iter().next().ok_or_else(|| {
        TranslateError::MalformedUpstream("chat completion without choices".to_owned())
    })?;
    let base = id_base(&c.id);
    let status = status_of(choice.finish_reason.as_deref());
    let msg = choice.message;
    let reasoning = msg.reasoning_content.or(msg.reasoning);
    let (content, refusal) = (msg.content.filter(|t| !t.is_empty()), msg.refusal);
    let (rs_id, msg_id) = (format!("rs_{base}"), format!("msg_{base}"));
    let call_ids: Vec<String> = (0..msg.tool_calls.len())
        .map(|i| format!("fc_{base}_{i}"))
        .collect();
    let mut output = Vec::with_capacity(2 + call_ids.len());
    if let Some(r) = reasoning.as_deref().filter(|r| !r.is_empty()) {
        output.push(OutputItem::Reasoning {
            id: &rs_id,
            text: r,
        });
    }
    let item_status = match status {
        Status::Incomplete(_) => "incomplete",
        _ => "completed",
    };
    match (&content, &refusal) {
        (Some(text), _) => output.push(OutputItem::message(&msg_id, text, false, item_status)),
        (None, Some(refusal)) => {
            output.push(OutputItem::message(&msg_id, refusal, true, item_status))
        }
        (None, None) => {}
    }
    for (call, id) in msg.tool_calls.iter().zip(&call_ids) {
        output.push(OutputItem::Call {
            id,
            call_id: &call.id,
            name: &call.function.name,
            arguments: &call.function.arguments,
            status: "completed",
        });
    }
    let usage = usage.or(c.usage.map(Usage::from));
    let id = format!("resp_{base}");
    let obj = ResponseObject {
        id: &id,
        created_at: c.created.filter(|t| *t > 0).unwrap_or(created),
        model: &c.model,
        status,
        output,
        usage,
        error: None,
        echo,
    };
    let mut out = Vec::with_capacity(body.len() + 512);
    crate::json::write(&mut out, &obj);
    Ok((out, usage))
}
