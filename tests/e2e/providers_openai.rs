//! `openai` and `openai_compatible` upstreams through the real binary, for OpenAI-SDK and
//! Anthropic-SDK clients: text, streams, tools and a tool round trip, JSON schema, images,
//! stop sequences and max tokens, usage, and provider errors (with failover). The upstream
//! request is checked against OpenAI's chat completions reference: same-dialect requests pass
//! through with only `model` (and `stream_options.include_usage`) rewritten; Anthropic
//! requests arrive translated.

use serde_json::json;
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{anthropic_text_events, req, Client, Kind};

use crate::common::bin;

async fn text(kind: Kind) {
    for (client, sent) in matrix::text(bin(), kind).await {
        let b = sent.json();
        assert_eq!(
            b["messages"],
            json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}])
        );
        match client {
            // Passed through: nothing added.
            Client::OpenAi => assert_eq!(b.as_object().unwrap().len(), 3, "{b}"),
            // Anthropic's required max_tokens becomes OpenAI's current name, except for
            // OpenAI-compatible servers (Ollama, llama.cpp, Mistral…), which know only the old.
            Client::Anthropic => {
                let (name, other) = if kind == Kind::Compatible {
                    ("max_tokens", "max_completion_tokens")
                } else {
                    ("max_completion_tokens", "max_tokens")
                };
                assert_eq!(b[name], 256, "{b}");
                assert!(b.get(other).is_none() && b.get("system").is_none());
            }
        }
    }
}

#[tokio::test]
async fn openai_text_both_dialects() {
    text(Kind::OpenAi).await;
}

#[tokio::test]
async fn openai_compatible_text_keeps_the_base_path() {
    text(Kind::Compatible).await;
}

async fn stream(kind: Kind) {
    for (client, a, _) in matrix::stream(bin(), kind, &["Hel", "lo"]).await {
        match client {
            Client::OpenAi => assert_eq!(
                a.events,
                ["role+text:", "text:Hel", "text:lo", "finish:stop", "[DONE]"]
            ),
            Client::Anthropic => {
                assert_eq!(a.events, anthropic_text_events(&["Hel", "lo"], "end_turn"))
            }
        }
    }
}

#[tokio::test]
async fn openai_stream_events_both_dialects() {
    stream(Kind::OpenAi).await;
}

#[tokio::test]
async fn openai_compatible_stream_events_both_dialects() {
    stream(Kind::Compatible).await;
}

async fn tools(kind: Kind) {
    for (client, [call, streamed, result], a) in matrix::tools(bin(), kind).await {
        let tool = json!({"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}});
        for r in [&call, &streamed, &result] {
            let b = r.json();
            assert_eq!(b["tools"], json!([tool]));
            assert_eq!(b["tool_choice"], "auto");
        }
        // The call id the upstream made is what both clients send back.
        let id = "call_abc123";
        assert_eq!(
            result.json()["messages"],
            json!([
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": id, "content": "18°C and sunny"}
            ])
        );
        let want: Vec<String> = match client {
            Client::OpenAi => vec![
                "role+tool:get_weather".into(),
                "args:{\"city\":".into(),
                "args:\"Paris\"}".into(),
                "finish:tool_calls".into(),
                "[DONE]".into(),
            ],
            Client::Anthropic => vec![
                "message_start".into(),
                "content_block_start:tool_use".into(),
                "content_block_delta:input_json_delta:{\"city\":".into(),
                "content_block_delta:input_json_delta:\"Paris\"}".into(),
                "content_block_stop".into(),
                "message_delta:tool_use".into(),
                "message_stop".into(),
            ],
        };
        assert_eq!(a.events, want);
    }
}

#[tokio::test]
async fn openai_tools_and_round_trip_both_dialects() {
    tools(Kind::OpenAi).await;
}

#[tokio::test]
async fn openai_compatible_tools_and_round_trip_both_dialects() {
    tools(Kind::Compatible).await;
}

#[tokio::test]
async fn openai_json_schema_both_dialects() {
    for (client, sent) in matrix::json_schema(bin(), Kind::OpenAi).await {
        let name = if client == Client::OpenAi {
            "weather"
        } else {
            "output"
        };
        assert_eq!(
            sent.json()["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": name, "strict": true, "schema": req::weather_schema()}})
        );
    }
}

#[tokio::test]
async fn openai_images_by_url_and_base64_both_dialects() {
    for (client, sent) in matrix::images(bin(), Kind::OpenAi).await {
        let b = sent.json();
        let user = b["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            user["content"],
            json!([
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": req::IMAGE_URL}},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", req::PNG_B64)}}
            ]),
            "{client:?}"
        );
    }
}

#[tokio::test]
async fn openai_stop_sequences_and_max_tokens_both_dialects() {
    for (client, capped, _) in matrix::stop_and_max_tokens(bin(), Kind::OpenAi).await {
        let b = capped.json();
        assert_eq!(b["stop"], json!(["END"]));
        match client {
            Client::OpenAi => assert_eq!(b["max_tokens"], 5),
            Client::Anthropic => assert_eq!(b["max_completion_tokens"], 5),
        }
    }
}

#[tokio::test]
async fn openai_errors_in_each_dialect_and_failover() {
    matrix::errors(bin(), Kind::OpenAi).await;
}

#[tokio::test]
async fn openai_compatible_errors_in_each_dialect_and_failover() {
    matrix::errors(bin(), Kind::Compatible).await;
}

#[tokio::test]
async fn openai_error_event_mid_stream_reaches_both_dialects() {
    for (client, a) in matrix::stream_error(bin(), Kind::OpenAi).await {
        match client {
            Client::OpenAi => {
                assert_eq!(a.events, ["role+text:", "text:Hel", "error:server_error"])
            }
            Client::Anthropic => assert_eq!(
                a.events,
                [
                    "message_start",
                    "content_block_start:text",
                    "content_block_delta:text_delta:Hel",
                    "error:api_error"
                ]
            ),
        }
    }
}

#[tokio::test]
async fn openai_json_mode_for_openai_clients() {
    let sent = matrix::json_mode(bin(), Kind::OpenAi).await.json();
    assert_eq!(sent["response_format"], json!({"type": "json_object"}));
}

#[tokio::test]
async fn openai_stream_fails_over_to_an_openai_spare_in_each_dialect() {
    for (client, a) in matrix::stream_failover(bin(), Kind::OpenAi).await {
        match client {
            Client::OpenAi => assert_eq!(
                a.events,
                ["role+text:", "text:Sp", "text:are", "finish:stop", "[DONE]"]
            ),
            Client::Anthropic => {
                assert_eq!(a.events, anthropic_text_events(&["Sp", "are"], "end_turn"))
            }
        }
    }
}
