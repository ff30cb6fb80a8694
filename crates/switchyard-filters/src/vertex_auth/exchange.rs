//! The OAuth 2.0 JWT-bearer grant (RFC 7523) over one HTTP/1.1 request with hyper: a form POST
//! of `grant_type` and `assertion` to the key's `token_uri`, TLS via rustls with the system's
//! roots for https.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use switchyard_config::Timeouts;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The grant type google-auth sends.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Largest token reply read.
const MAX_REPLY: usize = 64 * 1024;

/// Why no token was obtained. Messages never hold the assertion or a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExchangeError {
    /// The JWT could not be signed.
    #[error("cannot sign the token request: {0}")]
    Sign(String),
    /// `token_uri` is unusable.
    #[error("token_uri {0}")]
    Uri(String),
    /// Connecting, TLS or HTTP failed.
    #[error("token endpoint unreachable: {0}")]
    Transport(String),
    /// The endpoint took longer than the provider's deadlines.
    #[error("token endpoint timed out")]
    Timeout,
    /// The endpoint refused the grant (e.g. `invalid_grant` for a revoked key).
    #[error("token endpoint answered {status}: {error}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// OAuth `error` and `error_description`.
        error: String,
    },
    /// A 200 without a usable token.
    #[error("token endpoint reply unusable: {0}")]
    Malformed(String),
}

/// A successful token reply.
#[derive(Deserialize)]
pub(super) struct TokenReply {
    pub access_token: String,
    #[serde(default = "default_expires_in")]
    pub expires_in: u64,
}

fn default_expires_in() -> u64 {
    3600
}

#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

/// POSTs the grant to `token_uri` and reads the token.
pub(super) async fn jwt_bearer(
    token_uri: &str,
    assertion: &str,
    timeouts: &Timeouts,
) -> Result<TokenReply, ExchangeError> {
    let url = url::Url::parse(token_uri).map_err(|e| ExchangeError::Uri(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| ExchangeError::Uri("has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tls = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(ExchangeError::Uri(format!("has scheme {other}"))),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", JWT_BEARER)
        .append_pair("assertion", assertion)
        .finish();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let request = http::Request::post(path)
        .header(http::header::HOST, authority)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ExchangeError::Uri(e.to_string()))?;
    let deadline = timeouts.connect + timeouts.first_byte;
    let tcp = tokio::time::timeout(timeouts.connect, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| ExchangeError::Timeout)?
        .map_err(|e| ExchangeError::Transport(format!("connect {host}:{port}: {e}")))?;
    let fut = async {
        if tls {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| ExchangeError::Uri(e.to_string()))?;
            let stream = tokio_rustls::TlsConnector::from(tls_config())
                .connect(name, tcp)
                .await
                .map_err(|e| ExchangeError::Transport(format!("TLS: {e}")))?;
            send(stream, request).await
        } else {
            send(tcp, request).await
        }
    };
    let (status, bytes) = tokio::time::timeout(deadline, fut)
        .await
        .map_err(|_| ExchangeError::Timeout)??;
    if !(200..300).contains(&status) {
        let error = serde_json::from_slice::<OAuthError>(&bytes)
            .ok()
            .map(|e| {
                let code = e.error.unwrap_or_else(|| "error".into());
                match e.error_description {
                    Some(d) => format!("{code}: {d}"),
                    None => code,
                }
            })
            .unwrap_or_else(|| "no OAuth error body".into());
        return Err(ExchangeError::Refused { status, error });
    }
    let reply: TokenReply =
        serde_json::from_slice(&bytes).map_err(|e| ExchangeError::Malformed(e.to_string()))?;
    if reply.access_token.is_empty() {
        return Err(ExchangeError::Malformed("empty access_token".into()));
    }
    Ok(reply)
}

async fn send<S>(
    stream: S,
    request: http::Request<Full<Bytes>>,
) -> Result<(u16, Bytes), ExchangeError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let transport = |e: hyper::Error| ExchangeError::Transport(e.to_string());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(transport)?;
    let conn = tokio::spawn(conn);
    let response = sender.send_request(request).await.map_err(transport)?;
    let status = response.status().as_u16();
    let bytes = Limited::new(response.into_body(), MAX_REPLY)
        .collect()
        .await
        .map_err(|e| ExchangeError::Transport(e.to_string()))?
        .to_bytes();
    conn.abort();
    Ok((status, bytes))
}

/// rustls with the system's root certificates, built once.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports rustls's default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}
