//! The cork under a real pingora HTTP/1 server session: which writes reach the socket, and
//! that every byte arrives, in order.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::protocols::http::ServerSession;
use pingora_core::protocols::raw_connect::ProxyDigest;
use pingora_core::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType,
};
use pingora_http::ResponseHeader;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::cork::Corked;

/// A socket that serves one request and records each write call that reaches it.
#[derive(Debug)]
struct Recorder {
    request: io::Cursor<Vec<u8>>,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.request).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes.lock().unwrap().push(data.to_vec());
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        let n = all.len();
        self.writes.lock().unwrap().push(all);
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[async_trait]
impl Shutdown for Recorder {
    async fn shutdown(&mut self) {}
}
impl UniqueID for Recorder {
    fn id(&self) -> UniqueIDType {
        0
    }
}
impl Ssl for Recorder {}
impl GetTimingDigest for Recorder {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        Vec::new()
    }
}
impl GetProxyDigest for Recorder {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        None
    }
}
impl GetSocketDigest for Recorder {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        None
    }
}
impl Peek for Recorder {}

type Writes = Arc<Mutex<Vec<Vec<u8>>>>;

/// A server session that has read `request`, over a corked recorder (or a bare one).
async fn session(request: &str, corked: bool) -> (ServerSession, Writes) {
    let writes = Writes::default();
    let raw: Stream = Box::new(Recorder {
        request: io::Cursor::new(request.as_bytes().to_vec()),
        writes: writes.clone(),
    });
    let stream = if corked { Corked::wrap(raw) } else { raw };
    let mut s = ServerSession::new_http1(stream);
    assert!(s.read_request().await.unwrap());
    (s, writes)
}

const GET: &str = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";

fn chunked_head() -> Box<ResponseHeader> {
    let mut h = ResponseHeader::build(200, None).unwrap();
    h.insert_header("transfer-encoding", "chunked").unwrap();
    Box::new(h)
}

fn taken(writes: &Writes) -> Vec<Vec<u8>> {
    std::mem::take(&mut *writes.lock().unwrap())
}

fn text(w: &[u8]) -> String {
    String::from_utf8_lossy(w).into_owned()
}

/// A stream: head + first chunk in one write, the last chunk + terminator in another.
async fn stream_with_holds(s: &mut ServerSession) {
    let cork = Corked::of(s).unwrap();
    cork.hold();
    s.write_response_header(chunked_head()).await.unwrap();
    s.write_response_body(Bytes::from(vec![b'a'; 3000]), false)
        .await
        .unwrap();
    Corked::of(s).unwrap().hold();
    s.write_response_body(Bytes::from(vec![b'b'; 2000]), true)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_held_stream_leaves_in_two_writes() {
    let (mut s, writes) = session(GET, true).await;
    stream_with_holds(&mut s).await;
    let w = taken(&writes);
    assert_eq!(
        w.len(),
        2,
        "{:?}",
        w.iter().map(|w| w.len()).collect::<Vec<_>>()
    );
    let first = text(&w[0]);
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(first.ends_with(&format!("\r\n\r\nBB8\r\n{}\r\n", "a".repeat(3000))));
    assert_eq!(
        text(&w[1]),
        format!("7D0\r\n{}\r\n0\r\n\r\n", "b".repeat(2000))
    );
}

#[tokio::test]
async fn without_a_cork_the_same_stream_takes_four_writes() {
    let (mut s, writes) = session(GET, false).await;
    s.write_response_header(chunked_head()).await.unwrap();
    s.write_response_body(Bytes::from(vec![b'a'; 3000]), false)
        .await
        .unwrap();
    s.write_response_body(Bytes::from(vec![b'b'; 2000]), true)
        .await
        .unwrap();
    assert_eq!(taken(&writes).len(), 4);
}

#[tokio::test]
async fn an_unheld_cork_writes_as_pingora_does() {
    let (mut s, writes) = session(GET, true).await;
    s.write_response_header(chunked_head()).await.unwrap();
    assert_eq!(
        taken(&writes).len(),
        1,
        "the head of a stream is flushed at once"
    );
    s.write_response_body(Bytes::from_static(b"data: x\n\n"), false)
        .await
        .unwrap();
    assert_eq!(text(&taken(&writes).concat()), "9\r\ndata: x\n\n\r\n");
}

#[tokio::test]
async fn a_collected_whole_answer_leaves_in_one_write() {
    let (mut s, writes) = session(GET, true).await;
    let body = Bytes::from(vec![b'j'; 4000]);
    let mut h = ResponseHeader::build(200, None).unwrap();
    h.insert_header("content-length", body.len()).unwrap();
    Corked::of(&s).unwrap().collect();
    s.write_response_header(Box::new(h)).await.unwrap();
    s.write_response_body(body, true).await.unwrap();
    let w = taken(&writes);
    assert_eq!(w.len(), 1);
    assert!(text(&w[0]).ends_with(&format!("\r\n\r\n{}", "j".repeat(4000))));
}

#[tokio::test]
async fn a_large_answer_goes_straight_through_after_what_was_collected() {
    let (mut s, writes) = session(GET, true).await;
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut h = ResponseHeader::build(200, None).unwrap();
    h.insert_header("content-length", body.len()).unwrap();
    Corked::of(&s).unwrap().collect();
    s.write_response_header(Box::new(h)).await.unwrap();
    s.write_response_body(Bytes::from(body.clone()), true)
        .await
        .unwrap();
    let all = taken(&writes).concat();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(text(&all[..split]).starts_with("HTTP/1.1 200 OK"));
    assert_eq!(&all[split..], &body[..], "every byte, in order");
}

#[tokio::test]
async fn a_hold_no_flush_used_is_settled_by_the_end_of_the_response() {
    let (mut s, writes) = session(GET, true).await;
    s.write_response_header(chunked_head()).await.unwrap();
    taken(&writes);
    Corked::of(&s).unwrap().hold();
    s.write_response_body(Bytes::from_static(b"last"), false)
        .await
        .unwrap();
    assert!(taken(&writes).is_empty(), "held");
    Corked::of(&s).unwrap().settle();
    let reused = s.finish().await.unwrap();
    assert!(reused.is_some(), "keep-alive");
    assert_eq!(text(&taken(&writes).concat()), "4\r\nlast\r\n0\r\n\r\n");
}

#[tokio::test]
async fn shutdown_lets_collected_bytes_out_first() {
    let (mut s, writes) = session(GET, true).await;
    Corked::of(&s).unwrap().hold();
    s.write_response_header(chunked_head()).await.unwrap();
    assert!(taken(&writes).is_empty());
    s.shutdown().await;
    assert!(text(&taken(&writes).concat()).starts_with("HTTP/1.1 200 OK"));
}
