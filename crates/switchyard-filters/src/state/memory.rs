//! The in-process backend: one cell of atomics per key, found through a copy-on-write map
//! (`ArcSwap`), so the request path takes no lock — a lock is taken only the first time a key
//! is seen, to publish its cell.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::gcra;
use super::{Admission, BudgetUsage, Hold, Limit, Settlement, Ticket, Verdict};

/// Spend of one key in one period. `used` (spent + reserved) is the one number admission
/// compares and swaps, so concurrent reservations can't both slip under the cap.
#[derive(Debug)]
pub struct BudgetCell {
    tag: String,
    used: AtomicU64,
    spent: AtomicU64,
}

impl BudgetCell {
    fn new(tag: &str) -> Self {
        Self {
            tag: tag.to_string(),
            used: AtomicU64::new(0),
            spent: AtomicU64::new(0),
        }
    }

    fn usage(&self) -> BudgetUsage {
        let spent = self.spent.load(Ordering::Acquire);
        let used = self.used.load(Ordering::Acquire);
        BudgetUsage {
            spent,
            reserved: used.saturating_sub(spent),
        }
    }
}

/// One key's windows and its current budget period.
#[derive(Debug)]
struct KeyCells {
    rpm: AtomicU64,
    tpm: AtomicU64,
    budget: ArcSwap<BudgetCell>,
}

/// The memory backend.
#[derive(Default)]
pub struct MemoryState {
    keys: ArcSwap<HashMap<Arc<str>, Arc<KeyCells>>>,
    publish: Mutex<()>,
}

/// Runs GCRA admission on an atomic TAT.
fn take(tat: &AtomicU64, now: u64, limit: u64, cost: u64) -> Result<(), u64> {
    let mut cur = tat.load(Ordering::Acquire);
    loop {
        let next = gcra::admit(cur, now, limit, cost)?;
        match tat.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(()),
            Err(seen) => cur = seen,
        }
    }
}

/// Moves an atomic TAT by `delta` units.
fn shift(tat: &AtomicU64, now: u64, limit: u64, delta: i64) {
    let _ = tat.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
        Some(gcra::adjust(cur, now, limit, delta))
    });
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn cells(&self, key_id: &str) -> Arc<KeyCells> {
        if let Some(c) = self.keys.load().get(key_id) {
            return c.clone();
        }
        // First sight of this key: publish a cell. Rare (once per key per process).
        let _guard = self.publish.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.keys.load_full();
        if let Some(c) = current.get(key_id) {
            return c.clone();
        }
        let cells = Arc::new(KeyCells {
            rpm: AtomicU64::new(0),
            tpm: AtomicU64::new(0),
            budget: ArcSwap::from_pointee(BudgetCell::new("")),
        });
        let mut next = HashMap::clone(&current);
        next.insert(Arc::from(key_id), cells.clone());
        self.keys.store(Arc::new(next));
        cells
    }

    /// The key's budget cell for period `tag`, starting a fresh one when the period changed.
    fn budget_cell(cells: &KeyCells, tag: &str) -> Arc<BudgetCell> {
        let cur = cells.budget.load_full();
        if cur.tag == tag {
            return cur;
        }
        let fresh = Arc::new(BudgetCell::new(tag));
        let prev = cells.budget.compare_and_swap(&cur, fresh.clone());
        if Arc::ptr_eq(&prev, &cur) {
            fresh
        } else {
            // Someone else moved it first; use theirs if it is this period.
            let now = cells.budget.load_full();
            if now.tag == tag {
                now
            } else {
                fresh
            }
        }
    }

    /// See [`super::StateBackend::admit`].
    pub fn admit(&self, a: &Admission<'_>) -> Verdict {
        let cells = self.cells(a.key_id);
        let now = a.now_us;
        if let Some(limit) = a.rpm {
            if let Err(wait_us) = take(&cells.rpm, now, limit, 1) {
                return Verdict::Limited(Limit::Rpm { wait_us });
            }
        }
        let refund_rpm = |cells: &KeyCells| {
            if let Some(limit) = a.rpm {
                shift(&cells.rpm, now, limit, -1);
            }
        };
        if let Some(t) = a.tpm {
            if let Err(wait_us) = take(&cells.tpm, now, t.limit, t.cost) {
                refund_rpm(&cells);
                return Verdict::Limited(Limit::Tpm { wait_us });
            }
        }
        let Some(b) = &a.budget else {
            return Verdict::Admitted(Ticket::default());
        };
        let cell = Self::budget_cell(&cells, &b.window.tag);
        let reserved = cell
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < b.cap).then(|| used.saturating_add(b.reserve))
            });
        match reserved {
            Ok(_) => Verdict::Admitted(Ticket {
                usage: Some(cell.usage()),
                hold: Some(Hold::Memory {
                    cell,
                    amount: b.reserve,
                }),
            }),
            Err(_) => {
                refund_rpm(&cells);
                if let Some(t) = a.tpm {
                    shift(&cells.tpm, now, t.limit, -(t.cost.min(t.limit) as i64));
                }
                Verdict::Limited(Limit::Budget(cell.usage()))
            }
        }
    }

    /// See [`super::StateBackend::settle`].
    pub fn settle(&self, s: &Settlement) -> Option<BudgetUsage> {
        if let Some((limit, delta)) = s.tpm {
            if delta != 0 {
                shift(&self.cells(&s.key_id).tpm, s.now_us, limit, delta);
            }
        }
        match &s.budget {
            Some((Hold::Memory { cell, amount }, actual)) => {
                cell.spent.fetch_add(*actual, Ordering::AcqRel);
                let _ = cell
                    .used
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                        Some(used.saturating_sub(*amount).saturating_add(*actual))
                    });
                Some(cell.usage())
            }
            _ => None,
        }
    }

    /// Records `key_id`'s budget in period `tag` as another store reported it (Redis's
    /// numbers, kept for a fallback). Overwrites; no lock after the key's first sight.
    pub fn record_budget(&self, key_id: &str, tag: &str, usage: BudgetUsage) {
        let cell = Self::budget_cell(&self.cells(key_id), tag);
        cell.spent.store(usage.spent, Ordering::Release);
        cell.used.store(
            usage.spent.saturating_add(usage.reserved),
            Ordering::Release,
        );
    }

    /// Starts `key_id`'s budget in period `tag` at `used` nano-dollars already spent, unless
    /// this period has been counted here already.
    pub fn seed_budget(&self, key_id: &str, tag: &str, used: u64) {
        let cell = Self::budget_cell(&self.cells(key_id), tag);
        if cell
            .used
            .compare_exchange(0, used, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            cell.spent.fetch_add(used, Ordering::AcqRel);
        }
    }

    /// See [`super::StateBackend::budget_usage`].
    pub fn budget_usage(&self, key_id: &str, tag: &str) -> BudgetUsage {
        match self.keys.load().get(key_id) {
            Some(c) => {
                let cell = c.budget.load();
                if cell.tag == tag {
                    cell.usage()
                } else {
                    BudgetUsage::default()
                }
            }
            None => BudgetUsage::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{BudgetAsk, TokenCharge, Window};
    use super::*;

    const T0: u64 = 1_800_000_000_000_000;

    fn window(tag: &str) -> Window {
        Window {
            tag: tag.into(),
            resets_at: None,
        }
    }

    fn ask<'a>(w: &'a Window, cap: u64, reserve: u64) -> Admission<'a> {
        Admission {
            key_id: "k",
            now_us: T0,
            rpm: None,
            tpm: None,
            budget: Some(BudgetAsk {
                cap,
                reserve,
                window: w,
                hold: Duration::from_secs(60),
            }),
        }
    }

    fn settle(m: &MemoryState, t: Ticket, actual: u64) -> Option<BudgetUsage> {
        m.settle(&Settlement {
            key_id: "k".into(),
            now_us: T0,
            tpm: None,
            budget: t.hold.map(|h| (h, actual)),
        })
    }

    fn admitted(v: Verdict) -> Ticket {
        match v {
            Verdict::Admitted(t) => t,
            Verdict::Limited(l) => panic!("limited: {l:?}"),
        }
    }

    #[test]
    fn reservations_block_until_settled_then_real_cost_counts() {
        let m = MemoryState::new();
        let w = window("d1");
        let t = admitted(m.admit(&ask(&w, 1000, 800)));
        assert_eq!(
            t.usage,
            Some(BudgetUsage {
                spent: 0,
                reserved: 800
            })
        );
        let t2 = admitted(m.admit(&ask(&w, 1000, 800)));
        assert!(matches!(
            m.admit(&ask(&w, 1000, 1)),
            Verdict::Limited(Limit::Budget(BudgetUsage {
                spent: 0,
                reserved: 1600
            }))
        ));
        settle(&m, t, 100);
        settle(&m, t2, 0);
        assert_eq!(
            m.budget_usage("k", "d1"),
            BudgetUsage {
                spent: 100,
                reserved: 0
            }
        );
        admitted(m.admit(&ask(&w, 1000, 1)));
    }

    #[test]
    fn a_new_period_starts_from_zero_and_old_tickets_settle_into_theirs() {
        let m = MemoryState::new();
        let (d1, d2) = (window("d1"), window("d2"));
        let t = admitted(m.admit(&ask(&d1, 100, 100)));
        assert!(matches!(m.admit(&ask(&d1, 100, 1)), Verdict::Limited(_)));
        let t2 = admitted(m.admit(&ask(&d2, 100, 10)));
        settle(&m, t, 100);
        assert_eq!(m.budget_usage("k", "d2").reserved, 10);
        assert_eq!(m.budget_usage("k", "d2").spent, 0);
        settle(&m, t2, 5);
        assert_eq!(m.budget_usage("k", "d2").spent, 5);
    }

    #[test]
    fn concurrent_reservations_overspend_by_at_most_one_reservation() {
        let m = Arc::new(MemoryState::new());
        let w = Arc::new(window("total"));
        let (cap, max, real) = (10_000u64, 700u64, 500u64);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (m, w) = (m.clone(), w.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        if let Verdict::Admitted(t) = m.admit(&ask(&w, cap, max)) {
                            settle(&m, t, real);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let u = m.budget_usage("k", "total");
        assert_eq!(u.reserved, 0);
        assert!(u.spent >= cap && u.spent <= cap + max, "spent {}", u.spent);
    }

    #[test]
    fn a_refusal_by_one_limit_charges_none() {
        let m = MemoryState::new();
        let w = window("d1");
        let mut a = ask(&w, 10, 10);
        a.rpm = Some(100);
        a.tpm = Some(TokenCharge {
            limit: 1000,
            cost: 400,
        });
        admitted(m.admit(&a));
        // Budget now fully reserved: the next is refused and its rpm/tpm charge refunded.
        for _ in 0..5 {
            assert!(matches!(m.admit(&a), Verdict::Limited(Limit::Budget(_))));
        }
        a.budget = None;
        admitted(m.admit(&a));
        assert!(matches!(m.admit(&a), Verdict::Limited(Limit::Tpm { .. })));
    }

    #[test]
    fn settle_corrects_the_token_window() {
        let m = MemoryState::new();
        let w = window("x");
        let mut a = ask(&w, 0, 0);
        a.budget = None;
        a.tpm = Some(TokenCharge {
            limit: 1000,
            cost: 900,
        });
        admitted(m.admit(&a));
        assert!(matches!(m.admit(&a), Verdict::Limited(Limit::Tpm { .. })));
        m.settle(&Settlement {
            key_id: "k".into(),
            now_us: T0,
            tpm: Some((1000, -800)),
            budget: None,
        });
        admitted(m.admit(&a));
    }
}
