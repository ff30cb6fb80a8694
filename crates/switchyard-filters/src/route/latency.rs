//! Per-deployment latency, for `lowest_latency`: an exponentially weighted moving average of
//! each target's time to first token, kept by the factory (keyed by model id) so it survives
//! reloads. Reads and writes are single atomic operations: no lock on the request path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Weight of a new sample: after about 8 samples an old value is mostly forgotten.
pub const ALPHA: f64 = 0.25;
/// Added to the elapsed time of an attempt that failed, so a target that fails fast never
/// looks fast.
pub const FAILURE_PENALTY: Duration = Duration::from_secs(5);

const EMPTY: u64 = u64::MAX;

/// One deployment's average time to first token, in seconds, as `f64` bits.
#[derive(Debug)]
pub struct LatencyCell(AtomicU64);

impl Default for LatencyCell {
    fn default() -> Self {
        Self(AtomicU64::new(EMPTY))
    }
}

impl LatencyCell {
    /// The average, or `None` before the first sample.
    pub fn get(&self) -> Option<f64> {
        match self.0.load(Ordering::Relaxed) {
            EMPTY => None,
            bits => Some(f64::from_bits(bits)),
        }
    }

    /// Folds one sample into the average.
    pub fn record(&self, sample: Duration) {
        let x = sample.as_secs_f64();
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let next = match old {
                    EMPTY => x,
                    bits => f64::from_bits(bits) * (1.0 - ALPHA) + x * ALPHA,
                };
                Some(next.to_bits())
            });
    }
}

/// Every deployment's cell, by model id; locked only while a config is built.
#[derive(Debug, Default)]
pub struct LatencyBook {
    cells: Mutex<HashMap<String, Arc<LatencyCell>>>,
}

impl LatencyBook {
    /// The cells for these model ids, in order: existing ones (a reload keeps what was
    /// learnt), new ones empty. Ids no longer in any config are dropped.
    pub fn cells_for<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<Arc<LatencyCell>> {
        let Ok(mut map) = self.cells.lock() else {
            return ids.map(|_| Arc::default()).collect();
        };
        let cells: Vec<Arc<LatencyCell>> = ids
            .map(|id| map.entry(id.to_owned()).or_default().clone())
            .collect();
        map.retain(|_, c| Arc::strong_count(c) > 1 || cells.iter().any(|x| Arc::ptr_eq(x, c)));
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_decays_towards_new_samples() {
        let c = LatencyCell::default();
        assert_eq!(c.get(), None);
        c.record(Duration::from_millis(100));
        assert!((c.get().unwrap() - 0.1).abs() < 1e-9);
        for _ in 0..30 {
            c.record(Duration::from_millis(500));
        }
        assert!((c.get().unwrap() - 0.5).abs() < 0.01);
    }

    #[test]
    fn cells_survive_a_rebuild_by_model_id() {
        let book = LatencyBook::default();
        let first = book.cells_for(["a", "b"].into_iter());
        first[1].record(Duration::from_millis(42));
        let second = book.cells_for(["b", "c"].into_iter());
        assert!(Arc::ptr_eq(&first[1], &second[0]));
        assert!(second[1].get().is_none());
    }
}
