//! The filter API: the [`Filter`] and [`FilterFactory`] traits, the [`Registry`] that builds a
//! [`Chain`] from the config's `filters:` list, the per-request [`RequestCtx`], and
//! [`GatewayError`]. Filters never see pingora: this crate depends only on the config and wire
//! crates, so a filter can be tested by driving a chain with a hand-made context.
#![warn(missing_docs)]

mod attempt;
mod build_error;
mod chain;
#[cfg(test)]
mod chain_respond_tests;
mod context;
mod error;
mod filter;
mod kind;
mod names;
mod registry;

pub use attempt::{Action, AttemptHooks, Attempts, Deadlines, Event, Failure};
pub use build_error::{BuildError, Location};
pub use chain::{Chain, NamedFilter};
pub use context::{
    Answer, Endpoint, LocalReply, RequestCtx, ResponseHead, RoutePlan, Slots, UpstreamRequest,
};
pub use error::{Fault, GatewayError};
pub use filter::{
    AttemptFlow, AttemptResult, BuildEnv, FailedAttempt, Filter, FilterFactory, Flow, Outcome,
    RetryDecision, Step,
};
pub use kind::ErrorKind;
pub use names::NameValues;
pub use registry::{ChainIssue, Registry};
