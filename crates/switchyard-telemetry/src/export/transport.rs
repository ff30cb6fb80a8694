//! One OTLP export over the wire: protobuf POSTed to `/v1/traces` over HTTP/1.1, or the
//! `TraceService/Export` gRPC call over HTTP/2 (h2c for `http://`, ALPN `h2` for `https://`).
//! The connection is kept between exports and opened again after a failure. TLS is built per
//! config (`tls.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use switchyard_config::{OtlpCompression, OtlpConfig, OtlpProtocol};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::retry;

/// The gRPC method of the OTLP trace service.
const GRPC_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The largest reply read from a collector.
const MAX_REPLY: usize = 1 << 20;

/// Why an export did not reach the collector or was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// TCP connect failed.
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    /// The TLS handshake failed.
    #[error("TLS with {0}: {1}")]
    Tls(String, std::io::Error),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// The collector answered with an error status (and how long it asked to be left alone,
    /// `Retry-After`).
    #[error("the collector answered HTTP {0}")]
    Status(u16, Option<Duration>),
    /// The gRPC call failed (with the delay of its `RetryInfo`, if any).
    #[error("the collector answered gRPC status {0}: {1}")]
    Grpc(u32, String, Option<Duration>),
}

enum Conn {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// A connection to the current collector, kept between exports.
#[derive(Default)]
pub(crate) struct Client {
    conn: Option<Conn>,
    /// The endpoint `conn` goes to.
    endpoint: String,
}

impl Client {
    /// Forgets the connection (after a failure or timeout).
    pub(crate) fn reset(&mut self) {
        self.conn = None;
    }

    /// Sends one export's [`body`] and returns the reply's message bytes. `tls` is the
    /// client for an `https://` collector (or why there is none).
    pub(crate) async fn send(
        &mut self,
        cfg: &OtlpConfig,
        tls: Option<&Result<Arc<rustls::ClientConfig>, String>>,
        body: Bytes,
    ) -> Result<Bytes, SendError> {
        let grpc = cfg.protocol == OtlpProtocol::Grpc;
        let gzip = cfg.compression == OtlpCompression::Gzip;
        let request = build_request(cfg, body, gzip)?;
        if self.endpoint != cfg.endpoint.as_str() {
            self.conn = None;
            self.endpoint = cfg.endpoint.as_str().to_owned();
        }
        let ready = match &mut self.conn {
            Some(Conn::H1(s)) => s.ready().await.is_ok(),
            Some(Conn::H2(s)) => s.ready().await.is_ok(),
            None => false,
        };
        if !ready {
            self.conn = Some(connect(cfg, tls).await?);
        }
        let http = |e: hyper::Error| SendError::Http(e.to_string());
        let response = match &mut self.conn {
            Some(Conn::H1(s)) => s.send_request(request).await.map_err(http)?,
            Some(Conn::H2(s)) => s.send_request(request).await.map_err(http)?,
            None => return Err(SendError::Http("no connection".into())),
        };
        let (head, body) = response.into_parts();
        let collected = Limited::new(body, MAX_REPLY)
            .collect()
            .await
            .map_err(|e| SendError::Http(e.to_string()))?;
        let trailers = collected.trailers().cloned();
        let bytes = collected.to_bytes();
        if !head.status.is_success() {
            let after = retry::retry_after(&head.headers);
            return Err(SendError::Status(head.status.as_u16(), after));
        }
        if !grpc {
            return Ok(bytes);
        }
        // A failed call may answer "trailers-only": the status in the response head.
        let status_of = |h: &http::HeaderMap| {
            h.get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u32>().ok())
                .map(|code| {
                    let msg = h
                        .get("grpc-message")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    (code, msg, retry::grpc_retry_info(h))
                })
        };
        let status = trailers
            .as_ref()
            .and_then(status_of)
            .or_else(|| status_of(&head.headers));
        match status {
            Some((0, ..)) => Ok(bytes.slice(bytes.len().min(5)..)),
            Some((code, msg, after)) => Err(SendError::Grpc(code, msg, after)),
            None => Err(SendError::Http("a gRPC reply without grpc-status".into())),
        }
    }
}

/// The request body of one export of `message` (an `ExportTraceServiceRequest`): gzipped if
/// configured, and for gRPC in its length-prefixed frame. Built once, sent again on a retry.
pub(crate) fn body(cfg: &OtlpConfig, message: Vec<u8>) -> Bytes {
    let gzip = cfg.compression == OtlpCompression::Gzip;
    let payload = if gzip { gzip_bytes(&message) } else { message };
    if cfg.protocol != OtlpProtocol::Grpc {
        return Bytes::from(payload);
    }
    let mut framed = BytesMut::with_capacity(payload.len() + 5);
    framed.put_u8(u8::from(gzip));
    framed.put_u32(u32::try_from(payload.len()).unwrap_or(u32::MAX));
    framed.put_slice(&payload);
    framed.freeze()
}

fn build_request(
    cfg: &OtlpConfig,
    body: Bytes,
    gzip: bool,
) -> Result<Request<Full<Bytes>>, SendError> {
    let url = &cfg.endpoint;
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let mut b = Request::post("/");
    if cfg.protocol == OtlpProtocol::Grpc {
        let prefix = url.path().trim_end_matches('/');
        b = Request::post(format!("{}://{authority}{prefix}{GRPC_PATH}", url.scheme()))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("grpc-timeout", format!("{}m", cfg.timeout.as_millis()));
        if gzip {
            b = b.header("grpc-encoding", "gzip");
        }
    } else {
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        b = b
            .uri(path)
            .header("host", authority)
            .header("content-type", "application/x-protobuf");
        if gzip {
            b = b.header("content-encoding", "gzip");
        }
    }
    b = b.header(
        "user-agent",
        concat!("switchyard/", env!("CARGO_PKG_VERSION")),
    );
    let mut request = b
        .body(Full::new(body))
        .map_err(|e| SendError::Http(e.to_string()))?;
    for (name, value) in &cfg.headers {
        let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.expose()),
        ) else {
            continue;
        };
        request.headers_mut().append(n, v);
    }
    Ok(request)
}

async fn connect(
    cfg: &OtlpConfig,
    tls: Option<&Result<Arc<rustls::ClientConfig>, String>>,
) -> Result<Conn, SendError> {
    let url = &cfg.endpoint;
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(4318);
    let h2 = cfg.protocol == OtlpProtocol::Grpc;
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| SendError::Connect(format!("{host}:{port}"), e))?;
    let _ = tcp.set_nodelay(true);
    if url.scheme() != "https" {
        return handshake(tcp, h2).await;
    }
    let config = match tls {
        Some(Ok(config)) => config.clone(),
        Some(Err(why)) => return Err(SendError::Tls(host, std::io::Error::other(why.clone()))),
        None => {
            let why = "no TLS client for this collector";
            return Err(SendError::Tls(host, std::io::Error::other(why)));
        }
    };
    let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
        SendError::Tls(
            host.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        )
    })?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| SendError::Tls(host, e))?;
    handshake(stream, h2).await
}

async fn handshake<S>(stream: S, h2: bool) -> Result<Conn, SendError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = |e: hyper::Error| SendError::Http(e.to_string());
    let io = TokioIo::new(stream);
    if h2 {
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .handshake(io)
            .await
            .map_err(http)?;
        tokio::spawn(conn);
        Ok(Conn::H2(sender))
    } else {
        let (sender, conn) = http1::handshake(io).await.map_err(http)?;
        tokio::spawn(conn);
        Ok(Conn::H1(sender))
    }
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}
