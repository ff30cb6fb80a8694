//! `rate_limit`: per-key `rpm`, `tpm` and `budget`, checked when a request starts and
//! corrected when it ends. Tokens are charged up front (prompt estimate + requested output)
//! and corrected with the real usage; a budget reserves the request's maximum possible cost
//! and settles to the real cost (a failure releases it), so concurrent requests can overspend
//! a nearly exhausted budget by at most one reservation. The windows and spend live in the
//! state backend (`state.backend: memory | redis`), which outlives config reloads.

mod cost;
mod fallback;
mod shared;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use prometheus::Registry;
use switchyard_config::{Budget, Config, StateConfig};
use switchyard_filter::{
    BuildEnv, BuildError, ErrorKind, Filter, FilterFactory, Flow, GatewayError, Outcome,
    RequestCtx, Step,
};
use switchyard_wire::ChatRequest;

pub use cost::{estimate_prompt_tokens, max_cost_usd, max_output, FALLBACK_MAX_OUTPUT};
pub use shared::{BudgetStatus, LimitsHandle};

use crate::metrics::cost_usd;
use crate::state::{
    gcra, period, to_nanos, Admission, BudgetAsk, Hold, Limit, Settlement, StateBackend,
    TokenCharge, Verdict,
};
use shared::{now_us, Shared};

/// `retry-after` for a `total` budget, which never resets by itself.
const TOTAL_BUDGET_RETRY: Duration = Duration::from_secs(86_400);

/// Builds [`RateLimitFilter`]; owns the state backends and metrics across reloads.
pub struct RateLimitFactory {
    shared: Arc<Shared>,
}

impl RateLimitFactory {
    /// Registers the limit and budget metrics in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            shared: Arc::new(Shared::new(registry)?),
        })
    }

    /// A handle for reading budgets (admin `GET /budgets`, `/v1/models`).
    pub fn handle(&self) -> LimitsHandle {
        LimitsHandle(self.shared.clone())
    }
}

/// One key's limits.
struct KeyLimits {
    id: Arc<str>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    budget: Option<Budget>,
}

/// The built filter: the limited keys of one config and the backend they live in.
pub struct RateLimitFilter {
    keys: HashMap<String, KeyLimits>,
    backend: Arc<StateBackend>,
    fail_open: bool,
    shared: Arc<Shared>,
    /// How long a reservation may stay unsettled: the longest request deadline, plus margin.
    hold: Duration,
    /// Where `backend` lives, to put it into service.
    state: StateConfig,
}

impl FilterFactory for RateLimitFactory {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        let config = env.config;
        let backend = self.shared.backend_for(&config.state)?;
        let fail_open = match &config.state {
            StateConfig::Memory => true,
            StateConfig::Redis { fail_open, .. } => *fail_open,
        };
        let mut keys = HashMap::new();
        for k in config.auth.iter().flat_map(|a| a.keys.iter()) {
            if k.rpm.is_none() && k.tpm.is_none() && k.budget.is_none() {
                continue;
            }
            keys.insert(
                k.id.clone(),
                KeyLimits {
                    id: Arc::from(k.id.as_str()),
                    rpm: k.rpm,
                    tpm: k.tpm,
                    budget: k.budget.clone(),
                },
            );
        }
        let longest = config
            .providers
            .iter()
            .map(|p| p.timeouts.total)
            .max()
            .unwrap_or_default();
        Ok(Arc::new(RateLimitFilter {
            keys,
            backend,
            fail_open,
            shared: self.shared.clone(),
            hold: longest + Duration::from_secs(60),
            state: config.state.clone(),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["auth"]
    }
}

/// What an admitted request holds until it completes.
struct Held {
    key: Arc<str>,
    /// `tpm` limit and the tokens charged up front.
    tpm: Option<(u64, u64)>,
    hold: Option<Hold>,
    budget: Option<Budget>,
    backend: Arc<StateBackend>,
    /// Admitted by the local fallback while Redis was unreachable: the budget period's tag
    /// and Redis key ttl its spend is written back under.
    carried: Option<(String, u64)>,
}

fn limited(message: String, retry_after: Duration, code: ErrorKind) -> GatewayError {
    GatewayError::RateLimited {
        message,
        code,
        retry_after,
    }
}

impl RateLimitFilter {
    /// The 429 for a refusal.
    fn refusal(&self, key: &KeyLimits, limit: Limit, now_s: u64) -> GatewayError {
        let (label, err) = match limit {
            Limit::Rpm { wait_us } => (
                "rpm",
                limited(
                    format!(
                        "rate limit reached for key `{}`: {} requests per minute",
                        key.id,
                        key.rpm.unwrap_or(0)
                    ),
                    Duration::from_secs(gcra::retry_after_secs(wait_us)),
                    ErrorKind::RateLimitExceeded,
                ),
            ),
            Limit::Tpm { wait_us } => (
                "tpm",
                limited(
                    format!(
                        "rate limit reached for key `{}`: {} tokens per minute",
                        key.id,
                        key.tpm.unwrap_or(0)
                    ),
                    Duration::from_secs(gcra::retry_after_secs(wait_us)),
                    ErrorKind::RateLimitExceeded,
                ),
            ),
            Limit::Budget(usage) => {
                let b = key.budget.as_ref();
                let cap = b.map_or(0.0, |b| b.usd);
                let spent = usage.spent as f64 / 1e9;
                let w = b.map(|b| period::window(b.period, now_s));
                // Spent for good: wait for the period to end. Only held by requests in flight:
                // their settlement frees it soon.
                let retry = if spent >= cap {
                    match w.as_ref().and_then(|w| w.resets_at) {
                        Some(at) => Duration::from_secs(at.saturating_sub(now_s).max(1)),
                        None => TOTAL_BUDGET_RETRY,
                    }
                } else {
                    Duration::from_secs(1)
                };
                let when = match w.as_ref().and_then(|w| w.resets_at) {
                    Some(at) => format!(
                        "; it resets at {}",
                        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at))
                    ),
                    None => String::new(),
                };
                (
                    "budget",
                    limited(
                        format!(
                            "budget exhausted for key `{}`: ${spent:.4} of ${cap} {} budget spent or reserved by requests in flight{when}",
                            key.id,
                            b.map_or("", |b| period::name(b.period)),
                        ),
                        retry,
                        ErrorKind::BudgetExceeded,
                    ),
                )
            }
        };
        self.shared
            .metrics
            .limited
            .with_label_values(&[&key.id, label])
            .inc();
        err
    }
}

#[async_trait::async_trait]
impl Filter for RateLimitFilter {
    /// Waits for the budget settlements still on their way to Redis.
    async fn on_shutdown(&self) {
        self.shared.all_settled().await;
    }

    /// Takes over the backend and the budget gauges: only this config's keys are shown.
    fn activate(&self) {
        self.shared.adopt(&self.state, &self.backend);
        // Zero series up front, so alerts on their rate see them before the first failure.
        if let StateBackend::Redis(_) = self.backend.as_ref() {
            for op in ["admit", "settle", "read"] {
                self.shared
                    .metrics
                    .state_errors
                    .with_label_values(&["redis", op]);
            }
        }
        self.shared.metrics.budget_usd.reset();
        self.shared.metrics.budget_remaining.reset();
        if let StateBackend::Memory(m) = self.backend.as_ref() {
            for key in self.keys.values() {
                if let Some(b) = &key.budget {
                    let w = period::window(b.period, now_us() / 1_000_000);
                    self.shared
                        .metrics
                        .set_budget(&key.id, b, m.budget_usage(&key.id, &w.tag));
                }
            }
        }
    }

    /// A key with limits waits for the state backend's verdict; any other request goes on.
    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, req: &'a mut ChatRequest) -> Step<'a> {
        match cx.key_id.as_deref().and_then(|id| self.keys.get(id)) {
            Some(key) => Step::Wait(Box::pin(self.admit(cx, req, key))),
            None => Step::Done(Ok(Flow::Continue)),
        }
    }

    fn on_complete(&self, cx: &RequestCtx, _outcome: &Outcome) {
        self.settle(cx);
    }
}

impl RateLimitFilter {
    /// Asks the state backend to admit a request of `key`'s (rpm, tpm, budget).
    async fn admit(
        &self,
        cx: &mut RequestCtx,
        req: &mut ChatRequest,
        key: &KeyLimits,
    ) -> Result<Flow, GatewayError> {
        let now = now_us();
        let prompt = estimate_prompt_tokens(req);
        let tpm = key.tpm.map(|limit| TokenCharge {
            limit,
            cost: (prompt + req.max_output_tokens.unwrap_or(0)).min(limit),
        });
        let window = key
            .budget
            .as_ref()
            .map(|b| period::window(b.period, now / 1_000_000));
        let budget = match (&key.budget, &window) {
            (Some(b), Some(w)) => Some(BudgetAsk {
                cap: to_nanos(b.usd),
                reserve: to_nanos(max_cost_usd(&cx.config, cx, req, prompt)),
                window: w,
                hold: self.hold,
            }),
            _ => None,
        };
        let admission = Admission {
            key_id: &key.id,
            now_us: now,
            rpm: key.rpm,
            tpm,
            budget,
        };
        let verdict = self.backend.admit(&admission).await;
        if let (Ok(v), StateBackend::Redis(_)) = (&verdict, self.backend.as_ref()) {
            let usage = match v {
                Verdict::Admitted(t) => t.usage,
                Verdict::Limited(Limit::Budget(u)) => Some(*u),
                Verdict::Limited(_) => None,
            };
            if let (Some(w), Some(u)) = (&window, usage) {
                self.shared.fallback.saw(&key.id, &w.tag, u);
            }
            self.shared.fallback.recovered(&self.backend);
        }
        match verdict {
            Ok(Verdict::Admitted(ticket)) => {
                if let (Some(b), Some(u)) = (&key.budget, ticket.usage) {
                    self.shared.metrics.set_budget(&key.id, b, u);
                }
                cx.slots.insert(Held {
                    key: key.id.clone(),
                    tpm: tpm.map(|t| (t.limit, t.cost)),
                    hold: ticket.hold,
                    budget: key.budget.clone(),
                    backend: self.backend.clone(),
                    carried: None,
                });
                Ok(Flow::Continue)
            }
            Ok(Verdict::Limited(limit)) => Err(self.refusal(key, limit, now / 1_000_000)),
            Err(e) => {
                self.shared.state_error(self.backend.kind(), "admit", &e);
                if self.fail_open {
                    return self.admit_locally(cx, key, &admission, window.as_ref());
                }
                self.shared
                    .metrics
                    .limited
                    .with_label_values(&[&key.id, "unavailable"])
                    .inc();
                Err(limited(
                    "rate limits and budgets cannot be checked right now (state backend unavailable); retry shortly".into(),
                    Duration::from_secs(1),
                    ErrorKind::RateLimitExceeded,
                ))
            }
        }
    }

    /// Admits with this process's own limits while the shared backend is unreachable
    /// (`fail_open`); a memory backend never gets here.
    fn admit_locally(
        &self,
        cx: &mut RequestCtx,
        key: &KeyLimits,
        admission: &Admission<'_>,
        window: Option<&period::Window>,
    ) -> Result<Flow, GatewayError> {
        if let StateBackend::Memory(_) = self.backend.as_ref() {
            return Ok(Flow::Continue);
        }
        let local = self
            .shared
            .fallback
            .backend(&key.id, window.map(|w| w.tag.as_str()));
        let StateBackend::Memory(m) = local.as_ref() else {
            return Ok(Flow::Continue);
        };
        match m.admit(admission) {
            Verdict::Admitted(ticket) => {
                if let (Some(b), Some(u)) = (&key.budget, ticket.usage) {
                    self.shared.metrics.set_budget(&key.id, b, u);
                }
                cx.slots.insert(Held {
                    key: key.id.clone(),
                    tpm: admission.tpm.map(|t| (t.limit, t.cost)),
                    hold: ticket.hold,
                    budget: key.budget.clone(),
                    backend: local.clone(),
                    carried: window.map(|w| {
                        (
                            w.tag.clone(),
                            crate::state::key_ttl(w.resets_at, admission.now_us),
                        )
                    }),
                });
                Ok(Flow::Continue)
            }
            Verdict::Limited(limit) => Err(self.refusal(key, limit, admission.now_us / 1_000_000)),
        }
    }

    /// Corrects the admission with what the request used.
    fn settle(&self, cx: &RequestCtx) {
        let Some(held) = cx.slots.get::<Held>() else {
            return;
        };
        let usage = cx.usage;
        let tpm = held.tpm.map(|(limit, charged)| {
            let real = usage.map_or(0, |u| u.prompt_tokens + u.completion_tokens);
            (limit, real as i64 - charged as i64)
        });
        let pricing = cx
            .answer
            .model
            .and_then(|m| cx.config.models.get(m))
            .and_then(|m| m.pricing.as_ref());
        let actual = match (usage.as_ref(), pricing) {
            (Some(u), Some(p)) => to_nanos(cost_usd(u, p)),
            _ => 0,
        };
        let settlement = Settlement {
            key_id: held.key.clone(),
            now_us: now_us(),
            tpm,
            budget: held.hold.clone().map(|h| (h, actual)),
        };
        let backend = held.backend.clone();
        let shared = self.shared.clone();
        let budget = held.budget.clone();
        if let StateBackend::Memory(m) = backend.as_ref() {
            if let (Some(u), Some(b)) = (m.settle(&settlement), &budget) {
                shared.metrics.set_budget(&settlement.key_id, b, u);
            }
            if let (Some((tag, ttl)), Some((_, actual))) = (&held.carried, &settlement.budget) {
                shared.fallback.owe(&settlement.key_id, tag, *ttl, *actual);
            }
            return;
        }
        // A remote settlement must not hold up the end of the request.
        let settling = self.shared.settling();
        let task = async move {
            let _settling = settling;
            match backend.settle(&settlement).await {
                Ok(Some(u)) => {
                    if let Some((Hold::Redis { tag, .. }, _)) = &settlement.budget {
                        shared.fallback.saw(&settlement.key_id, tag, u);
                    }
                    if let Some(b) = &budget {
                        shared.metrics.set_budget(&settlement.key_id, b, u);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    shared.state_error(backend.kind(), "settle", &e);
                    // The reservation lapses in Redis by itself; the spend must not.
                    if let Some((Hold::Redis { tag, ttl_s, .. }, actual)) = &settlement.budget {
                        shared
                            .fallback
                            .owe(&settlement.key_id, tag, *ttl_s, *actual);
                    }
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(task);
            }
            Err(e) => self.shared.state_error(self.backend.kind(), "settle", &e),
        }
    }
}

/// The config's keys that have limits, for checks outside this filter.
pub fn has_limits(config: &Config) -> bool {
    config
        .auth
        .iter()
        .flat_map(|a| a.keys.iter())
        .any(|k| k.rpm.is_some() || k.tpm.is_some() || k.budget.is_some())
}

#[cfg(test)]
mod tests;
