//! Shaping the output: a JSON schema, JSON mode, images in the prompt, stop sequences and an
//! output cap, each as the upstream's own fields.

use serde_json::json;
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{req, Client, Kind, Wire};

use crate::common::bin;

/// Structured output: the schema reaches the upstream in its own form.
pub async fn json_schema(kind: Kind) {
    for (client, sent) in matrix::json_schema(bin(), kind).await {
        let b = sent.json();
        match (kind.wire(), client) {
            (Wire::OpenAi, _) => {
                let name = if client == Client::OpenAi {
                    "weather"
                } else {
                    "output"
                };
                assert_eq!(
                    b["response_format"],
                    json!({"type": "json_schema", "json_schema": {"name": name, "strict": true, "schema": req::weather_schema()}})
                );
            }
            // OpenAI's response_format becomes one forced tool whose input is the answer.
            (Wire::Anthropic, Client::OpenAi) => {
                assert_eq!(b["tools"][0]["name"], "switchyard_json_response");
                assert_eq!(b["tools"][0]["input_schema"], req::weather_schema());
                assert_eq!(
                    b["tool_choice"],
                    json!({"type": "tool", "name": "switchyard_json_response", "disable_parallel_tool_use": true})
                );
            }
            (Wire::Anthropic, Client::Anthropic) => assert_eq!(
                b["output_config"],
                json!({"format": {"type": "json_schema", "schema": req::weather_schema()}})
            ),
            (Wire::Gemini, _) => {
                let config = &b["generationConfig"];
                assert_eq!(config["responseMimeType"], "application/json");
                assert_eq!(config["responseJsonSchema"], req::weather_schema());
            }
        }
    }
}

/// JSON mode (OpenAI clients only): asked for in the upstream's own way.
pub async fn json_mode(kind: Kind) {
    let sent = matrix::json_mode(bin(), kind).await.json();
    match kind.wire() {
        Wire::OpenAi => assert_eq!(sent["response_format"], json!({"type": "json_object"})),
        // No schema: the forced tool takes any object.
        Wire::Anthropic => {
            assert_eq!(sent["tools"][0]["name"], "switchyard_json_response");
            assert_eq!(sent["tools"][0]["input_schema"]["type"], "object");
            assert_eq!(sent["tool_choice"]["name"], "switchyard_json_response");
        }
        Wire::Gemini => assert_eq!(
            sent["generationConfig"],
            json!({"responseMimeType": "application/json"})
        ),
    }
}

/// An image by URL and one in base64: the user turn's parts in the upstream's form.
pub async fn images(kind: Kind) {
    for (client, sent) in matrix::images(bin(), kind).await {
        let b = sent.json();
        let (parts, want) = match kind.wire() {
            Wire::OpenAi => (
                b["messages"].as_array().unwrap().last().unwrap()["content"].clone(),
                json!([
                    {"type": "text", "text": "Compare these."},
                    {"type": "image_url", "image_url": {"url": req::IMAGE_URL}},
                    {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", req::PNG_B64)}}
                ]),
            ),
            Wire::Anthropic => (
                b["messages"][0]["content"].clone(),
                json!([
                    {"type": "text", "text": "Compare these."},
                    {"type": "image", "source": {"type": "url", "url": req::IMAGE_URL}},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": req::PNG_B64}}
                ]),
            ),
            Wire::Gemini => (
                b["contents"][0]["parts"].clone(),
                json!([
                    {"text": "Compare these."},
                    {"fileData": {"mimeType": "image/jpeg", "fileUri": req::IMAGE_URL}},
                    {"inlineData": {"mimeType": "image/png", "data": req::PNG_B64}}
                ]),
            ),
        };
        assert_eq!(parts, want, "{client:?}");
    }
}

/// Stop sequence `END` and an output cap of 5, under the upstream's names.
pub async fn stop_and_max_tokens(kind: Kind) {
    for (client, capped, stopped) in matrix::stop_and_max_tokens(bin(), kind).await {
        match kind.wire() {
            Wire::OpenAi => {
                let b = capped.json();
                assert_eq!(b["stop"], json!(["END"]));
                let cap = match client {
                    Client::OpenAi => "max_tokens",
                    Client::Anthropic => "max_completion_tokens",
                };
                assert_eq!(b[cap], 5, "{client:?}: {b}");
            }
            Wire::Anthropic => {
                for r in [capped, stopped] {
                    let b = r.json();
                    assert_eq!(b["stop_sequences"], json!(["END"]));
                    assert_eq!(b["max_tokens"], 5);
                    assert!(b.get("stop").is_none());
                }
            }
            Wire::Gemini => assert_eq!(
                capped.json()["generationConfig"],
                json!({"maxOutputTokens": 5, "stopSequences": ["END"]})
            ),
        }
    }
}
