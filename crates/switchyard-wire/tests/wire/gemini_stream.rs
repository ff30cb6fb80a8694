//! Golden tests: Gemini `streamGenerateContent?alt=sse` transcripts to OpenAI chunks.
use serde_json::{json, Value};
use switchyard_wire::gemini::{response_to_openai, GeminiStreamToOpenAi};
use switchyard_wire::{TranslateError, Usage};

fn read(path: &str) -> String {
    let full = format!(
        "{}/tests/fixtures/gemini/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The `data:` payloads of an SSE transcript (Gemini separates events with CRLF CRLF).
fn events(transcript: &str) -> Vec<String> {
    transcript
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

/// Feeds every event, one at a time; returns the translator and the chunks so far.
fn feed(case: &str, model: &str) -> (GeminiStreamToOpenAi, Vec<Value>) {
    let mut t = GeminiStreamToOpenAi::new(model);
    let mut out = Vec::new();
    for data in events(&read(&format!("stream/{case}.sse"))) {
        t.on_event(&data, &mut out).unwrap();
    }
    (t, out)
}

fn normalize(mut chunks: Vec<Value>) -> Vec<Value> {
    for c in &mut chunks {
        assert!(c["created"].as_u64().unwrap() > 1_700_000_000);
        c["created"] = json!(0);
    }
    chunks
}

fn golden(case: &str, model: &str) -> GeminiStreamToOpenAi {
    let (mut t, mut out) = feed(case, model);
    assert!(t.is_done(), "{case}: not done after the last event");
    t.finish(&mut out).unwrap();
    let out = normalize(out);
    let expected: Value =
        serde_json::from_str(&read(&format!("stream/{case}.chunks.json"))).unwrap();
    assert_eq!(
        Value::Array(out.clone()),
        expected,
        "{case}: got\n{}",
        serde_json::to_string_pretty(&out).unwrap()
    );
    t
}

#[test]
fn text_stream() {
    let t = golden("text", "gemini-2.5-flash");
    assert_eq!(
        t.usage(),
        Some(Usage {
            prompt_tokens: 8,
            completion_tokens: 447,
            cached_tokens: 0,
            reasoning_tokens: 426,
            ..Usage::default()
        })
    );
    let usage_chunk = t.usage_chunk().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["id"], "chatcmpl-k3JVaLmDNeKH7M8Pj-HVqAU");
    assert_eq!(usage_chunk["usage"]["total_tokens"], 455);
    assert_eq!(
        usage_chunk["usage"]["completion_tokens_details"]["reasoning_tokens"],
        426
    );
}

#[test]
fn tool_call_stream() {
    let t = golden("tool_calls", "gemini-3-flash");
    assert_eq!(t.usage().unwrap().completion_tokens, 87);
}

#[test]
fn streamed_tool_call_ids_match_the_non_streamed_reply() {
    let (mut t, mut out) = feed("tool_calls", "m");
    t.finish(&mut out).unwrap();
    let streamed: Vec<Value> = out
        .iter()
        .flat_map(|c| {
            c["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|c| c["id"].clone())
        .collect();
    let body = read("response/tool_calls.gemini.json");
    let (whole, _) = response_to_openai(body.as_bytes(), "m").unwrap();
    let unstreamed: Vec<Value> = whole["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(streamed, unstreamed);
}

#[test]
fn blocked_prompt_stream_finishes_with_content_filter() {
    let t = golden("blocked", "gemini-2.5-flash");
    assert_eq!(t.usage().unwrap().prompt_tokens, 17);
}

#[test]
fn truncated_stream_fails_at_finish() {
    let (mut t, mut out) = feed("truncated", "gemini-2.5-flash");
    assert_eq!(out.len(), 2);
    assert!(!t.is_done());
    let before = out.len();
    assert!(matches!(
        t.finish(&mut out),
        Err(TranslateError::MalformedUpstream(_))
    ));
    assert_eq!(out.len(), before);
}

#[test]
fn empty_stream_fails_at_finish() {
    let mut t = GeminiStreamToOpenAi::new("m");
    let mut out = Vec::new();
    t.on_event("", &mut out).unwrap();
    t.on_event("  \n", &mut out).unwrap();
    assert!(out.is_empty());
    assert!(t.usage().is_none() && t.usage_chunk().is_none());
    assert!(t.finish(&mut out).is_err());
}

#[test]
fn error_event_mid_stream_is_an_error() {
    let mut t = GeminiStreamToOpenAi::new("m");
    let mut out = Vec::new();
    let mut results = Vec::new();
    for data in events(&read("stream/error.sse")) {
        results.push(t.on_event(&data, &mut out));
    }
    assert!(results[0].is_ok());
    match &results[1] {
        Err(TranslateError::MalformedUpstream(m)) => {
            assert!(m.contains("The model is overloaded"), "{m}");
            assert!(m.contains("server_error"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_event_is_malformed() {
    let mut t = GeminiStreamToOpenAi::new("m");
    let mut out = Vec::new();
    for data in ["{not json", "[]", "42"] {
        assert!(matches!(
            t.on_event(data, &mut out),
            Err(TranslateError::MalformedUpstream(_))
        ));
    }
}

#[test]
fn finish_is_idempotent_and_first_chunk_carries_role_per_choice() {
    let mut t = GeminiStreamToOpenAi::new("m");
    let mut out = Vec::new();
    let event = json!({ "candidates": [
        { "content": { "role": "model", "parts": [{ "text": "a" }] }, "index": 0 },
        { "content": { "role": "model", "parts": [{ "text": "b" }] }, "index": 1, "finishReason": "MAX_TOKENS" },
    ], "responseId": "r" });
    t.on_event(&event.to_string(), &mut out).unwrap();
    assert!(!t.is_done());
    let last = json!({ "candidates": [
        { "content": { "role": "model", "parts": [{ "text": "c" }] }, "index": 0, "finishReason": "STOP" },
    ] });
    t.on_event(&last.to_string(), &mut out).unwrap();
    assert!(t.is_done());
    t.finish(&mut out).unwrap();
    t.finish(&mut out).unwrap();
    let summary: Vec<(u64, Value, Value)> = out
        .iter()
        .map(|c| {
            let ch = &c["choices"][0];
            (
                ch["index"].as_u64().unwrap(),
                ch["delta"].clone(),
                ch["finish_reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                0,
                json!({ "role": "assistant", "content": "a" }),
                Value::Null
            ),
            (
                1,
                json!({ "role": "assistant", "content": "b" }),
                Value::Null
            ),
            (0, json!({ "content": "c" }), Value::Null),
            (0, json!({}), json!("stop")),
            (1, json!({}), json!("length")),
        ]
    );
}

#[test]
fn chunks_are_named_by_model_version_else_by_the_configured_model() {
    use switchyard_wire::{Dialect, StreamTranslator};
    let run = |event: &str| -> Value {
        let mut t = StreamTranslator::new(Dialect::Gemini, Dialect::OpenAi, false)
            .with_model("gemini-configured");
        let mut out = Vec::new();
        t.push(event.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        serde_json::from_str(first).unwrap()
    };
    let with = r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash-001"}"#;
    let without =
        r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}]}"#;
    assert_eq!(
        run(&format!("data: {with}\r\n\r\n"))["model"],
        "gemini-2.5-flash-001"
    );
    assert_eq!(
        run(&format!("data: {without}\r\n\r\n"))["model"],
        "gemini-configured"
    );
}
