//! OpenAI chat-completions wire fixtures, shaped exactly like recorded API transcripts
//! (`chat.completion`, `chat.completion.chunk` with the usage chunk and `data: [DONE]`, and the
//! `{"error":{message,type,param,code}}` error body).

use serde_json::{json, Value};

/// A `chat.completion` answering `content` with this usage.
pub fn completion(content: &str, prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": usage(prompt_tokens, completion_tokens),
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306"
    })
}

/// A `chat.completion.chunk` event with these `choices`.
fn chunk_with(choices: Value) -> Value {
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": choices
    })
}

fn chunk(delta: Value, finish: Value) -> String {
    let v = chunk_with(
        json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]),
    );
    format!("data: {v}\n\n")
}

/// The events of a streamed answer made of `pieces`, ending with the usage chunk (as OpenAI
/// sends when `stream_options.include_usage` is set) and `data: [DONE]`.
pub fn stream(pieces: &[&str], prompt_tokens: u64, completion_tokens: u64) -> Vec<String> {
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    for p in pieces {
        events.push(chunk(json!({"content": p}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    let mut usage_chunk = chunk_with(json!([]));
    usage_chunk["usage"] = usage(prompt_tokens, completion_tokens);
    events.push(format!("data: {usage_chunk}\n\n"));
    events.push("data: [DONE]\n\n".to_string());
    events
}

/// OpenAI's error body.
pub fn error(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// A chat request body.
pub fn request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello."}
        ],
        "stream": stream
    })
}

/// A `chat.completion` with this `finish_reason` (`stop`, `length`, …).
pub fn completion_finishing(content: &str, finish: &str, prompt: u64, completion: u64) -> Value {
    let mut v = self::completion(content, prompt, completion);
    v["choices"][0]["finish_reason"] = json!(finish);
    v
}

/// A `chat.completion` calling one tool (`finish_reason: tool_calls`, `content: null`).
pub fn tool_call(id: &str, name: &str, arguments: &str, prompt: u64, completion: u64) -> Value {
    let mut v = self::completion("", prompt, completion);
    v["choices"][0]["message"]["content"] = Value::Null;
    v["choices"][0]["message"]["tool_calls"] = json!([{
        "id": id, "type": "function", "function": {"name": name, "arguments": arguments}
    }]);
    v["choices"][0]["finish_reason"] = json!("tool_calls");
    v
}

/// A streamed tool call: the id and name first, then the arguments in `pieces`, then
/// `finish_reason: tool_calls`, the usage chunk and `[DONE]`.
pub fn tool_call_stream(
    id: &str,
    name: &str,
    pieces: &[&str],
    prompt: u64,
    completion: u64,
) -> Vec<String> {
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}], "refusal": null}),
        Value::Null,
    )];
    for p in pieces {
        events.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
            Value::Null,
        ));
    }
    events.push(chunk(json!({}), json!("tool_calls")));
    let mut tail = self::stream(&[], prompt, completion);
    // The usage chunk and [DONE] of a plain stream.
    events.extend(tail.split_off(tail.len() - 2));
    events
}

/// A `usage` object as OpenAI reports it, details included.
fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    })
}
