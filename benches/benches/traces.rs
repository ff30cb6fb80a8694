//! What tracing costs a request: the default chain with traces off, on and sampled (the
//! spans built and queued for export), and on but not sampled (ids and `traceparent` only),
//! for a JSON answer and a 22-event stream; and, off the request path, what the export thread
//! spends encoding a batch of 512 spans into an OTLP request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use switchyard_bench::{peers_file, run};
use switchyard_config::{Config, MapEnv};
use switchyard_filter::Chain;
use switchyard_telemetry::encode::{export_request, Preamble};
use switchyard_telemetry::{Attr, SpanId, SpanKind, SpanRecord, Status, Text, TraceId, Value};

const YAML: &str = r#"version: 1
server: { usage_log: off }
auth:
  keys:
    - id: bench
      key_env: CLIENT_KEY
providers:
  - id: mock
    type: openai
    base_url: http://127.0.0.1:18080/v1
    api_key_env: PROVIDER_KEY
models:
  - id: gpt-4o-mini
    provider: mock
    pricing: { input_per_mtok: 0.15, output_per_mtok: 0.60 }
"#;

/// Exports go to a port nothing listens on: the export thread fails fast and counts the
/// spans as dropped, so the queue keeps draining while the request path is measured.
const TRACED: &str = "telemetry:\n  otlp: { endpoint: 'http://127.0.0.1:9', sample_ratio: 1.0 }\n";
const UNSAMPLED: &str =
    "telemetry:\n  otlp: { endpoint: 'http://127.0.0.1:9', sample_ratio: 0.0 }\n";

fn setup(extra: &str) -> (Arc<Config>, Chain) {
    let env = MapEnv::new()
        .with_var("CLIENT_KEY", "sk-bench-client-0123456789")
        .with_var("PROVIDER_KEY", "sk-upstream")
        .with_var("OTEL_BSP_SCHEDULE_DELAY", "1");
    let config = Arc::new(Config::from_yaml_str(&format!("{YAML}{extra}"), &env).expect("config"));
    let metrics = prometheus::Registry::new();
    let registry = switchyard_filters::register_all(&metrics).expect("registry");
    let chain = registry.build_chain(&config).expect("chain");
    chain.activate();
    (config, chain)
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        "Bearer sk-bench-client-0123456789".parse().unwrap(),
    );
    h.insert("content-type", "application/json".parse().unwrap());
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
    let mut request: serde_json::Value =
        serde_json::from_slice(&peers_file("wrk/request.json")).unwrap();
    let json_reply = vec![Bytes::from(peers_file("mock/bodies/chat.json"))];
    let sse = peers_file("mock/bodies/chat.sse");
    let sse_reply: Vec<Bytes> = String::from_utf8(sse)
        .unwrap()
        .split_inclusive("\n\n")
        .map(|e| Bytes::from(e.to_string()))
        .collect();
    let body = serde_json::to_vec(&request).unwrap();
    request["stream"] = serde_json::json!(true);
    let stream_body = serde_json::to_vec(&request).unwrap();

    for (name, extra) in [
        ("traces_off", ""),
        ("traces_on", TRACED),
        ("traces_unsampled", UNSAMPLED),
    ] {
        let (config, chain) = setup(extra);
        c.bench_function(&format!("{name}/json_1kb"), |b| {
            b.iter(|| {
                run(
                    &rt,
                    &config,
                    &chain,
                    headers(),
                    black_box(&body),
                    &json_reply,
                )
            })
        });
        c.bench_function(&format!("{name}/stream_1kb_22_events"), |b| {
            b.iter(|| {
                run(
                    &rt,
                    &config,
                    &chain,
                    headers(),
                    black_box(&stream_body),
                    &sse_reply,
                )
            })
        });
    }
    let pre = Preamble::new("switchyard", &[]);
    let batch: Vec<SpanRecord> = (0..512).map(span).collect();
    c.bench_function("traces_export/encode_512_spans", |b| {
        b.iter(|| export_request(&pre, black_box(&batch)).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
