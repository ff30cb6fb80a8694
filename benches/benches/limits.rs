//! The per-request cost of metering and limits: the state backend alone (memory: admit +
//! settle with rpm, tpm and a budget), and the chain's request and completion hooks without
//! metering, with `metrics`, and with `metrics` + `rate_limit`. With
//! `SWITCHYARD_BENCH_REDIS_URL=redis://127.0.0.1:PORT/` it also times the Redis backend's
//! admit + settle (two round trips and two Lua scripts).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use switchyard_bench::{bench_env, chain, CLIENT_KEY as KEY};
use switchyard_config::{BudgetPeriod, Config};
use switchyard_filter::{Chain, Endpoint, Outcome, RequestCtx};
use switchyard_filters::state::{
    period, Admission, BudgetAsk, MemoryState, RedisState, Settlement, StateBackend, TokenCharge,
    Verdict,
};
use switchyard_wire::{ChatRequest, Dialect, Usage};

fn config(filters: &str, limits: &str) -> Arc<Config> {
    let yaml = format!(
        r#"version: 1
server: {{ usage_log: off }}
auth:
  keys:
    - id: bench
      key_env: CLIENT_KEY
{limits}providers:
  - id: mock
    type: openai
    base_url: http://127.0.0.1:18080/v1
    api_key_env: PROVIDER_KEY
models:
  - id: gpt-4o-mini
    provider: mock
    max_output_tokens: 16384
    pricing: {{ input_per_mtok: 0.15, output_per_mtok: 0.60 }}
filters: [{filters}]
"#
    );
    Arc::new(Config::from_yaml_str(&yaml, &bench_env(&[])).expect("config"))
}

/// The request and completion hooks of one request (no upstream, no response body).
fn run(rt: &tokio::runtime::Runtime, config: &Arc<Config>, chain: &Chain, body: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    let mut cx = RequestCtx::new(
        "bench".into(),
        config.clone(),
        Endpoint::ChatCompletions,
        headers,
    );
    let mut req = ChatRequest::parse(Dialect::OpenAi, body).unwrap();
    rt.block_on(chain.on_request(&mut cx, &mut req)).unwrap();
    cx.answer.model = Some(0);
    cx.answer.attempts = 1;
    cx.usage = Some(Usage {
        prompt_tokens: 30,
        completion_tokens: 20,
        cached_tokens: 0,
        reasoning_tokens: 0,
        ..Usage::default()
    });
    chain.on_complete(
        &cx,
        &Outcome {
            status: 200,
            error_kind: None,
            truncated: false,
        },
    );
    black_box(&cx);
}

fn admission<'a>(w: &'a period::Window, now_us: u64) -> Admission<'a> {
    Admission {
        key_id: "bench",
        now_us,
        rpm: Some(u64::MAX / 4),
        tpm: Some(TokenCharge {
            limit: u64::MAX / 4,
            cost: 100,
        }),
        budget: Some(BudgetAsk {
            cap: u64::MAX / 4,
            reserve: 10_000,
            window: w,
            hold: Duration::from_secs(600),
        }),
    }
}

async fn admit_settle(backend: &StateBackend, w: &period::Window, now_us: u64) {
    let Verdict::Admitted(t) = backend.admit(&admission(w, now_us)).await.unwrap() else {
        panic!("limited");
    };
    backend
        .settle(&Settlement {
            key_id: "bench".into(),
            now_us,
            tpm: Some((u64::MAX / 4, -10)),
            budget: t.hold.map(|h| (h, 5_000)),
        })
        .await
        .unwrap();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let w = period::window(BudgetPeriod::Monthly, 1_795_516_200);
    let memory = StateBackend::Memory(MemoryState::new());
    let mut now = 1_795_516_200_000_000u64;
    c.bench_function("limits/memory_admit_settle", |b| {
        b.iter(|| {
            now += 1;
            rt.block_on(admit_settle(&memory, &w, now))
        })
    });

    let body = serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "max_tokens": 256,
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello in five words."}]
    }))
    .unwrap();
    let limits = "      rpm: 1000000000\n      tpm: 1000000000000\n      budget: { usd: 1000000000, period: monthly }\n";
    for (name, filters, limits) in [
        ("limits/chain_auth_route", "auth, route", ""),
        ("limits/chain_with_metrics", "auth, route, metrics", ""),
        (
            "limits/chain_with_metrics_and_rate_limit",
            "auth, rate_limit, route, metrics",
            limits,
        ),
    ] {
        let config = config(filters, limits);
        let chain = chain(&config);
        c.bench_function(name, |b| b.iter(|| run(&rt, &config, &chain, &body)));
    }

    if let Ok(url) = std::env::var("SWITCHYARD_BENCH_REDIS_URL") {
        let redis = StateBackend::Redis(Box::new(
            RedisState::new(&url, Duration::from_millis(100)).unwrap(),
        ));
        c.bench_function("limits/redis_admit_settle", |b| {
            b.iter(|| rt.block_on(admit_settle(&redis, &w, 0)))
        });
        // One round trip: what a request waits for (the settlement runs after the response).
        c.bench_function("limits/redis_admit_rpm_only", |b| {
            b.iter(|| {
                let a = Admission {
                    key_id: "bench",
                    now_us: 0,
                    rpm: Some(u64::MAX / 4),
                    tpm: None,
                    budget: None,
                };
                rt.block_on(redis.admit(&a)).unwrap()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
