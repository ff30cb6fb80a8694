//! The four deadlines through the real binary — `connect`, `first_byte`, `idle` and `total`
//! (which spans every attempt) — and how retries, backoff, `retry-after` and the circuit
//! breaker spend the time between attempts.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::{openai, MockProvider, Reply};

fn ok(text: &str) -> Reply {
    Reply::json(&openai::completion(text, 5, 2))
}

fn fail(status: u16) -> Reply {
    Reply::status_json(status, &openai::error("boom", "server_error", None))
}

async fn chat(base: &str, model: &str, stream: bool) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let resp = post(
        base,
        "/v1/chat/completions",
        &openai::request(model, stream),
    )
    .await;
    (resp, started.elapsed())
}

/// A listener whose accept queue is full, so a new connection hangs in SYN: the only way to
/// make `connect` itself slow on loopback.
fn black_hole() -> (tokio::net::TcpListener, std::net::TcpStream, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let filler = std::net::TcpStream::connect(addr).unwrap();
    (listener, filler, format!("http://{addr}"))
}

#[tokio::test]
async fn connect_timeout_moves_on_and_alone_is_504() {
    let (_hole, _filler, dead) = black_hole();
    let backup = MockProvider::start(ok("from backup")).await;
    let gw = gateway_for(&primary_then_backup(
        &dead,
        timeouts(Some("300ms"), None, None, None),
        &backup.base(),
    ))
    .start();
    let (resp, took) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "backup");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(gw.eventually(Duration::from_secs(2), || gw.metrics().contains(
        r#"switchyard_upstream_attempts_total{model="primary",outcome="timeout",provider="first"} 1"#
    )));
    // Alone: three attempts (default retry), each cut at 300 ms.
    let (resp, took) = chat(&gw.base, "primary", false).await;
    let status = resp.status();
    assert_eq!(
        status,
        504,
        "{took:?} {}\n{}",
        resp.text().await.unwrap(),
        gw.stderr()
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn total_spans_every_attempt() {
    let stall = || Reply::Stall(Duration::from_secs(5));
    let (a, b) = (
        MockProvider::start(stall()).await,
        MockProvider::start(stall()).await,
    );
    let gw = gateway_for(&primary_then_backup(
        &a.base(),
        timeouts(None, Some("700ms"), None, Some("1s")),
        &b.base(),
    ))
    .start();
    let (resp, took) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.status(), 504);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_timeout");
    // 700 ms on the first target, the rest of the second on what is left of the second.
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(2_500),
        "{took:?}"
    );
    assert_eq!(
        (a.hits(), b.hits()),
        (1, 1),
        "no third attempt past the deadline"
    );
}

#[tokio::test]
async fn total_cuts_a_stream_that_never_goes_quiet() {
    let events = openai::stream(&["tick "; 40], 5, 40);
    let trickle = Reply::Stream {
        status: 200,
        pieces: events
            .iter()
            .map(|e| (Duration::from_millis(100), e.clone().into_bytes()))
            .collect(),
        cut: false,
    };
    let a = MockProvider::start(trickle).await;
    let gw = gateway_for(
        &Config::new()
            .provider(RawProvider {
                timeouts: Some(timeouts(None, None, Some("500ms"), Some("1s"))),
                ..provider("mock", "openai", &format!("{}/v1", a.base()))
            })
            .model(
                model("gpt-4o-mini", "mock")
                    .upstream("gpt-4o-mini-up")
                    .priced(0.15, 0.60),
            ),
    )
    .start();
    let (resp, _) = chat(&gw.base, "gpt-4o-mini", true).await;
    let started = Instant::now();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(text.contains("tick "));
    assert!(text.contains("total deadline"), "{text}");
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn retries_back_off_with_jitter_then_succeed() {
    let a = MockProvider::start(ok("third time")).await;
    a.push(fail(503));
    a.push(fail(500));
    let retry = filter_with("retry", json!({"attempts": 3, "backoff": "200ms"}));
    let gw = gateway_for(&one_model(&a.base()).filters(chain_with([retry]))).start();
    let (resp, took) = chat(&gw.base, "gpt-4o-mini", false).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "3");
    // Backoffs of [100, 200) ms then [200, 400) ms.
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let recs = gw.usage_records(1);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["attempts"], 3);
}

#[tokio::test]
async fn a_short_retry_after_is_waited_on_when_there_is_no_other_target() {
    let a = MockProvider::start(ok("after waiting")).await;
    a.push(rate_limited("1"));
    let gw = gateway_for(&one_model(&a.base())).start();
    let (resp, took) = chat(&gw.base, "gpt-4o-mini", false).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn without_retry_in_the_list_each_target_is_tried_once() {
    let (a, b) = (
        MockProvider::start(fail(500)).await,
        MockProvider::start(fail(502)).await,
    );
    let gw = gateway_for(
        &primary_then_backup(&a.base(), RawTimeouts::default(), &b.base()).filters(chain_with([])),
    )
    .start();
    let (resp, _) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    let (resp, _) = chat(&gw.base, "primary", false).await;
    assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    assert_eq!((a.hits(), b.hits()), (2, 1));
}

#[tokio::test]
async fn retry_on_limits_which_failures_move_on() {
    let (a, b) = (
        MockProvider::start(fail(500)).await,
        MockProvider::start(ok("b")).await,
    );
    let retry = filter_with("retry", json!({"on": ["connect", "timeout"]}));
    let gw = gateway_for(
        &primary_then_backup(&a.base(), RawTimeouts::default(), &b.base())
            .filters(chain_with([retry])),
    )
    .start();
    let (resp, _) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    assert_eq!(b.hits(), 0);
}

fn gauge(m: &str, model: &str) -> Option<i64> {
    let prefix = format!(r#"switchyard_circuit_breaker_state{{model="{model}","#);
    m.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn an_open_breaker_skips_its_target_then_a_probe_closes_it_and_reloads_keep_it() {
    let flaky = MockProvider::start(fail(500)).await;
    let backup = MockProvider::start(ok("from backup")).await;
    let breaker = filter_with(
        "circuit_breaker",
        json!({"failure_threshold": 2, "open_for": "4s"}),
    );
    let gw = gateway_for(
        &primary_then_backup(&flaky.base(), RawTimeouts::default(), &backup.base())
            .filters(chain_with([breaker])),
    )
    .start();
    let mut opened = std::time::Instant::now();
    for attempts in ["2", "2", "1", "1"] {
        let (resp, _) = chat(&gw.base, "chat", false).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-switchyard-attempts"], attempts);
        if attempts == "2" {
            opened = std::time::Instant::now();
        }
    }
    assert_eq!(flaky.hits(), 2, "skipped without a request once open");
    let m = gw.metrics();
    assert_eq!(gauge(&m, "primary"), Some(2), "{m}");
    assert_eq!(gauge(&m, "backup"), Some(0));
    assert!(m.contains(
        r#"switchyard_upstream_skips_total{model="primary",provider="first",reason="circuit open"} 2"#
    ), "{m}");

    // A reload (same deployments) keeps the breaker open.
    let yaml = std::fs::read_to_string(&gw.config_path).unwrap();
    std::fs::write(&gw.config_path, format!("{yaml}# reloaded\n")).unwrap();
    assert!(gw.eventually(Duration::from_secs(5), || gw
        .metrics()
        .contains("switchyard_config_generation 2")));
    let (resp, _) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    assert_eq!(flaky.hits(), 2);

    // After open_for, one probe goes through; it succeeds and closes the breaker.
    flaky.push(ok("recovered"));
    flaky.push(ok("recovered"));
    assert!(
        opened.elapsed() < Duration::from_secs(4),
        "the reload took too long to tell"
    );
    // `open_for` is a span the breaker waits out with nothing to observe before it ends (a
    // request meanwhile would go to the backup and change the counts): wait it out too.
    tokio::time::sleep_until((opened + Duration::from_millis(4_100)).into()).await;
    for _ in 0..2 {
        let (resp, _) = chat(&gw.base, "chat", false).await;
        assert_eq!(resp.headers()["x-switchyard-model"], "primary");
        assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    }
    assert_eq!(gauge(&gw.metrics(), "primary"), Some(0));
}

#[tokio::test]
async fn every_breaker_open_is_503_no_target_available_at_once() {
    let flaky = MockProvider::start(fail(500)).await;
    let breaker = filter_with(
        "circuit_breaker",
        json!({"failure_threshold": 1, "open_for": "30s"}),
    );
    let gw = gateway_for(&one_model(&flaky.base()).filters(chain_with([breaker]))).start();
    let (resp, _) = chat(&gw.base, "gpt-4o-mini", false).await;
    assert_eq!(resp.status(), 502);
    let (resp, took) = chat(&gw.base, "gpt-4o-mini", false).await;
    assert_eq!(resp.status(), 503);
    assert!(
        resp.headers().get("x-switchyard-attempts").is_none(),
        "no upstream request"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_target_available");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("circuit open"));
    assert!(took < Duration::from_secs(1));
    assert_eq!(flaky.hits(), 1);
}

#[tokio::test]
async fn a_target_that_said_retry_after_is_passed_over_by_later_requests() {
    let primary = MockProvider::start(ok("from primary")).await;
    primary.push(rate_limited("30"));
    let backup = MockProvider::start(ok("from backup")).await;
    let gw = gateway_for(&primary_then_backup(
        &primary.base(),
        RawTimeouts::default(),
        &backup.base(),
    ))
    .start();
    let (resp, took) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.headers()["x-switchyard-model"], "backup");
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    assert!(took < Duration::from_secs(2), "not waited on: {took:?}");
    // Later requests don't ask it again while it cools down…
    let (resp, _) = chat(&gw.base, "chat", false).await;
    assert_eq!(resp.headers()["x-switchyard-model"], "backup");
    assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
    assert_eq!(primary.hits(), 1);
    assert!(gw.eventually(Duration::from_secs(2), || gw.metrics().contains(
        r#"switchyard_upstream_skips_total{model="primary",provider="first",reason="retry-after"} 1"#
    )));
    // …unless it is the only target left.
    let (resp, _) = chat(&gw.base, "primary", false).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(primary.hits(), 2);
}
