//! A `ConverseResponse` to an OpenAI `chat.completion`.

use serde_json::{json, Map, Value};

use super::{completion_id, finish, malformed, usage};
use crate::{TranslateError, Usage};

/// Translates a Converse reply into an OpenAI `chat.completion` named `model`, created at
/// `created` (Unix seconds), and returns its usage for metering.
///
/// `text` blocks are joined into `content`; `reasoningContent` text goes to
/// `reasoning_content`, and when Claude signed it (or redacted it) the blocks also go to
/// `thinking_blocks` with their signatures, which the Anthropic rendering turns back into
/// thinking blocks a client can send back on its next turn;
/// `toolUse` blocks become `tool_calls` with the input serialized as the arguments string.
/// Other blocks (citations, images) are skipped.
///
/// # Errors
/// `MalformedUpstream` when the body is not a JSON object with `output.message.content` and
/// `stopReason`, or a `toolUse` block lacks its id or name.
pub fn response_to_openai(
    body: &[u8],
    model: &str,
    created: u64,
) -> Result<(Value, Usage), TranslateError> {
    let resp: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
    let content = resp
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("response has no output.message.content"))?;
    let stop = resp
        .get("stopReason")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("response has no stopReason"))?;
    let usage = resp.get("usage").map(usage).unwrap_or_default();
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut signed = false;
    let mut calls = Vec::new();
    for block in content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(r) = block.pointer("/reasoningContent/reasoningText") {
            let thinking = r.get("text").and_then(Value::as_str).unwrap_or("");
            reasoning.push_str(thinking);
            let signature = r.get("signature").and_then(Value::as_str).unwrap_or("");
            signed |= !signature.is_empty();
            thinking_blocks
                .push(json!({ "type": "thinking", "thinking": thinking, "signature": signature }));
        } else if let Some(data) = block
            .pointer("/reasoningContent/redactedContent")
            .and_then(Value::as_str)
        {
            signed = true;
            thinking_blocks.push(json!({ "type": "redacted_thinking", "data": data }));
        } else if let Some(tool) = block.get("toolUse") {
            let id = tool.get("toolUseId").and_then(Value::as_str);
            let name = tool.get("name").and_then(Value::as_str);
            let (Some(id), Some(name)) = (id, name) else {
                return Err(malformed("toolUse block without toolUseId or name"));
            };
            let input = tool.get("input").cloned().unwrap_or_else(|| json!({}));
            calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": input.to_string() },
            }));
        }
    }
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    let content = if !text.is_empty() || calls.is_empty() {
        json!(text)
    } else {
        Value::Null
    };
    message.insert("content".into(), content);
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), json!(reasoning));
    }
    if signed {
        message.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    let total = usage.prompt_tokens + usage.completion_tokens;
    let out = json!({
        "id": completion_id(body),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish(stop).openai(),
        }],
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": total,
            "prompt_tokens_details": { "cached_tokens": usage.cached_tokens },
            "completion_tokens_details": { "reasoning_tokens": 0 },
        },
    });
    Ok((out, usage))
}
