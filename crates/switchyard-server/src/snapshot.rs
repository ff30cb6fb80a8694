//! A snapshot: one loaded config with everything built from it (filter chain, upstreams). It
//! is built in full before it is swapped in, so a config that does not build never serves.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use switchyard_config::{Config, ConfigIssue, Env};
use switchyard_filter::{Chain, NameValues, Registry};

use crate::upstream::Upstream;

/// Everything a request needs from one config.
#[derive(Debug)]
pub struct Snapshot {
    /// The checked config.
    pub config: Arc<Config>,
    /// The filter chain built from it.
    pub chain: Chain,
    /// Gateway keys for endpoints outside the chain (`/v1/models`); `None` when the chain has
    /// no `auth` filter or auth is disabled.
    pub keys: Option<switchyard_filters::auth::Keys>,
    /// One endpoint per provider, indexed like `config.providers`.
    pub upstreams: Vec<Upstream>,
    /// The config's names as response header values.
    pub names: Arc<NameValues>,
    /// Hex SHA-256 of the YAML text (empty for the embedded default).
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// 1 for the first config, +1 per successful reload.
    pub generation: u64,
}

/// Every problem found while loading a config, each with its YAML path and line: the
/// config's own checks, the filter factories' and the gateway keys'.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.issues))]
pub struct LoadError {
    /// In the order found (the config's issues sorted by line, then the chain's).
    pub issues: Vec<ConfigIssue>,
}

fn render(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<Vec<ConfigIssue>> for LoadError {
    fn from(issues: Vec<ConfigIssue>) -> Self {
        Self { issues }
    }
}

impl Snapshot {
    /// Builds a snapshot from YAML text. The `filters:` list is checked by `registry` while
    /// the config is validated, so a bad filter setting is reported with the config's own
    /// errors; what a filter needs the whole config for is checked when the chain is built.
    pub fn from_yaml(
        text: &str,
        env: &dyn Env,
        registry: &Registry,
        generation: u64,
    ) -> Result<Self, LoadError> {
        let config = Config::from_yaml_str_with_filters(text, env, registry)
            .map_err(|e| LoadError::from(e.issues))?;
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        Self::build(config, registry, generation, sha256)
    }

    /// Builds a snapshot from an already checked config.
    pub fn build(
        config: Config,
        registry: &Registry,
        generation: u64,
        sha256: String,
    ) -> Result<Self, LoadError> {
        let config = Arc::new(config);
        let chain = registry.build_chain(&config).map_err(LoadError::from)?;
        let upstreams = config.providers.iter().map(Upstream::new).collect();
        let names = Arc::new(NameValues::of(&config));
        let keys = if chain.names().any(|n| n == "auth") {
            switchyard_filters::auth::Keys::from_config(&config).map_err(|e| {
                let path = match e.location {
                    switchyard_filter::Location::Config(p) => p,
                    _ => "auth".to_string(),
                };
                LoadError::from(vec![ConfigIssue {
                    line: config.lines.line_of(&path),
                    path,
                    message: e.message,
                }])
            })?
        } else {
            None
        };
        Ok(Self {
            config,
            chain,
            keys,
            upstreams,
            names,
            sha256,
            loaded_at: SystemTime::now(),
            generation,
        })
    }
}

/// The snapshot in force. Requests call [`Store::current`] once, at their start, and keep that
/// `Arc` to their end, so a reload never changes a request's config under it.
#[derive(Debug)]
pub struct Store {
    current: ArcSwap<Snapshot>,
    /// Loads and reloads, for the status page.
    pub history: crate::status::ReloadHistory,
}

impl Store {
    /// A store serving `first`, which goes into service ([`switchyard_filter::Chain::activate`]).
    pub fn new(first: Snapshot) -> Self {
        let history = crate::status::ReloadHistory::default();
        history.applied(first.generation, &first.sha256);
        first.chain.activate();
        Self {
            current: ArcSwap::from_pointee(first),
            history,
        }
    }

    /// The snapshot in force.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Puts `next` into service and swaps it in atomically. Building it changed nothing
    /// shared; its filters take over backends, sinks and metric series only here.
    pub fn swap(&self, next: Snapshot) {
        self.history.applied(next.generation, &next.sha256);
        next.chain.activate();
        self.current.store(Arc::new(next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_config::MapEnv;

    /// The errors of loading `yaml` with every built-in filter registered and `K` set.
    fn load_err(yaml: &str) -> LoadError {
        let metrics = prometheus::Registry::new();
        let (registry, _) = switchyard_filters::register_all_with_limits(&metrics).unwrap();
        let env = MapEnv::new().with_var("K", "k");
        Snapshot::from_yaml(yaml, &env, &registry, 1).unwrap_err()
    }

    #[test]
    fn a_bad_filter_setting_is_reported_at_its_yaml_path_and_line() {
        let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
models:
  - { id: a, provider: p }
filters:
  - route
  - retry:
      attempts: 0
  - translate
"#;
        let e = load_err(yaml);
        assert_eq!(e.issues.len(), 1, "{e}");
        assert_eq!(e.issues[0].path, "filters[1].retry.attempts");
        assert_eq!(e.issues[0].line, Some(10));
        assert!(e.to_string().contains("at least 1"), "{e}");
        let typo = yaml.replace("attempts: 0", "atempts: 2");
        let e = load_err(&typo);
        assert_eq!(e.issues[0].path, "filters[1].retry.atempts", "{e}");
    }

    #[test]
    fn filter_errors_are_reported_with_the_configs_own_in_one_pass() {
        let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
models:
  - { id: a, provider: nowhere }
routes:
  - { name: chat, targets: [{ model: missing }] }
filters:
  - translate
  - route
  - retry:
      attempts: 0
  - circuit_breaker: { failure_threshold: lots }
  - bogus
  - route
"#;
        let e = load_err(yaml);
        let found: Vec<(&str, Option<usize>)> =
            e.issues.iter().map(|i| (i.path.as_str(), i.line)).collect();
        for want in [
            ("models[0].provider", Some(6)),
            ("routes[0].targets[0].model", Some(8)),
            ("filters[0]", Some(10)),
            ("filters[2].retry.attempts", Some(13)),
            ("filters[3].circuit_breaker.failure_threshold", Some(14)),
            ("filters[4]", Some(15)),
            ("filters[5]", Some(16)),
        ] {
            assert!(found.contains(&want), "{want:?} not in:\n{e}");
        }
        let text = e.to_string();
        for needle in [
            "must come after `route`",
            "unknown filter `bogus`",
            "listed twice",
            "at least 1",
        ] {
            assert!(text.contains(needle), "`{needle}` not in:\n{text}");
        }
    }
}
