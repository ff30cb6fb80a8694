//! The breaker itself: a pure state machine over synthetic instants, with the textbook names —
//! Closed (traffic flows), Open (rejecting), HalfOpen (letting probes through).
//!
//! Closed opens after `failure_threshold` consecutive failures, or when the failure rate over
//! the last `window` reaches `failure_rate` with at least `min_requests` results in it. Open
//! rejects everything for `open_for`, then turns HalfOpen: up to `half_open_requests` probes
//! at a time; that many successes close it, any failure opens it again. A probe that never
//! reports back (its request ended without reaching the upstream) stops blocking new probes
//! after `open_for`.

use std::time::{Duration, Instant};

/// The breaker's settings (the `circuit_breaker` filter's YAML).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Consecutive failures that open the breaker; 0 turns this trigger off.
    pub failure_threshold: u32,
    /// How long it stays open before probing.
    pub open_for: Duration,
    /// Probes let through at once while half-open, and successes needed to close.
    pub half_open_requests: u32,
    /// Failure share over `window` that opens it; `None` turns this trigger off.
    pub failure_rate: Option<f64>,
    /// The sliding window for `failure_rate`.
    pub window: Duration,
    /// Results needed in the window before `failure_rate` applies.
    pub min_requests: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
            half_open_requests: 1,
            failure_rate: None,
            window: Duration::from_secs(30),
            min_requests: 20,
        }
    }
}

/// The breaker's state, as the gauge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Traffic flows.
    Closed,
    /// Probing.
    HalfOpen,
    /// Rejecting.
    Open,
}

impl State {
    /// The gauge value: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> i64 {
        match self {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open => 2,
        }
    }
}

/// Whether a request may go to the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Closed: send it.
    Yes,
    /// Half-open: send it as a probe.
    Probe,
    /// Open (or enough probes in flight): skip the deployment.
    No,
}

/// What one request to the deployment showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// It answered (any status that is not the upstream's fault).
    Success,
    /// Connect error, timeout, 5xx, malformed reply, or a stream cut mid-way.
    Failure,
    /// Neither (a 429: the deployment is healthy but busy); frees a probe slot.
    Neutral,
}

/// Buckets in the failure-rate window.
const BUCKETS: usize = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    epoch: u64,
    ok: u32,
    failed: u32,
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        in_flight: u32,
        succeeded: u32,
        last_probe: Instant,
    },
}

/// One deployment's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    settings: Settings,
    inner: Inner,
    consecutive: u32,
    origin: Instant,
    buckets: [Bucket; BUCKETS],
}

impl Breaker {
    /// A closed breaker; `now` anchors the failure-rate window.
    pub fn new(settings: Settings, now: Instant) -> Self {
        Self {
            settings,
            inner: Inner::Closed,
            consecutive: 0,
            origin: now,
            buckets: [Bucket::default(); BUCKETS],
        }
    }

    /// New settings (a reload); the state is kept.
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// The current state (Open stays Open until `admit` notices `open_for` has passed).
    pub fn state(&self) -> State {
        match self.inner {
            Inner::Closed => State::Closed,
            Inner::Open { .. } => State::Open,
            Inner::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// The state as of `now`: an Open breaker whose `open_for` has passed reports HalfOpen,
    /// since the next request would be let through as a probe. This is what the gauge shows,
    /// so a deployment with no traffic does not look open forever.
    pub fn state_at(&self, now: Instant) -> State {
        match self.inner {
            Inner::Open { until } if now >= until => State::HalfOpen,
            _ => self.state(),
        }
    }

    /// Whether a request may go now.
    pub fn admit(&mut self, now: Instant) -> Admit {
        let limit = self.settings.half_open_requests.max(1);
        match &mut self.inner {
            Inner::Closed => Admit::Yes,
            Inner::Open { until } if now < *until => Admit::No,
            Inner::Open { .. } => {
                self.inner = Inner::HalfOpen {
                    in_flight: 1,
                    succeeded: 0,
                    last_probe: now,
                };
                Admit::Probe
            }
            Inner::HalfOpen {
                in_flight,
                last_probe,
                ..
            } => {
                let stale = now.saturating_duration_since(*last_probe) >= self.settings.open_for;
                if stale {
                    *in_flight = 0;
                }
                if *in_flight < limit {
                    *in_flight += 1;
                    *last_probe = now;
                    Admit::Probe
                } else {
                    Admit::No
                }
            }
        }
    }

    /// Records what a request showed.
    pub fn record(&mut self, now: Instant, obs: Observation) {
        let s = self.settings;
        match &mut self.inner {
            Inner::Open { .. } => {}
            Inner::HalfOpen {
                in_flight,
                succeeded,
                ..
            } => {
                *in_flight = in_flight.saturating_sub(1);
                match obs {
                    Observation::Failure => self.open(now),
                    Observation::Success => {
                        *succeeded += 1;
                        if *succeeded >= s.half_open_requests.max(1) {
                            self.close();
                        }
                    }
                    Observation::Neutral => {}
                }
            }
            Inner::Closed => {
                match obs {
                    Observation::Success => {
                        self.consecutive = 0;
                        self.bucket(now).ok += 1;
                    }
                    Observation::Failure => {
                        self.consecutive += 1;
                        self.bucket(now).failed += 1;
                    }
                    Observation::Neutral => return,
                }
                if obs == Observation::Failure && self.tripped(now) {
                    self.open(now);
                }
            }
        }
    }

    fn tripped(&self, now: Instant) -> bool {
        let s = &self.settings;
        if s.failure_threshold > 0 && self.consecutive >= s.failure_threshold {
            return true;
        }
        let Some(rate) = s.failure_rate else {
            return false;
        };
        let current = self.epoch(now);
        let (ok, failed) = self
            .buckets
            .iter()
            .filter(|b| b.epoch + (BUCKETS as u64) > current && b.epoch <= current)
            .fold((0u64, 0u64), |(o, f), b| {
                (o + u64::from(b.ok), f + u64::from(b.failed))
            });
        let total = ok + failed;
        total >= u64::from(s.min_requests.max(1)) && failed as f64 >= rate * total as f64
    }

    fn epoch(&self, now: Instant) -> u64 {
        let width = (self.settings.window / BUCKETS as u32).max(Duration::from_millis(1));
        (now.saturating_duration_since(self.origin).as_nanos() / width.as_nanos()) as u64
    }

    fn bucket(&mut self, now: Instant) -> &mut Bucket {
        let epoch = self.epoch(now);
        let b = &mut self.buckets[(epoch % BUCKETS as u64) as usize];
        if b.epoch != epoch {
            *b = Bucket {
                epoch,
                ok: 0,
                failed: 0,
            };
        }
        b
    }

    fn open(&mut self, now: Instant) {
        self.inner = Inner::Open {
            until: now + self.settings.open_for,
        };
    }

    fn close(&mut self) {
        self.inner = Inner::Closed;
        self.consecutive = 0;
        self.buckets = [Bucket::default(); BUCKETS];
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
