//! The upstream transport: HTTP/1 over TCP or TLS with keep-alive, on the gateway's own pool
//! ([`Pool`]: no syscall and no task per reuse, one sweeper). pingora's connector only opens
//! new connections, so TLS is pingora's. Each request — head and body, serialized by the
//! caller — goes out in one send (pingora's HTTP/1 client flushes the head on its own, a
//! syscall and a loopback segment more per request). A pooled connection that turns out
//! closed before it answered gets one transparent retry on a new connection; pingora's HTTP/1
//! codec reads the answer.

use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use pingora_core::connectors::TransportConnector;
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::protocols::http::v1::client::HttpSession as Http1Session;
use pingora_core::protocols::Stream;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::ErrorType;
use tokio::io::{AsyncWriteExt, ReadBuf};

use crate::pool::{PeerKey, Pool, PoolOptions, Reusable};
use crate::upstream::AttemptError;

/// Where one attempt goes.
#[derive(Debug)]
pub struct Dest<'a> {
    /// Which pooled connections fit.
    pub key: &'a PeerKey,
    /// Names the upstream in errors.
    pub authority: &'a str,
    /// pingora's own timer on opening a connection (TCP and TLS).
    pub connect_timeout: Duration,
}

/// Upstream connections, shared by every config the process loads.
pub struct Transport {
    connector: TransportConnector,
    pool: Pool<Stream>,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new(TransportConnector::new(None), PoolOptions::default())
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
    /// A transport opening connections with `connector` and keeping them in a pool with
    /// `options`.
    pub fn new(connector: TransportConnector, options: PoolOptions) -> Self {
        Self {
            connector,
            pool: Pool::new(options),
        }
    }

    /// Sends `request` (head and body) to `dest` on an idle pooled connection, else a new
    /// one opened by `connect_by`, and reads the response head by `head_by`.
    pub async fn exchange(
        &self,
        dest: &Dest<'_>,
        request: &[u8],
        connect_by: Instant,
        head_by: Instant,
    ) -> Result<HttpSession, AttemptError> {
        let pooled = self.pool.take(dest.key, Instant::now());
        let reused = pooled.is_some();
        let stream = match pooled {
            Some(stream) => stream,
            // Opening a connection (TCP, TLS) is a large future and rare once the pool is
            // warm: boxed, so every request's future doesn't carry (and move) its size.
            None => crate::timer::by(connect_by, Box::pin(self.connect(dest)))
                .await
                .map_err(|_| AttemptError::ConnectTimeout)??,
        };
        let exchange = async {
            match round_trip(stream, request).await {
                Err(Trip::Closed(why)) if reused => {
                    tracing::debug!(upstream = dest.authority, error = %why, "a pooled connection was closed; retrying on a new one");
                    Box::pin(async {
                        let stream = self.connect(dest).await?;
                        round_trip(stream, request).await.map_err(Trip::into_error)
                    })
                    .await
                }
                other => other.map_err(Trip::into_error),
            }
        };
        let session = crate::timer::by(head_by, exchange)
            .await
            .map_err(|_| AttemptError::HeadTimeout)??;
        Ok(HttpSession::H1(session))
    }

    /// Hands a session whose answer was read to its end back to the pool for `idle`, when
    /// the answer lets the connection be reused.
    pub async fn release(&self, session: HttpSession, key: &PeerKey, idle: Duration) {
        if let HttpSession::H1(mut s) = session {
            s.respect_keepalive();
            if let Some(stream) = s.reuse().await {
                self.pool.put(key, stream, idle, Instant::now());
            }
        }
    }

    /// Idle connections pooled for `key`.
    #[cfg(test)]
    pub fn idle(&self, key: &PeerKey) -> usize {
        self.pool.idle(key)
    }

    /// A new connection (TCP, and TLS when the key says so).
    async fn connect(&self, dest: &Dest<'_>) -> Result<Stream, AttemptError> {
        let key = dest.key;
        let mut peer = HttpPeer::new(key.addr, key.tls, key.sni.to_string());
        peer.options.connection_timeout = Some(dest.connect_timeout);
        peer.options.total_connection_timeout = Some(dest.connect_timeout);
        self.connector
            .new_stream(&peer)
            .await
            .map_err(|e| match e.etype() {
                // pingora's own connect timer (set to the same `connect`) may fire first.
                ErrorType::ConnectTimedout | ErrorType::TLSHandshakeTimedout => {
                    AttemptError::ConnectTimeout
                }
                other => {
                    AttemptError::Connect(dest.authority.to_string(), other.as_str().to_string())
                }
            })
    }
}

/// An idle HTTP/1 connection is dead when it can be read at all: the far end closed it (EOF
/// or an error, a TLS close alert included) or sent bytes no request asked for. The read is
/// polled once; on a live connection tokio knows from the last readiness event that there is
/// nothing to read, so it costs no syscall.
impl Reusable for Stream {
    fn is_dead(&mut self) -> bool {
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(&mut **self)
            .poll_read(&mut cx, &mut buf)
            .is_ready()
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
async fn round_trip(mut stream: Stream, request: &[u8]) -> Result<Http1Session, Trip> {
    let written = async {
        stream.write_all(request).await?;
        stream.flush().await
    };
    written
        .await
        .map_err(|e| Trip::Closed(format!("write failed: {e}")))?;
    // What `new_with_options` would set from our peers' options is the default.
    let mut session = Http1Session::new(stream);
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
