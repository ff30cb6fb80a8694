//! Parameters a target can't take, and names that reach upstream URLs, through the real
//! binary. Dropped parameters are named in `x-switchyard-dropped-params` and the log;
//! `strict_params: true` on a model or a route refuses with a 400 naming the parameter, in
//! the client's error shape, before any upstream request. A Gemini model or Azure deployment
//! whose name could change the upstream URL (`/`, `..`, `?`, `#`, whitespace) is a 400, and
//! the provider sees nothing. `reasoning_effort` becomes a thinking budget where the target
//! has one.

use serde_json::{json, Value};
use switchyard_e2e::config::{model, route, Config};
use switchyard_e2e::providers::{error_of, reply, req, Client, Kind, Rig};

use crate::common::bin;

/// Adds model `strict` (upstream `upstream`) and route `careful` over `m`, both with
/// `strict_params: true`.
fn strict(config: Config, upstream: &str) -> Config {
    let mut careful = route("careful", &["m"]);
    careful.strict_params = Some(true);
    config
        .model(model("strict", "up").upstream(upstream).strict_params())
        .route_with(careful)
}

fn dropped(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("x-switchyard-dropped-params")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn dropped_params_are_named_in_a_header_and_the_log() {
    let rig = Rig::answering(bin(), Kind::Anthropic, "Hi").await;
    let mut body = req::text(Client::OpenAi, "m", false);
    body["logit_bias"] = json!({"50256": -100});
    body["seed"] = json!(7);
    body["n"] = json!(1);
    let resp = rig.ask(Client::OpenAi, &body).await;
    assert_eq!(resp.status(), 200);
    // `n: 1` is the neutral value: nothing lost, nothing reported.
    assert_eq!(dropped(&resp).as_deref(), Some("logit_bias, seed"));
    let sent = rig.sent_nth(0).json();
    for gone in ["logit_bias", "seed", "n"] {
        assert!(sent.get(gone).is_none(), "{gone} reached Anthropic: {sent}");
    }
    let log = rig.gw.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("parameters dropped"))
        .unwrap_or_else(|| panic!("no log line in\n{log}"));
    assert!(
        line.contains("logit_bias, seed") && line.contains("request_id"),
        "{line}"
    );

    // A stream says the same in its response head.
    rig.mock
        .push(reply::text_stream(Kind::Anthropic.wire(), &["Hi"]));
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let resp = rig.ask(Client::OpenAi, &streamed).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp).as_deref(), Some("logit_bias, seed"));
    resp.text().await.unwrap();

    // Anthropic to Anthropic passes top_k through: nothing dropped.
    let mut body = req::text(Client::Anthropic, "m", false);
    body["top_k"] = json!(5);
    let resp = rig.ask(Client::Anthropic, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp), None);
    assert_eq!(rig.sent_nth(2).json()["top_k"], 5);
}

#[tokio::test]
async fn strict_params_on_a_model_or_a_route_refuse_with_400_naming_the_parameter() {
    let rig = Rig::start_with(
        bin(),
        Kind::Anthropic,
        reply::text(Kind::Anthropic.wire(), "Hi"),
        |c| strict(c, "claude-sonnet-4-5"),
    )
    .await;
    for model in ["strict", "careful"] {
        let mut body = req::text(Client::OpenAi, model, false);
        body["logit_bias"] = json!({"50256": -100});
        let resp = rig.ask(Client::OpenAi, &body).await;
        assert_eq!(resp.status(), 400);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
        assert_eq!(v["error"]["param"], "logit_bias", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("logit_bias"),
            "{v}"
        );
    }
    // Without the parameter the strict model answers.
    let resp = rig
        .ask(Client::OpenAi, &req::text(Client::OpenAi, "strict", false))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(rig.mock.hits(), 1, "refusals never reach the provider");
}

#[tokio::test]
async fn anthropic_clients_get_drops_and_strict_refusals_in_their_own_shape() {
    let rig = Rig::start_with(
        bin(),
        Kind::OpenAi,
        reply::text(Kind::OpenAi.wire(), "Hi"),
        |c| strict(c, "gpt-4o-mini-2024-07-18"),
    )
    .await;
    let mut body = req::text(Client::Anthropic, "m", false);
    body["top_k"] = json!(5);
    let resp = rig.ask(Client::Anthropic, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp).as_deref(), Some("top_k"));
    assert!(rig.sent().json().get("top_k").is_none());

    body["model"] = json!("strict");
    let (status, ty, message) =
        error_of(Client::Anthropic, rig.ask(Client::Anthropic, &body).await).await;
    assert_eq!((status, ty.as_str()), (400, "invalid_request_error"));
    assert!(message.contains("top_k"), "{message}");
    assert_eq!(rig.mock.hits(), 1);
}

#[tokio::test]
async fn gemini_drops_what_it_lacks_and_keeps_top_k() {
    let rig = Rig::answering(bin(), Kind::Gemini, "Hi").await;
    let mut body = req::text(Client::OpenAi, "m", false);
    body["logit_bias"] = json!({"50256": -100});
    body["seed"] = json!(7);
    let resp = rig.ask(Client::OpenAi, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp).as_deref(), Some("logit_bias"));
    assert_eq!(
        rig.sent_nth(0).json()["generationConfig"],
        json!({"seed": 7})
    );

    let mut body = req::text(Client::Anthropic, "m", false);
    body["top_k"] = json!(40);
    let resp = rig.ask(Client::Anthropic, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp), None);
    assert_eq!(
        rig.sent_nth(1).json()["generationConfig"],
        json!({"maxOutputTokens": 256, "topK": 40})
    );
}

/// Models whose upstream name must never be put in a URL.
const BAD_NAMES: [(&str, &str); 6] = [
    ("slash", "gemini-2.5-flash/../../v1/files"),
    ("dots", ".."),
    ("query", "gemini-2.5-flash:generateContent?key=x"),
    ("fragment", "gemini-2.5-flash#x"),
    ("space", "gemini 2.5"),
    ("encoded", "gemini%2F..%2Fx"),
];

/// `switchyard check` on a config whose provider is `provider` (YAML lines under `- id: up`)
/// and whose second model is upstream name `name`: whether it passed and what it printed.
fn check_upstream_name(provider: &str, name: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sw.yaml");
    let yaml = format!(
        "version: 1\nproviders:\n  - id: up\n{provider}models:\n  - id: ok\n    provider: up\n    model: fine\n  - id: bad\n    provider: up\n    model: {}\n",
        json!(name)
    );
    std::fs::write(&path, yaml).unwrap();
    let out = std::process::Command::new(bin())
        .arg("check")
        .arg("--config")
        .arg(&path)
        .env_clear()
        .env("K", "x")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Every request to such a model would be refused (the data path checks each URL part), so
/// the config is refused instead, at the model's line: no request ever carries the name.
fn names_are_config_errors(provider: &str, what: &str) {
    for (_, name) in BAD_NAMES {
        let (ok, out) = check_upstream_name(provider, name);
        assert!(!ok, "{name:?} accepted:\n{out}");
        for needle in ["models[1].model (line 13)", "model `bad`", what, "URL"] {
            assert!(out.contains(needle), "{name:?}: no `{needle}` in:\n{out}");
        }
    }
    let (ok, out) = check_upstream_name(provider, "gemini-2.5-flash");
    assert!(ok, "{out}");
}

#[test]
fn gemini_model_names_that_would_change_the_url_are_config_errors() {
    names_are_config_errors(
        "    type: gemini\n    base_url: http://127.0.0.1:9\n    api_key_env: K\n",
        "model",
    );
}

#[test]
fn azure_deployment_names_that_would_change_the_url_are_config_errors() {
    names_are_config_errors(
        "    type: azure_openai\n    base_url: http://127.0.0.1:9/\n    api_key_env: K\n",
        "deployment",
    );
}

#[tokio::test]
async fn reasoning_effort_becomes_a_thinking_budget_for_anthropic_and_gemini() {
    let claude = Rig::answering(bin(), Kind::Anthropic, "Hi").await;
    let goog = Rig::answering(bin(), Kind::Gemini, "Hi").await;
    let mut body = req::text(Client::OpenAi, "m", false);
    body["reasoning_effort"] = json!("low");
    body["max_completion_tokens"] = json!(8000);
    for rig in [&claude, &goog] {
        let resp = rig.ask(Client::OpenAi, &body).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(dropped(&resp), None);
    }
    let sent = claude.sent().json();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(sent["max_tokens"], 8000);
    assert_eq!(
        goog.sent().json()["generationConfig"],
        json!({"maxOutputTokens": 8000, "thinkingConfig": {"thinkingBudget": 1024}})
    );
}

#[tokio::test]
async fn anthropic_thinking_reaches_gemini_as_its_budget_and_thoughts_come_back_as_thinking() {
    let mut answer = switchyard_e2e::gemini::response("Hi", "STOP", 9, 3);
    answer["candidates"][0]["content"]["parts"] =
        json!([{"text": "**Greeting**\nSay hi briefly.", "thought": true}, {"text": "Hi"}]);
    answer["usageMetadata"]["thoughtsTokenCount"] = json!(40);
    let rig = Rig::start(bin(), Kind::Gemini, switchyard_e2e::Reply::json(&answer)).await;
    let mut body = req::text(Client::Anthropic, "m", false);
    body["max_tokens"] = json!(4096);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let resp = rig.ask(Client::Anthropic, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(dropped(&resp), None);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["content"][0]["type"], "thinking", "{v}");
    assert_eq!(v["content"][0]["thinking"], "**Greeting**\nSay hi briefly.");
    assert_eq!(v["content"][1], json!({"type": "text", "text": "Hi"}));
    assert_eq!(v["usage"]["output_tokens"], 43, "thoughts count as output");
    assert_eq!(
        rig.sent().json()["generationConfig"],
        json!({"maxOutputTokens": 4096, "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": true}})
    );
}
