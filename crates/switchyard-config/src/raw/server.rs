//! `server:` and `state:`, the process-wide sections: listeners, limits, logs and where shared
//! counters live.

use serde::{Deserialize, Serialize};

use super::Text;

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
    /// Humantime duration: the deadline of each Redis call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Text>,
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
