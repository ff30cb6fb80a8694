//! The forwarding loop: try the route's targets in order, re-translating the request for each,
//! until one answers. Nothing reaches the client before the answer is known to be good — a
//! whole JSON body, or a stream's first translated event — so any failure before that moves
//! on to the next target. After the first byte, an upstream failure ends the stream with an
//! error event in the client's format, never a silent truncation.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora_core::connectors::http::Connector;
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::protocols::http::ServerSession;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_http::ResponseHeader;
use switchyard_filter::{
    AttemptFlow, AttemptResult, Chain, GatewayError, Outcome, RequestCtx, ResponseHead,
    UpstreamRequest,
};
use switchyard_wire::{stream_error_event, ChatRequest, ErrorBody};

use crate::gateway::outcome_of;
use crate::respond::{self, ClientGone};
use crate::snapshot::Snapshot;
use crate::upstream::{AttemptError, Upstream};

/// How a request ended, or that the client went away.
pub type Finished = Result<Outcome, (ClientGone, Outcome)>;

/// What relaying one upstream answer came to.
enum Relay {
    /// The answer (good or a client-fault error) reached the client.
    Done(Outcome),
    /// It failed before anything reached the client: try the next target.
    Failover(AttemptResult, String),
    /// The client went away.
    Gone(Outcome),
}

/// Writes `e` and returns the request's outcome.
async fn fail(session: &mut ServerSession, cx: &RequestCtx, e: GatewayError) -> Finished {
    let outcome = outcome_of(&e);
    match respond::error(session, cx, &e).await {
        Ok(()) => Ok(outcome),
        Err(g) => Err((g, outcome)),
    }
}

/// Runs the attempt loop for a request whose chain said `Continue`.
pub async fn forward(
    connector: &Connector,
    snapshot: &Snapshot,
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    req: &ChatRequest,
) -> Finished {
    let chain = &snapshot.chain;
    let Some(targets) = cx.route.as_ref().map(|r| r.targets.clone()) else {
        return fail(
            session,
            cx,
            GatewayError::Internal("no route was chosen".into()),
        )
        .await;
    };
    let config = snapshot.config.clone();
    let total = targets
        .first()
        .map(|&m| {
            snapshot.upstreams[config.models[m].provider]
                .timeouts()
                .total
        })
        .unwrap_or_default();
    let deadline = cx.started + total;
    let mut failures: Vec<String> = Vec::new();
    let (mut sent, mut timeouts, mut limited) = (0u32, 0u32, 0u32);
    for &target in &targets {
        let model = &config.models[target];
        if Instant::now() >= deadline {
            failures.push(format!("{}: total deadline passed", model.id));
            timeouts += 1;
            break;
        }
        let mut up = UpstreamRequest::new(target);
        match chain.on_upstream_request(cx, req, &mut up) {
            Err(e) => return fail(session, cx, e).await,
            Ok(AttemptFlow::Skip(reason)) => {
                tracing::info!(request_id = %cx.request_id, model = %model.id, reason, "target skipped");
                failures.push(format!("{}: skipped ({reason})", model.id));
                continue;
            }
            Ok(AttemptFlow::Send) => {}
        }
        cx.answer.attempts += 1;
        cx.answer.model = Some(target);
        sent += 1;
        let upstream = &snapshot.upstreams[model.provider];
        let started = Instant::now();
        let answer = upstream.send(connector, &up, deadline).await;
        cx.answer.upstream_time += started.elapsed();
        let (usession, peer, head) = match answer {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, error = %e, "upstream attempt failed");
                if matches!(e, AttemptError::Timeout(_)) {
                    timeouts += 1;
                }
                chain.on_attempt_end(cx, &up, &e.result());
                failures.push(format!("{}: {e}", model.id));
                continue;
            }
        };
        let status = head.status.as_u16();
        let result = AttemptResult::Status(status);
        if result.is_retryable() {
            tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, status, "upstream answered with a retryable status");
            chain.on_attempt_end(cx, &up, &result);
            failures.push(format!("{}: HTTP {status}", model.id));
            if status == 429 {
                limited += 1;
            }
            continue;
        }
        let relay = relay(
            connector, upstream, session, cx, chain, usession, peer, &head, deadline,
        )
        .await;
        match relay {
            Relay::Done(outcome) => {
                chain.on_attempt_end(cx, &up, &result);
                return Ok(outcome);
            }
            Relay::Gone(outcome) => {
                chain.on_attempt_end(cx, &up, &result);
                return Err((ClientGone, outcome));
            }
            Relay::Failover(res, why) => {
                tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, error = %why, "upstream reply unusable");
                if res == AttemptResult::Timeout {
                    timeouts += 1;
                }
                chain.on_attempt_end(cx, &up, &res);
                failures.push(format!("{}: {why}", model.id));
            }
        }
    }
    let summary = failures.join("; ");
    let e = if sent == 0 && timeouts == 0 {
        GatewayError::NoTargetAvailable(summary)
    } else if sent > 0 && limited == sent {
        GatewayError::RateLimited {
            message: format!("every target is rate limited: {summary}"),
            code: "rate_limit_exceeded",
            retry_after: std::time::Duration::from_secs(1),
        }
    } else if timeouts > 0 && timeouts >= sent {
        GatewayError::UpstreamTimeout(summary)
    } else {
        GatewayError::UpstreamFailed(summary)
    };
    fail(session, cx, e).await
}

/// Upstream response headers worth passing on.
fn passed_headers(head: &ResponseHeader) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    if let Some(v) = head.headers.get("retry-after") {
        out.push((HeaderName::from_static("retry-after"), v.clone()));
    }
    out
}

/// Relays one upstream answer through the response hooks to the client.
#[allow(clippy::too_many_arguments)]
async fn relay(
    connector: &Connector,
    upstream: &Upstream,
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    chain: &Chain,
    mut usession: HttpSession,
    peer: HttpPeer,
    upstream_head: &ResponseHeader,
    deadline: Instant,
) -> Relay {
    let status = upstream_head.status.as_u16();
    let mut head = ResponseHead {
        status,
        headers: passed_headers(upstream_head),
    };
    if let Err(e) = chain.on_response_head(cx, &mut head) {
        return done_with_error(session, cx, e).await;
    }
    let idle = upstream.timeouts().idle;
    let mut pending = Some(head);
    let mut outcome = Outcome {
        status,
        error_kind: None,
        truncated: false,
    };
    loop {
        let wait = idle.min(deadline.saturating_duration_since(Instant::now()));
        let t = Instant::now();
        let read = tokio::time::timeout(wait, usession.read_response_body()).await;
        cx.answer.upstream_time += t.elapsed();
        let failure = match read {
            Err(_) if Instant::now() >= deadline => {
                Some((AttemptResult::Timeout, "total deadline passed"))
            }
            Err(_) => Some((AttemptResult::Timeout, "no data within the idle timeout")),
            Ok(Err(_)) => Some((AttemptResult::Malformed, "connection reset mid-body")),
            Ok(Ok(_)) => None,
        };
        if let Some((res, why)) = failure {
            if pending.is_some() {
                return Relay::Failover(res, why.to_string());
            }
            return stream_failed(session, cx, outcome, why).await;
        }
        let (mut chunk, end) = match read {
            Ok(Ok(Some(b))) => {
                let end = usession.response_done();
                (b, end)
            }
            _ => (Bytes::new(), true),
        };
        if let Err(e) = chain.on_response_chunk(cx, &mut chunk, end) {
            if pending.is_some() {
                return Relay::Failover(AttemptResult::Malformed, e.to_string());
            }
            return stream_failed(session, cx, outcome, &e.to_string()).await;
        }
        if let Some(h) = pending.take_if(|_| !chunk.is_empty() || end) {
            cx.answer.ttft = Some(cx.started.elapsed());
            let Ok(mut rh) = respond::head(cx, h.status) else {
                return Relay::Gone(outcome);
            };
            respond::extend(&mut rh, &h.headers);
            if end {
                if respond::whole(session, rh, chunk).await.is_err() {
                    return Relay::Gone(outcome);
                }
                break;
            }
            if !session.is_http2() {
                let _ = rh.insert_header("transfer-encoding", "chunked");
            }
            if session.write_response_header(Box::new(rh)).await.is_err() {
                return Relay::Gone(outcome);
            }
        }
        if (!chunk.is_empty() || end) && session.write_response_body(chunk, end).await.is_err() {
            return Relay::Gone(outcome);
        }
        if end {
            break;
        }
    }
    if let Some(msg) = &cx.stream_error {
        tracing::warn!(request_id = %cx.request_id, error = %msg, "upstream stream failed after the first byte");
        outcome.truncated = true;
        outcome.error_kind = Some("stream_interrupted");
    }
    if usession.response_done() {
        connector
            .release_http_session(usession, &peer, Some(upstream.timeouts().idle))
            .await;
    }
    Relay::Done(outcome)
}

/// Ends a stream whose upstream failed after the first byte: an error event in the client's
/// format, then the end of the body.
async fn stream_failed(
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    mut outcome: Outcome,
    why: &str,
) -> Relay {
    let message = format!("the upstream failed mid-stream: {why}");
    tracing::warn!(request_id = %cx.request_id, error = %message, "stream cut");
    let event = stream_error_event(
        cx.client_dialect,
        &ErrorBody {
            status: 502,
            kind: "server_error",
            code: Some("upstream_stream_interrupted"),
            param: None,
            message: &message,
        },
    );
    cx.stream_error = Some(message);
    outcome.truncated = true;
    outcome.error_kind = Some("stream_interrupted");
    if session
        .write_response_body(Bytes::from(event), true)
        .await
        .is_err()
    {
        return Relay::Gone(outcome);
    }
    Relay::Done(outcome)
}

async fn done_with_error(session: &mut ServerSession, cx: &RequestCtx, e: GatewayError) -> Relay {
    match fail(session, cx, e).await {
        Ok(o) => Relay::Done(o),
        Err((_, o)) => Relay::Gone(o),
    }
}
