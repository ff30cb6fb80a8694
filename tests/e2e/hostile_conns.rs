//! Hostile connection loads through the real binary: many idle keep-alive clients (memory
//! per connection, read from `/proc`) and a flood that exhausts the open-file limit (set on
//! the running process with `prlimit`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::*;
use switchyard_e2e::{openai, Gateway, MockProvider, Reply};

/// The value of the first sample whose line starts with `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn open_connections(gw: &Gateway) -> Option<f64> {
    sample(&gw.metrics(), "switchyard_open_connections ")
}

/// The process's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn connect(gw: &Gateway) -> TcpStream {
    let s = TcpStream::connect(gw.base.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Writes `request` and reads one response (head and a `content-length` body), leaving the
/// connection open. Returns the status line and body.
fn exchange(s: &mut TcpStream, request: &[u8]) -> std::io::Result<(String, String)> {
    s.write_all(request)?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                let status = head.lines().next().unwrap_or_default().to_string();
                return Ok((status, body.to_string()));
            }
        }
    }
}

fn chat_request() -> Vec<u8> {
    let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        .to_string();
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn models_request() -> Vec<u8> {
    format!("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\n\r\n")
        .into_bytes()
}

/// `n` connections that each completed one chat request and stay open, idle.
fn idle_clients(gw: &Gateway, n: usize) -> Vec<TcpStream> {
    let request = chat_request();
    (0..n)
        .map(|_| {
            let mut s = connect(gw);
            let (status, _) = exchange(&mut s, &request).unwrap();
            assert!(status.contains(" 200 "), "{status}\n{}", gw.stderr());
            s
        })
        .collect()
}

/// Waits (at most 20 s) until the gateway counts `n` open client connections.
fn wait_open(gw: &Gateway, n: f64) {
    assert!(
        gw.eventually(Duration::from_secs(20), || open_connections(gw) == Some(n)),
        "open connections {:?}, expected {n}",
        open_connections(gw)
    );
}

// Multi-threaded: the clients are blocking sockets while the mock answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_costs_little_memory() {
    const N: usize = 1000;
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let pid = gw.pid();
    // Warm up: the allocator's caches, the upstream pool, the metric series.
    drop(idle_clients(&gw, 50));
    wait_open(&gw, 0.0);
    let before = rss_kib(pid);

    let clients = idle_clients(&gw, N);
    wait_open(&gw, N as f64);
    let with = rss_kib(pid);
    let per_conn = with.saturating_sub(before) as f64 * 1024.0 / N as f64;

    drop(clients);
    wait_open(&gw, 0.0);
    let after = rss_kib(pid);
    // The allocator keeps what closed connections freed, and new connections reuse it. Not
    // all of it: mimalloc frees across threads lazily, so under load a second round still grew
    // by up to ~60 % of the first (38 → 63 → 63 → 77 MB); a leak would grow by all of it.
    let clients = idle_clients(&gw, N);
    wait_open(&gw, N as f64);
    let again = rss_kib(pid);
    drop(clients);
    eprintln!(
        "RSS: {before} KiB before, {with} KiB with {N} idle connections ({per_conn:.0} bytes each), {after} KiB after they closed, {again} KiB with {N} new ones"
    );
    assert!(
        again.saturating_sub(after) < with.saturating_sub(before) * 3 / 4,
        "the memory of closed connections is not reused: RSS {before} → {with} → {after} → {again} KiB"
    );
    // The target is 25 KB in a release build; a debug build (this test's) carries more, and
    // pingora's default 64 KiB read buffer alone would be far past this bound.
    assert!(
        per_conn < 40.0 * 1024.0,
        "{per_conn:.0} bytes per idle connection (RSS {before} → {with} KiB)"
    );
}

// Multi-threaded: the clients are blocking sockets while the mock answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_open_file_limit_accept_failures_are_logged_and_counted_and_the_gateway_recovers() {
    let mock = MockProvider::start(Reply::json(&openai::completion("hi", 1, 1))).await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let pid = gw.pid();
    let mut kept = connect(&gw);
    let (status, _) = exchange(&mut kept, &models_request()).unwrap();
    assert!(status.contains(" 200 "), "{status}");

    // Leave the process 16 descriptors, then flood it with idle connections.
    let limit = open_fds(pid) + 16;
    let set = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()
        .expect("prlimit");
    assert!(set.success());
    let mut flood = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gw.stderr().contains("cannot accept connections") {
        assert!(
            Instant::now() < deadline,
            "no accept failure logged with {} connections:\n{}",
            flood.len(),
            gw.stderr()
        );
        if flood.len() < 64 {
            flood.push(connect(&gw));
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(open_fds(pid) >= limit - 1, "{} fds", open_fds(pid));

    // A connection the gateway already holds is still served.
    let (status, body) = exchange(&mut kept, &models_request()).unwrap();
    assert!(status.contains(" 200 "), "{status} {body}");

    // Once the flood closes, new clients are served again.
    drop(flood);
    let mut fresh = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while fresh.is_none() {
        assert!(Instant::now() < deadline, "{}", gw.stderr());
        let mut s = connect(&gw);
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        if let Ok((status, _)) = exchange(&mut s, &models_request()) {
            fresh = Some(status);
        }
    }
    assert!(fresh.unwrap().contains(" 200 "));
    let m = gw.metrics();
    assert!(
        sample(&m, r#"switchyard_accept_errors_total{reason="fd_limit"}"#) >= Some(1.0),
        "{m}"
    );
}
