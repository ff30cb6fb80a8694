//! Switchyard's built-in filters, one module each. A new filter is a new module here, one line
//! in [`register_all`], a config example and its tests; nothing else changes.

pub mod auth;
mod bpe;
pub mod circuit_breaker;
pub mod context_window;
pub mod genai;
pub mod metrics;
pub mod rate_limit;
pub mod retry;
pub mod route;
mod settings;
pub mod sigv4;
pub mod state;
pub mod tokens;
pub mod traces;
pub mod translate;
mod usage_log;
pub mod vertex_auth;

use switchyard_filter::Registry;

/// Filter names the config schema reserves for filters a later version adds: naming one
/// explicitly is a "not supported yet" error; the default chain leaves it out.
const PLANNED: &[&str] = &[];

/// Every built-in filter, with metric families registered in `metrics`.
pub fn register_all(metrics: &prometheus::Registry) -> prometheus::Result<Registry> {
    register_all_with_limits(metrics).map(|(r, _)| r)
}

/// [`register_all`], plus the handle through which the server reads budgets.
pub fn register_all_with_limits(
    metrics: &prometheus::Registry,
) -> prometheus::Result<(Registry, rate_limit::LimitsHandle)> {
    let mut r = Registry::new();
    let limits = rate_limit::RateLimitFactory::new(metrics)?;
    let handle = limits.handle();
    r.register(Box::new(auth::AuthFactory));
    r.register(Box::new(limits));
    r.register(Box::new(context_window::ContextWindowFactory));
    r.register(Box::new(route::RouteFactory::default()));
    r.register(Box::new(circuit_breaker::CircuitBreakerFactory::new(
        metrics,
    )?));
    r.register(Box::new(retry::RetryFactory::default()));
    r.register(Box::new(translate::TranslateFactory));
    r.register(Box::new(traces::TracingFactory::new(metrics)?));
    r.register(Box::new(metrics::MetricsFactory::new(metrics)?));
    for name in PLANNED {
        r.reserve(name);
    }
    Ok((r, handle))
}
