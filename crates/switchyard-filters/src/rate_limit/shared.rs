//! What outlives a config reload: the state backends (so windows and spend survive), the
//! metric families, and the handle the admin listener (`GET /budgets`) and `/v1/models` read
//! remaining budgets through.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::{GaugeVec, IntCounterVec, Opts, Registry};
use serde::Serialize;
use switchyard_config::{Budget, Config, StateConfig};

use crate::state::{period, to_usd, BudgetUsage, MemoryState, RedisState, StateBackend};

/// Backend errors are logged at most this often (they are counted every time).
const ERROR_LOG_EVERY_US: u64 = 10_000_000;

/// Wall clock in Unix microseconds.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The metric families of limits and budgets.
pub struct LimitMetrics {
    pub(crate) limited: IntCounterVec,
    pub(crate) state_errors: IntCounterVec,
    pub(crate) budget_usd: GaugeVec,
    pub(crate) budget_remaining: GaugeVec,
}

impl LimitMetrics {
    fn register(r: &Registry) -> prometheus::Result<Self> {
        let limited = IntCounterVec::new(
            Opts::new(
                "switchyard_rate_limited_total",
                "Requests refused by a key's limit (rpm, tpm, budget, unavailable).",
            ),
            &["key_id", "limit"],
        )?;
        let state_errors = IntCounterVec::new(
            Opts::new(
                "switchyard_state_errors_total",
                "State backend calls that failed or timed out, by backend and operation.",
            ),
            &["backend", "op"],
        )?;
        let budget_usd = GaugeVec::new(
            Opts::new("switchyard_budget_usd", "A key's budget cap in US dollars."),
            &["key_id"],
        )?;
        let budget_remaining = GaugeVec::new(
            Opts::new(
                "switchyard_budget_remaining_usd",
                "Budget left in the current period: cap minus spend minus in-flight reservations.",
            ),
            &["key_id"],
        )?;
        r.register(Box::new(limited.clone()))?;
        r.register(Box::new(state_errors.clone()))?;
        r.register(Box::new(budget_usd.clone()))?;
        r.register(Box::new(budget_remaining.clone()))?;
        Ok(Self {
            limited,
            state_errors,
            budget_usd,
            budget_remaining,
        })
    }

    /// Sets a key's budget gauges from its usage.
    pub fn set_budget(&self, key_id: &str, budget: &Budget, usage: BudgetUsage) {
        self.budget_usd.with_label_values(&[key_id]).set(budget.usd);
        self.budget_remaining
            .with_label_values(&[key_id])
            .set(remaining(budget.usd, usage));
    }
}

fn remaining(cap: f64, u: BudgetUsage) -> f64 {
    (cap - to_usd(u.spent) - to_usd(u.reserved)).max(0.0)
}

/// Process-wide state of the `rate_limit` filter.
pub struct Shared {
    memory: Arc<StateBackend>,
    redis: Mutex<Option<(String, Duration, Arc<StateBackend>)>>,
    pub(crate) metrics: LimitMetrics,
    /// Limits and spend while Redis is unreachable.
    pub(crate) fallback: Arc<super::fallback::Fallback>,
    last_error_log: AtomicU64,
    /// Remote settlements started and not finished, so an exiting process can wait for them.
    settling: AtomicUsize,
    settled: tokio::sync::Notify,
    /// Someone waits on `settled` (so the request path only touches it at exit).
    closing: AtomicBool,
}

/// One remote settlement under way ([`Shared::settling`]).
pub(crate) struct Settling(Arc<Shared>);

impl Drop for Settling {
    fn drop(&mut self) {
        if self.0.settling.fetch_sub(1, Ordering::AcqRel) == 1
            && self.0.closing.load(Ordering::Acquire)
        {
            self.0.settled.notify_waiters();
        }
    }
}

impl Shared {
    pub(crate) fn new(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            memory: Arc::new(StateBackend::Memory(MemoryState::new())),
            redis: Mutex::new(None),
            metrics: LimitMetrics::register(r)?,
            fallback: Arc::new(super::fallback::Fallback::new()),
            last_error_log: AtomicU64::new(0),
            settling: AtomicUsize::new(0),
            settled: tokio::sync::Notify::new(),
            closing: AtomicBool::new(false),
        })
    }

    /// Counts a remote settlement under way until the guard drops.
    pub(crate) fn settling(self: &Arc<Self>) -> Settling {
        self.settling.fetch_add(1, Ordering::AcqRel);
        Settling(self.clone())
    }

    /// Resolves once no remote settlement is under way.
    pub(crate) async fn all_settled(&self) {
        self.closing.store(true, Ordering::Release);
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.settling.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// The backend for `state`: the one memory backend, the Redis backend in force when the
    /// URL is the same (so reloads reuse its connection), or else a new, unconnected one that
    /// nothing uses until [`Shared::adopt`] puts it into service.
    pub(crate) fn backend_for(&self, state: &StateConfig) -> Result<Arc<StateBackend>, String> {
        match state {
            StateConfig::Memory => Ok(self.memory.clone()),
            StateConfig::Redis { url, timeout, .. } => {
                let cur = self.redis.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((u, t, b)) = cur.as_ref() {
                    if u == url.expose() && t == timeout {
                        return Ok(b.clone());
                    }
                }
                let redis = RedisState::new(url.expose(), *timeout)?;
                Ok(Arc::new(StateBackend::Redis(Box::new(redis))))
            }
        }
    }

    /// Puts `backend` (from [`Shared::backend_for`]) into service for `state`: a Redis
    /// backend becomes the one later configs with the same URL and timeout reuse, and starts
    /// connecting.
    pub(crate) fn adopt(&self, state: &StateConfig, backend: &Arc<StateBackend>) {
        let (StateConfig::Redis { url, timeout, .. }, StateBackend::Redis(r)) =
            (state, backend.as_ref())
        else {
            return;
        };
        let mut cur = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        if cur
            .as_ref()
            .is_some_and(|(_, _, b)| Arc::ptr_eq(b, backend))
        {
            return;
        }
        r.warm_up();
        *cur = Some((url.expose().to_string(), *timeout, backend.clone()));
    }

    /// Counts a backend failure and logs it, at most once per 10 s.
    pub(crate) fn state_error(&self, backend: &str, op: &str, error: &dyn std::fmt::Display) {
        self.metrics
            .state_errors
            .with_label_values(&[backend, op])
            .inc();
        let now = now_us();
        let last = self.last_error_log.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= ERROR_LOG_EVERY_US
            && self
                .last_error_log
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(backend, op, error = %error, "state backend unavailable (logged at most every 10 s; see switchyard_state_errors_total)");
        }
    }
}

/// One key's budget as `GET /budgets` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetStatus {
    /// The gateway key's id.
    pub key_id: String,
    /// Cap in US dollars.
    pub usd: f64,
    /// Settled spend this period.
    pub spent: f64,
    /// Held by requests in flight.
    pub reserved: f64,
    /// `usd - spent - reserved`, at least 0.
    pub remaining: f64,
    /// `daily`, `weekly`, `monthly` or `total`.
    pub period: &'static str,
    /// RFC 3339 time the period ends; absent for `total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<String>,
    /// Set when the state backend could not be read (the amounts are then 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads budgets for the admin listener and `/v1/models`. Cheap to clone.
#[derive(Clone)]
pub struct LimitsHandle(pub(crate) Arc<Shared>);

impl LimitsHandle {
    /// Reads the persistence settings of the Redis server in force, if any, and warns when a
    /// restart would reset budgets (see [`RedisState::check_persistence`]).
    pub async fn check_persistence(&self) {
        let backend = {
            let cur = self.0.redis.lock().unwrap_or_else(|p| p.into_inner());
            cur.as_ref().map(|(_, _, b)| b.clone())
        };
        if let Some(StateBackend::Redis(r)) = backend.as_deref() {
            r.check_persistence().await;
        }
    }

    /// Every key of `config` that has a budget, with its spend in the current period.
    pub async fn budgets(&self, config: &Config) -> Vec<BudgetStatus> {
        let mut out = Vec::new();
        for key in config.auth.iter().flat_map(|a| a.keys.iter()) {
            if let Some(b) = &key.budget {
                out.push(self.status(config, &key.id, b).await);
            }
        }
        out
    }

    /// The budget of one key, if it has one.
    pub async fn budget(&self, config: &Config, key_id: &str) -> Option<BudgetStatus> {
        let key = config.auth.as_ref()?.keys.iter().find(|k| k.id == key_id)?;
        let b = key.budget.as_ref()?;
        Some(self.status(config, key_id, b).await)
    }

    async fn status(&self, config: &Config, key_id: &str, b: &Budget) -> BudgetStatus {
        let w = period::window(b.period, now_us() / 1_000_000);
        let read = match self.0.backend_for(&config.state) {
            Ok(backend) => match backend.budget_usage(key_id, &w.tag).await {
                Ok(u) => Ok(u),
                Err(e) => {
                    self.0.state_error(backend.kind(), "read", &e);
                    Err(e.to_string())
                }
            },
            Err(e) => Err(e),
        };
        let (usage, error) = match read {
            Ok(u) => (u, None),
            Err(e) => (BudgetUsage::default(), Some(e)),
        };
        if error.is_none() {
            self.0.metrics.set_budget(key_id, b, usage);
        }
        BudgetStatus {
            key_id: key_id.to_string(),
            usd: b.usd,
            spent: to_usd(usage.spent),
            reserved: to_usd(usage.reserved),
            remaining: remaining(b.usd, usage),
            period: period::name(b.period),
            resets_at: w.resets_at.map(|s| {
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(s)).to_string()
            }),
            error,
        }
    }
}
