//! Bedrock prompt caching (`cache_control` → `cachePoint`, cache writes counted apart) and
//! Claude's thinking signatures across the round trip, checked against botocore's model.

use serde_json::{json, Value};
use switchyard_wire::bedrock::encode_frame;
use switchyard_wire::{decode_response_at, Dialect};

use super::bedrock::{encode, run_split, CLAUDE, NOVA};

const LLAMA: &str = "meta.llama3-70b-instruct-v1:0";

/// An Anthropic client's cache breakpoints: on a system block (1-hour), a tool, a user text
/// block and a tool result.
fn cached_anthropic_request() -> Value {
    json!({
        "model": "m",
        "max_tokens": 512,
        "system": [
            {"type": "text", "text": "You are a careful assistant."},
            {"type": "text", "text": "Long shared context.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ],
        "tools": [{"name": "weather", "input_schema": {"type": "object"},
                   "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "A long document.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Weather in Paris?"}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "tu_1", "content": "18C",
                 "cache_control": {"type": "ephemeral"}}
            ]}
        ]
    })
}

#[test]
fn cache_control_becomes_cache_points_after_the_marked_content() {
    let point = json!({"cachePoint": {"type": "default"}});
    for model in [CLAUDE, NOVA] {
        let (v, dropped) = encode(Dialect::Anthropic, model, cached_anthropic_request());
        assert!(dropped.is_empty(), "{model}: {dropped:?}");
        assert_eq!(
            v["system"],
            json!([
                {"text": "You are a careful assistant."},
                {"text": "Long shared context."},
                {"cachePoint": {"type": "default", "ttl": "1h"}}
            ]),
            "{model}"
        );
        assert_eq!(
            v["toolConfig"]["tools"][1], point,
            "{model}: the tool list is cached up to the marked tool"
        );
        let turns = v["messages"].as_array().unwrap();
        assert_eq!(
            turns[0]["content"],
            json!([{"text": "A long document."}, point, {"text": "Weather in Paris?"}])
        );
        let last = turns[2]["content"].as_array().unwrap();
        assert_eq!(last[0]["toolResult"]["toolUseId"], "tu_1");
        assert_eq!(
            last[1], point,
            "{model}: the tool result ends the cached prefix"
        );
    }
    // A model that can't take cache points gets none, and the loss is listed.
    let (v, dropped) = encode(Dialect::Anthropic, LLAMA, cached_anthropic_request());
    assert!(!v.to_string().contains("cachePoint"), "{v}");
    assert_eq!(dropped, ["cache_control"]);
}

#[test]
fn openai_clients_cache_control_on_parts_reaches_bedrock_too() {
    let (v, dropped) = encode(
        Dialect::OpenAi,
        CLAUDE,
        json!({"model": "m", "messages": [
            {"role": "system", "content": [
                {"type": "text", "text": "Shared rules.", "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": "Hi"}
        ]}),
    );
    assert!(dropped.is_empty(), "{dropped:?}");
    assert_eq!(
        v["system"],
        json!([{"text": "Shared rules."}, {"cachePoint": {"type": "default"}}])
    );
    // Without a mark, no cache point is invented.
    let (v, _) = encode(
        Dialect::Anthropic,
        CLAUDE,
        json!({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "Hi"}]}),
    );
    assert!(!v.to_string().contains("cachePoint"), "{v}");
}

#[test]
fn cache_writes_are_counted_apart_with_their_lifetime() {
    let reply = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 3, "totalTokens": 3063,
                  "cacheReadInputTokens": 50, "cacheWriteInputTokens": 3000,
                  "cacheDetails": [{"ttl": "1h", "inputTokens": 2000}, {"ttl": "5m", "inputTokens": 1000}]},
        "metrics": {"latencyMs": 100}
    });
    crate::botocore::Model::load().check("ConverseResponse", &reply);
    let bytes = serde_json::to_vec(&reply).unwrap();
    let r = decode_response_at(Dialect::Bedrock, Dialect::Anthropic, &bytes, 0).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["usage"]["input_tokens"], 10);
    assert_eq!(v["usage"]["cache_read_input_tokens"], 50);
    assert_eq!(v["usage"]["cache_creation_input_tokens"], 3000);
    assert_eq!(
        v["usage"]["cache_creation"],
        json!({"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000})
    );
    let u = r.usage.unwrap();
    assert_eq!(
        (
            u.prompt_tokens,
            u.cached_tokens,
            u.cache_write_tokens,
            u.cache_write_1h_tokens
        ),
        (3060, 50, 3000, 2000)
    );
    let r = decode_response_at(Dialect::Bedrock, Dialect::OpenAi, &bytes, 0).unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["usage"]["prompt_tokens"], 3060);

    // The same usage at the end of a stream reaches an Anthropic client's last usage.
    let events = [
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("messageStop", json!({"stopReason": "end_turn"})),
        (
            "metadata",
            json!({"usage": reply["usage"], "metrics": {"latencyMs": 100}}),
        ),
    ];
    let bytes: Vec<u8> = events
        .iter()
        .flat_map(|(kind, payload)| {
            encode_frame("event", kind, &serde_json::to_vec(payload).unwrap())
        })
        .collect();
    let (out, fin, t) = run_split(Dialect::Anthropic, &bytes, 9);
    fin.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""cache_creation_input_tokens":3000"#),
        "{text}"
    );
    assert_eq!(t.usage().unwrap().cache_write_1h_tokens, 2000);
}

#[test]
fn signed_thinking_goes_back_to_claude_before_the_tool_use() {
    let body = json!({
        "model": "m",
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2000},
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
                {"type": "tool_use", "id": "tu_1", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "18C"}]}
        ]
    });
    let (v, dropped) = encode(Dialect::Anthropic, CLAUDE, body.clone());
    assert!(dropped.is_empty(), "{dropped:?}");
    let assistant = v["messages"][1]["content"].as_array().unwrap();
    assert_eq!(
        assistant[0],
        json!({"reasoningContent": {"reasoningText": {"text": "Use the tool.", "signature": "sig-1"}}})
    );
    assert_eq!(
        assistant[1],
        json!({"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}})
    );
    assert_eq!(assistant[2]["toolUse"]["toolUseId"], "tu_1");
    // Other models can't verify Claude's signatures: the thinking stays behind.
    let (v, _) = encode(Dialect::Anthropic, NOVA, body);
    assert!(!v.to_string().contains("reasoningContent"), "{v}");
}

#[test]
fn stream_signatures_end_their_thinking_block_for_anthropic_clients() {
    let events = [
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Hmm"}}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig-9"}}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 1, "delta": {"text": "Hi"}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 1})),
        ("messageStop", json!({"stopReason": "end_turn"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}, "metrics": {"latencyMs": 1}}),
        ),
    ];
    let model = crate::botocore::Model::load();
    let bytes: Vec<u8> = events
        .iter()
        .flat_map(|(kind, payload)| {
            model.check(&model.member_shape("ConverseStreamOutput", kind), payload);
            encode_frame("event", kind, &serde_json::to_vec(payload).unwrap())
        })
        .collect();
    let (out, fin, _) = run_split(Dialect::Anthropic, &bytes, 7);
    fin.unwrap();
    let text = String::from_utf8(out).unwrap();
    let data: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let kinds: Vec<&str> = data.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ],
        "{text}"
    );
    assert_eq!(
        data[3]["delta"],
        json!({"type": "signature_delta", "signature": "sig-9"})
    );
    assert_eq!(data[5]["content_block"]["type"], "text");
    // OpenAI clients have no place for it: their stream is unchanged.
    let (out, fin, _) = run_split(Dialect::OpenAi, &bytes, 7);
    fin.unwrap();
    assert!(!String::from_utf8(out).unwrap().contains("sig-9"));
}
