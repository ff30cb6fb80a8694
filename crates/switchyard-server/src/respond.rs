//! Writing answers to the client: the gateway's own headers, errors in the client's dialect,
//! and local replies.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use switchyard_filter::{GatewayError, RequestCtx};
use switchyard_wire::{render, ErrorBody};

/// The client went away or the socket failed while writing.
#[derive(Debug)]
pub struct ClientGone;

/// A response head with `status` and the gateway's `x-*` headers for `cx`.
pub fn head(cx: &RequestCtx, status: u16) -> Result<ResponseHeader, ClientGone> {
    let mut h = ResponseHeader::build_no_case(status, Some(12)).map_err(|_| ClientGone)?;
    let _ = h.insert_header("x-request-id", cx.request_id.as_str());
    if let Some(route) = &cx.route {
        if let Ok(v) = HeaderValue::from_str(&route.name) {
            let _ = h.insert_header("x-switchyard-route", v);
        }
    }
    if let Some(m) = cx.answer.model.and_then(|m| cx.config.models.get(m)) {
        if let Ok(v) = HeaderValue::from_str(&m.id) {
            let _ = h.insert_header("x-switchyard-model", v);
        }
        if let Ok(v) = HeaderValue::from_str(&cx.config.providers[m.provider].id) {
            let _ = h.insert_header("x-switchyard-provider", v);
        }
    }
    if cx.answer.attempts > 0 {
        let _ = h.insert_header("x-switchyard-attempts", cx.answer.attempts);
    }
    if !cx.dropped_params.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&cx.dropped_params.join(", ")) {
            let _ = h.insert_header("x-switchyard-dropped-params", v);
        }
    }
    let overhead = cx.started.elapsed().saturating_sub(cx.answer.upstream_time);
    let _ = h.insert_header(
        "x-switchyard-overhead-ms",
        format!("{:.3}", overhead.as_secs_f64() * 1000.0),
    );
    for (name, value) in &cx.response_headers {
        let _ = h.append_header(name.clone(), value.clone());
    }
    Ok(h)
}

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

/// Writes a complete response with a known-length body.
pub async fn whole(
    session: &mut ServerSession,
    mut h: ResponseHeader,
    body: Bytes,
) -> Result<(), ClientGone> {
    let _ = h.insert_header("content-length", body.len());
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
