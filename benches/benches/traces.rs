//! What tracing costs a request: the default chain with traces off, on and sampled (the
//! spans built and queued for export), and on but not sampled (ids and `traceparent` only),
//! for a JSON answer and a 22-event stream; and, off the request path, what the export thread
//! spends encoding a batch of 512 spans into an OTLP request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use switchyard_bench::{chain_for, client_headers, peer_load, run, GATEWAY_YAML};
use switchyard_config::Config;
use switchyard_filter::Chain;
use switchyard_telemetry::encode::{export_request, Preamble};
use switchyard_telemetry::{Attr, SpanId, SpanKind, SpanRecord, Status, Text, TraceId, Value};

/// Exports go to a port nothing listens on: the export thread fails fast and counts the
/// spans as dropped, so the queue keeps draining while the request path is measured.
const TRACED: &str = "telemetry:\n  otlp: { endpoint: 'http://127.0.0.1:9', sample_ratio: 1.0 }\n";
const UNSAMPLED: &str =
    "telemetry:\n  otlp: { endpoint: 'http://127.0.0.1:9', sample_ratio: 0.0 }\n";

fn setup(extra: &str) -> (Arc<Config>, Chain) {
    let yaml = format!("{GATEWAY_YAML}{extra}");
    let (config, chain) = chain_for(&yaml, &[("OTEL_BSP_SCHEDULE_DELAY", "1")]);
    chain.activate();
    (config, chain)
}

/// A client's headers with an unsampled caller's `traceparent`.
fn headers() -> HeaderMap {
    let mut h = client_headers();
    h.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
            .parse()
            .unwrap(),
    );
    h
}

/// A client span shaped like the gateway's, for the encoding bench.
fn span(i: u64) -> SpanRecord {
    let shared: Arc<str> = Arc::from("gpt-4o-mini");
    SpanRecord {
        trace_id: TraceId::random(),
        span_id: SpanId::random(),
        parent: Some(SpanId::random()),
        parent_remote: false,
        trace_state: None,
        flags: 1,
        name: Text::Owned("chat gpt-4o-mini".into()),
        kind: SpanKind::Client,
        start: 1_700_000_000_000_000_000 + i,
        end: 1_700_000_000_400_000_000 + i,
        attrs: vec![
            Attr::new("gen_ai.operation.name", "chat"),
            Attr::new("gen_ai.provider.name", "openai"),
            Attr::new("gen_ai.request.model", shared.clone()),
            Attr::new("gen_ai.response.model", shared),
            Attr::new("server.address", "api.openai.com"),
            Attr::new("server.port", 443i64),
            Attr::new("gen_ai.usage.input_tokens", 231u64),
            Attr::new("gen_ai.usage.output_tokens", 17u64),
            Attr::new(
                "gen_ai.response.finish_reasons",
                Value::Strs(vec!["stop".into()]),
            ),
            Attr::new("switchyard.model", "gpt-4o-mini"),
            Attr::new("switchyard.attempt", 1i64),
            Attr::new("http.response.status_code", 200i64),
        ],
        events: Vec::new(),
        status: Status::Unset,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let load = peer_load();

    for (name, extra) in [
        ("traces_off", ""),
        ("traces_on", TRACED),
        ("traces_unsampled", UNSAMPLED),
    ] {
        let (config, chain) = setup(extra);
        for (case, body, reply) in load.cases() {
            c.bench_function(&format!("{name}/{case}"), |b| {
                b.iter(|| run(&rt, &config, &chain, headers(), black_box(body), reply))
            });
        }
    }
    let pre = Preamble::new("switchyard", &[]);
    let batch: Vec<SpanRecord> = (0..512).map(span).collect();
    c.bench_function("traces_export/encode_512_spans", |b| {
        b.iter(|| export_request(&pre, black_box(&batch)).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
