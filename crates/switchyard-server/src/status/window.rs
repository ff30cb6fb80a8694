//! Recent error rates per deployment, from the upstream attempt counters: the status page
//! samples the counters (at most every few seconds) and compares now with the newest sample
//! at least five minutes old — or, before there is one, with the oldest it has (an empty
//! sample taken at start, so early on "recent" means "since start").

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far back "recent" reaches.
pub const WINDOW: Duration = Duration::from_secs(300);
/// Samples closer together than this are not kept.
const STEP: Duration = Duration::from_secs(5);

/// Attempt totals per model id: (all attempts, failed attempts).
pub type Totals = HashMap<String, (u64, u64)>;

/// One deployment's recent attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recent {
    /// Upstream requests in the window.
    pub attempts: u64,
    /// The share of them that failed; `None` without attempts.
    pub error_rate: Option<f64>,
}

/// Counter samples over the last [`WINDOW`], and the newest one before it.
#[derive(Debug)]
pub struct ErrorWindow(Mutex<VecDeque<(Instant, Totals)>>);

impl ErrorWindow {
    /// A window whose first sample is all zeros at `start` (the counters' start).
    pub fn new(start: Instant) -> Self {
        Self(Mutex::new(VecDeque::from([(start, Totals::new())])))
    }

    /// Records `now`'s totals and returns each model's attempts and error rate since the
    /// baseline sample, with the baseline's age in seconds.
    pub fn observe(&self, now: Instant, totals: Totals) -> (HashMap<String, Recent>, f64) {
        let Ok(mut samples) = self.0.lock() else {
            return (HashMap::new(), 0.0);
        };
        // Drop samples while the next one is also old enough to be the baseline.
        while samples
            .get(1)
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= WINDOW)
        {
            samples.pop_front();
        }
        let empty = Totals::new();
        let (since, base) = samples
            .front()
            .map_or((None, &empty), |(t, b)| (Some(*t), b));
        let recent = totals
            .iter()
            .map(|(model, &(all, failed))| {
                let (b_all, b_failed) = base.get(model).copied().unwrap_or((0, 0));
                let attempts = all.saturating_sub(b_all);
                let failures = failed.saturating_sub(b_failed);
                let error_rate = (attempts > 0).then(|| failures as f64 / attempts as f64);
                (
                    model.clone(),
                    Recent {
                        attempts,
                        error_rate,
                    },
                )
            })
            .collect();
        let secs = since.map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
        if samples
            .back()
            .is_none_or(|(t, _)| now.saturating_duration_since(*t) >= STEP)
        {
            samples.push_back((now, totals));
        }
        (recent, secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(all: u64, failed: u64) -> Totals {
        Totals::from([("gpt-4o".to_string(), (all, failed))])
    }

    #[test]
    fn rates_cover_the_last_five_minutes_only() {
        let t0 = Instant::now();
        let w = ErrorWindow::new(t0);
        // Early on, everything since the start.
        let (r, _) = w.observe(t0 + Duration::from_secs(1), totals(10, 5));
        assert_eq!(
            r["gpt-4o"],
            Recent {
                attempts: 10,
                error_rate: Some(0.5)
            }
        );
        let (r, secs) = w.observe(t0 + Duration::from_secs(60), totals(20, 5));
        assert_eq!(
            r["gpt-4o"],
            Recent {
                attempts: 20,
                error_rate: Some(0.25)
            }
        );
        assert_eq!(secs, 60.0);
        // Six minutes on: compared with the newest sample at least five minutes old (t0+60s).
        let (r, secs) = w.observe(t0 + Duration::from_secs(361), totals(30, 15));
        assert_eq!(
            r["gpt-4o"],
            Recent {
                attempts: 10,
                error_rate: Some(1.0)
            }
        );
        assert_eq!(secs, 301.0);
    }

    #[test]
    fn no_attempts_means_no_rate() {
        let t0 = Instant::now();
        let w = ErrorWindow::new(t0);
        w.observe(t0 + Duration::from_secs(300), totals(4, 1));
        let (r, _) = w.observe(t0 + Duration::from_secs(610), totals(4, 1));
        assert_eq!(
            r["gpt-4o"],
            Recent {
                attempts: 0,
                error_rate: None
            }
        );
    }
}
