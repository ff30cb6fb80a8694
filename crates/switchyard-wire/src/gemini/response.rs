//! Gemini `GenerateContentResponse` to an OpenAI `chat.completion`, plus the candidate reader
//! the stream translator shares.

use serde_json::{json, Map, Value};

use super::{
    completion_id, finish_reason, synthesize_call_id, unix_now, usage_from_metadata, usage_json,
};
use crate::{TranslateError, Usage};

/// Translates a (non-streaming) `generateContent` reply into an OpenAI `chat.completion`
/// named `model`, and returns its usage for metering.
///
/// One choice per candidate. Text parts are joined into `content`; parts with
/// `thought: true` (thought summaries, present when the request asked for them) go to
/// `reasoning_content`, the field DeepSeek and vLLM use; `functionCall` parts become
/// `tool_calls` with `arguments` as a JSON string. Other part kinds (executable code,
/// generated images) are skipped. A prompt blocked before generation (`promptFeedback.blockReason`
/// and no candidates) is a normal completion with empty content and `finish_reason:
/// "content_filter"`.
///
/// # Errors
/// `MalformedUpstream` if the body is not a JSON object, has neither candidates nor a block
/// reason, or a part is malformed.
pub fn response_to_openai(body: &[u8], model: &str) -> Result<(Value, Usage), TranslateError> {
    let resp: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
    let obj = resp
        .as_object()
        .ok_or_else(|| malformed("response is not a JSON object".to_owned()))?;
    let response_id = obj.get("responseId").and_then(Value::as_str);
    let usage = obj
        .get("usageMetadata")
        .map(usage_from_metadata)
        .unwrap_or_default();
    let candidates = obj.get("candidates").and_then(Value::as_array);

    let mut choices = Vec::new();
    for (pos, candidate) in candidates.into_iter().flatten().enumerate() {
        let cand = read_candidate(candidate, pos)?;
        let calls: Vec<Value> = cand
            .calls
            .iter()
            .enumerate()
            .map(|(i, call)| call.to_openai(response_id.unwrap_or(""), i))
            .collect();
        let reason = finish_reason(cand.finish.as_deref().unwrap_or("STOP"), !calls.is_empty());
        let mut message = Map::new();
        message.insert("role".to_owned(), json!("assistant"));
        let content = if !cand.text.is_empty() {
            json!(cand.text)
        } else if calls.is_empty() {
            json!("")
        } else {
            Value::Null
        };
        message.insert("content".to_owned(), content);
        if !cand.reasoning.is_empty() {
            message.insert("reasoning_content".to_owned(), json!(cand.reasoning));
        }
        if !calls.is_empty() {
            message.insert("tool_calls".to_owned(), Value::Array(calls));
        }
        choices.push(json!({
            "index": cand.index,
            "message": message,
            "logprobs": null,
            "finish_reason": reason,
        }));
    }
    if choices.is_empty() {
        if block_reason(obj).is_none() {
            return Err(malformed("response has no candidates".to_owned()));
        }
        choices.push(json!({
            "index": 0,
            "message": { "role": "assistant", "content": "" },
            "logprobs": null,
            "finish_reason": "content_filter",
        }));
    }
    let completion = json!({
        "id": completion_id(response_id),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": choices,
        "usage": usage_json(&usage),
    });
    Ok((completion, usage))
}

pub(super) fn malformed(message: String) -> TranslateError {
    TranslateError::MalformedUpstream(format!("gemini: {message}"))
}

/// `promptFeedback.blockReason`, set when the prompt itself was refused.
pub(super) fn block_reason(resp: &Map<String, Value>) -> Option<&str> {
    resp.get("promptFeedback")
        .and_then(|f| f.get("blockReason"))
        .and_then(Value::as_str)
}

/// What one candidate (or one streamed slice of it) says.
pub(super) struct Candidate {
    /// `index`, or the candidate's position when absent.
    pub(super) index: u64,
    pub(super) text: String,
    pub(super) reasoning: String,
    pub(super) calls: Vec<Call>,
    /// Raw `finishReason`, if this slice carries one.
    pub(super) finish: Option<String>,
}

/// One `functionCall` part.
pub(super) struct Call {
    id: Option<String>,
    name: String,
    /// `args` serialized, as OpenAI carries arguments.
    arguments: String,
    /// The part's `thoughtSignature`, which Gemini 3 needs back with the call.
    signature: Option<String>,
}

impl Call {
    /// OpenAI tool call (without the stream's `index`). The id is Gemini's when it sent one,
    /// else synthesized from the response id and the call's position. The thought signature
    /// rides in `extra_content.google.thought_signature`, where Google's own OpenAI
    /// compatibility layer puts it, so clients that keep the message send it back.
    pub(super) fn to_openai(&self, response_id: &str, index: usize) -> Value {
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| synthesize_call_id(response_id, index, &self.name, &self.arguments));
        let mut call = json!({
            "id": id,
            "type": "function",
            "function": { "name": self.name, "arguments": self.arguments },
        });
        if let (Some(sig), Some(obj)) = (&self.signature, call.as_object_mut()) {
            obj.insert(
                "extra_content".to_owned(),
                json!({ "google": { "thought_signature": sig } }),
            );
        }
        call
    }
}

/// Reads `content.parts` and `finishReason` of one candidate.
pub(super) fn read_candidate(candidate: &Value, pos: usize) -> Result<Candidate, TranslateError> {
    let index = candidate
        .get("index")
        .and_then(Value::as_u64)
        .unwrap_or(pos as u64);
    let mut out = Candidate {
        index,
        text: String::new(),
        reasoning: String::new(),
        calls: Vec::new(),
        finish: candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let parts = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array);
    for part in parts.into_iter().flatten() {
        let part = part
            .as_object()
            .ok_or_else(|| malformed("a content part is not an object".to_owned()))?;
        if let Some(call) = part.get("functionCall") {
            out.calls.push(read_call(call, part)?);
        } else if let Some(text) = part.get("text").and_then(Value::as_str) {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                out.reasoning.push_str(text);
            } else {
                out.text.push_str(text);
            }
        }
    }
    Ok(out)
}

fn read_call(call: &Value, part: &Map<String, Value>) -> Result<Call, TranslateError> {
    let name = call
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("functionCall has no name".to_owned()))?;
    let arguments = match call.get("args") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(args) => args.to_string(),
    };
    Ok(Call {
        id: call.get("id").and_then(Value::as_str).map(str::to_owned),
        name: name.to_owned(),
        arguments,
        signature: part
            .get("thoughtSignature")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}
