//! Talking to providers: where a provider lives (address, TLS, base path), and one attempt —
//! connect (pooled), send the whole request, wait for the response head under the deadlines.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use pingora_core::connectors::http::Connector;
use pingora_core::protocols::http::client::HttpSession;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_http::{RequestHeader, ResponseHeader};
use switchyard_config::{Provider, Timeouts};
use switchyard_filter::{Deadlines, Event, Failure, UpstreamRequest};

/// How long a DNS answer is used before it is looked up again.
const DNS_TTL: Duration = Duration::from_secs(30);

/// A provider's endpoint, built once per config load.
#[derive(Debug)]
pub struct Upstream {
    host: String,
    port: u16,
    tls: bool,
    /// The `Host` header value.
    authority: String,
    /// The base URL's path, without a trailing slash (`/v1`, or empty).
    base_path: String,
    timeouts: Timeouts,
    ip: Option<IpAddr>,
    resolved: ArcSwapOption<(Instant, Vec<SocketAddr>)>,
}

/// Why an attempt failed before a response head arrived.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// Connecting failed (DNS, refused, TLS).
    #[error("connect to {0} failed: {1}")]
    Connect(String, String),
    /// The connection was not up by the connect deadline.
    #[error("connect timed out")]
    ConnectTimeout,
    /// No response head by the first-byte deadline (or the total one).
    #[error("no response head in time")]
    HeadTimeout,
    /// The upstream broke the protocol or closed the connection.
    #[error("upstream {0}")]
    Protocol(String),
}

impl AttemptError {
    /// What the attempt machine is told: a failure, or that the head's deadline passed (the
    /// machine knows which deadline that was).
    pub fn into_event(self) -> Event {
        match self {
            AttemptError::Connect(..) => Event::Failed(Failure::Connect(self.to_string())),
            AttemptError::ConnectTimeout => Event::Failed(Failure::ConnectTimeout),
            AttemptError::HeadTimeout => Event::Timer,
            AttemptError::Protocol(_) => Event::Failed(Failure::Closed(self.to_string())),
        }
    }
}

/// `retry-after-ms` (OpenAI) or `retry-after` in seconds; an HTTP-date is not honoured.
pub fn retry_after(head: &ResponseHeader) -> Option<Duration> {
    let get = |name: &str| {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    get("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after"))
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

impl Upstream {
    /// The endpoint of `provider`.
    pub fn new(provider: &Provider) -> Self {
        let url = &provider.base_url;
        let tls = url.scheme() == "https";
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url
            .port_or_known_default()
            .unwrap_or(if tls { 443 } else { 80 });
        let bare_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Self {
            ip: bare_host.parse().ok(),
            host: bare_host,
            port,
            tls,
            authority,
            base_path: url.path().trim_end_matches('/').to_string(),
            timeouts: provider.timeouts,
            resolved: ArcSwapOption::empty(),
        }
    }

    /// The provider's deadlines.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    async fn address(&self) -> Result<SocketAddr, AttemptError> {
        if let Some(ip) = self.ip {
            return Ok(SocketAddr::new(ip, self.port));
        }
        if let Some(cached) = self.resolved.load().as_ref() {
            if cached.0.elapsed() < DNS_TTL {
                if let Some(a) = pick(&cached.1) {
                    return Ok(a);
                }
            }
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| AttemptError::Connect(self.authority.clone(), format!("DNS: {e}")))?
            .collect();
        let a = pick(&addrs).ok_or_else(|| {
            AttemptError::Connect(self.authority.clone(), "DNS: no addresses".into())
        })?;
        self.resolved.store(Some(Arc::new((Instant::now(), addrs))));
        Ok(a)
    }

    /// The peer for one attempt (pooled connections are shared by identical peers).
    pub async fn peer(&self) -> Result<HttpPeer, AttemptError> {
        let addr = self.address().await?;
        let mut peer = HttpPeer::new(addr, self.tls, self.host.clone());
        peer.options.connection_timeout = Some(self.timeouts.connect);
        peer.options.total_connection_timeout = Some(self.timeouts.connect);
        peer.options.idle_timeout = Some(Duration::from_secs(60));
        Ok(peer)
    }

    /// The request head for `up`.
    fn request_head(&self, up: &UpstreamRequest) -> Result<RequestHeader, AttemptError> {
        let path = format!("{}{}", self.base_path, up.path);
        let mut h =
            RequestHeader::build_no_case("POST", path.as_bytes(), Some(8 + up.headers.len()))
                .map_err(|e| AttemptError::Protocol(format!("bad request path: {e}")))?;
        let bad = |e: Box<pingora_error::Error>| AttemptError::Protocol(format!("bad header: {e}"));
        h.insert_header("host", self.authority.as_str())
            .map_err(bad)?;
        h.insert_header("content-type", "application/json")
            .map_err(bad)?;
        h.insert_header("content-length", up.body.len())
            .map_err(bad)?;
        h.insert_header(
            "accept",
            if up.stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .map_err(bad)?;
        h.insert_header(
            "user-agent",
            concat!("switchyard/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(bad)?;
        for (name, value) in &up.headers {
            h.insert_header(name.clone(), value.clone()).map_err(bad)?;
        }
        Ok(h)
    }

    /// Connects (reusing a pooled connection when one is idle) by `deadlines.connect`, sends
    /// `up`, and waits for the response head until `deadlines.first_byte` (already capped by
    /// the total deadline).
    pub async fn send(
        &self,
        connector: &Connector,
        up: &UpstreamRequest,
        deadlines: &Deadlines,
    ) -> Result<(HttpSession, HttpPeer, Box<ResponseHeader>), AttemptError> {
        let head = self.request_head(up)?;
        let connect = async {
            let peer = self.peer().await?;
            let (session, _reused) = connector.get_http_session(&peer).await.map_err(|e| {
                match e.etype() {
                    // pingora's own connect timer (set to the same `connect`) may fire first.
                    pingora_error::ErrorType::ConnectTimedout
                    | pingora_error::ErrorType::TLSHandshakeTimedout => {
                        AttemptError::ConnectTimeout
                    }
                    other => {
                        AttemptError::Connect(self.authority.clone(), other.as_str().to_string())
                    }
                }
            })?;
            Ok::<_, AttemptError>((session, peer))
        };
        let (mut session, peer) = tokio::time::timeout_at(deadlines.connect.into(), connect)
            .await
            .map_err(|_| AttemptError::ConnectTimeout)??;
        let write_failed = |e: Box<pingora_error::Error>| {
            AttemptError::Protocol(format!("write failed: {}", e.etype().as_str()))
        };
        let exchange = async {
            session
                .write_request_header(Box::new(head))
                .await
                .map_err(write_failed)?;
            session
                .write_request_body(up.body.clone(), true)
                .await
                .map_err(write_failed)?;
            session.finish_request_body().await.map_err(write_failed)?;
            session.read_response_header().await.map_err(|e| {
                AttemptError::Protocol(format!("closed before answering ({})", e.etype().as_str()))
            })?;
            Ok::<_, AttemptError>(())
        };
        tokio::time::timeout_at(deadlines.first_byte.into(), exchange)
            .await
            .map_err(|_| AttemptError::HeadTimeout)??;
        let resp = session
            .response_header()
            .cloned()
            .ok_or_else(|| AttemptError::Protocol("sent no response head".into()))?;
        Ok((session, peer, Box::new(resp)))
    }
}

/// One address of several, spread over requests.
fn pick(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    match addrs.len() {
        0 => None,
        1 => Some(addrs[0]),
        n => Some(addrs[fastrand::usize(..n)]),
    }
}
