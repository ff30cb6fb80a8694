//! The real `switchyard` binary as a child process on loopback ports, with its config in a
//! temporary directory, its environment given explicitly, and its stdout (usage records) and
//! stderr (logs) captured to files the test can read.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago (bound to 127.0.0.1:0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
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
    /// builder adds `server.listen`/`admin_listen` on free ports unless the YAML has `server:`.
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

    /// Starts the process and waits until `/readyz` answers 200 (at most 20 s).
    pub fn start(self) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, admin_port) = (free_port(), free_port());
        let yaml = if self.yaml.contains("\nserver:") || self.yaml.starts_with("server:") {
            self.yaml
                .replace("{port}", &port.to_string())
                .replace("{admin_port}", &admin_port.to_string())
        } else {
            format!(
                "server:\n  listen: 127.0.0.1:{port}\n  admin_listen: 127.0.0.1:{admin_port}\n  shutdown_grace: 1s\n{}",
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
        let gw = Gateway {
            child,
            base: format!("http://127.0.0.1:{port}"),
            admin: format!("http://127.0.0.1:{admin_port}"),
            config_path,
            dir,
        };
        gw.wait_ready();
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
    /// Waits for `/readyz` and then for the API listener itself: pingora starts its services
    /// side by side, so on a busy machine the admin listener can answer before the API port
    /// is bound.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("{}/readyz", self.admin);
        let api = self.base.trim_start_matches("http://").to_string();
        while Instant::now() < deadline {
            if let Ok(200) = crate::http::get_status(&url) {
                if std::net::TcpStream::connect(&api).is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
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
