//! The pool on synthetic time with stand-in connections: keying, newest first, idle expiry at
//! take and at sweep, the per-peer limit, dead connections, and the sweeper task.

use std::sync::atomic::{AtomicBool, AtomicUsize};

use super::*;

/// A stand-in connection: its number, whether the far end "closed" it, and a count of closes.
struct Conn {
    id: u32,
    dead: Arc<AtomicBool>,
    closed: Arc<AtomicUsize>,
}

impl Reusable for Conn {
    fn is_dead(&mut self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Makes numbered connections that share one close counter.
#[derive(Default)]
struct Conns {
    closed: Arc<AtomicUsize>,
}

impl Conns {
    fn new_conn(&self, id: u32) -> Conn {
        Conn {
            id,
            dead: Arc::default(),
            closed: self.closed.clone(),
        }
    }

    fn closed(&self) -> usize {
        self.closed.load(Ordering::Relaxed)
    }
}

fn key(port: u16, tls: bool, sni: &str) -> PeerKey {
    PeerKey {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        tls,
        sni: sni.into(),
    }
}

const IDLE: Duration = Duration::from_secs(60);

fn pool(max_idle_per_peer: usize) -> Pool<Conn> {
    Pool::new(PoolOptions {
        max_idle_per_peer,
        sweep_every: Duration::from_secs(3600),
    })
}

#[test]
fn a_connection_is_reused_only_for_the_same_address_tls_and_sni() {
    let conns = Conns::default();
    let pool = pool(8);
    let now = Instant::now();
    let a = key(443, true, "api.openai.com");
    pool.put(&a, conns.new_conn(1), IDLE, now);
    for other in [
        key(444, true, "api.openai.com"),
        key(443, false, "api.openai.com"),
        key(443, true, "api.anthropic.com"),
    ] {
        assert!(pool.take(&other, now).is_none(), "{other:?}");
    }
    let same = key(443, true, "api.openai.com");
    let conn = pool.take(&same, now).unwrap();
    assert_eq!(conn.id, 1);
    assert!(pool.take(&same, now).is_none(), "taken once");
    assert_eq!(conns.closed(), 0, "the lookups closed nothing");
}

#[test]
fn the_newest_idle_connection_goes_first() {
    let conns = Conns::default();
    let pool = pool(8);
    let now = Instant::now();
    let k = key(80, false, "h");
    for id in 1..=3 {
        pool.put(&k, conns.new_conn(id), IDLE, now);
    }
    let order: Vec<u32> = std::iter::from_fn(|| pool.take(&k, now).map(|c| c.id)).collect();
    assert_eq!(order, [3, 2, 1]);
}

#[test]
fn an_expired_connection_is_closed_when_met_instead_of_reused() {
    let conns = Conns::default();
    let pool = pool(8);
    let t0 = Instant::now();
    let k = key(80, false, "h");
    pool.put(&k, conns.new_conn(1), Duration::from_secs(10), t0);
    pool.put(
        &k,
        conns.new_conn(2),
        Duration::from_secs(10),
        t0 + Duration::from_secs(5),
    );
    // At 12 s the first has expired (10 s), the second has not (15 s).
    let t = t0 + Duration::from_secs(12);
    assert_eq!(pool.take(&k, t).map(|c| c.id), Some(2));
    assert_eq!(conns.closed(), 1, "the second closed on the way out");
    assert!(pool.take(&k, t).is_none());
    assert_eq!(
        conns.closed(),
        2,
        "the first, expired, closed instead of reused"
    );
}

#[test]
fn a_sweep_closes_connections_past_their_idle_timeout_and_forgets_empty_peers() {
    let conns = Conns::default();
    let pool = pool(8);
    let t0 = Instant::now();
    let (a, b) = (key(1, false, "a"), key(2, false, "b"));
    pool.put(&a, conns.new_conn(1), Duration::from_secs(10), t0);
    pool.put(&a, conns.new_conn(2), Duration::from_secs(30), t0);
    pool.put(&b, conns.new_conn(3), Duration::from_secs(10), t0);
    assert_eq!(pool.sweep(t0 + Duration::from_secs(9)), Swept::default());
    let swept = pool.sweep(t0 + Duration::from_secs(10));
    assert_eq!(
        swept,
        Swept {
            expired: 2,
            dead: 0
        }
    );
    assert_eq!(conns.closed(), 2);
    assert_eq!((pool.idle(&a), pool.idle(&b)), (1, 0));
    assert_eq!(pool.peers(), 1, "b has nothing left");
    assert_eq!(pool.take(&a, t0).map(|c| c.id), Some(2));
}

#[test]
fn at_the_per_peer_limit_the_oldest_idle_connection_is_closed() {
    let conns = Conns::default();
    let pool = pool(2);
    let now = Instant::now();
    let (a, b) = (key(1, false, "a"), key(2, false, "b"));
    for id in 1..=3 {
        pool.put(&a, conns.new_conn(id), IDLE, now);
    }
    pool.put(&b, conns.new_conn(9), IDLE, now);
    assert_eq!(conns.closed(), 1, "only a's oldest");
    assert_eq!(
        (pool.idle(&a), pool.idle(&b)),
        (2, 1),
        "the limit is per peer"
    );
    let order: Vec<u32> = std::iter::from_fn(|| pool.take(&a, now).map(|c| c.id)).collect();
    assert_eq!(order, [3, 2]);
}

#[test]
fn no_connection_is_kept_with_a_zero_limit_or_a_zero_idle_timeout() {
    let conns = Conns::default();
    let now = Instant::now();
    let k = key(80, false, "h");
    pool(0).put(&k, conns.new_conn(1), IDLE, now);
    let p = pool(8);
    p.put(&k, conns.new_conn(2), Duration::ZERO, now);
    assert_eq!(p.idle(&k), 0);
    assert_eq!(conns.closed(), 2);
}

#[test]
fn a_sweep_closes_connections_the_far_end_closed_and_keeps_the_rest_in_order() {
    let conns = Conns::default();
    let pool = pool(8);
    let now = Instant::now();
    let k = key(80, false, "h");
    let dying = conns.new_conn(2);
    let dead = dying.dead.clone();
    pool.put(&k, conns.new_conn(1), IDLE, now);
    pool.put(&k, dying, IDLE, now);
    pool.put(&k, conns.new_conn(3), IDLE, now);
    assert_eq!(pool.sweep(now), Swept::default());
    dead.store(true, Ordering::Relaxed);
    assert_eq!(
        pool.sweep(now),
        Swept {
            expired: 0,
            dead: 1
        }
    );
    assert_eq!(conns.closed(), 1);
    let order: Vec<u32> = std::iter::from_fn(|| pool.take(&k, now).map(|c| c.id)).collect();
    assert_eq!(order, [3, 1]);
}

#[tokio::test]
async fn the_sweeper_task_closes_a_dead_connection_and_ends_with_the_pool() {
    let conns = Conns::default();
    let pool = Pool::new(PoolOptions {
        max_idle_per_peer: 8,
        sweep_every: Duration::from_millis(10),
    });
    let k = key(80, false, "h");
    let conn = conns.new_conn(1);
    let dead = conn.dead.clone();
    pool.put(&k, conn, IDLE, Instant::now());
    pool.put(&k, conns.new_conn(2), IDLE, Instant::now());
    dead.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.idle(&k) != 1 {
        assert!(Instant::now() < deadline, "the sweeper never ran");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(conns.closed(), 1);
    // The sweeper holds the pool weakly: dropping the pool closes what it held.
    let weak = Arc::downgrade(&pool.inner);
    drop(pool);
    assert!(weak.upgrade().is_none());
    assert_eq!(conns.closed(), 2);
}
