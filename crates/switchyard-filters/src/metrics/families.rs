//! The metric families: registered once per process, with their names, help texts, labels
//! and buckets in one place, and shared by every config's metrics filter across reloads.

use prometheus::{
    exponential_buckets, CounterVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts,
    Registry,
};

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
    pub(crate) streams_in_flight: IntGauge,
}

pub(super) fn reg<T: prometheus::core::Collector + Clone + 'static>(
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
