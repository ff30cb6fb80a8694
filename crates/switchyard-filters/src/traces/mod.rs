//! `tracing`: OpenTelemetry traces of every request, exported over OTLP when the config has
//! `telemetry.otlp` (the gateway then adds this filter by itself, after `translate`). A span
//! per request (server kind) and one under it per upstream attempt (client kind), with the
//! GenAI semantic conventions' attributes. A client's W3C `traceparent` is continued, and each
//! attempt sends its own span as the upstream's `traceparent`. Spans are built only for
//! sampled requests and go to the exporter's bounded queue (see `switchyard-telemetry`), so a
//! slow or dead collector never slows or fails a request.

mod finish;
mod spans;
mod state;

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use switchyard_config::{Config, OtlpConfig};
use switchyard_filter::{
    AttemptFlow, AttemptResult, BuildEnv, BuildError, Filter, FilterFactory, Flow, GatewayError,
    Outcome, RequestCtx, Step, UpstreamRequest,
};
use switchyard_telemetry::context::traceparent;
use switchyard_telemetry::{unix_nanos, Attr, Event, ExportMetrics, Exporter, SpanId};
use switchyard_wire::ChatRequest;

use spans::ModelInfo;
use state::{failure_type, AttemptSpan, Trace};

/// Builds the `tracing` filter; owns the process's exporter, which outlives reloads.
pub struct TracingFactory {
    exporter: Exporter,
}

impl TracingFactory {
    /// A factory whose exporter counts its work in `metrics`.
    pub fn new(metrics: &prometheus::Registry) -> prometheus::Result<Self> {
        Ok(Self {
            exporter: Exporter::new(ExportMetrics::register(metrics)?),
        })
    }
}

impl FilterFactory for TracingFactory {
    fn name(&self) -> &'static str {
        "tracing"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        let Some(otlp) = env.config.telemetry.otlp.clone() else {
            return Err(
                "filter `tracing` sends spans to `telemetry.otlp`, which this config does not set (or OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none turned off)"
                    .into(),
            );
        };
        switchyard_telemetry::check_certificate(&otlp)
            .map_err(|e| BuildError::config("telemetry.otlp", e))?;
        Ok(Arc::new(TracingFilter {
            exporter: self.exporter.clone(),
            models: spans::model_infos(env.config),
            otlp: Arc::new(otlp),
        }))
    }

    fn implied_by(&self, config: &Config) -> bool {
        config.telemetry.otlp.is_some()
    }
}

/// The filter for one config.
pub struct TracingFilter {
    exporter: Exporter,
    otlp: Arc<OtlpConfig>,
    models: Vec<ModelInfo>,
}

impl TracingFilter {
    /// The request's trace, started on first use.
    fn trace<'a>(&self, cx: &'a mut RequestCtx) -> &'a mut Trace {
        if cx.slots.get::<Trace>().is_none() {
            let t = Trace::start(cx, &self.otlp.sampler);
            cx.slots.insert(t);
        }
        cx.slots
            .get_mut::<Trace>()
            .expect("the trace slot was just filled")
    }
}

fn now() -> u64 {
    unix_nanos(SystemTime::now())
}

#[async_trait::async_trait]
impl Filter for TracingFilter {
    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, req: &'a mut ChatRequest) -> Step<'a> {
        self.trace(cx).ask(req);
        Step::Done(Ok(Flow::Continue))
    }

    fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        let probe = cx
            .slots
            .get::<crate::circuit_breaker::Ticket>()
            .filter(|t| t.model == up.model)
            .map(|t| t.probe);
        let number = cx.answer.attempts + 1;
        let t = self.trace(cx);
        t.ask(req);
        let span_id = SpanId::random();
        let tp = traceparent(&t.trace_id, &span_id, t.sampled);
        if let Ok(v) = HeaderValue::from_bytes(&tp) {
            up.headers
                .retain(|(n, _)| n != "traceparent" && n != "tracestate");
            up.headers.push((HeaderName::from_static("traceparent"), v));
            if let Some(ts) = t.trace_state.as_deref() {
                if let Ok(v) = HeaderValue::from_str(ts) {
                    up.headers.push((HeaderName::from_static("tracestate"), v));
                }
            }
        }
        t.attempts.push(AttemptSpan {
            span_id,
            model: up.model,
            number,
            start: now(),
            end: 0,
            result: None,
            probe,
            failover_reason: t.last_failure,
        });
        Ok(AttemptFlow::Send)
    }

    fn on_attempt_skipped(&self, cx: &mut RequestCtx, up: &UpstreamRequest, reason: &'static str) {
        let t = self.trace(cx);
        if t.pending(up.model).is_some() {
            t.attempts.pop();
        }
        if !t.sampled {
            return;
        }
        let mut attrs = vec![Attr::new("switchyard.skip_reason", reason)];
        if let Some(info) = self.models.get(up.model) {
            attrs.push(info.model_attr());
        }
        t.skips.push(Event {
            time: now(),
            name: "switchyard.target_skipped",
            attrs,
        });
    }

    fn on_attempt_end(&self, cx: &mut RequestCtx, up: &UpstreamRequest, res: &AttemptResult) {
        let t = self.trace(cx);
        if let Some(a) = t.pending(up.model) {
            a.end = now();
            a.result = Some(res.clone());
        }
        t.last_failure = failure_type(res);
    }

    fn on_response_chunk(
        &self,
        cx: &mut RequestCtx,
        chunk: &mut Bytes,
        _end: bool,
    ) -> Result<(), GatewayError> {
        if let Some(t) = cx.slots.get_mut::<Trace>() {
            if t.sampled {
                t.finish.scan(chunk);
            }
        }
        Ok(())
    }

    fn on_complete(&self, cx: &RequestCtx, outcome: &Outcome) {
        // A request refused before any hook of this filter ran has no trace yet.
        let started;
        let t = match cx.slots.get::<Trace>() {
            Some(t) => t,
            None => {
                started = Trace::start(cx, &self.otlp.sampler);
                &started
            }
        };
        if !t.sampled {
            return;
        }
        let records = spans::records(t, cx, outcome, &self.models);
        self.exporter.submit(records);
    }

    fn activate(&self) {
        self.exporter.configure(&self.otlp);
    }

    /// Sends what is queued before the process exits.
    async fn on_shutdown(&self) {
        self.exporter.flush().await;
    }

    fn observes_every_request(&self) -> bool {
        true
    }
}
