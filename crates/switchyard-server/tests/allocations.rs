//! Heap allocations per request on the pass-through path — an OpenAI chat client, an OpenAI
//! upstream, JSON and streamed — counted exactly by a global allocator wrapper around the real
//! server on loopback. The count does not depend on the machine's load, so it is how a change
//! to the data path shows what it costs (`cargo test -p switchyard-server --test allocations
//! -- --nocapture` prints the figures), and a ceiling here keeps a per-request allocation
//! storm from creeping back.
//!
//! A test binary of its own: the allocator is process-wide, so the gateway runs in this
//! process (the e2e tests run the binary as a child). The client and the mock upstream
//! allocate nothing per request (fixed buffers, canned answers) — checked first, by counting
//! a client talking to the mock directly — so what is counted is the gateway's.

// Test code: a failed setup step ends the test with what went wrong.
#![allow(clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const CLIENT_KEY: &str = "sk-alloc-client-0123456789";
/// Requests before counting: connections, pools, caches and lazy tables are set up.
const WARM_UP: usize = 200;
/// Requests counted.
const COUNTED: usize = 1_000;

/// Allocations (allocs + reallocs) and bytes allocated per request.
#[derive(Debug, Clone, Copy)]
struct PerRequest {
    allocations: f64,
    bytes: f64,
}

/// Runs `one` WARM_UP times, then counts the allocator calls of COUNTED more, per request.
fn count(mut one: impl FnMut()) -> PerRequest {
    for _ in 0..WARM_UP {
        one();
    }
    let region = Region::new(GLOBAL);
    for _ in 0..COUNTED {
        one();
    }
    let change = region.change();
    let n = COUNTED as f64;
    PerRequest {
        allocations: (change.allocations + change.reallocations) as f64 / n,
        bytes: change.bytes_allocated as f64 / n,
    }
}

/// The peers harness's chat request (about 1 KB).
fn request_body(stream: bool) -> String {
    format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"system","content":"You are a concise assistant for a platform engineering team. Answer in plain prose, at most three sentences, and do not use lists or headings unless the user asks for them."}},{{"role":"user","content":"We run an LLM gateway in front of several providers. What does a circuit breaker do in that setting, and why would we want one?"}},{{"role":"assistant","content":"It watches each provider's error rate and, after repeated failures, stops sending it traffic for a while so requests fail over to a healthy provider instead of waiting on timeouts."}},{{"role":"user","content":"Explain the half-open state in one short paragraph, mentioning how trial requests decide whether the breaker closes again or re-opens, and what a sensible cool-down period is for a chat model API."}}],"temperature":0.2,"max_tokens":256,"user":"bench-user-0042","stream":{stream}}}"#
    )
}

/// An OpenAI chat completion with usage, as the mock answers a JSON request.
fn json_reply() -> String {
    r#"{"id":"chatcmpl-alloc0001","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"A circuit breaker stops sending traffic to a provider after repeated failures, waits for a cool-down period, then lets a few trial requests through. If they succeed, normal traffic resumes; if they fail, the breaker opens again.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":231,"completion_tokens":62,"total_tokens":293,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}"#.to_owned()
}

/// An OpenAI stream as the mock answers a streamed request: a role chunk, 20 content chunks,
/// the finish chunk, the usage chunk and `[DONE]` (the peers harness's shape).
fn sse_reply() -> String {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-alloc0002\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let mut out = chunk(
        r#"{"role":"assistant","content":"","refusal":null}"#,
        "null",
    );
    for word in "A half-open breaker lets a few trial requests through after the cool-down; success closes it, failure re-opens it."
        .split(' ')
        .take(20)
    {
        out.push_str(&chunk(&format!("{{\"content\":\"{word} \"}}"), "null"));
    }
    out.push_str(&chunk("{}", "\"stop\""));
    out.push_str("data: {\"id\":\"chatcmpl-alloc0002\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":17,\"total_tokens\":248,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n");
    out.push_str("data: [DONE]\n\n");
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of header `name` in a head (lower-case `name`), without allocating.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon]
            .eq_ignore_ascii_case(name)
            .then(|| line[colon + 1..].trim_ascii())
    })
}

fn number(text: &[u8], radix: u32) -> Option<usize> {
    usize::from_str_radix(std::str::from_utf8(text).ok()?.trim(), radix).ok()
}

/// Where the body of a chunked message that starts at `body` ends, once all of it is in
/// `buf` (no trailers).
fn chunked_end(buf: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let line = find(&buf[at..], b"\r\n")?;
        let size = number(&buf[at..at + line], 16)?;
        at += line + 2 + size + 2;
        if at > buf.len() {
            return None;
        }
        if size == 0 {
            return Some(at);
        }
    }
}

/// Reads one HTTP/1.1 message (head and body by content-length or chunked) into `buf`, which
/// has room for it; returns where the head ends. Allocates nothing.
fn read_message(stream: &mut TcpStream, buf: &mut Vec<u8>) -> usize {
    buf.clear();
    let mut scratch = [0u8; 8192];
    loop {
        if let Some(h) = find(buf, b"\r\n\r\n") {
            let head_end = h + 4;
            let head = &buf[..head_end];
            let done =
                if let Some(len) = header(head, b"content-length").and_then(|v| number(v, 10)) {
                    buf.len() >= head_end + len
                } else if header(head, b"transfer-encoding")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"))
                {
                    chunked_end(buf, head_end).is_some()
                } else {
                    true
                };
            if done {
                return head_end;
            }
        }
        let n = stream.read(&mut scratch).expect("read");
        assert!(n > 0, "the peer closed the connection mid-message");
        assert!(
            buf.len() + n <= buf.capacity(),
            "message larger than the buffer"
        );
        buf.extend_from_slice(&scratch[..n]);
    }
}

/// The mock OpenAI upstream: answers every request on a connection with the canned JSON or
/// stream (by the body's `"stream":true`), each connection on a thread of its own.
fn mock_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mock");
    let addr = listener.local_addr().expect("mock address");
    let answer = |content_type: &str, body: &str| {
        format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-request-id: req_mock_alloc\r\nopenai-processing-ms: 312\r\n\r\n{body}", body.len()).into_bytes()
    };
    let json = answer("application/json", &json_reply());
    let sse = answer("text/event-stream", &sse_reply());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (json, sse) = (json.clone(), sse.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(1 << 16);
                loop {
                    let mut scratch = [0u8; 1];
                    // Wait for the next request, or the end of the connection.
                    match conn.peek(&mut scratch) {
                        Ok(n) if n > 0 => {}
                        _ => return,
                    }
                    let head_end = read_message(&mut conn, &mut buf);
                    let answer = if find(&buf[head_end..], b"\"stream\":true").is_some() {
                        &sse
                    } else {
                        &json
                    };
                    if conn.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A keep-alive client that sends one request and reads its answer without allocating.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::with_capacity(1 << 16),
        }
    }

    /// Sends `request`, reads the answer, checks it is a 200 whose body has `needle`.
    fn ask(&mut self, request: &[u8], needle: &[u8]) {
        self.stream.write_all(request).expect("write");
        let head_end = read_message(&mut self.stream, &mut self.buf);
        assert!(
            self.buf.starts_with(b"HTTP/1.1 200 "),
            "{}",
            String::from_utf8_lossy(&self.buf)
        );
        assert!(
            find(&self.buf[head_end..], needle).is_some(),
            "{}",
            String::from_utf8_lossy(&self.buf)
        );
    }
}

fn http_request(path: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nauthorization: Bearer {CLIENT_KEY}\r\ncontent-length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Starts the gateway in this process on the peers harness's config (the default chain) in
/// front of `upstream`; returns its API address.
fn start_gateway(dir: &Path, upstream: SocketAddr) -> SocketAddr {
    std::fs::write(dir.join("client.key"), CLIENT_KEY).expect("key file");
    std::fs::write(dir.join("upstream.key"), "sk-alloc-upstream-0123456789").expect("key file");
    let d = dir.display();
    let yaml = format!(
        "version: 1
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  usage_log: {d}/usage.jsonl
auth:
  keys:
    - id: bench
      key_file: {d}/client.key
providers:
  - id: mock
    type: openai
    base_url: http://{upstream}/v1
    api_key_file: {d}/upstream.key
models:
  - id: gpt-4o-mini
    provider: mock
    context_window: 128000
    pricing: {{ input_per_mtok: 0.15, output_per_mtok: 0.60 }}
"
    );
    let config = dir.join("switchyard.yaml");
    std::fs::write(&config, yaml).expect("config");
    let ready = dir.join("ready.json");
    let ready_file = ready.clone();
    std::thread::spawn(move || {
        let prepared = switchyard_server::prepare(Some(config)).expect("config loads");
        let e = prepared.ready_file(Some(ready_file)).run();
        panic!("the gateway stopped: {e:?}");
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            let v: serde_json::Value = serde_json::from_str(&text).expect("ready file JSON");
            return v["listen"]
                .as_str()
                .expect("listen")
                .parse()
                .expect("address");
        }
        assert!(Instant::now() < deadline, "the gateway did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Allocations per pass-through request may rise above these only with a reason: raise the
/// ceiling in the same commit and say why. Measured when they were set (debug build): 72.2 per
/// JSON request and 94.3 per stream (107.3 and 130.5 before the per-request work was cut).
const CEILING_JSON: f64 = 80.0;
const CEILING_STREAM: f64 = 104.0;

#[test]
fn allocations_per_pass_through_request() {
    let upstream = mock_upstream();
    let json = http_request("/v1/chat/completions", &request_body(false));
    let stream = http_request("/v1/chat/completions", &request_body(true));

    // The harness itself: client straight to the mock.
    let mut direct = Client::connect(upstream);
    let harness = count(|| direct.ask(&json, b"chat.completion"));
    let harness_stream = count(|| direct.ask(&stream, b"data: [DONE]"));
    println!("harness alone: {harness:?}, streamed {harness_stream:?}");
    assert!(
        harness.allocations < 0.01 && harness_stream.allocations < 0.01,
        "the client and mock must not allocate per request: {harness:?} {harness_stream:?}"
    );
    drop(direct);

    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = start_gateway(dir.path(), upstream);
    let mut client = Client::connect(gateway);
    let per_json = count(|| client.ask(&json, b"chat.completion"));
    let per_stream = count(|| client.ask(&stream, b"data: [DONE]"));
    println!(
        "gateway, JSON: {:.2} allocations, {:.0} bytes per request",
        per_json.allocations, per_json.bytes
    );
    println!(
        "gateway, stream: {:.2} allocations, {:.0} bytes per request",
        per_stream.allocations, per_stream.bytes
    );
    assert!(
        per_json.allocations <= CEILING_JSON,
        "JSON pass-through: {per_json:?} per request, ceiling {CEILING_JSON}"
    );
    assert!(
        per_stream.allocations <= CEILING_STREAM,
        "streamed pass-through: {per_stream:?} per request, ceiling {CEILING_STREAM}"
    );
}
