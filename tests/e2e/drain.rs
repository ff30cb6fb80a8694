//! Graceful drain: on SIGTERM `/readyz` turns 503 at once, a stream in flight finishes, and
//! the process exits after `server.shutdown_grace`, well inside Kubernetes' 30 s default.

use std::time::{Duration, Instant};

use crate::common::*;
use switchyard_e2e::{anthropic, http, openai, MockProvider, Reply};

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
    let config = one_model(&mock.base()).server(|s| s.shutdown_grace = Some("3s".into()));
    let mut gw = gateway_for(&config).start();
    // SIGTERM once the stream is in flight: the upstream has the request.
    let in_flight = stream_in_flight(&gw, "gpt-4o-mini", &mock).await;
    let sent = Instant::now();
    gw.signal("TERM");
    let readyz = format!("{}/readyz", gw.admin);
    let unready = gw.eventually(Duration::from_secs(1), || {
        http::get_status(&readyz).is_ok_and(|s| s == 503)
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

/// A stream of `events` with `gap` before each: long enough to outlive any grace below.
fn slow(events: Vec<String>, gap: Duration) -> Reply {
    Reply::Stream {
        status: 200,
        pieces: events.into_iter().map(|e| (gap, e.into_bytes())).collect(),
        cut: false,
    }
}

/// Sends `body` to `path` and reads the streamed answer to its end; says when the first bytes
/// arrived. An answer whose chunked body is not terminated is an error here.
async fn stream(
    base: String,
    path: &'static str,
    body: serde_json::Value,
    started: tokio::sync::mpsc::Sender<()>,
) -> Result<String, String> {
    let mut resp = post(&base, path, &body).await;
    let mut text = String::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if text.is_empty() {
                    let _ = started.send(()).await;
                }
                text.push_str(&String::from_utf8_lossy(&c));
            }
            Ok(None) => return Ok(text),
            Err(e) => return Err(format!("{e:?} after {text:?}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_past_the_grace_end_with_an_error_event_each_and_are_metered() {
    let pieces: Vec<String> = (0..200).map(|i| format!("word{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let gap = Duration::from_millis(100);
    let oai = MockProvider::start(slow(openai::stream(&pieces, 11, 200), gap)).await;
    let claude = MockProvider::start(slow(anthropic::stream(&pieces, 17, 200), gap)).await;
    let config = Config::new()
        .server(|s| s.shutdown_grace = Some("2s".into()))
        .provider(provider("oai", "openai", &format!("{}/v1", oai.base())))
        .provider(provider("claude", "anthropic", &claude.base()))
        .model(model("gpt", "oai").upstream("gpt-4o-mini"))
        .model(model("sonnet", "claude").upstream("claude-sonnet-4-20250514"));
    let mut gw = gateway_for(&config).start();
    let (started, mut first_bytes) = tokio::sync::mpsc::channel(3);
    let clients = [
        ("/v1/chat/completions", openai::request("gpt", true)),
        ("/v1/messages", anthropic::request("sonnet", true)),
        (
            "/v1/responses",
            serde_json::json!({"model": "sonnet", "input": "Say hello.", "stream": true}),
        ),
    ];
    let mut tasks = Vec::new();
    for (path, body) in clients {
        tasks.push(tokio::spawn(stream(
            gw.base.clone(),
            path,
            body,
            started.clone(),
        )));
    }
    for _ in 0..3 {
        tokio::time::timeout(Duration::from_secs(10), first_bytes.recv())
            .await
            .expect("a stream never started")
            .expect("stream task ended");
    }

    let sent = Instant::now();
    gw.signal("TERM");
    // The admin listener stays up and says 503; the API listener stops accepting.
    let readyz = format!("{}/readyz", gw.admin);
    let status = poll_until(|| http::get_status(&readyz).ok(), |s| *s == Some(503)).await;
    assert_eq!(
        status,
        Some(503),
        "/readyz during the drain:\n{}",
        gw.stderr()
    );
    let metrics =
        http::get_text(&format!("{}/metrics", gw.admin)).expect("/metrics during the drain");
    assert!(metrics.contains("switchyard_open_connections"), "{metrics}");
    let api = gw.base.trim_start_matches("http://").to_string();
    let refused = poll_until(|| std::net::TcpStream::connect(&api).is_err(), |r| *r).await;
    assert!(refused, "the API listener still accepts during the drain");

    for (task, (path, needle)) in tasks.into_iter().zip([
        ("/v1/chat/completions", "data: {\"error\":{"),
        (
            "/v1/messages",
            "event: error\ndata: {\"type\":\"error\",\"error\":{",
        ),
        (
            "/v1/responses",
            "event: error\ndata: {\"type\":\"error\",\"code\":\"shutting_down\"",
        ),
    ]) {
        let text = task.await.unwrap().unwrap_or_else(|e| {
            panic!(
                "{path}: the stream did not end cleanly: {e}\n{}",
                gw.stderr()
            )
        });
        let tail = &text[text.len().saturating_sub(600)..];
        assert!(
            tail.contains(needle),
            "{path}: no error event at the end:\n{tail}"
        );
        assert!(tail.contains("shutting down"), "{path}: {tail}");
        assert!(
            !tail.contains("[DONE]") && !tail.contains("message_stop"),
            "{path} finished: {tail}"
        );
        assert!(
            text.contains("word1 "),
            "{path}: nothing was streamed before the cut: {text}"
        );
    }
    let cut_at = sent.elapsed();
    assert!(
        cut_at >= Duration::from_millis(1900) && cut_at < Duration::from_secs(6),
        "streams ended {cut_at:?} after SIGTERM (grace 2 s)"
    );

    let mut gw = tokio::task::spawn_blocking(move || {
        assert!(
            gw.wait_exit(Duration::from_secs(10)).is_some(),
            "still running:\n{}",
            gw.stderr()
        );
        gw
    })
    .await
    .unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(8),
        "exit took {:?}",
        sent.elapsed()
    );
    let records = gw.usage_records(3);
    assert_eq!(records.len(), 3, "usage lines:\n{}", gw.stdout());
    for r in &records {
        assert_eq!(r["error"], "shutting_down", "{r}");
        assert_eq!(r["status"], 200, "{r}");
    }
    // Anthropic reports the prompt in its first event: what was streamed so far is metered.
    let anthropic_prompts: Vec<_> = records
        .iter()
        .filter(|r| r["model"] == "sonnet")
        .map(|r| r["prompt_tokens"].as_u64())
        .collect();
    assert_eq!(anthropic_prompts, [Some(17), Some(17)], "{records:?}");
    let log = gw.stderr();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert_eq!(
        log.matches("stream ended by the shutdown").count(),
        3,
        "{log}"
    );
    assert!(log.contains("switchyard exited"), "{log}");
    let _ = gw.wait_exit(Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_gateway_exits_at_once_not_after_the_grace() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let config = one_model(&mock.base()).server(|s| s.shutdown_grace = Some("30s".into()));
    let gw = gateway_for(&config).start();
    let resp = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    let sent = Instant::now();
    gw.signal("TERM");
    let (exit, gw) = tokio::task::spawn_blocking(move || {
        let mut gw = gw;
        (gw.wait_exit(Duration::from_secs(10)), gw)
    })
    .await
    .unwrap();
    assert!(
        exit.is_some_and(|s| s.success()),
        "{exit:?}\n{}",
        gw.stderr()
    );
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?} with a 30 s grace",
        sent.elapsed()
    );
    let log = gw.stderr();
    assert!(
        log.contains("SIGTERM received") && log.contains("drained; exiting"),
        "{log}"
    );
}
