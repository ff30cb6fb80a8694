use std::sync::Arc;

use serde_json::json;
use switchyard_config::{Config, MapEnv};
use switchyard_filter::{Endpoint, RoutePlan};
use switchyard_wire::Dialect;

use super::*;

const YAML: &str = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
  - { id: a, type: anthropic, base_url: "http://127.0.0.1:2", api_key_env: K }
models:
  - { id: small, provider: p, model: gpt-4o-mini, context_window: 2000 }
  - { id: large, provider: a, model: claude-x, context_window: 100000, max_output_tokens: 2000 }
  - { id: unknown, provider: p, model: my-local-model }
"#;

fn filter(settings: &str) -> (Arc<Config>, Arc<dyn Filter>) {
    let config = Arc::new(Config::from_yaml_str(YAML, &MapEnv::new().with_var("K", "k")).unwrap());
    let v: serde_yaml::Value = serde_yaml::from_str(settings).unwrap();
    let f = ContextWindowFactory
        .build(
            &v,
            &BuildEnv {
                config: &config,
                path: "filters[0]",
            },
        )
        .unwrap();
    (config, f)
}

fn run(
    f: &Arc<dyn Filter>,
    config: &Arc<Config>,
    targets: Vec<usize>,
    words: usize,
    max: Option<u64>,
) -> (Result<(), GatewayError>, RequestCtx) {
    let mut body =
        json!({"model": "r", "messages": [{"role": "user", "content": "hello ".repeat(words)}]});
    if let Some(m) = max {
        body["max_completion_tokens"] = m.into();
    }
    let req = ChatRequest::parse(Dialect::OpenAi, body.to_string().as_bytes()).unwrap();
    let mut cx = RequestCtx::new(
        "t".into(),
        config.clone(),
        Endpoint::ChatCompletions,
        Default::default(),
    );
    cx.route = Some(RoutePlan {
        name: "r".into(),
        targets,
        ..Default::default()
    });
    let r = f.on_plan(&mut cx, &req);
    (r, cx)
}

fn header(cx: &RequestCtx) -> Option<u64> {
    cx.response_headers
        .iter()
        .find(|(n, _)| n == REROUTE_HEADER)
        .and_then(|(_, v)| v.to_str().ok()?.parse().ok())
}

#[test]
fn short_prompts_stay_on_the_small_window() {
    let (config, f) = filter("null");
    let (r, cx) = run(&f, &config, vec![0, 1], 10, None);
    r.unwrap();
    assert_eq!(cx.route.as_ref().unwrap().targets, vec![0, 1]);
    assert!(cx.route.as_ref().unwrap().pruned.is_empty());
    assert_eq!(header(&cx), None);
}

#[test]
fn long_prompts_are_rerouted_to_the_large_window_and_say_so() {
    let (config, f) = filter("{on_overflow: reroute}");
    // "hello " is one token each: ~1200 prompt tokens + 1024 default output > 2000.
    let (r, cx) = run(&f, &config, vec![0, 1], 1200, None);
    r.unwrap();
    let plan = cx.route.as_ref().unwrap();
    assert_eq!(plan.targets, vec![1]);
    assert_eq!(plan.pruned, vec![(0, SKIP_REASON)]);
    // The header gives the prompt as counted for the target that takes it: the Anthropic
    // estimate, ~1,206 tokens with its 1.3 margin.
    let tokens = header(&cx).unwrap();
    assert!((1_500..1_650).contains(&tokens), "{tokens}");
}

#[test]
fn the_requested_output_counts_against_the_window() {
    let (config, f) = filter("null");
    let (r, cx) = run(&f, &config, vec![0, 1], 300, Some(100));
    r.unwrap();
    assert_eq!(cx.route.unwrap().targets, vec![0, 1]);
    let (r, cx) = run(&f, &config, vec![0, 1], 300, Some(1_800));
    r.unwrap();
    assert_eq!(cx.route.unwrap().targets, vec![1]);
}

#[test]
fn reject_refuses_when_the_first_target_cannot_fit() {
    let (config, f) = filter("{on_overflow: reject}");
    let (r, _) = run(&f, &config, vec![0, 1], 1200, None);
    match r {
        Err(GatewayError::ContextWindowExceeded { needed, limit }) => {
            assert_eq!(limit, 2000);
            assert!(needed > 2200, "{needed}");
        }
        other => panic!("{other:?}"),
    }
    // A larger first target is fine; the small one is dropped from failover silently.
    let (r, cx) = run(&f, &config, vec![1, 0], 1200, None);
    r.unwrap();
    assert_eq!(cx.route.as_ref().unwrap().targets, vec![1]);
    assert_eq!(header(&cx), None);
}

#[test]
fn nothing_fitting_is_a_400_naming_the_widest_window() {
    let (config, f) = filter("null");
    let (r, _) = run(&f, &config, vec![0, 1], 120_000, None);
    let e = r.unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(e.code(), Some("context_length_exceeded"));
    let GatewayError::ContextWindowExceeded { needed, limit } = e else {
        panic!()
    };
    assert_eq!(limit, 100_000);
    // The Anthropic target's estimate carries a margin and its own output cap.
    assert!(needed > 120_000 + 2_000, "{needed}");
}

#[test]
fn a_target_with_no_known_window_always_fits() {
    let (config, f) = filter("null");
    let (r, cx) = run(&f, &config, vec![0, 2], 5_000, None);
    r.unwrap();
    assert_eq!(cx.route.unwrap().targets, vec![2]);
}
