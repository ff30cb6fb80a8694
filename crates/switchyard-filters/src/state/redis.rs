//! The Redis backend: every admission is one Lua script (all limits checked and charged
//! atomically, on Redis's clock so replicas agree), every settlement another. Reservations are
//! members of a sorted set scored by their expiry, so a replica that dies mid-request cannot
//! hold budget past its deadline. Each call has a short deadline: a slow or unreachable Redis
//! turns into a [`StateError`] quickly, never a hung request. After a failure, calls fail at
//! once for [`BACKOFF`] instead of each waiting out the deadline, so a dead Redis costs one
//! request the deadline per backoff, not every request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use tokio::sync::OnceCell;

use super::{Admission, BudgetUsage, Hold, Limit, Settlement, StateError, Ticket, Verdict};

/// Checks rpm, tpm and the budget; charges all or none.
/// KEYS: rpm, tpm, budget hash, reservation set.
/// ARGV: rpm limit, tpm limit, tpm cost, budget cap (-1: none), reserve, member, hold ms,
/// key ttl s (0: none).
/// Returns {verdict (0 ok, 1 rpm, 2 tpm, 3 budget), wait µs, spent, reserved}.
const ADMIT: &str = r#"
-- Writes after TIME need effects replication before Redis 5 (the default since).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local minute = 60000000
local function gcra(key, limit, cost)
  if cost > limit then cost = limit end
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local nxt = tat + math.ceil(cost * minute / limit)
  if nxt > now + minute then return nil, nxt - now - minute end
  return nxt, 0
end
local rpm, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rpm_next, tpm_next
if rpm > 0 then
  local n, w = gcra(KEYS[1], rpm, 1)
  if not n then return {1, w, 0, 0} end
  rpm_next = n
end
if tpm > 0 then
  local n, w = gcra(KEYS[2], tpm, cost)
  if not n then return {2, w, 0, 0} end
  tpm_next = n
end
local spent, reserved = 0, 0
local cap = tonumber(ARGV[4])
if cap >= 0 then
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
  for _, m in ipairs(lapsed) do
    redis.call('HINCRBY', KEYS[3], 'reserved', -tonumber(string.match(m, ':(%d+)$')))
  end
  if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now) end
  spent = tonumber(redis.call('HGET', KEYS[3], 'spent') or '0')
  reserved = tonumber(redis.call('HGET', KEYS[3], 'reserved') or '0')
  if spent + reserved >= cap then return {3, 0, spent, reserved} end
  reserved = redis.call('HINCRBY', KEYS[3], 'reserved', ARGV[5])
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[7]) * 1000, ARGV[6])
  local ttl = tonumber(ARGV[8])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[3], ttl)
    redis.call('EXPIRE', KEYS[4], ttl)
  end
end
if rpm_next then
  redis.call('SET', KEYS[1], string.format('%.0f', rpm_next), 'PX', math.ceil((rpm_next - now) / 1000) + 1000)
end
if tpm_next then
  redis.call('SET', KEYS[2], string.format('%.0f', tpm_next), 'PX', math.ceil((tpm_next - now) / 1000) + 1000)
end
return {0, 0, spent, reserved}
"#;

/// Corrects the token window and settles a reservation.
/// KEYS: tpm, budget hash, reservation set.
/// ARGV: tpm limit (0: none), tpm delta, member ('': none), amount, actual, key ttl s.
/// Returns {spent, reserved}.
const SETTLE: &str = r#"
-- Writes after TIME need effects replication before Redis 5 (the default since).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local minute = 60000000
local tpm, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
if tpm > 0 and delta ~= 0 then
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  local moved = tat + delta * minute / tpm
  if moved > now then
    redis.call('SET', KEYS[1], string.format('%.0f', math.ceil(moved)), 'PX', math.ceil((moved - now) / 1000) + 1000)
  else
    redis.call('DEL', KEYS[1])
  end
end
if ARGV[3] == '' then return {0, 0} end
if redis.call('ZREM', KEYS[3], ARGV[3]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'reserved', -tonumber(ARGV[4]))
end
local actual = tonumber(ARGV[5])
if actual > 0 then redis.call('HINCRBY', KEYS[2], 'spent', actual) end
local ttl = tonumber(ARGV[6])
if ttl > 0 and redis.call('TTL', KEYS[2]) == -1 then redis.call('EXPIRE', KEYS[2], ttl) end
return {tonumber(redis.call('HGET', KEYS[2], 'spent') or '0'), tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')}
"#;

/// How long calls fail fast after a failure before Redis is tried again.
pub const BACKOFF: Duration = Duration::from_secs(1);

/// How long a (background) connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The Redis backend. The connection is made on first use (config loading has no runtime),
/// then kept and re-established by the connection manager.
pub struct RedisState {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    deadline: Duration,
    admit: Script,
    settle: Script,
    /// Unix µs until which calls fail fast (0: Redis is believed up).
    down_until: AtomicU64,
    /// Whether the server's persistence settings were read (once per backend).
    persistence_checked: AtomicBool,
}

/// Keys of one gateway key; the `{id}` hash tag keeps them in one cluster slot.
fn key(key_id: &str, what: &str) -> String {
    format!("switchyard:{{{key_id}}}:{what}")
}

impl RedisState {
    /// A backend for `url`; connects lazily. `deadline` bounds every call.
    pub fn new(url: &str, deadline: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("state.url: {e}"))?;
        if url.starts_with("rediss:") {
            // `rediss://` uses rustls' process-wide provider; ring is the one pingora uses.
            // An error means one is installed already, which is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        Ok(Self {
            client,
            conn: OnceCell::new(),
            deadline,
            admit: Script::new(ADMIT),
            settle: Script::new(SETTLE),
            down_until: AtomicU64::new(0),
            persistence_checked: AtomicBool::new(false),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, StateError> {
        if now_us() < self.down_until.load(Ordering::Relaxed) {
            return Err(StateError::Backend(format!(
                "a recent call failed; Redis is tried again within {BACKOFF:?}"
            )));
        }
        self.conn
            .get_or_try_init(|| async { self.connect() })
            .await
            .cloned()
    }

    /// The connection manager, connecting in a background task: a connection (TCP, TLS,
    /// AUTH) may take longer than one call's deadline, and must not be abandoned when a call
    /// gives up. Needs a tokio runtime.
    fn connect(&self) -> Result<ConnectionManager, StateError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(self.deadline))
            .set_number_of_retries(1)
            .set_max_delay(BACKOFF);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| StateError::Backend(e.to_string()))?;
        let mut warm = manager.clone();
        let check = !self.persistence_checked.swap(true, Ordering::AcqRel);
        tokio::spawn(async move {
            let _: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut warm).await;
            if check {
                warn_without_persistence(&mut warm).await;
            }
        });
        Ok(manager)
    }

    /// Starts connecting now when called inside a tokio runtime (a reload), so the first
    /// request does not wait for it; otherwise the first call connects.
    pub fn warm_up(&self) {
        if tokio::runtime::Handle::try_current().is_ok() && !self.conn.initialized() {
            if let Ok(m) = self.connect() {
                let _ = self.conn.set(m);
            }
        }
    }

    /// Reads the server's persistence settings on a connection of its own and warns when a
    /// restart would lose budgets (at start: the shared connection is made by the first
    /// request, on the data path's runtime). Once per backend.
    pub async fn check_persistence(&self) {
        if self.persistence_checked.swap(true, Ordering::AcqRel) {
            return;
        }
        let connect = self.client.get_multiplexed_async_connection();
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(mut conn)) => warn_without_persistence(&mut conn).await,
            _ => {
                // Not reachable yet: the first connection that succeeds asks instead.
                self.persistence_checked.store(false, Ordering::Release);
            }
        }
    }

    /// Runs `f` under the deadline.
    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StateError> {
        let e = match tokio::time::timeout(self.deadline, f).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => StateError::Backend(e.to_string()),
            Err(_) => StateError::Timeout(self.deadline),
        };
        self.down_until
            .store(now_us() + BACKOFF.as_micros() as u64, Ordering::Relaxed);
        Err(e)
    }

    /// See [`super::StateBackend::admit`].
    pub async fn admit(&self, a: &Admission<'_>) -> Result<Verdict, StateError> {
        let mut conn = self.conn().await?;
        let (tag, cap, reserve, hold_ms, ttl) = match &a.budget {
            Some(b) => (
                b.window.tag.as_str(),
                b.cap as i64,
                b.reserve,
                b.hold.as_millis() as u64,
                key_ttl(b.window.resets_at, a.now_us),
            ),
            None => ("none", -1, 0, 0, 0),
        };
        let member = format!("{:016x}:{reserve}", fastrand::u64(..));
        let mut inv = self.admit.prepare_invoke();
        inv.key(key(a.key_id, "rpm"))
            .key(key(a.key_id, "tpm"))
            .key(key(a.key_id, &format!("budget:{tag}")))
            .key(key(a.key_id, &format!("reserved:{tag}")))
            .arg(a.rpm.unwrap_or(0))
            .arg(a.tpm.map_or(0, |t| t.limit))
            .arg(a.tpm.map_or(0, |t| t.cost))
            .arg(cap)
            .arg(reserve)
            .arg(&member)
            .arg(hold_ms)
            .arg(ttl);
        let r: Vec<i64> = self.bounded(inv.invoke_async(&mut conn)).await?;
        let field = |i: usize| r.get(i).copied().unwrap_or(0).max(0) as u64;
        let usage = BudgetUsage {
            spent: field(2),
            reserved: field(3),
        };
        Ok(match r.first().copied().unwrap_or(-1) {
            0 => Verdict::Admitted(Ticket {
                hold: a.budget.as_ref().map(|_| Hold::Redis {
                    tag: tag.to_string(),
                    member,
                    amount: reserve,
                    ttl_s: ttl,
                }),
                usage: a.budget.as_ref().map(|_| usage),
            }),
            1 => Verdict::Limited(Limit::Rpm { wait_us: field(1) }),
            2 => Verdict::Limited(Limit::Tpm { wait_us: field(1) }),
            3 => Verdict::Limited(Limit::Budget(usage)),
            other => {
                return Err(StateError::Backend(format!(
                    "unexpected admission reply {other}"
                )))
            }
        })
    }

    /// See [`super::StateBackend::settle`].
    pub async fn settle(&self, s: &Settlement) -> Result<Option<BudgetUsage>, StateError> {
        let mut conn = self.conn().await?;
        let (tag, member, amount, actual, ttl) = match &s.budget {
            Some((
                Hold::Redis {
                    tag,
                    member,
                    amount,
                    ttl_s,
                },
                actual,
            )) => (tag.as_str(), member.as_str(), *amount, *actual, *ttl_s),
            _ => ("none", "", 0, 0, 0),
        };
        let (limit, delta) = s.tpm.unwrap_or((0, 0));
        let mut inv = self.settle.prepare_invoke();
        inv.key(key(&s.key_id, "tpm"))
            .key(key(&s.key_id, &format!("budget:{tag}")))
            .key(key(&s.key_id, &format!("reserved:{tag}")))
            .arg(limit)
            .arg(delta)
            .arg(member)
            .arg(amount)
            .arg(actual)
            .arg(ttl);
        let r: Vec<i64> = self.bounded(inv.invoke_async(&mut conn)).await?;
        Ok((!member.is_empty()).then(|| BudgetUsage {
            spent: r.first().copied().unwrap_or(0).max(0) as u64,
            reserved: r.get(1).copied().unwrap_or(0).max(0) as u64,
        }))
    }

    /// See [`super::StateBackend::budget_usage`].
    pub async fn budget_usage(&self, key_id: &str, tag: &str) -> Result<BudgetUsage, StateError> {
        let mut conn = self.conn().await?;
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(key(key_id, &format!("budget:{tag}")))
            .arg("spent")
            .arg("reserved");
        let r: Vec<Option<i64>> = self.bounded(cmd.query_async(&mut conn)).await?;
        let field = |i: usize| r.get(i).copied().flatten().unwrap_or(0).max(0) as u64;
        Ok(BudgetUsage {
            spent: field(0),
            reserved: field(1),
        })
    }
}

/// Budgets live in Redis: a server that keeps nothing on disk resets every budget when it
/// restarts. Asked once per connection manager, when it is made.
async fn warn_without_persistence(conn: &mut impl redis::aio::ConnectionLike) {
    async fn config_get(conn: &mut impl redis::aio::ConnectionLike, name: &str) -> Option<String> {
        let r: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query_async(conn)
            .await;
        r.ok().and_then(|v| v.get(1).cloned())
    }
    let aof = config_get(conn, "appendonly").await;
    let save = config_get(conn, "save").await;
    match (aof.as_deref(), save.as_deref().map(str::trim)) {
        (Some("yes"), _) => {}
        (Some(_), Some("")) => tracing::warn!(
            "the Redis server keeps nothing on disk (appendonly no, save \"\"): a Redis restart resets every budget's spend to 0; turn on AOF (appendonly yes)"
        ),
        (Some(_), Some(save)) => tracing::warn!(
            save,
            "the Redis server persists by snapshots only (appendonly no): a Redis restart loses the spend since the last snapshot; turn on AOF (appendonly yes) for budgets"
        ),
        _ => tracing::info!(
            "cannot read the Redis server's persistence settings (CONFIG GET refused); budgets need a Redis that persists with AOF"
        ),
    }
}

/// Seconds a period's keys live: until a day after the period ends (late settlements still
/// land), or forever for `total`.
pub(crate) fn key_ttl(resets_at: Option<u64>, now_us: u64) -> u64 {
    match resets_at {
        Some(end) => end.saturating_sub(now_us / 1_000_000) + 86_400,
        None => 0,
    }
}
