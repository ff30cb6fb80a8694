//! Per-key limits through the real binary: rpm and tpm (429 with `retry-after` in the client's
//! format), budgets under concurrency, `GET /budgets` and the budget gauges, and that a key
//! itself never shows up in logs, metrics, usage records or admin output.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::{RawBudget, RawKey};
use switchyard_e2e::{openai, GatewayBuilder, MockProvider, Reply};

/// A gateway for `config` whose key `app` has the limits `limits` sets.
fn limited(limits: impl FnOnce(&mut RawKey), config: Config) -> GatewayBuilder {
    gateway_for(&config.app_key(limits))
}

/// Waits until `n` requests were metered. A request's limits are settled to its real usage
/// when it completes, in the same pass (on the gateway's one worker thread) that writes its
/// usage record, after the client got the answer: the next request sees the real usage.
fn metered(gw: &switchyard_e2e::Gateway, n: usize) {
    let recs = gw.usage_records(n);
    assert_eq!(recs.len(), n, "{recs:?}");
}

fn anthropic_request(model: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello."}]})
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("retry-after")
        .expect("retry-after")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn rpm_limit_answers_429_with_retry_after_in_each_clients_format() {
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 10, 2))).await;
    let gw = limited(|k| k.rpm = Some(3), one_model(&mock.base())).start();
    for _ in 0..2 {
        let r = ask(&gw, "gpt-4o-mini").await;
        assert_eq!(r.status(), 200);
    }
    let r = post(&gw.base, "/v1/messages", &anthropic_request("gpt-4o-mini")).await;
    assert_eq!(r.status(), 200);

    let r = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!(
        (1..=20).contains(&wait),
        "one request frees up every 20 s: {wait}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("3 requests per minute"));

    let r = post(&gw.base, "/v1/messages", &anthropic_request("gpt-4o-mini")).await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
    assert_eq!(mock.hits(), 3, "refused requests never reach the upstream");

    gw.usage_records(5);
    let m = gw.metrics();
    assert_eq!(
        metric(
            &m,
            r#"switchyard_rate_limited_total{key_id="app",limit="rpm"}"#
        ),
        2.0
    );
}

#[tokio::test]
async fn tpm_limit_is_corrected_by_the_real_usage() {
    // Each answer reports 700 tokens, far above the ~15 estimated up front.
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 300, 400))).await;
    let gw = limited(|k| k.tpm = Some(1000), one_model(&mock.base())).start();
    let req = openai::request("gpt-4o-mini", false);
    let first = post(&gw.base, "/v1/chat/completions", &req).await;
    assert_eq!(first.status(), 200);
    metered(&gw, 1);
    // 700 charged after the fact: a small request still fits, and then the window is over.
    let second = post(&gw.base, "/v1/chat/completions", &req).await;
    assert_eq!(second.status(), 200);
    metered(&gw, 2);
    let third = post(&gw.base, "/v1/chat/completions", &req).await;
    assert_eq!(third.status(), 429);
    let wait = retry_after(&third);
    assert!(
        (20..=60).contains(&wait),
        "about 400 tokens over at 1000/min: {wait}"
    );
    let body: Value = third.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("1000 tokens per minute"));
    assert_eq!(mock.hits(), 2);
}

#[tokio::test]
async fn a_budget_holds_under_100_concurrent_requests() {
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 10, 10))).await;
    let cap = 0.105;
    let gw = limited(
        |k| k.budget = Some(budget(cap, RawPeriod::Daily)),
        priced_model(&mock.base()),
    )
    .start();
    let client = client();
    let tasks: Vec<_> = (0..100).map(|_| spawn_capped(&client, &gw.base)).collect();
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => ok += 1,
            429 => assert_eq!(body["error"]["code"], "budget_exceeded", "{body}"),
            s => panic!("unexpected {s}: {body}"),
        }
    }
    assert!((1..100).contains(&ok), "{ok} served");
    let recs = gw.usage_records(100);
    let spent: f64 = recs.iter().map(|r| r["cost_usd"].as_f64().unwrap()).sum();
    assert!((spent - ok as f64 * 0.01).abs() < 1e-9, "{spent} for {ok}");
    assert!(spent <= cap + 0.02 + 1e-9, "overspent: {spent}");

    // Keep going one at a time until it refuses: it never passes cap + one reservation.
    let mut total = spent;
    loop {
        // The last answer settled: its reservation released, its real cost spent.
        poll_until(|| budgets(&gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
        let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
        if r.status() == 429 {
            let wait = retry_after(&r);
            assert!(wait > 1 && wait <= 86_400, "until UTC midnight: {wait}");
            break;
        }
        assert_eq!(r.status(), 200);
        total += 0.01;
    }
    assert!(total >= cap - 1e-9 && total <= cap + 0.02 + 1e-9, "{total}");

    // Settlement runs once each response is written: wait until nothing is reserved.
    let budgets = poll_until(|| budgets(&gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
    let b = &budgets["budgets"][0];
    assert_eq!(b["key_id"], "app");
    assert_eq!(b["usd"], cap);
    assert_eq!(b["period"], "daily");
    assert_eq!(b["reserved"], 0.0);
    assert!((b["spent"].as_f64().unwrap() - total).abs() < 1e-6, "{b}");
    assert_eq!(b["remaining"], 0.0);
    assert!(
        b["resets_at"].as_str().unwrap().ends_with("T00:00:00Z"),
        "{b}"
    );
    let m = gw.metrics();
    assert_eq!(metric(&m, r#"switchyard_budget_usd{key_id="app"}"#), cap);
    assert_eq!(
        metric(&m, r#"switchyard_budget_remaining_usd{key_id="app"}"#),
        0.0
    );
}

#[tokio::test]
async fn a_failed_request_releases_its_reservation() {
    let mock = MockProvider::start(Reply::status_json(
        500,
        &openai::error("boom", "server_error", None),
    ))
    .await;
    let gw = limited(
        |k| k.budget = Some(budget(0.03, RawPeriod::Total)),
        priced_model(&mock.base()),
    )
    .start();
    for _ in 0..5 {
        let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
        // 502 while the upstream is tried; 503 once the default chain's circuit breaker has
        // opened on its failures. Neither may spend the budget.
        assert!(matches!(r.status().as_u16(), 502 | 503), "{}", r.status());
    }
    // Settlement runs once the response is written: wait for the last one to be released.
    let v = poll_until(|| budgets(&gw), |v| v["budgets"][0]["remaining"] == 0.03).await;
    assert_eq!(v["budgets"][0]["spent"], 0.0, "{v}");
    assert_eq!(v["budgets"][0]["remaining"], 0.03, "{v}");
    assert!(v["budgets"][0].get("resets_at").is_none());
}

#[tokio::test]
async fn keys_from_files_and_hashes_never_leak() {
    let file_key = "sk-file-key-c0ffee-99";
    let hashed_key = "sk-hashed-key-beef-42";
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key");
    std::fs::write(&key_path, format!("{file_key}\n")).unwrap();
    let sha = {
        let out = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(hashed_key.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    };
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 5, 5))).await;
    let from_file = RawKey {
        id: "from-file".into(),
        key_file: Some(key_path.display().to_string()),
        budget: Some(RawBudget {
            usd: 5.0,
            period: None,
        }),
        ..RawKey::default()
    };
    let hashed = RawKey {
        id: "hashed".into(),
        key_sha256: Some(sha),
        tpm: Some(100_000),
        ..RawKey::default()
    };
    let config = one_model(&mock.base()).key(from_file).key(hashed);
    let gw = limited(|k| k.rpm = Some(2), config).start();
    let c = client();
    let url = format!("{}/v1/chat/completions", gw.base);
    let mut statuses = Vec::new();
    for key in [
        CLIENT_KEY, CLIENT_KEY, CLIENT_KEY, file_key, hashed_key, "sk-wrong",
    ] {
        let r = c
            .post(&url)
            .bearer_auth(key)
            .json(&openai::request("gpt-4o-mini", false))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        let body = r.text().await.unwrap();
        assert!(!body.contains(key), "key echoed in body");
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 401]);
    let recs = gw.usage_records(6);
    let ids: Vec<&str> = recs.iter().map(|r| r["key_id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&"from-file") && ids.contains(&"hashed"),
        "{ids:?}"
    );
    let admin = |p: &str| switchyard_e2e::http::get_text(&format!("{}{p}", gw.admin)).unwrap();
    for (what, text) in [
        ("logs", gw.stderr()),
        ("usage", gw.stdout()),
        ("metrics", gw.metrics()),
        ("config", admin("/config")),
        ("budgets", admin("/budgets")),
    ] {
        for key in [CLIENT_KEY, file_key, hashed_key] {
            assert!(!text.contains(key), "a key leaked in {what}");
        }
    }
}

#[tokio::test]
async fn spend_and_windows_survive_a_reload() {
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 10, 10))).await;
    let config = priced_model(&mock.base()).app_key(|k| {
        k.rpm = Some(3);
        k.budget = Some(budget(1.0, RawPeriod::Monthly));
    });
    let gw = gateway_for(&config).start();
    for _ in 0..2 {
        let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
        assert_eq!(r.status(), 200);
    }
    // Same limits, one more route: a new config generation with new filter instances.
    std::fs::write(&gw.config_path, config.route("extra", &["m"]).yaml()).unwrap();
    assert!(gw.eventually(Duration::from_secs(10), || gw
        .metrics()
        .contains("switchyard_config_generation 2")));
    let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
    assert_eq!(r.status(), 200, "the third request of the minute");
    let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
    assert_eq!(r.status(), 429, "rpm window kept across the reload");
    let v = poll_until(|| budgets(&gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
    assert!(
        (v["budgets"][0]["spent"].as_f64().unwrap() - 0.03).abs() < 1e-9,
        "spend kept across the reload: {v}"
    );
}

#[tokio::test]
async fn chat_messages_and_embeddings_share_one_rpm_window_and_one_budget() {
    let chat = MockProvider::start(Reply::json(&openai::completion("ok", 10, 10))).await;
    let emb = MockProvider::start(Reply::json(&json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8}
    })))
    .await;
    // Chat: $0.01 per answer (10 output tokens at $1/1000). Embeddings: 8 tokens at $1/1000.
    let config = priced_model(&chat.base())
        .provider(provider("e", "openai", &format!("{}/v1", emb.base())))
        .model(model("emb", "e").priced(1000.0, 0.0));
    let gw = limited(
        |k| {
            k.rpm = Some(3);
            k.budget = Some(budget(1.0, RawPeriod::Total));
        },
        config,
    )
    .start();
    let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
    assert_eq!(r.status(), 200);
    let r = post(
        &gw.base,
        "/v1/messages",
        &json!({"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post(
        &gw.base,
        "/v1/embeddings",
        &json!({"model": "emb", "input": ["hello", "world"]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(
        &gw.base,
        "/v1/embeddings",
        &json!({"model": "emb", "input": "again"}),
    )
    .await;
    assert_eq!(
        r.status(),
        429,
        "the fourth request of the minute, on any endpoint"
    );
    let v = poll_until(|| budgets(&gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
    let spent = v["budgets"][0]["spent"].as_f64().unwrap();
    assert!(
        (spent - 0.028).abs() < 1e-9,
        "two chats and one embedding: {v}"
    );
}
