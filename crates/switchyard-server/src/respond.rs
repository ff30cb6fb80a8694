//! Writing answers to the client: the gateway's own headers, errors in the client's dialect,
//! and local replies.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use switchyard_filter::{GatewayError, RequestCtx};
use switchyard_wire::{render, ErrorBody};

use crate::cork::Corked;

/// The client went away or the socket failed while writing.
#[derive(Debug)]
pub struct ClientGone;

/// A response head with `status` and the gateway's `x-*` headers for `cx`. Built as
/// `http` parts with static header names and the names' values prepared per config
/// (`cx.names`): pingora's `insert_header` would copy every non-standard name and value.
pub fn head(cx: &RequestCtx, status: u16) -> Result<ResponseHeader, ClientGone> {
    let mut parts = http::Response::new(()).into_parts().0;
    parts.status = StatusCode::from_u16(status).map_err(|_| ClientGone)?;
    let h = &mut parts.headers;
    h.reserve(12);
    if let Ok(v) = HeaderValue::from_str(&cx.request_id) {
        h.insert(REQUEST_ID, v);
    }
    let names = cx.names.as_deref();
    if let Some(route) = &cx.route {
        if let Some(v) = prepared(names.and_then(|n| n.route(&route.name)), &route.name) {
            h.insert(ROUTE, v);
        }
    }
    if let Some((index, m)) = cx
        .answer
        .model
        .and_then(|i| cx.config.models.get(i).map(|m| (i, m)))
    {
        if let Some(v) = prepared(names.and_then(|n| n.model(index)), &m.id) {
            h.insert(MODEL, v);
        }
        let provider = &cx.config.providers[m.provider].id;
        if let Some(v) = prepared(names.and_then(|n| n.provider(m.provider)), provider) {
            h.insert(PROVIDER, v);
        }
    }
    if cx.answer.attempts > 0 {
        h.insert(ATTEMPTS, small_number(cx.answer.attempts));
    }
    if !cx.dropped_params.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&cx.dropped_params.join(", ")) {
            h.insert(DROPPED_PARAMS, v);
        }
    }
    let overhead = cx.started.elapsed().saturating_sub(cx.answer.upstream_time);
    if let Some(v) = millis(overhead) {
        h.insert(OVERHEAD_MS, v);
    }
    for (name, value) in &cx.response_headers {
        h.append(name.clone(), value.clone());
    }
    Ok(ResponseHeader::from(parts))
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const ROUTE: HeaderName = HeaderName::from_static("x-switchyard-route");
const MODEL: HeaderName = HeaderName::from_static("x-switchyard-model");
const PROVIDER: HeaderName = HeaderName::from_static("x-switchyard-provider");
const ATTEMPTS: HeaderName = HeaderName::from_static("x-switchyard-attempts");
const DROPPED_PARAMS: HeaderName = HeaderName::from_static("x-switchyard-dropped-params");
const OVERHEAD_MS: HeaderName = HeaderName::from_static("x-switchyard-overhead-ms");

/// The prepared value of `name`, or one built from it.
fn prepared(value: Option<&HeaderValue>, name: &str) -> Option<HeaderValue> {
    value.cloned().or_else(|| HeaderValue::from_str(name).ok())
}

/// `n` as a header value; the usual attempt counts without allocating.
fn small_number(n: u32) -> HeaderValue {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    match DIGITS.get(n as usize) {
        Some(d) => HeaderValue::from_static(d),
        None => HeaderValue::from(n),
    }
}

/// `d` in milliseconds with three decimals (`1.234`), formatted on the stack.
fn millis(d: Duration) -> Option<HeaderValue> {
    let mut buf = [0u8; 32];
    let mut out = &mut buf[..];
    write!(out, "{:.3}", d.as_secs_f64() * 1000.0).ok()?;
    let len = 32 - out.len();
    HeaderValue::from_bytes(&buf[..len]).ok()
}

#[cfg(test)]
#[path = "respond_tests.rs"]
mod tests;

/// Adds `headers` to `h`, replacing same-named ones.
pub fn extend(h: &mut ResponseHeader, headers: &[(HeaderName, HeaderValue)]) {
    for (name, value) in headers {
        let _ = h.insert_header(name.clone(), value.clone());
    }
}

/// The error's body in the client's dialect.
pub fn error_body(cx: &RequestCtx, e: &GatewayError) -> Bytes {
    let message = e.to_string();
    Bytes::from(render(
        cx.client_dialect,
        &ErrorBody {
            status: e.status(),
            kind: e.openai_type(),
            code: e.code(),
            param: e.param(),
            message: &message,
        },
    ))
}

/// Writes `e` as a complete response and logs it with the request id.
pub async fn error(
    session: &mut ServerSession,
    cx: &RequestCtx,
    e: &GatewayError,
) -> Result<(), ClientGone> {
    let status = e.status();
    if status >= 500 {
        tracing::warn!(request_id = %cx.request_id, status, kind = e.kind().as_str(), error = %e, "request failed");
    } else {
        tracing::info!(request_id = %cx.request_id, status, kind = e.kind().as_str(), error = %e, "request rejected");
    }
    let mut h = head(cx, status)?;
    if let Some(after) = e.retry_after() {
        let _ = h.insert_header("retry-after", after.as_secs().max(1));
    }
    let body = error_body(cx, e);
    let _ = h.insert_header("content-type", "application/json");
    whole(session, h, body).await
}

/// Writes a complete response with a known-length body: head and body in one write.
pub async fn whole(
    session: &mut ServerSession,
    mut h: ResponseHeader,
    body: Bytes,
) -> Result<(), ClientGone> {
    let _ = h.insert_header("content-length", body.len());
    if let Some(cork) = Corked::of(session) {
        cork.collect();
    }
    session
        .write_response_header(Box::new(h))
        .await
        .map_err(|_| ClientGone)?;
    session
        .write_response_body(body, true)
        .await
        .map_err(|_| ClientGone)?;
    Ok(())
}
