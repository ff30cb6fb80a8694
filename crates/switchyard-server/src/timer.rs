//! Deadlines on the request path, on pingora's timer wheel instead of tokio's.
//!
//! A tokio timer whose deadline is earlier than the IO driver's next planned wake-up re-arms
//! the driver: an eventfd write and a wake-up. On the gateway's request path that happened about
//! once per request (`perf record -e syscalls:sys_enter_write`: 98 % of the process's writes
//! came from `Sleep::poll` → `reregister`). pingora's wheel keeps 10 ms slots in a per-thread
//! map, fired by its own clock thread, so registering a deadline costs no syscall. Deadlines
//! here are tens of milliseconds to minutes: firing up to one slot late changes nothing a
//! client can see. A slot can fire up to a millisecond early (the wheel counts whole
//! milliseconds), so these helpers wait again until the deadline has really passed. Deadlines
//! longer than 15 minutes fall back to tokio's timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;
use pingora_timeout::fast_timeout::fast_sleep;

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

/// Runs `fut` until `deadline`.
pub fn by<F: Future>(deadline: Instant, fut: F) -> By<F> {
    By {
        fut,
        deadline,
        sleep: None,
    }
}

/// Resolves at `deadline` (at once when it has passed).
pub async fn until(deadline: Instant) {
    let _ = by(deadline, std::future::pending::<()>()).await;
}

pin_project! {
    /// [`by`]'s future: no bigger than the future it bounds, so a request's state machine
    /// doesn't grow with each deadline.
    pub struct By<F> {
        #[pin]
        fut: F,
        deadline: Instant,
        sleep: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    }
}

impl<F: Future> Future for By<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        if let Poll::Ready(out) = me.fut.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        loop {
            let left = me.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Poll::Ready(Err(Elapsed));
            }
            let sleep = me.sleep.get_or_insert_with(|| Box::pin(fast_sleep(left)));
            match sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The wheel fired a little early: wait out the rest.
                Poll::Ready(()) => *me.sleep = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_ready_future_wins_over_a_passed_deadline() {
        let past = Instant::now() - Duration::from_secs(1);
        assert_eq!(by(past, async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_pending_future_times_out_no_earlier_than_its_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(30);
        let out = by(deadline, std::future::pending::<()>()).await;
        assert_eq!(out, Err(Elapsed));
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test]
    async fn until_a_passed_deadline_returns_at_once() {
        until(Instant::now() - Duration::from_secs(1)).await;
        let deadline = Instant::now() + Duration::from_millis(20);
        until(deadline).await;
        assert!(Instant::now() >= deadline);
    }
}
