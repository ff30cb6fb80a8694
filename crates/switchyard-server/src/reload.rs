//! Hot reload: watch the config file's directory (a Kubernetes ConfigMap update swaps a
//! `..data` symlink there, which a watch on the file itself would miss) and SIGHUP; load and
//! validate the new file in full, then swap it in atomically. A file that does not load is
//! logged with every error and counted, and the old config keeps serving.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;
use prometheus::{Gauge, IntCounterVec, IntGauge, Opts};
use switchyard_config::SystemEnv;
use switchyard_filter::Registry;

use crate::admin::Readiness;
use crate::snapshot::{Snapshot, Store};

/// Events closer together than this are one reload.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Reload metrics.
pub struct ReloadMetrics {
    reloads: IntCounterVec,
    last_success: IntGauge,
    generation: IntGauge,
    last_time: Gauge,
}

impl ReloadMetrics {
    /// Registers the reload metrics.
    pub fn register(r: &prometheus::Registry) -> prometheus::Result<Self> {
        let reloads = IntCounterVec::new(
            Opts::new(
                "switchyard_config_reloads_total",
                "Config reload attempts by result.",
            ),
            &["result"],
        )?;
        let last_success = IntGauge::new(
            "switchyard_config_last_reload_success",
            "1 if the last reload attempt succeeded (or none was made), else 0.",
        )?;
        let generation = IntGauge::new(
            "switchyard_config_generation",
            "Generation of the config in force: 1 at start, +1 per successful reload.",
        )?;
        let last_time = Gauge::new(
            "switchyard_config_last_reload_timestamp_seconds",
            "Unix time of the last successful load.",
        )?;
        r.register(Box::new(reloads.clone()))?;
        r.register(Box::new(last_success.clone()))?;
        r.register(Box::new(generation.clone()))?;
        r.register(Box::new(last_time.clone()))?;
        reloads.with_label_values(&["success"]);
        reloads.with_label_values(&["failure"]);
        last_success.set(1);
        generation.set(1);
        last_time.set(now_secs());
        Ok(Self {
            reloads,
            last_success,
            generation,
            last_time,
        })
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The background service that watches and reloads.
pub struct Reloader {
    /// The config file.
    pub path: PathBuf,
    /// Where snapshots are swapped.
    pub store: Arc<Store>,
    /// Filter factories.
    pub registry: Arc<Registry>,
    /// Metrics.
    pub metrics: ReloadMetrics,
    /// Marks readiness once the watch and the signal handler are armed.
    pub readiness: Arc<Readiness>,
    generation: AtomicU64,
}

impl Reloader {
    /// A reloader for `path`, serving `store`.
    pub fn new(
        path: PathBuf,
        store: Arc<Store>,
        registry: Arc<Registry>,
        metrics: ReloadMetrics,
        readiness: Arc<Readiness>,
    ) -> Self {
        Self {
            path,
            store,
            registry,
            metrics,
            readiness,
            generation: AtomicU64::new(1),
        }
    }

    /// Loads the file and swaps it in. `forced` reloads even when the text is unchanged
    /// (SIGHUP: key files may have changed).
    async fn reload(&self, forced: bool) {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "config reload failed: cannot read the file; the old config keeps serving");
                let generation = self.generation.load(Ordering::SeqCst);
                let why = format!("cannot read {}: {e}", self.path.display());
                self.store.history.rejected(generation, vec![why]);
                self.failed();
                return;
            }
        };
        let current = self.store.current();
        if !forced && sha256_hex(&text) == current.sha256 {
            // The file is the config in force again (a rejected edit was reverted): nothing to
            // swap, but the last reload attempt no longer failed.
            if self.metrics.last_success.get() == 0 {
                self.store
                    .history
                    .reverted(current.generation, &current.sha256);
                self.metrics.last_success.set(1);
                tracing::info!(path = %self.path.display(), "config file is back to the config in force");
            }
            return;
        }
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        match Snapshot::from_yaml(&text, &SystemEnv, &self.registry, generation) {
            Ok(next) => {
                for w in &next.config.warnings {
                    tracing::warn!(warning = %w, "config");
                }
                let sha = next.sha256.clone();
                // Counted before the swap, so whoever sees the new config sees the count too.
                self.generation.store(generation, Ordering::SeqCst);
                self.metrics.reloads.with_label_values(&["success"]).inc();
                self.metrics.last_success.set(1);
                self.metrics.generation.set(generation as i64);
                self.metrics.last_time.set(now_secs());
                self.store.swap(next);
                tracing::info!(path = %self.path.display(), generation, sha256 = %sha, "config reloaded");
            }
            Err(e) => {
                for issue in &e.issues {
                    tracing::error!(path = %self.path.display(), error = %issue, "config reload rejected");
                }
                tracing::error!(path = %self.path.display(), errors = e.issues.len(), "config reload failed; the old config keeps serving");
                let generation = self.generation.load(Ordering::SeqCst);
                let errors = e.issues.iter().map(ToString::to_string).collect();
                self.store.history.rejected(generation, errors);
                self.failed();
            }
        }
    }

    fn failed(&self) {
        self.metrics.reloads.with_label_values(&["failure"]).inc();
        self.metrics.last_success.set(0);
    }
}

/// Whether an event can change a file's content: creation, a data write (or the close after
/// one), a rename or a removal. Opens, reads and metadata changes cannot; reacting to them
/// would make the watcher re-trigger itself, since inotify reports the reloader's own open.
fn changes_content(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// Whether a directory event may change the config: a content change of the file itself, or
/// of a Kubernetes ConfigMap's `..data` swap. Other files in the directory (logs, say) are
/// ignored.
fn concerns_config(ev: &notify::Event, name: Option<&std::ffi::OsStr>) -> bool {
    if !changes_content(&ev.kind) {
        return false;
    }
    ev.paths.is_empty()
        || ev.paths.iter().any(|p| {
            p.file_name()
                .is_some_and(|f| Some(f) == name || f.to_str().is_some_and(|f| f.starts_with("..")))
        })
}

/// Hex SHA-256 of `text`, as snapshots record it.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[async_trait]
impl BackgroundService for Reloader {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "cannot install the SIGHUP handler; reload by SIGHUP is off");
                None
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(16);
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let name = self.path.file_name().map(|n| n.to_os_string());
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok_and(|ev| concerns_config(&ev, name.as_deref())) {
                let _ = tx.try_send(());
            }
        })
        .and_then(|mut w| w.watch(&dir, RecursiveMode::NonRecursive).map(|_| w));
        let _watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "cannot watch the config directory; reload on file change is off (SIGHUP still works)");
                None
            }
        };
        self.readiness.set_armed();
        tracing::info!(path = %self.path.display(), "watching the config for changes");
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                Some(()) = rx.recv() => {
                    tokio::time::sleep(DEBOUNCE).await;
                    while rx.try_recv().is_ok() {}
                    self.reload(false).await;
                }
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                    tracing::info!("SIGHUP: reloading the config");
                    self.reload(true).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::PathBuf;

    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, ModifyKind, RemoveKind,
        RenameMode,
    };
    use notify::{Event, EventKind};

    use super::concerns_config;

    fn ev(kind: EventKind, file: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from("/etc/switchyard").join(file))
    }

    #[test]
    fn only_content_changes_of_the_config_trigger_a_reload() {
        let name = Some(OsStr::new("switchyard.yaml"));
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert!(
                concerns_config(&ev(kind, "switchyard.yaml"), name),
                "{kind:?}"
            );
            assert!(concerns_config(&ev(kind, "..data"), name), "{kind:?}");
            assert!(!concerns_config(&ev(kind, "other.log"), name), "{kind:?}");
        }
        // The reloader's own read shows up as these: reacting would loop forever.
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ] {
            assert!(
                !concerns_config(&ev(kind, "switchyard.yaml"), name),
                "{kind:?}"
            );
        }
    }
}
