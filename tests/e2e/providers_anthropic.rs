//! `anthropic` upstreams through the real binary, for OpenAI-SDK and Anthropic-SDK clients:
//! text, streams, tools and a tool round trip, JSON schema, images, stop sequences and max
//! tokens, usage, and provider errors (with failover). Upstream requests are checked against
//! the Messages API reference: `POST /v1/messages`, `x-api-key`, `anthropic-version`, a
//! required `max_tokens`, `system` apart from `messages`, `tool_use`/`tool_result` blocks.

use serde_json::{json, Value};
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{anthropic_text_events, req, Client, Kind};

use crate::common::bin;

const KIND: Kind = Kind::Anthropic;

fn schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]})
}

#[tokio::test]
async fn anthropic_text_both_dialects() {
    for (client, sent) in matrix::text(bin(), KIND).await {
        let b = sent.json();
        match client {
            // Translated: system prompt as a text block, max_tokens from max_output_tokens.
            Client::OpenAi => assert_eq!(
                b,
                json!({"model": "claude-sonnet-4-5", "max_tokens": 16000,
                       "system": [{"type": "text", "text": "You are terse."}],
                       "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}]})
            ),
            // Passed through with only the model renamed.
            Client::Anthropic => assert_eq!(
                b,
                json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": false,
                       "system": "You are terse.",
                       "messages": [{"role": "user", "content": "Say hello."}]})
            ),
        }
    }
}

#[tokio::test]
async fn anthropic_stream_events_both_dialects() {
    let pieces = ["A", " circuit", " breaker"];
    for (client, a, sent) in matrix::stream(bin(), KIND, &pieces).await {
        assert_eq!(sent.json()["stream"], true);
        match client {
            Client::OpenAi => assert_eq!(
                a.events,
                [
                    "role+text:",
                    "text:A",
                    "text: circuit",
                    "text: breaker",
                    "finish:stop",
                    "[DONE]"
                ]
            ),
            // Same dialect: Anthropic's events pass through, ping included.
            Client::Anthropic => {
                let mut want = anthropic_text_events(&pieces, "end_turn");
                want.insert(2, "ping".into());
                assert_eq!(a.events, want);
            }
        }
    }
}

#[tokio::test]
async fn anthropic_tools_and_round_trip_both_dialects() {
    for (client, [call, streamed, result], a) in matrix::tools(bin(), KIND).await {
        let tool = json!({"name": "get_weather", "description": "Current weather", "input_schema": schema()});
        for r in [&call, &streamed, &result] {
            let b = r.json();
            assert_eq!(b["tools"], json!([tool]));
            // OpenAI's "auto" is Anthropic's default, so it is left out.
            let choice = (client == Client::Anthropic).then(|| json!({"type": "auto"}));
            assert_eq!(b.get("tool_choice").cloned(), choice);
        }
        let turns = &result.json()["messages"];
        assert_eq!(
            turns[1],
            json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "Paris"}}]})
        );
        assert_eq!(
            turns[2],
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18°C and sunny"}]})
        );
        let want: &[&str] = match client {
            Client::OpenAi => &[
                "role+text:",
                "tool:get_weather",
                "args:{\"city\":",
                "args:\"Paris\"}",
                "finish:tool_calls",
                "[DONE]",
            ],
            Client::Anthropic => &[
                "message_start",
                "content_block_start:tool_use",
                "content_block_delta:input_json_delta:{\"city\":",
                "content_block_delta:input_json_delta:\"Paris\"}",
                "content_block_stop",
                "message_delta:tool_use",
                "message_stop",
            ],
        };
        assert_eq!(a.events, want);
    }
}

#[tokio::test]
async fn anthropic_json_schema_both_dialects() {
    for (client, sent) in matrix::json_schema(bin(), KIND).await {
        let b = sent.json();
        match client {
            // OpenAI's response_format becomes one forced tool whose input is the answer.
            Client::OpenAi => {
                assert_eq!(b["tools"][0]["name"], "switchyard_json_response");
                assert_eq!(b["tools"][0]["input_schema"], req::weather_schema());
                assert_eq!(
                    b["tool_choice"],
                    json!({"type": "tool", "name": "switchyard_json_response", "disable_parallel_tool_use": true})
                );
            }
            Client::Anthropic => assert_eq!(
                b["output_config"],
                json!({"format": {"type": "json_schema", "schema": req::weather_schema()}})
            ),
        }
    }
}

#[tokio::test]
async fn anthropic_images_by_url_and_base64_both_dialects() {
    for (_, sent) in matrix::images(bin(), KIND).await {
        let b = sent.json();
        assert_eq!(
            b["messages"][0]["content"],
            json!([
                {"type": "text", "text": "Compare these."},
                {"type": "image", "source": {"type": "url", "url": req::IMAGE_URL}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": req::PNG_B64}}
            ])
        );
    }
}

#[tokio::test]
async fn anthropic_stop_sequences_and_max_tokens_both_dialects() {
    for (_, capped, stopped) in matrix::stop_and_max_tokens(bin(), KIND).await {
        for r in [capped, stopped] {
            let b = r.json();
            assert_eq!(b["stop_sequences"], json!(["END"]));
            assert_eq!(b["max_tokens"], 5);
            assert!(b.get("stop").is_none());
        }
    }
}

#[tokio::test]
async fn anthropic_errors_in_each_dialect_and_failover() {
    matrix::errors(bin(), KIND).await;
}

#[tokio::test]
async fn anthropic_error_event_mid_stream_reaches_both_dialects() {
    for (client, a) in matrix::stream_error(bin(), KIND).await {
        match client {
            Client::OpenAi => assert_eq!(
                a.events,
                ["role+text:", "text:Hel", "error:overloaded_error"]
            ),
            Client::Anthropic => assert_eq!(
                a.events,
                [
                    "message_start",
                    "content_block_start:text",
                    "ping",
                    "content_block_delta:text_delta:Hel",
                    "error:overloaded_error"
                ]
            ),
        }
    }
}

#[tokio::test]
async fn anthropic_json_mode_for_openai_clients() {
    let sent = matrix::json_mode(bin(), KIND).await.json();
    // No schema: the forced tool takes any object.
    assert_eq!(sent["tools"][0]["name"], "switchyard_json_response");
    assert_eq!(sent["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(sent["tool_choice"]["name"], "switchyard_json_response");
}

#[tokio::test]
async fn anthropic_stream_fails_over_to_an_openai_spare_in_each_dialect() {
    for (client, a) in matrix::stream_failover(bin(), KIND).await {
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
