//! The filter driven through a chain with hand-made contexts: charges, refusals, settlement
//! to the real cost, and both `on_unavailable` modes against a Redis that is not there.

use std::sync::Arc;

use http::HeaderMap;
use switchyard_config::{Config, MapEnv};
use switchyard_filter::{Chain, Endpoint, ErrorKind, GatewayError, Outcome, RequestCtx};
use switchyard_wire::{ChatRequest, Dialect, Usage};

const KEY: &str = "sk-unit-key";

fn setup(limits: &str, state: &str) -> (Arc<Config>, Chain, crate::rate_limit::LimitsHandle) {
    let yaml = format!(
        "version: 1\nserver: {{ usage_log: off }}\nauth:\n  keys:\n    - id: app\n      key_env: K\n{limits}providers:\n  - {{ id: p, type: openai_compatible, base_url: \"http://127.0.0.1:1/v1\" }}\nmodels:\n  - id: m\n    provider: p\n    pricing: {{ input_per_mtok: 0.0, output_per_mtok: 1000.0 }}\n{state}"
    );
    let env = MapEnv::new()
        .with_var("K", KEY)
        .with_var("REDIS_URL", "redis://127.0.0.1:1/");
    let config = Arc::new(Config::from_yaml_str(&yaml, &env).unwrap());
    let metrics = prometheus::Registry::new();
    let (registry, handle) = crate::register_all_with_limits(&metrics).unwrap();
    let chain = registry.build_chain(&config).unwrap();
    chain.activate();
    (config, chain, handle)
}

fn cx(config: &Arc<Config>) -> RequestCtx {
    let mut h = HeaderMap::new();
    h.insert("authorization", format!("Bearer {KEY}").parse().unwrap());
    RequestCtx::new("r".into(), config.clone(), Endpoint::ChatCompletions, h)
}

fn request(max_tokens: u64) -> ChatRequest {
    let body = serde_json::json!({"model": "m", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hi"}]});
    ChatRequest::parse(Dialect::OpenAi, body.to_string().as_bytes()).unwrap()
}

/// Runs one request; `completion` tokens of real usage, or a failure without usage.
async fn one(
    config: &Arc<Config>,
    chain: &Chain,
    completion: Option<u64>,
) -> Result<(), GatewayError> {
    let mut cx = cx(config);
    let mut req = request(20);
    let r = chain.on_request(&mut cx, &mut req).await.map(|_| ());
    if r.is_ok() {
        cx.answer.model = Some(0);
        cx.usage = completion.map(|c| Usage {
            prompt_tokens: 5,
            completion_tokens: c,
            cached_tokens: 0,
            reasoning_tokens: 0,
            ..Usage::default()
        });
    }
    let status = if r.is_ok() { 200 } else { 429 };
    chain.on_complete(
        &cx,
        &Outcome {
            status,
            error_kind: None,
            truncated: false,
        },
    );
    r
}

#[tokio::test]
async fn budget_settles_to_the_real_cost_and_refuses_once_spent() {
    // $0.001 per output token: each request reserves $0.02 and really costs $0.01.
    let (config, chain, handle) = setup("      budget: { usd: 0.03, period: weekly }\n", "");
    for _ in 0..3 {
        one(&config, &chain, Some(10)).await.unwrap();
    }
    let b = handle.budget(&config, "app").await.unwrap();
    assert!((b.spent - 0.03).abs() < 1e-9, "{b:?}");
    assert_eq!(b.reserved, 0.0);
    assert_eq!(b.remaining, 0.0);
    assert_eq!(b.period, "weekly");
    match one(&config, &chain, Some(10)).await {
        Err(GatewayError::RateLimited {
            code, retry_after, ..
        }) => {
            assert_eq!(code, ErrorKind::BudgetExceeded);
            assert!(retry_after.as_secs() > 1 && retry_after.as_secs() <= 7 * 86_400);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_failure_releases_the_reservation() {
    let (config, chain, handle) = setup("      budget: { usd: 0.01, period: total }\n", "");
    for _ in 0..5 {
        one(&config, &chain, None).await.unwrap();
    }
    let b = handle.budget(&config, "app").await.unwrap();
    assert_eq!((b.spent, b.reserved, b.remaining), (0.0, 0.0, 0.01));
    assert!(b.resets_at.is_none());
}

#[tokio::test]
async fn rpm_refuses_with_retry_after() {
    let (config, chain, _) = setup("      rpm: 2\n", "");
    one(&config, &chain, Some(1)).await.unwrap();
    one(&config, &chain, Some(1)).await.unwrap();
    match one(&config, &chain, Some(1)).await {
        Err(GatewayError::RateLimited {
            code, retry_after, ..
        }) => {
            assert_eq!(code, ErrorKind::RateLimitExceeded);
            assert_eq!(retry_after.as_secs(), 30);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn limits_survive_a_reload() {
    let (config, chain, _) = setup("      rpm: 1\n", "");
    one(&config, &chain, Some(1)).await.unwrap();
    // The same registry builds the next config's chain: the window is still there.
    let metrics = prometheus::Registry::new();
    let (registry, _) = crate::register_all_with_limits(&metrics).unwrap();
    let fresh = registry.build_chain(&config).unwrap();
    one(&config, &fresh, Some(1)).await.unwrap();
    assert!(one(&config, &chain, Some(1)).await.is_err());
}

const REDIS_DOWN: &str = "state:\n  backend: redis\n  url_env: REDIS_URL\n";

#[tokio::test]
async fn unreachable_redis_falls_back_to_local_limits_by_default() {
    let (config, chain, handle) = setup("      rpm: 1\n", REDIS_DOWN);
    // fail_open: this process's own window of 1 a minute, not unlimited.
    one(&config, &chain, Some(1)).await.unwrap();
    for _ in 0..2 {
        match one(&config, &chain, Some(1)).await {
            Err(GatewayError::RateLimited { code, .. }) => {
                assert_eq!(code, ErrorKind::RateLimitExceeded)
            }
            other => panic!("{other:?}"),
        }
    }
    let b = setup("      budget: { usd: 1 }\n", REDIS_DOWN);
    let status = b.2.budget(&b.0, "app").await.unwrap();
    assert!(status.error.is_some(), "{status:?}");
    drop(handle);
}

#[tokio::test]
async fn unreachable_redis_fails_closed_when_asked() {
    let state = format!("{REDIS_DOWN}  on_unavailable: fail_closed\n");
    let (config, chain, _) = setup("      rpm: 100\n", &state);
    let t = std::time::Instant::now();
    match one(&config, &chain, Some(1)).await {
        Err(GatewayError::RateLimited {
            code, retry_after, ..
        }) => {
            assert_eq!(code, ErrorKind::RateLimitExceeded);
            assert_eq!(retry_after.as_secs(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < std::time::Duration::from_millis(500));
}

#[test]
fn tls_redis_urls_load() {
    let yaml = format!(
        "version: 1\nauth:\n  keys:\n    - id: app\n      key_env: K\n      rpm: 1\nproviders:\n  - {{ id: p, type: openai_compatible, base_url: \"http://127.0.0.1:1/v1\" }}\nmodels:\n  - id: m\n    provider: p\n{REDIS_DOWN}"
    );
    let env = MapEnv::new()
        .with_var("K", KEY)
        .with_var("REDIS_URL", "rediss://127.0.0.1:1/");
    let config = Arc::new(Config::from_yaml_str(&yaml, &env).unwrap());
    let metrics = prometheus::Registry::new();
    let registry = crate::register_all(&metrics).unwrap();
    assert!(registry.build_chain(&config).is_ok());
}
