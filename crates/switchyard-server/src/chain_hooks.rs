//! The attempt machine's hooks for a real request: its route plan, its targets' deadlines and
//! names from the snapshot, and the filter chain's attempt hooks (`on_upstream_request`,
//! `on_attempt_skipped`, `on_attempt_end`, `on_attempt_failed`), with the log lines a failed
//! or skipped attempt leaves.

use switchyard_config::Timeouts;
use switchyard_filter::{
    AttemptFlow, AttemptHooks, AttemptResult, FailedAttempt, Failure, GatewayError, RequestCtx,
    RetryDecision, UpstreamRequest,
};
use switchyard_wire::ChatRequest;

use crate::snapshot::Snapshot;

/// One request's view of the chain, as the attempt machine consults it.
pub struct ChainHooks<'a> {
    snapshot: &'a Snapshot,
    /// The request's context; the driver reaches it through here between steps.
    pub cx: &'a mut RequestCtx,
    req: &'a ChatRequest,
    /// The attempt `prepare` built last (the one a `Send` sends).
    pub up: UpstreamRequest,
}

impl<'a> ChainHooks<'a> {
    /// Hooks for `req`, whose context is `cx`, on `snapshot`.
    pub fn new(snapshot: &'a Snapshot, cx: &'a mut RequestCtx, req: &'a ChatRequest) -> Self {
        Self {
            snapshot,
            cx,
            req,
            up: UpstreamRequest::new(usize::MAX),
        }
    }
}

impl AttemptHooks for ChainHooks<'_> {
    fn target(&self, position: usize) -> Option<usize> {
        self.cx.route.as_ref()?.targets.get(position).copied()
    }

    fn timeouts(&self, target: usize) -> Timeouts {
        let provider = self.snapshot.config.models[target].provider;
        *self.snapshot.upstreams[provider].timeouts()
    }

    fn label(&self, target: usize) -> &str {
        &self.snapshot.config.models[target].id
    }

    fn prepare(&mut self, taken: usize, target: usize) -> Result<AttemptFlow, GatewayError> {
        if let Some(r) = self.cx.route.as_mut() {
            r.tried = taken;
        }
        self.up = UpstreamRequest::new(target);
        self.snapshot
            .chain
            .on_upstream_request(self.cx, self.req, &mut self.up)
    }

    fn skipped(&mut self, target: usize, reason: &'static str) {
        tracing::info!(request_id = %self.cx.request_id, model = %self.label(target), reason, "target skipped");
        let chain = &self.snapshot.chain;
        if self.up.model == target {
            chain.on_attempt_skipped(self.cx, &self.up, reason);
        } else {
            // Pruned by `on_plan` before any attempt was prepared.
            chain.on_attempt_skipped(self.cx, &UpstreamRequest::new(target), reason);
        }
    }

    fn ended(&mut self, _target: usize, result: &AttemptResult) {
        self.snapshot
            .chain
            .on_attempt_end(self.cx, &self.up, result);
    }

    fn failed(&mut self, target: usize, failed: &FailedAttempt, why: &Failure) -> RetryDecision {
        tracing::warn!(
            request_id = %self.cx.request_id,
            model = %self.label(target),
            attempt = self.cx.answer.attempts,
            error = %why,
            "upstream attempt failed"
        );
        let decision = self
            .snapshot
            .chain
            .on_attempt_failed(self.cx, &self.up, failed);
        if let RetryDecision::Stop(reason) = decision {
            tracing::info!(request_id = %self.cx.request_id, reason, "no further attempts");
        }
        decision
    }
}
