//! Golden tests: Gemini `GenerateContentResponse`s, error envelopes and embeddings to OpenAI.
use serde_json::{json, Map, Value};
use switchyard_wire::gemini::{
    embeddings_request_from_openai, embeddings_response_to_openai, error_to_openai,
    response_to_openai,
};
use switchyard_wire::{TranslateError, Usage};

fn bytes(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/tests/fixtures/gemini/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn fixture(path: &str) -> Value {
    serde_json::from_slice(&bytes(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Replaces `created` (wall clock) with 0 after checking it is a plausible timestamp.
fn normalize(mut v: Value) -> Value {
    let created = v["created"].as_u64().unwrap();
    assert!(created > 1_700_000_000, "created = {created}");
    v["created"] = json!(0);
    v
}

fn golden(case: &str, model: &str) -> Usage {
    let (out, usage) =
        response_to_openai(&bytes(&format!("response/{case}.gemini.json")), model).unwrap();
    let out = normalize(out);
    let expected = fixture(&format!("response/{case}.openai.json"));
    assert_eq!(
        out,
        expected,
        "{case}: got\n{}",
        serde_json::to_string_pretty(&out).unwrap()
    );
    usage
}

#[test]
fn text_reply() {
    let usage = golden("text", "gemini-2.5-flash");
    assert_eq!(
        usage,
        Usage {
            prompt_tokens: 8,
            completion_tokens: 21,
            cached_tokens: 0,
            reasoning_tokens: 0,
            ..Usage::default()
        }
    );
}

#[test]
fn function_calls_become_tool_calls_with_signature() {
    let usage = golden("tool_calls", "gemini-3-flash");
    assert_eq!(usage.completion_tokens, 87);
    assert_eq!(usage.reasoning_tokens, 56);
}

#[test]
fn tool_call_ids_are_stable_and_distinct() {
    let body = bytes("response/tool_calls.gemini.json");
    let (a, _) = response_to_openai(&body, "m").unwrap();
    let (b, _) = response_to_openai(&body, "m").unwrap();
    let ids = |v: &Value| -> Vec<String> {
        v["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(ids(&a)[0], ids(&a)[1]);
    for id in ids(&a) {
        assert!(id.starts_with("call_") && id.len() == 21, "{id}");
    }
}

#[test]
fn upstream_call_id_is_kept() {
    let body = json!({ "candidates": [{ "content": { "role": "model", "parts": [
        { "functionCall": { "id": "fc-123", "name": "f", "args": {} } }
    ] }, "finishReason": "STOP" }] });
    let (out, _) = response_to_openai(body.to_string().as_bytes(), "m").unwrap();
    assert_eq!(
        out["choices"][0]["message"]["tool_calls"][0]["id"],
        "fc-123"
    );
    assert_eq!(
        out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
    assert_eq!(out["id"], "chatcmpl-gemini");
}

#[test]
fn thoughts_and_cached_tokens() {
    let usage = golden("thinking_cached", "gemini-2.5-pro");
    assert_eq!(
        usage,
        Usage {
            prompt_tokens: 20511,
            completion_tokens: 206,
            cached_tokens: 20480,
            reasoning_tokens: 184,
            ..Usage::default()
        }
    );
}

#[test]
fn max_tokens_is_length() {
    golden("max_tokens", "gemini-2.0-flash");
}

#[test]
fn blocked_prompt_is_a_content_filter_completion() {
    let usage = golden("prompt_blocked", "gemini-2.5-flash");
    assert_eq!(usage.prompt_tokens, 14);
}

#[test]
fn safety_stop_is_content_filter() {
    golden("candidate_safety", "gemini-2.0-flash");
}

#[test]
fn several_candidates_are_several_choices() {
    golden("two_candidates_json", "gemini-2.0-flash");
}

#[test]
fn finish_reason_table() {
    let cases = [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("LANGUAGE", "stop"),
        ("OTHER", "stop"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
        ("FINISH_REASON_UNSPECIFIED", "stop"),
    ];
    for (gemini, openai) in cases {
        let body = json!({ "candidates": [{ "content": { "role": "model",
            "parts": [{ "text": "x" }] }, "finishReason": gemini, "index": 0 }] });
        let (out, _) = response_to_openai(body.to_string().as_bytes(), "m").unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], openai, "{gemini}");
    }
}

#[test]
fn malformed_replies_are_errors() {
    for body in [
        &b"not json"[..],
        b"[1, 2]",
        b"{}",
        br#"{"candidates": []}"#,
        br#"{"candidates": [{"content": {"parts": ["bare string"]}}]}"#,
        br#"{"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]}"#,
    ] {
        match response_to_openai(body, "m") {
            Err(TranslateError::MalformedUpstream(_)) => {}
            other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
}

#[test]
fn error_envelopes_map_to_openai_types() {
    let cases: [(u16, &str, &str, Option<&str>, &str); 8] = [
        (400, "400_invalid_argument.json", "invalid_request_error", None,
            "* GenerateContentRequest.contents: contents is not specified\n"),
        (400, "400_api_key_invalid.json", "authentication_error", Some("invalid_api_key"),
            "API key not valid. Please pass a valid API key."),
        (403, "403_permission_denied.json", "permission_error", None,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."),
        (404, "404_not_found.json", "not_found_error", None,
            "models/gemini-9.9-ultra is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."),
        (429, "429_resource_exhausted.json", "rate_limit_error", Some("rate_limit_exceeded"),
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10\nPlease retry in 23.412093s."),
        (500, "500_internal.json", "server_error", None,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
        (503, "503_unavailable.json", "server_error", None,
            "The model is overloaded. Please try again later."),
        (502, "502_html.html", "server_error", None,
            "Gemini returned HTTP 502 with an unrecognised body"),
    ];
    for (status, file, kind, code, message) in cases {
        let (m, k, c) = error_to_openai(status, &bytes(&format!("error/{file}")));
        assert_eq!(
            (m.as_str(), k, c.as_deref()),
            (message, kind, code),
            "{file}"
        );
    }
}

#[test]
fn error_fallbacks_and_caps() {
    // Wrapped in an array, as streaming endpoints do.
    let (m, k, _) = error_to_openai(
        429,
        br#"[{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}]"#,
    );
    assert_eq!((m.as_str(), k), ("slow down", "rate_limit_error"));
    // No status string: the HTTP status decides.
    for (status, kind) in [
        (401, "authentication_error"),
        (404, "not_found_error"),
        (413, "invalid_request_error"),
        (504, "server_error"),
    ] {
        let (_, k, _) = error_to_openai(status, br#"{"error": {"message": "x"}}"#);
        assert_eq!(k, kind, "{status}");
    }
    let long = "é".repeat(5000);
    let body = json!({ "error": { "code": 400, "message": long, "status": "INVALID_ARGUMENT" } });
    let (m, _, _) = error_to_openai(400, body.to_string().as_bytes());
    assert_eq!(m.chars().count(), 513);
    let (m, _, _) = error_to_openai(500, b"");
    assert!(!m.is_empty());
}

#[test]
fn embeddings_round_trip() {
    let req = fixture("embeddings/request.openai.json");
    let Value::Object(req) = req else { panic!() };
    let (path, body) = embeddings_request_from_openai(&req, "gemini-embedding-001").unwrap();
    assert_eq!(
        path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(body, fixture("embeddings/request.gemini.json"));

    let (out, usage) =
        embeddings_response_to_openai(&bytes("embeddings/response.gemini.json"), "text-embedding")
            .unwrap();
    assert_eq!(out, fixture("embeddings/response.openai.json"));
    assert_eq!(usage, Usage::default());
}

#[test]
fn embeddings_single_string_and_reported_usage() {
    let req: Map<String, Value> =
        serde_json::from_value(json!({ "input": "hello", "model": "e" })).unwrap();
    let (path, body) = embeddings_request_from_openai(&req, "models/text-embedding-004").unwrap();
    assert_eq!(path, "/v1beta/models/text-embedding-004:batchEmbedContents");
    assert_eq!(
        body,
        json!({ "requests": [{ "model": "models/text-embedding-004",
            "content": { "parts": [{ "text": "hello" }] } }] })
    );
    let reply = br#"{"embeddings": [{"values": [0.5]}], "usageMetadata": {"promptTokenCount": 2}}"#;
    let (out, usage) = embeddings_response_to_openai(reply, "e").unwrap();
    assert_eq!(usage.prompt_tokens, 2);
    assert_eq!(
        out["usage"],
        json!({ "prompt_tokens": 2, "total_tokens": 2 })
    );
}

#[test]
fn embeddings_rejects_what_gemini_cannot_embed() {
    for (req, param) in [
        (json!({ "input": [1, 2, 3] }), "input"),
        (json!({ "input": [] }), "input"),
        (json!({}), "input"),
        (json!({ "input": "x", "dimensions": -1 }), "dimensions"),
        (json!({ "input": "x" }), "model"),
    ] {
        let Value::Object(map) = req.clone() else {
            panic!()
        };
        let model = if param == "model" { "a/b" } else { "m" };
        match embeddings_request_from_openai(&map, model) {
            Err(TranslateError::InvalidRequest { param: Some(p), .. }) => {
                assert_eq!(p, param, "{req}")
            }
            other => panic!("{req}: {other:?}"),
        }
    }
    for body in [&b"{}"[..], br#"{"embeddings": [{"values": ["x"]}]}"#] {
        assert!(matches!(
            embeddings_response_to_openai(body, "m"),
            Err(TranslateError::MalformedUpstream(_))
        ));
    }
}

#[test]
fn replies_are_named_by_model_version_else_by_the_given_model() {
    use switchyard_wire::{decode_response_named, Dialect};
    let with = br#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash-001"}"#;
    let without = br#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}]}"#;
    for client in [Dialect::OpenAi, Dialect::Anthropic] {
        let model = |body: &[u8]| -> Value {
            let d = decode_response_named(Dialect::Gemini, client, body, 1, "gemini-cfg").unwrap();
            serde_json::from_slice::<Value>(&d.body).unwrap()["model"].clone()
        };
        assert_eq!(model(with), "gemini-2.5-flash-001");
        assert_eq!(model(without), "gemini-cfg");
    }
}
