//! The chain runner: calls each filter's hooks in the documented order.

use std::sync::Arc;

use bytes::Bytes;
use switchyard_wire::ChatRequest;

use crate::{
    AttemptFlow, AttemptResult, FailedAttempt, Filter, Flow, GatewayError, Outcome, RequestCtx,
    ResponseHead, RetryDecision, UpstreamRequest,
};

/// A built filter with its name.
#[derive(Clone)]
pub struct NamedFilter {
    /// Registry name.
    pub name: &'static str,
    /// The filter.
    pub filter: Arc<dyn Filter>,
}

/// The filters of one config, in order. Immutable once built; shared by every request that
/// runs on that config.
#[derive(Clone, Default)]
pub struct Chain {
    filters: Vec<NamedFilter>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Chain {
    /// A chain of these filters, in this order.
    pub fn new(filters: Vec<NamedFilter>) -> Self {
        Self { filters }
    }

    /// Filter names in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.filters.iter().map(|f| f.name)
    }

    /// Every filter's [`Filter::describe_target`] for deployment `model`, merged in chain order.
    pub fn describe_target(&self, model: usize) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        for f in &self.filters {
            f.filter.describe_target(model, &mut out);
        }
        out
    }

    /// Runs `on_request` in order until one stops the chain or fails. Only filters reached
    /// here see the response and completion hooks.
    pub async fn on_request(
        &self,
        cx: &mut RequestCtx,
        req: &mut ChatRequest,
    ) -> Result<Flow, GatewayError> {
        for f in &self.filters {
            cx.ran += 1;
            match f.filter.on_request(cx, req).decided().await? {
                Flow::Continue => {}
                reply @ Flow::Respond(_) => return Ok(reply),
            }
        }
        Ok(Flow::Continue)
    }

    /// Runs `on_plan` in order for filters that ran, stopping at the first error.
    pub fn on_plan(&self, cx: &mut RequestCtx, req: &ChatRequest) -> Result<(), GatewayError> {
        for f in &self.filters[..cx.ran.min(self.filters.len())] {
            f.filter.on_plan(cx, req)?;
        }
        Ok(())
    }

    /// Runs `on_upstream_request` in order for filters that ran; the first `Skip` wins.
    pub fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        for f in &self.filters[..cx.ran.min(self.filters.len())] {
            if let skip @ AttemptFlow::Skip(_) = f.filter.on_upstream_request(cx, req, up)? {
                return Ok(skip);
            }
        }
        Ok(AttemptFlow::Send)
    }

    /// Runs `on_attempt_end` in order for filters that ran.
    pub fn on_attempt_end(&self, cx: &mut RequestCtx, up: &UpstreamRequest, res: &AttemptResult) {
        for f in &self.filters[..cx.ran.min(self.filters.len())] {
            f.filter.on_attempt_end(cx, up, res);
        }
    }

    /// Runs `on_attempt_failed` in order for filters that ran and combines the answers with
    /// [`RetryDecision::max`].
    pub fn on_attempt_failed(
        &self,
        cx: &mut RequestCtx,
        up: &UpstreamRequest,
        failed: &FailedAttempt,
    ) -> RetryDecision {
        let mut decision = RetryDecision::Next;
        for f in &self.filters[..cx.ran.min(self.filters.len())] {
            decision = decision.max(f.filter.on_attempt_failed(cx, up, failed));
        }
        decision
    }

    /// Runs `on_attempt_skipped` in order for filters that ran.
    pub fn on_attempt_skipped(
        &self,
        cx: &mut RequestCtx,
        up: &UpstreamRequest,
        reason: &'static str,
    ) {
        for f in &self.filters[..cx.ran.min(self.filters.len())] {
            f.filter.on_attempt_skipped(cx, up, reason);
        }
    }

    /// Runs `on_response_head` in reverse order for filters that ran.
    pub fn on_response_head(
        &self,
        cx: &mut RequestCtx,
        head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        for f in self.filters[..cx.ran.min(self.filters.len())].iter().rev() {
            f.filter.on_response_head(cx, head)?;
        }
        Ok(())
    }

    /// Runs `on_response_chunk` in reverse order for filters that ran.
    pub fn on_response_chunk(
        &self,
        cx: &mut RequestCtx,
        chunk: &mut Bytes,
        end: bool,
    ) -> Result<(), GatewayError> {
        for f in self.filters[..cx.ran.min(self.filters.len())].iter().rev() {
            f.filter.on_response_chunk(cx, chunk, end)?;
        }
        Ok(())
    }

    /// Runs `on_complete` in reverse order for filters that ran, and for observers
    /// ([`Filter::observes_every_request`]) that did not, so a request refused by an earlier
    /// filter is still counted. A request the data path rejected before the chain started
    /// (oversized or malformed body) reaches every filter's `on_complete`.
    pub fn on_complete(&self, cx: &RequestCtx, outcome: &Outcome) {
        let ran = if cx.ran == 0 {
            self.filters.len()
        } else {
            cx.ran.min(self.filters.len())
        };
        for f in self.filters[ran..].iter().rev() {
            if f.filter.observes_every_request() {
                f.filter.on_complete(cx, outcome);
            }
        }
        for f in self.filters[..ran].iter().rev() {
            f.filter.on_complete(cx, outcome);
        }
    }

    /// Puts the chain's filters into service ([`Filter::activate`]), in order. Called once,
    /// when the config is swapped in.
    pub fn activate(&self) {
        for f in &self.filters {
            f.filter.activate();
        }
    }

    /// Lets every filter write out what it queued before the process exits
    /// ([`Filter::on_shutdown`]), in order.
    pub async fn on_shutdown(&self) {
        for f in &self.filters {
            f.filter.on_shutdown().await;
        }
    }
}
