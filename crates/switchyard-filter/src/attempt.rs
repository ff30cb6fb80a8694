//! The attempt loop as a pure state machine: `next(now, event) -> action`. It owns the
//! failover order, the four deadlines (connect, first byte, idle, total), backoff and
//! `retry-after`, the first-byte commit, skip reasons and the error the client gets when every
//! target failed. It does no I/O and reads no clock: the data path feeds it what happened and
//! the time, and does what it says. The filter chain is consulted through [`AttemptHooks`],
//! so filters keep their hooks (`on_upstream_request`, `on_attempt_end`, …) unchanged.

use std::time::{Duration, Instant};

use switchyard_config::Timeouts;

use crate::{AttemptFlow, AttemptResult, FailedAttempt, GatewayError, RetryDecision};

#[path = "attempt_failure.rs"]
mod failure;

pub use failure::Failure;
use failure::Tally;

/// What the machine asks of the filter chain (and the config) while it runs.
pub trait AttemptHooks {
    /// The plan's target at `position`, read afresh each time: retry hooks may append.
    fn target(&self, position: usize) -> Option<usize>;
    /// The deadlines of `target`'s provider.
    fn timeouts(&self, target: usize) -> Timeouts;
    /// A name for `target` in messages (the model id).
    fn label(&self, target: usize) -> &str;
    /// Builds the attempt at `target`, the `taken`-th entry of the plan (the chain's
    /// `on_upstream_request`): send it, skip it, or end the request with an error.
    fn prepare(&mut self, taken: usize, target: usize) -> Result<AttemptFlow, GatewayError>;
    /// `target` was passed over without a request (`on_attempt_skipped`).
    fn skipped(&mut self, target: usize, reason: &'static str);
    /// The attempt at `target` is over (`on_attempt_end`).
    fn ended(&mut self, target: usize, result: &AttemptResult);
    /// The attempt at `target` failed before anything reached the client: whether and when
    /// to go on (`on_attempt_failed`); `why` is for the log.
    fn failed(&mut self, target: usize, failed: &FailedAttempt, why: &Failure) -> RetryDecision;
}

/// The instants one attempt must meet, each already capped by `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The connection must be up by then.
    pub connect: Instant,
    /// The response head must have arrived by then.
    pub first_byte: Instant,
    /// The whole request ends by then.
    pub total: Instant,
}

/// What happened, as the data path tells the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The request's chain said `Continue`: begin.
    Start,
    /// The response head of the current attempt arrived.
    Head {
        /// Its status.
        status: u16,
        /// Its `retry-after` (or `retry-after-ms`).
        retry_after: Option<Duration>,
    },
    /// A response hook refused the answer's head: the request ends with this error.
    Refused(GatewayError),
    /// A piece of the body was read and run through the response hooks.
    Body {
        /// Bytes arrived from upstream (the first-byte deadline is met).
        received: bool,
        /// The hooks produced output for the client.
        output: bool,
        /// It was the last piece.
        end: bool,
    },
    /// The current attempt failed (connect, closed, reset, malformed).
    Failed(Failure),
    /// The instant of the last `Send`'s head deadline, `Read` or `Wait` passed.
    Timer,
    /// What `Commit`, `Forward` or `Cut` asked for was written.
    Written,
    /// The client went away while its answer was being written.
    ClientGone,
}

/// What the data path does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send the prepared request to `target`, meeting `deadlines`; report `Head`, `Failed`
    /// (a connect timeout is `Failed(ConnectTimeout)`) or `Timer` (no head by `first_byte`).
    Send {
        /// Index into `Config::models`.
        target: usize,
        /// Its deadlines.
        deadlines: Deadlines,
    },
    /// Sleep until then (a backoff), then report `Timer`.
    Wait(Instant),
    /// Read the next piece of the body by then; report `Body`, `Failed` or `Timer`.
    Read(Instant),
    /// The answer is good: write its head and the output so far to the client (the whole
    /// answer when the last `Body` was the end); no failover from here on. Report `Written`.
    Commit,
    /// Write the output to the client (the end when the last `Body` was); report `Written`.
    Forward,
    /// The upstream failed after the commit: end the stream with an error event in the
    /// client's format; report `Written`.
    Cut(Failure),
    /// The request is over (answered, cut, or the client left).
    Finish,
    /// Nothing reached the client and no attempt is left: answer with this error.
    Fail(GatewayError),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Before `Start`, or deciding.
    Idle,
    /// Sleeping before the next target.
    Backoff,
    /// Request sent, waiting for the head.
    Exchanging { target: usize, deadlines: Deadlines },
    /// Head accepted, waiting for the first output.
    Reading {
        target: usize,
        status: u16,
        deadlines: Deadlines,
        received: bool,
        idle: Duration,
    },
    /// Committed: relaying.
    Streaming {
        target: usize,
        status: u16,
        idle: Duration,
        end: bool,
    },
    /// Over.
    Done,
}

/// One request's attempt loop.
#[derive(Debug)]
pub struct Attempts {
    started: Instant,
    total: Option<Instant>,
    position: usize,
    phase: Phase,
    pruned: Vec<(usize, &'static str)>,
    tally: Tally,
    /// The accepted head's status, until its attempt fails.
    answered: Option<u16>,
}

impl Attempts {
    /// The loop for a request that arrived at `started`, whose plan's `on_plan` hooks pruned
    /// `pruned` (target, reason) before any attempt.
    pub fn new(started: Instant, pruned: Vec<(usize, &'static str)>) -> Self {
        Self {
            started,
            total: None,
            position: 0,
            phase: Phase::Idle,
            pruned,
            tally: Tally::default(),
            answered: None,
        }
    }

    /// Upstream requests sent so far.
    pub fn sent(&self) -> u32 {
        self.tally.sent
    }

    /// The status of the answer being read or relayed, once a head was accepted; it stays
    /// after `Finish`, for the request's outcome.
    pub fn status(&self) -> Option<u16> {
        self.answered
    }

    /// Whether the answer reached the point of no return (its head went to the client).
    pub fn committed(&self) -> bool {
        matches!(self.phase, Phase::Streaming { .. })
    }

    /// Feeds what happened at `now`; returns what to do next.
    pub fn next(&mut self, now: Instant, event: Event, hooks: &mut dyn AttemptHooks) -> Action {
        match (self.phase, event) {
            (Phase::Idle, Event::Start) => {
                for (target, reason) in std::mem::take(&mut self.pruned) {
                    hooks.skipped(target, reason);
                    self.tally
                        .failures
                        .push((Some(target), Failure::Skipped(reason)));
                }
                let total = hooks
                    .target(0)
                    .map(|t| hooks.timeouts(t).total)
                    .unwrap_or_default();
                self.total = Some(self.started + total);
                self.advance(now, hooks)
            }
            (Phase::Backoff, Event::Timer) => self.advance(now, hooks),
            (
                Phase::Exchanging { target, deadlines },
                Event::Head {
                    status,
                    retry_after,
                },
            ) => {
                if (300..400).contains(&status) {
                    return self.fail_attempt(now, target, Failure::Redirect(status), None, hooks);
                }
                let result = AttemptResult::Status(status);
                if result.is_retryable() {
                    if status == 429 {
                        self.tally.limited += 1;
                        self.tally.retry_after = match (self.tally.retry_after, retry_after) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    return self.fail_attempt(
                        now,
                        target,
                        Failure::Status(status),
                        retry_after,
                        hooks,
                    );
                }
                let idle = hooks.timeouts(target).idle;
                self.answered = Some(status);
                self.phase = Phase::Reading {
                    target,
                    status,
                    deadlines,
                    received: false,
                    idle,
                };
                Action::Read(deadlines.first_byte)
            }
            (Phase::Exchanging { target, deadlines }, Event::Timer) => {
                let why = if now >= deadlines.total {
                    Failure::TotalDeadline
                } else {
                    Failure::FirstByteTimeout
                };
                self.fail_attempt(now, target, why, None, hooks)
            }
            (Phase::Exchanging { target, .. }, Event::Failed(why)) => {
                self.fail_attempt(now, target, why, None, hooks)
            }
            (
                Phase::Reading { target, status, .. } | Phase::Streaming { target, status, .. },
                Event::Refused(e),
            ) => {
                hooks.ended(target, &AttemptResult::Status(status));
                self.phase = Phase::Done;
                Action::Fail(e)
            }
            (
                Phase::Reading {
                    target,
                    status,
                    deadlines,
                    received,
                    idle,
                },
                Event::Body {
                    received: got,
                    output,
                    end,
                },
            ) => {
                if output || end {
                    self.phase = Phase::Streaming {
                        target,
                        status,
                        idle,
                        end,
                    };
                    return Action::Commit;
                }
                let received = received || got;
                self.phase = Phase::Reading {
                    target,
                    status,
                    deadlines,
                    received,
                    idle,
                };
                if received {
                    Action::Read(deadlines.total.min(now + idle))
                } else {
                    Action::Read(deadlines.first_byte)
                }
            }
            (
                Phase::Reading {
                    target,
                    deadlines,
                    received,
                    ..
                },
                Event::Timer,
            ) => {
                let why = if now >= deadlines.total {
                    Failure::TotalDeadline
                } else if received {
                    Failure::IdleTimeout
                } else {
                    Failure::FirstByteTimeout
                };
                self.fail_attempt(now, target, why, None, hooks)
            }
            (Phase::Reading { target, .. }, Event::Failed(why)) => {
                self.fail_attempt(now, target, why, None, hooks)
            }
            (
                Phase::Streaming {
                    target,
                    status,
                    idle,
                    ..
                },
                Event::Body { output, end, .. },
            ) => {
                self.phase = Phase::Streaming {
                    target,
                    status,
                    idle,
                    end,
                };
                if output || end {
                    Action::Forward
                } else {
                    Action::Read(self.total_by(now).min(now + idle))
                }
            }
            (
                Phase::Streaming {
                    target,
                    status,
                    end,
                    idle,
                },
                Event::Written,
            ) => {
                if end {
                    hooks.ended(target, &AttemptResult::Status(status));
                    self.phase = Phase::Done;
                    Action::Finish
                } else {
                    Action::Read(self.total_by(now).min(now + idle))
                }
            }
            (
                Phase::Streaming {
                    target,
                    status,
                    idle,
                    ..
                },
                Event::Timer,
            ) => self.cut(
                target,
                status,
                idle,
                if now >= self.total_by(now) {
                    Failure::TotalDeadline
                } else {
                    Failure::IdleTimeout
                },
            ),
            (
                Phase::Streaming {
                    target,
                    status,
                    idle,
                    ..
                },
                Event::Failed(why),
            ) => self.cut(target, status, idle, why),
            (
                Phase::Reading { target, status, .. } | Phase::Streaming { target, status, .. },
                Event::ClientGone,
            ) => {
                hooks.ended(target, &AttemptResult::Status(status));
                self.phase = Phase::Done;
                Action::Finish
            }
            (phase, event) => {
                self.phase = Phase::Done;
                Action::Fail(GatewayError::Internal(format!(
                    "attempt loop: {event:?} in {phase:?}"
                )))
            }
        }
    }

    fn total_by(&self, now: Instant) -> Instant {
        self.total.unwrap_or(now)
    }

    /// After a cut the stream ends once the error event is written.
    fn cut(&mut self, target: usize, status: u16, idle: Duration, why: Failure) -> Action {
        self.phase = Phase::Streaming {
            target,
            status,
            idle,
            end: true,
        };
        Action::Cut(why)
    }

    /// Takes the plan's next target: skips what the hooks skip, stops at the total deadline,
    /// fails when the plan is used up.
    fn advance(&mut self, now: Instant, hooks: &mut dyn AttemptHooks) -> Action {
        let total = self.total_by(now);
        while let Some(target) = hooks.target(self.position) {
            self.position += 1;
            if now >= total {
                self.tally
                    .failures
                    .push((Some(target), Failure::TotalDeadline));
                self.tally.timeouts += 1;
                break;
            }
            match hooks.prepare(self.position, target) {
                Err(e) => {
                    self.phase = Phase::Done;
                    return Action::Fail(e);
                }
                Ok(AttemptFlow::Skip(reason)) => {
                    hooks.skipped(target, reason);
                    self.tally
                        .failures
                        .push((Some(target), Failure::Skipped(reason)));
                }
                Ok(AttemptFlow::Send) => {
                    self.tally.sent += 1;
                    let t = hooks.timeouts(target);
                    let deadlines = Deadlines {
                        connect: total.min(now + t.connect),
                        first_byte: total.min(now + t.first_byte),
                        total,
                    };
                    self.phase = Phase::Exchanging { target, deadlines };
                    return Action::Send { target, deadlines };
                }
            }
        }
        self.exhausted(hooks)
    }

    fn exhausted(&mut self, hooks: &mut dyn AttemptHooks) -> Action {
        self.phase = Phase::Done;
        Action::Fail(self.tally.error(hooks))
    }

    /// A failure before the commit: record it, tell the hooks, and go on as they decide.
    fn fail_attempt(
        &mut self,
        now: Instant,
        target: usize,
        why: Failure,
        retry_after: Option<Duration>,
        hooks: &mut dyn AttemptHooks,
    ) -> Action {
        self.answered = None;
        if why.is_timeout() {
            self.tally.timeouts += 1;
        }
        let failed = FailedAttempt {
            result: why.result(),
            retry_after,
        };
        hooks.ended(target, &failed.result);
        let decision = hooks.failed(target, &failed, &why);
        self.tally.failures.push((Some(target), why));
        self.phase = Phase::Idle;
        match decision {
            RetryDecision::Next => self.advance(now, hooks),
            RetryDecision::Backoff(wait) => {
                let until = self.total_by(now).min(now + wait);
                if hooks.target(self.position).is_some() && until > now {
                    self.phase = Phase::Backoff;
                    Action::Wait(until)
                } else {
                    self.advance(now, hooks)
                }
            }
            RetryDecision::Stop(why) => {
                self.tally.stops.push(why);
                self.exhausted(hooks)
            }
        }
    }
}

#[cfg(test)]
#[path = "attempt_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "attempt_relay_tests.rs"]
mod relay_tests;
