//! Shutdown without loss. On SIGTERM the API listener stops accepting and `/readyz` answers
//! 503 while the admin listener (and `/metrics`) stays up; the process exits as soon as no
//! request is in flight, and at the latest at `server.shutdown_grace`, when every request still
//! running is ended with an error in its client's format (a stream: an error event, then its
//! terminator), metered and logged like any other cut request. SIGINT exits at once, also
//! during a drain; SIGQUIT is pingora's graceful upgrade.
//!
//! pingora on its own closes every listener at SIGTERM and then sleeps the whole grace period.
//! Here the signal watch runs the drain itself and hands pingora a shutdown with no grace left,
//! and the API service gets a shutdown watch of its own that flips at SIGTERM.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora_core::server::{ListenFds, ShutdownSignal, ShutdownSignalWatch, ShutdownWatch};
use pingora_core::services::{ServiceReadyNotifier, ServiceWithDependents};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Notify};

use crate::snapshot::Store;

/// After the grace has passed, how long the requests still in flight get to write their error
/// and be metered, and then how long the filters get to write out what they queued (usage
/// lines, remote budget settlements). Together they stay inside the 3 s margin the Helm chart
/// leaves between `shutdown_grace` and `terminationGracePeriodSeconds`.
const CUT_WAIT: Duration = Duration::from_secs(1);
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// The drain's shared state: requests in flight, whether a drain is under way, and the two
/// moments the data path reacts to (stop accepting; end what is left).
pub struct Drain {
    in_flight: AtomicUsize,
    idle: Notify,
    draining: AtomicBool,
    stop_accepting: watch::Sender<bool>,
    cut: watch::Sender<bool>,
}

/// One request in flight; the drain waits for every one to drop.
pub struct Active<'a>(&'a Drain);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1
            && self.0.draining.load(Ordering::Acquire)
        {
            self.0.idle.notify_waiters();
        }
    }
}

/// A request's view of the end of the grace period.
pub struct Cut(watch::Receiver<bool>);

impl Cut {
    /// Resolves once requests still in flight must end now. Never resolves otherwise.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|cut| *cut).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drain {
    /// Nothing in flight, not draining.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            draining: AtomicBool::new(false),
            stop_accepting: watch::channel(false).0,
            cut: watch::channel(false).0,
        })
    }

    /// Counts a request in flight until the guard drops.
    pub fn enter(&self) -> Active<'_> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Active(self)
    }

    /// Whether SIGTERM has been received.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// The end of the grace period, for one request.
    pub fn cut(&self) -> Cut {
        Cut(self.cut.subscribe())
    }

    fn begin(&self) {
        self.draining.store(true, Ordering::Release);
        self.stop_accepting.send_replace(true);
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Resolves once no request is in flight (only meaningful while draining).
    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Gives `service` a shutdown watch that flips at SIGTERM (pingora's flips only once the
    /// drain is over): it stops accepting connections and reusing kept-alive ones then.
    pub fn own_shutdown<S: ServiceWithDependents>(&self, service: S) -> DrainedService<S> {
        DrainedService {
            inner: service,
            shutdown: self.stop_accepting.subscribe(),
        }
    }
}

/// A service whose shutdown watch is the drain's, not pingora's.
pub struct DrainedService<S> {
    inner: S,
    shutdown: ShutdownWatch,
}

#[async_trait]
impl<S: ServiceWithDependents> ServiceWithDependents for DrainedService<S> {
    async fn start_service(
        &mut self,
        fds: Option<ListenFds>,
        _pingora_shutdown: ShutdownWatch,
        listeners_per_fd: usize,
        ready_notifier: ServiceReadyNotifier,
    ) {
        self.inner
            .start_service(fds, self.shutdown.clone(), listeners_per_fd, ready_notifier)
            .await
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn threads(&self) -> Option<usize> {
        self.inner.threads()
    }

    fn listen_addresses(&self) -> Option<Vec<String>> {
        self.inner.listen_addresses()
    }
}

/// pingora's signal watch, running the drain between SIGTERM and the shutdown it reports.
pub struct DrainOnTerm {
    drain: Arc<Drain>,
    store: Arc<Store>,
    grace: Duration,
}

impl DrainOnTerm {
    /// Drains `drain` for up to `grace`; `store` holds the chain whose filters flush at exit.
    pub fn new(drain: Arc<Drain>, store: Arc<Store>, grace: Duration) -> Self {
        Self {
            drain,
            store,
            grace,
        }
    }

    /// Waits for the requests in flight, ends those left at the deadline, lets the filters
    /// write out what they queued. Returns early (`false`) on SIGINT.
    async fn run(&self, interrupt: &mut tokio::signal::unix::Signal) -> bool {
        let started = Instant::now();
        tracing::info!(
            in_flight = self.drain.in_flight(),
            grace = ?self.grace,
            "SIGTERM received: draining (no new connections; /readyz answers 503)"
        );
        self.drain.begin();
        tokio::select! {
            () = self.drain.idle() => {}
            () = tokio::time::sleep(self.grace) => {
                let left = self.drain.in_flight();
                if left > 0 {
                    tracing::warn!(in_flight = left, grace = ?self.grace, "shutdown_grace passed: ending the requests still in flight with an error");
                    self.drain.cut.send_replace(true);
                    if tokio::time::timeout(CUT_WAIT, self.drain.idle()).await.is_err() {
                        tracing::warn!(in_flight = self.drain.in_flight(), "requests still in flight after their shutdown error; their connections are closed");
                    }
                }
            }
            _ = interrupt.recv() => return false,
        }
        let snapshot = self.store.current();
        if tokio::time::timeout(FLUSH_WAIT, snapshot.chain.on_shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "usage records or budget settlements not written out within {FLUSH_WAIT:?}"
            );
        }
        tracing::info!(took = ?started.elapsed(), "drained; exiting");
        true
    }
}

#[async_trait]
impl ShutdownSignalWatch for DrainOnTerm {
    async fn recv(&self) -> ShutdownSignal {
        let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
        ) else {
            tracing::error!("cannot install the signal handlers; SIGTERM ends the process at once");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {
                if self.run(&mut int).await {
                    ShutdownSignal::GracefulTerminate
                } else {
                    tracing::info!("SIGINT received during the drain: exiting now");
                    ShutdownSignal::FastShutdown
                }
            }
            _ = int.recv() => {
                tracing::info!("SIGINT received: exiting now");
                ShutdownSignal::FastShutdown
            }
            _ = quit.recv() => {
                tracing::info!("SIGQUIT received: graceful upgrade");
                ShutdownSignal::GracefulUpgrade
            }
        }
    }
}
