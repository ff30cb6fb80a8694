//! Talking to providers: where a provider lives (address, TLS, base path), the request as it
//! goes on the wire, and one attempt — connect (pooled), send the whole request in one write,
//! wait for the response head under the deadlines.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use pingora_core::protocols::http::client::HttpSession;
use pingora_http::ResponseHeader;
use switchyard_config::{Provider, Timeouts};
use switchyard_filter::{Deadlines, Event, Failure, UpstreamRequest};

use crate::pool::PeerKey;
use crate::transport::{Dest, Transport};

/// How long a DNS answer is used before it is looked up again.
const DNS_TTL: Duration = Duration::from_secs(30);

/// A provider's endpoint, built once per config load.
#[derive(Debug)]
pub struct Upstream {
    /// The host to resolve, also the TLS server name.
    host: Arc<str>,
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
            host: bare_host.into(),
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
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((&*self.host, self.port))
            .await
            .map_err(|e| AttemptError::Connect(self.authority.clone(), format!("DNS: {e}")))?
            .collect();
        let a = pick(&addrs).ok_or_else(|| {
            AttemptError::Connect(self.authority.clone(), "DNS: no addresses".into())
        })?;
        self.resolved.store(Some(Arc::new((Instant::now(), addrs))));
        Ok(a)
    }

    /// The pool key for one attempt: connections are shared by attempts to the same address
    /// with the same TLS name.
    async fn key(&self) -> Result<PeerKey, AttemptError> {
        Ok(PeerKey {
            addr: self.address().await?,
            tls: self.tls,
            sni: self.host.clone(),
        })
    }

    /// Connects (reusing a pooled connection when one is idle) by `deadlines.connect`, sends
    /// `up` in one write, and waits for the response head until `deadlines.first_byte`
    /// (already capped by the total deadline). The key is where the connection goes back.
    pub async fn send(
        &self,
        transport: &Transport,
        up: &UpstreamRequest,
        deadlines: &Deadlines,
    ) -> Result<(HttpSession, PeerKey), AttemptError> {
        let request = request_bytes(&self.authority, &self.base_path, up)?;
        // A literal IP or a cached answer is ready at once, and then no timer is armed.
        let key = crate::timer::by(deadlines.connect, self.key())
            .await
            .map_err(|_| AttemptError::ConnectTimeout)??;
        let dest = Dest {
            key: &key,
            authority: &self.authority,
            connect_timeout: self.timeouts.connect,
        };
        let session = transport
            .exchange(&dest, &request, deadlines.connect, deadlines.first_byte)
            .await?;
        Ok((session, key))
    }
}

/// The whole request for `up` to `authority` as it goes on the wire — request line, headers,
/// body — so it leaves in one write. The gateway's defaults (`host`, `content-type`,
/// `content-length`, `accept`, `user-agent`) give way to a same-named header of `up`, and of
/// `up`'s headers with one name the last wins.
pub fn request_bytes(
    authority: &str,
    base_path: &str,
    up: &UpstreamRequest,
) -> Result<Vec<u8>, AttemptError> {
    // Bytes that would end the request target early or split the request line.
    let forbidden = |p: &str| p.bytes().any(|b| matches!(b, 0 | b'\n' | b'\r' | b' '));
    if forbidden(base_path) || forbidden(&up.path) {
        return Err(AttemptError::Protocol(format!(
            "bad request path: {}{}",
            base_path,
            up.path.escape_debug()
        )));
    }
    let mut buf = Vec::with_capacity(256 + 64 * up.headers.len() + up.body.len());
    buf.extend_from_slice(b"POST ");
    buf.extend_from_slice(base_path.as_bytes());
    buf.extend_from_slice(up.path.as_bytes());
    buf.extend_from_slice(b" HTTP/1.1\r\n");
    let own = |name: &str| up.headers.iter().any(|(n, _)| n.as_str() == name);
    let accept = if up.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let length = up.body.len().to_string();
    let defaults = [
        ("host", authority),
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
        ("accept", accept),
        (
            "user-agent",
            concat!("switchyard/", env!("CARGO_PKG_VERSION")),
        ),
    ];
    for (name, value) in defaults {
        if !own(name) {
            header_line(&mut buf, name.as_bytes(), value.as_bytes());
        }
    }
    for (i, (name, value)) in up.headers.iter().enumerate() {
        if !up.headers[i + 1..].iter().any(|(n, _)| n == name) {
            header_line(&mut buf, name.as_str().as_bytes(), value.as_bytes());
        }
    }
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(&up.body);
    Ok(buf)
}

/// `name: value\r\n`; both are valid header bytes (`http` checked them).
fn header_line(buf: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    buf.extend_from_slice(name);
    buf.extend_from_slice(b": ");
    buf.extend_from_slice(value);
    buf.extend_from_slice(b"\r\n");
}

/// One address of several, spread over requests.
fn pick(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    match addrs.len() {
        0 => None,
        1 => Some(addrs[0]),
        n => Some(addrs[fastrand::usize(..n)]),
    }
}

#[cfg(test)]
#[path = "upstream_tests.rs"]
mod tests;
