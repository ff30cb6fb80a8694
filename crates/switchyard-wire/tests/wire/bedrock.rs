//! Bedrock Converse / ConverseStream translation, checked against botocore's bedrock-runtime
//! service model: every request the gateway encodes and every reply the tests feed it is
//! validated against the model's shapes, and the error table against its exception shapes.

use serde_json::{json, Value};
use switchyard_wire::bedrock::{
    encode_frame, error_status, error_to_client, error_type, model_path, stream_exception_status,
};
use switchyard_wire::{
    decode_response_at, encode_request, ChatRequest, Dialect, EncodeTarget, StreamTranslator,
    TranslateError,
};

pub(crate) const CLAUDE: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
pub(crate) const NOVA: &str = "amazon.nova-pro-v1:0";

pub(crate) fn encode(dialect: Dialect, model: &str, body: Value) -> (Value, Vec<String>) {
    let req = ChatRequest::parse(dialect, &serde_json::to_vec(&body).unwrap()).unwrap();
    let enc = encode_request(
        &req,
        &EncodeTarget {
            dialect: Dialect::Bedrock,
            upstream_model: model,
            default_max_output_tokens: None,
            strict_params: false,
            legacy_max_tokens: false,
            stream_usage: true,
        },
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&enc.body).unwrap();
    crate::botocore::Model::load().check("ConverseRequest", &v);
    (v, enc.dropped_params)
}

#[test]
fn error_types_and_statuses_are_botocores() {
    let model = crate::botocore::Model::load();
    let exceptions = model.exceptions();
    assert_eq!(exceptions.len(), 12);
    for (name, status) in &exceptions {
        assert_eq!(error_status(name), Some(*status), "{name}");
    }
    // The stream's exception members use the same shapes.
    for member in [
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "serviceUnavailableException",
    ] {
        let shape = model.member_shape("ConverseStreamOutput", member);
        assert_eq!(Some(stream_exception_status(member)), error_status(&shape));
    }
    assert_eq!(error_status("ModelNotReadyException"), Some(429));
    assert_eq!(error_status("NoSuchThing"), None);
}

#[test]
fn error_type_comes_from_the_header_or_the_body() {
    let header = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/";
    assert_eq!(
        error_type(Some(header), b"{}").as_deref(),
        Some("ThrottlingException")
    );
    let body = br#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}"#;
    assert_eq!(
        error_type(None, body).as_deref(),
        Some("ValidationException")
    );
    assert_eq!(error_type(None, b"<html>").as_deref(), None);

    let out = error_to_client(
        Dialect::OpenAi,
        429,
        Some(header),
        br#"{"message":"Too many requests, please wait before trying again."}"#,
    );
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["code"], "ThrottlingException");
    assert_eq!(
        v["error"]["message"],
        "Too many requests, please wait before trying again."
    );
    let out = error_to_client(Dialect::Anthropic, 400, None, body);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["message"], "bad");
}

#[test]
fn model_ids_are_one_encoded_label() {
    assert_eq!(
        model_path(CLAUDE, false).unwrap(),
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    );
    assert_eq!(
        model_path("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0", true).unwrap(),
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
    );
    for bad in ["", "..", "a%2Fb", "a b", "x\n"] {
        assert!(model_path(bad, false).is_err(), "{bad:?}");
    }
}

#[test]
fn openai_chat_becomes_a_converse_request() {
    let (v, dropped) = encode(
        Dialect::OpenAi,
        NOVA,
        json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "max_completion_tokens": 256,
            "temperature": 0.2,
            "top_p": 0.9,
            "stop": "END",
            "seed": 7,
            "metadata": {"team": "search"},
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}
        }),
    );
    assert_eq!(
        v,
        json!({
            "system": [{"text": "You are terse."}],
            "messages": [{"role": "user", "content": [
                {"text": "What is this?"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
            ]}],
            "inferenceConfig": {"maxTokens": 256, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
            "requestMetadata": {"team": "search"},
            "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{\"type\":\"object\"}", "name": "answer"}}}}
        })
    );
    assert_eq!(dropped, ["seed"]);
}

#[test]
fn tool_round_trip_uses_tool_use_and_tool_result() {
    let (v, _) = encode(
        Dialect::OpenAi,
        CLAUDE,
        json!({
            "model": "m",
            "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "tooluse_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "tooluse_1", "content": "18C"},
                {"role": "tool", "tool_call_id": "tooluse_2", "content": "24C"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "tool_choice": "required"
        }),
    );
    assert_eq!(
        v["messages"][1]["content"][1],
        json!({"toolUse": {"toolUseId": "tooluse_2", "name": "get_weather", "input": {"city": "Rome"}}})
    );
    assert_eq!(
        v["messages"].as_array().unwrap().len(),
        3,
        "both results share one user turn"
    );
    assert_eq!(
        v["messages"][2]["content"][0],
        json!({"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18C"}]}})
    );
    assert_eq!(v["toolConfig"]["toolChoice"], json!({"any": {}}));
    assert_eq!(
        v["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["required"],
        json!(["city"])
    );
}

#[test]
fn anthropic_thinking_and_top_k_reach_claude_in_additional_fields() {
    let body = json!({
        "model": "m",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "Think first."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "2+2?"}]}],
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "top_k": 5
    });
    let (v, dropped) = encode(Dialect::Anthropic, CLAUDE, body.clone());
    assert_eq!(
        v["additionalModelRequestFields"],
        json!({"thinking": {"type": "enabled", "budget_tokens": 2000}, "top_k": 5})
    );
    assert_eq!(v["inferenceConfig"], json!({"maxTokens": 4096}));
    assert!(dropped.is_empty(), "{dropped:?}");
    // Other model families have no such fields: dropped and listed.
    let (v, dropped) = encode(Dialect::Anthropic, NOVA, body);
    assert!(v.get("additionalModelRequestFields").is_none());
    assert_eq!(dropped, ["top_k", "thinking"]);
}

#[test]
fn http_image_links_are_refused_clearly() {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]});
    let req = ChatRequest::parse(Dialect::OpenAi, &serde_json::to_vec(&body).unwrap()).unwrap();
    let target = EncodeTarget {
        dialect: Dialect::Bedrock,
        upstream_model: NOVA,
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    };
    let err = encode_request(&req, &target).unwrap_err();
    assert!(
        matches!(err, TranslateError::InvalidRequest { .. }),
        "{err:?}"
    );
}

#[test]
fn replies_become_openai_and_anthropic_answers() {
    let model = crate::botocore::Model::load();
    let text = crate::common::fixture("bedrock/response_text.json");
    let tools = crate::common::fixture("bedrock/response_tools.json");
    for body in [&text, &tools] {
        model.check("ConverseResponse", &serde_json::from_slice(body).unwrap());
    }
    let r = decode_response_at(Dialect::Bedrock, Dialect::OpenAi, &text, 7).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "Hello! How can I help you today?"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["model"], "");
    assert_eq!(v["created"], 7);
    // inputTokens leaves out cache reads and writes; OpenAI's prompt_tokens includes them.
    assert_eq!(v["usage"]["prompt_tokens"], 12 + 100 + 20);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
    let u = r.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.cached_tokens),
        (132, 9, 100)
    );

    let r = decode_response_at(Dialect::Bedrock, Dialect::Anthropic, &tools, 0).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["stop_reason"], "tool_use");
    let blocks = v["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "thinking");
    assert_eq!(blocks[1], json!({"type": "text", "text": "Let me check."}));
    assert_eq!(blocks[2]["type"], "tool_use");
    assert_eq!(blocks[2]["id"], "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    assert_eq!(blocks[2]["input"], json!({"city": "Paris"}));
    // Claude's signature reaches the Anthropic client, which must send it back.
    assert_eq!(
        blocks[0],
        json!({"type": "thinking", "thinking": "The user wants the weather in Paris.", "signature": "ErUBCkYIBhgCIkD"})
    );
    let r = decode_response_at(Dialect::Bedrock, Dialect::OpenAi, &tools, 0).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        v["choices"][0]["message"]["thinking_blocks"][0]["signature"],
        "ErUBCkYIBhgCIkD"
    );
}

/// The stream fixture's events (checked against their botocore shapes), framed as AWS does.
fn frames(name: &str) -> Vec<Vec<u8>> {
    let model = crate::botocore::Model::load();
    let events: Vec<Value> = serde_json::from_slice(&crate::common::fixture(name)).unwrap();
    events
        .iter()
        .map(|e| {
            let (message_type, kind) = (
                e["message_type"].as_str().unwrap(),
                e["type"].as_str().unwrap(),
            );
            let mut payload = e["payload"].clone();
            let shape = model.member_shape("ConverseStreamOutput", kind);
            model.check(&shape, &payload);
            // Real events carry a random-length `p` padding field; the decoder must ignore it.
            payload["p"] = json!("abcdefghijklmnopqrstu");
            encode_frame(message_type, kind, &serde_json::to_vec(&payload).unwrap())
        })
        .collect()
}

pub(crate) fn run_split(
    client: Dialect,
    bytes: &[u8],
    split: usize,
) -> (Vec<u8>, Result<(), TranslateError>, StreamTranslator) {
    let mut t = StreamTranslator::new(Dialect::Bedrock, client, true).with_model(CLAUDE);
    let mut out = Vec::new();
    for piece in bytes.chunks(split.max(1)) {
        t.push(piece, &mut out).unwrap();
    }
    let fin = t.finish(&mut out);
    (out, fin, t)
}

#[test]
fn stream_text_is_the_same_at_every_chunk_boundary() {
    let bytes = frames("bedrock/stream_text.json").concat();
    let (whole, fin, t) = run_split(Dialect::OpenAi, &bytes, bytes.len());
    fin.unwrap();
    let text = String::from_utf8(whole.clone()).unwrap();
    assert!(text.contains(r#""content":"Waves""#), "{text}");
    assert!(text.contains(r#""finish_reason":"stop""#), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let u = t.usage().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.cached_tokens),
        (25 + 8, 12, 8)
    );
    for split in [1, 2, 3, 7, 13, 64] {
        let (out, fin, _) = run_split(Dialect::OpenAi, &bytes, split);
        fin.unwrap();
        assert_eq!(out, whole, "split {split}");
    }
    let (out, fin, _) = run_split(Dialect::Anthropic, &bytes, 5);
    fin.unwrap();
    let text = String::from_utf8(out).unwrap();
    for want in [
        "event: message_start",
        "\"text\":\"Waves\"",
        "\"stop_reason\":\"end_turn\"",
        "event: message_stop",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
}

#[test]
fn stream_tool_calls_keep_ids_names_and_arguments() {
    let bytes = frames("bedrock/stream_tools.json").concat();
    let (out, fin, _) = run_split(Dialect::OpenAi, &bytes, 11);
    fin.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""id":"tooluse_abc","type":"function","function":{"name":"get_weather""#),
        "{text}"
    );
    assert!(
        text.contains(r#"{\"city\""#) && text.contains(r#"\"Paris\"}"#),
        "{text}"
    );
    assert!(text.contains(r#""finish_reason":"tool_calls""#), "{text}");
    let (out, fin, _) = run_split(Dialect::Anthropic, &bytes, 11);
    fin.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""type":"tool_use","id":"tooluse_abc","name":"get_weather""#),
        "{text}"
    );
    assert!(text.contains(r#""stop_reason":"tool_use""#), "{text}");
}

#[test]
fn a_mid_stream_exception_ends_the_stream_loudly() {
    let mut f = frames("bedrock/stream_text.json");
    f.truncate(3);
    let exception = br#"{"message":"Too many tokens, please wait before trying again."}"#;
    f.push(encode_frame("exception", "throttlingException", exception));
    f.push(encode_frame(
        "event",
        "contentBlockDelta",
        br#"{"contentBlockIndex":0,"delta":{"text":"ignored"}}"#,
    ));
    let bytes = f.concat();
    for client in [Dialect::OpenAi, Dialect::Anthropic] {
        let (out, fin, t) = run_split(client, &bytes, 9);
        fin.unwrap();
        assert_eq!(
            t.upstream_error(),
            Some("Too many tokens, please wait before trying again.")
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("rate_limit_error") && text.contains("Too many tokens"),
            "{text}"
        );
        assert!(
            !text.contains("ignored") && !text.contains("[DONE]"),
            "{text}"
        );
        if client == Dialect::Anthropic {
            assert!(
                text.contains("event: error") && !text.contains("message_stop"),
                "{text}"
            );
        }
    }
}

#[test]
fn corrupt_and_truncated_frames_are_errors() {
    let mut bytes = frames("bedrock/stream_text.json").concat();
    let (_, fin, _) = run_split(Dialect::OpenAi, &bytes[..bytes.len() - 5], 4);
    assert!(
        matches!(fin, Err(TranslateError::MalformedUpstream(_))),
        "{fin:?}"
    );
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // the final frame's message CRC
    let mut t = StreamTranslator::new(Dialect::Bedrock, Dialect::OpenAi, true);
    let err = t.push(&bytes, &mut Vec::new()).unwrap_err();
    assert!(
        err.to_string().contains("corrupt event-stream frame"),
        "{err}"
    );
    // A length prefix past AWS's 16 MiB limit is refused before anything is buffered.
    let mut t = StreamTranslator::new(Dialect::Bedrock, Dialect::OpenAi, true);
    let err = t.push(&[0x7f, 0, 0, 0, 0, 0], &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
}
