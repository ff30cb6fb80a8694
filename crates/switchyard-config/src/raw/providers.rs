//! `providers:` and `models:`: where requests go, with what credentials and deadlines, and
//! what each model is called, holds and costs there.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::{OrderedMap, Text};

/// `providers[]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// Unique id.
    pub id: String,
    /// A named preset (`groq`, `vertex`…) filling type, base_url, key variable and quirks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// `openai | openai_compatible | azure_openai | anthropic | gemini | vertex | bedrock`; checked in
    /// validation so the error can list the valid ones. Required unless `preset` gives it.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Where to send requests; defaulted for openai, anthropic and gemini.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Variable holding the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// File holding the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<String>,
    /// The key itself (warned about).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// API version (Azure query, Anthropic header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Extra headers, in file order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<OrderedMap>,
    /// OpenAI types: ask for the stream usage chunk (`stream_options.include_usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_usage: Option<bool>,
    /// OpenAI types: `max_tokens` or `max_completion_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<String>,
    /// Request parameters the provider refuses (dropped, or 400 under `strict_params`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_params: Option<Vec<String>>,
    /// Vertex: Google Cloud project id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Vertex: region, `us`/`eu` multi-region or `global`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Vertex: service-account key file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
    /// Deadlines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<RawTimeouts>,
    /// `type: bedrock`: the AWS region (signing scope and default base URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `type: bedrock`: which variables hold the AWS credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<RawAws>,
}

/// `aws:` on a bedrock provider: variable names; each defaults to the standard `AWS_*` one.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    /// Default `AWS_ACCESS_KEY_ID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id_env: Option<String>,
    /// Default `AWS_SECRET_ACCESS_KEY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key_env: Option<String>,
    /// Default `AWS_SESSION_TOKEN` (optional unless named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_token_env: Option<String>,
}

/// `timeouts:` humantime durations.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    /// TCP + TLS connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<Text>,
    /// Until the response head.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<Text>,
    /// Between body chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<Text>,
    /// The whole request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Text>,
}

/// `models[]`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Unique id.
    pub id: String,
    /// A provider id.
    pub provider: String,
    /// Upstream name; defaults to `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Tokens, prompt + output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// USD per million tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<RawPricing>,
    /// 400 instead of dropping unmappable parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_params: Option<bool>,
}

/// `pricing:` the word `free`, or prices.
#[derive(Debug)]
pub enum RawPricing {
    /// `pricing: free`: the model costs nothing (and is not "unpriced").
    Free,
    /// USD per million tokens.
    Prices(RawPrices),
}

impl<'de> Deserialize<'de> for RawPricing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "free" => Ok(RawPricing::Free),
            Value::String(s) => Err(de::Error::custom(format!(
                "`{s}`: pricing is `free` or a map {{input_per_mtok, output_per_mtok, ...}}"
            ))),
            other => RawPrices::deserialize(other)
                .map(RawPricing::Prices)
                .map_err(de::Error::custom),
        }
    }
}

/// `pricing: { ... }`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    /// Prompt tokens.
    pub input_per_mtok: f64,
    /// Completion tokens.
    pub output_per_mtok: f64,
    /// Cached prompt tokens (cache reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input_per_mtok: Option<f64>,
    /// Cache writes (Anthropic 5-minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<f64>,
    /// Cache writes with a 1-hour lifetime.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_mtok: Option<f64>,
}
