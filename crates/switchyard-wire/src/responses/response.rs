//! A whole reply for a Responses client: an OpenAI-canonical chat completion (what every other
//! upstream's reply is first turned into) becomes a `response` object.
//!
//! `finish_reason: length` is status `incomplete` with reason `max_output_tokens` (the message
//! item `incomplete` too); `content_filter` is `incomplete` with reason `content_filter`.
//! `reasoning_content` becomes a reasoning item with its text as the summary.

use serde::Deserialize;
use serde_json::Value;

use super::{call_item, id_base, message_item, reasoning_item, Echo, ResponseObject, Status};
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
    let mut output: Vec<Value> = Vec::new();
    if let Some(r) = msg
        .reasoning_content
        .or(msg.reasoning)
        .filter(|r| !r.is_empty())
    {
        output.push(reasoning_item(&format!("rs_{base}"), &r));
    }
    let item_status = match status {
        Status::Incomplete(_) => "incomplete",
        _ => "completed",
    };
    match (msg.content.filter(|t| !t.is_empty()), msg.refusal) {
        (Some(text), _) => output.push(message_item(
            &format!("msg_{base}"),
            &text,
            false,
            item_status,
        )),
        (None, Some(refusal)) => output.push(message_item(
            &format!("msg_{base}"),
            &refusal,
            true,
            item_status,
        )),
        (None, None) => {}
    }
    for (i, call) in msg.tool_calls.iter().enumerate() {
        output.push(call_item(
            &format!("fc_{base}_{i}"),
            &call.id,
            &call.function.name,
            &call.function.arguments,
            "completed",
        ));
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
