//! The upstream connection pool. pingora's pool costs, per request, a `getpeername` when a
//! connection is reused (it checks the socket against the peer), a task spawned on every
//! release to watch the idle connection, and that task's wake-up when the connection is taken
//! again. This one keeps idle connections in a stack per peer behind a sharded lock, so taking
//! and returning one is a hash, a short critical section and no syscall; one sweeper task for
//! the whole pool drops connections past their idle timeout and those the far end closed.
//! A connection closed between two sweeps is caught by the caller's transparent retry.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

/// Which connections are interchangeable. The transport opens every connection with the same
/// TLS settings (pingora's defaults: verified certificate and hostname, no client
/// certificate, no proxy), so the address, TLS and SNI are all of pingora's peer key that
/// varies here; a per-provider TLS setting would have to join the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerKey {
    /// The resolved address.
    pub addr: SocketAddr,
    /// TLS on top of TCP.
    pub tls: bool,
    /// The name sent as SNI and checked against the certificate.
    pub sni: Arc<str>,
}

/// A connection the pool can hold.
pub trait Reusable: Send + 'static {
    /// Whether the far end closed the connection, or sent bytes no request asked for: either
    /// way it cannot carry another request. Must answer at once, without waiting.
    fn is_dead(&mut self) -> bool;
}

/// How many idle connections the pool keeps, and how often it looks at them.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Idle connections kept per peer; returning one more closes the oldest.
    pub max_idle_per_peer: usize,
    /// How often the sweeper drops expired and dead connections.
    pub sweep_every: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            // Enough for the concurrency one sidecar sends one provider, bounded so a burst
            // does not leave thousands of sockets open.
            max_idle_per_peer: 256,
            sweep_every: Duration::from_secs(1),
        }
    }
}

/// What one sweep dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Past their idle timeout.
    pub expired: usize,
    /// Closed by the far end (or holding bytes nobody asked for).
    pub dead: usize,
}

/// Lock shards: peers hash to one of them, so two requests to different providers rarely
/// meet on a lock, and the sweeper holds only one at a time.
const SHARDS: usize = 16;

struct Idle<C> {
    conn: C,
    expires: Instant,
}

/// Idle connections of each peer, newest last.
type Shard<C> = HashMap<PeerKey, VecDeque<Idle<C>>>;

struct Inner<C> {
    shards: Box<[Mutex<Shard<C>>]>,
    hasher: RandomState,
    options: PoolOptions,
    sweeper_started: AtomicBool,
}

/// Idle upstream connections by peer. Cloning shares the pool.
pub struct Pool<C> {
    inner: Arc<Inner<C>>,
}

impl<C> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Reusable> Default for Pool<C> {
    fn default() -> Self {
        Self::new(PoolOptions::default())
    }
}

impl<C: Reusable> Pool<C> {
    /// An empty pool. Its sweeper starts with the first connection returned inside a tokio
    /// runtime, and ends once the pool is dropped.
    pub fn new(options: PoolOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
                hasher: RandomState::new(),
                options,
                sweeper_started: AtomicBool::new(false),
            }),
        }
    }

    /// The newest idle connection to `key` that has not expired by `now`; expired ones met
    /// on the way are closed. The newest goes first: it is the least likely to have been
    /// closed by the far end's own idle timeout.
    pub fn take(&self, key: &PeerKey, now: Instant) -> Option<C> {
        let mut expired = Vec::new();
        let found = {
            let mut shard = self.inner.shard(key);
            let stack = shard.get_mut(key)?;
            loop {
                match stack.pop_back() {
                    None => break None,
                    Some(idle) if idle.expires > now => break Some(idle.conn),
                    Some(idle) => expired.push(idle.conn),
                }
            }
        };
        // Closed outside the lock.
        drop(expired);
        found
    }

    /// Keeps `conn` for reuse until `now + idle`; at the per-peer limit the oldest idle
    /// connection to `key` is closed to make room.
    pub fn put(&self, key: &PeerKey, conn: C, idle: Duration, now: Instant) {
        let max = self.inner.options.max_idle_per_peer;
        if max == 0 || idle.is_zero() {
            return;
        }
        let idle = Idle {
            conn,
            expires: now + idle,
        };
        let evicted = {
            let mut shard = self.inner.shard(key);
            match shard.get_mut(key) {
                Some(stack) => {
                    let oldest = (stack.len() >= max).then(|| stack.pop_front()).flatten();
                    stack.push_back(idle);
                    oldest
                }
                None => {
                    shard.insert(key.clone(), VecDeque::from([idle]));
                    None
                }
            }
        };
        drop(evicted);
        self.start_sweeper();
    }

    /// Drops every connection expired by `now` or found dead, and forgets peers left with
    /// none (what the sweeper task does).
    #[cfg(test)]
    pub fn sweep(&self, now: Instant) -> Swept {
        self.inner.sweep(now)
    }

    /// Idle connections held for `key`.
    #[cfg(test)]
    pub fn idle(&self, key: &PeerKey) -> usize {
        self.inner.shard(key).get(key).map_or(0, VecDeque::len)
    }

    /// Peers with at least one idle connection (after the last sweep).
    #[cfg(test)]
    pub fn peers(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).len()).sum()
    }

    fn start_sweeper(&self) {
        let inner = &self.inner;
        if inner.sweeper_started.load(Ordering::Relaxed)
            || inner.sweeper_started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(sweeper(Arc::downgrade(inner), inner.options.sweep_every));
            }
            // Not in a runtime (a synchronous caller): try again on the next return.
            Err(_) => inner.sweeper_started.store(false, Ordering::Release),
        }
    }
}

impl<C: Reusable> Inner<C> {
    fn shard(&self, key: &PeerKey) -> MutexGuard<'_, Shard<C>> {
        let i = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        lock(&self.shards[i])
    }

    fn sweep(&self, now: Instant) -> Swept {
        let mut swept = Swept::default();
        for shard in self.shards.iter() {
            let mut dropped = Vec::new();
            {
                let mut shard = lock(shard);
                shard.retain(|_, stack| {
                    // Oldest first, so the survivors keep their order.
                    for mut idle in std::mem::take(stack) {
                        if idle.expires <= now {
                            swept.expired += 1;
                            dropped.push(idle.conn);
                        } else if idle.conn.is_dead() {
                            swept.dead += 1;
                            dropped.push(idle.conn);
                        } else {
                            stack.push_back(idle);
                        }
                    }
                    !stack.is_empty()
                });
            }
            // Closed outside the lock.
            drop(dropped);
        }
        swept
    }
}

/// A poisoned shard only means a panic elsewhere mid-push or mid-pop; the map is still whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pool's one background task: a sweep every `every` until the pool is gone.
async fn sweeper<C: Reusable>(pool: Weak<Inner<C>>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate.
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        // `is_dead` polls each connection once; outside tokio's cooperative budget, or the
        // budget would run out after ~128 connections and the rest would look alive.
        let swept = tokio::task::unconstrained(async { pool.sweep(Instant::now()) }).await;
        if swept != Swept::default() {
            tracing::debug!(
                expired = swept.expired,
                dead = swept.dead,
                "idle upstream connections closed"
            );
        }
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
