//! The request path without network: parse the client's body, run the filter chain, encode
//! the upstream body, then translate the answer back — a whole JSON reply, and a stream chunk
//! by chunk — and run the completion hooks. Three chains: the default one (every filter), the
//! core (auth, route, translate, metrics), and the core plus the routing and resilience
//! filters (context_window, circuit_breaker, retry), so their cost per request shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_bench::{chain_for, client_headers as headers, peer_load, run, GATEWAY_YAML};
use switchyard_config::Config;
use switchyard_filter::Chain;

/// The core filters only.
const CORE: &str = "filters: [auth, route, translate, metrics]\n";
/// The core plus context_window, circuit_breaker and retry, with their default settings.
const RESILIENCE: &str =
    "filters: [auth, context_window, route, circuit_breaker, retry, translate, metrics]\n";

/// A window (30k tokens) that a 100 KB prompt's byte count does not fit, so the context
/// window filter counts it with BPE instead of taking its fast path.
const COUNTED_WINDOW: &str = "    context_window: 30000\n";

fn setup(filters: &str) -> (Arc<Config>, Chain) {
    let yaml = match filters.strip_prefix("counted:") {
        Some(f) => format!(
            "{}{f}",
            GATEWAY_YAML.replace(
                "    provider: mock\n",
                &format!("    provider: mock\n{COUNTED_WINDOW}")
            )
        ),
        None => format!("{GATEWAY_YAML}{filters}"),
    };
    chain_for(&yaml, &[])
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let load = peer_load();
    let mut request = load.request.clone();
    request["messages"][1]["content"] = serde_json::json!("word ".repeat(20_000));
    let big = serde_json::to_vec(&request).unwrap();

    for (prefix, filters) in [
        ("chain", ""),
        ("chain_core", CORE),
        ("chain_resilience", RESILIENCE),
    ] {
        let (config, chain) = setup(filters);
        let big_case = ("json_100kb", &big[..], &load.json_reply[..]);
        for (case, body, reply) in load.cases().into_iter().chain([big_case]) {
            c.bench_function(&format!("{prefix}/{case}"), |b| {
                b.iter(|| run(&rt, &config, &chain, headers(), black_box(body), reply))
            });
        }
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
                &load.json_reply,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
