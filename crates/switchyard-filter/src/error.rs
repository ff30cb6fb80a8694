//! `GatewayError`: every way the gateway itself refuses or fails a request. Each variant knows
//! its status, its error type and code in OpenAI's vocabulary, and a low-cardinality metric
//! label, so rendering and counting happen in one place.

use std::time::Duration;

use switchyard_wire::TranslateError;

use crate::ErrorKind;

/// Who is at fault, as in pingora's `ErrorSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The client sent something wrong.
    Client,
    /// An upstream failed.
    Upstream,
    /// The gateway failed.
    Internal,
}

/// A request the gateway refuses or could not serve.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatewayError {
    /// Malformed JSON, a missing field, a bad parameter.
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
        /// The offending parameter.
        param: Option<String>,
    },
    /// The body is larger than `server.max_body_bytes`.
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The body did not arrive within `server.body_read_timeout`.
    #[error("the request body did not arrive within {0:?}")]
    RequestTimeout(Duration),
    /// No key, or a key the gateway does not know.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The key may not use this model or route.
    #[error("this key may not use model `{model}`")]
    ModelNotAllowed {
        /// What the client asked for.
        model: String,
    },
    /// No route, model or `provider/model` of that name.
    #[error("the model `{model}` does not exist or you do not have access to it")]
    ModelNotFound {
        /// What the client asked for.
        model: String,
    },
    /// No such endpoint.
    #[error("unknown endpoint {method} {path}")]
    UnknownEndpoint {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// A request or token rate limit, or a budget, is exhausted.
    #[error("{message}")]
    RateLimited {
        /// What limit.
        message: String,
        /// [`ErrorKind::RateLimitExceeded`] or [`ErrorKind::BudgetExceeded`].
        code: ErrorKind,
        /// When the client may try again.
        retry_after: Duration,
    },
    /// The prompt plus requested output does not fit any target's context window.
    #[error("this request needs about {needed} tokens (prompt plus requested output) but the context window is {limit} tokens")]
    ContextWindowExceeded {
        /// Estimated prompt + output tokens.
        needed: u64,
        /// The window it was checked against (the largest, when no target fits).
        limit: u64,
    },
    /// A parameter the target can't take, refused because `strict_params` is set.
    #[error("parameter `{param}` is not supported by {target}")]
    UnsupportedParam {
        /// The parameter.
        param: String,
        /// The target.
        target: String,
    },
    /// Every target failed before answering (connect errors, 5xx, malformed replies).
    #[error("all upstream targets failed: {0}")]
    UpstreamFailed(String),
    /// Every target timed out.
    #[error("the upstream did not answer in time: {0}")]
    UpstreamTimeout(String),
    /// No target could be tried (all skipped, e.g. breakers open).
    #[error("no upstream target is available: {0}")]
    NoTargetAvailable(String),
    /// A bug or an impossible state in the gateway.
    #[error("internal error: {0}")]
    Internal(String),
    /// The gateway is shutting down and its grace period (`server.shutdown_grace`) is over.
    #[error("the gateway is shutting down: the request was still running at the end of its shutdown grace period")]
    ShuttingDown,
}

impl GatewayError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::InvalidRequest { .. }
            | GatewayError::ContextWindowExceeded { .. }
            | GatewayError::UnsupportedParam { .. } => 400,
            GatewayError::Unauthorized(_) => 401,
            GatewayError::ModelNotAllowed { .. } => 403,
            GatewayError::ModelNotFound { .. } | GatewayError::UnknownEndpoint { .. } => 404,
            GatewayError::RequestTimeout(_) => 408,
            GatewayError::PayloadTooLarge { .. } => 413,
            GatewayError::RateLimited { .. } => 429,
            GatewayError::Internal(_) => 500,
            GatewayError::UpstreamFailed(_) => 502,
            GatewayError::NoTargetAvailable(_) | GatewayError::ShuttingDown => 503,
            GatewayError::UpstreamTimeout(_) => 504,
        }
    }

    /// What kind of failure this is, for metrics, logs and the data path to match on
    /// ([`ErrorKind::as_str`] is the label).
    pub fn kind(&self) -> ErrorKind {
        match self {
            GatewayError::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            GatewayError::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            GatewayError::RequestTimeout(_) => ErrorKind::RequestTimeout,
            GatewayError::Unauthorized(_) => ErrorKind::Unauthorized,
            GatewayError::ModelNotAllowed { .. } => ErrorKind::ModelNotAllowed,
            GatewayError::ModelNotFound { .. } => ErrorKind::ModelNotFound,
            GatewayError::UnknownEndpoint { .. } => ErrorKind::UnknownEndpoint,
            GatewayError::RateLimited { code, .. } => *code,
            GatewayError::ContextWindowExceeded { .. } => ErrorKind::ContextLengthExceeded,
            GatewayError::UnsupportedParam { .. } => ErrorKind::UnsupportedParameter,
            GatewayError::UpstreamFailed(_) => ErrorKind::UpstreamFailed,
            GatewayError::UpstreamTimeout(_) => ErrorKind::UpstreamTimeout,
            GatewayError::NoTargetAvailable(_) => ErrorKind::NoTargetAvailable,
            GatewayError::Internal(_) => ErrorKind::Internal,
            GatewayError::ShuttingDown => ErrorKind::ShuttingDown,
        }
    }

    /// OpenAI's `error.type`.
    pub fn openai_type(&self) -> &'static str {
        match self {
            GatewayError::InvalidRequest { .. }
            | GatewayError::PayloadTooLarge { .. }
            | GatewayError::RequestTimeout(_)
            | GatewayError::ModelNotFound { .. }
            | GatewayError::UnknownEndpoint { .. }
            | GatewayError::ContextWindowExceeded { .. }
            | GatewayError::UnsupportedParam { .. } => "invalid_request_error",
            GatewayError::Unauthorized(_) => "authentication_error",
            GatewayError::ModelNotAllowed { .. } => "permission_error",
            GatewayError::RateLimited { .. } => "rate_limit_error",
            GatewayError::UpstreamFailed(_)
            | GatewayError::UpstreamTimeout(_)
            | GatewayError::NoTargetAvailable(_)
            | GatewayError::ShuttingDown
            | GatewayError::Internal(_) => "server_error",
        }
    }

    /// OpenAI's `error.code`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            GatewayError::Unauthorized(_) => Some("invalid_api_key"),
            GatewayError::ModelNotFound { .. } => Some("model_not_found"),
            GatewayError::ModelNotAllowed { .. } => Some("model_not_allowed"),
            GatewayError::PayloadTooLarge { .. } => Some("request_too_large"),
            GatewayError::RequestTimeout(_) => Some("request_timeout"),
            GatewayError::RateLimited { code, .. } => Some(code.as_str()),
            GatewayError::ContextWindowExceeded { .. } => Some("context_length_exceeded"),
            GatewayError::UnsupportedParam { .. } => Some("unsupported_parameter"),
            GatewayError::UnknownEndpoint { .. } => Some("unknown_url"),
            GatewayError::InvalidRequest { .. } => None,
            GatewayError::UpstreamFailed(_) => Some("upstream_failed"),
            GatewayError::UpstreamTimeout(_) => Some("upstream_timeout"),
            GatewayError::NoTargetAvailable(_) => Some("no_target_available"),
            GatewayError::ShuttingDown => Some("shutting_down"),
            GatewayError::Internal(_) => None,
        }
    }

    /// OpenAI's `error.param`.
    pub fn param(&self) -> Option<&str> {
        match self {
            GatewayError::InvalidRequest { param, .. } => param.as_deref(),
            GatewayError::UnsupportedParam { param, .. } => Some(param),
            GatewayError::ModelNotFound { .. } | GatewayError::ModelNotAllowed { .. } => {
                Some("model")
            }
            GatewayError::ContextWindowExceeded { .. } => Some("messages"),
            _ => None,
        }
    }

    /// `retry-after` for the response, when the client should wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GatewayError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Who is at fault.
    pub fn fault(&self) -> Fault {
        match self.status() {
            500 => Fault::Internal,
            s if s >= 500 => Fault::Upstream,
            _ => Fault::Client,
        }
    }
}

impl From<TranslateError> for GatewayError {
    fn from(e: TranslateError) -> Self {
        match e {
            TranslateError::InvalidJson(m) => GatewayError::InvalidRequest {
                message: format!("request body is not valid JSON: {m}"),
                param: None,
            },
            TranslateError::InvalidRequest { param, message } => {
                GatewayError::InvalidRequest { message, param }
            }
            TranslateError::UnsupportedParam { param, target } => {
                GatewayError::UnsupportedParam { param, target }
            }
            TranslateError::MalformedUpstream(m) => GatewayError::UpstreamFailed(m),
        }
    }
}
