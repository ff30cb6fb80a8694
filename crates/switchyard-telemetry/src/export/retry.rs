//! Sending a failed export again, as the OTLP specification says: only after the failures it
//! calls retryable (HTTP 429, 502, 503 and 504; gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED,
//! OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS, and RESOURCE_EXHAUSTED when the collector says when
//! to come back; a collector that could not be reached), after an exponential backoff with
//! jitter, or after the delay the collector asked for (`Retry-After`, gRPC `RetryInfo`) and
//! never sooner. Bounded by the export's deadline (`OTEL_EXPORTER_OTLP_TIMEOUT`) and
//! [`MAX_ATTEMPTS`]: a failing collector holds one batch at most that long, while the spans
//! that arrive meanwhile wait in the bounded queue or are dropped and counted.

use std::time::{Duration, SystemTime};

use base64::Engine;

use super::transport::SendError;
use crate::encode::{fields, Field};

/// Attempts per export at most, the first one included.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// The first backoff; each next one is 1.5 times longer, up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// The longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Whether, and when, a failed attempt may be made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Not retryable: the batch is dropped.
    No,
    /// Retryable after the backoff.
    Backoff,
    /// Retryable, not before this delay (the collector said so).
    After(Duration),
}

impl SendError {
    /// How the specification classes this failure.
    pub(crate) fn retry(&self) -> Retry {
        let asked = |after: &Option<Duration>| after.map_or(Retry::Backoff, Retry::After);
        match self {
            SendError::Connect(..) | SendError::Http(_) => Retry::Backoff,
            SendError::Tls(..) => Retry::No,
            SendError::Status(429 | 502 | 503 | 504, after) => asked(after),
            SendError::Status(..) => Retry::No,
            // RESOURCE_EXHAUSTED only when the collector can recover (it sent RetryInfo).
            SendError::Grpc(8, _, Some(after)) => Retry::After(*after),
            SendError::Grpc(1 | 4 | 10 | 11 | 14 | 15, _, after) => asked(after),
            SendError::Grpc(..) => Retry::No,
        }
    }
}

/// The backoff before attempt `next` (2 for the first retry) with `jitter` in [0, 1]: 1 s,
/// growing 1.5 times per attempt up to 5 s, of which a random half may be taken off.
pub(crate) fn backoff(next: u32, jitter: f64) -> Duration {
    let steps = i32::try_from(next.saturating_sub(2)).unwrap_or(i32::MAX);
    let full = (INITIAL_BACKOFF.as_secs_f64() * 1.5f64.powi(steps)).min(MAX_BACKOFF.as_secs_f64());
    Duration::from_secs_f64(full * (1.0 - 0.5 * jitter.clamp(0.0, 1.0)))
}

/// The wait before another attempt after `err`, `attempts` made so far and `left` until the
/// export's deadline; `None` to give up (not retryable, out of attempts, or a wait that would
/// pass the deadline).
pub(crate) fn next_delay(
    err: &SendError,
    attempts: u32,
    left: Duration,
    jitter: f64,
) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let wait = match err.retry() {
        Retry::No => return None,
        Retry::Backoff => backoff(attempts + 1, jitter),
        Retry::After(d) => d,
    };
    (wait < left).then_some(wait)
}

/// An HTTP `Retry-After`: seconds, or an HTTP-date (the wait until then).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The `retry_delay` of a gRPC error's `google.rpc.RetryInfo` detail, from the
/// `grpc-status-details-bin` trailer (a base64 `google.rpc.Status`).
pub(crate) fn grpc_retry_info(headers: &http::HeaderMap) -> Option<Duration> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    // gRPC sends binary metadata padded or not; both are accepted.
    const B64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::NO_PAD.with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let status = B64
        .decode(headers.get("grpc-status-details-bin")?.as_bytes())
        .ok()?;
    // Status { code = 1; message = 2; repeated Any details = 3 }.
    fields(&status)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (3, Field::Bytes(any)) => retry_delay_of(any),
            _ => None,
        })
}

/// `Any { type_url = 1; value = 2 }` holding `RetryInfo { Duration retry_delay = 1 }`, whose
/// `Duration { int64 seconds = 1; int32 nanos = 2 }` is returned.
fn retry_delay_of(any: &[u8]) -> Option<Duration> {
    let mut is_retry_info = false;
    let mut value = None;
    for (n, f) in fields(any)? {
        match (n, f) {
            (1, Field::Bytes(url)) => is_retry_info = url.ends_with(b"/google.rpc.RetryInfo"),
            (2, Field::Bytes(v)) => value = Some(v),
            _ => {}
        }
    }
    if !is_retry_info {
        return None;
    }
    let delay = fields(value?)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (1, Field::Bytes(d)) => Some(d),
            _ => None,
        })?;
    let (mut secs, mut nanos) = (0u64, 0u64);
    for (n, f) in fields(delay)? {
        match (n, f) {
            (1, Field::Varint(v)) => secs = v,
            (2, Field::Varint(v)) => nanos = v,
            _ => {}
        }
    }
    // A negative (two's complement) or absurd delay is not a delay.
    (secs <= 86_400 && nanos < 1_000_000_000)
        .then(|| Duration::new(secs, u32::try_from(nanos).unwrap_or(0)))
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
