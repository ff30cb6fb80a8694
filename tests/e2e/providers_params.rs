//! Parameters a target can't take, and names that reach upstream URLs, through the real
//! binary. Dropped parameters are named in `x-switchyard-dropped-params` and the log;
//! `strict_params: true` on a model or a route refuses with a 400 naming the parameter, in
//! the client's error shape, before any upstream request. A Gemini model or Azure deployment
//! whose name could change the upstream URL (`/`, `..`, `?`, `#`, whitespace) is a 400, and
//! the provider sees nothing. `reasoning_effort` becomes a thinking budget where the target
//! has one.

use serde_json::{json, Value};
use switchyard_e2e::providers::{error_of, reply, req, Client, Kind, Rig, CLIENTS};

use crate::common::bin;

const STRICT: &str =
    "  - id: strict\n    provider: up\n    model: claude-sonnet-4-5\n    strict_params: true\n";
const STRICT_ROUTE: &str =
    "  - name: careful\n    strict_params: true\n    targets: [{ model: m }]\n";

fn dropped(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("x-switchyard-dropped-params")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn dropped_params_are_named_in_a_header_and_the_log() {
    let rig = Rig::start(
        bin(),
        Kind::Anthropic,
        reply::text(Kind::Anthropic.wire(), "Hi"),
        "",
    )
    .await;
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
    let rig = Rig::start_with_routes(
        bin(),
        Kind::Anthropic,
        reply::text(Kind::Anthropic.wire(), "Hi"),
        STRICT,
        STRICT_ROUTE,
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
    let strict = "  - id: strict\n    provider: up\n    model: gpt-4o-mini-2024-07-18\n    strict_params: true\n";
    let rig = Rig::start(
        bin(),
        Kind::OpenAi,
        reply::text(Kind::OpenAi.wire(), "Hi"),
        strict,
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
    let rig = Rig::start(
        bin(),
        Kind::Gemini,
        reply::text(Kind::Gemini.wire(), "Hi"),
        "",
    )
    .await;
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

fn bad_models() -> String {
    BAD_NAMES
        .iter()
        .map(|(id, name)| {
            format!(
                "  - id: bad-{id}\n    provider: up\n    model: {}\n",
                json!(name)
            )
        })
        .collect()
}

async fn names_never_reach_urls(kind: Kind) {
    let rig = Rig::start(bin(), kind, reply::text(kind.wire(), "Hi"), &bad_models()).await;
    for (id, name) in BAD_NAMES {
        for client in CLIENTS {
            for stream in [false, true] {
                let body = req::text(client, &format!("bad-{id}"), stream);
                let (status, ty, message) = error_of(client, rig.ask(client, &body).await).await;
                assert_eq!(status, 400, "{kind:?} {name:?} {client:?}: {message}");
                assert_eq!(ty, "invalid_request_error");
                assert!(message.contains("URL"), "{message}");
            }
        }
    }
    assert_eq!(rig.mock.hits(), 0, "{:?}", rig.mock.received());
    // The well-named model still works.
    let resp = rig
        .ask(Client::OpenAi, &req::text(Client::OpenAi, "m", false))
        .await;
    assert_eq!(resp.status(), 200);
    kind.assert_sent(&rig.sent(), false);
}

#[tokio::test]
async fn gemini_model_names_that_would_change_the_url_are_400() {
    names_never_reach_urls(Kind::Gemini).await;
}

#[tokio::test]
async fn azure_deployment_names_that_would_change_the_url_are_400() {
    names_never_reach_urls(Kind::Azure).await;
}

#[tokio::test]
async fn azure_embeddings_to_a_bad_deployment_are_400() {
    let rig = Rig::start(
        bin(),
        Kind::Azure,
        reply::text(Kind::Azure.wire(), "Hi"),
        &bad_models(),
    )
    .await;
    let c = reqwest::Client::new();
    for (id, _) in BAD_NAMES {
        let resp = c
            .post(format!("{}/v1/embeddings", rig.gw.base))
            .bearer_auth(switchyard_e2e::providers::CLIENT_KEY)
            .json(&json!({"model": format!("bad-{id}"), "input": "hello"}))
            .send()
            .await
            .unwrap();
        let (status, _, message) = error_of(Client::OpenAi, resp).await;
        assert_eq!(status, 400, "{id}");
        assert!(message.contains("deployment"), "{message}");
    }
    assert_eq!(rig.mock.hits(), 0);
}

#[tokio::test]
async fn reasoning_effort_becomes_a_thinking_budget_for_anthropic_and_gemini() {
    let claude = Rig::start(
        bin(),
        Kind::Anthropic,
        reply::text(Kind::Anthropic.wire(), "Hi"),
        "",
    )
    .await;
    let goog = Rig::start(
        bin(),
        Kind::Gemini,
        reply::text(Kind::Gemini.wire(), "Hi"),
        "",
    )
    .await;
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
    let rig = Rig::start(
        bin(),
        Kind::Gemini,
        switchyard_e2e::Reply::json(&answer),
        "",
    )
    .await;
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
