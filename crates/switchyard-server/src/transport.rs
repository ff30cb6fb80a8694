//! The upstream transport: HTTP/1 on pingora's connection pool (TCP or TLS, keep-alive), with
//! each request — head and body, serialized by the caller — written in one send. (pingora's
//! HTTP/1 client flushes the head on its own, which costs a syscall and a loopback segment per
//! request.) A pooled connection that turns out closed before it answered gets one transparent
//! retry on a new connection; pingora's HTTP/1 codec still reads the answer.

use std::time::{Duration, Instant};

use pingora_core::connectors::TransportConnector;
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::protocols::http::v1::client::HttpSession as Http1Session;
use pingora_core::protocols::Stream;
use pingora_core::upstreams::peer::{HttpPeer, Peer};
use pingora_error::ErrorType;
use tokio::io::AsyncWriteExt;

use crate::upstream::AttemptError;

/// Pooled upstream connections, shared by every config the process loads.
pub struct Transport {
    pool: TransportConnector,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            pool: TransportConnector::new(None),
        }
    }
}

/// Why one round trip on one connection failed.
enum Trip {
    /// The connection broke before any answer: on a pooled one, worth one retry.
    Closed(String),
    /// The answer was not HTTP.
    Bad(String),
}

impl Transport {
    /// Sends `request` (head and body) to `peer` on a pooled connection, else a new one
    /// connected by `connect_by`, and reads the response head by `head_by`. `authority`
    /// names the upstream in errors.
    pub async fn exchange(
        &self,
        peer: &HttpPeer,
        authority: &str,
        request: &[u8],
        connect_by: Instant,
        head_by: Instant,
    ) -> Result<HttpSession, AttemptError> {
        let connect_failed = |e: Box<pingora_error::Error>| match e.etype() {
            // pingora's own connect timer (set to the same `connect`) may fire first.
            ErrorType::ConnectTimedout | ErrorType::TLSHandshakeTimedout => {
                AttemptError::ConnectTimeout
            }
            other => AttemptError::Connect(authority.to_string(), other.as_str().to_string()),
        };
        let (stream, reused) = crate::timer::by(connect_by, self.pool.get_stream(peer))
            .await
            .map_err(|_| AttemptError::ConnectTimeout)?
            .map_err(connect_failed)?;
        let exchange = async {
            match round_trip(stream, peer, request).await {
                Err(Trip::Closed(why)) if reused => {
                    tracing::debug!(upstream = authority, error = %why, "a pooled connection was closed; retrying on a new one");
                    let stream = self.pool.new_stream(peer).await.map_err(connect_failed)?;
                    round_trip(stream, peer, request)
                        .await
                        .map_err(Trip::into_error)
                }
                other => other.map_err(Trip::into_error),
            }
        };
        let session = crate::timer::by(head_by, exchange)
            .await
            .map_err(|_| AttemptError::HeadTimeout)??;
        Ok(HttpSession::H1(session))
    }

    /// Hands a session whose answer was read to its end back to the pool, when the answer
    /// lets the connection be reused.
    pub async fn release(&self, session: HttpSession, peer: &HttpPeer, idle: Duration) {
        if let HttpSession::H1(mut s) = session {
            s.respect_keepalive();
            if let Some(stream) = s.reuse().await {
                self.pool
                    .release_stream(stream, peer.reuse_hash(), Some(idle));
            }
        }
    }
}

impl Trip {
    fn into_error(self) -> AttemptError {
        match self {
            Trip::Closed(why) | Trip::Bad(why) => AttemptError::Protocol(why),
        }
    }
}

/// Writes the request in one send and reads the response head.
async fn round_trip(
    mut stream: Stream,
    peer: &HttpPeer,
    request: &[u8],
) -> Result<Http1Session, Trip> {
    let written = async {
        stream.write_all(request).await?;
        stream.flush().await
    };
    written
        .await
        .map_err(|e| Trip::Closed(format!("write failed: {e}")))?;
    let mut session = Http1Session::new_with_options(stream, peer);
    match session.read_response().await {
        Ok(_) => Ok(session),
        Err(e) => {
            let why = format!("closed before answering ({})", e.etype().as_str());
            match e.etype() {
                ErrorType::ConnectionClosed | ErrorType::ReadError => Err(Trip::Closed(why)),
                _ => Err(Trip::Bad(why)),
            }
        }
    }
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
