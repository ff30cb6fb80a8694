//! The `Filter` trait: one concern of the gateway (auth, routing, translation, metrics…) seen
//! through one set of hooks, and `FilterFactory`, which builds a filter from its YAML settings.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use switchyard_config::Config;
use switchyard_wire::ChatRequest;

use crate::{
    BuildError, ErrorKind, GatewayError, LocalReply, RequestCtx, ResponseHead, UpstreamRequest,
};

/// What the chain does after a request hook.
#[derive(Debug)]
pub enum Flow {
    /// Go on with the next filter (and, after the last, to the upstream).
    Continue,
    /// Stop the chain and answer with this reply instead of calling an upstream. Only filters
    /// that already ran see the reply's head and body, in reverse order.
    Respond(LocalReply),
}

/// What a filter's [`Filter::on_request`] decided: at once, or once a future resolves.
pub enum Step<'a> {
    /// Decided.
    Done(Result<Flow, GatewayError>),
    /// Decided when this resolves.
    Wait(Pin<Box<dyn Future<Output = Result<Flow, GatewayError>> + Send + 'a>>),
}

impl std::fmt::Debug for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Done(r) => f.debug_tuple("Done").field(r).finish(),
            Step::Wait(_) => f.write_str("Wait(..)"),
        }
    }
}

impl Step<'_> {
    /// The decision, waited for if need be.
    pub async fn decided(self) -> Result<Flow, GatewayError> {
        match self {
            Step::Done(r) => r,
            Step::Wait(f) => f.await,
        }
    }
}

/// What the chain does with one upstream attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFlow {
    /// Send it.
    Send,
    /// Skip this target without a request (e.g. an open breaker); the reason is logged and
    /// counted, and the attempt does not count against `x-switchyard-attempts`.
    Skip(&'static str),
}

/// How an upstream attempt ended, as the attempt hooks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// A response head arrived with this status (for a stream: and its first event parsed).
    Status(u16),
    /// Connecting failed (refused, DNS, TLS).
    ConnectError,
    /// A deadline passed before the first byte.
    Timeout,
    /// The upstream broke the protocol or reset before the first byte.
    Malformed,
}

impl AttemptResult {
    /// Whether another target may be tried: connect errors, timeouts, malformed replies, 429
    /// and 5xx; never a 4xx that is the client's fault.
    pub fn is_retryable(&self) -> bool {
        match self {
            AttemptResult::Status(s) => *s == 429 || *s >= 500,
            AttemptResult::ConnectError | AttemptResult::Timeout | AttemptResult::Malformed => true,
        }
    }
}

/// A failed attempt as [`Filter::on_attempt_failed`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt {
    /// How it failed (always [`AttemptResult::is_retryable`]).
    pub result: AttemptResult,
    /// The upstream's `retry-after` (or `retry-after-ms`) when it sent one with its answer.
    pub retry_after: Option<Duration>,
}

/// What the forwarding loop does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Go on with the next target of the plan at once, if there is one. The default: every
    /// target once, no waiting.
    Next,
    /// Wait this long (never past the `total` deadline), then go on with the next target.
    Backoff(Duration),
    /// Make no more attempts; the client gets the error for the failures so far. The reason
    /// goes into that error's message and the log.
    Stop(&'static str),
}

impl RetryDecision {
    /// The more conservative of two decisions: `Stop` over `Backoff` over `Next`, and the
    /// longer of two backoffs. The chain combines its filters' answers with this.
    pub fn max(self, other: RetryDecision) -> RetryDecision {
        match (self, other) {
            (s @ RetryDecision::Stop(_), _) | (_, s @ RetryDecision::Stop(_)) => s,
            (RetryDecision::Backoff(a), RetryDecision::Backoff(b)) => {
                RetryDecision::Backoff(a.max(b))
            }
            (b @ RetryDecision::Backoff(_), _) | (_, b @ RetryDecision::Backoff(_)) => b,
            (RetryDecision::Next, RetryDecision::Next) => RetryDecision::Next,
        }
    }
}

/// How a whole request ended; given to [`Filter::on_complete`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The status the client received.
    pub status: u16,
    /// The failure behind it, if any (metric label via [`ErrorKind::as_str`], log).
    pub error_kind: Option<ErrorKind>,
    /// The stream was cut after the first byte (upstream failure mid-stream).
    pub truncated: bool,
}

/// One concern of the gateway. Every hook has a default that does nothing, so a filter
/// implements only what it needs.
///
/// Order: request hooks run in the order of the YAML `filters:` list; response hooks run in
/// reverse, and only for filters whose `on_request` ran (a filter after the one that stopped
/// the chain never sees the reply). `on_complete` runs exactly once per request for every
/// filter whose `on_request` ran, success or failure.
#[async_trait::async_trait]
pub trait Filter: Send + Sync + 'static {
    /// Runs once the body is read and parsed. May rewrite the request, set context (route,
    /// key id), answer locally with `Flow::Respond`, or reject with an error (which is rendered
    /// in the client's dialect and ends the chain). A filter that must wait for something
    /// (a state backend, a token exchange) returns [`Step::Wait`]; the others decide at once
    /// and cost no future per request. Default: `Continue`.
    fn on_request<'a>(&'a self, _cx: &'a mut RequestCtx, _req: &'a mut ChatRequest) -> Step<'a> {
        Step::Done(Ok(Flow::Continue))
    }

    /// Runs once per request after every `on_request` said `Continue` and before the first
    /// attempt, in chain order. The route plan (`cx.route`) is set by now wherever the filter
    /// sits in the list, so a filter that prunes or reorders targets (the context window) does
    /// it here; a target it removes goes in `RoutePlan::pruned` with the reason, so it is
    /// logged and counted like a skip. An error ends the request as one from `on_request`
    /// does. Default: nothing.
    fn on_plan(&self, _cx: &mut RequestCtx, _req: &ChatRequest) -> Result<(), GatewayError> {
        Ok(())
    }

    /// Runs before each upstream attempt, once a target is chosen: fill or rewrite the upstream
    /// request (translation, provider auth), or skip the target. Runs in chain order. Default:
    /// `Send`.
    fn on_upstream_request(
        &self,
        _cx: &mut RequestCtx,
        _req: &ChatRequest,
        _up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        Ok(AttemptFlow::Send)
    }

    /// Runs after each attempt that was sent, with how it ended (breakers, latency tracking).
    /// Default: nothing.
    fn on_attempt_end(&self, _cx: &mut RequestCtx, _up: &UpstreamRequest, _res: &AttemptResult) {}

    /// Runs after `on_attempt_end` for an attempt that failed before anything reached the
    /// client (connect error, timeout, 429, 5xx, malformed reply): whether and when the loop
    /// goes on. A filter may also append targets to `cx.route.targets` to try one again.
    /// The chain takes the most conservative answer (see [`RetryDecision::max`]). Default:
    /// `Next`, which tries each target of the plan once without waiting.
    fn on_attempt_failed(
        &self,
        _cx: &mut RequestCtx,
        _up: &UpstreamRequest,
        _failed: &FailedAttempt,
    ) -> RetryDecision {
        RetryDecision::Next
    }

    /// Runs when a target was passed over without a request: skipped by an
    /// `on_upstream_request` hook or pruned from the plan by an `on_plan` hook, with the
    /// reason (metrics count skips here). Default: nothing.
    fn on_attempt_skipped(
        &self,
        _cx: &mut RequestCtx,
        _up: &UpstreamRequest,
        _reason: &'static str,
    ) {
    }

    /// The response head about to go to the client (from upstream or a local reply); runs in
    /// reverse chain order. May change status and headers. Default: nothing.
    fn on_response_head(
        &self,
        _cx: &mut RequestCtx,
        _head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        Ok(())
    }

    /// One body chunk on its way to the client, at arbitrary boundaries; `end` on the last.
    /// Synchronous because it runs on the data path between socket reads. A filter that
    /// reframes (translation) keeps partial data in its state slot and emits whole events;
    /// it may leave `chunk` empty. Default: nothing.
    fn on_response_chunk(
        &self,
        _cx: &mut RequestCtx,
        _chunk: &mut Bytes,
        _end: bool,
    ) -> Result<(), GatewayError> {
        Ok(())
    }

    /// Runs exactly once when the request is over: metrics, usage records, access logs.
    /// Default: nothing.
    fn on_complete(&self, _cx: &RequestCtx, _outcome: &Outcome) {}

    /// What this filter knows right now about deployment `model` (an index into
    /// `config.models`), for the admin status page: fields added to `out`, such as a breaker's
    /// state or a cooldown. Off the request path. Default: nothing.
    fn describe_target(
        &self,
        _model: usize,
        _out: &mut serde_json::Map<String, serde_json::Value>,
    ) {
    }

    /// Runs once, when the config this filter was built for goes into service. A factory's
    /// `build` must leave state shared with the config in force alone (metric series, sinks,
    /// backends, settings of long-lived state), because a candidate config can still be
    /// rejected after it built; such changes belong here. Default: nothing.
    fn activate(&self) {}

    /// Runs once when the process is about to exit, after the last request ended: write out
    /// what was queued off the request path (usage lines, remote budget settlements). The
    /// caller bounds how long it may take. Default: nothing.
    async fn on_shutdown(&self) {}

    /// Whether `on_complete` runs for this filter even when an earlier filter ended the
    /// request before this one's `on_request` (an observer that counts every request, refused
    /// ones included). Default: no.
    fn observes_every_request(&self) -> bool {
        false
    }
}

/// What a factory may use while building a filter.
#[derive(Debug)]
pub struct BuildEnv<'a> {
    /// The whole checked config the filter is built for.
    pub config: &'a Arc<Config>,
    /// The filter's YAML path, e.g. `filters[3]`, for error messages.
    pub path: &'a str,
}

/// Builds one kind of filter from its YAML settings. Factories live for the whole process
/// (they may own state that must survive reloads, such as metric families or breaker state);
/// `build` runs on every config load.
pub trait FilterFactory: Send + Sync {
    /// The name: YAML key, module name, registry name and metric label.
    fn name(&self) -> &'static str;

    /// Builds the filter for `env.config` from `settings` (`Null` when the YAML entry was a
    /// bare name). An error names the settings field (or config path) it is about; the
    /// registry turns that into a full YAML path and line.
    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError>;

    /// Checks `settings` on their own, as [`FilterFactory::build`] reads them, without the
    /// config and without side effects: how `switchyard check` and a reload report a bad
    /// filter setting in the same pass as the config's other errors. What needs the config
    /// (keys, providers, files) is left to `build`. The default is for a filter that takes no
    /// settings: a bare name or an empty map; a filter with settings overrides it.
    fn check_settings(&self, settings: &serde_yaml::Value) -> Result<(), BuildError> {
        match settings {
            serde_yaml::Value::Null => Ok(()),
            serde_yaml::Value::Mapping(m) if m.is_empty() => Ok(()),
            _ => Err(format!("filter `{}` takes no settings", self.name()).into()),
        }
    }

    /// Names of filters that must run before this one (checked at build time).
    fn after(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the gateway adds this filter even when `filters:` leaves it out (it does
    /// something every request needs, such as routing or translation).
    fn required(&self) -> bool {
        false
    }

    /// Whether the gateway adds this filter to `config`'s chain when `filters:` leaves it out.
    /// Default: when it is [`FilterFactory::required`]. A filter that does what a config
    /// section asks for (tracing, for `telemetry.otlp`) says so here.
    fn implied_by(&self, _config: &Config) -> bool {
        self.required()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_conservative_retry_decision_wins() {
        let ms = Duration::from_millis;
        let (next, stop) = (RetryDecision::Next, RetryDecision::Stop("why"));
        assert_eq!(next.max(next), next);
        assert_eq!(
            next.max(RetryDecision::Backoff(ms(5))),
            RetryDecision::Backoff(ms(5))
        );
        assert_eq!(
            RetryDecision::Backoff(ms(5)).max(next),
            RetryDecision::Backoff(ms(5))
        );
        assert_eq!(
            RetryDecision::Backoff(ms(5)).max(RetryDecision::Backoff(ms(9))),
            RetryDecision::Backoff(ms(9))
        );
        assert_eq!(RetryDecision::Backoff(ms(5)).max(stop), stop);
        assert_eq!(stop.max(next), stop);
    }

    #[test]
    fn only_upstream_faults_are_retryable() {
        for s in [429, 500, 502, 503, 529] {
            assert!(AttemptResult::Status(s).is_retryable(), "{s}");
        }
        for s in [200, 400, 401, 404, 413, 422] {
            assert!(!AttemptResult::Status(s).is_retryable(), "{s}");
        }
        assert!(AttemptResult::Timeout.is_retryable());
        assert!(AttemptResult::ConnectError.is_retryable());
        assert!(AttemptResult::Malformed.is_retryable());
    }
}
