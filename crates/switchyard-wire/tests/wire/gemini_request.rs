//! Golden tests: OpenAI chat completions requests to Gemini `GenerateContentRequest`s.
use serde_json::{json, Map, Value};
use switchyard_wire::gemini::request_from_openai;
use switchyard_wire::TranslateError;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/gemini/request/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Translates `<case>.openai.json` and compares with `<case>.gemini.json`; returns the
/// dropped parameters, sorted.
fn golden(case: &str) -> Vec<String> {
    let req = object(fixture(&format!("{case}.openai.json")));
    let expected = fixture(&format!("{case}.gemini.json"));
    let (body, mut dropped) = request_from_openai(&req, false).unwrap();
    assert_eq!(
        body,
        expected,
        "{case}: got\n{}",
        serde_json::to_string_pretty(&body).unwrap()
    );
    dropped.sort();
    dropped
}

fn translate(req: Value) -> Result<(Value, Vec<String>), TranslateError> {
    request_from_openai(&object(req), false)
}

fn invalid_param(req: Value) -> String {
    match translate(req) {
        Err(TranslateError::InvalidRequest { param: Some(p), .. }) => p,
        other => panic!("expected InvalidRequest with a param, got {other:?}"),
    }
}

fn user(text: &str) -> Value {
    json!({ "role": "user", "content": text })
}

#[test]
fn plain_text_with_sampling() {
    assert!(golden("text").is_empty());
}

#[test]
fn system_and_developer_messages_become_system_instruction() {
    assert!(golden("system").is_empty());
}

#[test]
fn multi_turn_merges_consecutive_roles_and_skips_empty_turns() {
    assert!(golden("multi_turn").is_empty());
}

#[test]
fn images_by_url_and_base64() {
    assert!(golden("images").is_empty());
}

#[test]
fn tools_schema_is_sanitised_and_named_choice_forces_call() {
    assert!(golden("tools").is_empty());
}

#[test]
fn tool_round_trip_pairs_results_and_replays_signatures() {
    assert!(golden("tool_round_trip").is_empty());
}

#[test]
fn json_object_mode() {
    assert!(golden("json_mode").is_empty());
}

#[test]
fn json_schema_uses_response_json_schema() {
    assert!(golden("json_schema").is_empty());
}

#[test]
fn sampling_stop_limits_and_dropped_params() {
    assert_eq!(
        golden("params"),
        [
            "logit_bias",
            "logprobs",
            "parallel_tool_calls",
            "top_logprobs",
            "user"
        ]
    );
}

#[test]
fn strict_params_refuses_the_first_unmappable_param() {
    let req = object(fixture("params.openai.json"));
    match request_from_openai(&req, true) {
        Err(TranslateError::UnsupportedParam { param, target }) => {
            assert_eq!(target, "gemini");
            assert!(
                [
                    "logit_bias",
                    "logprobs",
                    "parallel_tool_calls",
                    "top_logprobs",
                    "user"
                ]
                .contains(&param.as_str()),
                "{param}"
            );
        }
        other => panic!("expected UnsupportedParam, got {other:?}"),
    }
    // A request with nothing unmappable is fine under strict.
    let req = object(fixture("tools.openai.json"));
    assert!(request_from_openai(&req, true).is_ok());
}

#[test]
fn max_tokens_alone_maps_to_max_output_tokens() {
    let (body, _) = translate(json!({ "messages": [user("hi")], "max_tokens": 64 })).unwrap();
    assert_eq!(body["generationConfig"], json!({ "maxOutputTokens": 64 }));
}

#[test]
fn stop_array_and_reasoning_effort_levels() {
    for (effort, budget) in [
        ("none", 0),
        ("minimal", 1024),
        ("low", 1024),
        ("medium", 8192),
        ("high", 24576),
        ("xhigh", 24576),
    ] {
        let (body, _) = translate(json!({
            "messages": [user("hi")],
            "stop": ["a", "b"],
            "reasoning_effort": effort,
        }))
        .unwrap();
        assert_eq!(
            body["generationConfig"],
            json!({ "stopSequences": ["a", "b"], "thinkingConfig": { "thinkingBudget": budget } }),
            "{effort}"
        );
    }
    let param = invalid_param(json!({ "messages": [user("hi")], "reasoning_effort": "max" }));
    assert_eq!(param, "reasoning_effort");
}

#[test]
fn tool_choice_modes() {
    let tools = json!([{ "type": "function", "function": { "name": "f" } }]);
    let cases = [
        (json!("none"), json!({ "mode": "NONE" })),
        (json!("auto"), json!({ "mode": "AUTO" })),
        (json!("required"), json!({ "mode": "ANY" })),
        (
            json!({ "type": "allowed_tools", "allowed_tools": { "mode": "required",
                "tools": [{ "type": "function", "function": { "name": "f" } }] } }),
            json!({ "mode": "ANY", "allowedFunctionNames": ["f"] }),
        ),
        (
            json!({ "type": "allowed_tools", "allowed_tools": { "mode": "auto",
                "tools": [{ "type": "function", "function": { "name": "f" } }] } }),
            json!({ "mode": "VALIDATED", "allowedFunctionNames": ["f"] }),
        ),
    ];
    for (choice, expected) in cases {
        let (body, _) = translate(json!({
            "messages": [user("hi")], "tools": tools, "tool_choice": choice,
        }))
        .unwrap();
        assert_eq!(body["toolConfig"]["functionCallingConfig"], expected);
        // A tool without parameters is declared without `parameters`.
        assert_eq!(
            body["tools"],
            json!([{ "functionDeclarations": [{ "name": "f" }] }])
        );
    }
}

#[test]
fn tool_choice_without_tools() {
    let (body, _) = translate(json!({ "messages": [user("hi")], "tool_choice": "auto" })).unwrap();
    assert!(body.get("toolConfig").is_none());
    let param = invalid_param(json!({ "messages": [user("hi")], "tool_choice": "required" }));
    assert_eq!(param, "tool_choice");
}

#[test]
fn audio_and_file_parts_become_inline_data() {
    let (body, _) = translate(json!({ "messages": [{ "role": "user", "content": [
        { "type": "input_audio", "input_audio": { "data": "UklGRg==", "format": "wav" } },
        { "type": "file", "file": { "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0=" } },
    ] }] }))
    .unwrap();
    assert_eq!(
        body["contents"][0]["parts"],
        json!([
            { "inlineData": { "mimeType": "audio/wav", "data": "UklGRg==" } },
            { "inlineData": { "mimeType": "application/pdf", "data": "JVBERi0=" } },
        ])
    );
}

#[test]
fn recursive_schema_terminates() {
    let (body, _) = translate(json!({
        "messages": [user("hi")],
        "tools": [{ "type": "function", "function": { "name": "tree", "parameters": {
            "type": "object",
            "properties": { "root": { "$ref": "#/$defs/Node" } },
            "$defs": { "Node": { "type": "object", "properties": {
                "label": { "type": "string" },
                "children": { "type": "array", "items": { "$ref": "#/$defs/Node" } },
            } } },
        } } }],
    }))
    .unwrap();
    let params = &body["tools"][0]["functionDeclarations"][0]["parameters"];
    assert_eq!(
        params["properties"]["root"]["properties"]["children"],
        json!({ "type": "ARRAY", "items": {} })
    );
}

#[test]
fn malformed_requests_name_the_offending_field() {
    let call = json!({ "role": "assistant", "tool_calls": [{ "id": "c1", "type": "function",
        "function": { "name": "f", "arguments": "{}" } }] });
    let cases = [
        (json!({}), "messages"),
        (json!({ "messages": [] }), "messages"),
        (
            json!({ "messages": [{ "role": "system", "content": "only" }] }),
            "messages",
        ),
        (
            json!({ "messages": [{ "content": "x" }] }),
            "messages[0].role",
        ),
        (
            json!({ "messages": [{ "role": "wizard", "content": "x" }] }),
            "messages[0].role",
        ),
        (
            json!({ "messages": [user("q"), { "role": "tool", "tool_call_id": "nope", "content": "r" }] }),
            "messages[1].tool_call_id",
        ),
        (
            json!({ "messages": [user("q"), call, { "role": "tool", "content": "r" }] }),
            "messages[2].tool_call_id",
        ),
        (
            json!({ "messages": [user("q"), { "role": "assistant", "tool_calls": [{ "id": "c",
                "type": "function", "function": { "name": "f", "arguments": "[1]" } }] }] }),
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "type": "image_url",
                "image_url": { "url": "ftp://example.com/a.png" } }] }] }),
            "messages[0].content[0]",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "type": "image_url",
                "image_url": { "url": "data:image/png,notbase64" } }] }] }),
            "messages[0].content[0]",
        ),
        (
            json!({ "messages": [{ "role": "user", "content": [{ "type": "video", "video": {} }] }] }),
            "messages[0].content[0].type",
        ),
        (
            json!({ "messages": [{ "role": "system", "content": [{ "type": "image_url",
                "image_url": { "url": "https://e.com/a.png" } }] }, user("q")] }),
            "messages[0].content[0].type",
        ),
        (
            json!({ "messages": [user("q")], "temperature": "hot" }),
            "temperature",
        ),
        (json!({ "messages": [user("q")], "n": 0 }), "n"),
        (json!({ "messages": [user("q")], "stop": 7 }), "stop"),
        (
            json!({ "messages": [user("q")], "tools": [{ "type": "custom", "custom": { "name": "x" } }] }),
            "tools[0].type",
        ),
        (
            json!({ "messages": [user("q")], "response_format": { "type": "yaml" } }),
            "response_format.type",
        ),
    ];
    for (req, param) in cases {
        assert_eq!(invalid_param(req.clone()), param, "{req}");
    }
}
