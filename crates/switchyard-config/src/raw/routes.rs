//! `routes:`: the names clients send as `model`, and the targets behind each.

use serde::{Deserialize, Serialize};

use super::{OrderedMap, Text};

/// `routes[]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// The name clients send as `model`.
    pub name: String,
    /// Condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<RawWhen>,
    /// Priority when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RawStrategy>,
    /// Models to try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<RawTarget>>,
    /// 400 instead of dropping unmappable parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_params: Option<bool>,
}

/// `routes[].when`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// `x-switchyard-priority` / `metadata.priority`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Text>,
    /// Header name → value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<OrderedMap>,
}

/// `routes[].strategy`
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawStrategy {
    /// In order.
    Priority,
    /// By weight.
    Weighted,
    /// Fastest first byte.
    LowestLatency,
    /// Cheapest.
    LowestCost,
}

/// `routes[].targets[]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// A model id (or `provider/model`).
    pub model: String,
    /// For `weighted`; 1 when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}
