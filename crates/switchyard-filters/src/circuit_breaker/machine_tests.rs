use std::time::{Duration, Instant};

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn settings() -> Settings {
    Settings {
        failure_threshold: 3,
        open_for: Duration::from_secs(10),
        half_open_requests: 1,
        failure_rate: None,
        window: Duration::from_secs(30),
        min_requests: 20,
    }
}

#[test]
fn opens_after_consecutive_failures_and_a_success_resets_the_count() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..2 {
        assert_eq!(b.admit(t0), Admit::Yes);
        b.record(t0, Observation::Failure);
    }
    b.record(t0, Observation::Success);
    b.record(t0, Observation::Failure);
    b.record(t0, Observation::Failure);
    assert_eq!(b.state(), State::Closed);
    b.record(t0 + ms(1), Observation::Failure);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.admit(t0 + ms(2)), Admit::No);
    assert_eq!(b.admit(t0 + ms(9_999)), Admit::No);
}

#[test]
fn half_open_lets_one_probe_through_and_its_success_closes() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    let later = t0 + Duration::from_secs(10);
    assert_eq!(b.admit(later), Admit::Probe);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.admit(later + ms(5)), Admit::No, "one probe at a time");
    b.record(later + ms(50), Observation::Success);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.admit(later + ms(60)), Admit::Yes);
    // The count starts over after closing.
    b.record(later + ms(70), Observation::Failure);
    b.record(later + ms(70), Observation::Failure);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_failed_probe_opens_again_for_open_for() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    let t1 = t0 + Duration::from_secs(11);
    assert_eq!(b.admit(t1), Admit::Probe);
    b.record(t1 + ms(100), Observation::Failure);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.admit(t1 + Duration::from_secs(10)), Admit::No);
    assert_eq!(b.admit(t1 + ms(10_100)), Admit::Probe);
}

#[test]
fn several_probes_must_all_succeed_when_configured() {
    let t0 = Instant::now();
    let mut b = Breaker::new(
        Settings {
            half_open_requests: 2,
            ..settings()
        },
        t0,
    );
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    let t1 = t0 + Duration::from_secs(10);
    assert_eq!(b.admit(t1), Admit::Probe);
    assert_eq!(b.admit(t1), Admit::Probe);
    assert_eq!(b.admit(t1), Admit::No);
    b.record(t1, Observation::Success);
    assert_eq!(b.state(), State::HalfOpen);
    b.record(t1, Observation::Success);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_probe_that_never_reports_stops_blocking_after_open_for() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    let t1 = t0 + Duration::from_secs(10);
    assert_eq!(b.admit(t1), Admit::Probe);
    assert_eq!(b.admit(t1 + Duration::from_secs(5)), Admit::No);
    assert_eq!(b.admit(t1 + Duration::from_secs(10)), Admit::Probe);
}

#[test]
fn rate_limits_neither_open_nor_close_but_free_the_probe() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..10 {
        b.record(t0, Observation::Neutral);
    }
    assert_eq!(b.state(), State::Closed);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    let t1 = t0 + Duration::from_secs(10);
    assert_eq!(b.admit(t1), Admit::Probe);
    b.record(t1, Observation::Neutral);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.admit(t1), Admit::Probe);
}

#[test]
fn failure_rate_over_the_window_opens_once_min_requests_is_reached() {
    let t0 = Instant::now();
    let s = Settings {
        failure_threshold: 0,
        failure_rate: Some(0.5),
        window: Duration::from_secs(10),
        min_requests: 10,
        ..settings()
    };
    let mut b = Breaker::new(s, t0);
    // Alternating: 50% failures, never 3 in a row; opens at the 10th result.
    for i in 0..9 {
        let obs = if i % 2 == 0 {
            Observation::Failure
        } else {
            Observation::Success
        };
        b.record(t0 + ms(i * 100), obs);
        assert_eq!(b.state(), State::Closed, "after {i}");
    }
    b.record(t0 + ms(950), Observation::Failure);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let t0 = Instant::now();
    let s = Settings {
        failure_threshold: 0,
        failure_rate: Some(0.5),
        window: Duration::from_secs(10),
        min_requests: 4,
        ..settings()
    };
    let mut b = Breaker::new(s, t0);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    // 20 s later the old failures are out of the window: 1 failure in 4 is 25%.
    let t1 = t0 + Duration::from_secs(20);
    for _ in 0..3 {
        b.record(t1, Observation::Success);
    }
    b.record(t1, Observation::Failure);
    assert_eq!(b.state(), State::Closed);
    b.record(t1, Observation::Failure);
    b.record(t1, Observation::Failure);
    b.record(t1, Observation::Failure);
    // Failures pile up in the window: past half of its results, the breaker opens.
    assert_eq!(b.state(), State::Open);
}

#[test]
fn gauge_values_are_the_documented_ones() {
    assert_eq!(State::Closed.gauge(), 0);
    assert_eq!(State::HalfOpen.gauge(), 1);
    assert_eq!(State::Open.gauge(), 2);
}

#[test]
fn an_idle_open_breaker_reports_half_open_once_open_for_has_passed() {
    let t0 = Instant::now();
    let mut b = Breaker::new(settings(), t0);
    for _ in 0..3 {
        b.record(t0, Observation::Failure);
    }
    assert_eq!(b.state_at(t0 + ms(9_999)), State::Open);
    // No request came to move it on, yet it is no longer rejecting.
    assert_eq!(b.state_at(t0 + ms(10_000)), State::HalfOpen);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.admit(t0 + ms(10_000)), Admit::Probe);
}
