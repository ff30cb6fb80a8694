//! One OTLP export over the wire: protobuf POSTed to `/v1/traces` over HTTP/1.1, or the
//! `TraceService/Export` gRPC call over HTTP/2 (h2c for `http://`, ALPN `h2` for `https://`).
//! The connection is kept between exports and opened again after a failure. TLS uses the
//! system's root certificates.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use switchyard_config::{OtlpCompression, OtlpConfig, OtlpProtocol};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

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
    /// The collector answered with an error status.
    #[error("the collector answered HTTP {0}")]
    Status(u16),
    /// The gRPC call failed.
    #[error("the collector answered gRPC status {0}: {1}")]
    Grpc(u32, String),
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

    /// Sends one `ExportTraceServiceRequest` and returns the reply's message bytes.
    pub(crate) async fn send(
        &mut self,
        cfg: &OtlpConfig,
        message: Vec<u8>,
    ) -> Result<Bytes, SendError> {
        let grpc = cfg.protocol == OtlpProtocol::Grpc;
        let gzip = cfg.compression == OtlpCompression::Gzip;
        let payload = if gzip { gzip_bytes(&message) } else { message };
        let body = if grpc {
            let mut framed = BytesMut::with_capacity(payload.len() + 5);
            framed.put_u8(u8::from(gzip));
            framed.put_u32(u32::try_from(payload.len()).unwrap_or(u32::MAX));
            framed.put_slice(&payload);
            framed.freeze()
        } else {
            Bytes::from(payload)
        };
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
            self.conn = Some(connect(cfg).await?);
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
            return Err(SendError::Status(head.status.as_u16()));
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
                    (code, msg)
                })
        };
        let status = trailers
            .as_ref()
            .and_then(status_of)
            .or_else(|| status_of(&head.headers));
        match status {
            Some((0, _)) => Ok(bytes.slice(bytes.len().min(5)..)),
            Some((code, msg)) => Err(SendError::Grpc(code, msg)),
            None => Err(SendError::Http("a gRPC reply without grpc-status".into())),
        }
    }
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

async fn connect(cfg: &OtlpConfig) -> Result<Conn, SendError> {
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
    let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
        SendError::Tls(
            host.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        )
    })?;
    let stream = tokio_rustls::TlsConnector::from(tls_config(h2))
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

/// rustls with the system's roots, ALPN `h2` for gRPC or `http/1.1`; built once each.
fn tls_config(h2: bool) -> Arc<rustls::ClientConfig> {
    static CONFIGS: OnceLock<[Arc<rustls::ClientConfig>; 2]> = OnceLock::new();
    let [h1_config, h2_config] = CONFIGS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let make = |alpn: &[u8]| {
            let mut c = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports rustls's default protocol versions")
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
            c.alpn_protocols = vec![alpn.to_vec()];
            Arc::new(c)
        };
        [make(b"http/1.1"), make(b"h2")]
    });
    if h2 {
        h2_config.clone()
    } else {
        h1_config.clone()
    }
}
