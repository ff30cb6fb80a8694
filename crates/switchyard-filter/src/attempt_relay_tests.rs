//! The attempt machine on synthetic time, from the response head on: what a head or a body
//! piece means before the commit (redirects, first byte, idle), the commit, and how failures
//! after it cut the stream instead of failing over.

use super::tests::{body, failed_with, head, sent_to, Fake, MS};
use super::*;
use crate::ErrorKind;

#[test]
fn once_bytes_arrive_the_idle_deadline_replaces_first_byte() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert_eq!(m.next(t0, head(200), &mut h), Action::Read(t0 + MS(1_000)));
    // Bytes but no whole event yet (a translating hook buffers it).
    assert_eq!(
        m.next(t0 + MS(900), body(false, false), &mut h),
        Action::Read(t0 + MS(1_400))
    );
    let nothing = Event::Body {
        received: false,
        output: false,
        end: false,
    };
    assert_eq!(
        m.next(t0 + MS(1_000), nothing, &mut h),
        Action::Read(t0 + MS(1_500))
    );
}

#[test]
fn after_the_commit_failures_cut_the_stream_instead_of_failing_over() {
    let t0 = Instant::now();
    let cases = [
        (Event::Timer, MS(600), Failure::IdleTimeout),
        (Event::Timer, MS(5_000), Failure::TotalDeadline),
        (Event::Failed(Failure::Reset), MS(50), Failure::Reset),
        (
            Event::Failed(Failure::Malformed("bad event".into())),
            MS(50),
            Failure::Malformed("bad event".into()),
        ),
    ];
    for (event, at, why) in cases {
        let mut h = Fake::plan(&[0, 1]);
        let mut m = Attempts::new(t0, vec![]);
        m.next(t0, Event::Start, &mut h);
        m.next(t0, head(200), &mut h);
        assert_eq!(m.next(t0, body(true, false), &mut h), Action::Commit);
        assert_eq!(
            m.next(t0, Event::Written, &mut h),
            Action::Read(t0 + MS(500))
        );
        assert_eq!(
            m.next(t0 + at, event, &mut h),
            Action::Cut(why.clone()),
            "{why}"
        );
        // The attempt ends once the error event is written, so the hooks see the cut.
        assert_eq!(h.log, ["prepare 1 0"], "{why}");
        assert_eq!(m.next(t0 + at, Event::Written, &mut h), Action::Finish);
        assert_eq!(h.log, ["prepare 1 0", "end 0 Status(200)"], "{why}");
        assert_eq!(m.sent(), 1);
    }
}

#[test]
fn empty_pieces_after_the_commit_keep_reading() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    m.next(t0, body(true, false), &mut h);
    m.next(t0, Event::Written, &mut h);
    assert_eq!(
        m.next(t0 + MS(100), body(false, false), &mut h),
        Action::Read(t0 + MS(600))
    );
    assert_eq!(
        m.next(t0 + MS(200), body(false, true), &mut h),
        Action::Forward
    );
    assert_eq!(m.next(t0 + MS(200), Event::Written, &mut h), Action::Finish);
}

#[test]
fn a_refused_head_ends_the_attempt_and_the_request_with_that_error() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    let e = GatewayError::Internal("refused".into());
    assert_eq!(
        m.next(t0, Event::Refused(e.clone()), &mut h),
        Action::Fail(e)
    );
    assert_eq!(h.log, ["prepare 1 0", "end 0 Status(200)"]);
}

#[test]
fn a_client_that_leaves_ends_the_attempt() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    m.next(t0, body(true, false), &mut h);
    assert_eq!(m.next(t0, Event::ClientGone, &mut h), Action::Finish);
    assert_eq!(h.log, ["prepare 1 0", "end 0 Status(200)"]);
}

#[test]
fn a_redirect_is_an_unusable_reply_that_fails_over() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    assert_eq!(sent_to(&m.next(t0, head(301), &mut h)), 1);
    assert_eq!(h.seen[0].result, AttemptResult::Malformed);
    assert_eq!(
        h.log[1..3],
        ["end 0 Malformed", "failed 0 redirect (HTTP 301)"]
    );
    let e = failed_with(m.next(t0, head(307), &mut h));
    assert_eq!((e.kind(), e.status()), (ErrorKind::UpstreamFailed, 502));
    assert_eq!(
        e.to_string(),
        "all upstream targets failed: m0: redirect (HTTP 301); m1: redirect (HTTP 307)"
    );
}

#[test]
fn silence_after_bytes_but_before_the_commit_is_an_idle_timeout() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    assert_eq!(
        m.next(t0 + MS(900), body(false, false), &mut h),
        Action::Read(t0 + MS(1_400))
    );
    assert_eq!(sent_to(&m.next(t0 + MS(1_400), Event::Timer, &mut h)), 1);
    assert_eq!(h.seen[0].result, AttemptResult::Timeout);
    assert_eq!(h.log[2], "failed 0 no data within the idle timeout");
}

#[test]
fn no_body_byte_by_first_byte_is_named_so() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    let e = failed_with(m.next(t0 + MS(1_000), Event::Timer, &mut h));
    assert_eq!((e.kind(), e.status()), (ErrorKind::UpstreamTimeout, 504));
    assert_eq!(
        e.to_string(),
        "the upstream did not answer in time: m0: no data within first_byte"
    );
}

#[test]
fn an_empty_answer_commits_at_its_end() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    let end = Event::Body {
        received: false,
        output: false,
        end: true,
    };
    assert_eq!(m.next(t0, end, &mut h), Action::Commit);
    assert!(m.committed());
    assert_eq!(m.next(t0, Event::Written, &mut h), Action::Finish);
    assert_eq!(h.log, ["prepare 1 0", "end 0 Status(200)"]);
    assert_eq!(
        m.status(),
        Some(200),
        "the outcome's status outlives the attempt"
    );
}

#[test]
fn the_status_is_the_answering_attempts_not_a_failed_ones() {
    let t0 = Instant::now();
    let mut h = Fake::plan(&[0, 1]);
    let mut m = Attempts::new(t0, vec![]);
    m.next(t0, Event::Start, &mut h);
    m.next(t0, head(200), &mut h);
    assert_eq!(m.status(), Some(200));
    m.next(t0, Event::Failed(Failure::Reset), &mut h);
    assert_eq!(m.status(), None);
    m.next(t0, head(400), &mut h);
    m.next(t0, body(true, true), &mut h);
    m.next(t0, Event::Written, &mut h);
    assert_eq!(m.status(), Some(400));
}
