//! `state.backend: redis` through the real binary and a real redis-server: two gateway
//! processes enforce one rpm limit and one budget, and a Redis that dies mid-run is survived
//! per `on_unavailable` (fail_open keeps serving, fail_closed refuses with 429) without a
//! request ever hanging on it.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::RawOnUnavailable::{FailClosed, FailOpen};
use switchyard_e2e::config::{redis_state, RawBudget, RawKey, RawOnUnavailable};
use switchyard_e2e::{openai, Gateway, GatewayBuilder, MockProvider, RedisServer, Reply};

/// A gateway for `config` whose limits are shared in `redis` (`state.url_env: REDIS_URL`),
/// doing `on_unavailable` when Redis can't be reached.
fn redis_builder(
    redis: &RedisServer,
    config: Config,
    on_unavailable: RawOnUnavailable,
) -> GatewayBuilder {
    gateway_for(&config.state(redis_state("REDIS_URL", on_unavailable)))
        .env("REDIS_URL", &redis.url())
}

/// [`redis_builder`], started.
fn redis_gateway(redis: &RedisServer, config: Config, on_unavailable: RawOnUnavailable) -> Gateway {
    redis_builder(redis, config, on_unavailable).start()
}

/// A fresh Redis, a mock answering `ok`, and a gateway whose key `app` has `limits` in that
/// Redis, once the gateway has served one request (so it is connected).
async fn serving(
    limits: impl FnOnce(&mut RawKey),
    on_unavailable: RawOnUnavailable,
) -> (RedisServer, MockProvider, Gateway, Value) {
    let redis = RedisServer::start();
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 5, 5))).await;
    let config = one_model(&mock.base()).app_key(limits);
    let gw = redis_gateway(&redis, config, on_unavailable);
    let req = openai::request("gpt-4o-mini", false);
    assert_eq!(
        post(&gw.base, "/v1/chat/completions", &req).await.status(),
        200
    );
    (redis, mock, gw, req)
}

/// Sends `body` to `/v1/chat/completions` until it is served (200), for at most `within`:
/// a gateway connects to Redis on its first call (and again after an outage), and refuses
/// under `fail_closed` until it has.
async fn until_served(gw: &Gateway, body: &Value, within: Duration) {
    let deadline = Instant::now() + within;
    while post(&gw.base, "/v1/chat/completions", body).await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "not served within {within:?}:\n{}",
            gw.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Skips without redis-server on a developer's machine; fails in CI.
fn skip() -> bool {
    !switchyard_e2e::redis::required("shared_state")
}

#[tokio::test]
async fn two_gateways_enforce_one_rpm_limit() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 5, 5))).await;
    let config = || one_model(&mock.base()).app_key(|k| k.rpm = Some(4));
    let a = redis_gateway(&redis, config(), FailOpen);
    let b = redis_gateway(&redis, config(), FailOpen);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let gw = if i % 2 == 0 { &a } else { &b };
        let r = ask(gw, "gpt-4o-mini").await;
        if r.status() == 429 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=15).contains(&wait), "{wait}");
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    assert_eq!(mock.hits(), 4);
}

#[tokio::test]
async fn two_gateways_enforce_one_budget_under_concurrency() {
    if skip() {
        return;
    }
    let redis = RedisServer::start();
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 10, 10))).await;
    let cap = 0.105;
    let config =
        || priced_model(&mock.base()).app_key(|k| k.budget = Some(budget(cap, RawPeriod::Monthly)));
    let a = redis_gateway(&redis, config(), FailClosed);
    let b = redis_gateway(&redis, config(), FailClosed);
    // Each gateway connects to Redis on its first request, and refuses (fail_closed) until it
    // has: wait until each has served one, so the burst tests the budget, not the connection.
    let mut warm = 0;
    for gw in [&a, &b] {
        until_served(gw, &capped_request(), Duration::from_secs(10)).await;
        warm += 1;
    }
    let client = client();
    let tasks: Vec<_> = (0..100)
        .map(|i| spawn_capped(&client, if i % 2 == 0 { &a.base } else { &b.base }))
        .collect();
    let mut ok = warm;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            200 => ok += 1,
            429 => assert_eq!(body["error"]["code"], "budget_exceeded", "{body}"),
            s => panic!("{s}: {body}"),
        }
    }
    assert!(ok > warm, "none served");
    // Then one at a time, alternating, each once the last one has settled, until both refuse.
    let mut total = ok;
    for i in 0..40 {
        let gw = if i % 2 == 0 { &a } else { &b };
        poll_until(|| budgets(gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
        let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
        if r.status() == 429 {
            continue;
        }
        assert_eq!(r.status(), 200);
        total += 1;
    }
    let spent = total as f64 * 0.01;
    assert!(
        spent >= cap - 1e-9 && spent <= cap + 0.02 + 1e-9,
        "{total} served across both: ${spent} against ${cap}"
    );
    for gw in [&a, &b] {
        let v = poll_until(|| budgets(gw), |v| v["budgets"][0]["reserved"] == 0.0).await;
        let got = &v["budgets"][0];
        assert!((got["spent"].as_f64().unwrap() - spent).abs() < 1e-6, "{v}");
        assert_eq!(got["reserved"], 0.0, "{v}");
        assert_eq!(got["period"], "monthly");
    }
}

#[tokio::test]
async fn redis_killed_mid_run_fail_open_keeps_serving() {
    if skip() {
        return;
    }
    let limits = |k: &mut RawKey| {
        k.rpm = Some(1000);
        k.budget = Some(RawBudget {
            usd: 10.0,
            period: None,
        });
    };
    let (mut redis, _mock, gw, req) = serving(limits, FailOpen).await;
    redis.kill();
    for _ in 0..5 {
        let t = Instant::now();
        let r = post(&gw.base, "/v1/chat/completions", &req).await;
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }
    let m = gw.metrics();
    let errors: f64 = m
        .lines()
        .filter(|l| l.starts_with("switchyard_state_errors_total{backend=\"redis\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(errors >= 5.0, "{m}");
    assert!(gw.stderr().contains("state backend unavailable"));
    let budgets = switchyard_e2e::http::get_text(&format!("{}/budgets", gw.admin)).unwrap();
    assert!(budgets.contains("\"error\""), "{budgets}");
}

#[tokio::test]
async fn redis_killed_mid_run_fail_closed_refuses_quickly() {
    if skip() {
        return;
    }
    let (mut redis, mock, gw, req) = serving(|k| k.rpm = Some(1000), FailClosed).await;
    redis.kill();
    for _ in 0..3 {
        let t = Instant::now();
        let r = post(&gw.base, "/v1/chat/completions", &req).await;
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("state backend unavailable"));
    }
    assert_eq!(mock.hits(), 1);
    // Back up: limits are checked, and requests served, again within the 1 s backoff plus a
    // reconnect.
    redis.restart();
    until_served(&gw, &req, Duration::from_secs(5)).await;
    redis.kill();
    let r = post(&gw.base, "/v1/messages", &json!({"model": "gpt-4o-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn redis_over_tls() {
    if skip() || !switchyard_e2e::tools::require("openssl", &["version"], "redis_over_tls") {
        return;
    }
    let redis = RedisServer::start_tls();
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 5, 5))).await;
    // fail_closed: a TLS failure would show as 429 on the first request, not pass silently.
    let gw = redis_builder(
        &redis,
        one_model(&mock.base()).app_key(|k| k.rpm = Some(2)),
        FailClosed,
    )
    .env("SSL_CERT_FILE", &redis.ca_file().display().to_string())
    .start();
    let req = openai::request("gpt-4o-mini", false);
    // The first call starts the TLS connection; requests before it is up are refused.
    until_served(&gw, &req, Duration::from_secs(5)).await;
    assert_eq!(
        post(&gw.base, "/v1/chat/completions", &req).await.status(),
        200
    );
    assert_eq!(mock.hits(), 2);
    let body: Value = post(&gw.base, "/v1/chat/completions", &req)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 requests per minute"),
        "limited by the window in Redis, not by an unreachable backend: {body}"
    );
}

/// The `remaining` budget gauge of key `app`, once it exists.
fn remaining(gw: &Gateway) -> Option<f64> {
    gw.metrics()
        .lines()
        .find(|l| l.starts_with("switchyard_budget_remaining_usd{key_id=\"app\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Waits (bounded) until the gauge of `app`'s remaining budget is `usd`.
async fn remaining_is(gw: &Gateway, usd: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = remaining(gw);
        if seen.is_some_and(|r| (r - usd).abs() < 1e-6) {
            return;
        }
        assert!(Instant::now() < deadline, "remaining {seen:?}, want {usd}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_redis_outage_keeps_per_process_rpm_instead_of_none() {
    if skip() {
        return;
    }
    let (mut redis, _mock, gw, req) = serving(|k| k.rpm = Some(5), FailOpen).await;
    redis.kill();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = post(&gw.base, "/v1/chat/completions", &req).await;
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
        }
    }
    // This process's own window of 5 a minute, not unlimited.
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429, 429, 429],
        "{}",
        gw.stderr()
    );
}

#[tokio::test]
async fn a_redis_outage_carries_the_spend_and_writes_it_back_after_a_restart() {
    if skip() {
        return;
    }
    let mut redis = RedisServer::start();
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 10, 10))).await;
    let config =
        priced_model(&mock.base()).app_key(|k| k.budget = Some(budget(0.05, RawPeriod::Monthly)));
    let gw = redis_gateway(&redis, config, FailOpen);
    // The test's redis-server keeps nothing on disk: the gateway says so at start.
    let warned = gw.eventually(Duration::from_secs(10), || {
        gw.stderr().contains("keeps nothing on disk")
    });
    assert!(warned, "no persistence warning:\n{}", gw.stderr());
    // $0.03 spent through Redis (each answer costs $0.01 and reserves $0.02).
    for spent in [0.01, 0.02, 0.03] {
        assert_eq!(
            post(&gw.base, "/v1/chat/completions", &capped_request())
                .await
                .status(),
            200
        );
        remaining_is(&gw, 0.05 - spent).await;
    }
    redis.kill();
    // Redis is gone: the budget goes on from Redis's $0.03, so two more fit, not unlimited.
    assert_eq!(
        post(&gw.base, "/v1/chat/completions", &capped_request())
            .await
            .status(),
        200
    );
    remaining_is(&gw, 0.01).await;
    assert_eq!(
        post(&gw.base, "/v1/chat/completions", &capped_request())
            .await
            .status(),
        200
    );
    remaining_is(&gw, 0.0).await;
    let r = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
    assert_eq!(mock.hits(), 5);

    // Back without persistence: its $0.03 are gone, and the $0.02 of the outage are written
    // back with the first call that reaches it.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let spent = loop {
        let _ = post(&gw.base, "/v1/chat/completions", &capped_request()).await;
        let v = budgets(&gw);
        let spent = v["budgets"][0]["spent"].as_f64();
        if gw.stderr().contains("written back") && spent.is_some() {
            break spent;
        }
        assert!(Instant::now() < deadline, "{v}\n{}", gw.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let served_since = mock.hits() as f64 - 3.0;
    // Everything served since the outage began is in Redis: the outage's two answers and
    // those after the restart.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut spent = spent.unwrap_or_default();
    while (spent - served_since * 0.01).abs() > 1e-6 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        spent = budgets(&gw)["budgets"][0]["spent"]
            .as_f64()
            .unwrap_or_default();
    }
    assert!(
        (spent - served_since * 0.01).abs() < 1e-6,
        "Redis holds ${spent} after {served_since} answers since the outage began"
    );
}
