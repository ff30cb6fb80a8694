//! Provider config keys as they reach the wire: `base_url` (with a path, a trailing slash),
//! `api_version` (Azure's query, Anthropic's header) and its defaults, `headers`, a keyless
//! `openai_compatible` provider, and Gemini's `models/` resource-name form; and the one client
//! header that is forwarded, `anthropic-beta` (Anthropic client to Anthropic upstream).

use serde_json::json;
use switchyard_e2e::config::OrderedMap;
use switchyard_e2e::{anthropic, gemini, openai, MockProvider, Reply};

use crate::common::{
    bin, gateway_for, model, provider, Config, RawProvider, CLIENT_KEY, PROVIDER_KEY,
};

fn start(config: Config) -> switchyard_e2e::Gateway {
    gateway_for(&config).start()
}

/// `headers:` with one entry.
fn header(name: &str, value: &str) -> Option<OrderedMap> {
    Some(OrderedMap(vec![(name.into(), value.into())]))
}

async fn chat(gw: &switchyard_e2e::Gateway, model: &str) -> u16 {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth(CLIENT_KEY)
        .json(&openai::request(model, false))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 200, "{body}\n{}", gw.stderr());
    status
}

#[tokio::test]
async fn keyless_compatible_provider_sends_no_authorization_and_extra_headers_go_upstream() {
    let local = MockProvider::start(Reply::json(&openai::completion("Hi", 3, 1))).await;
    let claude = MockProvider::start(Reply::json(&anthropic::message("Hi", 3, 1))).await;
    let ollama = RawProvider {
        api_key_env: None,
        headers: header("X-Team", "search"),
        ..provider(
            "ollama",
            "openai_compatible",
            &format!("{}/v1/", local.base()),
        )
    };
    let claude_provider = RawProvider {
        api_version: Some("2024-01-01".into()),
        headers: header("anthropic-beta", "output-128k-2025-02-19"),
        ..provider("claude", "anthropic", &claude.base())
    };
    let gw = start(
        Config::new()
            .provider(ollama)
            .provider(claude_provider)
            .model(model("llama", "ollama").upstream("llama3.2"))
            .model(model("sonnet", "claude").upstream("claude-sonnet-4-5")),
    );
    assert_eq!(chat(&gw, "llama").await, 200);
    let sent = &local.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions", "no double slash");
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("x-team"), Some("search"));
    assert_eq!(sent.json()["model"], "llama3.2");

    assert_eq!(chat(&gw, "sonnet").await, 200);
    let sent = &claude.received()[0];
    assert_eq!(sent.header("anthropic-version"), Some("2024-01-01"));
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("output-128k-2025-02-19")
    );
    assert_eq!(sent.header("x-api-key"), Some(PROVIDER_KEY));

    // An Anthropic SDK client's own beta flags join the configured ones.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.base))
        .header("x-api-key", CLIENT_KEY)
        .header("anthropic-version", "2023-06-01")
        .header(
            "anthropic-beta",
            "interleaved-thinking-2025-05-14,output-128k-2025-02-19",
        )
        .json(&anthropic::request("sonnet", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = &claude.received()[1];
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("output-128k-2025-02-19,interleaved-thinking-2025-05-14")
    );
    assert_eq!(sent.header("anthropic-version"), Some("2024-01-01"));
    assert_eq!(sent.header("x-api-key"), Some(PROVIDER_KEY));
}

#[tokio::test]
async fn anthropic_beta_flags_reach_anthropic_only_from_anthropic_clients() {
    use switchyard_e2e::providers::{req, Client, Kind, Rig};
    let bin = bin();
    let beta = "context-1m-2025-08-07";
    let ask = |rig: &Rig, client: Client| {
        let url = match client {
            Client::OpenAi => format!("{}/v1/chat/completions", rig.gw.base),
            Client::Anthropic => format!("{}/v1/messages", rig.gw.base),
        };
        reqwest::Client::new()
            .post(url)
            .header("x-api-key", CLIENT_KEY)
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", beta)
            .json(&req::text(client, "m", false))
            .send()
    };
    let claude = Rig::answering(bin, Kind::Anthropic, "Hi").await;
    assert_eq!(ask(&claude, Client::Anthropic).await.unwrap().status(), 200);
    assert_eq!(ask(&claude, Client::OpenAi).await.unwrap().status(), 200);
    assert_eq!(claude.sent_nth(0).header("anthropic-beta"), Some(beta));
    assert_eq!(claude.sent_nth(1).header("anthropic-beta"), None);
    let goog = Rig::answering(bin, Kind::Gemini, "Hi").await;
    assert_eq!(ask(&goog, Client::Anthropic).await.unwrap().status(), 200);
    assert_eq!(goog.sent().header("anthropic-beta"), None);
}

#[tokio::test]
async fn azure_defaults_its_api_version_and_gemini_takes_resource_names() {
    let azure = MockProvider::start(Reply::json(&openai::completion("Hi", 3, 1))).await;
    let goog = MockProvider::start(Reply::json(&gemini::response("Hi", "STOP", 3, 1))).await;
    let gw = start(
        Config::new()
            .provider(provider(
                "az",
                "azure_openai",
                &format!("{}/", azure.base()),
            ))
            .provider(provider("goog", "gemini", &goog.base()))
            .model(model("gpt", "az").upstream("gpt-4o-prod"))
            .model(model("flash", "goog").upstream("models/gemini-2.5-flash")),
    );
    assert_eq!(chat(&gw, "gpt").await, 200);
    assert_eq!(
        azure.received()[0].path,
        "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(chat(&gw, "flash").await, 200);
    let sent = &goog.received()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(
        sent.json()["contents"],
        json!([{"role": "user", "parts": [{"text": "Say hello."}]}])
    );
}

/// A Mistral-shaped stream: usage rides in the last content chunk, unasked.
fn mistral_stream() -> Reply {
    let chunk = |delta: serde_json::Value,
                 finish: serde_json::Value,
                 usage: Option<serde_json::Value>| {
        let mut v = json!({"id": "cmpl-e5cc70bb28c444948073e77776eb30ef", "object": "chat.completion.chunk",
            "created": 1702256327, "model": "mistral-small-latest",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]});
        if let Some(u) = usage {
            v["usage"] = u;
        }
        format!("data: {v}\n\n")
    };
    Reply::sse(&[
        chunk(
            json!({"role": "assistant", "content": ""}),
            json!(null),
            None,
        ),
        chunk(json!({"content": "Bonjour"}), json!(null), None),
        chunk(
            json!({"content": ""}),
            json!("stop"),
            Some(json!({"prompt_tokens": 10, "total_tokens": 14, "completion_tokens": 4})),
        ),
        "data: [DONE]\n\n".to_owned(),
    ])
}

#[tokio::test]
async fn stream_usage_false_leaves_stream_options_out_and_still_meters() {
    let mistral = MockProvider::start(mistral_stream()).await;
    let no_usage_option = RawProvider {
        stream_usage: Some(false),
        ..provider(
            "mistral",
            "openai_compatible",
            &format!("{}/v1", mistral.base()),
        )
    };
    let gw = start(
        Config::new()
            .provider(no_usage_option)
            .model(model("small", "mistral").upstream("mistral-small-latest")),
    );
    let c = reqwest::Client::new();
    for (client_path, body) in [
        ("/v1/chat/completions", {
            let mut b = openai::request("small", true);
            b["stream_options"] = json!({"include_usage": true});
            b
        }),
        ("/v1/messages", anthropic::request("small", true)),
    ] {
        let resp = c
            .post(format!("{}{client_path}", gw.base))
            .header("x-api-key", CLIENT_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        assert!(text.contains("Bonjour"), "{text}");
    }
    for sent in mistral.received() {
        let b = sent.json();
        assert!(b.get("stream_options").is_none(), "{b}");
        assert_eq!(b["stream"], true);
    }
    // The Anthropic client's max_tokens arrives under the name Mistral knows.
    assert_eq!(mistral.received()[1].json()["max_tokens"], 256);
    let recs = gw.usage_records(2);
    assert_eq!(recs.len(), 2);
    for r in recs {
        assert_eq!(
            (r["prompt_tokens"].as_u64(), r["completion_tokens"].as_u64()),
            (Some(10), Some(4)),
            "{r}"
        );
    }
}
