//! The checked config: what the rest of the gateway reads. Every invariant listed on a field
//! holds once `Config::from_yaml_str` returned `Ok`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A resolved secret (provider key or gateway key). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }
    /// The secret itself: only for putting on the wire or comparing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a secret came from; shown (redacted) by `/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `api_key_env` / `key_env`: the variable's name.
    Env(String),
    /// `api_key_file` / `key_file`: the path, re-read on every reload.
    File(PathBuf),
    /// `api_key` / `key`: a literal in the YAML (warned about at load).
    Literal,
    /// `key_sha256`: only the hash is known (gateway keys only).
    Sha256,
    /// No key: allowed for providers such as a local Ollama.
    None,
}

/// The whole checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// Always 1 for now.
    pub version: u32,
    /// Listeners and limits.
    pub server: ServerConfig,
    /// Gateway keys. `None` means no gateway auth (only the embedded default does that
    /// implicitly; a file must say `auth: { disabled: true }` or list keys).
    pub auth: Option<AuthConfig>,
    /// Providers in file order; ids are unique.
    pub providers: Vec<Provider>,
    /// Deployments in file order; ids are unique; `provider` indexes `providers`.
    pub models: Vec<Model>,
    /// Routes in file order (several may share a name when `when` differs). Every model id is
    /// also usable as a one-target route without an entry here (see `Config::resolve`).
    pub routes: Vec<Route>,
    /// Where shared state lives.
    pub state: StateConfig,
    /// The filter chain in order: defaulted when the file has no `filters:`.
    pub filters: Vec<FilterSpec>,
    /// True when the file had a `filters:` list; false means `filters` holds the default chain.
    pub filters_explicit: bool,
    /// Traces (off unless `telemetry.otlp` is set).
    pub telemetry: crate::TelemetryConfig,
    /// Warnings found while loading (literal keys, catalog fills): logged by the loader.
    pub warnings: Vec<String>,
    /// Debug-level notes (e.g. which model fields came from the catalog): logged at debug.
    pub notes: Vec<String>,
    /// Lookup tables (model ids, qualified names, routes by name).
    pub index: Index,
    /// YAML path → 1-based line, for errors found after parsing (e.g. by filter factories).
    pub lines: LineIndex,
    /// The model catalog in force: the built-in one, extended by `catalog_file:`.
    pub catalog: Arc<crate::Catalog>,
}

/// `server:`
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The API listener. Default 127.0.0.1:8080.
    pub listen: SocketAddr,
    /// The admin listener. Default 127.0.0.1:9901.
    pub admin_listen: SocketAddr,
    /// Larger request bodies get 413. Default 10 MiB.
    pub max_body_bytes: u64,
    /// `server.log_format: text | json`. Default text.
    pub log_format: LogFormat,
    /// How long SIGTERM waits for in-flight requests. Default 20s.
    pub shutdown_grace: Duration,
    /// Worker threads for the data path. Default 1 (a sidecar's share of its pod).
    pub threads: usize,
    /// Whether an idle worker thread takes tasks queued on a busy one (pingora's
    /// `work_stealing`). Default true.
    pub work_stealing: bool,
    /// Where usage lines go: `usage_log: stdout | stderr | off | <path>`. Default stdout.
    pub usage_log: UsageSink,
    /// A request's head (request line and headers) must arrive within this, or the
    /// connection is closed. Default 10s.
    pub header_read_timeout: Duration,
    /// A request's whole body must arrive within this, or it gets 408. Default 30s.
    pub body_read_timeout: Duration,
    /// An idle keep-alive connection is closed after this. Default 60s.
    pub keepalive_timeout: Duration,
    /// Client connections open at once on the API listener; more are closed at once (logged
    /// and counted). Default 4096.
    pub max_connections: usize,
    /// Larger request heads get 431. Default 32 KiB.
    pub max_header_bytes: u64,
    /// A whole (non-streaming) upstream answer larger than this fails the attempt (502 or the
    /// next target). Default 32 MiB.
    pub max_response_bytes: u64,
    /// `admin_token_env`: a bearer token the admin listener asks for on `/config` and
    /// `/budgets`. Default none.
    pub admin_token: Option<Secret>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where per-request usage records are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageSink {
    /// Standard output (default).
    Stdout,
    /// Standard error.
    Stderr,
    /// Appended to a file.
    File(PathBuf),
    /// Not written.
    Off,
}

/// `auth:`
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Keys in file order; ids unique.
    pub keys: Vec<GatewayKey>,
}

/// One gateway key that clients present.
#[derive(Debug, Clone)]
pub struct GatewayKey {
    /// Shows in metrics and logs.
    pub id: String,
    /// The key's SHA-256 (lowercase hex of the UTF-8 bytes): keys are compared by hash.
    pub sha256: [u8; 32],
    /// Where it came from.
    pub source: SecretSource,
    /// Glob patterns over route names and model ids; `["*"]` by default.
    pub models: Vec<String>,
    /// Requests per minute (filter `rate_limit`).
    pub rpm: Option<u64>,
    /// Tokens per minute (filter `rate_limit`).
    pub tpm: Option<u64>,
    /// Spend cap.
    pub budget: Option<Budget>,
}

/// `budget: { usd, period }`
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Cap in US dollars.
    pub usd: f64,
    /// Reset period.
    pub period: BudgetPeriod,
}

/// Budget reset period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetPeriod {
    /// Resets at 00:00 UTC.
    Daily,
    /// Resets Monday 00:00 UTC.
    Weekly,
    /// Resets on the 1st, 00:00 UTC.
    Monthly,
    /// Never resets.
    Total,
}

/// Provider wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// api.openai.com.
    OpenAi,
    /// Anything speaking OpenAI chat completions at `base_url`.
    OpenAiCompatible,
    /// Azure OpenAI deployments.
    AzureOpenAi,
    /// Anthropic Messages API.
    Anthropic,
    /// Google Gemini generateContent.
    Gemini,
    /// Google Vertex AI: Gemini models (generateContent) and Anthropic `claude-*` models
    /// (rawPredict), with an OAuth token from a service-account key.
    Vertex,
    /// AWS Bedrock Runtime Converse / ConverseStream, SigV4-signed.
    Bedrock,
}

impl ProviderKind {
    /// The YAML spelling, also a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::OpenAiCompatible => "openai_compatible",
            ProviderKind::AzureOpenAi => "azure_openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Vertex => "vertex",
            ProviderKind::Bedrock => "bedrock",
        }
    }
}

/// `providers[]`
#[derive(Clone)]
pub struct Provider {
    /// Unique id.
    pub id: String,
    /// Wire protocol.
    pub kind: ProviderKind,
    /// Parsed base URL, scheme http or https; no trailing slash in its path.
    pub base_url: url::Url,
    /// The key sent upstream; `None` for keyless local providers.
    pub api_key: Option<Secret>,
    /// Where the key came from.
    pub api_key_source: SecretSource,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// `api_version:` (Azure `api-version` query, Anthropic `anthropic-version` header).
    pub api_version: Option<String>,
    /// Extra static headers sent upstream (`headers:` map).
    pub headers: Vec<(String, String)>,
    /// OpenAI-type providers: send `stream_options.include_usage` with streams (default true);
    /// false leaves `stream_options` out, for servers that refuse it (Mistral).
    pub stream_usage: bool,
    /// The preset it was built from (`preset: groq`), also its catalog vendor.
    pub preset: Option<String>,
    /// OpenAI-type providers: how the output cap is spelled upstream.
    pub max_tokens_field: MaxTokensField,
    /// Top-level request parameters the provider refuses: dropped and named in
    /// `x-switchyard-dropped-params` (400 under `strict_params`).
    pub unsupported_params: Vec<String>,
    /// `type: vertex`: project, location and service account.
    pub vertex: Option<VertexSettings>,
    /// `type: bedrock`: region and credentials for SigV4; `None` for every other type.
    pub aws: Option<AwsAuth>,
}

/// How an OpenAI-type provider spells the output cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_completion_tokens` (OpenAI, Azure, and servers that follow them).
    MaxCompletionTokens,
    /// `max_tokens`, the name most OpenAI-compatible servers know.
    MaxTokens,
}

impl MaxTokensField {
    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
        }
    }
}

/// `type: vertex` settings.
#[derive(Debug, Clone)]
pub struct VertexSettings {
    /// Google Cloud project id.
    pub project: String,
    /// Region (`us-east5`), multi-region (`us`, `eu`) or `global`.
    pub location: String,
    /// The service-account key, read from `credentials_file` at every load (and reload).
    pub service_account: ServiceAccount,
}

/// The parts of a Google service-account key file Switchyard uses.
#[derive(Clone)]
pub struct ServiceAccount {
    /// `client_email`: the JWT's issuer.
    pub client_email: String,
    /// `private_key_id`: the JWT header's `kid`.
    pub private_key_id: Option<String>,
    /// `private_key`: PKCS#8 PEM, RS256 signing key.
    pub private_key: Secret,
    /// `token_uri`: where the signed JWT is exchanged for an access token.
    pub token_uri: String,
    /// The file it came from.
    pub path: PathBuf,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key", &self.private_key)
            .field("token_uri", &self.token_uri)
            .field("path", &self.path)
            .finish()
    }
}

/// AWS credentials and region of a bedrock provider, resolved at load (and on every reload).
/// `Debug` shows only where each secret came from.
#[derive(Clone)]
pub struct AwsAuth {
    /// Signing region, e.g. `us-east-1`.
    pub region: String,
    /// The access key id.
    pub access_key_id: Secret,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// Temporary credentials' session token, sent as `x-amz-security-token` when set.
    pub session_token: Option<Secret>,
    /// The variables the three came from, in that order (the token's only when set).
    pub sources: Vec<String>,
}

impl fmt::Debug for AwsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsAuth")
            .field("region", &self.region)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// Like a derived `Debug`, but header values are redacted: they often carry credentials.
impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, _)| (k.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("Provider")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &self.api_key)
            .field("api_key_source", &self.api_key_source)
            .field("timeouts", &self.timeouts)
            .field("api_version", &self.api_version)
            .field("headers", &headers)
            .field("stream_usage", &self.stream_usage)
            .field("preset", &self.preset)
            .field("max_tokens_field", &self.max_tokens_field)
            .field("unsupported_params", &self.unsupported_params)
            .field("vertex", &self.vertex)
            .field("aws", &self.aws)
            .finish()
    }
}

/// `timeouts: { connect, first_byte, idle, total }`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (+TLS) connect. Default 5s.
    pub connect: Duration,
    /// Request sent → response head / first stream event. Default 60s.
    pub first_byte: Duration,
    /// Longest silence between body chunks. Default 60s.
    pub idle: Duration,
    /// Whole request across attempts. Default 600s.
    pub total: Duration,
}

/// `pricing:` in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    /// Prompt tokens.
    pub input_per_mtok: f64,
    /// Completion tokens.
    pub output_per_mtok: f64,
    /// Cached prompt tokens (cache reads); defaults to `input_per_mtok`.
    pub cached_input_per_mtok: Option<f64>,
    /// Prompt tokens written to the cache (Anthropic's 5-minute lifetime); defaults to
    /// `input_per_mtok` (providers that don't charge for writes).
    pub cache_write_per_mtok: Option<f64>,
    /// Prompt tokens written to the cache with a 1-hour lifetime; defaults to
    /// `cache_write_per_mtok`.
    pub cache_write_1h_per_mtok: Option<f64>,
}

impl Pricing {
    /// `pricing: free`: a model that costs nothing (local servers, free tiers).
    pub const FREE: Pricing = Pricing {
        input_per_mtok: 0.0,
        output_per_mtok: 0.0,
        cached_input_per_mtok: None,
        cache_write_per_mtok: None,
        cache_write_1h_per_mtok: None,
    };
}

/// `models[]`: one upstream model at one provider.
#[derive(Debug, Clone)]
pub struct Model {
    /// Unique id; clients and routes refer to it.
    pub id: String,
    /// Index into `Config::providers`.
    pub provider: usize,
    /// Name sent upstream (defaults to id).
    pub upstream_model: String,
    /// Tokens, prompt + output (config, else catalog).
    pub context_window: Option<u64>,
    /// Max output tokens (config, else catalog).
    pub max_output_tokens: Option<u64>,
    /// Prices (config, else catalog).
    pub pricing: Option<Pricing>,
    /// Refuse unmappable parameters with 400 instead of dropping them.
    pub strict_params: bool,
}

/// Target selection strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// In order.
    Priority,
    /// By weight.
    Weighted,
    /// Lowest decayed time to first token.
    LowestLatency,
    /// Lowest estimated cost.
    LowestCost,
}

/// `routes[].when`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct When {
    /// Matches `x-switchyard-priority` or `metadata.priority`.
    pub priority: Option<String>,
    /// Request headers that must equal these values (names lowercase).
    pub headers: Vec<(String, String)>,
}

/// `routes[].targets[]`
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Index into `Config::models`.
    pub model: usize,
    /// Weight for `weighted`; default 1.
    pub weight: u32,
}

/// `routes[]`
#[derive(Debug, Clone)]
pub struct Route {
    /// The name clients put in `model`.
    pub name: String,
    /// Condition; routes with a `when` are matched before those without.
    pub when: Option<When>,
    /// How targets are ordered.
    pub strategy: Strategy,
    /// At least one.
    pub targets: Vec<Target>,
    /// Refuse unmappable parameters with 400.
    pub strict_params: bool,
}

/// `state:`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateConfig {
    /// One process.
    Memory,
    /// Shared by replicas.
    Redis {
        /// Resolved URL (from `url_env` or `url`).
        url: Secret,
        /// Behaviour when Redis can't be reached.
        fail_open: bool,
        /// The deadline of each Redis call: a slow Redis costs a request at most this (then
        /// `fail_open` decides). Default 100ms.
        timeout: Duration,
    },
}

/// One entry of `filters:`: its name and its own settings (validated by the filter's factory).
#[derive(Debug, Clone)]
pub struct FilterSpec {
    /// Filter name == YAML key == module name == metric label.
    pub name: String,
    /// `Null` when the entry was a bare name.
    pub settings: serde_yaml::Value,
    /// YAML path of the entry, e.g. `filters[2]`, for error messages.
    pub path: String,
    /// 1-based line of the entry in the source, when known.
    pub line: Option<usize>,
}

/// Lookup tables built once per config.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Model id → index.
    pub models_by_id: HashMap<String, usize>,
    /// `provider_id/upstream_model` → model index.
    pub models_by_qualified: HashMap<String, usize>,
    /// Route name → indices into `Config::routes`, those with `when` first.
    pub routes_by_name: HashMap<String, Vec<usize>>,
}

/// YAML path (`models[2].provider`) → 1-based source line. Empty for the embedded default.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Path → line.
    pub by_path: HashMap<String, usize>,
}

impl LineIndex {
    /// The line of `path`, or of its nearest ancestor that has one.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(l) = self.by_path.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}
