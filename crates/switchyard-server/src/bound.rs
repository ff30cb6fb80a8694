//! Listeners on port 0, and telling the world which ports they got.
//!
//! pingora binds its listeners itself and does not say which port the OS chose, so for a port-0
//! address the gateway first *reserves* a port: a socket bound (not listening) with
//! `SO_REUSEPORT`, held for the life of the process, so no other socket can be given that port.
//! pingora then binds the same port with `SO_REUSEPORT`. Only a listening socket receives
//! connections, so the reservation takes none of them. Fixed ports are bound as before, without
//! `SO_REUSEPORT`, so a second gateway on the same port still fails loudly.
//!
//! Once both listeners accept connections, [`Announce`] logs `switchyard listening` with the
//! bound addresses and, when asked (`--ready-file`), writes them as JSON to a file (by rename,
//! so a reader never sees half of it). Tests start the binary on port 0 and read that file:
//! no bind-then-release race.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use pingora_core::listeners::{L4BufferSettings, ListenerConfig, TcpSocketOptions};
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;
use socket2::{Domain, Socket, Type};

/// A listen address made concrete: the port the listener will have, the socket options pingora
/// must bind it with, and the reservation that holds an OS-chosen port.
pub(crate) struct Bound {
    /// The address pingora binds (never port 0).
    pub addr: SocketAddr,
    /// `SO_REUSEPORT` when the port was reserved.
    pub options: Option<TcpSocketOptions>,
    _reservation: Option<Socket>,
}

impl Bound {
    /// Reserves a port for a port-0 address; passes other addresses through.
    pub fn new(addr: SocketAddr) -> std::io::Result<Self> {
        if addr.port() != 0 {
            return Ok(Self {
                addr,
                options: None,
                _reservation: None,
            });
        }
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| std::io::Error::other("reserved socket has no IP address"))?;
        let mut options = TcpSocketOptions::default();
        options.so_reuseport = Some(true);
        Ok(Self {
            addr,
            options: Some(options),
            _reservation: Some(socket),
        })
    }

    /// Adds this listener to a pingora service, with no L4 read buffer (see [`l4_buffers`]).
    pub fn add_to<A>(&self, service: &mut pingora_core::services::listening::Service<A>) {
        let mut listener = ListenerConfig::tcp(self.addr.to_string()).l4_buffer(l4_buffers());
        if let Some(options) = self.options.clone() {
            listener = listener.tcp_socket_options(options);
        }
        service.add_listener(listener);
    }
}

/// The buffers pingora puts under each accepted connection. Its default read buffer is
/// 64 KiB, zeroed when the connection is set up and held for the connection's whole life:
/// most of an idle keep-alive connection's memory. It exists for TLS, which reads in small
/// records; over plain TCP pingora's HTTP/1 codec reads into buffers of its own (4 KiB for a
/// head, 64 KiB for a body), so without it a head of up to 4 KiB still takes one `recv`.
/// The small write buffer stays: it lets a head and a short body leave in one `send`.
fn l4_buffers() -> L4BufferSettings {
    L4BufferSettings::default().read(0)
}

/// Waits until the API and admin listeners accept connections, then logs their addresses
/// and writes the ready file. The reservations live here, for the life of the process.
pub(crate) struct Announce {
    api: Bound,
    admin: Bound,
    ready_file: Option<PathBuf>,
}

impl Announce {
    pub fn new(api: Bound, admin: Bound, ready_file: Option<PathBuf>) -> Self {
        Self {
            api,
            admin,
            ready_file,
        }
    }

    fn write_ready_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        let body = serde_json::json!({
            "listen": self.api.addr.to_string(),
            "admin_listen": self.admin.addr.to_string(),
            "pid": std::process::id(),
        });
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, format!("{body}\n"))?;
        std::fs::rename(&tmp, path)
    }
}

/// Where to connect to reach a listener on `addr` (an unspecified IP means loopback).
fn dialable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Connects to `addr` until it accepts, for at most a minute.
async fn accepting(addr: SocketAddr) -> bool {
    let to = dialable(addr);
    for _ in 0..1200 {
        if tokio::net::TcpStream::connect(to).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[async_trait]
impl BackgroundService for Announce {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        if !(accepting(self.api.addr).await && accepting(self.admin.addr).await) {
            tracing::error!(
                listen = %self.api.addr,
                admin = %self.admin.addr,
                "the listeners did not start accepting within a minute"
            );
            return;
        }
        tracing::info!(
            listen = %self.api.addr,
            admin = %self.admin.addr,
            "switchyard listening"
        );
        if let Some(path) = &self.ready_file {
            if let Err(e) = self.write_ready_file(path) {
                tracing::error!(path = %path.display(), error = %e, "cannot write the ready file");
            }
        }
        // Keep the reservations until shutdown.
        let _ = shutdown.changed().await;
    }
}
