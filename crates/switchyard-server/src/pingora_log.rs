//! pingora logs through the `log` crate, which the gateway's `tracing` subscriber does not
//! hear: its warnings and errors went nowhere. Among them the one that matters most under a
//! connection flood: its accept loop meets `accept()` failing with "too many open files",
//! logs it, sleeps a second and retries, while new clients wait unanswered in the listen
//! backlog. This bridge forwards pingora's warnings and errors to `tracing`, and turns that
//! accept failure into a counted (`switchyard_accept_errors_total`), rate-limited warning
//! that says what to do.

use std::sync::OnceLock;

use prometheus::{IntCounterVec, Opts};

use crate::conn::Throttle;

/// pingora's accept loop, and how its failure line starts.
const ACCEPT_TARGET: &str = "pingora_core::services::listening";
const ACCEPT_FAILED: &str = "Accept() failed";

static BRIDGE: Bridge = Bridge;
static ACCEPT_ERRORS: OnceLock<AcceptErrors> = OnceLock::new();

struct AcceptErrors {
    counter: IntCounterVec,
    log_every: Throttle,
}

/// Why `accept()` failed, as a metric label.
fn reason(message: &str) -> &'static str {
    // EMFILE (the process's limit) and ENFILE (the system's).
    if message.contains("os error 24") || message.contains("os error 23") {
        "fd_limit"
    } else {
        "other"
    }
}

/// Registers `switchyard_accept_errors_total` in `r` and routes pingora's `log` records
/// through the bridge (once per process; a second call only registers the metric).
pub fn install(r: &prometheus::Registry) -> prometheus::Result<()> {
    let counter = IntCounterVec::new(
        Opts::new(
            "switchyard_accept_errors_total",
            "Times accept() failed on a listener, by reason: fd_limit (the open-file limit is reached; new clients wait in the listen backlog), other.",
        ),
        &["reason"],
    )?;
    for reason in ["fd_limit", "other"] {
        counter.with_label_values(&[reason]);
    }
    r.register(Box::new(counter.clone()))?;
    let _ = ACCEPT_ERRORS.set(AcceptErrors {
        counter,
        log_every: Throttle::default(),
    });
    if log::set_logger(&BRIDGE).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    Ok(())
}

struct Bridge;

impl Bridge {
    fn accept_failed(&self, message: &str) {
        let reason = reason(message);
        let Some(errors) = ACCEPT_ERRORS.get() else {
            return;
        };
        errors.counter.with_label_values(&[reason]).inc();
        if !errors.log_every.may_log() {
            return;
        }
        if reason == "fd_limit" {
            tracing::error!(
                open_file_limit = ?crate::fd_limit::current(),
                "cannot accept connections: the open-file limit is reached; new clients wait unanswered until connections close (raise the limit, e.g. LimitNOFILE or the container's ulimit, or lower server.max_connections; logged at most every 10 s, counted in switchyard_accept_errors_total)"
            );
        } else {
            tracing::error!(error = %message, "accept() failed (logged at most every 10 s, counted in switchyard_accept_errors_total)");
        }
    }
}

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn && metadata.target().starts_with("pingora")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        if record.target() == ACCEPT_TARGET && message.starts_with(ACCEPT_FAILED) {
            self.accept_failed(&message);
            return;
        }
        match record.level() {
            log::Level::Error => {
                tracing::error!(target: "pingora", source = record.target(), "{message}");
            }
            _ => tracing::warn!(target: "pingora", source = record.target(), "{message}"),
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_told_apart_by_their_os_error() {
        assert_eq!(
            reason("Accept() failed  AcceptError context: Fail to accept() cause: Too many open files (os error 24)"),
            "fd_limit"
        );
        assert_eq!(
            reason(
                "Accept() failed  AcceptError cause: Too many open files in system (os error 23)"
            ),
            "fd_limit"
        );
        assert_eq!(
            reason("Accept() failed  AcceptError cause: Software caused connection abort (os error 103)"),
            "other"
        );
    }
}
