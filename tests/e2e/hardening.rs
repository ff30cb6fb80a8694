//! Hardening against operators' mistakes and hostile clients, through the real binary: a
//! reload that watches only content changes, a rejected config that changes nothing, and
//! every request counted once, refusals included.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;
use switchyard_e2e::config::{RawBackend, RawServer, RawState};
use switchyard_e2e::{openai, Gateway, MockProvider, Reply};

/// A stream the gateway commits before its end: its pieces arrive 50 ms apart.
fn slow_stream() -> Reply {
    Reply::Stream {
        status: 200,
        pieces: openai::stream(&["Hel", "lo"], 3, 2)
            .into_iter()
            .map(|e| (Duration::from_millis(50), e.into_bytes()))
            .collect(),
        cut: false,
    }
}

/// The value of the first sample whose line starts with `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn failures(gw: &Gateway) -> f64 {
    sample(
        &gw.metrics(),
        r#"switchyard_config_reloads_total{result="failure"}"#,
    )
    .unwrap_or(0.0)
}

#[tokio::test]
async fn a_bad_edit_is_read_once_and_reverting_it_clears_the_failure() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let good = std::fs::read_to_string(&gw.config_path).unwrap();
    std::fs::write(&gw.config_path, format!("{good}\nnot: [valid")).unwrap();
    assert!(
        gw.eventually(Duration::from_secs(10), || failures(&gw) >= 1.0),
        "{}",
        gw.stderr()
    );
    // The reloader's own read of the file must not trigger another reload.
    assert!(
        holds_for(Duration::from_millis(1500), || failures(&gw) == 1.0).await,
        "the watcher re-read the file by itself: {} failures\n{}",
        failures(&gw),
        gw.stderr()
    );
    std::fs::write(&gw.config_path, &good).unwrap();
    assert!(
        gw.eventually(Duration::from_secs(10), || {
            sample(&gw.metrics(), "switchyard_config_last_reload_success") == Some(1.0)
        }),
        "reverting to the config in force left the failure standing\n{}",
        gw.metrics()
    );
    assert_eq!(
        sample(&gw.metrics(), "switchyard_config_generation"),
        Some(1.0)
    );
}

/// One free model, usage records to `usage`, and key `app` with a daily budget of `usd`.
fn side_effect_config(base: &str, usage: &str, usd: f64) -> Config {
    Config::new()
        .server(|s| s.usage_log = Some(usage.into()))
        .app_key(|k| k.budget = Some(budget(usd, RawPeriod::Daily)))
        .provider(provider("mock", "openai", &format!("{base}/v1")))
        .model(model("gpt-4o-mini", "mock").free())
}

#[tokio::test]
async fn a_rejected_config_changes_no_metric_sink_or_backend() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let dir = tempfile::tempdir().unwrap();
    let first_log = dir.path().join("first.log");
    let rejected_log = dir.path().join("rejected.log");
    // Stands in for a Redis server: whoever connects is seen.
    let redis = TcpListener::bind("127.0.0.1:0").unwrap();
    redis.set_nonblocking(true).unwrap();
    let config = side_effect_config(&mock.base(), &first_log.display().to_string(), 5.0).filters([
        "auth",
        "rate_limit",
        "route",
        "circuit_breaker",
        "metrics",
    ]);
    let gw = gateway_for(&config)
        .env(
            "REDIS_URL",
            &format!("redis://{}/", redis.local_addr().unwrap()),
        )
        .start();
    let before = gw.metrics();
    assert_eq!(
        sample(&before, r#"switchyard_budget_usd{key_id="app"}"#),
        Some(5.0)
    );
    // Every factory builds (new sink, Redis backend, a new deployment for the breaker), then
    // the chain is refused: `circuit_breaker` before `route`.
    let rejected = side_effect_config(&mock.base(), &rejected_log.display().to_string(), 7.0)
        .model(model("other", "mock").free())
        .state(RawState {
            backend: Some(RawBackend::Redis),
            url_env: Some("REDIS_URL".into()),
            ..RawState::default()
        })
        .filters(["auth", "rate_limit", "circuit_breaker", "route", "metrics"]);
    std::fs::write(&gw.config_path, rejected.yaml()).unwrap();
    assert!(
        gw.eventually(Duration::from_secs(10), || failures(&gw) >= 1.0),
        "{}",
        gw.stderr()
    );
    assert!(
        gw.stderr().contains("must come after `route`"),
        "{}",
        gw.stderr()
    );
    let after = gw.metrics();
    let series = |m: &str| -> Vec<String> {
        m.lines()
            .filter(|l| {
                l.starts_with("switchyard_budget")
                    || l.starts_with("switchyard_circuit_breaker_state")
                    || l.starts_with("switchyard_state_errors_total")
            })
            .map(String::from)
            .collect()
    };
    assert_eq!(series(&before), series(&after));
    assert!(
        !rejected_log.exists(),
        "the rejected config opened its usage log"
    );
    assert!(
        holds_for(Duration::from_millis(500), || redis.accept().is_err()).await,
        "the rejected config connected to its Redis"
    );
    // The config in force still writes where it did.
    let resp = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    assert!(gw.eventually(Duration::from_secs(5), || {
        std::fs::read_to_string(&first_log).is_ok_and(|t| t.contains("\"status\":200"))
    }));
}

#[tokio::test]
async fn requests_the_gateway_refuses_are_counted_with_their_outcome() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth("sk-wrong")
        .json(&openai::request("gpt-4o-mini", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = post(
        &gw.base,
        "/v1/nothing-here",
        &openai::request("gpt-4o-mini", false),
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = ask(&gw, "gpt-4o-mini").await;
    assert_eq!(resp.status(), 200);
    // A request is counted once its answer is written: wait for the last one.
    let counted = |m: &str| m.contains(r#"outcome="success",provider="mock""#);
    assert!(gw.eventually(Duration::from_secs(5), || counted(&gw.metrics())));
    let m = gw.metrics();
    for (status, outcome) in [
        ("401", "client_error"),
        ("404", "client_error"),
        ("200", "success"),
    ] {
        let n: f64 = m
            .lines()
            .filter(|l| {
                l.starts_with("switchyard_requests_total{")
                    && l.contains(&format!("status=\"{status}\""))
                    && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert_eq!(n, 1.0, "status {status}:\n{m}");
    }
}

/// A gateway in front of `base` whose `server:` block `settings` edits.
fn with_server(base: &str, settings: impl FnOnce(&mut RawServer)) -> Gateway {
    gateway_for(&one_model(base).server(settings)).start()
}

/// A gateway with tight connection limits.
fn tight(base: &str) -> Gateway {
    with_server(base, |s| {
        s.header_read_timeout = Some("1s".into());
        s.body_read_timeout = Some("1s".into());
        s.max_connections = Some(4);
        s.max_header_bytes = Some("4KiB".into());
    })
}

fn connect(gw: &Gateway) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(gw.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Everything the server sends until it closes (bounded by the socket's read timeout).
fn read_all(s: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_heads_and_bodies_are_cut_off_and_bad_heads_get_an_answer() {
    use std::io::Write;
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = tight(&mock.base());
    // Slowloris: a head that never ends is closed after header_read_timeout.
    let mut s = connect(&gw);
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n")
        .unwrap();
    let started = Instant::now();
    read_all(&mut s);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A body that never arrives in full gets 408.
    let mut s = connect(&gw);
    write!(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: 500000\r\n\r\n{{}}").unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // Too large a head: 431, not a reset.
    let mut s = connect(&gw);
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(8192)
    )
    .unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // A head that does not parse: 400.
    let mut s = connect(&gw);
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nbad header line\r\n\r\n")
        .unwrap();
    let answer = read_all(&mut s);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let m = gw.metrics();
    for reason in [
        "header_timeout",
        "body_timeout",
        "header_too_large",
        "bad_header",
    ] {
        assert_eq!(
            sample(
                &m,
                &format!("switchyard_connections_closed_total{{reason=\"{reason}\"}}")
            ),
            Some(1.0),
            "{reason}\n{m}"
        );
    }
    assert!(gw.stderr().contains("request head not received in time"));
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_counted_and_the_gauge_follows() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = tight(&mock.base());
    // A connection takes its slot when its first request head arrives.
    let mut held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| {
            use std::io::Write;
            let mut s = connect(&gw);
            s.write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    assert!(
        gw.eventually(Duration::from_secs(10), || sample(
            &gw.metrics(),
            "switchyard_open_connections"
        ) == Some(4.0)),
        "{}",
        gw.metrics()
    );
    let mut extra = connect(&gw);
    {
        use std::io::Write;
        extra
            .write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
    }
    assert_eq!(read_all(&mut extra), "");
    assert_eq!(
        sample(
            &gw.metrics(),
            r#"switchyard_connections_closed_total{reason="max_connections"}"#
        ),
        Some(1.0)
    );
    assert!(gw
        .stderr()
        .contains("connection refused: server.max_connections"));
    held.clear();
    assert!(gw.eventually(Duration::from_secs(10), || sample(
        &gw.metrics(),
        "switchyard_open_connections"
    ) == Some(0.0)));
}

#[tokio::test]
async fn an_oversized_whole_answer_and_a_redirect_are_failed_attempts_not_relayed() {
    let big = "x".repeat(256 * 1024);
    let ok = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-up",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "small"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    });
    let mut huge = ok.clone();
    huge["choices"][0]["message"]["content"] = serde_json::Value::String(big);
    let mock = MockProvider::start(Reply::json(&ok)).await;
    let gw = with_server(&mock.base(), |s| {
        s.max_response_bytes = Some("64KiB".into())
    });
    let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});

    // Within the cap: answered as usual.
    let r = post(&gw.base, "/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 200);

    // Past the cap: never relayed, a 502 that names the setting.
    // (Every attempt the retry filter makes gets the same answer.)
    for _ in 0..3 {
        mock.push(Reply::json(&huge));
    }
    let r = post(&gw.base, "/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 502);
    let text = r.text().await.unwrap();
    assert!(text.contains("max_response_bytes"), "{text}");
    assert!(!text.contains("xxxxxxxx"), "the oversized answer leaked");

    // A 3xx is an unusable reply: 502, with no Location passed on.
    for _ in 0..3 {
        mock.push(Reply::status_json(301, &serde_json::json!({"moved": true})));
    }
    let r = post(&gw.base, "/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 502);
    assert!(r.headers().get("location").is_none());
    let text = r.text().await.unwrap();
    assert!(text.contains("redirect"), "{text}");
}

// Multi-threaded: the test reads its raw socket blocking while the mock streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_0_clients_get_a_body_they_can_read_and_pipelined_requests_are_all_answered() {
    use std::io::Write;
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = with_server(&mock.base(), |_| {});
    let chat = |stream: bool| {
        serde_json::json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
            .to_string()
    };

    // HTTP/1.0 has no chunked coding: a stream's body runs until the connection closes.
    mock.push(slow_stream());
    let body = chat(true);
    let mut s = connect(&gw);
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let text = read_all(&mut s);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a head");
    assert!(head.contains(" 200 "), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    assert!(
        rest.starts_with("data: "),
        "chunk sizes in the body: {rest}"
    );
    assert!(rest.contains(r#""content":"Hel""#), "{rest}");
    assert!(rest.trim_end().ends_with("data: [DONE]"), "{rest}");

    // Three requests written at once on one connection get three answers, in order.
    let auth = format!("Host: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\n");
    let body = chat(false);
    let mut s = connect(&gw);
    write!(
        s,
        "GET /v1/models HTTP/1.1\r\n{auth}\r\n\
         POST /v1/chat/completions HTTP/1.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
         GET /v1/models HTTP/1.1\r\n{auth}Connection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let text = read_all(&mut s);
    assert_eq!(text.matches("HTTP/1.1 200 ").count(), 3, "{text}");
    let models = text.find(r#""object":"list""#).expect("the models list");
    let answer = text.find(r#""content":"hi""#).expect("the chat answer");
    assert!(models < answer, "answers out of order: {text}");
    assert_eq!(text.matches(r#""object":"list""#).count(), 2, "{text}");
}
