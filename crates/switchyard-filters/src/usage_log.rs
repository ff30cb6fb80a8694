//! The usage record sink: one JSON line per request, written off the request path by a
//! dedicated thread so a slow stdout or disk never blocks the data path.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::Duration;

use prometheus::IntCounter;
use switchyard_config::UsageSink;

/// Lines waiting for the writer; beyond this, records are dropped and counted.
const QUEUE: usize = 16_384;

/// What the writer thread is asked to do.
enum Msg {
    /// Write this line (without its newline).
    Line(Vec<u8>),
    /// Write out everything queued before this, then say so.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// A handle to the writer thread of one sink.
#[derive(Clone)]
pub struct UsageWriter {
    tx: Option<SyncSender<Msg>>,
    dropped: IntCounter,
}

impl UsageWriter {
    /// Whether records go anywhere (`usage_log: off` drops them unbuilt).
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues one line (without its newline). Never blocks.
    pub fn write(&self, line: Vec<u8>) {
        if let Some(tx) = &self.tx {
            match tx.try_send(Msg::Line(line)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.dropped.inc()
                }
            }
        }
    }

    /// Resolves once every line queued before the call is written out (before the process
    /// exits). The caller bounds the wait.
    pub async fn flush(&self) {
        let Some(tx) = self.tx.clone() else {
            return;
        };
        let (done, written) = tokio::sync::oneshot::channel();
        // A full queue makes `send` wait for room: off the async threads.
        let queued = tokio::task::spawn_blocking(move || tx.send(Msg::Flush(done)).is_ok());
        if matches!(queued.await, Ok(true)) {
            let _ = written.await;
        }
    }
}

/// Checks that `sink` can be opened, without creating, truncating or starting anything: an
/// existing file must open for appending, a new one needs its directory.
pub fn check(sink: &UsageSink) -> Result<(), String> {
    let UsageSink::File(path) = sink else {
        return Ok(());
    };
    if path.exists() {
        return OpenOptions::new()
            .append(true)
            .open(path)
            .map(|_| ())
            .map_err(|e| format!("cannot open usage log {}: {e}", path.display()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if dir.is_dir() {
        Ok(())
    } else {
        Err(format!(
            "cannot open usage log {}: directory {} does not exist",
            path.display(),
            dir.display()
        ))
    }
}

/// Keeps one writer per sink across reloads: a reload with the same sink reuses it.
pub struct UsageSinks {
    current: Mutex<Option<(UsageSink, UsageWriter)>>,
    dropped: IntCounter,
}

impl UsageSinks {
    /// `dropped` counts records lost because the writer fell behind or failed.
    pub fn new(dropped: IntCounter) -> Self {
        Self {
            current: Mutex::new(None),
            dropped,
        }
    }

    /// A writer that drops (and counts) every record.
    pub fn lost(&self) -> UsageWriter {
        UsageWriter {
            tx: None,
            dropped: self.dropped.clone(),
        }
    }

    /// The writer for `sink`, starting one if the sink changed.
    pub fn writer_for(&self, sink: &UsageSink) -> Result<UsageWriter, String> {
        let mut cur = self
            .current
            .lock()
            .map_err(|_| "usage sink lock poisoned".to_string())?;
        if let Some((s, w)) = cur.as_ref() {
            if s == sink {
                return Ok(w.clone());
            }
        }
        let out: Option<Box<dyn Write + Send>> = match sink {
            UsageSink::Off => None,
            UsageSink::Stdout => Some(Box::new(io::stdout())),
            UsageSink::Stderr => Some(Box::new(io::stderr())),
            UsageSink::File(path) => Some(Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open usage log {}: {e}", path.display()))?,
            )),
        };
        let tx = match out {
            None => None,
            Some(out) => {
                let (tx, rx) = sync_channel(QUEUE);
                let dropped = self.dropped.clone();
                std::thread::Builder::new()
                    .name("usage-log".into())
                    .spawn(move || run_writer(rx, out, dropped))
                    .map_err(|e| format!("cannot start the usage log writer: {e}"))?;
                Some(tx)
            }
        };
        let writer = UsageWriter {
            tx,
            dropped: self.dropped.clone(),
        };
        *cur = Some((sink.clone(), writer.clone()));
        Ok(writer)
    }
}

/// How long the writer lets records gather before writing them out: one write syscall and one
/// wake-up per interval under load, instead of one per request.
const BATCH: Duration = Duration::from_millis(20);

/// Writes queued lines in batches; ends when every sender is gone. Blocks only when idle, so a
/// busy gateway's `try_send` never has to wake this thread. A flush request is answered once
/// the lines before it are written out, without waiting for the batch interval.
fn run_writer(rx: Receiver<Msg>, out: Box<dyn Write + Send>, dropped: IntCounter) {
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut flushed = Vec::new();
    while let Ok(msg) = rx.recv() {
        let mut ok = handle(&mut out, msg, &mut flushed);
        if flushed.is_empty() {
            std::thread::sleep(BATCH);
        }
        while let Ok(msg) = rx.try_recv() {
            ok = ok.and_then(|_| handle(&mut out, msg, &mut flushed));
        }
        if ok.and_then(|_| out.flush()).is_err() {
            dropped.inc();
        }
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

fn handle(
    out: &mut impl Write,
    msg: Msg,
    flushed: &mut Vec<tokio::sync::oneshot::Sender<()>>,
) -> io::Result<()> {
    match msg {
        Msg::Line(line) => write_line(out, &line),
        Msg::Flush(done) => {
            flushed.push(done);
            Ok(())
        }
    }
}

fn write_line(out: &mut impl Write, line: &[u8]) -> io::Result<()> {
    out.write_all(line)?;
    out.write_all(b"\n")
}
