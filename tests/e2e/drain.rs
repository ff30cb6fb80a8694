//! Graceful drain: on SIGTERM `/readyz` turns 503 at once, a stream in flight finishes, and
//! the process exits after `server.shutdown_grace`, well inside Kubernetes' 30 s default.

use std::time::{Duration, Instant};

use crate::common::*;
use switchyard_e2e::{http, openai, MockProvider, Reply};

#[tokio::test]
async fn sigterm_drains_a_stream_in_flight_then_exits() {
    let events = openai::stream(&["draining ", "is ", "graceful"], 3, 3);
    let slow = Reply::Stream {
        status: 200,
        pieces: events
            .iter()
            .map(|e| (Duration::from_millis(200), e.as_bytes().to_vec()))
            .collect(),
        cut: false,
    };
    let mock = MockProvider::start(slow).await;
    let yaml = format!(
        "server:\n  listen: 127.0.0.1:{{port}}\n  admin_listen: 127.0.0.1:{{admin_port}}\n  shutdown_grace: 3s\n{}",
        one_provider(&mock.base())
    );
    let mut gw = gateway(&yaml).start();
    let base = gw.base.clone();
    let in_flight = tokio::spawn(async move {
        post(
            &base,
            "/v1/chat/completions",
            &openai::request("gpt-4o-mini", true),
        )
        .await
        .text()
        .await
        .unwrap()
    });
    // SIGTERM once the stream is in flight: the upstream has the request.
    let reached = poll_until(|| mock.hits(), |&n| n >= 1).await;
    assert_eq!(reached, 1, "the stream never reached the upstream");
    let sent = Instant::now();
    gw.signal("TERM");
    let readyz = format!("{}/readyz", gw.admin);
    let unready = gw.eventually(Duration::from_secs(1), || {
        http::get_status(&readyz).map_or(true, |s| s == 503)
    });
    assert!(unready, "/readyz still 200 after SIGTERM");
    let text = in_flight.await.unwrap();
    assert!(
        text.trim_end().ends_with("data: [DONE]"),
        "stream cut by the drain: {text}"
    );
    let status = tokio::task::spawn_blocking(move || {
        let s = gw.wait_exit(Duration::from_secs(15));
        (s, gw)
    })
    .await
    .unwrap();
    let (exit, _gw) = status;
    assert!(exit.is_some(), "process still running 15 s after SIGTERM");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "took {:?}",
        sent.elapsed()
    );
}
