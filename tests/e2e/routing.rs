//! Strategies and context-window routing through the real binary: weighted and
//! lowest-latency distributions over many requests, cost ordering by prompt size, and prompts
//! on both sides of a small context window.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::{
    filter_with, model, provider, route, weighted, Config, Model, RawRoute, RawStrategy,
};
use switchyard_e2e::{openai, MockProvider, Reply};

fn ok(text: &str) -> Reply {
    Reply::json(&openai::completion(text, 5, 2))
}

/// Providers `pa` (openai) at `a` and `pb` (openai_compatible) at `b`, models `a` on `pa`
/// and `b` on `pb` as the caller finishes them, and `route`.
fn two_models(
    a: &str,
    b: &str,
    model_a: impl FnOnce(Model) -> Model,
    model_b: impl FnOnce(Model) -> Model,
    route: RawRoute,
) -> Config {
    Config::new()
        .provider(provider("pa", "openai", &format!("{a}/v1")))
        .provider(provider("pb", "openai_compatible", &format!("{b}/v1")))
        .model(model_a(model("a", "pa")))
        .model(model_b(model("b", "pb")))
        .route_with(route)
}

/// Route `r` with `strategy` over `targets`.
fn with_strategy(strategy: RawStrategy, targets: &[&str]) -> RawRoute {
    RawRoute {
        strategy: Some(strategy),
        ..route("r", targets)
    }
}

fn same(m: Model) -> Model {
    m
}

async fn served_by(base: &str, body: &Value, n: usize, concurrency: usize) -> Vec<String> {
    let client = client();
    let mut out = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(concurrency) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|_| {
                let (client, url, body) = (
                    client.clone(),
                    format!("{base}/v1/chat/completions"),
                    body.clone(),
                );
                tokio::spawn(async move {
                    let r = client
                        .post(url)
                        .bearer_auth(CLIENT_KEY)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.headers()["x-switchyard-model"]
                        .to_str()
                        .unwrap()
                        .to_string()
                })
            })
            .collect();
        for t in tasks {
            out.push(t.await.unwrap());
        }
    }
    out
}

/// Two mocks, answering `a` and `b`.
async fn answering_a_and_b() -> (MockProvider, MockProvider) {
    (
        MockProvider::start(ok("a")).await,
        MockProvider::start(ok("b")).await,
    )
}

fn share(models: &[String], id: &str) -> f64 {
    models.iter().filter(|m| *m == id).count() as f64 / models.len() as f64
}

#[tokio::test]
async fn weighted_3_to_1_over_400_requests() {
    let (a, b) = answering_a_and_b().await;
    let gw = gateway_for(&two_models(
        &a.base(),
        &b.base(),
        same,
        same,
        weighted("r", &[("a", 3), ("b", 1)]),
    ))
    .start();
    let got = served_by(&gw.base, &openai::request("r", false), 400, 8).await;
    let s = share(&got, "a");
    assert!((0.65..=0.85).contains(&s), "share of a: {s}");
    assert_eq!(a.hits() + b.hits(), 400, "one upstream request each");
}

#[tokio::test]
async fn weighted_failover_still_reaches_every_target() {
    let a = MockProvider::start(Reply::status_json(
        503,
        &openai::error("down", "server_error", None),
    ))
    .await;
    let b = MockProvider::start(ok("b")).await;
    let gw = gateway_for(
        &two_models(
            &a.base(),
            &b.base(),
            same,
            same,
            weighted("r", &[("a", 9), ("b", 1)]),
        )
        .filters(["auth", "route", "translate", "metrics"]),
    )
    .start();
    let got = served_by(&gw.base, &openai::request("r", false), 40, 4).await;
    assert!(got.iter().all(|m| m == "b"));
}

#[tokio::test]
async fn lowest_latency_sends_most_traffic_to_the_faster_target_and_keeps_exploring() {
    let a = MockProvider::start(ok("fast")).await;
    let b = MockProvider::start(Reply::Delay(
        Duration::from_millis(120),
        Box::new(ok("slow")),
    ))
    .await;
    let gw = gateway_for(&two_models(
        &a.base(),
        &b.base(),
        same,
        same,
        with_strategy(RawStrategy::LowestLatency, &["b", "a"]),
    ))
    .start();
    let got = served_by(&gw.base, &openai::request("r", false), 300, 1).await;
    let fast = share(&got, "a");
    assert!(fast >= 0.88, "share of the fast target: {fast}");
    // Untried first, then ~5% exploration keeps measuring the slow one.
    assert!(b.hits() >= 3, "slow target never re-measured: {}", b.hits());
}

#[tokio::test]
async fn lowest_cost_weighs_prompt_and_output_prices() {
    let (a, b) = answering_a_and_b().await;
    let gw = gateway_for(&two_models(
        &a.base(),
        &b.base(),
        |m| m.priced(0.10, 10.0),
        |m| m.priced(3.0, 0.50),
        with_strategy(RawStrategy::LowestCost, &["a", "b"]),
    ))
    .start();
    let mut short = openai::request("r", false);
    short["max_completion_tokens"] = json!(4000);
    let mut long = openai::request("r", false);
    long["messages"][1]["content"] = json!("word ".repeat(40_000));
    long["max_completion_tokens"] = json!(10);
    let resp = post(&gw.base, "/v1/chat/completions", &short).await;
    assert_eq!(
        resp.headers()["x-switchyard-model"],
        "b",
        "output price dominates"
    );
    let resp = post(&gw.base, "/v1/chat/completions", &long).await;
    assert_eq!(
        resp.headers()["x-switchyard-model"],
        "a",
        "input price dominates"
    );
}

/// Model `a` (window 4,000) at `small`, then `b` (window 200,000) at `large`, as route `r`.
fn context_config(small: &str, large: &str) -> Config {
    two_models(
        small,
        large,
        |m| m.upstream("gpt-4o-mini").context_window(4000),
        |m| m.upstream("big-local-model").context_window(200_000),
        route("r", &["a", "b"]),
    )
}

fn prompt(words: usize) -> Value {
    let mut r = openai::request("r", false);
    r["messages"][1]["content"] = json!("hello ".repeat(words));
    r
}

#[tokio::test]
async fn short_prompts_stay_on_the_small_window_and_long_ones_are_rerouted() {
    let (small, large) = (
        MockProvider::start(ok("small")).await,
        MockProvider::start(ok("large")).await,
    );
    let gw = gateway_for(&context_config(&small.base(), &large.base())).start();
    // ~2,000 prompt tokens + 1,024 default output fit 4,000.
    let resp = post(&gw.base, "/v1/chat/completions", &prompt(2_000)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "a");
    assert!(resp.headers().get("x-switchyard-context-reroute").is_none());
    // ~3,500 do not: the large window answers, and the header gives the count.
    let resp = post(&gw.base, "/v1/chat/completions", &prompt(3_500)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "b");
    assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    let counted: u64 = resp.headers()["x-switchyard-context-reroute"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3_500..5_000).contains(&counted), "{counted}");
    // A requested output that does not fit reroutes a short prompt too.
    let mut r = prompt(100);
    r["max_completion_tokens"] = json!(3_950);
    let resp = post(&gw.base, "/v1/chat/completions", &r).await;
    assert_eq!(resp.headers()["x-switchyard-model"], "b");
    // Nothing fits: 400 naming the counts, and no upstream request.
    let resp = post(&gw.base, "/v1/chat/completions", &prompt(250_000)).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("200000"), "{msg}");
    assert_eq!((small.hits(), large.hits()), (1, 2));
    assert!(
        gw.eventually(Duration::from_secs(2), || gw.metrics().contains(
            r#"switchyard_upstream_skips_total{model="a",provider="pa",reason="context window"} 2"#
        )),
        "{}",
        gw.metrics()
    );
    assert_eq!(gw.usage_records(4).len(), 4);
}

#[tokio::test]
async fn reject_answers_400_when_the_first_target_cannot_fit() {
    let (small, large) = (
        MockProvider::start(ok("small")).await,
        MockProvider::start(ok("large")).await,
    );
    let reject = filter_with("context_window", json!({"on_overflow": "reject"}));
    let config = context_config(&small.base(), &large.base()).filters([
        "auth".into(),
        reject,
        "route".into(),
        "translate".into(),
        "metrics".into(),
    ]);
    let gw = gateway_for(&config).start();
    let resp = post(&gw.base, "/v1/chat/completions", &prompt(2_000)).await;
    assert_eq!(resp.status(), 200);
    let resp = post(&gw.base, "/v1/chat/completions", &prompt(3_500)).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(body["error"]["param"], "messages");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("4000"),
        "{body}"
    );
    assert_eq!((small.hits(), large.hits()), (1, 0));
}
