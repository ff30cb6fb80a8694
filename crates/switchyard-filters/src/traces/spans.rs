//! A finished request's trace as OTLP span records: a server span for the request, and a
//! client span under it for each upstream attempt, with the GenAI semantic conventions'
//! attributes and the gateway's own (`switchyard.*`).

use std::sync::Arc;
use std::time::SystemTime;

use switchyard_config::Config;
use switchyard_filter::{AttemptResult, Endpoint, Outcome, RequestCtx};
use switchyard_telemetry::context::SAMPLED;
use switchyard_telemetry::{unix_nanos, Attr, SpanKind, SpanRecord, Status, Text, Value};

use super::state::{failure_type, status_str, AttemptSpan, Trace};
use crate::genai;

/// What a span says about one deployment, shared by every request on one config.
#[derive(Debug)]
pub(super) struct ModelInfo {
    id: Arc<str>,
    upstream: Arc<str>,
    provider_id: Arc<str>,
    provider_name: Arc<str>,
    server_address: Arc<str>,
    server_port: i64,
    /// `chat {model}` and `embeddings {model}`: the GenAI span names.
    chat_span: Arc<str>,
    embeddings_span: Arc<str>,
}

impl ModelInfo {
    /// `switchyard.model` = the deployment's id.
    pub(super) fn model_attr(&self) -> Attr {
        Attr::new("switchyard.model", self.id.clone())
    }
}

/// The table for `config`, built when its chain is.
pub(super) fn model_infos(config: &Config) -> Vec<ModelInfo> {
    config
        .models
        .iter()
        .map(|m| {
            let p = &config.providers[m.provider];
            ModelInfo {
                id: Arc::from(m.id.as_str()),
                upstream: Arc::from(m.upstream_model.as_str()),
                provider_id: Arc::from(p.id.as_str()),
                provider_name: Arc::from(genai::provider_name(p).as_ref()),
                server_address: Arc::from(p.base_url.host_str().unwrap_or_default()),
                server_port: i64::from(p.base_url.port_or_known_default().unwrap_or(443)),
                chat_span: Arc::from(format!("chat {}", m.upstream_model)),
                embeddings_span: Arc::from(format!("embeddings {}", m.upstream_model)),
            }
        })
        .collect()
}

/// The request span's name (the HTTP conventions' `{method} {route}`, or `HTTP` when neither
/// is known), its method and its route.
fn server_span_name(endpoint: Endpoint) -> (&'static str, &'static str, Option<&'static str>) {
    match endpoint {
        Endpoint::ChatCompletions => (
            "POST /v1/chat/completions",
            "POST",
            Some("/v1/chat/completions"),
        ),
        Endpoint::Messages => ("POST /v1/messages", "POST", Some("/v1/messages")),
        Endpoint::Embeddings => ("POST /v1/embeddings", "POST", Some("/v1/embeddings")),
        Endpoint::Responses => ("POST /v1/responses", "POST", Some("/v1/responses")),
        Endpoint::CountTokens => (
            "POST /v1/messages/count_tokens",
            "POST",
            Some("/v1/messages/count_tokens"),
        ),
        Endpoint::Models => ("GET /v1/models", "GET", Some("/v1/models")),
        Endpoint::Unknown => ("HTTP", "_OTHER", None),
    }
}

/// Attributes of the answer that both the request span and the answering attempt carry.
fn answer_attrs(t: &Trace, cx: &RequestCtx, out: &mut Vec<Attr>) {
    if let Some(u) = &cx.usage {
        out.push(Attr::new("gen_ai.usage.input_tokens", u.prompt_tokens));
        out.push(Attr::new("gen_ai.usage.output_tokens", u.completion_tokens));
        if u.cached_tokens > 0 {
            out.push(Attr::new(
                "gen_ai.usage.cache_read.input_tokens",
                u.cached_tokens,
            ));
        }
        if u.cache_write_tokens > 0 {
            out.push(Attr::new(
                "gen_ai.usage.cache_creation.input_tokens",
                u.cache_write_tokens,
            ));
        }
    }
    if !t.finish.found.is_empty() {
        out.push(Attr::new(
            "gen_ai.response.finish_reasons",
            Value::Strs(t.finish.found.clone()),
        ));
    }
}

/// The client's sampling parameters.
fn asked_attrs(t: &Trace, out: &mut Vec<Attr>) {
    let Some(a) = &t.asked else {
        return;
    };
    if let Some(n) = a.max_tokens {
        out.push(Attr::new("gen_ai.request.max_tokens", n));
    }
    if let Some(x) = a.temperature {
        out.push(Attr::new("gen_ai.request.temperature", x));
    }
    if let Some(x) = a.top_p {
        out.push(Attr::new("gen_ai.request.top_p", x));
    }
}

/// The request's spans, the server span last.
pub(super) fn records(
    t: &Trace,
    cx: &RequestCtx,
    outcome: &Outcome,
    models: &[ModelInfo],
) -> Vec<SpanRecord> {
    let now = unix_nanos(SystemTime::now());
    let flags = if t.sampled { SAMPLED } else { 0 };
    let op = genai::operation_name(cx.endpoint);
    let answered = outcome.status < 400 && !outcome.truncated;
    // The attempt that answered: the last one sent, if the request succeeded.
    let answering = t
        .attempts
        .iter()
        .rposition(|a| a.result.is_some())
        .filter(|_| answered);
    let mut out = Vec::with_capacity(t.attempts.len() + 1);
    for (i, a) in t.attempts.iter().enumerate() {
        let Some(info) = models.get(a.model) else {
            continue;
        };
        let Some(result) = &a.result else {
            continue;
        };
        let mut attrs = Vec::with_capacity(16);
        attrs.push(Attr::new("gen_ai.operation.name", op));
        attrs.push(Attr::new(
            "gen_ai.provider.name",
            info.provider_name.clone(),
        ));
        attrs.push(Attr::new("gen_ai.request.model", info.upstream.clone()));
        attrs.push(Attr::new("server.address", info.server_address.clone()));
        attrs.push(Attr::new("server.port", info.server_port));
        asked_attrs(t, &mut attrs);
        attempt_attrs(a, info, result, &mut attrs);
        let mut status = Status::Unset;
        if let Some(err) = failure_type(result) {
            attrs.push(Attr::new("error.type", err));
            status = Status::Error(err.to_owned());
        }
        if answering == Some(i) {
            attrs.push(Attr::new("gen_ai.response.model", info.upstream.clone()));
            answer_attrs(t, cx, &mut attrs);
        }
        let name = if op == "embeddings" {
            &info.embeddings_span
        } else {
            &info.chat_span
        };
        out.push(SpanRecord {
            trace_id: t.trace_id,
            span_id: a.span_id,
            parent: Some(t.span_id),
            parent_remote: false,
            trace_state: t.trace_state.clone(),
            flags,
            name: Text::Shared(name.clone()),
            kind: SpanKind::Client,
            start: a.start,
            end: a.end.max(a.start),
            attrs,
            events: Vec::new(),
            status,
        });
    }
    out.push(server_span(t, cx, outcome, models, answered, now));
    out
}

fn attempt_attrs(a: &AttemptSpan, info: &ModelInfo, result: &AttemptResult, out: &mut Vec<Attr>) {
    out.push(Attr::new("switchyard.model", info.id.clone()));
    out.push(Attr::new("switchyard.provider", info.provider_id.clone()));
    out.push(Attr::new("switchyard.attempt", i64::from(a.number)));
    if let AttemptResult::Status(s) = result {
        out.push(Attr::new("http.response.status_code", i64::from(*s)));
    }
    if let Some(probe) = a.probe {
        let state = if probe { "half_open" } else { "closed" };
        out.push(Attr::new("switchyard.breaker.state", state));
    }
    if let Some(why) = a.failover_reason {
        out.push(Attr::new("switchyard.failover.reason", why));
    }
}

fn server_span(
    t: &Trace,
    cx: &RequestCtx,
    outcome: &Outcome,
    models: &[ModelInfo],
    answered: bool,
    now: u64,
) -> SpanRecord {
    let mut attrs = Vec::with_capacity(24);
    let (name, method, route) = server_span_name(cx.endpoint);
    attrs.push(Attr::new("http.request.method", method));
    if let Some(route) = route {
        attrs.push(Attr::new("http.route", route));
    }
    attrs.push(Attr::new(
        "http.response.status_code",
        i64::from(outcome.status),
    ));
    attrs.push(Attr::new(
        "gen_ai.operation.name",
        genai::operation_name(cx.endpoint),
    ));
    let asked_model = t.asked.as_ref().and_then(|a| a.model.clone());
    if let Some(m) = asked_model.or_else(|| cx.route.as_ref().map(|r| r.name.to_string())) {
        attrs.push(Attr::new("gen_ai.request.model", m));
    }
    asked_attrs(t, &mut attrs);
    let model = cx.answer.model.and_then(|m| models.get(m));
    if let Some(info) = model {
        attrs.push(Attr::new(
            "gen_ai.provider.name",
            info.provider_name.clone(),
        ));
        if answered {
            attrs.push(Attr::new("gen_ai.response.model", info.upstream.clone()));
            attrs.push(Attr::new("switchyard.model", info.id.clone()));
        }
    }
    if answered {
        answer_attrs(t, cx, &mut attrs);
    }
    attrs.push(Attr::new("switchyard.request_id", cx.request_id.clone()));
    if let Some(r) = &cx.route {
        attrs.push(Attr::new("switchyard.route", r.name.to_string()));
    }
    if let Some(k) = &cx.key_id {
        attrs.push(Attr::new("switchyard.key_id", k.to_string()));
    }
    attrs.push(Attr::new(
        "switchyard.attempts",
        i64::from(cx.answer.attempts),
    ));
    attrs.push(Attr::new("switchyard.stream", cx.streaming));
    let error = outcome
        .error_kind
        .map(|k| k.as_str())
        .or_else(|| (outcome.status >= 400).then(|| status_str(outcome.status)));
    if let Some(e) = error {
        attrs.push(Attr::new("error.type", e));
    }
    // A server span is an error for a 5xx or a cut stream; a 4xx is the client's doing.
    let status = if outcome.truncated {
        Status::Error(
            cx.stream_error
                .clone()
                .unwrap_or_else(|| "stream interrupted".into()),
        )
    } else if outcome.status >= 500 {
        Status::Error(error.unwrap_or("server error").to_owned())
    } else {
        Status::Unset
    };
    SpanRecord {
        trace_id: t.trace_id,
        span_id: t.span_id,
        parent: t.parent.map(|p| p.span_id),
        parent_remote: t.parent.is_some(),
        trace_state: t.trace_state.clone(),
        flags: if t.sampled { SAMPLED } else { 0 },
        name: Text::Static(name),
        kind: SpanKind::Server,
        start: t.start,
        end: now.max(t.start),
        attrs,
        events: t.skips.clone(),
        status,
    }
}
