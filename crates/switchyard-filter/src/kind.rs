//! `ErrorKind`: the one vocabulary of how a request failed, shared by every seam that counts,
//! logs or decides on failures (metrics, usage records, logs, the data path). Code matches on
//! the enum; the label text (`as_str`) is what dashboards and alerts already read.

use std::fmt;

/// How a request ended badly. The label of each kind is stable: it is the `error_type` metric
/// label, the usage record's `error` field and the log's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Malformed JSON, a missing field, a bad parameter.
    InvalidRequest,
    /// The body is over the limit.
    PayloadTooLarge,
    /// The body did not arrive within `server.body_read_timeout`.
    RequestTimeout,
    /// No key, or an unknown key.
    Unauthorized,
    /// The key may not use the model.
    ModelNotAllowed,
    /// No such route or model.
    ModelNotFound,
    /// No such endpoint.
    UnknownEndpoint,
    /// A request or token rate limit is exhausted.
    RateLimitExceeded,
    /// A spend budget is exhausted.
    BudgetExceeded,
    /// The prompt does not fit any target's context window.
    ContextLengthExceeded,
    /// A parameter the target can't take, under `strict_params`.
    UnsupportedParameter,
    /// Every target failed (connect errors, 5xx, malformed replies).
    UpstreamFailed,
    /// Every target timed out.
    UpstreamTimeout,
    /// No target could be tried (all skipped).
    NoTargetAvailable,
    /// A bug or impossible state in the gateway.
    Internal,
    /// The upstream failed after the first byte reached the client.
    StreamInterrupted,
    /// The client went away before the response was complete.
    ClientClosed,
    /// The gateway ended the request at the end of its shutdown grace period.
    ShuttingDown,
}

impl ErrorKind {
    /// The label: metric label value, usage record field, log field. Never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::ModelNotAllowed => "model_not_allowed",
            ErrorKind::ModelNotFound => "model_not_found",
            ErrorKind::UnknownEndpoint => "unknown_endpoint",
            ErrorKind::RateLimitExceeded => "rate_limit_exceeded",
            ErrorKind::BudgetExceeded => "budget_exceeded",
            ErrorKind::ContextLengthExceeded => "context_length_exceeded",
            ErrorKind::UnsupportedParameter => "unsupported_parameter",
            ErrorKind::UpstreamFailed => "upstream_failed",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::NoTargetAvailable => "no_target_available",
            ErrorKind::Internal => "internal",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::ClientClosed => "client_closed",
            ErrorKind::ShuttingDown => "shutting_down",
        }
    }

    /// Whether the request failed because its route ran out of targets (every target failed,
    /// timed out or was skipped): what `switchyard_route_exhausted_total` counts.
    pub fn is_route_exhausted(self) -> bool {
        matches!(
            self,
            ErrorKind::UpstreamFailed | ErrorKind::UpstreamTimeout | ErrorKind::NoTargetAvailable
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_ones_dashboards_read() {
        let all = [
            (ErrorKind::InvalidRequest, "invalid_request"),
            (ErrorKind::PayloadTooLarge, "payload_too_large"),
            (ErrorKind::RequestTimeout, "request_timeout"),
            (ErrorKind::Unauthorized, "unauthorized"),
            (ErrorKind::ModelNotAllowed, "model_not_allowed"),
            (ErrorKind::ModelNotFound, "model_not_found"),
            (ErrorKind::UnknownEndpoint, "unknown_endpoint"),
            (ErrorKind::RateLimitExceeded, "rate_limit_exceeded"),
            (ErrorKind::BudgetExceeded, "budget_exceeded"),
            (ErrorKind::ContextLengthExceeded, "context_length_exceeded"),
            (ErrorKind::UnsupportedParameter, "unsupported_parameter"),
            (ErrorKind::UpstreamFailed, "upstream_failed"),
            (ErrorKind::UpstreamTimeout, "upstream_timeout"),
            (ErrorKind::NoTargetAvailable, "no_target_available"),
            (ErrorKind::Internal, "internal"),
            (ErrorKind::StreamInterrupted, "stream_interrupted"),
            (ErrorKind::ClientClosed, "client_closed"),
            (ErrorKind::ShuttingDown, "shutting_down"),
        ];
        for (kind, label) in all {
            assert_eq!(kind.as_str(), label);
            assert_eq!(kind.to_string(), label);
        }
        let exhausted: Vec<_> = all
            .iter()
            .filter(|(k, _)| k.is_route_exhausted())
            .map(|(_, l)| *l)
            .collect();
        assert_eq!(
            exhausted,
            ["upstream_failed", "upstream_timeout", "no_target_available"]
        );
    }
}
