//! Where rate-limit windows, budget reservations and spend live: in this process
//! ([`MemoryState`], lock-free atomics) or in Redis ([`RedisState`], one atomic Lua script per
//! admission and one per settlement), so N replicas enforce one limit. Both implement the same
//! rules: GCRA windows per minute ([`gcra`]), and budgets that admit a request while
//! `spent + reserved < cap`, reserve its maximum cost, and settle to the real cost at the end.

pub mod gcra;
mod memory;
pub mod period;
mod redis;

use std::sync::Arc;
use std::time::Duration;

pub use memory::{BudgetCell, MemoryState};
pub use period::Window;
pub(crate) use redis::key_ttl;
pub use redis::RedisState;

/// Nano-dollars: budgets are counted in integers so Redis can add them atomically.
pub const NANOS_PER_USD: f64 = 1e9;

/// Why the state backend could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// It did not answer within the deadline.
    #[error("the state backend did not answer within {0:?}")]
    Timeout(Duration),
    /// It answered with an error, or the connection failed.
    #[error("state backend error: {0}")]
    Backend(String),
}

/// A `tpm` check: the limit and the tokens to charge now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCharge {
    /// Tokens per minute.
    pub limit: u64,
    /// Tokens charged up front (prompt estimate + requested output).
    pub cost: u64,
}

/// A budget check: the cap, what to reserve, and the period it counts in.
#[derive(Debug, Clone)]
pub struct BudgetAsk<'a> {
    /// The cap, in nano-dollars.
    pub cap: u64,
    /// The request's maximum possible cost, in nano-dollars.
    pub reserve: u64,
    /// The current period.
    pub window: &'a Window,
    /// How long a reservation may stay unsettled before it lapses (a replica that died
    /// mid-request must not hold budget forever).
    pub hold: Duration,
}

/// Everything checked, all or nothing, when a request starts.
#[derive(Debug, Clone)]
pub struct Admission<'a> {
    /// The gateway key's id.
    pub key_id: &'a str,
    /// Wall clock in Unix microseconds (the memory backend's clock; Redis uses its own).
    pub now_us: u64,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<TokenCharge>,
    /// Spend cap.
    pub budget: Option<BudgetAsk<'a>>,
}

/// Spend and outstanding reservations of one key in one period, in nano-dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetUsage {
    /// Settled spend.
    pub spent: u64,
    /// Reserved by requests in flight.
    pub reserved: u64,
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Requests per minute; capacity returns after this many microseconds.
    Rpm {
        /// Microseconds until one request fits.
        wait_us: u64,
    },
    /// Tokens per minute.
    Tpm {
        /// Microseconds until the charge fits.
        wait_us: u64,
    },
    /// The budget is spent (or fully reserved by requests in flight).
    Budget(BudgetUsage),
}

/// A budget reservation to settle when the request ends.
#[derive(Debug, Clone)]
pub enum Hold {
    /// The memory cell of the period it was taken in.
    Memory {
        /// The period's cell.
        cell: Arc<BudgetCell>,
        /// Nano-dollars reserved.
        amount: u64,
    },
    /// A member of the period's reservation set in Redis.
    Redis {
        /// The period tag.
        tag: String,
        /// Unique member name (`<random>:<amount>`).
        member: String,
        /// Nano-dollars reserved.
        amount: u64,
        /// Seconds the period's keys live.
        ttl_s: u64,
    },
}

/// An admitted request: what to settle later.
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    /// The budget reservation, when the key has a budget.
    pub hold: Option<Hold>,
    /// The budget after this reservation (for the gauges).
    pub usage: Option<BudgetUsage>,
}

/// The answer to an [`Admission`].
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Go ahead; settle the ticket when done.
    Admitted(Ticket),
    /// Refused by this limit; nothing was charged.
    Limited(Limit),
}

/// What a request really used, to correct its admission.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// The gateway key's id.
    pub key_id: Arc<str>,
    /// Wall clock in Unix microseconds.
    pub now_us: u64,
    /// `tpm` limit and real tokens minus those charged up front.
    pub tpm: Option<(u64, i64)>,
    /// The reservation and the real cost in nano-dollars (0 on failure: released).
    pub budget: Option<(Hold, u64)>,
}

/// The backend in force. An enum rather than a trait object: two kinds, no boxing per call.
pub enum StateBackend {
    /// This process only.
    Memory(MemoryState),
    /// Shared through Redis.
    Redis(Box<RedisState>),
}

impl StateBackend {
    /// `memory` or `redis`, for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            StateBackend::Memory(_) => "memory",
            StateBackend::Redis(_) => "redis",
        }
    }

    /// Checks and charges every limit of `a`, all or nothing.
    pub async fn admit(&self, a: &Admission<'_>) -> Result<Verdict, StateError> {
        match self {
            StateBackend::Memory(m) => Ok(m.admit(a)),
            StateBackend::Redis(r) => r.admit(a).await,
        }
    }

    /// Corrects the token window and settles the budget reservation.
    pub async fn settle(&self, s: &Settlement) -> Result<Option<BudgetUsage>, StateError> {
        match self {
            StateBackend::Memory(m) => Ok(m.settle(s)),
            StateBackend::Redis(r) => r.settle(s).await,
        }
    }

    /// Spend and reservations of `key_id` in the period `tag`.
    pub async fn budget_usage(&self, key_id: &str, tag: &str) -> Result<BudgetUsage, StateError> {
        match self {
            StateBackend::Memory(m) => Ok(m.budget_usage(key_id, tag)),
            StateBackend::Redis(r) => r.budget_usage(key_id, tag).await,
        }
    }
}

/// Dollars to nano-dollars, rounding up so a reservation never falls short.
pub fn to_nanos(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * NANOS_PER_USD).ceil() as u64
    } else {
        0
    }
}

/// Nano-dollars to dollars.
pub fn to_usd(nanos: u64) -> f64 {
    nanos as f64 / NANOS_PER_USD
}
