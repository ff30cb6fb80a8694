use serde_json::{json, Value};

use crate::{
    decode_response, encode_request, ChatRequest, Dialect, EncodeTarget, StreamTranslator,
    TranslateError,
};

fn parse(body: Value) -> Result<ChatRequest, TranslateError> {
    ChatRequest::parse(Dialect::OpenAiResponses, body.to_string().as_bytes())
}

fn target(dialect: Dialect, strict: bool) -> EncodeTarget<'static> {
    EncodeTarget {
        dialect,
        upstream_model: "up-model",
        default_max_output_tokens: Some(1000),
        strict_params: strict,
        legacy_max_tokens: false,
        stream_usage: true,
    }
}

fn encode(
    body: Value,
    dialect: Dialect,
    strict: bool,
) -> Result<(Value, Vec<String>), TranslateError> {
    let req = parse(body)?;
    let enc = encode_request(&req, &target(dialect, strict))?;
    Ok((
        serde_json::from_slice(&enc.body).unwrap(),
        enc.dropped_params,
    ))
}

#[test]
fn stateful_requests_are_refused_with_the_parameter_named() {
    for (body, param) in [
        (json!({"model": "m", "input": "hi", "store": true}), "store"),
        (
            json!({"model": "m", "input": "hi", "previous_response_id": "resp_1"}),
            "previous_response_id",
        ),
        (
            json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}),
            "input[0]",
        ),
        (json!({"model": "m"}), "input"),
    ] {
        match parse(body) {
            Err(TranslateError::InvalidRequest {
                param: Some(p),
                message,
            }) => {
                assert_eq!(p, param);
                assert!(!message.is_empty());
            }
            other => panic!("{param}: {other:?}"),
        }
    }
    let ok = parse(json!({"model": "m", "input": "hi", "store": false, "max_output_tokens": 50}))
        .unwrap();
    assert_eq!(ok.max_output_tokens, Some(50));
    assert!(ok.include_usage);
}

#[test]
fn a_native_upstream_gets_the_body_with_only_the_model_renamed() {
    let body = json!({"model": "route", "input": "hi", "tools": [{"type": "web_search"}], "include": ["reasoning.encrypted_content"], "store": false});
    let (out, dropped) = encode(body.clone(), Dialect::OpenAiResponses, true).unwrap();
    let mut expected = body;
    expected["model"] = json!("up-model");
    assert_eq!(out, expected);
    assert!(dropped.is_empty());
}

#[test]
fn items_become_chat_messages() {
    let body = json!({
        "model": "m",
        "instructions": "be brief",
        "input": [
            {"role": "developer", "content": "dev rule"},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "calling", "annotations": []}]},
            {"type": "function_call", "call_id": "call_a", "name": "f", "arguments": "{\"x\":1}"},
            {"type": "function_call", "call_id": "call_b", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "1"},
            {"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "2"}]}
        ],
        "max_output_tokens": 99,
        "reasoning": {"effort": "low", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}},
        "tools": [{"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true}],
        "tool_choice": {"type": "function", "name": "f"},
        "parallel_tool_calls": false,
        "stream": true
    });
    let (out, dropped) = encode(body, Dialect::OpenAi, false).unwrap();
    assert!(dropped.is_empty(), "{dropped:?}");
    assert_eq!(out["model"], "up-model");
    assert_eq!(
        out["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "system", "content": "dev rule"},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
            ]},
            {"role": "assistant", "content": "calling", "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
                {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
            {"role": "tool", "tool_call_id": "call_b", "content": "2"}
        ])
    );
    assert_eq!(out["max_completion_tokens"], 99);
    assert_eq!(out["reasoning_effort"], "low");
    assert_eq!(
        out["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}})
    );
    assert_eq!(
        out["tools"],
        json!([{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true}}])
    );
    assert_eq!(
        out["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(out["parallel_tool_calls"], false);
    assert_eq!(out["stream_options"], json!({"include_usage": true}));
}

#[test]
fn built_in_tools_are_dropped_and_named_or_refused_under_strict() {
    let body = json!({"model": "m", "input": "hi", "tools": [{"type": "web_search"}, {"type": "function", "name": "f"}], "truncation": "auto"});
    let (out, dropped) = encode(body.clone(), Dialect::Anthropic, false).unwrap();
    assert_eq!(
        dropped,
        vec!["truncation".to_owned(), "tools[0]".to_owned()]
    );
    assert_eq!(out["tools"][0]["name"], "f");
    assert_eq!(out["max_tokens"], 1000);
    match encode(body, Dialect::Anthropic, true) {
        Err(TranslateError::UnsupportedParam { param, .. }) => assert_eq!(param, "truncation"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reaches_anthropic_and_gemini_through_the_canonical_form() {
    let body = json!({"model": "m", "instructions": "sys", "input": "hi", "max_output_tokens": 64, "temperature": 0.5});
    let (a, _) = encode(body.clone(), Dialect::Anthropic, false).unwrap();
    assert_eq!(a["system"][0]["text"], "sys");
    assert_eq!(
        a["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    );
    assert_eq!(a["max_tokens"], 64);
    let (g, _) = encode(body, Dialect::Gemini, false).unwrap();
    assert_eq!(g["systemInstruction"]["parts"][0]["text"], "sys");
    assert_eq!(g["generationConfig"]["maxOutputTokens"], 64);
}

#[test]
fn a_chat_completion_becomes_a_response_object() {
    let chat = json!({
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 7, "model": "gpt-x",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "hello", "reasoning_content": "thought",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
        }}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                  "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 2}}
    });
    let out = decode_response(
        Dialect::OpenAi,
        Dialect::OpenAiResponses,
        chat.to_string().as_bytes(),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["id"], "resp_abc");
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["created_at"], 7);
    assert_eq!(
        v["output"][0],
        json!({"id": "rs_abc", "type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]})
    );
    assert_eq!(
        v["output"][1]["content"][0],
        json!({"type": "output_text", "annotations": [], "logprobs": [], "text": "hello"})
    );
    assert_eq!(
        v["output"][2],
        json!({"id": "fc_abc_0", "type": "function_call", "status": "completed", "arguments": "{}", "call_id": "call_1", "name": "f"})
    );
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0}, "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 15})
    );
    assert_eq!(out.usage.unwrap().cached_tokens, 4);
    assert_eq!(v["tools"], json!([]));
    assert_eq!(v["tool_choice"], "auto");
}

#[test]
fn a_length_stop_is_incomplete() {
    let chat = json!({"id": "x", "model": "m", "choices": [{"finish_reason": "length", "message": {"content": "trunc"}}]});
    let out = decode_response(
        Dialect::OpenAi,
        Dialect::OpenAiResponses,
        chat.to_string().as_bytes(),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(v["status"], "incomplete");
    assert_eq!(
        v["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(v["output"][0]["status"], "incomplete");
}

/// (event name, data) pairs of an SSE body.
fn events(bytes: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(bytes).unwrap();
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (name, serde_json::from_str(&data).unwrap())
        })
        .collect()
}

const ANTHROPIC_TOOL_STREAM: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get\",\"input\":{}}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

#[test]
fn an_anthropic_stream_becomes_the_responses_event_sequence() {
    let mut tr =
        StreamTranslator::new(Dialect::Anthropic, Dialect::OpenAiResponses, true).with_created(5);
    let mut out = Vec::new();
    // Split anywhere: byte by byte.
    for b in ANTHROPIC_TOOL_STREAM.as_bytes() {
        tr.push(std::slice::from_ref(b), &mut out).unwrap();
    }
    tr.finish(&mut out).unwrap();
    let evs = events(&out);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, (name, data)) in evs.iter().enumerate() {
        assert_eq!(data["type"], name.as_str());
        assert_eq!(data["sequence_number"], i as u64, "{name}");
    }
    let done = &evs.last().unwrap().1["response"];
    assert_eq!(done["id"], "resp_01");
    assert_eq!(done["status"], "completed");
    assert_eq!(done["created_at"], 5);
    assert_eq!(done["model"], "claude-x");
    assert_eq!(done["output"][1]["content"][0]["text"], "Hi");
    assert_eq!(done["output"][2]["arguments"], "{\"a\":1}");
    assert_eq!(done["output"][2]["call_id"], "toolu_1");
    assert_eq!(done["usage"]["input_tokens"], 12);
    assert_eq!(done["usage"]["output_tokens"], 20);
    assert_eq!(evs[0].1["response"]["status"], "in_progress");
    assert_eq!(evs[0].1["response"]["output"], json!([]));
    assert_eq!(tr.usage().unwrap().prompt_tokens, 12);
}

#[test]
fn an_upstream_error_mid_stream_is_an_error_event_then_failed() {
    let stream = concat!(
        "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
    );
    let mut tr = StreamTranslator::new(Dialect::OpenAi, Dialect::OpenAiResponses, true);
    let mut out = Vec::new();
    tr.push(stream.as_bytes(), &mut out).unwrap();
    let evs = events(&out);
    let n = evs.len();
    assert_eq!(evs[n - 2].0, "error");
    assert_eq!(evs[n - 2].1["message"], "overloaded");
    assert_eq!(evs[n - 1].0, "response.failed");
    assert_eq!(evs[n - 1].1["response"]["error"]["code"], "server_error");
    assert_eq!(evs[n - 1].1["sequence_number"], (n - 1) as u64);
    assert_eq!(tr.upstream_error(), Some("overloaded"));
}

#[test]
fn a_native_stream_passes_through_and_is_metered() {
    let stream = concat!(
        "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\"}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"x\"}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_1\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"input_tokens_details\":{\"cached_tokens\":1},\"output_tokens_details\":{\"reasoning_tokens\":2}}}}\n\n",
    );
    let mut tr = StreamTranslator::new(Dialect::OpenAiResponses, Dialect::OpenAiResponses, true);
    let mut out = Vec::new();
    tr.push(stream.as_bytes(), &mut out).unwrap();
    tr.finish(&mut out).unwrap();
    assert_eq!(out, stream.as_bytes());
    let u = tr.usage().unwrap();
    assert_eq!(
        (
            u.prompt_tokens,
            u.completion_tokens,
            u.cached_tokens,
            u.reasoning_tokens
        ),
        (3, 4, 1, 2)
    );
    assert!(tr.is_done());
}

/// Every byte of a translated stream and reply (`BLESS=1` rewrites the expected files): the
/// `response` objects are written field by field, so key order, echoed values (the stream) and
/// the defaults of keys the request left out (the reply) are pinned here.
#[test]
fn responses_stream_and_reply_bytes_are_pinned() {
    let request = json!({
        "model": "m", "input": "hi", "instructions": "be brief", "temperature": 0.5,
        "tools": [{"type": "function", "name": "get", "parameters": {"type": "object"}}],
        "metadata": {"k": "v"}, "reasoning": {"effort": "low"}
    });
    let echo = super::Echo::from_request(request.as_object().unwrap());
    let mut tr = StreamTranslator::new(Dialect::Anthropic, Dialect::OpenAiResponses, true)
        .with_created(5)
        .with_echo(echo.clone());
    let mut stream = Vec::new();
    tr.push(ANTHROPIC_TOOL_STREAM.as_bytes(), &mut stream)
        .unwrap();
    tr.finish(&mut stream).unwrap();
    let chat = json!({
        "id": "chatcmpl-abc", "created": 7, "model": "gpt-x",
        "choices": [{"index": 0, "finish_reason": "length", "message": {
            "role": "assistant", "content": "hello", "reasoning_content": "thought"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    });
    // The reply echoes nothing: every default is written.
    let none = super::Echo::default();
    let reply = super::decode(
        Dialect::OpenAi,
        chat.to_string().as_bytes(),
        9,
        "gpt-x",
        &none,
    )
    .unwrap()
    .body;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/responses");
    for (file, actual) in [
        ("anthropic_tool_stream.sse", stream),
        ("chat_reply.json", reply),
    ] {
        let path = format!("{dir}/{file}");
        if std::env::var_os("BLESS").is_some() {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (BLESS=1)"));
        assert_eq!(
            String::from_utf8_lossy(&actual),
            String::from_utf8_lossy(&want),
            "{path}"
        );
    }
}

/// An OpenAI chat stream cut by the output cap (reasoning, escaped text, a call whose id the
/// upstream left empty), one failed mid-stream, and a reply with a refusal and calls: the
/// item, part and `.done` events and every `response` object pinned byte for byte
/// (`BLESS=1` rewrites the expected files).
#[test]
fn incomplete_and_failed_streams_and_a_refusal_reply_are_pinned() {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-xyz\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let incomplete = [
        chunk(r#"{"role":"assistant","reasoning_content":"think"}"#, "null"),
        chunk(r#"{"content":"Hel"}"#, "null"),
        chunk(r#"{"content":"lo \"q\"\n\u00e9"}"#, "null"),
        chunk(
            r#"{"tool_calls":[{"index":0,"id":"","type":"function","function":{"name":"f","arguments":"{\"a\""}}]}"#,
            "null",
        ),
        chunk(
            r#"{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}"#,
            "null",
        ),
        chunk(r#"{"content":"more"}"#, r#""length""#),
        "data: {\"id\":\"chatcmpl-xyz\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9,\"total_tokens\":12}}\n\n".to_owned(),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let failed = [
        chunk(r#"{"role":"assistant","content":"a"}"#, "null"),
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n".to_owned(),
    ]
    .concat();
    let echo = super::Echo::from_request(
        json!({"model": "m", "input": "hi", "max_output_tokens": 9, "tool_choice": "required"})
            .as_object()
            .unwrap(),
    );
    let mut streams = Vec::new();
    for body in [&incomplete, &failed] {
        let mut tr = StreamTranslator::new(Dialect::OpenAi, Dialect::OpenAiResponses, true)
            .with_created(5)
            .with_echo(echo.clone());
        let mut out = Vec::new();
        tr.push(body.as_bytes(), &mut out).unwrap();
        let _ = tr.finish(&mut out);
        streams.push(out);
    }
    let chat = json!({
        "id": "chatcmpl-r", "created": 7, "model": "gpt-x",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "", "refusal": "I can't",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{\"x\":[1]}"}}
            ]}}]
    });
    let reply = super::decode(
        Dialect::OpenAi,
        chat.to_string().as_bytes(),
        9,
        "gpt-x",
        &echo,
    )
    .unwrap()
    .body;
    let failed = streams.pop().unwrap();
    let incomplete = streams.pop().unwrap();
    for (file, actual) in [
        ("openai_incomplete_stream.sse", incomplete),
        ("openai_failed_stream.sse", failed),
        ("chat_refusal_reply.json", reply),
    ] {
        assert_pinned(file, &actual);
    }
}

/// `actual` against `tests/fixtures/responses/<file>`, or written there under `BLESS=1`.
fn assert_pinned(file: &str, actual: &[u8]) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/responses");
    let path = format!("{dir}/{file}");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (BLESS=1)"));
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&want),
        "{path}"
    );
}
