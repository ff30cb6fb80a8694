//! `auth:`: the gateway's keys and what each may spend.

use serde::{Deserialize, Serialize};

use super::Entry;

/// `auth:`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// Gateway keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<Entry<RawKey>>>,
    /// `true` turns gateway auth off explicitly.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// `auth.keys[]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    /// Shows in metrics and logs.
    pub id: String,
    /// Variable holding the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// File holding the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// The key itself (warned about).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The key's SHA-256 in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_sha256: Option<String>,
    /// Globs over route and model ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Requests per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Spend cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<RawBudget>,
}

/// `budget: { usd, period }`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    /// Cap in USD.
    pub usd: f64,
    /// Reset period; monthly when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<RawPeriod>,
}

/// `budget.period`
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPeriod {
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Monthly.
    Monthly,
    /// Never resets.
    Total,
}
