//! The OTLP exporter against a collector that is not simply up: one that is briefly
//! unavailable (HTTP 503 with `Retry-After`, gRPC UNAVAILABLE) gets the batch again, once, after
//! the delay it asked for; an `https://` one is trusted through the CA file of
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` and refused without it. The collector is the faithful
//! receiver of `traces.rs` (`python/otlp_receiver.py`).

use crate::common::*;
use crate::traces::{metric_or_zero as metric, traced, traceparent_of_one_request, Receiver};
use switchyard_e2e::config::{otlp, RawOtlp};
use switchyard_e2e::{openai, Gateway, MockProvider, Reply};

/// One traced request through a gateway exporting over `protocol` to `endpoint`, with `env`
/// added; returns its trace id (from the traceparent the upstream received) and the gateway,
/// still running.
async fn one_traced_request(
    endpoint: &str,
    protocol: &str,
    env: &[(&str, &str)],
) -> (String, Gateway) {
    let up = MockProvider::start(Reply::json(&openai::completion("ok", 3, 1))).await;
    let otlp = RawOtlp {
        protocol: Some(protocol.into()),
        ..otlp(endpoint)
    };
    let mut builder =
        gateway_for(&traced(&up.base(), &up.base(), otlp)).env("OTEL_BSP_SCHEDULE_DELAY", "20");
    for (k, v) in env {
        builder = builder.env(k, v);
    }
    let gw = builder.start();
    let tp = traceparent_of_one_request(&gw, &up).await;
    (tp.split('-').nth(1).unwrap().to_owned(), gw)
}

#[tokio::test]
async fn an_export_refused_as_unavailable_is_sent_again_and_arrives_once() {
    for (protocol, retry_after) in [("http/protobuf", Some(1.0)), ("grpc", None)] {
        let mut args = vec!["--fail-first", "1"];
        if retry_after.is_some() {
            args.extend(["--retry-after", "1"]);
        }
        let Some(rx) = Receiver::start_with(&args) else {
            return;
        };
        let port = if protocol == "grpc" { rx.grpc } else { rx.http };
        let endpoint = format!("http://127.0.0.1:{port}");
        let (trace_id, gw) = one_traced_request(&endpoint, protocol, &[]).await;
        // The server and the client span, once each: the refused export was sent again.
        rx.trace(&trace_id, 2).await;
        let m = poll_until(
            || gw.metrics(),
            |m| metric(m, "switchyard_trace_spans_exported_total") >= 2.0,
        )
        .await;
        assert_eq!(
            metric(&m, "switchyard_trace_spans_exported_total"),
            2.0,
            "{m}"
        );
        assert_eq!(
            metric(&m, "switchyard_trace_export_retries_total"),
            1.0,
            "{m}"
        );
        for reason in ["queue_full", "export_failed", "rejected"] {
            let line = format!("switchyard_trace_spans_dropped_total{{reason=\"{reason}\"}}");
            assert_eq!(metric(&m, &line), 0.0, "{m}");
        }
        assert_eq!(rx.spans().len(), 2, "{protocol}: {:#?}", rx.spans());
        let exports = rx.exports();
        let answers: Vec<&str> = exports
            .iter()
            .map(|e| e["answer"].as_str().unwrap())
            .collect();
        assert_eq!(answers, ["refused", "ok"], "{protocol}");
        let waited = exports[1]["time"].as_f64().unwrap() - exports[0]["time"].as_f64().unwrap();
        match retry_after {
            // Retry-After: 1 is honoured, never undercut.
            Some(secs) => assert!(waited >= secs, "{protocol}: sent again after {waited} s"),
            // No delay asked: the first backoff, 0.5 to 1 s with jitter.
            None => assert!(
                (0.45..5.0).contains(&waited),
                "{protocol}: sent again after {waited} s"
            ),
        }
    }
}

#[tokio::test]
async fn an_https_collector_is_trusted_through_the_certificate_variable() {
    if !switchyard_e2e::tools::require("openssl", &["version"], "otlp_over_tls") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    switchyard_e2e::tls::make_test_ca(dir.path());
    let path = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let (cert, key, ca) = (path("cert.pem"), path("key.pem"), path("ca.pem"));
    let Some(rx) = Receiver::start_with(&["--tls", &cert, &key]) else {
        return;
    };
    for (protocol, port) in [("http/protobuf", rx.http), ("grpc", rx.grpc)] {
        let endpoint = format!("https://127.0.0.1:{port}");
        let ca_var = [("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str())];
        let (trace_id, _gw) = one_traced_request(&endpoint, protocol, &ca_var).await;
        let spans = rx.trace(&trace_id, 2).await;
        let transport = if protocol == "grpc" { "grpc" } else { "http" };
        assert!(
            spans.iter().all(|s| s["transport"] == transport),
            "{spans:#?}"
        );
    }
    // Without the CA file the system's roots do not know the test CA: the handshake fails,
    // which is not retried, and the spans are dropped and counted.
    let endpoint = format!("https://127.0.0.1:{}", rx.http);
    let (trace_id, gw) = one_traced_request(&endpoint, "http/protobuf", &[]).await;
    let failed = r#"switchyard_trace_spans_dropped_total{reason="export_failed"}"#;
    let m = poll_until(|| gw.metrics(), |m| metric(m, failed) >= 2.0).await;
    assert_eq!(metric(&m, failed), 2.0, "{m}");
    assert_eq!(
        metric(&m, "switchyard_trace_export_retries_total"),
        0.0,
        "{m}"
    );
    assert!(
        gw.stderr().contains("traces: export failed"),
        "{}",
        gw.stderr()
    );
    assert!(rx
        .spans()
        .iter()
        .all(|s| s["trace_id"] != trace_id.as_str()));
}
