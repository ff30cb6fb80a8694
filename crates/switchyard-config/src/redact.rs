//! The config in force as JSON for the admin `/config` endpoint and `switchyard check`:
//! every secret is replaced by where it comes from, and key hashes are shortened.

use std::fmt;

use serde_json::{json, Value};

use crate::{
    BudgetPeriod, Config, GatewayKey, LogFormat, Model, OtlpCompression, OtlpConfig, Provider,
    Route, SecretSource, StateConfig, Strategy, Timeouts, UsageSink,
};

impl Config {
    /// The config with secrets replaced by their source: `{"env": "NAME"}`,
    /// `{"file": "/path"}`, `"<literal, redacted>"`, key hashes as `sha256:0123abcd…`.
    /// Provider header values and the Redis URL are shown as `"<redacted>"`.
    pub fn redacted_json(&self) -> Value {
        let s = &self.server;
        json!({
            "version": self.version,
            "server": {
                "listen": s.listen.to_string(),
                "admin_listen": s.admin_listen.to_string(),
                "max_body_bytes": s.max_body_bytes,
                "log_format": match s.log_format { LogFormat::Text => "text", LogFormat::Json => "json" },
                "shutdown_grace": humantime::format_duration(s.shutdown_grace).to_string(),
                "threads": s.threads,
                "work_stealing": s.work_stealing,
                "usage_log": match &s.usage_log {
                    UsageSink::Stdout => "stdout".to_owned(),
                    UsageSink::Stderr => "stderr".to_owned(),
                    UsageSink::Off => "off".to_owned(),
                    UsageSink::File(p) => p.display().to_string(),
                },
                "header_read_timeout": humantime::format_duration(s.header_read_timeout).to_string(),
                "body_read_timeout": humantime::format_duration(s.body_read_timeout).to_string(),
                "keepalive_timeout": humantime::format_duration(s.keepalive_timeout).to_string(),
                "max_connections": s.max_connections,
                "max_header_bytes": s.max_header_bytes,
                "max_response_bytes": s.max_response_bytes,
                "admin_token": s.admin_token.as_ref().map(|_| "<redacted>"),
            },
            "auth": self.auth.as_ref().map_or(Value::Null, |a| {
                json!({ "keys": a.keys.iter().map(key_json).collect::<Vec<_>>() })
            }),
            "providers": self.providers.iter().map(provider_json).collect::<Vec<_>>(),
            "models": self.models.iter().map(|m| self.model_json(m)).collect::<Vec<_>>(),
            "routes": self.routes.iter().map(|r| self.route_json(r)).collect::<Vec<_>>(),
            "state": match &self.state {
                StateConfig::Memory => json!({ "backend": "memory" }),
                StateConfig::Redis { fail_open, timeout, .. } => json!({
                    "backend": "redis",
                    "url": "<redacted>",
                    "on_unavailable": if *fail_open { "fail_open" } else { "fail_closed" },
                    "timeout": humantime::format_duration(*timeout).to_string(),
                }),
            },
            "filters": self.filters.iter().map(|f| {
                let settings = serde_json::to_value(&f.settings).unwrap_or(Value::Null);
                json!({ "name": f.name, "settings": settings })
            }).collect::<Vec<_>>(),
            "filters_explicit": self.filters_explicit,
            "telemetry": { "otlp": self.telemetry.otlp.as_ref().map(otlp_json) },
        })
    }

    fn model_json(&self, m: &Model) -> Value {
        json!({
            "id": m.id,
            "provider": self.providers.get(m.provider).map(|p| p.id.as_str()),
            "model": m.upstream_model,
            "context_window": m.context_window,
            "max_output_tokens": m.max_output_tokens,
            "pricing": m.pricing.map(|p| json!({
                "input_per_mtok": p.input_per_mtok,
                "output_per_mtok": p.output_per_mtok,
                "cached_input_per_mtok": p.cached_input_per_mtok,
            })),
            "strict_params": m.strict_params,
        })
    }

    fn route_json(&self, r: &Route) -> Value {
        json!({
            "name": r.name,
            "when": r.when.as_ref().map(|w| json!({
                "priority": w.priority,
                "headers": w.headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            })),
            "strategy": strategy_str(r.strategy),
            "targets": r.targets.iter().map(|t| json!({
                "model": self.models.get(t.model).map(|m| m.id.as_str()),
                "weight": t.weight,
            })).collect::<Vec<_>>(),
            "strict_params": r.strict_params,
        })
    }
}

fn source_json(source: &SecretSource) -> Value {
    match source {
        SecretSource::Env(name) => json!({ "env": name }),
        SecretSource::File(path) => json!({ "file": path.display().to_string() }),
        SecretSource::Literal => json!("<literal, redacted>"),
        SecretSource::Sha256 => json!("<sha256>"),
        SecretSource::None => Value::Null,
    }
}

/// `sha256:` and the first 8 hex digits: enough to tell keys apart, useless to attackers.
fn short_hash(hash: &[u8; 32]) -> String {
    format!("sha256:{}…", hex::encode(&hash[..4]))
}

fn key_json(k: &GatewayKey) -> Value {
    json!({
        "id": k.id,
        "key": source_json(&k.source),
        "key_sha256": short_hash(&k.sha256),
        "models": k.models,
        "rpm": k.rpm,
        "tpm": k.tpm,
        "budget": k.budget.as_ref().map(|b| json!({
            "usd": b.usd,
            "period": match b.period {
                BudgetPeriod::Daily => "daily",
                BudgetPeriod::Weekly => "weekly",
                BudgetPeriod::Monthly => "monthly",
                BudgetPeriod::Total => "total",
            },
        })),
    })
}

fn provider_json(p: &Provider) -> Value {
    json!({
        "id": p.id,
        "type": p.kind.as_str(),
        "base_url": p.base_url.as_str(),
        "api_key": source_json(&p.api_key_source),
        "api_version": p.api_version,
        "headers": p.headers.iter().map(|(k, _)| (k.clone(), json!("<redacted>"))).collect::<serde_json::Map<_, _>>(),
        "timeouts": timeouts_json(&p.timeouts),
        "stream_usage": p.stream_usage,
        "aws": p.aws.as_ref().map(|a| json!({ "region": a.region, "credentials_env": a.sources })),
    })
}

/// The exporter's settings; header values are redacted, their variables named.
fn otlp_json(o: &OtlpConfig) -> Value {
    json!({
        "endpoint": o.endpoint.as_str(),
        "protocol": o.protocol.as_str(),
        "headers": o.headers.iter().map(|(k, _)| (k.clone(), json!("<redacted>"))).collect::<serde_json::Map<_, _>>(),
        "headers_from": o.header_sources,
        "compression": match o.compression { OtlpCompression::None => "none", OtlpCompression::Gzip => "gzip" },
        "timeout": humantime::format_duration(o.timeout).to_string(),
        "sampler": {
            "parent_based": o.sampler.parent_based,
            "ratio": o.sampler.ratio,
        },
        "service_name": o.service_name,
        "resource": o.resource.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "max_queue_size": o.batching.max_queue_size,
        "max_export_batch_size": o.batching.max_export_batch_size,
        "schedule_delay": humantime::format_duration(o.batching.schedule_delay).to_string(),
        "certificate": o.certificate.as_ref().map(|c| json!({ "file": c.path, "from": c.source, "certificates": c.der.len() })),
    })
}

fn timeouts_json(t: &Timeouts) -> Value {
    let f = |d| humantime::format_duration(d).to_string();
    json!({ "connect": f(t.connect), "first_byte": f(t.first_byte), "idle": f(t.idle), "total": f(t.total) })
}

fn strategy_str(s: Strategy) -> &'static str {
    match s {
        Strategy::Priority => "priority",
        Strategy::Weighted => "weighted",
        Strategy::LowestLatency => "lowest_latency",
        Strategy::LowestCost => "lowest_cost",
    }
}

/// A short human summary for `switchyard check`: listeners, counts, and the filter chain in
/// order. Shows no secrets.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "listen {} (admin {})",
            self.server.listen, self.server.admin_listen
        )?;
        match &self.auth {
            Some(a) => writeln!(f, "auth: {} key(s)", a.keys.len())?,
            None => writeln!(f, "auth: disabled")?,
        }
        for (i, p) in self.providers.iter().enumerate() {
            let n = self.models.iter().filter(|m| m.provider == i).count();
            writeln!(
                f,
                "provider {} ({}) {} with {n} model(s)",
                p.id,
                p.kind.as_str(),
                p.base_url
            )?;
        }
        for r in &self.routes {
            let when = if r.when.is_some() {
                " (conditional)"
            } else {
                ""
            };
            writeln!(
                f,
                "route {}{when}: {} over {} target(s)",
                r.name,
                strategy_str(r.strategy),
                r.targets.len()
            )?;
        }
        if let Some(o) = &self.telemetry.otlp {
            let share = if o.sampler.parent_based {
                " of new traces, callers' sampled flag followed"
            } else {
                " of requests"
            };
            writeln!(
                f,
                "traces: OTLP {} to {}, {}%{share}",
                o.protocol.as_str(),
                o.endpoint,
                o.sampler.ratio * 100.0
            )?;
        }
        let names: Vec<&str> = self.filters.iter().map(|s| s.name.as_str()).collect();
        let origin = if self.filters_explicit {
            ""
        } else {
            " (default)"
        };
        write!(f, "filters{origin}: {}", names.join(" → "))
    }
}
