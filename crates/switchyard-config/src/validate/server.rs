//! `server:` and `state:`: listeners, limits, logging, and where shared state lives.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::secrets::{self, Picked};
use super::Ctx;
use crate::raw::{Entry, RawBackend, RawLogFormat, RawOnUnavailable, RawServer, RawState};
use crate::units::{parse_duration, parse_size};
use crate::{LogFormat, ServerConfig, StateConfig, UsageSink};

/// The API listener when `server.listen` is left out.
pub(crate) const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// The admin listener when `server.admin_listen` is left out.
pub(crate) const DEFAULT_ADMIN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9901);

/// The largest request head the HTTP parser reads (pingora's own limit).
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// The server section with defaults applied, and whether `listen` parsed (the auth check
/// needs to know if it binds beyond loopback).
pub(crate) struct ServerCheck {
    pub config: ServerConfig,
    pub listen_ok: bool,
}

/// Defaults for everything in `server:`.
pub(crate) fn default_server() -> ServerConfig {
    ServerConfig {
        listen: DEFAULT_LISTEN,
        admin_listen: DEFAULT_ADMIN,
        max_body_bytes: 10 << 20,
        log_format: LogFormat::Text,
        shutdown_grace: Duration::from_secs(20),
        // One worker: as a sidecar the gateway shares its pod's CPUs with the app, and a second
        // work-stealing worker cost 1.4x the CPU per request (futex wake-ups) in perf stat.
        threads: 1,
        work_stealing: true,
        usage_log: UsageSink::Stdout,
        header_read_timeout: Duration::from_secs(10),
        body_read_timeout: Duration::from_secs(30),
        keepalive_timeout: Duration::from_secs(60),
        max_connections: 4096,
        max_header_bytes: 32 << 10,
        max_response_bytes: 32 << 20,
        admin_token: None,
    }
}

pub(super) fn check_server(ctx: &mut Ctx<'_>, raw: Option<&Entry<RawServer>>) -> ServerCheck {
    let mut config = default_server();
    let mut listen_ok = true;
    let Some(raw) = raw.and_then(|e| ctx.entry("server", e)) else {
        // A server section with a type error can't tell us the listen address.
        listen_ok = raw.is_none();
        return ServerCheck { config, listen_ok };
    };
    if let Some(text) = &raw.listen {
        match parse_addr(text) {
            Ok(a) => config.listen = a,
            Err(m) => {
                ctx.error("server.listen", m);
                listen_ok = false;
            }
        }
    }
    if let Some(text) = &raw.admin_listen {
        match parse_addr(text) {
            Ok(a) if a == config.listen && a.port() != 0 => {
                ctx.error("server.admin_listen", "must differ from server.listen")
            }
            Ok(a) => config.admin_listen = a,
            Err(m) => ctx.error("server.admin_listen", m),
        }
    }
    if let Some(text) = &raw.max_body_bytes {
        match parse_size(&text.0) {
            Ok(n) => config.max_body_bytes = n,
            Err(m) => ctx.error("server.max_body_bytes", m),
        }
    }
    if let Some(f) = raw.log_format {
        config.log_format = match f {
            RawLogFormat::Text => LogFormat::Text,
            RawLogFormat::Json => LogFormat::Json,
        };
    }
    for (key, raw, slot) in [
        (
            "shutdown_grace",
            &raw.shutdown_grace,
            &mut config.shutdown_grace,
        ),
        (
            "header_read_timeout",
            &raw.header_read_timeout,
            &mut config.header_read_timeout,
        ),
        (
            "body_read_timeout",
            &raw.body_read_timeout,
            &mut config.body_read_timeout,
        ),
        (
            "keepalive_timeout",
            &raw.keepalive_timeout,
            &mut config.keepalive_timeout,
        ),
    ] {
        if let Some(text) = raw {
            match parse_duration(&text.0) {
                Ok(d) if d.is_zero() && key != "shutdown_grace" => {
                    ctx.error(&format!("server.{key}"), "must be more than 0")
                }
                Ok(d) => *slot = d,
                Err(m) => ctx.error(&format!("server.{key}"), m),
            }
        }
    }
    for (key, raw, slot) in [
        (
            "max_header_bytes",
            &raw.max_header_bytes,
            &mut config.max_header_bytes,
        ),
        (
            "max_response_bytes",
            &raw.max_response_bytes,
            &mut config.max_response_bytes,
        ),
    ] {
        if let Some(text) = raw {
            match parse_size(&text.0) {
                Ok(0) => ctx.error(&format!("server.{key}"), "must be more than 0"),
                Ok(n) => *slot = n,
                Err(m) => ctx.error(&format!("server.{key}"), m),
            }
        }
    }
    if config.max_header_bytes > MAX_HEADER_BYTES {
        ctx.error(
            "server.max_header_bytes",
            format!("must be at most {MAX_HEADER_BYTES} bytes (1 MiB)"),
        );
    }
    match raw.max_connections {
        Some(0) => ctx.error("server.max_connections", "must be at least 1"),
        Some(n) => config.max_connections = usize::try_from(n).unwrap_or(usize::MAX),
        None => {}
    }
    if let Some(name) = &raw.admin_token_env {
        config.admin_token = secrets::resolve(
            ctx,
            "server.admin_token_env",
            "admin_token_env",
            name,
            false,
        )
        .map(|(s, _)| s);
    }
    match raw.threads {
        Some(0) => ctx.error("server.threads", "must be at least 1"),
        Some(n) => config.threads = usize::try_from(n).unwrap_or(usize::MAX),
        None => {}
    }
    if let Some(steal) = raw.work_stealing {
        config.work_stealing = steal;
    }
    if let Some(sink) = &raw.usage_log {
        config.usage_log = match sink.trim() {
            "stdout" => UsageSink::Stdout,
            "stderr" => UsageSink::Stderr,
            "off" => UsageSink::Off,
            "" => {
                ctx.error(
                    "server.usage_log",
                    "is empty; use stdout, stderr, off or a file path",
                );
                UsageSink::Stdout
            }
            path => UsageSink::File(PathBuf::from(path)),
        };
    }
    ServerCheck { config, listen_ok }
}

/// `ip:port`, `[ipv6]:port` or `localhost:port`.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let t = text.trim();
    if let Some(port) = t.strip_prefix("localhost:") {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
        }
    }
    t.parse().map_err(|_| {
        format!("`{text}` is not an address; write ip:port, e.g. 0.0.0.0:8080 or 127.0.0.1:9901")
    })
}

/// `state.timeout` when left out: a slow Redis costs a request at most this.
const DEFAULT_STATE_TIMEOUT: Duration = Duration::from_millis(100);
const MAX_STATE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn check_state(ctx: &mut Ctx<'_>, raw: Option<&Entry<RawState>>) -> StateConfig {
    let Some(raw) = raw.and_then(|e| ctx.entry("state", e)) else {
        return StateConfig::Memory;
    };
    let backend = raw.backend.unwrap_or(RawBackend::Memory);
    let sources = [
        ("url_env", raw.url_env.as_deref()),
        ("url", raw.url.as_deref()),
    ];
    if backend == RawBackend::Memory {
        for (key, value) in sources {
            if value.is_some() {
                ctx.error(&format!("state.{key}"), "only used with `backend: redis`");
            }
        }
        if raw.timeout.is_some() {
            ctx.error("state.timeout", "only used with `backend: redis`");
        }
        return StateConfig::Memory;
    }
    let fail_open = !matches!(raw.on_unavailable, Some(RawOnUnavailable::FailClosed));
    let mut timeout = DEFAULT_STATE_TIMEOUT;
    if let Some(text) = &raw.timeout {
        match parse_duration(&text.0) {
            Ok(d) if d.is_zero() || d > MAX_STATE_TIMEOUT => ctx.error(
                "state.timeout",
                "must be more than 0 and at most 10s (every request that needs Redis waits this long when it is down)",
            ),
            Ok(d) => timeout = d,
            Err(m) => ctx.error("state.timeout", m),
        }
    }
    let (key, value) = match secrets::pick(ctx, "state", &sources) {
        Picked::One(k, v) => (k, v),
        Picked::Missing => {
            ctx.error("state", "backend redis needs `url_env` (or `url`)");
            return StateConfig::Memory;
        }
        Picked::Conflict => return StateConfig::Memory,
    };
    let path = format!("state.{key}");
    let Some(secret) = secrets::resolve(ctx, &path, key, value, false) else {
        return StateConfig::Memory;
    };
    let scheme_ok = url::Url::parse(secret.0.expose())
        .is_ok_and(|u| matches!(u.scheme(), "redis" | "rediss" | "unix" | "redis+unix"));
    if !scheme_ok {
        ctx.error(&path, "is not a redis://, rediss:// or unix:// URL");
    }
    StateConfig::Redis {
        url: secret.0,
        fail_open,
        timeout,
    }
}
