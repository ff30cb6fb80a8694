//! `GET /v1/models` (what the key may use, OpenAI or Anthropic shape) and `POST /v1/embeddings`
//! (OpenAI pass-through, Gemini batchEmbedContents translated, Anthropic refused).

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::RawKey;
use switchyard_e2e::{MockProvider, Reply};

/// Key `narrow` (variable `NARROW_KEY`) may use `chat` and `emb-*`, within 5 USD a month;
/// embeddings models at OpenAI (`openai`) and Gemini (`gemini`), and route `chat` over an
/// Anthropic model (also at `openai`).
fn config(openai: &str, gemini: &str) -> Config {
    let narrow = RawKey {
        key_env: Some("NARROW_KEY".into()),
        models: Some(vec!["chat".into(), "emb-*".into()]),
        budget: Some(budget(5.0, RawPeriod::Monthly)),
        ..key("narrow")
    };
    Config::new()
        .key(narrow)
        .provider(provider("oai", "openai", &format!("{openai}/v1")))
        .provider(provider("goog", "gemini", gemini))
        .provider(provider("claude", "anthropic", openai))
        .model(model("emb-openai", "oai").upstream("text-embedding-3-small"))
        .model(model("emb-gemini", "goog").upstream("gemini-embedding-001"))
        .model(model("sonnet", "claude").upstream("claude-sonnet-4-5"))
        .route("chat", &["sonnet"])
}

fn openai_embeddings() -> Value {
    json!({
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, 0.015797347]},
            {"object": "embedding", "index": 1, "embedding": [0.0151, -0.0079, 0.0004]}
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 9, "total_tokens": 9}
    })
}

#[tokio::test]
async fn models_lists_what_the_key_may_use_in_both_shapes() {
    let mock = MockProvider::start(Reply::json(&openai_embeddings())).await;
    let gw = gateway_for(&config(&mock.base(), &mock.base()))
        .env("NARROW_KEY", "sk-narrow")
        .start();
    let c = client();
    let models = |req: reqwest::RequestBuilder| async move {
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        let ids: Vec<String> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        (v, ids)
    };
    let url = format!("{}/v1/models", gw.base);
    let (all, ids) = models(c.get(&url).bearer_auth(CLIENT_KEY)).await;
    assert_eq!(all["object"], "list");
    assert_eq!(ids, ["chat", "emb-gemini", "emb-openai", "sonnet"]);
    assert_eq!(all["data"][1]["owned_by"], "goog");

    let narrow_request = c
        .get(&url)
        .header("x-api-key", "sk-narrow")
        .header("anthropic-version", "2023-06-01");
    let (narrow, ids) = models(narrow_request).await;
    assert_eq!(ids, ["chat", "emb-gemini", "emb-openai"]);
    assert_eq!(narrow["data"][0]["type"], "model");
    assert_eq!(narrow["has_more"], false);
    assert_eq!(narrow["first_id"], "chat");
    assert_eq!(narrow["budget"]["usd"], 5.0);
    assert_eq!(narrow["budget"]["remaining"], 5.0);
    assert_eq!(narrow["budget"]["period"], "monthly");
    assert!(
        all.get("budget").is_none(),
        "a key without a budget shows none"
    );

    let denied = c
        .get(format!("{}/v1/models", gw.base))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn embeddings_pass_through_to_openai_and_translate_for_gemini() {
    let oai = MockProvider::start(Reply::json(&openai_embeddings())).await;
    let goog = MockProvider::start(Reply::json(&json!({
        "embeddings": [{"values": [0.1, 0.2, 0.3]}, {"values": [0.4, 0.5, 0.6]}]
    })))
    .await;
    let gw = gateway_for(&config(&oai.base(), &goog.base()))
        .env("NARROW_KEY", "sk-narrow")
        .start();
    let req = json!({"model": "emb-openai", "input": ["hello", "world"]});
    let resp = post(&gw.base, "/v1/embeddings", &req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "emb-openai");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, openai_embeddings());
    let sent = oai.received()[0].clone();
    assert_eq!(sent.path, "/v1/embeddings");
    assert_eq!(sent.json()["model"], "text-embedding-3-small");
    assert_eq!(sent.json()["input"], json!(["hello", "world"]));

    let resp = post(
        &gw.base,
        "/v1/embeddings",
        &json!({"model": "emb-gemini", "input": ["hello", "world"]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"][1]["embedding"], json!([0.4, 0.5, 0.6]));
    assert_eq!(body["data"][1]["index"], 1);
    let sent = goog.received()[0].clone();
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(sent.header("x-goog-api-key"), Some(PROVIDER_KEY));
    assert_eq!(
        sent.json()["requests"][0]["content"]["parts"][0]["text"],
        "hello"
    );

    let refused = post(
        &gw.base,
        "/v1/embeddings",
        &json!({"model": "sonnet", "input": "x"}),
    )
    .await;
    assert_eq!(refused.status(), 400);
    let missing = post(&gw.base, "/v1/embeddings", &json!({"model": "emb-openai"})).await;
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["param"], "input");

    let recs = gw.usage_records(2);
    let first = recs.iter().find(|r| r["model"] == "emb-openai").unwrap();
    assert_eq!(first["endpoint"], "embeddings");
    assert_eq!(first["prompt_tokens"], 9);
}
