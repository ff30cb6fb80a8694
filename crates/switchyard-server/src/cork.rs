//! The client connection, corked: lets a response's pieces leave in fewer writes.
//!
//! pingora's HTTP/1 server flushes a chunked response's head on its own, then each chunk
//! with its own flush, then the terminating chunk with its own: a stream the upstream sent in
//! two reads left in four writes, each one a wake-up of the client. Its write buffer (1,460
//! bytes) is smaller than most chunks, so it doesn't merge them either. [`Corked`] sits
//! between pingora and the socket: told to, it collects writes and lets them out with the
//! next flush in one write. The gateway holds back one flush around the pairs it knows
//! belong together — the head and the first chunk, the last chunk and its terminator — so a
//! two-read stream leaves in two writes, and a whole answer (head and body) in one.
//!
//! Nothing waits for a timer: a flush that isn't held lets everything out at once, and the
//! buffer is freed then, so an idle connection keeps no memory here.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora_core::protocols::http::ServerSession;
use pingora_core::protocols::raw_connect::ProxyDigest;
use pingora_core::protocols::tls::TlsRef;
use pingora_core::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Writes go straight through.
const OPEN: u8 = 0;
/// Writes are collected until the next flush.
const COLLECT: u8 = 1;
/// Writes are collected, and the next flush is skipped (then: `COLLECT`).
const HOLD: u8 = 2;

/// Past this many collected bytes, writes go straight through again (after what was
/// collected): a large answer isn't copied whole.
const MAX_COLLECTED: usize = 64 * 1024;

/// A client stream whose writes the gateway may collect and let out together.
pub struct Corked {
    inner: Stream,
    state: AtomicU8,
    /// Collected bytes; `sent` of them are already written.
    buf: Vec<u8>,
    sent: usize,
}

impl std::fmt::Debug for Corked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corked")
            .field("inner", &self.inner)
            .field("state", &self.state.load(Ordering::Relaxed))
            .field("collected", &(self.buf.len() - self.sent))
            .finish()
    }
}

impl Corked {
    /// `inner`, with writes going straight through until told otherwise.
    pub fn wrap(inner: Stream) -> Stream {
        Box::new(Corked {
            inner,
            state: AtomicU8::new(OPEN),
            buf: Vec::new(),
            sent: 0,
        })
    }

    /// Collects what is written from now on and skips the next flush: what is written up to
    /// the flush after it leaves in one write. Only call this right before two writes that
    /// each end with a flush.
    pub fn hold(&self) {
        self.state.store(HOLD, Ordering::Relaxed);
    }

    /// Collects what is written from now on until the next flush.
    pub fn collect(&self) {
        self.state.store(COLLECT, Ordering::Relaxed);
    }

    /// Makes sure the next flush lets out whatever is collected (a hold that no flush used
    /// is dropped).
    pub fn settle(&self) {
        let _ = self
            .state
            .compare_exchange(HOLD, COLLECT, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The cork under `session`, when its stream is one.
    pub fn of(session: &ServerSession) -> Option<&Corked> {
        (**session.stream()?).as_any().downcast_ref::<Corked>()
    }

    fn collecting(&self) -> bool {
        self.state.load(Ordering::Relaxed) != OPEN || self.sent < self.buf.len()
    }

    /// Writes out what was collected.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        // Freed, not kept: an idle connection holds no buffer.
        self.buf = Vec::new();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Corked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Corked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        if me.collecting() {
            if me.buf.len() + data.len() <= MAX_COLLECTED {
                me.buf.extend_from_slice(data);
                return Poll::Ready(Ok(data.len()));
            }
            ready!(me.poll_drain(cx))?;
        }
        Pin::new(&mut me.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        if me.collecting() {
            let len: usize = bufs.iter().map(|b| b.len()).sum();
            if me.buf.len() + len <= MAX_COLLECTED {
                for b in bufs {
                    me.buf.extend_from_slice(b);
                }
                return Poll::Ready(Ok(len));
            }
            ready!(me.poll_drain(cx))?;
        }
        Pin::new(&mut me.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = &mut *self;
        if me
            .state
            .compare_exchange(HOLD, COLLECT, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            return Poll::Ready(Ok(()));
        }
        ready!(me.poll_drain(cx))?;
        me.state.store(OPEN, Ordering::Relaxed);
        Pin::new(&mut me.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Shutdown for Corked {
    async fn shutdown(&mut self) {
        // What was collected goes out before the connection closes.
        self.settle();
        let _ = self.flush().await;
        Shutdown::shutdown(&mut *self.inner).await;
    }
}

impl UniqueID for Corked {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Corked {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora_core::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Corked {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for Corked {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for Corked {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for Corked {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

#[cfg(test)]
#[path = "cork_tests.rs"]
mod tests;
