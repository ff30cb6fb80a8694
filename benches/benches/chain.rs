//! The request path without network: parse the client's body, run the filter chain, encode
//! the upstream body, then translate the answer back — a whole JSON reply, and a stream chunk
//! by chunk — and run the completion hooks. Three chains: the default one (every filter), the
//! core (auth, route, translate, metrics), and the core plus the routing and resilience
//! filters (context_window, circuit_breaker, retry), so their cost per request shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use switchyard_bench::{peers_file, run};
use switchyard_config::{Config, MapEnv};
use switchyard_filter::Chain;

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

/// The core filters only.
const CORE: &str = "filters: [auth, route, translate, metrics]\n";
/// The core plus context_window, circuit_breaker and retry, with their default settings.
const RESILIENCE: &str =
    "filters: [auth, context_window, route, circuit_breaker, retry, translate, metrics]\n";

/// A window (30k tokens) that a 100 KB prompt's byte count does not fit, so the context
/// window filter counts it with BPE instead of taking its fast path.
const COUNTED_WINDOW: &str = "    context_window: 30000\n";

fn setup(filters: &str) -> (Arc<Config>, Chain) {
    let env = MapEnv::new()
        .with_var("CLIENT_KEY", "sk-bench-client-0123456789")
        .with_var("PROVIDER_KEY", "sk-upstream");
    let yaml = match filters.strip_prefix("counted:") {
        Some(f) => format!(
            "{}{f}",
            YAML.replace(
                "    provider: mock\n",
                &format!("    provider: mock\n{COUNTED_WINDOW}")
            )
        ),
        None => format!("{YAML}{filters}"),
    };
    let config = Arc::new(Config::from_yaml_str(&yaml, &env).expect("config"));
    let metrics = prometheus::Registry::new();
    let registry = switchyard_filters::register_all(&metrics).expect("registry");
    let chain = registry.build_chain(&config).expect("chain");
    (config, chain)
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authorization",
        "Bearer sk-bench-client-0123456789".parse().unwrap(),
    );
    h.insert("content-type", "application/json".parse().unwrap());
    h
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
    request["stream"] = serde_json::json!(false);
    request["messages"][1]["content"] = serde_json::json!("word ".repeat(20_000));
    let big = serde_json::to_vec(&request).unwrap();

    for (prefix, filters) in [
        ("chain", ""),
        ("chain_core", CORE),
        ("chain_resilience", RESILIENCE),
    ] {
        let (config, chain) = setup(filters);
        c.bench_function(&format!("{prefix}/json_1kb"), |b| {
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
        c.bench_function(&format!("{prefix}/stream_1kb_22_events"), |b| {
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
        c.bench_function(&format!("{prefix}/json_100kb"), |b| {
            b.iter(|| {
                run(
                    &rt,
                    &config,
                    &chain,
                    headers(),
                    black_box(&big),
                    &json_reply,
                )
            })
        });
    }
    let (config, chain) = setup(&format!("counted:{RESILIENCE}"));
    c.bench_function("chain_resilience/json_100kb_bpe_counted", |b| {
        b.iter(|| {
            run(
                &rt,
                &config,
                &chain,
                headers(),
                black_box(&big),
                &json_reply,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
