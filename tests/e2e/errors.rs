//! Bad input gets a precise error in OpenAI's error JSON with the right status.

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::RawKey;
use switchyard_e2e::{openai, MockProvider, Reply};

async fn error_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    assert!(resp.headers().get("x-request-id").is_some());
    let body: Value = resp.json().await.expect("error body is JSON");
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(e["type"].as_str().is_some(), "{body}");
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "{body}"
    );
    (status, body)
}

#[tokio::test]
async fn malformed_and_incomplete_requests_are_400() {
    let mock = MockProvider::start(Reply::json(&openai::completion("x", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let c = client();
    let url = format!("{}/v1/chat/completions", gw.base);
    let resp = c
        .post(&url)
        .bearer_auth(CLIENT_KEY)
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    let (s, b) = error_of(resp).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["type"], "invalid_request_error");

    let (s, b) = error_of(
        post(
            &gw.base,
            "/v1/chat/completions",
            &json!({"model": "gpt-4o-mini"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["param"], "messages");

    let (s, _) =
        error_of(post(&gw.base, "/v1/chat/completions", &json!({"messages": []})).await).await;
    assert_eq!(s, 400);
    assert_eq!(mock.hits(), 0);
    assert!(gw.stderr().contains("request rejected"));
}

#[tokio::test]
async fn keys_are_checked_401_and_403() {
    let mock = MockProvider::start(Reply::json(&openai::completion("x", 1, 1))).await;
    let narrow = RawKey {
        key_env: Some("NARROW_KEY".into()),
        models: Some(vec!["chat".into()]),
        ..key("narrow")
    };
    let config = one_model(&mock.base())
        .key(narrow)
        .route("chat", &["gpt-4o-mini"]);
    let gw = gateway_for(&config).env("NARROW_KEY", "sk-narrow").start();
    let c = client();
    let url = format!("{}/v1/chat/completions", gw.base);
    let body = openai::request("gpt-4o-mini", false);

    let (s, b) = error_of(c.post(&url).json(&body).send().await.unwrap()).await;
    assert_eq!(s, 401);
    assert_eq!(b["error"]["code"], "invalid_api_key");
    let with_key = |key: &'static str| {
        let sent = c.post(&url).bearer_auth(key).json(&body).send();
        async move { error_of(sent.await.unwrap()).await }
    };
    let (s, _) = with_key("sk-wrong").await;
    assert_eq!(s, 401);
    let (s, b) = with_key("sk-narrow").await;
    assert_eq!(s, 403);
    assert_eq!(b["error"]["code"], "model_not_allowed");
    let ok = c
        .post(&url)
        .header("x-api-key", "sk-narrow")
        .json(&openai::request("chat", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(mock.hits(), 1);
}

#[tokio::test]
async fn unknown_model_is_404_model_not_found() {
    let mock = MockProvider::start(Reply::json(&openai::completion("x", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let (s, b) = error_of(ask(&gw, "gpt-9").await).await;
    assert_eq!(s, 404);
    assert_eq!(b["error"]["code"], "model_not_found");
    let (s, _) = error_of(post(&gw.base, "/v1/nope", &json!({})).await).await;
    assert_eq!(s, 404);
    // provider/model names reach a declared deployment.
    let ok = ask(&gw, "mock/gpt-4o-mini-up").await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let mock = MockProvider::start(Reply::json(&openai::completion("x", 1, 1))).await;
    let config = one_model(&mock.base()).server(|s| s.max_body_bytes = Some("4KiB".into()));
    let gw = gateway_for(&config).start();
    let mut body = openai::request("gpt-4o-mini", false);
    body["messages"][1]["content"] = json!("x".repeat(10_000));
    let (s, b) = error_of(post(&gw.base, "/v1/chat/completions", &body).await).await;
    assert_eq!(s, 413);
    assert_eq!(b["error"]["code"], "request_too_large");
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn upstream_client_errors_pass_through_translated() {
    let mock = MockProvider::start(Reply::status_json(
        400,
        &openai::error(
            "Invalid value for 'temperature'",
            "invalid_request_error",
            None,
        ),
    ))
    .await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let (s, b) = error_of(ask(&gw, "gpt-4o-mini").await).await;
    assert_eq!(s, 400);
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("temperature"));
    assert_eq!(mock.hits(), 1, "a client-fault 4xx is not retried");
}
