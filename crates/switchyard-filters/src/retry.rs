//! `retry`: how many upstream requests one client request may make, and when. After a failed
//! attempt (a failure class listed in `on`), the next target of the route's plan is tried at
//! once; when the plan is used up and `attempts` allows, a target already tried is tried again
//! after an exponential backoff with jitter — or after the `retry-after` it asked for, when
//! that is within `max_retry_after`. A target whose `retry-after` is longer is passed over
//! for another, never waited on.
//!
//! Trying a target again adds load to a deployment that just failed, so those re-tries draw on
//! a retry budget shared by the whole process (as Envoy's): at most `budget.ratio` of the
//! requests in flight may be re-trying at once, and never fewer than `budget.min_concurrency`.
//! Moving on to a target not yet tried is failover and needs no budget.
//!
//! A target that answered 429 or 503 with a `retry-after` is cooling down until then: later
//! requests pass it over (`retry-after`) while another target of their plan is available.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use switchyard_filter::{
    AttemptFlow, AttemptResult, BuildEnv, BuildError, FailedAttempt, Filter, FilterFactory, Flow,
    GatewayError, RequestCtx, RetryDecision, Step, UpstreamRequest,
};
use switchyard_wire::ChatRequest;

/// A failure class named in `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOn {
    /// Connection refused, DNS, TLS.
    Connect,
    /// `connect`, `first_byte`, `idle` or `total` deadline.
    Timeout,
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx, and malformed replies or resets before the first byte (what a proxy reports
    /// as 502).
    ServerError,
}

impl RetryOn {
    fn of(res: &AttemptResult) -> RetryOn {
        match res {
            AttemptResult::ConnectError => RetryOn::Connect,
            AttemptResult::Timeout => RetryOn::Timeout,
            AttemptResult::Status(429) => RetryOn::RateLimited,
            AttemptResult::Status(_) | AttemptResult::Malformed => RetryOn::ServerError,
        }
    }

    fn parse(v: &serde_yaml::Value) -> Result<RetryOn, String> {
        let text = match v {
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::String(s) => s.clone(),
            _ => String::new(),
        };
        match text.as_str() {
            "connect" => Ok(RetryOn::Connect),
            "timeout" => Ok(RetryOn::Timeout),
            "429" => Ok(RetryOn::RateLimited),
            "5xx" => Ok(RetryOn::ServerError),
            _ => Err(format!(
                "retry.on: unknown failure class `{text}`; use connect, timeout, 429, 5xx"
            )),
        }
    }

    fn stop_reason(self) -> &'static str {
        match self {
            RetryOn::Connect => "retry.on leaves out connect errors",
            RetryOn::Timeout => "retry.on leaves out timeouts",
            RetryOn::RateLimited => "retry.on leaves out 429",
            RetryOn::ServerError => "retry.on leaves out 5xx",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct BudgetConfig {
    ratio: f64,
    min_concurrency: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            ratio: 0.2,
            min_concurrency: 3,
        }
    }
}

/// `retry:` settings as written in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RetryConfig {
    attempts: u32,
    #[serde(deserialize_with = "crate::settings::duration")]
    backoff: Duration,
    #[serde(deserialize_with = "crate::settings::duration")]
    max_backoff: Duration,
    on: Option<Vec<serde_yaml::Value>>,
    #[serde(deserialize_with = "crate::settings::duration")]
    max_retry_after: Duration,
    budget: BudgetConfig,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            on: None,
            max_retry_after: Duration::from_secs(10),
            budget: BudgetConfig::default(),
        }
    }
}

/// The checked settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Upstream requests per client request, at most.
    pub attempts: u32,
    /// First backoff before trying a target again; doubles each time.
    pub backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// Failure classes after which another attempt is made.
    pub on: Vec<RetryOn>,
    /// Longest `retry-after` waited on; a target asking for more is passed over.
    pub max_retry_after: Duration,
    /// Share of in-flight requests that may be re-trying at once.
    pub budget_ratio: f64,
    /// Re-trying requests always allowed, whatever the ratio.
    pub budget_min_concurrency: u32,
}

impl RetryConfig {
    fn check(self) -> Result<Settings, BuildError> {
        if self.attempts == 0 {
            return Err(BuildError::field(
                "attempts",
                "retry.attempts must be at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.budget.ratio) {
            return Err(BuildError::field(
                "budget.ratio",
                "retry.budget.ratio must be between 0 and 1",
            ));
        }
        let on = match self.on {
            None => vec![
                RetryOn::Connect,
                RetryOn::Timeout,
                RetryOn::RateLimited,
                RetryOn::ServerError,
            ],
            Some(list) => list
                .iter()
                .map(RetryOn::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| BuildError::field("on", e))?,
        };
        Ok(Settings {
            attempts: self.attempts,
            backoff: self.backoff,
            max_backoff: self.max_backoff.max(self.backoff),
            on,
            max_retry_after: self.max_retry_after,
            budget_ratio: self.budget.ratio,
            budget_min_concurrency: self.budget.min_concurrency,
        })
    }
}

/// The process-wide retry budget: requests in flight through a `retry` filter, and how many
/// of them are re-trying a target.
#[derive(Debug, Default)]
pub struct Budget {
    active: AtomicI64,
    retrying: AtomicI64,
}

impl Budget {
    /// Takes a re-try slot if the budget allows one now.
    pub fn try_acquire(&self, ratio: f64, min_concurrency: u32) -> bool {
        let active = self.active.load(Ordering::Relaxed).max(0) as f64;
        let cap = (ratio * active).floor().max(f64::from(min_concurrency)) as i64;
        self.retrying
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |r| {
                (r < cap).then_some(r + 1)
            })
            .is_ok()
    }
}

/// The `n`th backoff (from 1): `base × 2^(n-1)`, capped, with equal jitter — half fixed, half
/// `unit` (uniform in [0, 1)) — so clients that failed together don't retry together.
pub fn backoff(base: Duration, max: Duration, n: u32, unit: f64) -> Duration {
    let exp = base
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(max);
    exp / 2 + exp.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
}

/// Builds [`RetryFilter`]; owns the retry budget across reloads.
#[derive(Debug, Default)]
pub struct RetryFactory {
    budget: Arc<Budget>,
}

/// The skip reason logged and counted for a target cooling down after its `retry-after`.
pub const COOLDOWN_REASON: &str = "retry-after";
/// The longest cooldown a `retry-after` sets, whatever it says.
const MAX_COOLDOWN: Duration = Duration::from_secs(300);

/// Until when each deployment asked not to be called, in milliseconds since `origin`; one
/// atomic per model, so checking costs a load.
#[derive(Debug)]
struct Cooldowns {
    origin: Instant,
    until_ms: Vec<AtomicU64>,
}

impl Cooldowns {
    fn new(models: usize) -> Self {
        Self {
            origin: Instant::now(),
            until_ms: (0..models).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_millis() as u64
    }

    fn set(&self, model: usize, until: Instant) {
        if let Some(c) = self.until_ms.get(model) {
            c.fetch_max(self.ms(until), Ordering::Relaxed);
        }
    }

    /// How long `model` still cools down, if it does.
    fn remaining(&self, model: usize, now: Instant) -> Option<Duration> {
        let until = self.until_ms.get(model)?.load(Ordering::Relaxed);
        let now = self.ms(now);
        (until > now).then(|| Duration::from_millis(until - now))
    }

    fn cooling(&self, model: usize, now: Instant) -> bool {
        self.until_ms
            .get(model)
            .is_some_and(|c| c.load(Ordering::Relaxed) > self.ms(now))
    }
}

/// The built filter.
pub struct RetryFilter {
    settings: Settings,
    budget: Arc<Budget>,
    cooldowns: Cooldowns,
}

impl FilterFactory for RetryFactory {
    fn name(&self) -> &'static str {
        "retry"
    }

    fn check_settings(&self, settings: &serde_yaml::Value) -> Result<(), BuildError> {
        crate::settings::parse::<RetryConfig>(self.name(), settings)?.check()?;
        Ok(())
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        let settings = crate::settings::parse::<RetryConfig>(self.name(), settings)?.check()?;
        Ok(Arc::new(RetryFilter {
            settings,
            budget: self.budget.clone(),
            cooldowns: Cooldowns::new(env.config.models.len()),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["route"]
    }
}

/// A request's place in the budget: counted as in flight from `on_request`, and as re-trying
/// once it re-tries. Given back when the request's context is dropped, so a request that ends
/// any way at all (even cancelled mid-await) never leaks budget.
#[derive(Debug)]
struct Share {
    budget: Arc<Budget>,
    retrying: bool,
}

impl Share {
    fn join(budget: &Arc<Budget>) -> Self {
        budget.active.fetch_add(1, Ordering::Relaxed);
        Self {
            budget: budget.clone(),
            retrying: false,
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.budget.active.fetch_sub(1, Ordering::Relaxed);
        if self.retrying {
            self.budget.retrying.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Per-request state.
#[derive(Debug)]
struct Retrying {
    /// `retry-after` deadlines targets asked for (model index, not before).
    not_before: Vec<(usize, Instant)>,
    /// Re-tries of already tried targets so far (the backoff exponent).
    again: u32,
    share: Share,
}

impl Retrying {
    fn new(budget: &Arc<Budget>) -> Self {
        Self {
            not_before: Vec::new(),
            again: 0,
            share: Share::join(budget),
        }
    }
}

impl RetryFilter {
    /// The target to try again and how long to wait first, or why none.
    fn again(
        &self,
        plan: &[usize],
        state: &Retrying,
        now: Instant,
    ) -> Result<(usize, Duration), &'static str> {
        let wait = backoff(
            self.settings.backoff,
            self.settings.max_backoff,
            state.again + 1,
            fastrand::f64(),
        );
        let mut best: Option<(usize, Duration)> = None;
        for (i, &m) in plan.iter().enumerate() {
            if plan[..i].contains(&m) {
                continue;
            }
            let asked = state
                .not_before
                .iter()
                .filter(|(t, _)| *t == m)
                .map(|(_, at)| at.saturating_duration_since(now))
                .max()
                .unwrap_or_default();
            if asked > self.settings.max_retry_after {
                continue;
            }
            let ready = wait.max(asked);
            if best.is_none_or(|(_, w)| ready < w) {
                best = Some((m, ready));
            }
        }
        best.ok_or("every target asked to retry after longer than retry.max_retry_after")
    }
}

#[async_trait::async_trait]
impl Filter for RetryFilter {
    fn describe_target(&self, model: usize, out: &mut serde_json::Map<String, serde_json::Value>) {
        let left = self.cooldowns.remaining(model, Instant::now());
        out.insert(
            "cooldown_seconds".into(),
            left.map_or(serde_json::Value::Null, |d| d.as_secs_f64().into()),
        );
    }

    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, _req: &'a mut ChatRequest) -> Step<'a> {
        cx.slots.insert(Retrying::new(&self.budget));
        Step::Done(Ok(Flow::Continue))
    }

    /// Passes over a target still cooling down after its `retry-after`, unless no other target
    /// of the plan is left to try.
    fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        _req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        let now = Instant::now();
        if !self.cooldowns.cooling(up.model, now) {
            return Ok(AttemptFlow::Send);
        }
        let Some(plan) = cx.route.as_ref() else {
            return Ok(AttemptFlow::Send);
        };
        let rest = plan.targets.get(plan.tried..).unwrap_or_default();
        let another = rest
            .iter()
            .any(|&m| m != up.model && !self.cooldowns.cooling(m, now));
        Ok(if another {
            AttemptFlow::Skip(COOLDOWN_REASON)
        } else {
            AttemptFlow::Send
        })
    }

    fn on_attempt_failed(
        &self,
        cx: &mut RequestCtx,
        up: &UpstreamRequest,
        failed: &FailedAttempt,
    ) -> RetryDecision {
        let now = Instant::now();
        let class = RetryOn::of(&failed.result);
        let attempts = cx.answer.attempts;
        let Some(state) = cx.slots.get_mut::<Retrying>() else {
            return RetryDecision::Next;
        };
        if let Some(after) = failed.retry_after {
            state.not_before.push((up.model, now + after));
            if matches!(failed.result, AttemptResult::Status(429 | 503)) {
                self.cooldowns.set(up.model, now + after.min(MAX_COOLDOWN));
            }
        }
        if !self.settings.on.contains(&class) {
            return RetryDecision::Stop(class.stop_reason());
        }
        if attempts >= self.settings.attempts {
            return RetryDecision::Stop("retry.attempts reached");
        }
        let Some(plan) = cx.route.as_ref() else {
            return RetryDecision::Next;
        };
        if plan.tried < plan.targets.len() {
            return RetryDecision::Next;
        }
        let (target, wait) = match self.again(&plan.targets, state, now) {
            Ok(x) => x,
            Err(why) => return RetryDecision::Stop(why),
        };
        if !state.share.retrying {
            if !self.budget.try_acquire(
                self.settings.budget_ratio,
                self.settings.budget_min_concurrency,
            ) {
                return RetryDecision::Stop("retry budget exhausted");
            }
            state.share.retrying = true;
        }
        state.again += 1;
        if let Some(plan) = cx.route.as_mut() {
            plan.targets.push(target);
        }
        RetryDecision::Backoff(wait)
    }
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
