//! The forwarding loop: try the route's targets in order, re-translating the request for each,
//! until one answers. Nothing reaches the client before the answer is known to be good — a
//! whole JSON body, or a stream's first translated event — so any failure before that moves
//! on to the next target. After the first byte, an upstream failure ends the stream with an
//! error event in the client's format, never a silent truncation.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora_core::connectors::http::Connector;
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::protocols::http::ServerSession;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_http::ResponseHeader;
use switchyard_filter::{
    AttemptFlow, AttemptResult, Chain, ErrorKind, FailedAttempt, GatewayError, Outcome, RequestCtx,
    ResponseHead, RetryDecision, UpstreamRequest,
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

/// What the failed attempts of one request came to, for the error the client gets.
#[derive(Default)]
struct Tally {
    failures: Vec<String>,
    sent: u32,
    timeouts: u32,
    limited: u32,
    /// The shortest `retry-after` a rate-limited target asked for.
    retry_after: Option<Duration>,
}

impl Tally {
    fn into_error(self) -> GatewayError {
        let summary = self.failures.join("; ");
        if self.sent == 0 && self.timeouts == 0 {
            GatewayError::NoTargetAvailable(summary)
        } else if self.sent > 0 && self.limited == self.sent {
            GatewayError::RateLimited {
                message: format!("every target is rate limited: {summary}"),
                code: ErrorKind::RateLimitExceeded,
                retry_after: self.retry_after.unwrap_or(Duration::from_secs(1)),
            }
        } else if self.timeouts > 0 && self.timeouts >= self.sent {
            GatewayError::UpstreamTimeout(summary)
        } else {
            GatewayError::UpstreamFailed(summary)
        }
    }
}

/// `retry-after-ms` (OpenAI) or `retry-after` in seconds; an HTTP-date is not honoured.
fn retry_after(head: &ResponseHeader) -> Option<Duration> {
    let get = |name: &str| {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    get("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after"))
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// The next target of the plan at `position`, read afresh: retry hooks may append to it.
fn target_at(cx: &RequestCtx, position: usize) -> Option<usize> {
    cx.route.as_ref()?.targets.get(position).copied()
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
    if cx.route.is_none() {
        return fail(
            session,
            cx,
            GatewayError::Internal("no route was chosen".into()),
        )
        .await;
    }
    if let Err(e) = chain.on_plan(cx, req) {
        return fail(session, cx, e).await;
    }
    let config = snapshot.config.clone();
    let mut tally = Tally::default();
    let pruned = cx
        .route
        .as_mut()
        .map(|r| std::mem::take(&mut r.pruned))
        .unwrap_or_default();
    for (target, reason) in pruned {
        tracing::info!(request_id = %cx.request_id, model = %config.models[target].id, reason, "target skipped");
        chain.on_attempt_skipped(cx, &UpstreamRequest::new(target), reason);
        tally
            .failures
            .push(format!("{}: skipped ({reason})", config.models[target].id));
    }
    let total = target_at(cx, 0)
        .map(|m| {
            snapshot.upstreams[config.models[m].provider]
                .timeouts()
                .total
        })
        .unwrap_or_default();
    let deadline = cx.started + total;
    let mut position = 0;
    while let Some(target) = target_at(cx, position) {
        position += 1;
        if let Some(r) = cx.route.as_mut() {
            r.tried = position;
        }
        let model = &config.models[target];
        if Instant::now() >= deadline {
            tally
                .failures
                .push(format!("{}: total deadline passed", model.id));
            tally.timeouts += 1;
            break;
        }
        let mut up = UpstreamRequest::new(target);
        match chain.on_upstream_request(cx, req, &mut up) {
            Err(e) => return fail(session, cx, e).await,
            Ok(AttemptFlow::Skip(reason)) => {
                tracing::info!(request_id = %cx.request_id, model = %model.id, reason, "target skipped");
                chain.on_attempt_skipped(cx, &up, reason);
                tally
                    .failures
                    .push(format!("{}: skipped ({reason})", model.id));
                continue;
            }
            Ok(AttemptFlow::Send) => {}
        }
        cx.answer.attempts += 1;
        cx.answer.model = Some(target);
        tally.sent += 1;
        let upstream = &snapshot.upstreams[model.provider];
        let started = Instant::now();
        let answer = upstream.send(connector, &up, deadline).await;
        cx.answer.upstream_time += started.elapsed();
        let failed = match answer {
            Err(e) => {
                tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, error = %e, "upstream attempt failed");
                if matches!(e, AttemptError::Timeout(_)) {
                    tally.timeouts += 1;
                }
                tally.failures.push(format!("{}: {e}", model.id));
                FailedAttempt {
                    result: e.result(),
                    retry_after: None,
                }
            }
            Ok((usession, peer, head)) => {
                let status = head.status.as_u16();
                let result = AttemptResult::Status(status);
                if (300..400).contains(&status) {
                    // A provider API never redirects; relaying it would send the client away
                    // from the gateway, so it counts as an unusable reply (failover, else 502).
                    tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, status, "upstream answered with a redirect");
                    tally
                        .failures
                        .push(format!("{}: redirect (HTTP {status})", model.id));
                    FailedAttempt {
                        result: AttemptResult::Malformed,
                        retry_after: None,
                    }
                } else if result.is_retryable() {
                    tracing::warn!(request_id = %cx.request_id, model = %model.id, attempt = cx.answer.attempts, status, "upstream answered with a retryable status");
                    tally.failures.push(format!("{}: HTTP {status}", model.id));
                    let after = retry_after(&head);
                    if status == 429 {
                        tally.limited += 1;
                        tally.retry_after = match (tally.retry_after, after) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    FailedAttempt {
                        result,
                        retry_after: after,
                    }
                } else {
                    let first_byte_by = started + upstream.timeouts().first_byte;
                    let relayed = relay(
                        connector,
                        upstream,
                        session,
                        cx,
                        chain,
                        usession,
                        peer,
                        &head,
                        (first_byte_by, deadline),
                    )
                    .await;
                    match relayed {
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
                                tally.timeouts += 1;
                            }
                            tally.failures.push(format!("{}: {why}", model.id));
                            FailedAttempt {
                                result: res,
                                retry_after: None,
                            }
                        }
                    }
                }
            }
        };
        chain.on_attempt_end(cx, &up, &failed.result);
        match chain.on_attempt_failed(cx, &up, &failed) {
            RetryDecision::Next => {}
            RetryDecision::Backoff(wait) => {
                if target_at(cx, position).is_some() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    tokio::time::sleep(wait.min(left)).await;
                }
            }
            RetryDecision::Stop(why) => {
                tracing::info!(request_id = %cx.request_id, reason = why, "no further attempts");
                tally.failures.push(format!("no further attempts: {why}"));
                break;
            }
        }
    }
    fail(session, cx, tally.into_error()).await
}

/// Upstream response headers worth passing on.
fn passed_headers(head: &ResponseHeader) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    if let Some(v) = head.headers.get("retry-after") {
        out.push((HeaderName::from_static("retry-after"), v.clone()));
    }
    // Bedrock's error type, for the translate filter (which keeps it from the client).
    if let Some(v) = head.headers.get("x-amzn-errortype") {
        out.push((HeaderName::from_static("x-amzn-errortype"), v.clone()));
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
    (first_byte_by, deadline): (Instant, Instant),
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
    // Until the first body byte arrives the `first_byte` deadline (time to first token)
    // bounds the wait; after it, `idle` bounds each silence. `total` bounds both.
    let mut got_body = false;
    // A whole (non-streaming) answer is held until it is complete: cap what that may cost.
    let cap = if cx.streaming {
        u64::MAX
    } else {
        cx.config.server.max_response_bytes
    };
    let mut received: u64 = 0;
    loop {
        let now = Instant::now();
        let gap = if got_body {
            idle
        } else {
            first_byte_by.saturating_duration_since(now)
        };
        let wait = gap.min(deadline.saturating_duration_since(now));
        let read = tokio::time::timeout(wait, usession.read_response_body()).await;
        cx.answer.upstream_time += now.elapsed();
        let failure = match read {
            Err(_) if Instant::now() >= deadline => {
                Some((AttemptResult::Timeout, "total deadline passed"))
            }
            Err(_) if !got_body => Some((AttemptResult::Timeout, "no data within first_byte")),
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
                got_body |= !b.is_empty();
                let end = usession.response_done();
                (b, end)
            }
            _ => (Bytes::new(), true),
        };
        received = received.saturating_add(chunk.len() as u64);
        if received > cap {
            let why = format!("the answer is larger than server.max_response_bytes ({cap} bytes)");
            if pending.is_some() {
                return Relay::Failover(AttemptResult::Malformed, why);
            }
            return stream_failed(session, cx, outcome, &why).await;
        }
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
        outcome.error_kind = Some(ErrorKind::StreamInterrupted);
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
    outcome.error_kind = Some(ErrorKind::StreamInterrupted);
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
