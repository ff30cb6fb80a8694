//! The attempt machine's own cost per request: one target answering a stream of 20 pieces,
//! and a failover (503 then a whole answer), with hooks that do nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use switchyard_config::Timeouts;
use switchyard_filter::{
    Action, AttemptFlow, AttemptHooks, AttemptResult, Attempts, Event, FailedAttempt, Failure,
    GatewayError, RetryDecision,
};

struct Quiet(Vec<usize>);

impl AttemptHooks for Quiet {
    fn target(&self, position: usize) -> Option<usize> {
        self.0.get(position).copied()
    }
    fn timeouts(&self, _: usize) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
    fn label(&self, _: usize) -> &str {
        "model"
    }
    fn prepare(&mut self, _: usize, _: usize) -> Result<AttemptFlow, GatewayError> {
        Ok(AttemptFlow::Send)
    }
    fn skipped(&mut self, _: usize, _: &'static str) {}
    fn ended(&mut self, _: usize, _: &AttemptResult) {}
    fn failed(&mut self, _: usize, _: &FailedAttempt, _: &Failure) -> RetryDecision {
        RetryDecision::Next
    }
}

fn piece(end: bool) -> Event {
    Event::Body {
        received: true,
        output: true,
        end,
    }
}

fn run(pieces: usize, fail_first: bool) -> Action {
    let now = Instant::now();
    let mut hooks = Quiet(vec![0, 1]);
    let mut m = Attempts::new(now, Vec::new());
    let mut a = m.next(now, Event::Start, &mut hooks);
    if fail_first {
        a = m.next(
            now,
            Event::Head {
                status: 503,
                retry_after: None,
            },
            &mut hooks,
        );
    }
    black_box(&a);
    m.next(
        now,
        Event::Head {
            status: 200,
            retry_after: None,
        },
        &mut hooks,
    );
    for i in 0..pieces {
        m.next(now, piece(i + 1 == pieces), &mut hooks);
        a = m.next(now, Event::Written, &mut hooks);
    }
    a
}

fn attempt(c: &mut Criterion) {
    c.bench_function("attempt/stream_20_pieces", |b| {
        b.iter(|| assert_eq!(run(black_box(20), false), Action::Finish))
    });
    c.bench_function("attempt/failover_then_whole", |b| {
        b.iter(|| assert_eq!(run(black_box(1), true), Action::Finish))
    });
}

criterion_group!(benches, attempt);
criterion_main!(benches);
