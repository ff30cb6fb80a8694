//! Why an attempt failed ([`Failure`]), and what the failures of one request come to: the
//! error the client gets when no target answered ([`Tally`]).

use std::fmt;
use std::time::Duration;

use super::AttemptHooks;
use crate::{AttemptResult, ErrorKind, GatewayError};

/// Why one target did not answer, or why a committed stream was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Passed over without a request (an open breaker, a cooldown, the context window).
    Skipped(&'static str),
    /// Connecting failed (refused, DNS, TLS); the message names the address and cause.
    Connect(String),
    /// Connecting took longer than `connect`.
    ConnectTimeout,
    /// The connection closed or failed before a response head arrived.
    Closed(String),
    /// The response head carried a status worth failing over on (429, 5xx).
    Status(u16),
    /// The response head was a redirect (3xx): a provider API never redirects, and relaying
    /// one would send the client away from the gateway, so it is an unusable reply.
    Redirect(u16),
    /// Nothing arrived within `first_byte` of the attempt's start.
    FirstByteTimeout,
    /// The body went quiet for longer than `idle`.
    IdleTimeout,
    /// The request's `total` deadline passed.
    TotalDeadline,
    /// The connection reset while the body was being read.
    Reset,
    /// The answer could not be used (a response hook refused its body).
    Malformed(String),
}

impl Failure {
    /// The attempt's result as the attempt hooks see it.
    pub fn result(&self) -> AttemptResult {
        match self {
            Failure::Status(s) => AttemptResult::Status(*s),
            Failure::Connect(_) => AttemptResult::ConnectError,
            Failure::ConnectTimeout
            | Failure::FirstByteTimeout
            | Failure::IdleTimeout
            | Failure::TotalDeadline => AttemptResult::Timeout,
            Failure::Skipped(_)
            | Failure::Closed(_)
            | Failure::Redirect(_)
            | Failure::Reset
            | Failure::Malformed(_) => AttemptResult::Malformed,
        }
    }

    pub(super) fn is_timeout(&self) -> bool {
        self.result() == AttemptResult::Timeout
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Skipped(r) => write!(f, "skipped ({r})"),
            Failure::Connect(m) | Failure::Closed(m) | Failure::Malformed(m) => f.write_str(m),
            Failure::ConnectTimeout => f.write_str("connect timed out"),
            Failure::Status(s) => write!(f, "HTTP {s}"),
            Failure::Redirect(s) => write!(f, "redirect (HTTP {s})"),
            Failure::FirstByteTimeout => f.write_str("no data within first_byte"),
            Failure::IdleTimeout => f.write_str("no data within the idle timeout"),
            Failure::TotalDeadline => f.write_str("total deadline passed"),
            Failure::Reset => f.write_str("connection reset mid-body"),
        }
    }
}

/// The failures so far, for the error the client gets.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Each target's failure (or skip), in the order they happened.
    pub(super) failures: Vec<(Option<usize>, Failure)>,
    /// Why the retry hooks ended the request early.
    pub(super) stops: Vec<&'static str>,
    /// Upstream requests sent.
    pub(super) sent: u32,
    /// Attempts that timed out.
    pub(super) timeouts: u32,
    /// Attempts answered with 429.
    pub(super) limited: u32,
    /// The shortest `retry-after` a rate-limited target asked for.
    pub(super) retry_after: Option<Duration>,
}

impl Tally {
    fn summary(&self, hooks: &dyn AttemptHooks) -> String {
        let mut parts: Vec<String> = self
            .failures
            .iter()
            .map(|(t, f)| match t {
                Some(t) => format!("{}: {f}", hooks.label(*t)),
                None => f.to_string(),
            })
            .collect();
        parts.extend(
            self.stops
                .iter()
                .map(|w| format!("no further attempts: {w}")),
        );
        parts.join("; ")
    }

    pub(super) fn error(&self, hooks: &dyn AttemptHooks) -> GatewayError {
        let summary = self.summary(hooks);
        if self.sent == 0 && self.timeouts == 0 {
            GatewayError::NoTargetAvailable(summary)
        } else if self.sent > 0 && self.limited == self.sent {
            GatewayError::RateLimited {
                message: format!("every target is rate limited: {summary}"),
                code: ErrorKind::RateLimitExceeded,
                retry_after: self.retry_after.unwrap_or(Duration::from_secs(1)),
            }
        } else if self.timeouts > 0 && self.timeouts >= self.sent {
            GatewayError::UpstreamTimeout(summary)
        } else {
            GatewayError::UpstreamFailed(summary)
        }
    }
}
