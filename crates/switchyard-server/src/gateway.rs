//! The API listener: reads and bounds the request body, parses it once, runs the filter chain,
//! and hands the request to the forwarding loop. Every failure becomes an error in the client's
//! dialect with a log line carrying the request id; nothing panics on input.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora_core::apps::{HttpPersistentSettings, ReusedHttpStream, ServerApp};
use pingora_core::protocols::http::ServerSession;
use pingora_core::protocols::Stream;
use pingora_core::server::ShutdownWatch;
use pingora_http::RequestHeader;
use switchyard_filter::{Endpoint, ErrorKind, Flow, GatewayError, Outcome, RequestCtx};
use switchyard_wire::ChatRequest;

use crate::conn::{self, Connections};
use crate::cork::Corked;
use crate::drain::Drain;
use crate::forward::forward;
use crate::respond::{self, ClientGone};
use crate::snapshot::{Snapshot, Store};
use crate::transport::Transport;

/// The data-path application served on `server.listen`.
pub struct Gateway {
    store: Arc<Store>,
    transport: Transport,
    limits: switchyard_filters::rate_limit::LimitsHandle,
    in_flight: prometheus::IntGauge,
    conns: Connections,
    drain: Arc<Drain>,
}

impl Gateway {
    /// A gateway serving the store's snapshots, with its own upstream connection pool; `limits`
    /// shows a key's budget in `/v1/models`; `in_flight` counts the requests being served;
    /// `conns` bounds and counts client connections; `drain` counts requests in flight for a
    /// shutdown and ends them when its grace is over.
    pub fn new(
        store: Arc<Store>,
        limits: switchyard_filters::rate_limit::LimitsHandle,
        in_flight: prometheus::IntGauge,
        conns: Connections,
        drain: Arc<Drain>,
    ) -> Self {
        Self {
            store,
            transport: Transport::default(),
            limits,
            in_flight,
            conns,
            drain,
        }
    }
}

/// Reads the whole body within `within`, refusing it once it passes `limit` bytes.
async fn read_body(
    session: &mut ServerSession,
    limit: u64,
    within: Duration,
) -> Result<Bytes, GatewayError> {
    tokio::time::timeout(within, read_body_unbounded(session, limit))
        .await
        .unwrap_or(Err(GatewayError::RequestTimeout(within)))
}

async fn read_body_unbounded(
    session: &mut ServerSession,
    limit: u64,
) -> Result<Bytes, GatewayError> {
    if let Some(len) = session
        .get_header("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if len > limit {
            return Err(GatewayError::PayloadTooLarge { limit });
        }
    }
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    loop {
        let chunk =
            session
                .read_request_body()
                .await
                .map_err(|e| GatewayError::InvalidRequest {
                    message: format!("could not read the request body: {}", e.etype().as_str()),
                    param: None,
                })?;
        let Some(chunk) = chunk else { break };
        let total = first.as_ref().map_or(0, |f| f.len()) + buf.len() + chunk.len();
        if total as u64 > limit {
            return Err(GatewayError::PayloadTooLarge { limit });
        }
        // The common case is one chunk: keep it without copying.
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            None => buf.extend_from_slice(&chunk),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

/// The client's request headers, moved out of the session rather than copied. Only once the
/// body has been read: pingora frames the request body by `content-length` and
/// `transfer-encoding`, and it read keep-alive and the rest of what it needs with the head.
/// (pingora's `RequestHeader` lends its map only immutably, so the header is taken apart and
/// put back together without it; method, URI and version stay.)
fn take_headers(session: &mut ServerSession) -> http::HeaderMap {
    let slot = session.req_header_mut();
    let empty = RequestHeader::from(http::Request::new(()).into_parts().0);
    let mut parts = http::request::Parts::from(std::mem::replace(slot, empty));
    let headers = std::mem::take(&mut parts.headers);
    *slot = RequestHeader::from(parts);
    headers
}

/// What serves a method and path.
#[derive(Debug, PartialEq, Eq)]
enum Handler {
    /// The filter chain, for this endpoint.
    Chain(Endpoint),
    /// `GET /v1/models`.
    Models,
    /// `HEAD /`, `GET /`.
    Root,
}

/// The handler of `method` and `path`; `None` for a 404.
fn handler_of(method: &str, path: &str) -> Option<Handler> {
    Some(match (method, path) {
        ("POST", "/v1/chat/completions" | "/chat/completions") => {
            Handler::Chain(Endpoint::ChatCompletions)
        }
        ("POST", "/v1/messages") => Handler::Chain(Endpoint::Messages),
        ("POST", "/v1/responses" | "/responses") => Handler::Chain(Endpoint::Responses),
        ("POST", "/v1/messages/count_tokens") => Handler::Chain(Endpoint::CountTokens),
        ("POST", "/v1/embeddings" | "/embeddings") => Handler::Chain(Endpoint::Embeddings),
        ("HEAD" | "GET", "/") => Handler::Root,
        ("GET", "/v1/models" | "/models") => Handler::Models,
        _ => return None,
    })
}

/// The context of request `id`, which just arrived at `endpoint`, on `snapshot`.
fn context(
    snapshot: &Snapshot,
    id: String,
    endpoint: Endpoint,
    headers: http::HeaderMap,
) -> RequestCtx {
    let mut cx = RequestCtx::new(id, snapshot.config.clone(), endpoint, headers);
    cx.names = Some(snapshot.names.clone());
    cx
}

/// A request id: the client's `x-request-id` when it is sane, else a random one.
fn request_id(session: &ServerSession) -> String {
    if let Some(v) = session
        .get_header("x-request-id")
        .and_then(|v| v.to_str().ok())
    {
        if !v.is_empty()
            && v.len() <= 128
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return v.to_string();
        }
    }
    random_id(fastrand::u128(..))
}

/// `n` as 32 lower-case hex digits, in one allocation of the exact size (`format!` grows its
/// string as the padded number is written).
fn random_id(n: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 32];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = HEX[((n >> (4 * (31 - i))) & 0xf) as usize];
    }
    digits.iter().map(|&d| char::from(d)).collect()
}

impl Gateway {
    /// Serves one request; returns whether the connection may be reused.
    async fn serve(&self, session: &mut ServerSession) -> bool {
        let snapshot = self.store.current();
        let handler = {
            let h = session.req_header();
            handler_of(h.method.as_str(), h.uri.path())
        };
        let endpoint = match handler {
            Some(Handler::Chain(endpoint)) => endpoint,
            Some(Handler::Root) => {
                // Clients probe the root before their first request (Claude Code sends HEAD).
                let _ = session.drain_request_body().await;
                return root(session).await.is_ok();
            }
            Some(Handler::Models) => {
                let _ = session.drain_request_body().await;
                let mut cx = context(
                    &snapshot,
                    request_id(session),
                    Endpoint::Models,
                    take_headers(session),
                );
                return crate::models::list(session, &snapshot, &mut cx, &self.limits)
                    .await
                    .is_ok();
            }
            None => {
                let cx = context(
                    &snapshot,
                    request_id(session),
                    Endpoint::Unknown,
                    http::HeaderMap::new(),
                );
                let h = session.req_header();
                let e = GatewayError::UnknownEndpoint {
                    method: h.method.to_string(),
                    path: h.uri.path().to_string(),
                };
                let _ = session.drain_request_body().await;
                let ok = respond::error(session, &cx, &e).await.is_ok();
                snapshot.chain.on_complete(&cx, &outcome_of(&e));
                return ok;
            }
        };
        let mut cx = context(
            &snapshot,
            request_id(session),
            endpoint,
            http::HeaderMap::new(),
        );
        let chain = &snapshot.chain;
        let server = &snapshot.config.server;
        let body = match read_body(session, server.max_body_bytes, server.body_read_timeout).await {
            Ok(b) => b,
            Err(e) => {
                if let GatewayError::RequestTimeout(_) = e {
                    self.conns.closed("body_timeout");
                    tracing::info!(request_id = %cx.request_id, client = ?session.client_addr(), "request body not received in time; closing the connection");
                }
                // The rest of an oversized body is never read: close the connection after.
                cx.headers = take_headers(session);
                let _ = respond::error(session, &cx, &e).await;
                chain.on_complete(&cx, &outcome_of(&e));
                return false;
            }
        };
        cx.headers = take_headers(session);
        let parsed = match endpoint {
            Endpoint::Embeddings => switchyard_wire::embeddings::parse_embeddings(&body),
            Endpoint::CountTokens => ChatRequest::parse_count_tokens(&body),
            // Models and Unknown are answered above and never get here.
            Endpoint::ChatCompletions
            | Endpoint::Messages
            | Endpoint::Responses
            | Endpoint::Models
            | Endpoint::Unknown => ChatRequest::parse(cx.client_dialect, &body),
        };
        let mut req = match parsed {
            Ok(r) => r,
            Err(e) => {
                let e = GatewayError::from(e);
                let ok = respond::error(session, &cx, &e).await.is_ok();
                chain.on_complete(&cx, &outcome_of(&e));
                return ok;
            }
        };
        drop(body);
        cx.streaming = req.stream;
        let result = match chain.on_request(&mut cx, &mut req).await {
            Ok(Flow::Continue) => {
                let mut cut = self.drain.cut();
                forward(&self.transport, &snapshot, session, &mut cx, &req, &mut cut).await
            }
            Ok(Flow::Respond(reply)) => local_reply(session, &mut cx, &snapshot.chain, reply).await,
            Err(e) => match respond::error(session, &cx, &e).await {
                Ok(()) => Ok(outcome_of(&e)),
                Err(ClientGone) => Err((ClientGone, outcome_of(&e))),
            },
        };
        match result {
            Ok(outcome) => {
                chain.on_complete(&cx, &outcome);
                true
            }
            Err((ClientGone, mut outcome)) => {
                tracing::info!(request_id = %cx.request_id, "client closed the connection before the response was complete");
                if outcome.status < 400 {
                    outcome.status = 499;
                    outcome.error_kind = Some(ErrorKind::ClientClosed);
                }
                chain.on_complete(&cx, &outcome);
                false
            }
        }
    }
}

/// `HEAD /` and `GET /`: 200 with a short JSON body naming the gateway.
async fn root(session: &mut ServerSession) -> Result<(), ClientGone> {
    let mut h =
        pingora_http::ResponseHeader::build_no_case(200, Some(3)).map_err(|_| ClientGone)?;
    let _ = h.insert_header("content-type", "application/json");
    let body = Bytes::from_static(b"{\"service\":\"switchyard\",\"status\":\"ok\"}");
    respond::whole(session, h, body).await
}

/// The outcome of a request that ended with `e`.
pub fn outcome_of(e: &GatewayError) -> Outcome {
    Outcome {
        status: e.status(),
        error_kind: Some(e.kind()),
        truncated: false,
    }
}

async fn local_reply(
    session: &mut ServerSession,
    cx: &mut RequestCtx,
    chain: &switchyard_filter::Chain,
    reply: switchyard_filter::LocalReply,
) -> Result<Outcome, (ClientGone, Outcome)> {
    let mut head = switchyard_filter::ResponseHead {
        status: reply.status,
        headers: reply.headers,
    };
    let outcome = Outcome {
        status: reply.status,
        error_kind: None,
        truncated: false,
    };
    if let Err(e) = chain.on_response_head(cx, &mut head) {
        return respond::error(session, cx, &e)
            .await
            .map(|_| outcome_of(&e))
            .map_err(|g| (g, outcome_of(&e)));
    }
    let mut h = respond::head(cx, head.status).map_err(|g| (g, outcome.clone()))?;
    respond::extend(&mut h, &head.headers);
    let mut body = reply.body;
    if let Err(e) = chain.on_response_chunk(cx, &mut body, true) {
        return respond::error(session, cx, &e)
            .await
            .map(|_| outcome_of(&e))
            .map_err(|g| (g, outcome_of(&e)));
    }
    respond::whole(session, h, body)
        .await
        .map(|_| outcome.clone())
        .map_err(|g| (g, outcome))
}

/// A connection: its slot under `server.max_connections`, then its requests in turn until it
/// closes or may not be reused. pingora's own HTTP app loop is not used: it boxes a future
/// sized for HTTP/2 with every connection and our whole request handling with every request,
/// and an idle keep-alive connection held both (~19 KiB in a debug build). Here an idle
/// connection holds only what waits for the next head; a request's future (the filter chain,
/// forwarding) is boxed only while the request runs.
#[async_trait]
impl ServerApp for Gateway {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let _slot = self.conns.open()?;
        let mut session = ServerSession::new_http1(Corked::wrap(stream));
        let mut reused = false;
        loop {
            let (stream, settings) = self.exchange(session, reused, shutdown).await?.consume();
            session = ServerSession::new_http1(stream);
            if let Some(settings) = settings {
                // The keep-alive settings and any pipelined bytes read past the last request.
                settings.apply_to_session(&mut session);
            }
            reused = true;
        }
    }
}

impl Gateway {
    /// One request on a connection (`reused` after the first): reads the head within its
    /// timeout, serves the request, and hands back the connection if it may carry another.
    async fn exchange(
        &self,
        mut session: ServerSession,
        reused: bool,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        let (keepalive_timeout, header_read_timeout, max_header_bytes) = {
            let server = &self.store.current().config.server;
            (
                server.keepalive_timeout,
                server.header_read_timeout,
                server.max_header_bytes,
            )
        };
        session.set_keepalive(Some(keepalive_timeout.as_secs().max(1)));
        // Requests a client pipelines are answered in order (RFC 9112 §9.3.2), not dropped:
        // the bytes read past this request's body start the next one on this connection.
        session.set_pipelining_enabled(true);
        // The whole head must arrive within the header timeout, counted from the first byte a
        // kept-alive connection may idle for up to the keep-alive timeout before it.
        let within = if reused {
            keepalive_timeout + header_read_timeout
        } else {
            header_read_timeout
        };
        match tokio::time::timeout(within, session.read_request()).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return None,
            Ok(Err(e)) => {
                conn::refuse_head(&mut session, &e, &self.conns).await;
                return None;
            }
            Err(_) => {
                self.conns.closed("header_timeout");
                tracing::info!(client = ?session.client_addr(), timeout = ?within, "request head not received in time; closing the connection");
                return None;
            }
        }
        if conn::head_len(&session) > max_header_bytes as usize {
            conn::refuse(&mut session, 431, &self.conns, "header_too_large").await;
            return None;
        }
        let reusable = {
            let _active = self.drain.enter();
            let _in_flight = crate::process_metrics::InFlight::enter(&self.in_flight);
            if *shutdown.borrow() {
                // Draining: answer this one with `connection: close`.
                session.set_keepalive(None);
            }
            Box::pin(self.serve(&mut session)).await
        };
        if let Some(cork) = Corked::of(&session) {
            // Whatever is still collected leaves with the flush that ends the response.
            cork.settle();
        }
        if !reusable || *shutdown.borrow() {
            return None;
        }
        let settings = HttpPersistentSettings::for_session(&session);
        // Boxed: inline, pingora's `finish` future (3.7 KB in a debug build) would be part of
        // what every idle keep-alive connection holds.
        match Box::pin(session.finish()).await {
            Ok(Some(stream)) => Some(ReusedHttpStream::from_reusable_stream(stream, settings)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_paths_find_their_handlers() {
        let chain = |e| Some(Handler::Chain(e));
        for (method, path, want) in [
            (
                "POST",
                "/v1/chat/completions",
                chain(Endpoint::ChatCompletions),
            ),
            (
                "POST",
                "/chat/completions",
                chain(Endpoint::ChatCompletions),
            ),
            ("POST", "/v1/messages", chain(Endpoint::Messages)),
            ("POST", "/v1/responses", chain(Endpoint::Responses)),
            ("POST", "/responses", chain(Endpoint::Responses)),
            (
                "POST",
                "/v1/messages/count_tokens",
                chain(Endpoint::CountTokens),
            ),
            ("POST", "/v1/embeddings", chain(Endpoint::Embeddings)),
            ("POST", "/embeddings", chain(Endpoint::Embeddings)),
            ("HEAD", "/", Some(Handler::Root)),
            ("GET", "/", Some(Handler::Root)),
            ("GET", "/v1/models", Some(Handler::Models)),
            ("GET", "/models", Some(Handler::Models)),
            ("GET", "/v1/chat/completions", None),
            ("POST", "/v1/models", None),
            ("POST", "/v1/chat/completions/", None),
            ("DELETE", "/", None),
        ] {
            assert_eq!(handler_of(method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn random_ids_are_32_hex_digits_like_format() {
        for n in [
            0,
            1,
            0xdead_beef,
            u128::MAX,
            u128::MAX / 3,
            fastrand::u128(..),
        ] {
            let id = random_id(n);
            assert_eq!(id, format!("{n:032x}"));
            assert_eq!(id.capacity(), 32);
        }
    }
}
