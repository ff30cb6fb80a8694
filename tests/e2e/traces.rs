//! OpenTelemetry traces through the real binary, received by a faithful OTLP receiver
//! (`python/otlp_receiver.py`: OTLP/HTTP and OTLP/gRPC, each export decoded with the official
//! `opentelemetry-proto` classes): a server span per request and a client span per upstream
//! attempt with the GenAI attributes, a caller's `traceparent` continued and each attempt's
//! propagated upstream, sampling, and a dead or stalled collector that neither slows nor fails
//! requests while its spans are counted as dropped. Without Python and the packages the tests
//! are skipped locally and fail in CI (`CI` set); `.ci/run` installs them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::config::{otlp, RawOtlp};
use switchyard_e2e::{openai, Gateway, MockProvider, RefusedPort, Reply};

/// The receiver process; killed on drop.
pub(crate) struct Receiver {
    child: Child,
    dir: tempfile::TempDir,
    pub(crate) http: u16,
    pub(crate) grpc: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts it, or `None` (skip) when Python lacks the packages outside CI.
    pub(crate) fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`Receiver::start`] with the receiver's options (`--fail-first N`, `--tls CERT KEY`…).
    pub(crate) fn start_with(args: &[&str]) -> Option<Self> {
        let probe = Command::new("python3")
            .args([
                "-c",
                "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc",
            ])
            .output();
        if !probe.as_ref().is_ok_and(|o| o.status.success()) {
            let why = "python3 with grpcio and opentelemetry-proto is needed (pip install grpcio==1.85.1 opentelemetry-proto==1.45.2)";
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            return None;
        }
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/e2e/python/otlp_receiver.py"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path().join("spans.jsonl"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the OTLP receiver");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("receiver stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let ports: Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            let err = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("the OTLP receiver did not start: {line:?}\n{err}")
        });
        Some(Self {
            http: ports["http"].as_u64().unwrap() as u16,
            grpc: ports["grpc"].as_u64().unwrap() as u16,
            child,
            dir,
        })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("spans.jsonl")
    }

    /// Every span received so far.
    pub(crate) fn spans(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a span line"))
            .collect()
    }

    /// Every export that reached the receiver, refused or not, in order.
    pub(crate) fn exports(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("spans.jsonl.exports"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("an export line"))
            .collect()
    }

    /// The spans of `trace_id`, once there are at least `n`.
    pub(crate) async fn trace(&self, trace_id: &str, n: usize) -> Vec<Value> {
        let spans = poll_until(
            || {
                self.spans()
                    .into_iter()
                    .filter(|s| s["trace_id"] == trace_id)
                    .collect::<Vec<_>>()
            },
            |s| s.len() >= n,
        )
        .await;
        assert_eq!(spans.len(), n, "spans of {trace_id}: {spans:#?}");
        spans
    }
}

/// The gateway's config: route `chat` over `primary` then `backup`, traces to `otlp`.
/// Route `chat` over `primary` (an OpenAI model) then `backup` (an OpenAI-compatible one),
/// traced to the collector `otlp` names.
pub(crate) fn traced(primary: &str, backup: &str, otlp: RawOtlp) -> Config {
    Config::new()
        .provider(provider("first", "openai", &format!("{primary}/v1")))
        .provider(provider(
            "second",
            "openai_compatible",
            &format!("{backup}/v1"),
        ))
        .model(model("primary", "first").upstream("gpt-4o-2024-08-06"))
        .model(model("backup", "second").upstream("llama-3.3-70b"))
        .route("chat", &["primary", "backup"])
        .otlp(otlp)
}

/// Sends one chat request through `gw` and hands back the `traceparent` the upstream `up`
/// got.
pub(crate) async fn traceparent_of_one_request(gw: &Gateway, up: &MockProvider) -> String {
    let resp = ask(gw, "chat").await;
    assert_eq!(resp.status(), 200);
    up.received()[0].header("traceparent").unwrap().to_owned()
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

fn by_attempt(spans: &[Value], n: i64) -> &Value {
    spans
        .iter()
        .find(|s| attr(s, "switchyard.attempt") == n)
        .unwrap_or_else(|| panic!("no span of attempt {n}: {spans:#?}"))
}

/// The value of the sample whose line starts with `line_start`, 0 while there is none.
pub(crate) fn metric_or_zero(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_failed_over_request_is_one_trace_continued_from_the_caller_over_otlp_http() {
    let Some(rx) = Receiver::start() else { return };
    let primary = MockProvider::start(Reply::status_json(
        503,
        &openai::error("overloaded", "server_error", None),
    ))
    .await;
    let backup = MockProvider::start(Reply::json(&openai::completion_finishing(
        "hi", "length", 11, 7,
    )))
    .await;
    let otlp = RawOtlp {
        protocol: Some("http/protobuf".into()),
        headers_env: Some("OTLP_HEADERS".into()),
        ..otlp(&format!("http://127.0.0.1:{}", rx.http))
    };
    let gw = gateway_for(&traced(&primary.base(), &backup.base(), otlp))
        .env("OTLP_HEADERS", "x-tenant=e2e%20team")
        .env("OTEL_SERVICE_NAME", "gateway-e2e")
        .env("OTEL_BSP_SCHEDULE_DELAY", "20")
        .start();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let mut body = openai::request("chat", false);
    body["temperature"] = json!(0.25);
    body["max_tokens"] = json!(64);
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth(CLIENT_KEY)
        .header("traceparent", format!("00-{trace_id}-{caller}-01"))
        .header("tracestate", "congo=t61rcWkgMzE")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");

    let spans = rx.trace(trace_id, 3).await;
    let server = spans
        .iter()
        .find(|s| s["kind"] == 2)
        .expect("a server span");
    assert_eq!(server["name"], "POST /v1/chat/completions");
    assert_eq!(server["parent_span_id"], caller);
    assert_eq!(server["trace_state"], "congo=t61rcWkgMzE");
    assert_eq!(
        server["flags"].as_u64().unwrap() & 0x3ff,
        0x301,
        "sampled, remote parent"
    );
    assert_eq!(server["status"]["code"], 0);
    for (k, v) in [
        ("http.request.method", json!("POST")),
        ("http.route", json!("/v1/chat/completions")),
        ("http.response.status_code", json!(200)),
        ("gen_ai.operation.name", json!("chat")),
        ("gen_ai.request.model", json!("chat")),
        ("gen_ai.request.temperature", json!(0.25)),
        ("gen_ai.request.max_tokens", json!(64)),
        ("gen_ai.provider.name", json!("second")),
        ("gen_ai.response.model", json!("llama-3.3-70b")),
        ("gen_ai.usage.input_tokens", json!(11)),
        ("gen_ai.usage.output_tokens", json!(7)),
        ("gen_ai.response.finish_reasons", json!(["length"])),
        ("switchyard.route", json!("chat")),
        ("switchyard.key_id", json!("app")),
        ("switchyard.model", json!("backup")),
        ("switchyard.attempts", json!(2)),
        ("switchyard.stream", json!(false)),
    ] {
        assert_eq!(attr(server, k), &v, "{k} in {server:#}");
    }
    assert!(attr(server, "error.type").is_null());
    assert_eq!(server["resource"]["service.name"], "gateway-e2e");
    assert_eq!(server["scope"], "switchyard");
    assert_eq!(server["transport"], "http");
    assert_eq!(server["headers"]["x-tenant"], "e2e team");
    assert_eq!(server["headers"]["content-type"], "application/x-protobuf");

    let server_id = server["span_id"].as_str().unwrap();
    let first = by_attempt(&spans, 1);
    let second = by_attempt(&spans, 2);
    for (span, model) in [(first, "gpt-4o-2024-08-06"), (second, "llama-3.3-70b")] {
        assert_eq!(span["kind"], 3, "client span");
        assert_eq!(span["parent_span_id"], server_id);
        assert_eq!(span["name"], format!("chat {model}"));
        assert_eq!(attr(span, "gen_ai.request.model"), model);
        assert_eq!(attr(span, "server.address"), "127.0.0.1");
        assert_eq!(attr(span, "switchyard.breaker.state"), "closed");
        assert!(span["start"].as_u64() >= server["start"].as_u64());
        assert!(span["end"].as_u64() <= server["end"].as_u64());
    }
    assert_eq!(attr(first, "gen_ai.provider.name"), "openai");
    assert_eq!(attr(first, "error.type"), "503");
    assert_eq!(attr(first, "http.response.status_code"), 503);
    assert_eq!(first["status"]["code"], 2);
    assert!(attr(first, "gen_ai.usage.input_tokens").is_null());
    assert_eq!(attr(second, "switchyard.failover.reason"), "503");
    assert_eq!(attr(second, "gen_ai.response.model"), "llama-3.3-70b");
    assert_eq!(attr(second, "gen_ai.usage.output_tokens"), 7);
    assert_eq!(
        attr(second, "gen_ai.response.finish_reasons"),
        &json!(["length"])
    );
    assert!(second["end"].as_u64() >= first["end"].as_u64());

    // Each upstream saw its own attempt's span as the parent, in the caller's trace.
    let sent = |m: &MockProvider| m.received().last().expect("a request").clone();
    for (mock, span) in [(&primary, first), (&backup, second)] {
        let r = sent(mock);
        assert_eq!(
            r.header("traceparent"),
            Some(format!("00-{trace_id}-{}-01", span["span_id"].as_str().unwrap()).as_str())
        );
        assert_eq!(r.header("tracestate"), Some("congo=t61rcWkgMzE"));
    }
    let all = std::fs::read_to_string(rx.path()).unwrap();
    assert!(!all.contains(CLIENT_KEY) && !all.contains(PROVIDER_KEY));
    let m = poll_until(
        || gw.metrics(),
        |m| metric_or_zero(m, "switchyard_trace_spans_exported_total") >= 3.0,
    )
    .await;
    assert!(
        metric_or_zero(&m, "switchyard_trace_spans_exported_total") >= 3.0,
        "{m}"
    );
}

#[tokio::test]
async fn streams_and_refusals_are_traced_over_otlp_grpc() {
    let Some(rx) = Receiver::start() else { return };
    let up = MockProvider::start(Reply::sse(&openai::stream(&["Hel", "lo"], 9, 2))).await;
    let otlp = RawOtlp {
        protocol: Some("grpc".into()),
        ..otlp(&format!("http://127.0.0.1:{}", rx.grpc))
    };
    let gw = gateway_for(&traced(&up.base(), &up.base(), otlp))
        .env("OTEL_BSP_SCHEDULE_DELAY", "20")
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=e2e")
        .start();
    let resp = ask_stream(&gw, "chat").await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("[DONE]"), "{text}");
    // No caller: a new trace, whose id reached the upstream.
    let tp = up.received()[0].header("traceparent").unwrap().to_owned();
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!((parts.len(), parts[0], parts[3]), (4, "00", "01"), "{tp}");
    let spans = rx.trace(parts[1], 2).await;
    let server = spans.iter().find(|s| s["kind"] == 2).unwrap();
    let attempt = spans.iter().find(|s| s["kind"] == 3).unwrap();
    assert_eq!(server["parent_span_id"], "");
    assert_eq!(
        server["flags"].as_u64().unwrap() & 0x3ff,
        0x101,
        "sampled, no remote parent"
    );
    assert_eq!(attempt["span_id"], parts[2]);
    assert_eq!(server["transport"], "grpc");
    // grpcio hides `grpc-encoding` from the metadata; that it decoded the message sent with
    // the compressed flag (OTEL_EXPORTER_OTLP_COMPRESSION=gzip) is the proof.
    assert_eq!(server["resource"]["deployment.environment"], "e2e");
    assert_eq!(server["resource"]["service.name"], "switchyard");
    assert_eq!(attr(server, "switchyard.stream"), true);
    assert_eq!(attr(server, "gen_ai.usage.input_tokens"), 9);
    assert_eq!(attr(server, "gen_ai.usage.output_tokens"), 2);
    assert_eq!(
        attr(attempt, "gen_ai.response.finish_reasons"),
        &json!(["stop"])
    );

    // A refused request is traced too: a 401 with its error type, not an error span.
    let refused = client()
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth("sk-wrong")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .json(&openai::request("chat", false))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let spans = rx.trace("0af7651916cd43dd8448eb211c80319c", 1).await;
    assert_eq!(attr(&spans[0], "http.response.status_code"), 401);
    assert!(
        attr(&spans[0], "error.type").as_str().is_some(),
        "{:#}",
        spans[0]
    );
    assert_eq!(spans[0]["status"]["code"], 0);
    assert!(attr(&spans[0], "switchyard.key_id").is_null());
}

#[tokio::test]
async fn unsampled_requests_export_nothing_but_still_propagate_the_trace() {
    let Some(rx) = Receiver::start() else { return };
    let up = MockProvider::start(Reply::json(&openai::completion("ok", 3, 1))).await;
    let otlp = RawOtlp {
        sample_ratio: Some(0.0),
        ..otlp(&format!("http://127.0.0.1:{}", rx.http))
    };
    let gw = gateway_for(&traced(&up.base(), &up.base(), otlp))
        .env("OTEL_BSP_SCHEDULE_DELAY", "20")
        .start();
    let tp = traceparent_of_one_request(&gw, &up).await;
    assert!(
        tp.starts_with("00-") && tp.ends_with("-00"),
        "not sampled: {tp}"
    );
    // A caller that sampled its span decides for the gateway (parent-based).
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4736";
    let resp = client()
        .post(format!("{}/v1/chat/completions", gw.base))
        .bearer_auth(CLIENT_KEY)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&openai::request("chat", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let spans = rx.trace(trace_id, 2).await;
    assert!(spans.iter().all(|s| s["trace_id"] == trace_id));
    assert!(
        rx.spans().iter().all(|s| s["trace_id"] == trace_id),
        "the unsampled request exported spans"
    );
}

#[tokio::test]
async fn a_dead_or_stalled_collector_neither_slows_nor_fails_requests() {
    let up = MockProvider::start(Reply::json(&openai::completion("ok", 3, 1))).await;
    // A collector that reads the export and never answers, and one that is not there.
    let stalled = MockProvider::start(Reply::Stall(Duration::from_secs(120))).await;
    let dead = RefusedPort::new();
    for (collector, stalls) in [(stalled.base(), true), (dead.base(), false)] {
        let gw = gateway_for(&traced(&up.base(), &up.base(), otlp(&collector)))
            .env("OTEL_BSP_SCHEDULE_DELAY", "10")
            .env("OTEL_BSP_MAX_QUEUE_SIZE", "4")
            .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
            // The stalled export holds for 60 s; the dead collector's first batch is retried
            // within a 3 s deadline, then the rest get one attempt each while it stays down.
            .env(
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                if stalls { "60000" } else { "3000" },
            )
            .start();
        let started = Instant::now();
        for _ in 0..20 {
            let resp = ask(&gw, "chat").await;
            assert_eq!(resp.status(), 200);
        }
        // A stalled export holds for 60 s; the twenty requests did not wait for it.
        assert!(started.elapsed() < Duration::from_secs(30), "{collector}");
        let dropped = |m: &str| {
            ["queue_full", "export_failed", "rejected"]
                .iter()
                .map(|r| {
                    metric_or_zero(
                        m,
                        &format!("switchyard_trace_spans_dropped_total{{reason=\"{r}\"}}"),
                    )
                })
                .sum::<f64>()
        };
        let full = r#"switchyard_trace_spans_dropped_total{reason="queue_full"}"#;
        let m = if stalls {
            // The export thread takes what is queued when the first batch fills: two spans
            // (one request) or up to four when a second request's spans came in before it
            // woke. The first two are stuck in the stalled export, the others wait behind it;
            // four more fill the queue again and the rest find it full: 32 to 34 dropped.
            poll_until(|| gw.metrics(), |m| metric_or_zero(m, full) >= 32.0).await
        } else {
            // Every span of the 20 requests (a server and a client span each) is dropped.
            poll_until(|| gw.metrics(), |m| dropped(m) >= 40.0).await
        };
        if stalls {
            assert!(metric_or_zero(&m, full) >= 32.0, "{m}");
        } else {
            assert_eq!(dropped(&m), 40.0, "{m}");
            assert!(
                metric_or_zero(
                    &m,
                    r#"switchyard_trace_spans_dropped_total{reason="export_failed"}"#
                ) > 0.0,
                "{m}"
            );
        }
        assert_eq!(
            metric_or_zero(&m, "switchyard_trace_spans_exported_total"),
            0.0,
            "{m}"
        );
        assert!(
            gw.stderr().contains("traces: export failed") || stalls,
            "{}",
            gw.stderr()
        );
    }
}

#[tokio::test]
async fn spans_still_queued_at_sigterm_are_sent_before_the_exit() {
    let Some(rx) = Receiver::start() else { return };
    let up = MockProvider::start(Reply::json(&openai::completion("ok", 3, 1))).await;
    let endpoint = format!("http://127.0.0.1:{}", rx.http);
    // A batch would wait a minute: only the shutdown flush can send it in time.
    let mut gw = gateway_for(&traced(&up.base(), &up.base(), otlp(&endpoint)))
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
        .start();
    let tp = traceparent_of_one_request(&gw, &up).await;
    assert!(rx.spans().is_empty());
    gw.signal("TERM");
    assert!(
        gw.wait_exit(Duration::from_secs(20)).is_some(),
        "{}",
        gw.stderr()
    );
    let trace_id = tp.split('-').nth(1).unwrap();
    rx.trace(trace_id, 2).await;
}
