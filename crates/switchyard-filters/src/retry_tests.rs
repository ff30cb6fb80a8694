use std::sync::Arc;
use std::time::Duration;

use switchyard_config::{Config, MapEnv};
use switchyard_filter::{Endpoint, RoutePlan};

use super::*;

const YAML: &str = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
models:
  - { id: a, provider: p }
  - { id: b, provider: p }
"#;

fn settings(yaml: &str) -> Result<Settings, String> {
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    crate::settings::parse::<RetryConfig>("retry", &v)
        .and_then(RetryConfig::check)
        .map_err(|e| e.message)
}

fn filter(yaml: &str) -> RetryFilter {
    RetryFilter {
        settings: settings(yaml).unwrap(),
        budget: Arc::new(Budget::default()),
        cooldowns: Cooldowns::new(2),
    }
}

fn cx(f: &RetryFilter, targets: Vec<usize>, tried: usize, attempts: u32) -> RequestCtx {
    let config = Arc::new(Config::from_yaml_str(YAML, &MapEnv::new().with_var("K", "k")).unwrap());
    let mut cx = RequestCtx::new(
        "t".into(),
        config,
        Endpoint::ChatCompletions,
        Default::default(),
    );
    cx.route = Some(RoutePlan {
        name: "r".into(),
        targets,
        tried,
        ..Default::default()
    });
    cx.answer.attempts = attempts;
    cx.slots.insert(Retrying::new(&f.budget));
    cx
}

fn failed(status: u16, retry_after: Option<u64>) -> FailedAttempt {
    FailedAttempt {
        result: AttemptResult::Status(status),
        retry_after: retry_after.map(Duration::from_secs),
    }
}

#[test]
fn backoff_doubles_is_capped_and_jittered_within_half() {
    let (base, max) = (Duration::from_millis(100), Duration::from_millis(1000));
    assert_eq!(backoff(base, max, 1, 0.0), Duration::from_millis(50));
    assert_eq!(backoff(base, max, 1, 0.999_999).as_millis(), 99);
    assert_eq!(backoff(base, max, 3, 0.0), Duration::from_millis(200));
    assert_eq!(backoff(base, max, 10, 0.0), Duration::from_millis(500));
    assert!(backoff(base, max, 10, 1.0) <= max);
    assert!(backoff(base, max, 40, 0.5) <= max, "no overflow");
}

#[test]
fn settings_take_the_config_md_spelling_and_refuse_unknown_classes() {
    let s = settings("{attempts: 3, backoff: 100ms, on: [connect, timeout, 429, 5xx]}").unwrap();
    assert_eq!(s.attempts, 3);
    assert_eq!(s.on.len(), 4);
    assert!(s.on.contains(&RetryOn::RateLimited));
    assert!(settings("{on: [4xx]}").unwrap_err().contains("4xx"));
    assert!(settings("{attempts: 0}").is_err());
    assert!(settings("{attemps: 2}").unwrap_err().contains("attemps"));
    assert_eq!(settings("null").unwrap().attempts, 3);
}

#[test]
fn fails_over_to_an_untried_target_at_once() {
    let f = filter("{attempts: 3}");
    let mut cx = cx(&f, vec![0, 1], 1, 1);
    let d = f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(503, None));
    assert_eq!(d, RetryDecision::Next);
    assert_eq!(cx.route.unwrap().targets, vec![0, 1]);
}

#[test]
fn tries_a_target_again_after_backoff_when_the_plan_is_used_up() {
    let f = filter("{attempts: 3, backoff: 100ms}");
    let mut cx = cx(&f, vec![0], 1, 1);
    let d = f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(500, None));
    let RetryDecision::Backoff(w) = d else {
        panic!("{d:?}")
    };
    assert!(
        w >= Duration::from_millis(50) && w < Duration::from_millis(100),
        "{w:?}"
    );
    assert_eq!(cx.route.as_ref().unwrap().targets, vec![0, 0]);
    // The second re-try waits longer.
    cx.route.as_mut().unwrap().tried = 2;
    cx.answer.attempts = 2;
    let RetryDecision::Backoff(w) =
        f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(500, None))
    else {
        panic!()
    };
    assert!(w >= Duration::from_millis(100), "{w:?}");
    // And then attempts are used up.
    cx.route.as_mut().unwrap().tried = 3;
    cx.answer.attempts = 3;
    let d = f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(500, None));
    assert_eq!(d, RetryDecision::Stop("retry.attempts reached"));
}

#[test]
fn a_long_retry_after_is_skipped_for_another_target_not_waited_on() {
    let f = filter("{attempts: 3, max_retry_after: 10s}");
    let mut cx = cx(&f, vec![0, 1], 1, 1);
    assert_eq!(
        f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(429, Some(30))),
        RetryDecision::Next
    );
    cx.route.as_mut().unwrap().tried = 2;
    cx.answer.attempts = 2;
    let d = f.on_attempt_failed(&mut cx, &UpstreamRequest::new(1), &failed(503, None));
    assert!(
        matches!(d, RetryDecision::Backoff(w) if w < Duration::from_secs(1)),
        "{d:?}"
    );
    assert_eq!(cx.route.unwrap().targets, vec![0, 1, 1], "b again, not a");
}

#[test]
fn a_short_retry_after_is_waited_on_and_a_long_one_alone_stops() {
    let f = filter("{attempts: 3, max_retry_after: 5s}");
    let mut cx1 = cx(&f, vec![0], 1, 1);
    let d = f.on_attempt_failed(&mut cx1, &UpstreamRequest::new(0), &failed(429, Some(2)));
    assert!(
        matches!(d, RetryDecision::Backoff(w) if w > Duration::from_millis(1_900) && w <= Duration::from_secs(2)),
        "{d:?}"
    );
    let mut cx2 = cx(&f, vec![0], 1, 1);
    let d = f.on_attempt_failed(&mut cx2, &UpstreamRequest::new(0), &failed(429, Some(30)));
    assert!(matches!(d, RetryDecision::Stop(_)), "{d:?}");
}

#[test]
fn failure_classes_left_out_of_on_stop() {
    let f = filter("{on: [connect, timeout]}");
    let mut cx = cx(&f, vec![0, 1], 1, 1);
    let d = f.on_attempt_failed(&mut cx, &UpstreamRequest::new(0), &failed(502, None));
    assert_eq!(d, RetryDecision::Stop("retry.on leaves out 5xx"));
    let d = f.on_attempt_failed(
        &mut cx,
        &UpstreamRequest::new(0),
        &FailedAttempt {
            result: AttemptResult::ConnectError,
            retry_after: None,
        },
    );
    assert_eq!(d, RetryDecision::Next);
}

#[test]
fn the_budget_caps_concurrent_re_tries_at_a_share_of_live_requests() {
    let b = Budget::default();
    b.active.store(100, Ordering::Relaxed);
    let granted = (0..50).filter(|_| b.try_acquire(0.2, 3)).count();
    assert_eq!(granted, 20);
    let b = Budget::default();
    b.active.store(2, Ordering::Relaxed);
    let granted = (0..50).filter(|_| b.try_acquire(0.2, 3)).count();
    assert_eq!(granted, 3, "min_concurrency");
}

#[test]
fn an_exhausted_budget_stops_re_tries_but_not_failover() {
    let f = filter("{attempts: 5, budget: {ratio: 0.0, min_concurrency: 0}}");
    let mut cx1 = cx(&f, vec![0, 1], 1, 1);
    let d = f.on_attempt_failed(&mut cx1, &UpstreamRequest::new(0), &failed(500, None));
    assert_eq!(d, RetryDecision::Next);
    let mut cx2 = cx(&f, vec![0], 1, 1);
    let d = f.on_attempt_failed(&mut cx2, &UpstreamRequest::new(0), &failed(500, None));
    assert_eq!(d, RetryDecision::Stop("retry budget exhausted"));
}

#[test]
fn a_request_gives_its_budget_back_however_it_ends() {
    let f = filter("{attempts: 3}");
    {
        let mut c = cx(&f, vec![0], 1, 1);
        assert_eq!(f.budget.active.load(Ordering::Relaxed), 1);
        let d = f.on_attempt_failed(&mut c, &UpstreamRequest::new(0), &failed(500, None));
        assert!(matches!(d, RetryDecision::Backoff(_)));
        assert_eq!(f.budget.retrying.load(Ordering::Relaxed), 1);
        // Dropped without on_complete, as a cancelled request would be.
    }
    assert_eq!(f.budget.active.load(Ordering::Relaxed), 0);
    assert_eq!(f.budget.retrying.load(Ordering::Relaxed), 0);
}

#[test]
fn a_target_cooling_down_is_passed_over_by_later_requests_while_another_remains() {
    let f = filter("{attempts: 3}");
    let req = ChatRequest::parse(
        switchyard_wire::Dialect::OpenAi,
        br#"{"model":"m","messages":[]}"#,
    )
    .unwrap();
    let mut first = cx(&f, vec![0, 1], 1, 1);
    f.on_attempt_failed(&mut first, &UpstreamRequest::new(0), &failed(429, Some(30)));
    // A later request: 0 is cooling down and 1 comes after it, so 0 is skipped.
    let mut later = cx(&f, vec![0, 1], 1, 0);
    let flow = f
        .on_upstream_request(&mut later, &req, &mut UpstreamRequest::new(0))
        .unwrap();
    assert_eq!(flow, AttemptFlow::Skip(COOLDOWN_REASON));
    // 1 itself is fine.
    let mut later = cx(&f, vec![0, 1], 2, 0);
    let flow = f
        .on_upstream_request(&mut later, &req, &mut UpstreamRequest::new(1))
        .unwrap();
    assert_eq!(flow, AttemptFlow::Send);
    // Alone, 0 is tried anyway: the upstream decides.
    let mut alone = cx(&f, vec![0], 1, 0);
    let flow = f
        .on_upstream_request(&mut alone, &req, &mut UpstreamRequest::new(0))
        .unwrap();
    assert_eq!(flow, AttemptFlow::Send);
    // A 500 with a retry-after sets no cooldown.
    let f = filter("{attempts: 3}");
    let mut c = cx(&f, vec![0, 1], 1, 1);
    f.on_attempt_failed(&mut c, &UpstreamRequest::new(0), &failed(500, Some(30)));
    assert!(!f.cooldowns.cooling(0, Instant::now()));
}
