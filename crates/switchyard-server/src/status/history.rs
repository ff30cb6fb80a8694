//! The config's load and reload history, newest first, for the status page: when, what
//! happened (loaded, reloaded, rejected), the generation and sha256 that went into force, and a
//! rejected edit's errors.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

/// How many events are kept.
const KEEP: usize = 20;

/// One load or reload attempt.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadEvent {
    /// RFC 3339.
    pub time: String,
    /// `loaded` (at start), `reloaded`, `rejected` (the old config kept serving), or
    /// `reverted` (the file is back to the config in force after a rejected edit).
    pub result: &'static str,
    /// The generation in force after it.
    pub generation: u64,
    /// The sha256 of the file that went into force (absent when rejected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why a reload was rejected, each with its path and line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// How many more times the same thing happened in a row (one save can fire several file
    /// events, each re-read).
    #[serde(skip_serializing_if = "is_zero")]
    pub repeats: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The last [`KEEP`] events; locked only by reloads and the status page.
#[derive(Debug, Default)]
pub struct ReloadHistory(Mutex<VecDeque<ReloadEvent>>);

impl ReloadHistory {
    /// A config went into force: the first (`loaded`) or a later one (`reloaded`).
    pub fn applied(&self, generation: u64, sha256: &str) {
        self.push(ReloadEvent {
            time: now(),
            result: if generation <= 1 {
                "loaded"
            } else {
                "reloaded"
            },
            generation,
            sha256: (!sha256.is_empty()).then(|| sha256.to_owned()),
            errors: Vec::new(),
            repeats: 0,
        });
    }

    /// The file went back to the config in force after a rejected edit.
    pub fn reverted(&self, generation: u64, sha256: &str) {
        self.push(ReloadEvent {
            time: now(),
            result: "reverted",
            generation,
            sha256: Some(sha256.to_owned()),
            errors: Vec::new(),
            repeats: 0,
        });
    }

    /// A reload was refused; `generation` stays in force.
    pub fn rejected(&self, generation: u64, errors: Vec<String>) {
        self.push(ReloadEvent {
            time: now(),
            result: "rejected",
            generation,
            sha256: None,
            errors,
            repeats: 0,
        });
    }

    /// Newest first.
    pub fn events(&self) -> Vec<ReloadEvent> {
        self.0
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn push(&self, e: ReloadEvent) {
        if let Ok(mut h) = self.0.lock() {
            if let Some(last) = h.front_mut() {
                if last.result == e.result && last.errors == e.errors && last.sha256 == e.sha256 {
                    last.time = e.time;
                    last.repeats += 1;
                    return;
                }
            }
            h.push_front(e);
            h.truncate(KEEP);
        }
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_events_first() {
        let h = ReloadHistory::default();
        h.applied(1, "aa");
        h.rejected(
            1,
            vec!["models[0].provider: unknown provider `x` (line 7)".into()],
        );
        h.rejected(
            1,
            vec!["models[0].provider: unknown provider `x` (line 7)".into()],
        );
        h.applied(2, "bb");
        let e = h.events();
        assert_eq!(
            e.iter().map(|e| e.result).collect::<Vec<_>>(),
            ["reloaded", "rejected", "loaded"]
        );
        assert_eq!(e[1].errors.len(), 1);
        assert_eq!(
            e[1].repeats, 1,
            "the same rejection twice in a row is one event"
        );
        assert_eq!(e[0].sha256.as_deref(), Some("bb"));
        for g in 3..40 {
            h.applied(g, &format!("sha{g}"));
        }
        assert_eq!(h.events().len(), KEEP);
    }
}
