//! While Redis is unreachable (`on_unavailable: fail_open`): limits this process enforces on
//! its own, and spend carried in memory until Redis answers again, so an outage degrades to
//! approximate limits instead of none. Each replica counts only what it serves (N replicas
//! admit up to N times a key's rpm and tpm). A key's budget starts from what Redis last
//! reported to this process (spent plus reserved); what the outage spends is written back to
//! Redis once a call succeeds again, and the next outage starts from Redis's numbers again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::state::{BudgetUsage, Hold, MemoryState, Settlement, StateBackend};

/// Spend to write back, by gateway key, period tag and the Redis key's ttl.
type Owed = HashMap<(Arc<str>, String, u64), u64>;

/// The local fallback of a Redis backend.
pub(crate) struct Fallback {
    /// Budgets as Redis last reported them to this process, per key and period.
    seen: MemoryState,
    /// The limits of the current outage (a fresh one after each recovery).
    local: ArcSwap<StateBackend>,
    /// Whether `local` has admitted anything since Redis last answered.
    in_outage: AtomicBool,
    owed: Mutex<Owed>,
    has_owed: AtomicBool,
    writing_back: AtomicBool,
}

impl Fallback {
    pub(crate) fn new() -> Self {
        Self {
            seen: MemoryState::new(),
            local: ArcSwap::from_pointee(StateBackend::Memory(MemoryState::new())),
            in_outage: AtomicBool::new(false),
            owed: Mutex::new(HashMap::new()),
            has_owed: AtomicBool::new(false),
            writing_back: AtomicBool::new(false),
        }
    }

    /// Records a key's budget as Redis reported it. Lock-free after the key's first sight.
    pub(crate) fn saw(&self, key_id: &str, tag: &str, usage: BudgetUsage) {
        self.seen.record_budget(key_id, tag, usage);
    }

    /// The backend that admits requests now that Redis did not answer; `budget` is the key's
    /// period, so its local budget starts from the spend Redis last reported.
    pub(crate) fn backend(&self, key_id: &str, budget: Option<&str>) -> Arc<StateBackend> {
        self.in_outage.store(true, Ordering::Release);
        let local = self.local.load_full();
        if let (Some(tag), StateBackend::Memory(m)) = (budget, local.as_ref()) {
            let seen = self.seen.budget_usage(key_id, tag);
            m.seed_budget(key_id, tag, seen.spent.saturating_add(seen.reserved));
        }
        local
    }

    /// Carries `actual` nano-dollars spent by `key_id` in period `tag` until Redis takes it.
    pub(crate) fn owe(&self, key_id: &Arc<str>, tag: &str, ttl_s: u64, actual: u64) {
        if actual == 0 {
            return;
        }
        let mut owed = self.owed.lock().unwrap_or_else(|p| p.into_inner());
        *owed
            .entry((key_id.clone(), tag.to_string(), ttl_s))
            .or_insert(0) += actual;
        self.has_owed.store(true, Ordering::Release);
    }

    /// Redis answered: the next outage starts from its numbers, and spend carried during this
    /// one is written back (once at a time, in the background). Cheap when there is nothing
    /// to do: two atomic loads.
    pub(crate) fn recovered(self: &Arc<Self>, redis: &Arc<StateBackend>) {
        if self.in_outage.swap(false, Ordering::AcqRel) {
            self.local
                .store(Arc::new(StateBackend::Memory(MemoryState::new())));
            tracing::info!("the state backend answers again: limits are shared again");
        }
        if !self.has_owed.load(Ordering::Acquire) || self.writing_back.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.writing_back.store(false, Ordering::Release);
            return;
        };
        let (me, redis) = (self.clone(), redis.clone());
        rt.spawn(async move {
            me.write_back(&redis).await;
            me.writing_back.store(false, Ordering::Release);
        });
    }

    /// Adds the carried spend to Redis, each entry once; what fails stays owed.
    pub(crate) async fn write_back(&self, redis: &StateBackend) {
        let owed = {
            let mut owed = self.owed.lock().unwrap_or_else(|p| p.into_inner());
            self.has_owed.store(false, Ordering::Release);
            std::mem::take(&mut *owed)
        };
        let mut written = 0u64;
        for ((key_id, tag, ttl_s), actual) in owed {
            let settlement = Settlement {
                key_id: key_id.clone(),
                now_us: super::now_us(),
                tpm: None,
                // A member no reservation has: nothing is released, `actual` is added.
                budget: Some((
                    Hold::Redis {
                        tag: tag.clone(),
                        member: format!("writeback:{:016x}:0", fastrand::u64(..)),
                        amount: 0,
                        ttl_s,
                    },
                    actual,
                )),
            };
            match redis.settle(&settlement).await {
                Ok(_) => written = written.saturating_add(actual),
                Err(e) => {
                    tracing::warn!(key_id = %key_id, error = %e, "spend carried through the state backend's outage not written back yet; retried with the next call that succeeds");
                    self.owe(&key_id, &tag, ttl_s, actual);
                }
            }
        }
        if written > 0 {
            tracing::info!(
                usd = crate::state::to_usd(written),
                "spend carried through the state backend's outage written back"
            );
        }
    }
}
