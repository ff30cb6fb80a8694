//! The attempt driver: the I/O around the attempt machine ([`Attempts`]). It tells the machine
//! what happened, with the time, and does what the machine says — send to a target, sleep out
//! a backoff, read the answer, commit it to the client, forward the rest, cut a failed stream
//! with an error event in the client's format, or answer with the final error. Every decision
//! (failover order, deadlines, backoff, the first-byte commit, the final error) is the
//! machine's, and is unit-tested there.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use switchyard_filter::{
    Action, Attempts, Deadlines, ErrorKind, Event, Failure, GatewayError, Outcome, RequestCtx,
    ResponseHead,
};
use switchyard_wire::{stream_error_event, ChatRequest, ErrorBody};

use crate::chain_hooks::ChainHooks;
use crate::cork::Corked;
use crate::drain::Cut;
use crate::gateway::outcome_of;
use crate::pool::PeerKey;
use crate::respond::{self, ClientGone};
use crate::snapshot::Snapshot;
use crate::transport::Transport;
use crate::upstream::retry_after;

/// How a request ended, or that the client went away.
pub type Finished = Result<Outcome, (ClientGone, Outcome)>;

/// Writes `e` and returns the request's outcome.
async fn fail(session: &mut ServerSession, cx: &RequestCtx, e: GatewayError) -> Finished {
    let outcome = outcome_of(&e);
    match respond::error(session, cx, &e).await {
        Ok(()) => Ok(outcome),
        Err(g) => Err((g, outcome)),
    }
}

/// Runs the attempt loop for a request whose chain said `Continue`. Once `cut` resolves (the
/// shutdown grace is over) the request ends at once: see [`shut`].
pub async fn forward(
    transport: &Transport,
    snapshot: &Snapshot,
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    req: &ChatRequest,
    cut_signal: &mut Cut,
) -> Finished {
    if cx.route.is_none() {
        let e = GatewayError::Internal("no route was chosen".into());
        return fail(session, cx, e).await;
    }
    if let Err(e) = snapshot.chain.on_plan(cx, req) {
        return fail(session, cx, e).await;
    }
    let pruned = cx
        .route
        .as_mut()
        .map(|r| std::mem::take(&mut r.pruned))
        .unwrap_or_default();
    let mut machine = Attempts::new(cx.started, pruned);
    let mut hooks = ChainHooks::new(snapshot, cx, req);
    let mut answer: Option<Answer> = None;
    let mut cut = false;
    let mut gone = false;
    let mut event = Event::Start;
    // Registered once for the whole request, not per read.
    let shutdown = cut_signal.wait();
    tokio::pin!(shutdown);
    loop {
        let action = machine.next(Instant::now(), event, &mut hooks);
        let cx = &mut *hooks.cx;
        event = match (action, answer.as_mut()) {
            (Action::Send { target, deadlines }, _) => {
                // The last attempt's connection is closed before the next one is opened.
                drop(answer.take());
                cx.answer.attempts += 1;
                cx.answer.model = Some(target);
                let sending = send(transport, snapshot, &mut hooks, target, &deadlines);
                let sent = tokio::select! {
                    sent = sending => Some(sent),
                    () = &mut shutdown => None,
                };
                let Some((sent, event)) = sent else {
                    return shut(session, hooks.cx, machine.committed(), machine.status()).await;
                };
                answer = sent;
                event
            }
            (Action::Wait(until), _) => {
                tokio::select! {
                    () = crate::timer::until(until) => Event::Timer,
                    () = &mut shutdown => return shut(session, cx, machine.committed(), machine.status()).await,
                }
            }
            (Action::Read(by), Some(a)) => {
                let read = tokio::select! {
                    event = a.read(snapshot, cx, by) => Some(event),
                    () = &mut shutdown => None,
                };
                match read {
                    Some(event) => event,
                    None => return shut(session, cx, machine.committed(), machine.status()).await,
                }
            }
            (Action::Commit, Some(a)) => a.commit(session, cx).await,
            (Action::Forward, Some(a)) => a.forward(session).await,
            (Action::Cut(why), _) => {
                cut = true;
                cut_stream(session, cx, &why).await
            }
            (Action::Finish, _) => {
                let status = machine.status().unwrap_or(500);
                return finish(transport, snapshot, cx, answer.take(), status, cut, gone).await;
            }
            (Action::Fail(e), _) => return fail(session, cx, e).await,
            (action, None) => {
                let e =
                    GatewayError::Internal(format!("attempt driver: {action:?} with no answer"));
                return fail(session, cx, e).await;
            }
        };
        gone |= matches!(event, Event::ClientGone);
    }
}

/// The answer of the attempt in flight.
struct Answer {
    session: HttpSession,
    /// Where the connection goes back when the answer was read to its end.
    key: PeerKey,
    provider: usize,
    /// Whether the response hooks have seen the upstream's head.
    hooked: bool,
    /// The head for the client once the hooks passed it; the commit writes it.
    reply: Option<ResponseHead>,
    /// What the hooks made of the last piece read, not yet written.
    chunk: Bytes,
    /// The last piece read was the end.
    end: bool,
    /// Body bytes read so far.
    received: u64,
}

/// Sends the prepared attempt at `target`: the answer to read, if a head came, and what
/// happened.
async fn send(
    transport: &Transport,
    snapshot: &Snapshot,
    hooks: &mut ChainHooks<'_>,
    target: usize,
    deadlines: &Deadlines,
) -> (Option<Answer>, Event) {
    let provider = snapshot.config.models[target].provider;
    let started = Instant::now();
    let sent = snapshot.upstreams[provider]
        .send(transport, &hooks.up, deadlines)
        .await;
    hooks.cx.answer.upstream_time += started.elapsed();
    match sent {
        Ok((session, key)) => {
            let Some(head) = session.response_header() else {
                let why = "upstream sent no response head".to_string();
                return (None, Event::Failed(Failure::Closed(why)));
            };
            let event = Event::Head {
                status: head.status.as_u16(),
                retry_after: retry_after(head),
            };
            let answer = Answer {
                session,
                key,
                provider,
                hooked: false,
                reply: None,
                chunk: Bytes::new(),
                end: false,
                received: 0,
            };
            (Some(answer), event)
        }
        Err(e) => (None, e.into_event()),
    }
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

impl Answer {
    /// Reads the next piece of the body by `by` and runs it through the response hooks (the
    /// head first, on the first read).
    async fn read(&mut self, snapshot: &Snapshot, cx: &mut RequestCtx, by: Instant) -> Event {
        let chain = &snapshot.chain;
        if !self.hooked {
            self.hooked = true;
            let Some(upstream_head) = self.session.response_header() else {
                return Event::Failed(Failure::Closed("upstream sent no response head".into()));
            };
            let mut head = ResponseHead {
                status: upstream_head.status.as_u16(),
                headers: passed_headers(upstream_head),
            };
            if let Err(e) = chain.on_response_head(cx, &mut head) {
                return Event::Refused(e);
            }
            self.reply = Some(head);
        }
        let started = Instant::now();
        let read = crate::timer::by(by, self.session.read_response_body()).await;
        cx.answer.upstream_time += started.elapsed();
        let (mut chunk, end) = match read {
            Err(_) => return Event::Timer,
            Ok(Err(_)) => return Event::Failed(Failure::Reset),
            Ok(Ok(Some(b))) => (b, self.session.response_done()),
            Ok(Ok(None)) => (Bytes::new(), true),
        };
        let received = !chunk.is_empty();
        self.received = self.received.saturating_add(chunk.len() as u64);
        // A whole (non-streaming) answer is held until it is complete: cap what that costs.
        let cap = if cx.streaming {
            u64::MAX
        } else {
            cx.config.server.max_response_bytes
        };
        if self.received > cap {
            let why = format!("the answer is larger than server.max_response_bytes ({cap} bytes)");
            return Event::Failed(Failure::Malformed(why));
        }
        if let Err(e) = chain.on_response_chunk(cx, &mut chunk, end) {
            return Event::Failed(Failure::Malformed(e.to_string()));
        }
        let output = !chunk.is_empty();
        self.chunk = chunk;
        self.end = end;
        Event::Body {
            received,
            output,
            end,
        }
    }

    /// Writes the response head with the output so far: the whole answer when it is complete,
    /// else the start of a chunked body.
    async fn commit(&mut self, session: &mut ServerSession, cx: &mut RequestCtx) -> Event {
        cx.answer.ttft = Some(cx.started.elapsed());
        let reply = self.reply.take().unwrap_or_else(|| ResponseHead {
            status: 502,
            headers: Vec::new(),
        });
        let Ok(mut head) = respond::head(cx, reply.status) else {
            return Event::ClientGone;
        };
        respond::extend(&mut head, &reply.headers);
        let chunk = std::mem::take(&mut self.chunk);
        if self.end {
            return written(respond::whole(session, head, chunk).await.is_ok());
        }
        if session.req_header().version == http::Version::HTTP_10 {
            // HTTP/1.0 has no chunked coding: the body ends when the connection closes.
            session.set_keepalive(None);
        } else if !session.is_http2() {
            let _ = head.insert_header("transfer-encoding", "chunked");
        }
        if !chunk.is_empty() {
            // The head leaves with the first chunk, in one write.
            hold(session);
        }
        if session.write_response_header(Box::new(head)).await.is_err() {
            return Event::ClientGone;
        }
        if chunk.is_empty() {
            return Event::Written;
        }
        written(session.write_response_body(chunk, false).await.is_ok())
    }

    /// Writes the output of the last piece (and the end of the body when it was the last).
    async fn forward(&mut self, session: &mut ServerSession) -> Event {
        let chunk = std::mem::take(&mut self.chunk);
        if chunk.is_empty() && !self.end {
            return Event::Written;
        }
        written(end_body(session, chunk, self.end).await)
    }
}

/// Holds back the client stream's next flush (see [`Corked::hold`]) when the connection is
/// corked and HTTP/1 (the only kind the API listener serves).
fn hold(session: &ServerSession) {
    if let Some(cork) = Corked::of(session) {
        cork.hold();
    }
}

/// Writes `chunk`, and the end of the body when `end`: then in one write.
async fn end_body(session: &mut ServerSession, chunk: Bytes, end: bool) -> bool {
    if end && !chunk.is_empty() {
        hold(session);
    }
    session.write_response_body(chunk, end).await.is_ok()
}

fn written(ok: bool) -> Event {
    if ok {
        Event::Written
    } else {
        Event::ClientGone
    }
}

/// Ends a stream whose upstream failed after the commit: an error event in the client's
/// format, then the end of the body.
async fn cut_stream(session: &mut ServerSession, cx: &mut RequestCtx, why: &Failure) -> Event {
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
    written(end_body(session, Bytes::from(event), true).await)
}

/// Ends a request still running when the shutdown grace is over. Nothing written yet: the
/// shutdown error (503 `shutting_down`) as the whole answer. A stream under way: an error
/// event in the client's format, then the end of the body; counted as a stream error of kind
/// `shutting_down` and metered with the usage the upstream reported so far. The upstream is
/// not blamed (no `stream_error`, so the breaker sees no failure).
async fn shut(
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    committed: bool,
    status: Option<u16>,
) -> Finished {
    let e = GatewayError::ShuttingDown;
    if !committed {
        return fail(session, cx, e).await;
    }
    tracing::warn!(request_id = %cx.request_id, error = %e, "stream ended by the shutdown");
    let message = e.to_string();
    let event = stream_error_event(
        cx.client_dialect,
        &ErrorBody {
            status: e.status(),
            kind: e.openai_type(),
            code: e.code(),
            param: None,
            message: &message,
        },
    );
    let outcome = Outcome {
        status: status.unwrap_or(200),
        error_kind: Some(e.kind()),
        truncated: true,
    };
    match end_body(session, Bytes::from(event), true).await {
        true => Ok(outcome),
        false => Err((ClientGone, outcome)),
    }
}

/// The request's outcome once the machine says it is over; a cleanly finished upstream
/// connection goes back to the pool.
async fn finish(
    transport: &Transport,
    snapshot: &Snapshot,
    cx: &RequestCtx,
    answer: Option<Answer>,
    status: u16,
    cut: bool,
    gone: bool,
) -> Finished {
    let mut outcome = Outcome {
        status,
        error_kind: None,
        truncated: false,
    };
    if cut {
        outcome.truncated = true;
        outcome.error_kind = Some(ErrorKind::StreamInterrupted);
    }
    if gone {
        return Err((ClientGone, outcome));
    }
    if let (false, Some(msg)) = (cut, &cx.stream_error) {
        tracing::warn!(request_id = %cx.request_id, error = %msg, "upstream stream failed after the first byte");
        outcome.truncated = true;
        outcome.error_kind = Some(ErrorKind::StreamInterrupted);
    }
    if let Some(mut a) = answer {
        if !cut && a.session.response_done() {
            let idle = snapshot.upstreams[a.provider].timeouts().idle;
            transport.release(a.session, &a.key, idle).await;
        }
    }
    Ok(outcome)
}
