//! A mock provider on a loopback port: a small HTTP/1.1 server that answers each request with
//! a scripted reply (JSON, SSE events with delays, or a fault: reset, stall, cut mid-stream)
//! and records what it received, so tests can assert on the exact upstream request.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("upstream request body is JSON")
    }
}

/// A scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response with this status, content type and body.
    Whole {
        /// Status.
        status: u16,
        /// Content type.
        content_type: &'static str,
        /// Body.
        body: Vec<u8>,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
    /// A chunked event stream: each piece written after its delay; `cut` closes the socket
    /// after the pieces without the terminating chunk (a reset mid-stream).
    Stream {
        /// Status.
        status: u16,
        /// Pieces and the delay before each.
        pieces: Vec<(Duration, Vec<u8>)>,
        /// End abruptly instead of cleanly.
        cut: bool,
    },
    /// Close the connection without answering.
    Reset,
    /// Accept, read the request, then say nothing for this long.
    Stall(Duration),
    /// Wait this long, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// A 200 event stream that sends its head and first piece, then waits for the gate to
    /// open before the rest: a stream provably in flight for as long as the test needs.
    Held {
        /// Opened by the test.
        gate: Gate,
        /// The events; the first goes out at once.
        pieces: Vec<Vec<u8>>,
    },
}

/// A gate a [`Reply::Held`] stream waits on; clones share it. Opening it lets every stream
/// held on it, and any that reaches it later, finish.
#[derive(Debug, Clone)]
pub struct Gate(Arc<tokio::sync::watch::Sender<bool>>);

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(false)))
    }

    /// Opens it for good.
    pub fn open(&self) {
        self.0.send_replace(true);
    }

    async fn passed(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: &serde_json::Value) -> Self {
        Self::status_json(200, body)
    }
    /// A status with a JSON body.
    pub fn status_json(status: u16, body: &serde_json::Value) -> Self {
        Reply::Whole {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(body).expect("serializable"),
            headers: Vec::new(),
        }
    }
    /// 200 with an SSE body sent as one piece per event, without delays.
    pub fn sse(events: &[String]) -> Self {
        Reply::Stream {
            status: 200,
            pieces: events
                .iter()
                .map(|e| (Duration::ZERO, e.as_bytes().to_vec()))
                .collect(),
            cut: false,
        }
    }
}

type Script = Arc<Mutex<(VecDeque<Reply>, Option<Reply>)>>;

/// A running mock provider. Dropping it stops accepting.
pub struct MockProvider {
    addr: SocketAddr,
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockProvider {
    /// Starts a mock on 127.0.0.1 (port chosen by the OS) that answers every request with
    /// `default` unless a queued reply is pending.
    pub async fn start(default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
        let addr = listener.local_addr().expect("mock addr");
        let script: Script = Arc::new(Mutex::new((VecDeque::new(), Some(default))));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (script.clone(), received.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (s, r) = (s.clone(), r.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, s, r).await;
                });
            }
        });
        Self {
            addr,
            script,
            received,
            task,
        }
    }

    /// Queues replies used, in order, before the default.
    pub fn push(&self, reply: Reply) {
        self.script.lock().expect("script").0.push_back(reply);
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("received").clone()
    }

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        self.received.lock().expect("received").len()
    }
}

/// Reads one request head and its content-length body; `None` on EOF.
pub(crate) async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Received> {
    let mut tmp = vec![0u8; 65536];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn serve(
    mut sock: TcpStream,
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        received.lock().expect("received").push(req);
        let reply = {
            let mut s = script.lock().expect("script");
            s.0.pop_front().or_else(|| s.1.clone())
        };
        let reply = match reply {
            Some(Reply::Delay(d, inner)) => {
                tokio::time::sleep(d).await;
                Some(*inner)
            }
            other => other,
        };
        match reply {
            None | Some(Reply::Reset) => return Ok(()),
            Some(Reply::Delay(..)) => return Ok(()),
            Some(Reply::Stall(d)) => {
                tokio::time::sleep(d).await;
                return Ok(());
            }
            Some(Reply::Whole {
                status,
                content_type,
                body,
                headers,
            }) => {
                let mut out = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n",
                    reason(status),
                    body.len()
                );
                for (n, v) in headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                sock.write_all(&bytes).await?;
            }
            Some(Reply::Stream {
                status,
                pieces,
                cut,
            }) => {
                write_stream_head(&mut sock, status).await?;
                for (delay, piece) in pieces {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    write_chunk(&mut sock, &piece).await?;
                }
                if cut {
                    return Ok(());
                }
                sock.write_all(b"0\r\n\r\n").await?;
            }
            Some(Reply::Held { gate, pieces }) => {
                write_stream_head(&mut sock, 200).await?;
                for (i, piece) in pieces.iter().enumerate() {
                    if i == 1 {
                        gate.passed().await;
                    }
                    write_chunk(&mut sock, piece).await?;
                }
                sock.write_all(b"0\r\n\r\n").await?;
            }
        }
    }
    Ok(())
}

async fn write_stream_head(sock: &mut TcpStream, status: u16) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        reason(status)
    );
    sock.write_all(head.as_bytes()).await
}

/// One chunk of a chunked body.
async fn write_chunk(sock: &mut TcpStream, piece: &[u8]) -> std::io::Result<()> {
    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
    chunk.extend_from_slice(piece);
    chunk.extend_from_slice(b"\r\n");
    sock.write_all(&chunk).await
}
