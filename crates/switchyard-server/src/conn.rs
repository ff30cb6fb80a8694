//! Client connections on the API listener: a cap on how many are open at once, a gauge of
//! them, counted and logged refusals and closes (timeouts, bad heads), and the answers a
//! connection gets when its request head is malformed (400) or too large (431) instead of a
//! reset.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use pingora_core::protocols::http::ServerSession;
use pingora_http::ResponseHeader;
use prometheus::{IntCounterVec, IntGauge, Opts};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Refusals are logged at most this often (they are counted every time).
const LOG_EVERY_SECS: u64 = 10;

/// The open-connection cap and its metrics. Cheap to clone.
#[derive(Clone)]
pub struct Connections {
    slots: Arc<Semaphore>,
    max: usize,
    open: IntGauge,
    closed: IntCounterVec,
    log_every: Arc<Throttle>,
}

/// Lets a log line through at most once every 10 s (what it reports is counted every time).
#[derive(Default)]
pub struct Throttle(AtomicU64);

impl Throttle {
    /// Whether a line may be logged now; at most one caller a period gets `true`.
    pub fn may_log(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.0.load(Ordering::Relaxed);
        now.saturating_sub(last) >= LOG_EVERY_SECS
            && self
                .0
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// One open client connection: holds its slot and counts it open until dropped (the
/// connection closed). Held by the connection's task across its keep-alive requests.
pub struct ConnGuard {
    _slot: OwnedSemaphorePermit,
    open: IntGauge,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl Connections {
    /// At most `max` connections; registers the metrics in `r`.
    pub fn register(max: usize, r: &prometheus::Registry) -> prometheus::Result<Self> {
        let open = IntGauge::new(
            "switchyard_open_connections",
            "Client connections open on the API listener.",
        )?;
        let closed = IntCounterVec::new(
            Opts::new(
                "switchyard_connections_closed_total",
                "Client connections the gateway refused or closed, by reason: max_connections, header_timeout, body_timeout, bad_header, header_too_large.",
            ),
            &["reason"],
        )?;
        r.register(Box::new(open.clone()))?;
        r.register(Box::new(closed.clone()))?;
        for reason in [
            "max_connections",
            "header_timeout",
            "body_timeout",
            "bad_header",
            "header_too_large",
        ] {
            closed.with_label_values(&[reason]);
        }
        Ok(Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
            open,
            closed,
            log_every: Arc::default(),
        })
    }

    /// A slot for a new connection, or `None` (counted and logged) when `max` are open.
    pub fn open(&self) -> Option<ConnGuard> {
        match self.slots.clone().try_acquire_owned() {
            Ok(slot) => {
                self.open.inc();
                Some(ConnGuard {
                    _slot: slot,
                    open: self.open.clone(),
                })
            }
            Err(_) => {
                self.closed("max_connections");
                if self.log_every.may_log() {
                    tracing::warn!(max_connections = self.max, "connection refused: server.max_connections are open (logged at most every 10 s; see switchyard_connections_closed_total)");
                }
                None
            }
        }
    }

    /// Counts a connection closed for `reason`.
    pub fn closed(&self, reason: &'static str) {
        self.closed.with_label_values(&[reason]).inc();
    }
}

/// The size of the request head as parsed: request line and header lines.
pub fn head_len(session: &ServerSession) -> usize {
    let h = session.req_header();
    let line = h.method.as_str().len() + display_len(&h.uri) + 12;
    h.headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + line
}

/// How long `value`'s text is, counted as it is formatted rather than built (no allocation).
fn display_len(value: &impl std::fmt::Display) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail.
    let _ = std::fmt::write(&mut count, format_args!("{value}"));
    count.0
}

/// Answers a request head that did not parse: 431 when it was too large, 400 otherwise, and
/// closes. A client that sent nothing parsable still learns why.
pub async fn refuse_head(
    session: &mut ServerSession,
    e: &pingora_core::Error,
    conns: &Connections,
) {
    let text = e.to_string();
    if !matches!(e.etype(), pingora_core::ErrorType::InvalidHTTPHeader) {
        return;
    }
    if text.contains("larger than") {
        refuse(session, 431, conns, "header_too_large").await;
    } else {
        tracing::info!(client = ?session.client_addr(), error = %text, "malformed request head");
        refuse(session, 400, conns, "bad_header").await;
    }
}

/// Writes an OpenAI-style error with `status` and closes the connection.
pub async fn refuse(
    session: &mut ServerSession,
    status: u16,
    conns: &Connections,
    reason: &'static str,
) {
    conns.closed(reason);
    let message = match status {
        431 => "request header fields too large",
        _ => "malformed request head",
    };
    let body = Bytes::from(
        serde_json::json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": reason}})
            .to_string(),
    );
    let Ok(mut h) = ResponseHeader::build(status, Some(3)) else {
        return;
    };
    let _ = h.insert_header("content-type", "application/json");
    let _ = h.insert_header("content-length", body.len());
    let _ = h.insert_header("connection", "close");
    let _ = session.write_error_response(h, body).await;
}

#[cfg(test)]
mod tests {
    use super::display_len;

    #[test]
    fn display_len_is_the_formatted_length() {
        for uri in [
            "/v1/chat/completions",
            "/v1/messages?beta=true",
            "http://example.com:8080/x?y=%20z",
            "*",
        ] {
            let parsed: http::Uri = uri.parse().expect("a URI");
            assert_eq!(display_len(&parsed), parsed.to_string().len(), "{uri}");
        }
    }
}
