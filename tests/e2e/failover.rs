//! Failover before the first byte (refused connection, 5xx, stall) re-sends the re-translated
//! request — bodies far beyond pingora's 64 KiB retry buffer included — to the next target;
//! after the first byte a failure ends the stream with an error event.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::RawStrategy;
use switchyard_e2e::{openai, MockProvider, RefusedPort, Reply};

/// Route `chat`, by priority, over `primary` (provider `first` at `first_base`, with
/// `first_timeouts`) then `backup`.
fn two_targets(first_base: &str, first_timeouts: RawTimeouts, second_base: &str) -> Config {
    primary_then_backup(first_base, first_timeouts, second_base)
        .strategy("chat", RawStrategy::Priority)
}

fn big_request(stream: bool) -> Value {
    let mut body = openai::request("chat", stream);
    body["messages"][1]["content"] = json!("y".repeat(1 << 20));
    body
}

async fn assert_served_by_backup(gw_base: &str, backup: &MockProvider, stream: bool) {
    let resp = post(gw_base, "/v1/chat/completions", &big_request(stream)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "backup");
    assert_eq!(resp.headers()["x-switchyard-provider"], "second");
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    let text = resp.text().await.unwrap();
    assert!(text.contains("from backup"), "{text}");
    let got = backup.received();
    let last = got.last().expect("backup was called");
    let sent = last.json();
    assert_eq!(sent["model"], "backup");
    assert_eq!(
        sent["messages"][1]["content"].as_str().unwrap().len(),
        1 << 20
    );
}

#[tokio::test]
async fn one_mib_request_fails_over_from_a_refused_connection() {
    let backup = MockProvider::start(Reply::json(&openai::completion("from backup", 5, 2))).await;
    let dead = RefusedPort::new();
    let gw = gateway_for(&two_targets(
        &dead.base(),
        timeouts(Some("1s"), None, None, None),
        &backup.base(),
    ))
    .start();
    assert_served_by_backup(&gw.base, &backup, false).await;
    let recs = gw.usage_records(1);
    assert_eq!(recs[0]["attempts"], 2);
    assert_eq!(recs[0]["model"], "backup");
    assert!(gw.metrics().contains(r#"switchyard_upstream_attempts_total{model="primary",outcome="connect_error",provider="first"} 1"#));
}

#[tokio::test]
async fn one_mib_request_fails_over_from_a_503() {
    let primary = MockProvider::start(Reply::status_json(
        503,
        &openai::error("overloaded", "server_error", None),
    ))
    .await;
    let backup = MockProvider::start(Reply::json(&openai::completion("from backup", 5, 2))).await;
    let gw = gateway_for(&two_targets(
        &primary.base(),
        timeouts(Some("1s"), None, None, None),
        &backup.base(),
    ))
    .start();
    assert_served_by_backup(&gw.base, &backup, false).await;
    assert_eq!(primary.hits(), 1);
    assert_eq!(
        primary.received()[0].json()["messages"][1]["content"]
            .as_str()
            .unwrap()
            .len(),
        1 << 20
    );
}

#[tokio::test]
async fn streams_fail_over_from_a_reset_and_a_stall_before_the_first_byte() {
    let primary = MockProvider::start(Reply::Reset).await;
    let backup = MockProvider::start(Reply::sse(&openai::stream(&["from backup"], 5, 2))).await;
    let gw = gateway_for(&two_targets(
        &primary.base(),
        timeouts(Some("1s"), Some("300ms"), None, None),
        &backup.base(),
    ))
    .start();
    assert_served_by_backup(&gw.base, &backup, true).await;
    primary.push(Reply::Stall(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    assert_served_by_backup(&gw.base, &backup, true).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stall was cut by first_byte"
    );
}

#[tokio::test]
async fn every_target_failing_is_502_and_only_timeouts_is_504() {
    let a = MockProvider::start(Reply::status_json(
        500,
        &openai::error("boom", "server_error", None),
    ))
    .await;
    let b = MockProvider::start(Reply::Reset).await;
    let gw = gateway_for(&two_targets(
        &a.base(),
        timeouts(Some("1s"), None, None, None),
        &b.base(),
    ))
    .start();
    let resp = ask(&gw, "chat").await;
    assert_eq!(resp.status(), 502);
    // The default chain's `retry` (attempts: 3) tries the first target again after both failed.
    assert_eq!(resp.headers()["x-switchyard-attempts"], "3");
    assert_eq!((a.hits(), b.hits()), (2, 1));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_failed");
    drop(gw);

    let a = MockProvider::start(Reply::Stall(Duration::from_secs(5))).await;
    let gw = gateway_for(&two_targets(
        &a.base(),
        timeouts(None, Some("200ms"), None, Some("2s")),
        &a.base(),
    ))
    .start();
    let resp = ask(&gw, "primary").await;
    assert_eq!(resp.status(), 504);
    // Metrics are recorded once the response is written: poll briefly.
    assert!(gw.eventually(std::time::Duration::from_secs(5), || gw
        .metrics()
        .contains(r#"switchyard_route_exhausted_total{route="primary"} 1"#)));
}

#[tokio::test]
async fn upstream_reset_mid_stream_ends_with_an_error_event() {
    let events = openai::stream(&["one ", "two ", "three"], 5, 3);
    let cut = Reply::Stream {
        status: 200,
        pieces: events[..3]
            .iter()
            .map(|e| (Duration::from_millis(20), e.as_bytes().to_vec()))
            .collect(),
        cut: true,
    };
    let primary = MockProvider::start(cut).await;
    let gw = gateway_for(&one_model(&primary.base())).start();
    let resp = ask_stream(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with(&events[..3].concat()), "{text}");
    assert!(!text.contains("[DONE]"));
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    let err: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mid-stream")
            || err["error"]["message"].as_str().unwrap().contains("ended"),
        "{err}"
    );
    let recs = gw.usage_records(1);
    assert!(recs[0]["stream_error"].as_str().is_some(), "{:?}", recs[0]);
    assert!(gw.metrics().contains("switchyard_stream_errors_total{"));
}
