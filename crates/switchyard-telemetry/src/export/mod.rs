//! The exporter: a bounded queue filled on the request path without blocking, and a thread of
//! its own that batches spans and sends them (up to `max_export_batch_size` per export, or
//! whatever arrived within `schedule_delay`). An export that fails in a way the OTLP
//! specification calls retryable is sent again after a backoff (`retry.rs`), within its
//! deadline. A span that finds the queue full, an export that fails for good or times out, and
//! spans a collector rejects are dropped and counted in
//! `switchyard_trace_spans_dropped_total{reason}`; a request never waits for any of it.
//!
//! Queueing a request's spans must not wake the export thread: a cross-thread wake-up per
//! request (a futex or eventfd write and a context switch) cost more than the spans themselves
//! (`../shared/peers`, c=32: 69 → 119 µs of CPU per request with every request sampled). So the
//! thread, once woken by the first spans after an idle spell, sleeps through `schedule_delay`
//! and then takes everything queued; the request path wakes it early only when a full batch is
//! waiting or a flush is asked for.

mod retry;
mod tls;
mod transport;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use switchyard_config::OtlpConfig;
use tokio::sync::{mpsc, Notify};

use crate::encode::{self, Preamble};
use crate::SpanRecord;
pub use tls::check_certificate;
use transport::Client;

/// The exporter's metric families.
#[derive(Clone)]
pub struct ExportMetrics {
    exported: IntCounter,
    dropped: IntCounterVec,
    queued: IntGauge,
    retries: IntCounter,
}

impl ExportMetrics {
    /// Creates and registers the families in `r`.
    pub fn register(r: &Registry) -> prometheus::Result<Self> {
        let exported = IntCounter::new(
            "switchyard_trace_spans_exported_total",
            "Spans an OTLP collector accepted.",
        )?;
        let dropped = IntCounterVec::new(
            Opts::new(
                "switchyard_trace_spans_dropped_total",
                "Spans not exported: queue_full (the export queue was full), export_failed (the collector could not be reached, timed out or answered an error), rejected (the collector refused them).",
            ),
            &["reason"],
        )?;
        let queued = IntGauge::new(
            "switchyard_trace_queue_spans",
            "Spans waiting to be exported.",
        )?;
        let retries = IntCounter::new(
            "switchyard_trace_export_retries_total",
            "Exports sent again after a failure the OTLP specification calls retryable (429, 502, 503, 504, gRPC UNAVAILABLE..., or no connection).",
        )?;
        r.register(Box::new(exported.clone()))?;
        r.register(Box::new(dropped.clone()))?;
        r.register(Box::new(queued.clone()))?;
        r.register(Box::new(retries.clone()))?;
        for reason in ["queue_full", "export_failed", "rejected"] {
            dropped.with_label_values(&[reason]);
        }
        Ok(Self {
            exported,
            dropped,
            queued,
            retries,
        })
    }

    fn drop_spans(&self, reason: &str, n: usize) {
        self.dropped.with_label_values(&[reason]).inc_by(n as u64);
    }
}

enum Msg {
    Spans(Vec<SpanRecord>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Where spans go now.
struct Target {
    cfg: OtlpConfig,
    preamble: Preamble,
    /// For an `https://` collector: its TLS client, or why it could not be built.
    tls: Option<Result<Arc<rustls::ClientConfig>, String>>,
}

struct Inner {
    tx: mpsc::UnboundedSender<Msg>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Msg>>>,
    /// Spans in the queue, bounded by `max_queue`.
    queued: AtomicUsize,
    max_queue: AtomicUsize,
    /// Spans that make a full batch: reaching it wakes the export thread early.
    batch: AtomicUsize,
    /// Wakes the export thread before its delay ends (a full batch, a flush).
    early: Arc<Notify>,
    target: ArcSwapOption<Target>,
    metrics: ExportMetrics,
}

/// The process's span exporter. Cheap to clone; lives as long as its filter factory.
#[derive(Clone)]
pub struct Exporter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("queued", &self.inner.queued.load(Ordering::Relaxed))
            .finish()
    }
}

impl Exporter {
    /// An exporter that sends nothing until [`Exporter::configure`]d.
    pub fn new(metrics: ExportMetrics) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            inner: Arc::new(Inner {
                tx,
                rx: Mutex::new(Some(rx)),
                queued: AtomicUsize::new(0),
                max_queue: AtomicUsize::new(2048),
                batch: AtomicUsize::new(512),
                early: Arc::new(Notify::new()),
                target: ArcSwapOption::empty(),
                metrics,
            }),
        }
    }

    /// Points the exporter at `cfg`, starting its thread the first time. Called when a config
    /// goes into service; spans already queued go to the new target.
    pub fn configure(&self, cfg: &OtlpConfig) {
        self.inner
            .max_queue
            .store(cfg.batching.max_queue_size, Ordering::Relaxed);
        self.inner
            .batch
            .store(cfg.batching.max_export_batch_size.max(1), Ordering::Relaxed);
        let tls = (cfg.endpoint.scheme() == "https").then(|| tls::client_config(cfg));
        if let Some(Err(e)) = &tls {
            tracing::error!(endpoint = %cfg.endpoint, error = %e, "traces: no TLS to the collector; spans are dropped");
        }
        self.inner.target.store(Some(Arc::new(Target {
            preamble: Preamble::new(&cfg.service_name, &cfg.resource),
            cfg: cfg.clone(),
            tls,
        })));
        let rx = self.inner.rx.lock().ok().and_then(|mut rx| rx.take());
        if let Some(rx) = rx {
            let weak = Arc::downgrade(&self.inner);
            let early = Arc::clone(&self.inner.early);
            let started = std::thread::Builder::new()
                .name("otlp-export".into())
                .spawn(move || {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt.block_on(run(weak, rx, early)),
                        Err(e) => tracing::error!(error = %e, "traces: cannot start the export runtime; spans are dropped"),
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "traces: cannot start the export thread; spans are dropped");
            }
        }
    }

    /// Queues one request's spans. Never blocks: past the queue's bound they are dropped and
    /// counted.
    pub fn submit(&self, spans: Vec<SpanRecord>) {
        let n = spans.len();
        let inner = &self.inner;
        let before = inner.queued.fetch_add(n, Ordering::Relaxed);
        if before + n > inner.max_queue.load(Ordering::Relaxed) {
            inner.queued.fetch_sub(n, Ordering::Relaxed);
            inner.metrics.drop_spans("queue_full", n);
            return;
        }
        inner.metrics.queued.add(n as i64);
        if inner.tx.send(Msg::Spans(spans)).is_err() {
            inner.queued.fetch_sub(n, Ordering::Relaxed);
            inner.metrics.queued.sub(n as i64);
            inner.metrics.drop_spans("export_failed", n);
            return;
        }
        let batch = inner.batch.load(Ordering::Relaxed);
        if before < batch && before + n >= batch {
            inner.early.notify_one();
        }
    }

    /// Exports everything queued so far (at shutdown; the caller bounds the wait). Returns
    /// once the export thread has sent it, or at once if it is not running.
    pub async fn flush(&self) {
        let idle = self.inner.rx.lock().map_or(true, |rx| rx.is_some());
        if idle {
            return;
        }
        let (ack, done) = tokio::sync::oneshot::channel();
        if self.inner.tx.send(Msg::Flush(ack)).is_ok() {
            self.inner.early.notify_one();
            let _ = done.await;
        }
    }
}

/// Failure logging without flooding: the first failure, then a summary at most once a minute.
#[derive(Default)]
struct Complaints {
    last: Option<Instant>,
    since: u64,
    failing: bool,
}

impl Complaints {
    fn failed(&mut self, endpoint: &str, error: &dyn std::fmt::Display, spans: usize) {
        self.since += 1;
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        if due {
            tracing::warn!(endpoint, error = %error, spans, failed_exports = self.since, "traces: export failed; spans dropped");
            self.last = Some(Instant::now());
            self.since = 0;
        }
        self.failing = true;
    }

    fn succeeded(&mut self, endpoint: &str) {
        if self.failing {
            tracing::info!(endpoint, "traces: exports succeed again");
        }
        self.failing = false;
    }
}

/// The export thread's loop; ends when the exporter is dropped.
async fn run(inner: Weak<Inner>, mut rx: mpsc::UnboundedReceiver<Msg>, early: Arc<Notify>) {
    let mut client = Client::default();
    let mut complaints = Complaints::default();
    let mut batch: Vec<SpanRecord> = Vec::new();
    let mut acks = Vec::new();
    loop {
        // Idle until something arrives; then let spans gather for up to `schedule_delay`
        // without waking for each (see the module's doc).
        match rx.recv().await {
            Some(Msg::Spans(v)) => batch.extend(v),
            Some(Msg::Flush(ack)) => acks.push(ack),
            None => return,
        }
        let (max_batch, delay) = match inner.upgrade().and_then(|i| i.target.load_full()) {
            Some(t) => (
                t.cfg.batching.max_export_batch_size,
                t.cfg.batching.schedule_delay,
            ),
            None => (512, Duration::from_secs(5)),
        };
        if batch.len() < max_batch && acks.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = early.notified() => {}
            }
        }
        let mut closed = false;
        loop {
            match rx.try_recv() {
                Ok(Msg::Spans(v)) => batch.extend(v),
                Ok(Msg::Flush(ack)) => acks.push(ack),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        inner.queued.fetch_sub(batch.len(), Ordering::Relaxed);
        inner.metrics.queued.sub(batch.len() as i64);
        for chunk in batch.chunks(max_batch.max(1)) {
            export(&inner, &mut client, &mut complaints, chunk).await;
        }
        batch.clear();
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
        if closed {
            return;
        }
    }
}

/// Sends one batch, again after a retryable failure while its deadline allows; whatever does
/// not arrive is counted as dropped. While the collector is known to be failing (the last
/// export failed), a batch gets one attempt: retries are for a collector that was answering,
/// so an outage drops spans at the pace they come instead of holding each batch.
async fn export(
    inner: &Inner,
    client: &mut Client,
    complaints: &mut Complaints,
    spans: &[SpanRecord],
) {
    let Some(target) = inner.target.load_full() else {
        inner.metrics.drop_spans("export_failed", spans.len());
        return;
    };
    let cfg = &target.cfg;
    let body = transport::body(cfg, encode::export_request(&target.preamble, spans));
    let endpoint = cfg.endpoint.as_str();
    let deadline = tokio::time::Instant::now() + cfg.timeout;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let send = client.send(cfg, target.tls.as_ref(), body.clone());
        let e = match tokio::time::timeout_at(deadline, send).await {
            Ok(Ok(reply)) => return accepted(inner, complaints, endpoint, spans.len(), &reply),
            Ok(Err(e)) => e,
            Err(_) => {
                client.reset();
                complaints.failed(endpoint, &"timed out", spans.len());
                inner.metrics.drop_spans("export_failed", spans.len());
                return;
            }
        };
        client.reset();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let wait = retry::next_delay(&e, attempts, left, fastrand::f64());
        match wait.filter(|_| !complaints.failing) {
            Some(wait) => {
                tracing::debug!(endpoint, error = %e, attempt = attempts, wait = ?wait, "traces: export failed; sending it again");
                inner.metrics.retries.inc();
                tokio::time::sleep(wait).await;
            }
            None => {
                complaints.failed(endpoint, &e, spans.len());
                inner.metrics.drop_spans("export_failed", spans.len());
                return;
            }
        }
    }
}

/// Counts an export the collector answered: its spans exported, less those it rejected.
fn accepted(
    inner: &Inner,
    complaints: &mut Complaints,
    endpoint: &str,
    spans: usize,
    reply: &[u8],
) {
    complaints.succeeded(endpoint);
    let rejected = match encode::rejected_spans(reply) {
        Some((n, message)) => {
            tracing::warn!(endpoint, rejected = n, message = %message, "traces: the collector rejected spans");
            usize::try_from(n).unwrap_or(usize::MAX).min(spans)
        }
        None => 0,
    };
    inner.metrics.drop_spans("rejected", rejected);
    inner.metrics.exported.inc_by((spans - rejected) as u64);
}
