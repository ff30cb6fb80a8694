//! A real `redis-server` without persistence, for tests of the shared state backend. Dropping
//! it kills the server; [`RedisServer::kill`] does so mid-test and [`RedisServer::restart`]
//! brings it back at the same address. [`RedisServer::start`] listens on a unix socket in its
//! own directory (the gateway reaches it as `redis+unix://`), so no port is ever raced for;
//! [`RedisServer::start_tls`] serves TLS only, which needs a TCP port, with a certificate from
//! a fresh test CA (trust it with `SSL_CERT_FILE`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// A running redis-server.
pub struct RedisServer {
    child: Option<Child>,
    /// Its TLS port on 127.0.0.1 (a plain server has none: it listens on its unix socket).
    pub port: u16,
    dir: tempfile::TempDir,
    tls: bool,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `redis-server` is on PATH; when it is not, false on a developer's machine (the
/// test returns early with a note) and a failure in CI (see [`crate::tools::require`]).
pub fn required(test: &str) -> bool {
    crate::tools::require("redis-server", &["--version"], test)
}

impl RedisServer {
    /// Starts one on a unix socket and waits until it answers PING (at most 10 s).
    pub fn start() -> Self {
        let mut server = Self {
            child: None,
            port: 0,
            dir: tempfile::tempdir().expect("redis dir"),
            tls: false,
        };
        server.restart();
        server
    }

    /// Starts one that speaks only TLS, with a fresh test CA and a certificate it signed for
    /// 127.0.0.1 (made with the `openssl` command). Clients trust [`RedisServer::ca_file`].
    pub fn start_tls() -> Self {
        let dir = tempfile::tempdir().expect("redis dir");
        crate::tls::make_test_ca(dir.path());
        let mut server = Self {
            child: None,
            port: free_port(),
            dir,
            tls: true,
        };
        server.start_on_a_free_port();
        server
    }

    /// redis-server cannot bind port 0 and report it, and TLS needs TCP, so a TLS server takes
    /// a port that was free and, when another process took it meanwhile (redis-server exits),
    /// tries another.
    fn start_on_a_free_port(&mut self) {
        for _ in 0..5 {
            if self.try_restart() {
                return;
            }
            self.port = free_port();
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// The test CA of a TLS server (PEM), to trust through `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// (Re)starts the server at its address, empty (nothing is persisted), and waits until it
    /// answers PING.
    pub fn restart(&mut self) {
        assert!(
            self.try_restart(),
            "redis-server did not start at {}",
            self.url()
        );
    }

    /// The unix socket of a plain server.
    fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// Starts the server and waits (at most 10 s) until it answers PING; false if it exited
    /// (its port was taken) or never answered.
    fn try_restart(&mut self) -> bool {
        self.kill();
        let mut cmd = Command::new("redis-server");
        if self.tls {
            cmd.args(["--port", "0", "--tls-port", &self.port.to_string()])
                .arg("--tls-cert-file")
                .arg(self.dir.path().join("cert.pem"))
                .arg("--tls-key-file")
                .arg(self.dir.path().join("key.pem"))
                .arg("--tls-ca-cert-file")
                .arg(self.ca_file())
                .args(["--tls-auth-clients", "no"]);
        } else {
            cmd.args(["--port", "0", "--unixsocketperm", "700", "--unixsocket"])
                .arg(self.socket());
        }
        let child = cmd
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return true;
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    /// `redis+unix:///DIR/redis.sock`, or `rediss://127.0.0.1:PORT/` for a TLS server.
    pub fn url(&self) -> String {
        if self.tls {
            format!("rediss://127.0.0.1:{}/", self.port)
        } else {
            format!("redis+unix://{}", self.socket().display())
        }
    }

    fn ping(&self) -> bool {
        if !self.tls {
            return self
                .command(&["PING"])
                .is_ok_and(|r| r.starts_with("+PONG"));
        }
        Command::new("redis-cli")
            .args(["--tls", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--cacert")
            .arg(self.ca_file())
            .arg("PING")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"PONG"))
    }

    /// Sends one command (RESP array of bulk strings) and returns the raw reply; plain (not
    /// TLS) servers only.
    pub fn command(&self, args: &[&str]) -> std::io::Result<String> {
        let mut s = UnixStream::connect(self.socket())?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(out.as_bytes())?;
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).to_string())
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
