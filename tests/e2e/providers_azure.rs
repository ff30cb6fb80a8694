//! `azure_openai` upstreams through the real binary, for OpenAI-SDK and Anthropic-SDK
//! clients. Azure speaks OpenAI's wire format, so these check what differs: the deployment
//! URL with `api-version`, the `api-key` header (never `Authorization`), and that every
//! feature still arrives in OpenAI's field names.

use serde_json::json;
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{anthropic_text_events, req, Client, Kind};

use crate::common::bin;

const KIND: Kind = Kind::Azure;

#[tokio::test]
async fn azure_text_reaches_the_deployment_url_with_api_key() {
    for (client, sent) in matrix::text(bin(), KIND).await {
        assert_eq!(
            sent.path,
            "/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01-preview"
        );
        assert_eq!(sent.header("authorization"), None);
        assert_eq!(sent.json()["model"], "prod-gpt4o");
        assert_eq!(sent.json()["messages"][0]["role"], "system", "{client:?}");
    }
}

#[tokio::test]
async fn azure_stream_events_both_dialects() {
    for (client, a, _) in matrix::stream(bin(), KIND, &["Hel", "lo"]).await {
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
async fn azure_tools_and_round_trip_both_dialects() {
    for (client, [_, _, result], a) in matrix::tools(bin(), KIND).await {
        assert_eq!(result.json()["messages"][2]["tool_call_id"], "call_abc123");
        assert_eq!(result.json()["tools"][0]["function"]["name"], "get_weather");
        let last = a.events.last().unwrap();
        match client {
            Client::OpenAi => assert_eq!(last, "[DONE]"),
            Client::Anthropic => assert_eq!(last, "message_stop"),
        }
    }
}

#[tokio::test]
async fn azure_json_schema_images_stop_and_max_tokens_both_dialects() {
    for (_, sent) in matrix::json_schema(bin(), KIND).await {
        let f = &sent.json()["response_format"];
        assert_eq!(f["type"], "json_schema");
        assert_eq!(f["json_schema"]["schema"], req::weather_schema());
    }
    for (_, sent) in matrix::images(bin(), KIND).await {
        let b = sent.json();
        let parts = &b["messages"].as_array().unwrap().last().unwrap()["content"];
        assert_eq!(
            parts[1],
            json!({"type": "image_url", "image_url": {"url": req::IMAGE_URL}})
        );
        assert_eq!(
            parts[2]["image_url"]["url"],
            format!("data:image/png;base64,{}", req::PNG_B64)
        );
    }
    for (client, capped, _) in matrix::stop_and_max_tokens(bin(), KIND).await {
        let b = capped.json();
        assert_eq!(b["stop"], json!(["END"]));
        let cap = if client == Client::OpenAi {
            "max_tokens"
        } else {
            "max_completion_tokens"
        };
        assert_eq!(b[cap], 5);
    }
}

#[tokio::test]
async fn azure_errors_in_each_dialect_and_failover() {
    matrix::errors(bin(), KIND).await;
}

#[tokio::test]
async fn azure_error_event_mid_stream_reaches_both_dialects() {
    for (client, a) in matrix::stream_error(bin(), KIND).await {
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
async fn azure_json_mode_for_openai_clients() {
    let sent = matrix::json_mode(bin(), KIND).await.json();
    assert_eq!(sent["response_format"], json!({"type": "json_object"}));
}

#[tokio::test]
async fn azure_stream_fails_over_to_an_openai_spare_in_each_dialect() {
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
