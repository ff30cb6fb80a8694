//! The real `switchyard` binary as a child process on loopback ports, with its config in a
//! temporary directory, its environment given explicitly, and its stdout (usage records) and
//! stderr (logs) captured to files the test can read.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago (bound to 127.0.0.1:0, then released), for a program
/// that cannot bind port 0 and report it (redis-server serving TLS), which must then retry on
/// a clash.
/// Servers the tests start bind port 0 themselves and report what they got; an address that
/// must refuse connections is a [`RefusedPort`].
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A loopback port where connections are refused, held for as long as this lives: a TCP socket
/// bound to it but never listening, so no other server can take the port meanwhile (as one
/// could a port that was bound and released).
pub struct RefusedPort {
    _socket: tokio::net::TcpSocket,
    /// The port.
    pub port: u16,
}

impl RefusedPort {
    /// Binds 127.0.0.1:0 without listening.
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind("127.0.0.1:0".parse().expect("loopback"))
            .expect("bind 127.0.0.1:0");
        let port = socket.local_addr().expect("bound address").port();
        Self {
            _socket: socket,
            port,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Default for RefusedPort {
    fn default() -> Self {
        Self::new()
    }
}

/// A running gateway. Dropping it kills the process.
pub struct Gateway {
    child: Child,
    dir: tempfile::TempDir,
    /// API base, `http://127.0.0.1:PORT`.
    pub base: String,
    /// Admin base.
    pub admin: String,
    /// The config file.
    pub config_path: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builder for a gateway process.
pub struct GatewayBuilder {
    bin: PathBuf,
    yaml: String,
    env: Vec<(String, String)>,
    config_name: String,
    configmap: bool,
}

impl GatewayBuilder {
    /// `bin` is the switchyard binary; `yaml` the config body **without** `server:` — the
    /// builder adds `server.listen`/`admin_listen` on port 0 unless the YAML has `server:`
    /// (where `{port}` and `{admin_port}` become 0). The gateway reports the ports it bound in
    /// its ready file (`--ready-file`).
    pub fn new(bin: impl Into<PathBuf>, yaml: impl Into<String>) -> Self {
        Self {
            bin: bin.into(),
            yaml: yaml.into(),
            env: Vec::new(),
            config_name: "switchyard.yaml".into(),
            configmap: false,
        }
    }

    /// Lays the config out as a Kubernetes ConfigMap volume does: `switchyard.yaml` is a
    /// symlink to `..data/switchyard.yaml`, and `..data` a symlink to a timestamped directory.
    pub fn configmap_layout(mut self) -> Self {
        self.configmap = true;
        self
    }

    /// Adds an environment variable (the process gets no others but PATH and RUST_LOG).
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Starts the process, reads the ports it bound from its ready file, and waits until
    /// `/readyz` answers 200 (at most 20 s in all).
    pub fn start(self) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = if self.yaml.contains("\nserver:") || self.yaml.starts_with("server:") {
            self.yaml
                .replace("{port}", "0")
                .replace("{admin_port}", "0")
        } else {
            format!(
                "server:\n  listen: 127.0.0.1:0\n  admin_listen: 127.0.0.1:0\n  shutdown_grace: 1s\n{}",
                self.yaml
            )
        };
        let config_path = dir.path().join(&self.config_name);
        if self.configmap {
            configmap_write(dir.path(), &self.config_name, &yaml, 1);
            std::os::unix::fs::symlink(format!("..data/{}", self.config_name), &config_path)
                .expect("symlink config");
        } else {
            std::fs::write(&config_path, yaml).expect("write config");
        }
        let child = spawn(&self.bin, &config_path, dir.path(), &self.env);
        let mut gw = Gateway {
            child,
            base: String::new(),
            admin: String::new(),
            config_path,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let ready = gw.wait_ready_file(deadline);
        gw.base = format!("http://{}", ready["listen"].as_str().expect("listen"));
        gw.admin = format!("http://{}", ready["admin_listen"].as_str().expect("admin"));
        gw.wait_ready(deadline);
        gw
    }
}

/// Writes a new ConfigMap generation the way the kubelet does: a fresh timestamped directory,
/// a `..data_tmp` symlink to it, renamed over `..data`.
pub fn configmap_write(dir: &Path, name: &str, yaml: &str, generation: u32) {
    let gen_dir = format!("..2026_11_24_{generation:04}");
    std::fs::create_dir(dir.join(&gen_dir)).expect("configmap generation dir");
    std::fs::write(dir.join(&gen_dir).join(name), yaml).expect("configmap file");
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&gen_dir, &tmp).expect("..data_tmp");
    std::fs::rename(&tmp, dir.join("..data")).expect("swap ..data");
}

fn spawn(bin: &Path, config: &Path, dir: &Path, env: &[(String, String)]) -> Child {
    let stdout = std::fs::File::create(dir.join("stdout.log")).expect("stdout file");
    let stderr = std::fs::File::create(dir.join("stderr.log")).expect("stderr file");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .arg("--ready-file")
        .arg(dir.join("ready.json"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start switchyard")
}

impl Gateway {
    /// Waits for the ready file, which the gateway writes once both listeners accept
    /// connections, and returns its JSON (the bound addresses). Fails at once if the process
    /// exits first.
    fn wait_ready_file(&mut self, deadline: Instant) -> serde_json::Value {
        let path = self.dir.path().join("ready.json");
        loop {
            if let Some(ready) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
            {
                return ready;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "switchyard exited ({status}) before listening:\n{}",
                    self.stderr()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "switchyard wrote no ready file within 20 s:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for `/readyz` (the config watcher armed).
    fn wait_ready(&self, deadline: Instant) {
        let url = format!("{}/readyz", self.admin);
        while Instant::now() < deadline {
            if let Ok(200) = crate::http::get_status(&url) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("switchyard did not become ready:\n{}", self.stderr());
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Everything the process wrote to stdout so far (usage records).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    /// Usage records parsed from stdout, waiting up to 5 s for at least `n`.
    pub fn usage_records(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let recs: Vec<serde_json::Value> = self
                .stdout()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .filter(|v: &serde_json::Value| v["type"] == "usage")
                .collect();
            if recs.len() >= n || Instant::now() > deadline {
                return recs;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The config directory (for reload tests).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit (bounded), returning its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The metrics text.
    pub fn metrics(&self) -> String {
        crate::http::get_text(&format!("{}/metrics", self.admin)).expect("metrics")
    }

    /// Polls `cond` every 50 ms for up to `within`.
    pub fn eventually(&self, within: Duration, mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}
