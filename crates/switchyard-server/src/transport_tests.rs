//! The transport against a raw HTTP/1 upstream on loopback: the request arrives whole, the
//! connection is pooled and reused, a pooled connection closed before it answered is retried
//! once on a new one (a new connection is not), and the head deadline holds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// Each request the upstream read: (connection, bytes).
type Seen = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// What the upstream does with the `n`-th request on its `c`-th connection.
#[derive(Clone, Copy)]
enum Then {
    Answer,
    Close,
    Stall,
}

/// A loopback upstream that records each request's bytes as (connection, bytes).
struct Upstream {
    addr: String,
    seen: Seen,
}

impl Upstream {
    async fn start(script: fn(usize, usize) -> Then) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Seen::default();
        let log = seen.clone();
        tokio::spawn(async move {
            for conn in 0.. {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(socket, conn, script, log.clone()));
            }
        });
        Self { addr, seen }
    }

    fn peer(&self) -> HttpPeer {
        HttpPeer::new(self.addr.as_str(), false, String::new())
    }

    fn seen(&self) -> Vec<(usize, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, conn: usize, script: fn(usize, usize) -> Then, log: Seen) {
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
            Then::Close => return,
            Then::Stall => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
        }
    }
}

/// One request (head and `content-length` body) off `socket`; `None` at EOF.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
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

fn request(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: up\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One exchange, its body read to the end and the connection released; the status.
async fn call(t: &Transport, peer: &HttpPeer, body: &str) -> Result<u16, AttemptError> {
    let soon = Instant::now() + Duration::from_secs(5);
    let mut session = t.exchange(peer, "up", &request(body), soon, soon).await?;
    let status = session.response_header().map(|h| h.status.as_u16());
    while !session.response_done() {
        if session.read_response_body().await.unwrap().is_none() {
            break;
        }
    }
    t.release(session, peer, Duration::from_secs(60)).await;
    Ok(status.unwrap())
}

#[tokio::test]
async fn requests_arrive_whole_and_one_connection_serves_them_in_turn() {
    let up = Upstream::start(|_, _| Then::Answer).await;
    let t = Transport::default();
    let peer = up.peer();
    assert_eq!(call(&t, &peer, "{\"a\":1}").await.unwrap(), 200);
    assert_eq!(call(&t, &peer, "{\"b\":2}").await.unwrap(), 200);
    let seen = up.seen();
    assert_eq!(
        seen,
        [(0, request("{\"a\":1}")), (0, request("{\"b\":2}"))],
        "both on the first connection, byte for byte"
    );
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
    let peer = up.peer();
    assert_eq!(call(&t, &peer, "first").await.unwrap(), 200);
    assert_eq!(call(&t, &peer, "second").await.unwrap(), 200);
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
    let e = call(&t, &up.peer(), "x").await.unwrap_err();
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
            &up.peer(),
            "up",
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
    let peer = HttpPeer::new(addr, false, String::new());
    let e = call(&Transport::default(), &peer, "x").await.unwrap_err();
    assert!(
        matches!(&e, AttemptError::Connect(who, _) if who == "up"),
        "{e}"
    );
}
