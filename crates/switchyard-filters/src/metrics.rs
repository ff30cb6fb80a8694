//! `metrics`: meters every request — counters and histograms by key id, endpoint, route, model,
//! provider and status, tokens and cost from `pricing`, the OpenTelemetry GenAI metrics — and writes one
//! JSON usage record per request.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use prometheus::{
    exponential_buckets, CounterVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, Opts, Registry,
};
use serde::Serialize;
use switchyard_config::{Config, Pricing};
use switchyard_filter::{
    AttemptResult, BuildEnv, BuildError, Filter, FilterFactory, GatewayError, Outcome, RequestCtx,
    ResponseHead, UpstreamRequest,
};
use switchyard_wire::Usage;

use crate::metric_handles::{Handles, Labels, OUTCOMES};
use crate::usage_log::{UsageSinks, UsageWriter};

/// The metric families, registered once per process and shared by every config's filter.
pub struct Families {
    pub(crate) requests: IntCounterVec,
    pub(crate) duration: HistogramVec,
    pub(crate) ttft: HistogramVec,
    pub(crate) tokens: IntCounterVec,
    pub(crate) cost: CounterVec,
    pub(crate) attempts: IntCounterVec,
    pub(crate) skips: IntCounterVec,
    pub(crate) exhausted: IntCounterVec,
    pub(crate) stream_errors: IntCounterVec,
    pub(crate) overhead: HistogramVec,
    pub(crate) genai_tokens: HistogramVec,
    pub(crate) genai_duration: HistogramVec,
    pub(crate) genai_ttft: HistogramVec,
    streams_in_flight: IntGauge,
}

fn reg<T: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    c: T,
) -> prometheus::Result<T> {
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Families {
    /// Creates and registers every family in `r`.
    pub fn register(r: &Registry) -> prometheus::Result<Self> {
        let latency = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
        ];
        let route4 = &["key_id", "route", "model", "provider"];
        // Histograms carry no key_id: a bucket series per key would multiply their cardinality
        // by the number of keys (the counters keep it). `endpoint` takes a few fixed values.
        let route_hist = &["endpoint", "route", "model", "provider"];
        let genai = &[
            "gen_ai_operation_name",
            "gen_ai_provider_name",
            "gen_ai_request_model",
            "gen_ai_response_model",
        ];
        Ok(Self {
            requests: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_requests_total",
                        "Client requests by outcome status.",
                    ),
                    &[
                        "key_id", "endpoint", "route", "model", "provider", "status", "outcome",
                    ],
                )?,
            )?,
            duration: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "switchyard_request_duration_seconds",
                        "Client request duration, to the last byte.",
                    )
                    .buckets(latency.clone()),
                    route_hist,
                )?,
            )?,
            ttft: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "switchyard_time_to_first_token_seconds",
                        "Request start to the first body byte sent to the client.",
                    )
                    .buckets(latency.clone()),
                    route_hist,
                )?,
            )?,
            tokens: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_tokens_total",
                        "Tokens used, by type (prompt, completion, cached).",
                    ),
                    &["key_id", "route", "model", "provider", "type"],
                )?,
            )?,
            cost: reg(
                r,
                CounterVec::new(
                    Opts::new(
                        "switchyard_cost_usd_total",
                        "Cost in US dollars, from the configured pricing.",
                    ),
                    route4,
                )?,
            )?,
            attempts: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_upstream_attempts_total",
                        "Upstream requests by target and outcome.",
                    ),
                    &["model", "provider", "outcome"],
                )?,
            )?,
            skips: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_upstream_skips_total",
                        "Targets passed over without a request (open breaker, context window).",
                    ),
                    &["model", "provider", "reason"],
                )?,
            )?,
            exhausted: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_route_exhausted_total",
                        "Requests for which every target of the route failed.",
                    ),
                    &["route"],
                )?,
            )?,
            stream_errors: reg(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "switchyard_stream_errors_total",
                        "Streams cut by an upstream failure after the first byte.",
                    ),
                    &["route", "model", "provider"],
                )?,
            )?,
            overhead: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "switchyard_overhead_seconds",
                        "Time the gateway itself spent on a request (total minus upstream wait).",
                    )
                    .buckets(exponential_buckets(0.00005, 2.0, 16)?),
                    &["endpoint", "route"],
                )?,
            )?,
            genai_tokens: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "gen_ai_client_token_usage",
                        "OpenTelemetry GenAI: tokens used per operation.",
                    )
                    .buckets(exponential_buckets(1.0, 4.0, 14)?),
                    &[genai[0], genai[1], genai[2], genai[3], "gen_ai_token_type"],
                )?,
            )?,
            genai_duration: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "gen_ai_client_operation_duration_seconds",
                        "OpenTelemetry GenAI: operation duration.",
                    )
                    .buckets(exponential_buckets(0.01, 2.0, 14)?),
                    &[genai[0], genai[1], genai[2], genai[3], "error_type"],
                )?,
            )?,
            genai_ttft: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "gen_ai_client_operation_time_to_first_chunk_seconds",
                        "OpenTelemetry GenAI (the gateway is the client): time to the first chunk of a streamed answer.",
                    )
                    .buckets(exponential_buckets(0.01, 2.0, 14)?),
                    genai,
                )?,
            )?,
            streams_in_flight: reg(
                r,
                IntGauge::new(
                    "switchyard_streams_in_flight",
                    "Streamed answers being sent to clients right now.",
                )?,
            )?,
        })
    }
}

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
        crate::no_settings(self.name(), settings)?;
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

/// Cost in USD of `usage` at `pricing`. Prompt tokens split three ways: cache reads at the
/// cache-read price, cache writes at the write price (5-minute, and 1-hour ones at theirs), the
/// rest at the input price; completion tokens (reasoning included) at the output price.
/// Unset cache prices fall back to the input price (1-hour writes to the 5-minute price).
pub fn cost_usd(usage: &Usage, pricing: &Pricing) -> f64 {
    let cached = usage.cached_tokens.min(usage.prompt_tokens);
    let writes = usage.cache_write_tokens.min(usage.prompt_tokens - cached);
    let writes_1h = usage.cache_write_1h_tokens.min(writes);
    let fresh = usage.prompt_tokens - cached - writes;
    let input = pricing.input_per_mtok;
    let read = pricing.cached_input_per_mtok.unwrap_or(input);
    let write = pricing.cache_write_per_mtok.unwrap_or(input);
    let write_1h = pricing.cache_write_1h_per_mtok.unwrap_or(write);
    (fresh as f64 * input
        + cached as f64 * read
        + (writes - writes_1h) as f64 * write
        + writes_1h as f64 * write_1h
        + usage.completion_tokens as f64 * pricing.output_per_mtok)
        / 1_000_000.0
}

/// One usage record, as written to the usage log.
#[derive(Serialize)]
struct UsageRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    request_id: &'a str,
    time: String,
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
        let route = cx.route.as_ref().map_or("", |r| r.name.as_str());
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
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
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
        if let Ok(line) = serde_json::to_vec(&record) {
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
mod cost_tests {
    use super::*;

    #[test]
    fn cache_reads_and_both_write_lifetimes_have_their_own_prices() {
        // Claude Opus 4.1: 15 in, 75 out, 1.50 read, 18.75 write (5m), 30 write (1h).
        let pricing = switchyard_config::lookup("claude-opus-4-1")
            .expect("in the catalog")
            .pricing();
        let usage = Usage {
            prompt_tokens: 1_000 + 2_000 + 300 + 200,
            completion_tokens: 500,
            cached_tokens: 2_000,
            reasoning_tokens: 400,
            cache_write_tokens: 500,
            cache_write_1h_tokens: 200,
        };
        let want =
            (1_000.0 * 15.0 + 2_000.0 * 1.5 + 300.0 * 18.75 + 200.0 * 30.0 + 500.0 * 75.0) / 1e6;
        assert!((cost_usd(&usage, &pricing) - want).abs() < 1e-12);
    }

    #[test]
    fn unset_cache_prices_fall_back_to_input() {
        let pricing = Pricing {
            input_per_mtok: 2.0,
            output_per_mtok: 8.0,
            ..Pricing::FREE
        };
        let usage = Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
            cached_tokens: 40,
            cache_write_tokens: 30,
            cache_write_1h_tokens: 10,
            ..Usage::default()
        };
        assert!((cost_usd(&usage, &pricing) - (100.0 * 2.0 + 10.0 * 8.0) / 1e6).abs() < 1e-12);
    }
}
