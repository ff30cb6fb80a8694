//! `circuit_breaker`: stops sending to a deployment that keeps failing. An open deployment is
//! skipped without a request (`circuit open`), so the route's next target answers at once;
//! after `open_for`, probes find out whether it recovered. One breaker per deployment (model
//! id, provider and upstream model), kept by the factory across reloads; its state is the
//! gauge `switchyard_circuit_breaker_state{model,provider}` (0 closed, 1 half-open, 2 open).

mod machine;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGaugeVec, Opts, Registry};
use serde::Deserialize;
use switchyard_filter::{
    AttemptFlow, AttemptResult, BuildEnv, BuildError, Filter, FilterFactory, GatewayError,
    RequestCtx, UpstreamRequest,
};
use switchyard_wire::ChatRequest;

pub use machine::{Admit, Breaker, Observation, Settings, State};

/// The skip reason logged and counted for an open breaker.
pub const SKIP_REASON: &str = "circuit open";

/// `circuit_breaker:` settings as written in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CircuitBreakerConfig {
    failure_threshold: u32,
    #[serde(deserialize_with = "crate::settings::duration")]
    open_for: Duration,
    half_open_requests: u32,
    failure_rate: Option<f64>,
    #[serde(deserialize_with = "crate::settings::duration")]
    window: Duration,
    min_requests: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        let s = Settings::default();
        Self {
            failure_threshold: s.failure_threshold,
            open_for: s.open_for,
            half_open_requests: s.half_open_requests,
            failure_rate: s.failure_rate,
            window: s.window,
            min_requests: s.min_requests,
        }
    }
}

impl CircuitBreakerConfig {
    fn check(self) -> Result<Settings, BuildError> {
        if let Some(r) = self.failure_rate {
            if !(r > 0.0 && r <= 1.0) {
                return Err(BuildError::field(
                    "failure_rate",
                    "circuit_breaker.failure_rate must be in (0, 1]",
                ));
            }
        }
        if self.failure_threshold == 0 && self.failure_rate.is_none() {
            return Err(BuildError::field(
                "failure_threshold",
                "circuit_breaker: failure_threshold 0 needs failure_rate, or the breaker never opens",
            ));
        }
        if self.open_for.is_zero() || self.window.is_zero() {
            let field = if self.open_for.is_zero() {
                "open_for"
            } else {
                "window"
            };
            return Err(BuildError::field(
                field,
                "circuit_breaker: open_for and window must be more than 0",
            ));
        }
        if self.half_open_requests == 0 {
            return Err(BuildError::field(
                "half_open_requests",
                "circuit_breaker.half_open_requests must be at least 1",
            ));
        }
        Ok(Settings {
            failure_threshold: self.failure_threshold,
            open_for: self.open_for,
            half_open_requests: self.half_open_requests,
            failure_rate: self.failure_rate,
            window: self.window,
            min_requests: self.min_requests,
        })
    }
}

/// One deployment's breaker. The lock is held only inside `admit`/`record` and a scrape.
struct Cell {
    key: String,
    model: String,
    provider: String,
    breaker: Mutex<Breaker>,
}

impl Cell {
    fn with<T>(&self, f: impl FnOnce(&mut Breaker) -> T) -> Option<T> {
        let mut b = self.breaker.lock().ok()?;
        Some(f(&mut b))
    }
}

/// What the factory keeps across reloads: every deployment's breaker in the config in force.
#[derive(Default)]
struct Cells {
    /// By deployment key; only the config in force's deployments.
    by_key: HashMap<String, Arc<Cell>>,
    /// The same cells in config order, as the gauge lists them.
    active: Vec<Arc<Cell>>,
}

/// `switchyard_circuit_breaker_state`, computed at scrape time from the breakers in force: an
/// idle deployment whose `open_for` has passed shows half-open, not open forever, and a
/// deployment a reload removed disappears.
struct StateGauge {
    vec: IntGaugeVec,
    cells: Arc<Mutex<Cells>>,
}

impl Collector for StateGauge {
    fn desc(&self) -> Vec<&Desc> {
        self.vec.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Ok(cells) = self.cells.lock() else {
            return Vec::new();
        };
        let now = Instant::now();
        self.vec.reset();
        for c in &cells.active {
            if let Some(state) = c.with(|b| b.state_at(now)) {
                self.vec
                    .with_label_values(&[c.model.as_str(), c.provider.as_str()])
                    .set(state.gauge());
            }
        }
        self.vec.collect()
    }
}

/// Builds [`CircuitBreakerFilter`]; owns every deployment's breaker across reloads.
pub struct CircuitBreakerFactory {
    cells: Arc<Mutex<Cells>>,
}

impl CircuitBreakerFactory {
    /// Registers the state gauge in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let vec = IntGaugeVec::new(
            Opts::new(
                "switchyard_circuit_breaker_state",
                "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.",
            ),
            &["model", "provider"],
        )?;
        let cells = Arc::new(Mutex::new(Cells::default()));
        registry.register(Box::new(StateGauge {
            vec,
            cells: cells.clone(),
        }))?;
        Ok(Self { cells })
    }
}

/// The built filter: one breaker per model of the config, indexed like `config.models`.
pub struct CircuitBreakerFilter {
    cells: Vec<Arc<Cell>>,
    settings: Settings,
    factory: Arc<Mutex<Cells>>,
}

impl FilterFactory for CircuitBreakerFactory {
    fn name(&self) -> &'static str {
        "circuit_breaker"
    }

    /// Reuses the breakers of deployments in force (a reload keeps their state) and makes new
    /// ones for new deployments, changing neither: settings and the gauge's list change only
    /// when the config goes into service ([`Filter::activate`]).
    fn check_settings(&self, settings: &serde_yaml::Value) -> Result<(), BuildError> {
        crate::settings::parse::<CircuitBreakerConfig>(self.name(), settings)?.check()?;
        Ok(())
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        let settings =
            crate::settings::parse::<CircuitBreakerConfig>(self.name(), settings)?.check()?;
        let map = self
            .cells
            .lock()
            .map_err(|_| "circuit breaker state is poisoned".to_string())?;
        let now = Instant::now();
        let cfg = env.config;
        let mut cells: Vec<Arc<Cell>> = Vec::with_capacity(cfg.models.len());
        for m in &cfg.models {
            let provider = &cfg.providers[m.provider].id;
            let key = format!("{}\u{0}{provider}\u{0}{}", m.id, m.upstream_model);
            let existing = map
                .by_key
                .get(&key)
                .or_else(|| cells.iter().find(|c| c.key == key))
                .cloned();
            cells.push(existing.unwrap_or_else(|| {
                Arc::new(Cell {
                    key,
                    model: m.id.clone(),
                    provider: provider.clone(),
                    breaker: Mutex::new(Breaker::new(settings, now)),
                })
            }));
        }
        Ok(Arc::new(CircuitBreakerFilter {
            cells,
            settings,
            factory: self.cells.clone(),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["route"]
    }
}

/// That this request's current attempt was admitted by the breaker of `model` (read by the
/// `tracing` filter for the attempt's breaker state).
pub struct Ticket {
    /// Index into `Config::models`.
    pub model: usize,
    /// Admitted half-open, as a probe.
    pub probe: bool,
}

fn observe(cx: &RequestCtx, res: &AttemptResult) -> Observation {
    match res {
        AttemptResult::Status(429) => Observation::Neutral,
        AttemptResult::Status(s) if *s >= 500 => Observation::Failure,
        AttemptResult::Status(_) if cx.stream_error.is_some() => Observation::Failure,
        AttemptResult::Status(_) => Observation::Success,
        AttemptResult::ConnectError | AttemptResult::Timeout | AttemptResult::Malformed => {
            Observation::Failure
        }
    }
}

#[async_trait::async_trait]
impl Filter for CircuitBreakerFilter {
    fn describe_target(&self, model: usize, out: &mut serde_json::Map<String, serde_json::Value>) {
        let state = self
            .cells
            .get(model)
            .and_then(|c| c.breaker.lock().ok().map(|b| b.state()));
        if let Some(state) = state {
            let name = match state {
                machine::State::Closed => "closed",
                machine::State::HalfOpen => "half_open",
                machine::State::Open => "open",
            };
            out.insert("breaker".into(), name.into());
        }
    }

    fn activate(&self) {
        for c in &self.cells {
            c.with(|b| b.set_settings(self.settings));
        }
        if let Ok(mut f) = self.factory.lock() {
            f.by_key = self
                .cells
                .iter()
                .map(|c| (c.key.clone(), c.clone()))
                .collect();
            f.active = self.cells.clone();
        }
    }

    fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        _req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        let Some(cell) = self.cells.get(up.model) else {
            return Ok(AttemptFlow::Send);
        };
        match cell.with(|b| b.admit(Instant::now())) {
            Some(Admit::No) => Ok(AttemptFlow::Skip(SKIP_REASON)),
            admit => {
                cx.slots.insert(Ticket {
                    model: up.model,
                    probe: admit == Some(Admit::Probe),
                });
                Ok(AttemptFlow::Send)
            }
        }
    }

    fn on_attempt_end(&self, cx: &mut RequestCtx, up: &UpstreamRequest, res: &AttemptResult) {
        if cx.slots.get::<Ticket>().map(|t| t.model) != Some(up.model) {
            return;
        }
        let obs = observe(cx, res);
        if let Some(cell) = self.cells.get(up.model) {
            cell.with(|b| b.record(Instant::now(), obs));
        }
    }
}

#[cfg(test)]
mod tests {
    use switchyard_config::{Config, MapEnv};
    use switchyard_filter::Endpoint;
    use switchyard_wire::Dialect;

    use super::*;

    fn config(model_id: &str) -> Arc<Config> {
        let yaml = format!(
            "version: 1\nauth: {{ disabled: true }}\nproviders:\n  - {{ id: p, type: openai, base_url: \"http://127.0.0.1:1/v1\", api_key_env: K }}\nmodels:\n  - {{ id: {model_id}, provider: p }}\n"
        );
        Arc::new(Config::from_yaml_str(&yaml, &MapEnv::new().with_var("K", "k")).unwrap())
    }

    fn build(f: &CircuitBreakerFactory, config: &Arc<Config>) -> Arc<dyn Filter> {
        let settings: serde_yaml::Value =
            serde_yaml::from_str("{failure_threshold: 2, open_for: 1h}").unwrap();
        let env = BuildEnv {
            config,
            path: "filters[0]",
        };
        let filter = f.build(&settings, &env).unwrap();
        filter.activate();
        filter
    }

    fn attempt(filter: &Arc<dyn Filter>, config: &Arc<Config>, fail: bool) -> AttemptFlow {
        let mut cx = RequestCtx::new(
            "t".into(),
            config.clone(),
            Endpoint::ChatCompletions,
            Default::default(),
        );
        let req = ChatRequest::parse(Dialect::OpenAi, br#"{"model":"m","messages":[]}"#).unwrap();
        let mut up = UpstreamRequest::new(0);
        let flow = filter.on_upstream_request(&mut cx, &req, &mut up).unwrap();
        if flow == AttemptFlow::Send {
            let res = if fail {
                AttemptResult::Timeout
            } else {
                AttemptResult::Status(200)
            };
            filter.on_attempt_end(&mut cx, &up, &res);
        }
        flow
    }

    fn gauge(r: &Registry, model: &str) -> Option<f64> {
        r.gather()
            .iter()
            .find(|f| f.name() == "switchyard_circuit_breaker_state")?
            .get_metric()
            .iter()
            .find(|m| m.get_label().iter().any(|l| l.value() == model))
            .map(|m| m.get_gauge().get_value())
    }

    #[test]
    fn opens_skips_and_keeps_its_state_across_a_rebuild_of_the_same_deployment() {
        let registry = Registry::new();
        let f = CircuitBreakerFactory::new(&registry).unwrap();
        let cfg = config("m");
        let filter = build(&f, &cfg);
        assert_eq!(attempt(&filter, &cfg, false), AttemptFlow::Send);
        assert_eq!(attempt(&filter, &cfg, true), AttemptFlow::Send);
        assert_eq!(attempt(&filter, &cfg, true), AttemptFlow::Send);
        assert_eq!(
            attempt(&filter, &cfg, false),
            AttemptFlow::Skip(SKIP_REASON)
        );
        assert_eq!(gauge(&registry, "m"), Some(2.0));
        // A reload of the same deployment keeps it open; a new deployment starts closed.
        let reloaded = build(&f, &config("m"));
        assert_eq!(
            attempt(&reloaded, &cfg, false),
            AttemptFlow::Skip(SKIP_REASON)
        );
        let other = config("n");
        let fresh = build(&f, &other);
        assert_eq!(attempt(&fresh, &other, false), AttemptFlow::Send);
        assert_eq!(gauge(&registry, "n"), Some(0.0));
    }

    #[test]
    fn a_candidate_that_never_goes_into_service_changes_no_breaker_and_no_gauge() {
        let registry = Registry::new();
        let f = CircuitBreakerFactory::new(&registry).unwrap();
        let cfg = config("m");
        let filter = build(&f, &cfg);
        attempt(&filter, &cfg, true);
        // A candidate config (rejected later, say) with laxer settings and a new deployment.
        let lax: serde_yaml::Value =
            serde_yaml::from_str("{failure_threshold: 100, open_for: 1h}").unwrap();
        let other = config("n");
        let env = BuildEnv {
            config: &other,
            path: "filters[0]",
        };
        let _candidate = f.build(&lax, &env).unwrap();
        assert_eq!(gauge(&registry, "n"), None);
        // The breaker in force still opens at its own threshold of 2.
        attempt(&filter, &cfg, true);
        assert_eq!(gauge(&registry, "m"), Some(2.0));
    }

    #[test]
    fn settings_parse_with_defaults_and_refuse_nonsense() {
        let parse = |y: &str| {
            let v: serde_yaml::Value = serde_yaml::from_str(y).unwrap();
            crate::settings::parse::<CircuitBreakerConfig>("circuit_breaker", &v)
                .and_then(CircuitBreakerConfig::check)
                .map_err(|e| e.message)
        };
        let s = parse("{failure_threshold: 2, open_for: 1s}").unwrap();
        assert_eq!(s.failure_threshold, 2);
        assert_eq!(s.open_for, Duration::from_secs(1));
        assert_eq!(s.half_open_requests, 1);
        let s = parse("{failure_rate: 0.5, window: 10s, min_requests: 5}").unwrap();
        assert_eq!(s.failure_rate, Some(0.5));
        assert!(parse("{failure_rate: 1.5}").is_err());
        assert!(parse("{open_for: soon}").unwrap_err().contains("soon"));
        assert!(parse("{failure_treshold: 3}")
            .unwrap_err()
            .contains("failure_treshold"));
        assert!(parse("{half_open_requests: 0}").is_err());
        assert_eq!(parse("null").unwrap(), Settings::default());
    }
}
