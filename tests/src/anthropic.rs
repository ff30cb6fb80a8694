//! Anthropic Messages wire fixtures, shaped like recorded API transcripts: the `message`
//! object, the event stream (`message_start` … `message_stop`, with `ping`), and the
//! `{"type":"error","error":{type,message}}` error body and stream event.

use serde_json::{json, Value};

/// A `message` answering `text` with this usage.
pub fn message(text: &str, input_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": output_tokens, "service_tier": "standard"}
    })
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The events of a streamed answer made of `pieces`.
pub fn stream(pieces: &[&str], input_tokens: u64, output_tokens: u64) -> Vec<String> {
    let block = json!({"type": "text", "text": ""});
    one_block(
        block,
        "text_delta",
        "text",
        pieces,
        "end_turn",
        (input_tokens, output_tokens),
    )
}

/// A stream of one content block `block`: `message_start`, the block's start, a `ping`, a
/// `delta_type` delta per piece (the piece in its `field`), the block's stop, then
/// `message_delta` with `stop_reason` and `message_stop`.
fn one_block(
    block: Value,
    delta_type: &str,
    field: &str,
    pieces: &[&str],
    stop_reason: &str,
    (input_tokens, output_tokens): (u64, u64),
) -> Vec<String> {
    let mut events = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1, "service_tier": "standard"}}}),
        ),
        event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": block}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    for p in pieces {
        events.push(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": delta_type, field: p}}),
        ));
    }
    events.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    events
}

/// Anthropic's error body (`overloaded_error`, `rate_limit_error`, `api_error`…).
pub fn error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// The `error` event Anthropic sends mid-stream.
pub fn error_event(kind: &str, message: &str) -> String {
    event("error", error(kind, message))
}

/// A Messages request body.
pub fn request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 256,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": stream
    })
}

/// A `message` stopped for `stop_reason` (`max_tokens`, `stop_sequence` with `stop_sequence`).
pub fn message_stopping(
    text: &str,
    stop_reason: &str,
    stop_sequence: Option<&str>,
    input_tokens: u64,
    output_tokens: u64,
) -> Value {
    let mut v = message(text, input_tokens, output_tokens);
    v["stop_reason"] = json!(stop_reason);
    v["stop_sequence"] = json!(stop_sequence);
    v
}

/// A `message` with one `tool_use` block (`stop_reason: tool_use`).
pub fn tool_use(
    id: &str,
    name: &str,
    input: Value,
    input_tokens: u64,
    output_tokens: u64,
) -> Value {
    let mut v = message("", input_tokens, output_tokens);
    v["content"] = json!([{"type": "tool_use", "id": id, "name": name, "input": input}]);
    v["stop_reason"] = json!("tool_use");
    v
}

/// A streamed `tool_use` block whose input arrives as `input_json_delta` pieces.
pub fn tool_use_stream(
    id: &str,
    name: &str,
    pieces: &[&str],
    input_tokens: u64,
    output_tokens: u64,
) -> Vec<String> {
    let block = json!({"type": "tool_use", "id": id, "name": name, "input": {}});
    let mut events = one_block(
        block,
        "input_json_delta",
        "partial_json",
        pieces,
        "tool_use",
        (input_tokens, output_tokens),
    );
    // A tool_use block as recorded: no ping.
    events.remove(2);
    events
}
