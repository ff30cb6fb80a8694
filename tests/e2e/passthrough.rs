//! OpenAI-compatible pass-through: JSON and streaming, the provider key added by the gateway,
//! the client key never forwarded, usage metered.

use crate::common::*;
use serde_json::json;
use switchyard_e2e::{openai, MockProvider, Reply};

#[tokio::test]
async fn json_response_passes_through_with_provider_key_and_headers() {
    let mock = MockProvider::start(Reply::json(&openai::completion("Hello!", 21, 3))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let resp = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(h.get("x-request-id").is_some());
    assert_eq!(h["x-switchyard-route"], "gpt-4o-mini");
    assert_eq!(h["x-switchyard-model"], "gpt-4o-mini");
    assert_eq!(h["x-switchyard-provider"], "mock");
    assert_eq!(h["x-switchyard-attempts"], "1");
    assert_eq!(h["content-type"], "application/json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body, openai::completion("Hello!", 21, 3));

    let got = mock.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v1/chat/completions");
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {PROVIDER_KEY}").as_str())
    );
    let sent = got[0].json();
    assert_eq!(sent["model"], "gpt-4o-mini-up");
    assert_eq!(sent["messages"], openai::request("x", false)["messages"]);
    for (name, value) in &got[0].headers {
        assert!(
            !value.contains(CLIENT_KEY),
            "client key forwarded in {name}"
        );
    }

    let recs = gw.usage_records(1);
    assert_eq!(recs.len(), 1, "{}", gw.stdout());
    let r = &recs[0];
    assert_eq!(r["key_id"], "app");
    assert_eq!(r["model"], "gpt-4o-mini");
    assert_eq!(r["provider"], "mock");
    assert_eq!(r["status"], 200);
    assert_eq!(r["attempts"], 1);
    assert_eq!(r["prompt_tokens"], 21);
    assert_eq!(r["completion_tokens"], 3);
    let cost = r["cost_usd"].as_f64().unwrap();
    assert!(
        (cost - (21.0 * 0.15 + 3.0 * 0.60) / 1e6).abs() < 1e-12,
        "{cost}"
    );
}

#[tokio::test]
async fn stream_forwards_events_and_hides_the_usage_chunk_unless_asked() {
    let events = openai::stream(&["Hel", "lo", "!"], 12, 4);
    let mock = MockProvider::start(Reply::sse(&events)).await;
    let gw = gateway_for(&one_model(&mock.base())).start();

    let resp = ask_stream(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let text = resp.text().await.unwrap();
    let expected: String = events
        .iter()
        .filter(|e| !e.contains("\"choices\":[]"))
        .cloned()
        .collect();
    assert_eq!(text, expected);
    let sent = mock.received()[0].json();
    assert_eq!(sent["stream_options"]["include_usage"], true);

    let mut asked = openai::request("gpt-4o-mini", true);
    asked["stream_options"] = json!({"include_usage": true});
    let text = post(&gw.base, "/v1/chat/completions", &asked)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text, events.concat());

    let recs = gw.usage_records(2);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r["prompt_tokens"], 12);
        assert_eq!(r["completion_tokens"], 4);
        assert_eq!(r["stream"], true);
        assert!(r["ttft_ms"].as_f64().is_some());
    }
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_cost() {
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 100, 50))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    for _ in 0..3 {
        let r = ask(&gw, "gpt-4o-mini").await;
        assert_eq!(r.status(), 200);
    }
    gw.usage_records(3);
    let m = gw.metrics();
    let line = |prefix: &str| metric(&m, prefix);
    assert_eq!(
        line(
            r#"switchyard_requests_total{endpoint="chat_completions",key_id="app",model="gpt-4o-mini",outcome="success",provider="mock",route="gpt-4o-mini",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        line(
            r#"switchyard_tokens_total{key_id="app",model="gpt-4o-mini",provider="mock",route="gpt-4o-mini",type="prompt"}"#
        ),
        300.0
    );
    assert_eq!(
        line(
            r#"switchyard_tokens_total{key_id="app",model="gpt-4o-mini",provider="mock",route="gpt-4o-mini",type="completion"}"#
        ),
        150.0
    );
    let cost = line(
        r#"switchyard_cost_usd_total{key_id="app",model="gpt-4o-mini",provider="mock",route="gpt-4o-mini"}"#,
    );
    assert!((cost - 3.0 * (100.0 * 0.15 + 50.0 * 0.60) / 1e6).abs() < 1e-12);
    assert!(m.contains("gen_ai_client_token_usage_bucket"));
    assert!(m.contains("switchyard_time_to_first_token_seconds_bucket"));
}

#[tokio::test]
async fn provider_key_never_reaches_client_logs_metrics_or_config() {
    let mock = MockProvider::start(Reply::status_json(
        401,
        &openai::error(
            &format!("Incorrect API key provided: {PROVIDER_KEY}"),
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
    ))
    .await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let resp = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 401);
    let headers = format!("{:?}", resp.headers());
    let body = resp.text().await.unwrap();
    let config = switchyard_e2e::http::get_text(&format!("{}/config", gw.admin)).unwrap();
    assert!(
        config.contains("PROVIDER_KEY"),
        "config names the variable: {config}"
    );
    gw.usage_records(1);
    for (what, text) in [
        ("body", body),
        ("headers", headers),
        ("config", config),
        ("metrics", gw.metrics()),
        ("logs", gw.stderr()),
        ("usage", gw.stdout()),
    ] {
        assert!(
            !text.contains(PROVIDER_KEY),
            "provider key leaked in {what}: {text}"
        );
        assert!(!text.contains(CLIENT_KEY), "client key leaked in {what}");
    }
}
