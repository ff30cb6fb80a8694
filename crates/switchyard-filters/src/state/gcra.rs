//! GCRA (generic cell rate algorithm) on one number per limit: the theoretical arrival time
//! (TAT) of the next unit. A limit of `limit` units per `period` admits a burst of a whole
//! period's worth and then one unit every `period / limit`. The Redis scripts implement the
//! same arithmetic; these functions are the reference, tested on synthetic time.

/// Length of a rate window in microseconds: limits are per minute.
pub const MINUTE_US: u64 = 60_000_000;

/// Microseconds one unit occupies under `limit` units per minute.
fn interval_us(limit: u64) -> f64 {
    MINUTE_US as f64 / limit.max(1) as f64
}

/// Admits `cost` units at `now` given the stored `tat` (0 when none): the new TAT to store, or
/// how many microseconds to wait until the cost fits. A cost above the limit is charged as the
/// whole limit, so an oversized request can pass when the window is full and not forever fail;
/// its real size is charged afterwards through [`adjust`].
pub fn admit(tat: u64, now: u64, limit: u64, cost: u64) -> Result<u64, u64> {
    let cost = cost.min(limit);
    let start = tat.max(now);
    let next = start + (cost as f64 * interval_us(limit)).ceil() as u64;
    let allowed_until = now + MINUTE_US;
    if next > allowed_until {
        Err(next - allowed_until)
    } else {
        Ok(next)
    }
}

/// Corrects a stored TAT by `delta` units once the real usage is known: positive charges the
/// extra, negative refunds what was over-estimated, never below "window full" (`now`).
pub fn adjust(tat: u64, now: u64, limit: u64, delta: i64) -> u64 {
    let start = tat.max(now) as f64;
    let moved = start + delta as f64 * interval_us(limit);
    if moved <= now as f64 {
        now
    } else {
        moved.ceil() as u64
    }
}

/// Whole seconds to put in `retry-after` for a wait in microseconds: at least 1.
pub fn retry_after_secs(wait_us: u64) -> u64 {
    wait_us.div_ceil(1_000_000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000_000;

    #[test]
    fn a_fresh_window_admits_a_full_burst_then_refuses() {
        let mut tat = 0;
        for _ in 0..10 {
            tat = admit(tat, T0, 10, 1).unwrap();
        }
        let wait = admit(tat, T0, 10, 1).unwrap_err();
        assert_eq!(wait, 6_000_000, "one unit frees up every 6 s at 10 rpm");
        assert_eq!(retry_after_secs(wait), 6);
    }

    #[test]
    fn capacity_returns_at_the_rate() {
        let mut tat = 0;
        for _ in 0..10 {
            tat = admit(tat, T0, 10, 1).unwrap();
        }
        assert!(admit(tat, T0 + 5_999_999, 10, 1).is_err());
        let tat = admit(tat, T0 + 6_000_000, 10, 1).unwrap();
        assert!(admit(tat, T0 + 6_000_000, 10, 1).is_err());
        // After a quiet minute the whole burst is back.
        let mut tat2 = tat;
        for _ in 0..10 {
            tat2 = admit(tat2, T0 + 6_000_000 + MINUTE_US, 10, 1).unwrap();
        }
    }

    #[test]
    fn token_costs_are_weighed() {
        let tat = admit(0, T0, 1000, 600).unwrap();
        let wait = admit(tat, T0, 1000, 500).unwrap_err();
        assert_eq!(wait, 100 * 60_000, "100 tokens over, at 60 ms per token");
        assert!(admit(tat, T0, 1000, 400).is_ok());
    }

    #[test]
    fn an_oversized_cost_passes_only_on_a_full_window() {
        assert!(admit(0, T0, 100, 5000).is_ok());
        let tat = admit(0, T0, 100, 1).unwrap();
        assert!(admit(tat, T0, 100, 5000).is_err());
    }

    #[test]
    fn adjust_charges_extra_and_refunds_overestimates() {
        let tat = admit(0, T0, 1000, 100).unwrap();
        assert_eq!(tat, T0 + 6_000_000);
        assert_eq!(adjust(tat, T0, 1000, 50), T0 + 9_000_000);
        assert_eq!(adjust(tat, T0, 1000, -50), T0 + 3_000_000);
        assert_eq!(adjust(tat, T0, 1000, -500), T0, "never past a full window");
        assert_eq!(
            adjust(0, T0, 1000, 10),
            T0 + 600_000,
            "extra on an idle window"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_a_second() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(0), 1);
        assert_eq!(retry_after_secs(1_000_001), 2);
    }
}
