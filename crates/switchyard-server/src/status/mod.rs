//! The status page on the admin listener: `GET /status` (JSON) and `GET /` (the same data as
//! plain HTML, with a little script that refreshes it from `/status`). Routes and their targets
//! in order, with each target's breaker state, average time to first token, recent error rate
//! and cooldown (from the filters that own them, through `Filter::describe_target`); every
//! gateway key with its spend and remaining budget; the config's sha256 and reload history.

mod history;
mod page;
mod window;

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use prometheus::proto::MetricFamily;
use serde_json::{json, Map, Value};
use switchyard_config::Strategy;
use switchyard_filters::rate_limit::LimitsHandle;

pub use history::ReloadHistory;
pub use page::render_html;
pub use window::ErrorWindow;

use crate::snapshot::Store;

/// What the status page reads.
pub struct StatusSource<'a> {
    /// The config in force and its history.
    pub store: &'a Store,
    /// The process's metrics.
    pub registry: &'a prometheus::Registry,
    /// Budgets.
    pub limits: &'a LimitsHandle,
    /// Error-rate samples.
    pub window: &'a ErrorWindow,
    /// When the process started.
    pub started: SystemTime,
}

/// The `/status` document.
pub async fn collect(src: &StatusSource<'_>) -> Value {
    let snap = src.store.current();
    let config = &snap.config;
    let families = src.registry.gather();
    let (recent, window_secs) = src
        .window
        .observe(Instant::now(), attempt_totals(&families));
    let targets: Vec<Value> = config
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut t = Map::new();
            t.insert("model".into(), m.id.clone().into());
            t.insert(
                "provider".into(),
                config.providers[m.provider].id.clone().into(),
            );
            t.insert("upstream_model".into(), m.upstream_model.clone().into());
            t.extend(snap.chain.describe_target(i));
            let r = recent.get(&m.id);
            t.insert("recent_attempts".into(), r.map_or(0, |r| r.attempts).into());
            t.insert(
                "recent_error_rate".into(),
                r.and_then(|r| r.error_rate).into(),
            );
            Value::Object(t)
        })
        .collect();
    let routes: Vec<Value> = config
        .routes
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "strategy": strategy_name(r.strategy),
                "when": r.when.as_ref().map(|w| json!({
                    "priority": w.priority,
                    "headers": w.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>(),
                })),
                "targets": r.targets.iter().map(|t| {
                    let mut v = targets[t.model].clone();
                    if r.strategy == Strategy::Weighted {
                        v["weight"] = t.weight.into();
                    }
                    v
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let spent = by_label(&families, "switchyard_cost_usd_total", "key_id");
    let budgets = src.limits.budgets(config).await;
    let keys: Vec<Value> = config
        .auth
        .iter()
        .flat_map(|a| a.keys.iter())
        .map(|k| {
            json!({
                "id": k.id,
                "models": k.models,
                "rpm": k.rpm,
                "tpm": k.tpm,
                "spent_usd_since_start": spent.get(k.id.as_str()).copied().unwrap_or(0.0),
                "budget": budgets.iter().find(|b| b.key_id == k.id),
            })
        })
        .collect();
    let reloads = src.store.history.events();
    let last_error = reloads.iter().find(|e| e.result == "rejected").cloned();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": humantime::format_rfc3339_seconds(src.started).to_string(),
        "uptime_seconds": SystemTime::now().duration_since(src.started).map(|d| d.as_secs()).unwrap_or(0),
        "in_flight": {
            "requests": gauge(&families, "switchyard_requests_in_flight"),
            "streams": gauge(&families, "switchyard_streams_in_flight"),
        },
        "config": {
            "sha256": snap.sha256,
            "generation": snap.generation,
            "loaded_at": humantime::format_rfc3339_seconds(snap.loaded_at).to_string(),
            "filters": snap.chain.names().collect::<Vec<_>>(),
        },
        "reloads": reloads,
        "last_reload_error": last_error,
        "error_window_seconds": window_secs,
        "routes": routes,
        "targets": targets,
        "keys": keys,
    })
}

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Priority => "priority",
        Strategy::Weighted => "weighted",
        Strategy::LowestLatency => "lowest_latency",
        Strategy::LowestCost => "lowest_cost",
    }
}

fn label<'m>(m: &'m prometheus::proto::Metric, name: &str) -> Option<&'m str> {
    m.get_label()
        .iter()
        .find(|l| l.name() == name)
        .map(|l| l.value())
}

fn family<'f>(families: &'f [MetricFamily], name: &str) -> Option<&'f MetricFamily> {
    families.iter().find(|f| f.name() == name)
}

/// Upstream attempts per model id: (all, failed), summed over providers and outcomes.
fn attempt_totals(families: &[MetricFamily]) -> window::Totals {
    let mut out = window::Totals::new();
    for m in family(families, "switchyard_upstream_attempts_total")
        .map(|f| f.get_metric())
        .unwrap_or_default()
    {
        let (Some(model), Some(outcome)) = (label(m, "model"), label(m, "outcome")) else {
            continue;
        };
        let n = m.get_counter().get_value() as u64;
        let e = out.entry(model.to_owned()).or_default();
        e.0 += n;
        if outcome != "success" {
            e.1 += n;
        }
    }
    out
}

/// A counter family summed by one label.
fn by_label<'f>(families: &'f [MetricFamily], name: &str, by: &str) -> HashMap<&'f str, f64> {
    let mut out = HashMap::new();
    for m in family(families, name)
        .map(|f| f.get_metric())
        .unwrap_or_default()
    {
        if let Some(v) = label(m, by) {
            *out.entry(v).or_default() += m.get_counter().get_value();
        }
    }
    out
}

fn gauge(families: &[MetricFamily], name: &str) -> i64 {
    family(families, name)
        .and_then(|f| f.get_metric().first())
        .map_or(0, |m| m.get_gauge().get_value() as i64)
}
