//! A snapshot: one loaded config with everything built from it (filter chain, upstreams). It
//! is built in full before it is swapped in, so a config that does not build never serves.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use switchyard_config::{Config, Env};
use switchyard_filter::{Chain, Registry};

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
    /// Hex SHA-256 of the YAML text (empty for the embedded default).
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// 1 for the first config, +1 per successful reload.
    pub generation: u64,
}

/// Every problem found while loading a config, each with its path and line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct LoadError(pub Vec<String>);

impl Snapshot {
    /// Builds a snapshot from YAML text.
    pub fn from_yaml(
        text: &str,
        env: &dyn Env,
        registry: &Registry,
        generation: u64,
    ) -> Result<Self, LoadError> {
        let config = Config::from_yaml_str(text, env)
            .map_err(|e| LoadError(e.issues.iter().map(|i| i.to_string()).collect()))?;
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
        let chain = registry
            .build_chain(&config)
            .map_err(|issues| LoadError(issues.iter().map(|i| i.to_string()).collect()))?;
        let upstreams = config.providers.iter().map(Upstream::new).collect();
        let keys = if chain.names().any(|n| n == "auth") {
            switchyard_filters::auth::Keys::from_config(&config).map_err(|e| LoadError(vec![e]))?
        } else {
            None
        };
        Ok(Self {
            config,
            chain,
            keys,
            upstreams,
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
}

impl Store {
    /// A store serving `first`.
    pub fn new(first: Snapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(first),
        }
    }

    /// The snapshot in force.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Swaps in `next` atomically.
    pub fn swap(&self, next: Snapshot) {
        self.current.store(Arc::new(next));
    }
}
