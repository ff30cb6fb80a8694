//! The transport against a raw HTTP/1 upstream on loopback: the request arrives whole, the
//! connection is pooled and reused, a pooled connection closed before it answered is retried
//! once on a new one (a new connection is not), one the upstream closed while idle is swept
//! out of the pool before it is reused, and the head deadline holds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pingora_core::tls::TlsAcceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Each request the upstream read: (connection, bytes).
type Seen = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// What the upstream does with the `n`-th request on its `c`-th connection.
#[derive(Clone, Copy)]
enum Then {
    Answer,
    /// Answer (keep-alive), then close the idle connection.
    AnswerThenClose,
    Close,
    Stall,
}

/// A loopback upstream that records each request's bytes as (connection, bytes).
struct Upstream {
    addr: SocketAddr,
    seen: Seen,
}

impl Upstream {
    async fn start(script: fn(usize, usize) -> Then) -> Self {
        Self::start_with(script, None).await
    }

    /// Speaks TLS through `tls` when given, else plain TCP.
    async fn start_with(script: fn(usize, usize) -> Then, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Seen::default();
        let log = seen.clone();
        tokio::spawn(async move {
            for conn in 0.. {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                match tls.clone() {
                    None => tokio::spawn(serve(socket, conn, script, log)),
                    Some(acceptor) => tokio::spawn(async move {
                        if let Ok(socket) = acceptor.accept(socket).await {
                            serve(socket, conn, script, log).await;
                        }
                    }),
                };
            }
        });
        Self { addr, seen }
    }

    fn key(&self) -> PeerKey {
        key(self.addr)
    }

    fn seen(&self) -> Vec<(usize, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve<S>(mut socket: S, conn: usize, script: fn(usize, usize) -> Then, log: Seen)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    for n in 0.. {
        let Some(request) = read_request(&mut socket, &mut buf).await else {
            return;
        };
        log.lock().unwrap().push((conn, request));
        match script(conn, n) {
            Then::Answer => {
                if socket.write_all(OK).await.is_err() {
                    return;
                }
            }
            Then::AnswerThenClose => {
                let _ = socket.write_all(OK).await;
                // A FIN, after a TLS close alert on TLS.
                let _ = socket.shutdown().await;
                return;
            }
            Then::Close => return,
            Then::Stall => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
        }
    }
}

/// One request (head and `content-length` body) off `socket`; `None` at EOF.
async fn read_request(socket: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let total = end + 4 + length;
            if buf.len() >= total {
                return Some(buf.drain(..total).collect());
            }
        }
        let mut chunk = [0u8; 4096];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn key(addr: SocketAddr) -> PeerKey {
    PeerKey {
        addr,
        tls: false,
        sni: "".into(),
    }
}

fn dest(key: &PeerKey) -> Dest<'_> {
    Dest {
        key,
        authority: "up",
        connect_timeout: Duration::from_secs(5),
    }
}

fn request(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: up\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One exchange, its body read to the end and the connection released; the status.
async fn call(t: &Transport, key: &PeerKey, body: &str) -> Result<u16, AttemptError> {
    let soon = Instant::now() + Duration::from_secs(5);
    let mut session = t.exchange(&dest(key), &request(body), soon, soon).await?;
    let status = session.response_header().map(|h| h.status.as_u16());
    while !session.response_done() {
        if session.read_response_body().await.unwrap().is_none() {
            break;
        }
    }
    t.release(session, key, Duration::from_secs(60)).await;
    Ok(status.unwrap())
}

#[path = "transport_tls_tests.rs"]
mod tls;

#[tokio::test]
async fn requests_arrive_whole_and_one_connection_serves_them_in_turn() {
    let up = Upstream::start(|_, _| Then::Answer).await;
    let t = Transport::default();
    let key = up.key();
    assert_eq!(call(&t, &key, "{\"a\":1}").await.unwrap(), 200);
    assert_eq!(call(&t, &key, "{\"b\":2}").await.unwrap(), 200);
    let seen = up.seen();
    assert_eq!(
        seen,
        [(0, request("{\"a\":1}")), (0, request("{\"b\":2}"))],
        "both on the first connection, byte for byte"
    );
    assert_eq!(t.idle(&key), 1, "back in the pool");
}

#[tokio::test]
async fn a_connection_the_upstream_closed_while_idle_is_swept_out_before_it_is_reused() {
    let up = Upstream::start(|c, _| match c {
        0 => Then::AnswerThenClose,
        _ => Then::Answer,
    })
    .await;
    let options = PoolOptions {
        max_idle_per_peer: 8,
        sweep_every: Duration::from_millis(10),
    };
    let t = Transport::new(TransportConnector::new(None), options);
    let key = up.key();
    assert_eq!(call(&t, &key, "first").await.unwrap(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.idle(&key) > 0 {
        assert!(
            Instant::now() < deadline,
            "the closed connection stayed pooled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(call(&t, &key, "second").await.unwrap(), 200);
    let seen: Vec<usize> = up.seen().into_iter().map(|(c, _)| c).collect();
    assert_eq!(seen, [0, 1], "straight to a new connection, no retry");
}

#[tokio::test]
async fn a_pooled_connection_closed_before_answering_is_retried_once_on_a_new_one() {
    // The first connection answers once, then takes the next request and closes.
    let up = Upstream::start(|c, n| match (c, n) {
        (0, 0) => Then::Answer,
        (0, _) => Then::Close,
        _ => Then::Answer,
    })
    .await;
    let t = Transport::default();
    let key = up.key();
    assert_eq!(call(&t, &key, "first").await.unwrap(), 200);
    assert_eq!(call(&t, &key, "second").await.unwrap(), 200);
    let seen: Vec<usize> = up.seen().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        seen,
        [0, 0, 1],
        "the second request again, on a new connection"
    );
}

#[tokio::test]
async fn a_new_connection_closed_before_answering_is_a_failed_attempt() {
    let up = Upstream::start(|_, _| Then::Close).await;
    let t = Transport::default();
    let e = call(&t, &up.key(), "x").await.unwrap_err();
    assert!(
        matches!(&e, AttemptError::Protocol(why) if why.contains("closed before answering")),
        "{e}"
    );
    assert_eq!(
        up.seen().len(),
        1,
        "no retry on a connection made for this request"
    );
}

#[tokio::test]
async fn no_head_by_the_deadline_is_a_head_timeout() {
    let up = Upstream::start(|_, _| Then::Stall).await;
    let t = Transport::default();
    let now = Instant::now();
    let answer = t
        .exchange(
            &dest(&up.key()),
            &request("x"),
            now + Duration::from_secs(5),
            now + Duration::from_millis(200),
        )
        .await;
    assert!(matches!(answer, Err(AttemptError::HeadTimeout)));
    assert!(now.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_names_the_upstream() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = call(&Transport::default(), &key(addr), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AttemptError::Connect(who, _) if who == "up"),
        "{e}"
    );
}
