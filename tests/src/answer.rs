//! Reading what a client got, whole or streamed, in either inbound dialect, into facts both
//! dialects share (text, finish reason, tool calls, usage) plus a compact signature per stream
//! event, so tests can compare exact event sequences.

use serde_json::Value;

use crate::providers::Client;

/// What the client got, in terms common to both dialects.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Answer {
    /// Concatenated text.
    pub text: String,
    /// `finish_reason` (OpenAI) or `stop_reason` (Anthropic), as the client got it.
    pub finish: String,
    /// Anthropic `stop_sequence`.
    pub stop_sequence: Option<String>,
    /// Tool calls: id, name, arguments (parsed).
    pub tool_calls: Vec<(String, String, Value)>,
    /// Prompt/input and completion/output tokens as reported to the client (Anthropic input
    /// tokens exclude cache reads).
    pub usage: Option<(u64, u64)>,
    /// For streams: a signature per event (see [`signature`]); empty for whole bodies.
    pub events: Vec<String>,
}

impl Answer {
    /// Reads a whole response body in `client`'s shape.
    pub fn from_json(client: Client, v: &Value) -> Answer {
        let mut a = Answer::default();
        match client {
            Client::OpenAi => {
                assert_eq!(v["object"], "chat.completion", "{v}");
                let choice = &v["choices"][0];
                let msg = &choice["message"];
                assert_eq!(msg["role"], "assistant");
                a.text = msg["content"].as_str().unwrap_or_default().to_owned();
                a.finish = choice["finish_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                for c in msg["tool_calls"].as_array().into_iter().flatten() {
                    assert_eq!(c["type"], "function");
                    let args = c["function"]["arguments"]
                        .as_str()
                        .expect("arguments string");
                    a.tool_calls.push((
                        c["id"].as_str().unwrap_or_default().to_owned(),
                        c["function"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        serde_json::from_str(args).expect("arguments are JSON"),
                    ));
                }
                let u = &v["usage"];
                a.usage = u["prompt_tokens"]
                    .as_u64()
                    .zip(u["completion_tokens"].as_u64());
            }
            Client::Anthropic => {
                assert_eq!(v["type"], "message", "{v}");
                assert_eq!(v["role"], "assistant");
                for block in v["content"].as_array().expect("content array") {
                    match block["type"].as_str() {
                        Some("text") => a.text.push_str(block["text"].as_str().unwrap_or_default()),
                        Some("tool_use") => a.tool_calls.push((
                            block["id"].as_str().unwrap_or_default().to_owned(),
                            block["name"].as_str().unwrap_or_default().to_owned(),
                            block["input"].clone(),
                        )),
                        other => panic!("unexpected block {other:?} in {v}"),
                    }
                }
                a.finish = v["stop_reason"].as_str().unwrap_or_default().to_owned();
                a.stop_sequence = v["stop_sequence"].as_str().map(str::to_owned);
                let u = &v["usage"];
                a.usage = u["input_tokens"].as_u64().zip(u["output_tokens"].as_u64());
            }
        }
        a
    }

    /// Reads an event stream in `client`'s format, checking its framing.
    pub fn from_stream(client: Client, text: &str) -> Answer {
        let mut a = Answer::default();
        let mut args: Vec<String> = Vec::new();
        for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(d.to_owned());
                }
            }
            let data = data.unwrap_or_else(|| panic!("event without data: {block:?}"));
            if data == "[DONE]" {
                assert_eq!(client, Client::OpenAi, "[DONE] in an Anthropic stream");
                a.events.push("[DONE]".into());
                continue;
            }
            let v: Value = serde_json::from_str(&data).expect("event data is JSON");
            if client == Client::Anthropic {
                assert_eq!(
                    name.as_deref(),
                    v["type"].as_str(),
                    "event name = data.type"
                );
            }
            a.events.push(signature(client, &v));
            read_event(client, &v, &mut a, &mut args);
        }
        for (call, raw) in a.tool_calls.iter_mut().zip(args) {
            call.2 = serde_json::from_str(&raw).expect("streamed arguments are JSON");
        }
        a
    }
}

fn read_event(client: Client, v: &Value, a: &mut Answer, args: &mut Vec<String>) {
    match client {
        Client::OpenAi => {
            if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
                a.usage = u["prompt_tokens"]
                    .as_u64()
                    .zip(u["completion_tokens"].as_u64());
            }
            let Some(choice) = v["choices"].get(0) else {
                return;
            };
            let d = &choice["delta"];
            a.text.push_str(d["content"].as_str().unwrap_or_default());
            for c in d["tool_calls"].as_array().into_iter().flatten() {
                let i = c["index"].as_u64().expect("tool call index") as usize;
                if let Some(id) = c["id"].as_str() {
                    a.tool_calls.push((
                        id.into(),
                        c["function"]["name"].as_str().unwrap_or_default().into(),
                        Value::Null,
                    ));
                    args.push(String::new());
                }
                args[i].push_str(c["function"]["arguments"].as_str().unwrap_or_default());
            }
            if let Some(f) = choice["finish_reason"].as_str() {
                a.finish = f.to_owned();
            }
        }
        Client::Anthropic => match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                a.usage = v["message"]["usage"]["input_tokens"]
                    .as_u64()
                    .map(|i| (i, 0));
            }
            "content_block_start" if v["content_block"]["type"] == "tool_use" => {
                let b = &v["content_block"];
                a.tool_calls.push((
                    b["id"].as_str().unwrap_or_default().into(),
                    b["name"].as_str().unwrap_or_default().into(),
                    Value::Null,
                ));
                args.push(String::new());
            }
            "content_block_delta" => {
                let d = &v["delta"];
                a.text.push_str(d["text"].as_str().unwrap_or_default());
                if let Some(p) = d["partial_json"].as_str() {
                    args.last_mut()
                        .expect("a tool_use block is open")
                        .push_str(p);
                }
            }
            "message_delta" => {
                a.finish = v["delta"]["stop_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                a.stop_sequence = v["delta"]["stop_sequence"].as_str().map(str::to_owned);
                // Cumulative: message_delta may restate input tokens (translated streams
                // know them only at the end, so they come here).
                let u = &v["usage"];
                let input = u["input_tokens"].as_u64().or(a.usage.map(|(i, _)| i));
                if let (Some(i), Some(o)) = (input, u["output_tokens"].as_u64()) {
                    a.usage = Some((i, o));
                }
            }
            _ => {}
        },
    }
}

/// A compact description of one client event: for OpenAI `role`, `text:…`, `tool:NAME`,
/// `args:…`, `finish:…`, `usage` joined by `+`; for Anthropic the event type with the block or
/// delta type, e.g. `content_block_delta:text_delta:Hel`; `error:TYPE` for an error event in
/// either.
pub fn signature(client: Client, v: &Value) -> String {
    match client {
        // An in-stream error: `{"error":{type,…}}` for OpenAI clients.
        Client::OpenAi if v.get("error").is_some() => {
            format!("error:{}", v["error"]["type"].as_str().unwrap_or_default())
        }
        Client::OpenAi => {
            assert_eq!(v["object"], "chat.completion.chunk", "{v}");
            let mut parts = Vec::new();
            if let Some(choice) = v["choices"].get(0) {
                let d = &choice["delta"];
                if d.get("role").is_some() {
                    parts.push("role".to_owned());
                }
                if let Some(t) = d["content"].as_str() {
                    parts.push(format!("text:{t}"));
                }
                for c in d["tool_calls"].as_array().into_iter().flatten() {
                    if let Some(n) = c["function"]["name"].as_str() {
                        parts.push(format!("tool:{n}"));
                    }
                    if let Some(x) = c["function"]["arguments"]
                        .as_str()
                        .filter(|x| !x.is_empty())
                    {
                        parts.push(format!("args:{x}"));
                    }
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    parts.push(format!("finish:{f}"));
                }
            }
            if v.get("usage").is_some_and(|u| !u.is_null()) {
                parts.push("usage".into());
            }
            parts.join("+")
        }
        Client::Anthropic => {
            let ty = v["type"].as_str().unwrap_or_default();
            match ty {
                "content_block_start" => format!(
                    "{ty}:{}",
                    v["content_block"]["type"].as_str().unwrap_or_default()
                ),
                "content_block_delta" => {
                    let d = &v["delta"];
                    let dt = d["type"].as_str().unwrap_or_default();
                    let x = d["text"]
                        .as_str()
                        .or(d["partial_json"].as_str())
                        .unwrap_or_default();
                    format!("{ty}:{dt}:{x}")
                }
                "message_delta" => format!(
                    "{ty}:{}",
                    v["delta"]["stop_reason"].as_str().unwrap_or_default()
                ),
                "error" => format!("error:{}", v["error"]["type"].as_str().unwrap_or_default()),
                _ => ty.to_owned(),
            }
        }
    }
}

/// The expected OpenAI client events for a text answer made of `pieces` (no usage chunk).
pub fn openai_text_events(pieces: &[&str]) -> Vec<String> {
    let mut e = vec!["role+text:".to_owned()];
    e.extend(pieces.iter().map(|p| format!("text:{p}")));
    e.push("finish:stop".into());
    e.push("[DONE]".into());
    e
}

/// The expected events of a text answer made of `pieces` that ends cleanly, in `client`'s
/// format.
pub fn text_events(client: Client, pieces: &[&str]) -> Vec<String> {
    match client {
        Client::OpenAi => openai_text_events(pieces),
        Client::Anthropic => anthropic_text_events(pieces, "end_turn"),
    }
}

/// The expected Anthropic client events for a text answer made of `pieces`.
pub fn anthropic_text_events(pieces: &[&str], stop: &str) -> Vec<String> {
    let mut e = vec![
        "message_start".to_owned(),
        "content_block_start:text".to_owned(),
    ];
    e.extend(
        pieces
            .iter()
            .map(|p| format!("content_block_delta:text_delta:{p}")),
    );
    e.push("content_block_stop".into());
    e.push(format!("message_delta:{stop}"));
    e.push("message_stop".into());
    e
}

/// The finish reason `client` should see for a canonical reason (`stop`, `length`,
/// `tool_calls`).
pub fn finish_for(client: Client, canonical: &str) -> &'static str {
    match (client, canonical) {
        (Client::OpenAi, "stop") => "stop",
        (Client::OpenAi, "length") => "length",
        (Client::OpenAi, "tool_calls") => "tool_calls",
        (Client::Anthropic, "stop") => "end_turn",
        (Client::Anthropic, "length") => "max_tokens",
        (Client::Anthropic, "tool_calls") => "tool_use",
        _ => panic!("no mapping for {canonical}"),
    }
}

/// Reads an error answer: its status and `(type, message)` from the client's error shape.
pub async fn error_of(client: Client, resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.expect("error body is JSON");
    match client {
        Client::OpenAi => {
            let e = &v["error"];
            assert!(e.get("param").is_some() && e.get("code").is_some(), "{v}");
            (
                status,
                e["type"].as_str().unwrap_or_default().into(),
                e["message"].as_str().unwrap_or_default().into(),
            )
        }
        Client::Anthropic => {
            assert_eq!(v["type"], "error", "{v}");
            let e = &v["error"];
            (
                status,
                e["type"].as_str().unwrap_or_default().into(),
                e["message"].as_str().unwrap_or_default().into(),
            )
        }
    }
}
