//! `metrics`: meters every request — counters and histograms by key id, endpoint, route, model,
//! provider and status, tokens and cost from `pricing`, the OpenTelemetry GenAI metrics — and writes one
//! JSON usage record per request.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use prometheus::{IntCounter, IntGauge, Registry};
use serde::Serialize;
use switchyard_config::Config;
use switchyard_filter::{
    AttemptResult, BuildEnv, BuildError, Filter, FilterFactory, GatewayError, Outcome, RequestCtx,
    ResponseHead, UpstreamRequest,
};

use crate::usage_log::{UsageSinks, UsageWriter};

mod cost;
mod families;
mod handles;

pub use cost::cost_usd;
use families::reg;
pub use families::Families;
use handles::{Handles, Labels, OUTCOMES};

/// Builds [`MetricsFilter`]; owns the families and the usage sink across reloads.
pub struct MetricsFactory {
    families: Arc<Families>,
    sinks: Arc<UsageSinks>,
}

impl MetricsFactory {
    /// Registers the families (and the dropped-records counter) in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let dropped = reg(
            registry,
            IntCounter::new(
                "switchyard_usage_records_dropped_total",
                "Usage records lost because the writer fell behind or failed.",
            )?,
        )?;
        Ok(Self {
            families: Arc::new(Families::register(registry)?),
            sinks: Arc::new(UsageSinks::new(dropped)),
        })
    }
}

/// The built filter.
pub struct MetricsFilter {
    families: Arc<Families>,
    /// Children resolved so far, for this config's keys, routes and models.
    handles: Handles,
    config: Arc<Config>,
    /// `gen_ai_provider_name` per provider, indexed like `config.providers`.
    genai_providers: Vec<Cow<'static, str>>,
    sinks: Arc<UsageSinks>,
    /// Set when the config goes into service; until then (and if the sink failed to open
    /// then) records go nowhere.
    usage: OnceLock<UsageWriter>,
}

/// Held in a streamed request's slots from its response head until the request context is
/// dropped: the streams-in-flight gauge can't leak, whatever path the request ends on.
struct StreamInFlight(IntGauge);

impl Drop for StreamInFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl FilterFactory for MetricsFactory {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        crate::usage_log::check(&env.config.server.usage_log)?;
        Ok(Arc::new(MetricsFilter {
            families: self.families.clone(),
            handles: Handles::new(env.config.models.len()),
            config: env.config.clone(),
            genai_providers: env
                .config
                .providers
                .iter()
                .map(crate::genai::provider_name)
                .collect(),
            sinks: self.sinks.clone(),
            usage: OnceLock::new(),
        }))
    }
}

/// One usage record, as written to the usage log.
#[derive(Serialize)]
struct UsageRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    request_id: &'a str,
    time: Rfc3339Millis,
    key_id: &'a str,
    endpoint: &'static str,
    route: &'a str,
    model: &'a str,
    provider: &'a str,
    status: u16,
    attempts: u32,
    stream: bool,
    prompt_tokens: u64,
    completion_tokens: u64,
    cached_tokens: u64,
    cache_write_tokens: u64,
    reasoning_tokens: u64,
    cost_usd: f64,
    duration_ms: f64,
    ttft_ms: Option<f64>,
    overhead_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_error: Option<&'a str>,
}

/// A time written as RFC 3339 with milliseconds straight into the record (no `String`).
struct Rfc3339Millis(SystemTime);

impl Serialize for Rfc3339Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_millis(self.0))
    }
}

/// Room for a usage record's line, so writing it needs one allocation (they run ~500 bytes).
const RECORD_CAPACITY: usize = 768;

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

#[async_trait::async_trait]
impl Filter for MetricsFilter {
    fn on_response_head(
        &self,
        cx: &mut RequestCtx,
        head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        if cx.streaming && head.status < 300 && cx.slots.get::<StreamInFlight>().is_none() {
            let gauge = self.families.streams_in_flight.clone();
            gauge.inc();
            cx.slots.insert(StreamInFlight(gauge));
        }
        Ok(())
    }

    fn activate(&self) {
        match self.sinks.writer_for(&self.config.server.usage_log) {
            Ok(w) => {
                let _ = self.usage.set(w);
            }
            Err(e) => {
                tracing::error!(error = %e, "usage records are lost until the usage log can be opened");
                let _ = self.usage.set(self.sinks.lost());
            }
        }
    }

    fn observes_every_request(&self) -> bool {
        true
    }

    async fn on_shutdown(&self) {
        if let Some(usage) = self.usage.get() {
            usage.flush().await;
        }
    }

    fn on_attempt_end(&self, _cx: &mut RequestCtx, up: &UpstreamRequest, res: &AttemptResult) {
        let Some(model) = self.config.models.get(up.model) else {
            return;
        };
        let provider = &self.config.providers[model.provider].id;
        // Indices into OUTCOMES.
        let outcome = match res {
            AttemptResult::Status(s) if (200..300).contains(s) => 0,
            AttemptResult::Status(429) => 1,
            AttemptResult::Status(s) if *s >= 500 => 2,
            AttemptResult::Status(_) => 3,
            AttemptResult::ConnectError => 4,
            AttemptResult::Timeout => 5,
            AttemptResult::Malformed => 6,
        };
        debug_assert!(outcome < OUTCOMES.len());
        self.handles
            .attempts(
                &self.families,
                up.model,
                [model.id.as_str(), provider.as_str()],
                outcome,
            )
            .inc();
    }

    fn on_attempt_skipped(&self, _cx: &mut RequestCtx, up: &UpstreamRequest, reason: &'static str) {
        let Some(model) = self.config.models.get(up.model) else {
            return;
        };
        let provider = &self.config.providers[model.provider].id;
        self.families
            .skips
            .with_label_values(&[model.id.as_str(), provider.as_str(), reason])
            .inc();
    }

    fn on_complete(&self, cx: &RequestCtx, outcome: &Outcome) {
        let f = &*self.families;
        let duration = cx.started.elapsed();
        let key_id = cx.key_id.as_deref().unwrap_or("anonymous");
        let route = cx.route.as_ref().map_or("", |r| &*r.name);
        let model = cx.answer.model.and_then(|m| self.config.models.get(m));
        let model_id = model.map_or("", |m| m.id.as_str());
        let provider = model.map_or("", |m| self.config.providers[m.provider].id.as_str());
        let series = self.handles.series(&Labels {
            key_id,
            endpoint: cx.endpoint.as_str(),
            route,
            model: cx.answer.model.filter(|_| model.is_some()),
            model_id,
            provider,
            genai: model.map(|m| {
                [
                    crate::genai::operation_name(cx.endpoint),
                    self.genai_providers[m.provider].as_ref(),
                    m.upstream_model.as_str(),
                ]
            }),
        });
        let status = status_label(outcome.status);
        series
            .requests(
                f,
                status.as_ref(),
                outcome.status,
                outcome_label(outcome),
                outcome.truncated,
            )
            .inc();
        series.duration(f).observe(duration.as_secs_f64());
        let overhead = duration.saturating_sub(cx.answer.upstream_time);
        series.overhead(f).observe(overhead.as_secs_f64());
        if let Some(t) = cx.answer.ttft {
            series.ttft(f).observe(t.as_secs_f64());
        }
        if outcome.error_kind.is_some_and(|k| k.is_route_exhausted()) {
            series.exhausted(f).inc();
        }
        if outcome.truncated {
            series.stream_errors(f).inc();
        }
        let usage = cx.usage.unwrap_or_default();
        let cost = match (cx.usage.as_ref(), model.and_then(|m| m.pricing.as_ref())) {
            (Some(u), Some(p)) => cost_usd(u, p),
            _ => 0.0,
        };
        if let Some(h) = series.genai_duration(f, outcome.error_kind.map_or("", |k| k.as_str())) {
            h.observe(duration.as_secs_f64());
        }
        if let (Some(t), Some(h)) = (cx.answer.ttft, series.genai_ttft(f)) {
            h.observe(t.as_secs_f64());
        }
        if model.is_some() && cx.usage.is_some() {
            for (i, n) in [
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.cached_tokens,
                usage.cache_write_tokens,
            ]
            .into_iter()
            .enumerate()
            {
                series.tokens(f, i).inc_by(n);
            }
            for (i, n) in [usage.prompt_tokens, usage.completion_tokens]
                .into_iter()
                .enumerate()
            {
                if let Some(h) = series.genai_tokens(f, i) {
                    h.observe(n as f64);
                }
            }
            series.cost(f).inc_by(cost);
        }
        let Some(usage_log) = self.usage.get().filter(|w| w.enabled()) else {
            return;
        };
        let record = UsageRecord {
            kind: "usage",
            request_id: &cx.request_id,
            time: Rfc3339Millis(SystemTime::now()),
            key_id,
            endpoint: cx.endpoint.as_str(),
            route,
            model: model_id,
            provider,
            status: outcome.status,
            attempts: cx.answer.attempts,
            stream: cx.streaming,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.cached_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cost_usd: cost,
            duration_ms: ms(duration),
            ttft_ms: cx.answer.ttft.map(ms),
            overhead_ms: ms(overhead),
            error: outcome.error_kind.map(|k| k.as_str()),
            stream_error: cx.stream_error.as_deref(),
        };
        let mut line = Vec::with_capacity(RECORD_CAPACITY);
        if serde_json::to_writer(&mut line, &record).is_ok() {
            usage_log.write(line);
        }
    }
}

/// How a request ended, for `switchyard_requests_total{outcome}`: `success`, `stream_error`
/// (the answer failed after its first byte, whatever the status line said), `client_closed`,
/// `client_error` (4xx, refusals by the gateway included) or `server_error` (5xx).
fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome.status {
        _ if outcome.truncated => "stream_error",
        499 => "client_closed",
        s if s < 400 => "success",
        s if s < 500 => "client_error",
        _ => "server_error",
    }
}

/// Status codes as label text without allocating for the common ones.
fn status_label(status: u16) -> Cow<'static, str> {
    match status {
        200 => "200".into(),
        400 => "400".into(),
        401 => "401".into(),
        403 => "403".into(),
        404 => "404".into(),
        413 => "413".into(),
        429 => "429".into(),
        500 => "500".into(),
        502 => "502".into(),
        503 => "503".into(),
        504 => "504".into(),
        s => s.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_times_read_as_humantime_writes_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_790_000_123);
        let json = serde_json::to_string(&Rfc3339Millis(t)).expect("serializes");
        assert_eq!(json, "\"2025-12-03T19:26:40.123Z\"");
        assert_eq!(
            json.trim_matches('"'),
            humantime::format_rfc3339_millis(t).to_string()
        );
    }
}
