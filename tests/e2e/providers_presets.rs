//! Presets through the real binary: `preset: groq` (base URL overridden to a mock) sends
//! `max_completion_tokens` as Groq documents, drops the parameters Groq answers 400 to
//! (`logprobs`, `logit_bias`, `top_logprobs`) and names them in `x-switchyard-dropped-params`,
//! or refuses them under `strict_params`; a `pricing: free` local preset meters at $0.

use serde_json::{json, Value};
use switchyard_e2e::{openai, GatewayBuilder, MockProvider, Reply};

use crate::common::{bin, model, Config, RawProvider};

#[tokio::test]
async fn groq_preset_drops_what_groq_refuses_and_strict_refuses_it() {
    let groq = MockProvider::start(Reply::json(&openai::completion("hi", 5, 2))).await;
    let groq_preset = RawProvider {
        id: "groq".into(),
        preset: Some("groq".into()),
        base_url: Some(format!("{}/openai/v1", groq.base())),
        ..RawProvider::default()
    };
    let config = Config::new()
        .auth_disabled()
        .provider(groq_preset)
        .model(model("llama", "groq").upstream("llama-3.3-70b-versatile"))
        .model(
            model("llama-strict", "groq")
                .upstream("llama-3.3-70b-versatile")
                .strict_params(),
        );
    let gw = GatewayBuilder::new(bin(), config.yaml())
        .env("GROQ_API_KEY", "gsk-test-123456")
        .start();
    let client = reqwest::Client::new();
    let body = json!({"model": "llama", "messages": [{"role": "user", "content": "Hi"}],
        "logit_bias": {"50256": -100}, "top_logprobs": 2, "logprobs": true, "temperature": 0.2});
    let resp = client
        .post(format!("{}/v1/chat/completions", gw.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let dropped = resp.headers()["x-switchyard-dropped-params"]
        .to_str()
        .unwrap()
        .to_owned();
    for p in ["logit_bias", "top_logprobs", "logprobs"] {
        assert!(dropped.contains(p), "{dropped}");
    }
    let sent = groq.received()[0].clone();
    assert_eq!(sent.path, "/openai/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer gsk-test-123456"));
    let sent: Value = sent.json();
    assert!(
        sent.get("logit_bias").is_none() && sent.get("logprobs").is_none(),
        "{sent}"
    );
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["model"], "llama-3.3-70b-versatile");
    // The catalog priced it: Groq's Llama 3.3 70B.
    let rec = &gw.usage_records(1)[0];
    assert!(rec["cost_usd"].as_f64().unwrap() > 0.0, "{rec}");

    let mut strict = body.clone();
    strict["model"] = json!("llama-strict");
    let resp = client
        .post(format!("{}/v1/chat/completions", gw.base))
        .json(&strict)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");
    assert_eq!(groq.hits(), 1, "a refused request never reaches Groq");
}
