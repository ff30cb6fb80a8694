//! One request's trace as the hooks fill it in: the server span's ids and the caller's
//! context, each upstream attempt, targets passed over, and what the answer said.

use std::sync::Arc;
use std::time::SystemTime;

use switchyard_filter::{AttemptResult, RequestCtx};
use switchyard_telemetry::context::{parse_traceparent, valid_tracestate, RemoteParent};
use switchyard_telemetry::{sampler, unix_nanos, Event, SpanId, TraceId};
use switchyard_wire::ChatRequest;

use super::finish::FinishReasons;
use switchyard_config::Sampler;

/// One upstream attempt's span.
#[derive(Debug)]
pub(super) struct AttemptSpan {
    pub span_id: SpanId,
    /// Index into `Config::models`.
    pub model: usize,
    /// 1-based, counting requests sent.
    pub number: u32,
    pub start: u64,
    pub end: u64,
    /// How it ended; `None` while under way (or if it was never sent).
    pub result: Option<AttemptResult>,
    /// The breaker admitted it as a half-open probe (`None`: no breaker in the chain).
    pub probe: Option<bool>,
    /// Why the attempt before it failed.
    pub failover_reason: Option<&'static str>,
}

/// The request's parameters the GenAI conventions name.
#[derive(Debug, Default)]
pub(super) struct Asked {
    /// The `model` the client sent.
    pub model: Option<String>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
}

/// The per-request slot.
#[derive(Debug)]
pub(super) struct Trace {
    pub trace_id: TraceId,
    /// The server span.
    pub span_id: SpanId,
    pub parent: Option<RemoteParent>,
    pub trace_state: Option<Arc<str>>,
    pub sampled: bool,
    /// When the request arrived, Unix nanoseconds.
    pub start: u64,
    pub asked: Option<Asked>,
    pub attempts: Vec<AttemptSpan>,
    pub skips: Vec<Event>,
    pub finish: FinishReasons,
    /// `error.type` of the last failed attempt: the next one's failover reason.
    pub last_failure: Option<&'static str>,
}

impl Trace {
    /// The trace a request joins: its caller's (one valid `traceparent`), else a new one.
    pub fn start(cx: &RequestCtx, sampler: &Sampler) -> Self {
        let mut values = cx.headers.get_all("traceparent").iter();
        let parent = match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().ok().and_then(parse_traceparent),
            _ => None,
        };
        let trace_state = parent
            .and_then(|_| cx.header("tracestate"))
            .filter(|v| valid_tracestate(v))
            .map(Arc::from);
        let trace_id = parent.map_or_else(TraceId::random, |p| p.trace_id);
        let sampled = sampler::sampled(sampler, parent.as_ref(), &trace_id);
        let start = SystemTime::now()
            .checked_sub(cx.started.elapsed())
            .map_or(0, unix_nanos);
        Self {
            trace_id,
            span_id: SpanId::random(),
            parent,
            trace_state,
            sampled,
            start,
            asked: None,
            attempts: Vec::new(),
            skips: Vec::new(),
            finish: FinishReasons::default(),
            last_failure: None,
        }
    }

    /// Notes the client's model and sampling parameters once.
    pub fn ask(&mut self, req: &ChatRequest) {
        if self.asked.is_some() || !self.sampled {
            return;
        }
        let sampling = sampling(req);
        self.asked = Some(Asked {
            model: Some(req.model.clone()),
            max_tokens: req.max_output_tokens,
            temperature: sampling.temperature,
            top_p: sampling.top_p,
        });
    }

    /// The attempt at `model` that is under way, if any.
    pub fn pending(&mut self, model: usize) -> Option<&mut AttemptSpan> {
        self.attempts
            .last_mut()
            .filter(|a| a.model == model && a.result.is_none())
    }
}

/// The client's sampling parameters.
#[derive(Debug, Default, serde::Deserialize)]
struct Sampling {
    temperature: Option<f64>,
    top_p: Option<f64>,
}

/// Reads `temperature` and `top_p` without building the request's DOM when it has not been
/// built: the client's bytes are scanned for the two members, and only when one is there.
fn sampling(req: &ChatRequest) -> Sampling {
    if !req.has_member("temperature") && !req.has_member("top_p") {
        return Sampling::default();
    }
    match req.raw_bytes() {
        Some(raw) => serde_json::from_slice(raw).unwrap_or_default(),
        None => {
            let num = |k: &str| req.body().get(k).and_then(|v| v.as_f64());
            Sampling {
                temperature: num("temperature"),
                top_p: num("top_p"),
            }
        }
    }
}

/// `error.type` of a failed attempt: the status code, or what went wrong.
pub(super) fn failure_type(res: &AttemptResult) -> Option<&'static str> {
    match res {
        AttemptResult::Status(s) if (200..400).contains(s) => None,
        AttemptResult::Status(s) => Some(status_str(*s)),
        AttemptResult::ConnectError => Some("connect_error"),
        AttemptResult::Timeout => Some("timeout"),
        AttemptResult::Malformed => Some("malformed_response"),
    }
}

/// Status codes as static text (the ones gateways meet; others are `_OTHER`, as the HTTP
/// conventions spell an unknown value).
pub(super) fn status_str(s: u16) -> &'static str {
    match s {
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        408 => "408",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        499 => "499",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        529 => "529",
        _ => "_OTHER",
    }
}
