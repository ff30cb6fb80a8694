//! `gemini` upstreams through the real binary, for OpenAI-SDK and Anthropic-SDK clients: text,
//! streams, tools and a tool round trip, JSON schema, images, stop sequences and max tokens,
//! usage, and provider errors (with failover). Upstream requests are checked against the
//! Gemini REST reference: `/v1beta/models/M:generateContent` (`:streamGenerateContent?alt=sse`),
//! `x-goog-api-key`, camelCase `contents`/`systemInstruction`/`generationConfig`, no model or
//! stream flag in the body.

use serde_json::json;
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{anthropic_text_events, req, Client, Kind};

use crate::common::bin;

const KIND: Kind = Kind::Gemini;

#[tokio::test]
async fn gemini_text_both_dialects() {
    for (client, sent) in matrix::text(bin(), KIND).await {
        let mut want = json!({
            "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
            "systemInstruction": {"parts": [{"text": "You are terse."}]}
        });
        if client == Client::Anthropic {
            want["generationConfig"] = json!({"maxOutputTokens": 256});
        }
        assert_eq!(sent.json(), want);
    }
}

#[tokio::test]
async fn gemini_stream_events_both_dialects() {
    let pieces = ["Waves", " fold into foam,", "\nthe tide keeps its time."];
    for (client, a, _) in matrix::stream(bin(), KIND, &pieces).await {
        match client {
            Client::OpenAi => assert_eq!(
                a.events,
                [
                    "role+text:",
                    "text:Waves",
                    "text: fold into foam,",
                    "text:\nthe tide keeps its time.",
                    "finish:stop",
                    "[DONE]"
                ]
            ),
            Client::Anthropic => assert_eq!(a.events, anthropic_text_events(&pieces, "end_turn")),
        }
    }
}

#[tokio::test]
async fn gemini_tools_and_round_trip_both_dialects() {
    for (client, [call, streamed, result], a) in matrix::tools(bin(), KIND).await {
        let decl = json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "City name"}}, "required": ["city"]}}]}]);
        for r in [&call, &streamed, &result] {
            let b = r.json();
            assert_eq!(b["tools"], decl);
            assert_eq!(
                b["toolConfig"],
                json!({"functionCallingConfig": {"mode": "AUTO"}})
            );
        }
        // Gemini has no call ids: the gateway made one up, the client sent it back, and the
        // result is paired by name. A replayed call carries Google's documented skip signature.
        let contents = &result.json()["contents"];
        assert_eq!(
            contents[1],
            json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "skip_thought_signature_validator"}]})
        );
        assert_eq!(
            contents[2],
            json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "18°C and sunny"}}}]})
        );
        let want: &[&str] = match client {
            Client::OpenAi => &[
                "role+text:",
                "tool:get_weather",
                "args:{\"city\":\"Paris\"}",
                "finish:tool_calls",
                "[DONE]",
            ],
            Client::Anthropic => &[
                "message_start",
                "content_block_start:tool_use",
                "content_block_delta:input_json_delta:{\"city\":\"Paris\"}",
                "content_block_stop",
                "message_delta:tool_use",
                "message_stop",
            ],
        };
        assert_eq!(a.events, want);
    }
}

#[tokio::test]
async fn gemini_json_schema_both_dialects() {
    for (_, sent) in matrix::json_schema(bin(), KIND).await {
        let config = &sent.json()["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        assert_eq!(config["responseJsonSchema"], req::weather_schema());
    }
}

#[tokio::test]
async fn gemini_images_by_url_and_base64_both_dialects() {
    for (_, sent) in matrix::images(bin(), KIND).await {
        assert_eq!(
            sent.json()["contents"][0]["parts"],
            json!([
                {"text": "Compare these."},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": req::IMAGE_URL}},
                {"inlineData": {"mimeType": "image/png", "data": req::PNG_B64}}
            ])
        );
    }
}

#[tokio::test]
async fn gemini_stop_sequences_and_max_tokens_both_dialects() {
    for (_, capped, _) in matrix::stop_and_max_tokens(bin(), KIND).await {
        assert_eq!(
            capped.json()["generationConfig"],
            json!({"maxOutputTokens": 5, "stopSequences": ["END"]})
        );
    }
}

#[tokio::test]
async fn gemini_errors_in_each_dialect_and_failover() {
    matrix::errors(bin(), KIND).await;
}

#[tokio::test]
async fn gemini_error_event_mid_stream_reaches_both_dialects() {
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
                    "content_block_delta:text_delta:Hel",
                    "error:overloaded_error"
                ]
            ),
        }
    }
}

#[tokio::test]
async fn gemini_json_mode_for_openai_clients() {
    let sent = matrix::json_mode(bin(), KIND).await.json();
    assert_eq!(
        sent["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
}

#[tokio::test]
async fn gemini_stream_fails_over_to_an_openai_spare_in_each_dialect() {
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
