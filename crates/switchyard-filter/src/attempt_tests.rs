//! The attempt machine on synthetic time, up to the response head: every fault kind, the
//! deadlines, backoff, `retry-after`, budget stops, skips and the final error. The scripted
//! hooks here are shared with `attempt_relay_tests.rs` (reading, the commit, cuts).

use std::collections::{HashMap, VecDeque};

use super::*;
use crate::ErrorKind;

pub(super) const MS: fn(u64) -> Duration = Duration::from_millis;

pub(super) fn timeouts() -> Timeouts {
    Timeouts {
        connect: MS(100),
        first_byte: MS(1_000),
        idle: MS(500),
        total: MS(5_000),
    }
}

/// Scripted hooks that record what the machine told them.
#[derive(Default)]
pub(super) struct Fake {
    pub(super) plan: Vec<usize>,
    pub(super) skip: HashMap<usize, &'static str>,
    pub(super) refuse: Option<usize>,
    pub(super) decisions: VecDeque<RetryDecision>,
    /// A target a failure appends to the plan (as `retry` does to try one again).
    pub(super) append: Option<usize>,
    pub(super) log: Vec<String>,
    pub(super) seen: Vec<FailedAttempt>,
}

impl Fake {
    pub(super) fn plan(targets: &[usize]) -> Self {
        Self {
            plan: targets.to_vec(),
            ..Self::default()
        }
    }
}

impl AttemptHooks for Fake {
    fn target(&self, position: usize) -> Option<usize> {
        self.plan.get(position).copied()
    }
    fn timeouts(&self, _target: usize) -> Timeouts {
        timeouts()
    }
    fn label(&self, target: usize) -> &str {
        ["m0", "m1", "m2", "m3"][target]
    }
    fn prepare(&mut self, taken: usize, target: usize) -> Result<AttemptFlow, GatewayError> {
        self.log.push(format!("prepare {taken} {target}"));
        if self.refuse == Some(target) {
            return Err(GatewayError::Internal("no key".into()));
        }
        Ok(match self.skip.get(&target) {
            Some(r) => AttemptFlow::Skip(r),
            None => AttemptFlow::Send,
        })
    }
    fn skipped(&mut self, target: usize, reason: &'static str) {
        self.log.push(format!("skip {target} {reason}"));
    }
    fn ended(&mut self, target: usize, result: &AttemptResult) {
        self.log.push(format!("end {target} {result:?}"));
    }
    fn failed(&mut self, target: usize, failed: &FailedAttempt, why: &Failure) -> RetryDecision {
        self.log.push(format!("failed {target} {why}"));
        self.seen.push(failed.clone());
        if let Some(t) = self.append.take() {
            self.plan.push(t);
        }
        self.decisions.pop_front().unwrap_or(RetryDecision::Next)
    }
}

pub(super) fn sent_to(a: &Action) -> usize {
    match a {
        Action::Send { target, .. } => *target,
        other => panic!("expected a Send, got {other:?}"),
    }
}

pub(super) fn failed_with(a: Action) -> GatewayError {
    match a {
        Action::Fail(e) => e,
        other => panic!("expected a Fail, got {other:?}"),
    }
}

pub(super) fn head(status: u16) -> Event {
    Event::Head {
        status,
        retry_after: None,
    }
}

pub(super) fn body(output: bool, end: bool) -> Event {
    Event::Body {
        received: true,
        output,
        end,
    }
}

#[test]
fn a_good_answer_is_committed_on_its_first_output_and_ends_the_attempt() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    let a = m.next(t0, Event::Start, &mut h);
    assert_eq!(
        a,
        Action::Send {
            target: 0,
            deadlines: Deadlines {
                connect: t0 + MS(100),
                first_byte: t0 + MS(1_000),
                total: t0 + MS(5_000),
            }
        }
    );
    assert_eq!(
        m.next(t0 + MS(10), head(200), &mut h),
        Action::Read(t0 + MS(1_000))
    );
    assert_eq!(m.status(), Some(200));
    assert!(!m.committed());
    assert_eq!(
        m.next(t0 + MS(20), body(true, false), &mut h),
        Action::Commit
    );
    assert!(m.committed());
    assert_eq!(
        m.next(t0 + MS(21), Event::Written, &mut h),
        Action::Read(t0 + MS(521))
    );
    assert_eq!(
        m.next(t0 + MS(30), body(true, true), &mut h),
        Action::Forward
    );
    assert_eq!(m.next(t0 + MS(31), Event::Written, &mut h), Action::Finish);
    assert_eq!(h.log, ["prepare 1 0", "end 0 Status(200)"]);
    assert_eq!(m.sent(), 1);
}

#[test]
fn a_whole_answer_commits_and_finishes() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    assert_eq!(m.next(t0, body(true, true), &mut h), Action::Commit);
    assert_eq!(m.next(t0, Event::Written, &mut h), Action::Finish);
}

#[test]
fn a_client_error_is_relayed_not_retried() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert!(matches!(m.next(t0, head(400), &mut h), Action::Read(_)));
    assert_eq!(m.next(t0, body(true, true), &mut h), Action::Commit);
    assert_eq!(m.next(t0, Event::Written, &mut h), Action::Finish);
    assert_eq!(h.log.last().unwrap(), "end 0 Status(400)");
}

/// Every way an attempt can fail before the commit moves on to the next target, and tells
/// the hooks the matching result.
#[test]
fn every_fault_before_the_commit_fails_over() {
    let t0 = Instant::now();
    type Drive = fn(&mut Attempts, Instant, &mut Fake) -> Action;
    let cases: Vec<(&str, Drive, AttemptResult)> = vec![
        (
            "connect error",
            |m, t, h| {
                m.next(
                    t,
                    Event::Failed(Failure::Connect("connect to x failed".into())),
                    h,
                )
            },
            AttemptResult::ConnectError,
        ),
        (
            "connect timeout",
            |m, t, h| m.next(t, Event::Failed(Failure::ConnectTimeout), h),
            AttemptResult::Timeout,
        ),
        (
            "closed before the head",
            |m, t, h| m.next(t, Event::Failed(Failure::Closed("closed".into())), h),
            AttemptResult::Malformed,
        ),
        (
            "no head by first_byte",
            |m, t, h| m.next(t + MS(1_000), Event::Timer, h),
            AttemptResult::Timeout,
        ),
        (
            "503",
            |m, t, h| m.next(t, head(503), h),
            AttemptResult::Status(503),
        ),
        (
            "429",
            |m, t, h| m.next(t, head(429), h),
            AttemptResult::Status(429),
        ),
        (
            "reset before any output",
            |m, t, h| {
                m.next(t, head(200), h);
                m.next(t, Event::Failed(Failure::Reset), h)
            },
            AttemptResult::Malformed,
        ),
        (
            "a first event the hooks refuse",
            |m, t, h| {
                m.next(t, head(200), h);
                m.next(t, Event::Failed(Failure::Malformed("bad json".into())), h)
            },
            AttemptResult::Malformed,
        ),
        (
            "no body byte by first_byte",
            |m, t, h| {
                m.next(t, head(200), h);
                m.next(t + MS(1_000), Event::Timer, h)
            },
            AttemptResult::Timeout,
        ),
    ];
    for (name, drive, result) in cases {
        let mut h = Fake::plan(&[0, 1]);
        let mut m = Attempts::new(t0, vec![]);
        assert_eq!(sent_to(&m.next(t0, Event::Start, &mut h)), 0, "{name}");
        let a = drive(&mut m, t0, &mut h);
        assert_eq!(sent_to(&a), 1, "{name}");
        assert_eq!(h.log[1], format!("end 0 {result:?}"), "{name}");
        assert_eq!(h.seen[0].result, result, "{name}");
        assert!(h.log[2].starts_with("failed 0 "), "{name}: {:?}", h.log);
        assert_eq!(m.sent(), 2, "{name}");
    }
}

#[test]
fn the_final_error_says_what_happened_to_every_target() {
    let t0 = Instant::now();
    let run = |events: [Event; 2]| {
        let mut h = Fake::plan(&[0, 1]);
        let mut m = Attempts::new(t0, vec![]);
        m.next(t0, Event::Start, &mut h);
        let [a, b] = events;
        m.next(t0, a, &mut h);
        failed_with(m.next(t0, b, &mut h))
    };
    let e = run([
        Event::Failed(Failure::Connect("connect to a failed: refused".into())),
        head(502),
    ]);
    assert_eq!((e.kind(), e.status()), (ErrorKind::UpstreamFailed, 502));
    assert_eq!(
        e.to_string(),
        "all upstream targets failed: m0: connect to a failed: refused; m1: HTTP 502"
    );
    let e = run([
        Event::Failed(Failure::ConnectTimeout),
        Event::Failed(Failure::ConnectTimeout),
    ]);
    assert_eq!((e.kind(), e.status()), (ErrorKind::UpstreamTimeout, 504));
    let e = run([head(429), head(429)]);
    assert_eq!((e.kind(), e.status()), (ErrorKind::RateLimitExceeded, 429));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    // A timeout and a 5xx: not all timed out.
    let e = run([Event::Failed(Failure::ConnectTimeout), head(500)]);
    assert_eq!(e.kind(), ErrorKind::UpstreamFailed);
}

#[test]
fn the_shortest_retry_after_of_the_rate_limited_targets_is_passed_on() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    let limited = |s| Event::Head {
        status: 429,
        retry_after: Some(Duration::from_secs(s)),
    };
    m.next(t0, limited(7), &mut h);
    let e = failed_with(m.next(t0, limited(3), &mut h));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(h.seen[0].retry_after, Some(Duration::from_secs(7)));
}

#[test]
fn skipped_and_pruned_targets_are_reported_and_alone_are_503() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    h.skip.insert(0, "circuit open");
    h.skip.insert(1, "retry-after");
    let mut m = Attempts::new(t0, vec![(2, "context window")]);
    let e = failed_with(m.next(t0, Event::Start, &mut h));
    assert_eq!((e.kind(), e.status()), (ErrorKind::NoTargetAvailable, 503));
    assert_eq!(
        e.to_string(),
        "no upstream target is available: m2: skipped (context window); \
         m0: skipped (circuit open); m1: skipped (retry-after)"
    );
    assert_eq!(
        h.log,
        [
            "skip 2 context window",
            "prepare 1 0",
            "skip 0 circuit open",
            "prepare 2 1",
            "skip 1 retry-after"
        ]
    );
    assert_eq!(m.sent(), 0);
}

#[test]
fn a_skip_moves_on_to_the_next_target_without_a_request() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    h.skip.insert(0, "circuit open");
    let mut m = Attempts::new(t0, vec![]);
    assert_eq!(sent_to(&m.next(t0, Event::Start, &mut h)), 1);
    assert_eq!(m.sent(), 1);
}

#[test]
fn an_error_from_prepare_ends_the_request_at_once() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    h.refuse = Some(0);
    let mut m = Attempts::new(t0, vec![]);
    let e = failed_with(m.next(t0, Event::Start, &mut h));
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert_eq!(h.log, ["prepare 1 0"]);
}

#[test]
fn an_empty_plan_is_503() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[]);
    let mut m = Attempts::new(t0, vec![]);
    let e = failed_with(m.next(t0, Event::Start, &mut h));
    assert_eq!(e.kind(), ErrorKind::NoTargetAvailable);
}

#[test]
fn a_stop_decision_ends_the_request_with_its_reason() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    h.decisions
        .push_back(RetryDecision::Stop("retry budget exhausted"));
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    let e = failed_with(m.next(t0, head(500), &mut h));
    assert_eq!(e.kind(), ErrorKind::UpstreamFailed);
    assert_eq!(
        e.to_string(),
        "all upstream targets failed: m0: HTTP 500; no further attempts: retry budget exhausted"
    );
    assert_eq!(m.sent(), 1);
}

#[test]
fn a_backoff_waits_then_tries_the_appended_target() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    h.append = Some(0);
    h.decisions.push_back(RetryDecision::Backoff(MS(200)));
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert_eq!(
        m.next(t0 + MS(10), head(503), &mut h),
        Action::Wait(t0 + MS(210))
    );
    let a = m.next(t0 + MS(210), Event::Timer, &mut h);
    assert_eq!(sent_to(&a), 0);
    assert_eq!(h.log[3], "prepare 2 0");
    assert_eq!(m.sent(), 2);
}

#[test]
fn a_backoff_with_nothing_left_to_try_fails_at_once() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    h.decisions.push_back(RetryDecision::Backoff(MS(200)));
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert!(matches!(m.next(t0, head(503), &mut h), Action::Fail(_)));
}

#[test]
fn a_backoff_never_waits_past_the_total_deadline() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    h.append = Some(0);
    h.decisions
        .push_back(RetryDecision::Backoff(Duration::from_secs(60)));
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert_eq!(
        m.next(t0 + MS(100), head(429), &mut h),
        Action::Wait(t0 + MS(5_000))
    );
    // Woken at the deadline: no attempt is made past it.
    let e = failed_with(m.next(t0 + MS(5_000), Event::Timer, &mut h));
    assert_eq!(e.kind(), ErrorKind::RateLimitExceeded);
    assert!(e.to_string().contains("m0: total deadline passed"), "{e}");
    assert_eq!(m.sent(), 1);
}

#[test]
fn every_deadline_is_capped_by_total() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    let a = m.next(
        t0 + MS(4_500),
        Event::Failed(Failure::ConnectTimeout),
        &mut h,
    );
    assert_eq!(
        a,
        Action::Send {
            target: 1,
            deadlines: Deadlines {
                connect: t0 + MS(4_600),
                first_byte: t0 + MS(5_000),
                total: t0 + MS(5_000),
            }
        }
    );
    let e = failed_with(m.next(t0 + MS(5_000), Event::Timer, &mut h));
    assert_eq!((e.kind(), e.status()), (ErrorKind::UpstreamTimeout, 504));
    assert_eq!(
        e.to_string(),
        "the upstream did not answer in time: m0: connect timed out; m1: total deadline passed"
    );
}

#[test]
fn the_total_deadline_stops_the_plan_before_the_next_target() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1, 2]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    let e = failed_with(m.next(t0 + MS(6_000), head(500), &mut h));
    assert_eq!(
        e.to_string(),
        "the upstream did not answer in time: m0: HTTP 500; m1: total deadline passed"
    );
    assert_eq!(m.sent(), 1);
}

#[test]
fn an_event_out_of_order_is_an_internal_error_not_a_panic() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    let e = failed_with(m.next(t0, Event::Written, &mut h));
    assert_eq!(e.kind(), ErrorKind::Internal);
}
