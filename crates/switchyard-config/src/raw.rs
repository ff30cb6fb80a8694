//! The YAML as written: serde types that mirror CONFIG.md key for key, with
//! `deny_unknown_fields` and `Option` wherever a key may be left out. Nothing here checks
//! meaning; `validate` turns a `RawConfig` into a `Config`.
//!
//! Sections and list items are wrapped in [`Entry`], so a type error in one provider does
//! not hide a type error in a model further down: every entry is parsed on its own.
//!
//! The types also serialise, leaving out what is `None` (the hand-written impls are in
//! `raw_ser`), so a program (the end-to-end tests, a generator) can write a config from these
//! types instead of formatting YAML text.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

/// The whole file.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Schema version; must be 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Entry<u32>>,
    /// `server:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Entry<RawServer>>,
    /// `auth:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Entry<RawAuth>>,
    /// `providers:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Entry<RawProvider>>>,
    /// `models:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<Entry<RawModel>>>,
    /// `routes:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Entry<RawRoute>>>,
    /// `state:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Entry<RawState>>,
    /// `filters:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Entry<RawFilter>>>,
    /// `telemetry:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Entry<RawTelemetry>>,
    /// `catalog_file:` a model catalog (catalog.yaml's format) that extends or overrides the
    /// built-in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_file: Option<String>,
}

/// `server:`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// `host:port` of the API listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `host:port` of the admin listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_listen: Option<String>,
    /// `10MiB`, `512KiB`, `1MB` or a plain integer of bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<Text>,
    /// `text | json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<RawLogFormat>,
    /// Humantime duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace: Option<Text>,
    /// Worker threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Whether idle worker threads take tasks queued on busy ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_stealing: Option<bool>,
    /// `stdout | stderr | off | <path>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_log: Option<String>,
    /// Humantime duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout: Option<Text>,
    /// Humantime duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_read_timeout: Option<Text>,
    /// Humantime duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_timeout: Option<Text>,
    /// Connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u64>,
    /// A size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_header_bytes: Option<Text>,
    /// A size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<Text>,
    /// Environment variable holding the admin bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token_env: Option<String>,
}

/// `server.log_format`
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawLogFormat {
    /// Human-readable.
    Text,
    /// JSON lines.
    Json,
}

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

/// `state:`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// Memory when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<RawBackend>,
    /// Variable holding the Redis URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// The Redis URL itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Behaviour when Redis is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_unavailable: Option<RawOnUnavailable>,
}

/// `state.backend`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawBackend {
    /// One process.
    Memory,
    /// Shared.
    Redis,
}

/// `state.on_unavailable`
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RawOnUnavailable {
    /// Let requests through unlimited.
    FailOpen,
    /// Refuse requests.
    FailClosed,
}

/// `telemetry:`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelemetry {
    /// OpenTelemetry traces over OTLP; off when absent, on with defaults when written as
    /// a bare `otlp:`.
    #[serde(
        default,
        deserialize_with = "present_even_if_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub otlp: Option<RawOtlp>,
}

/// A key that is present is `Some` even when its value is empty (`otlp:`).
fn present_even_if_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawOtlp>, D::Error> {
    Ok(Some(Option::<RawOtlp>::deserialize(d)?.unwrap_or_default()))
}

/// `telemetry.otlp:` (an empty map turns traces on with everything from `OTEL_*` variables
/// or the defaults).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOtlp {
    /// Collector URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `grpc | http/protobuf` (`http` for short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Variable holding extra headers as `name=value,name2=value2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers_env: Option<String>,
    /// Share of new traces recorded, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_ratio: Option<f64>,
}

/// One `filters:` entry: a bare name, or a single-key map `{name: settings}`.
#[derive(Debug, Clone)]
pub struct RawFilter {
    /// The filter's name.
    pub name: String,
    /// Its settings, `Null` for a bare name.
    pub settings: Value,
}

impl<'de> Deserialize<'de> for RawFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const SHAPE: &str = "a filter entry is a name or a single-key map {name: settings}";
        match Value::deserialize(d)? {
            Value::String(name) => Ok(RawFilter {
                name,
                settings: Value::Null,
            }),
            Value::Mapping(map) if map.len() == 1 => {
                let Some((Value::String(name), settings)) = map.into_iter().next() else {
                    return Err(de::Error::custom(SHAPE));
                };
                Ok(RawFilter { name, settings })
            }
            _ => Err(de::Error::custom(SHAPE)),
        }
    }
}

/// A scalar kept as text: accepts strings and numbers, so `max_body_bytes: 1048576` and
/// `max_body_bytes: 1MiB` both parse, and the meaning is checked with a good message later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string → string map that keeps file order (header lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderedMap(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Text>()? {
                    out.push((k, v.0));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A section or list item parsed on its own: the value, or the type error found in it. Unknown
/// keys are set aside (and kept for the report) so the rest of the entry is still read.
#[derive(Debug)]
pub enum Entry<T> {
    /// It parsed (once the unknown keys, if any, were set aside).
    Valid(T, Vec<EntryError>),
    /// It did not; validation reports this and carries on with the other entries.
    Invalid(EntryError, Vec<EntryError>),
}

impl<T> Entry<T> {
    /// The unknown keys found in the entry.
    pub fn unknown_keys(&self) -> &[EntryError] {
        match self {
            Entry::Valid(_, u) | Entry::Invalid(_, u) => u,
        }
    }
}

/// A serde error inside one [`Entry`].
#[derive(Debug, Clone)]
pub struct EntryError {
    /// Path inside the entry (`timeouts.connect`), empty for the entry itself.
    pub path: String,
    /// serde's message.
    pub message: String,
    /// The entry's `id` (or `name`) when it could still be read, so other entries that refer
    /// to it don't get a second, misleading "unknown id" error.
    pub id: Option<String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let id = ["id", "name"]
            .iter()
            .find_map(|k| value.get(k).and_then(Value::as_str))
            .map(str::to_owned);
        let mut value = value;
        let mut unknown = Vec::new();
        loop {
            let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(v) => return Ok(Entry::Valid(v, unknown)),
                Err(e) => e,
            };
            let err = EntryError {
                path: render_path(e.path()),
                message: e.inner().to_string(),
                id: id.clone(),
            };
            let removed = err
                .message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
                .is_some_and(|key| remove_key(&mut value, e.path(), key));
            if !removed || unknown.len() >= 100 {
                return Ok(Entry::Invalid(err, unknown));
            }
            unknown.push(err);
        }
    }
}
/// Removes `key` from the mapping at `at` in `value`; false when there is no such key.
pub(crate) fn remove_key(value: &mut Value, at: &serde_path_to_error::Path, key: &str) -> bool {
    use serde_path_to_error::Segment;
    let mut segs: Vec<&Segment> = at.iter().collect();
    // The path may end at the unknown key itself rather than at its parent.
    if matches!(segs.last(), Some(Segment::Map { key: k }) if k == key) {
        segs.pop();
    }
    let mut node = value;
    for seg in segs {
        let next = match (seg, node) {
            (Segment::Map { key }, Value::Mapping(m)) => m.get_mut(key.as_str()),
            (Segment::Seq { index }, Value::Sequence(s)) => s.get_mut(*index),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match node {
        Value::Mapping(m) => m.remove(key).is_some(),
        _ => false,
    }
}

/// `serde_path_to_error`'s path in our spelling: `a.b[2].c`, empty at the root.
pub(crate) fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}
