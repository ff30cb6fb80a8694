//! `auth`: checks the gateway key (`Authorization: Bearer KEY` or `x-api-key: KEY`) against
//! the configured keys by SHA-256, and the key's model globs (401 / 403).

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use switchyard_config::sha256_of;
use switchyard_filter::{
    BuildEnv, BuildError, Filter, FilterFactory, Flow, GatewayError, RequestCtx, Step,
};
use switchyard_wire::ChatRequest;

/// Builds [`AuthFilter`].
#[derive(Debug, Default)]
pub struct AuthFactory;

/// One gateway key, ready to check.
pub struct Key {
    id: Arc<str>,
    sha256: [u8; 32],
    models: GlobSet,
}

impl Key {
    /// The key's id (shown in logs and metrics; the key itself never is).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The key's id, shared (what a request's context holds).
    pub fn shared_id(&self) -> Arc<str> {
        self.id.clone()
    }
    /// Whether the key may use this route, model id or `provider/model` name.
    pub fn allows(&self, name: &str) -> bool {
        self.models.is_match(name)
    }
}

/// The gateway keys of one config; also used by endpoints outside the chain (`/v1/models`).
pub struct Keys(Vec<Key>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|k| &k.id))
            .finish()
    }
}

impl Keys {
    /// The key presented in `headers` (`Authorization: Bearer KEY` or `x-api-key: KEY`).
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<&Key, GatewayError> {
        let presented =
            presented_key(headers)
                .filter(|k| !k.is_empty())
                .ok_or(GatewayError::Unauthorized(
                    "missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`",
                ))?;
        let hash = sha256_of(presented);
        self.0
            .iter()
            .find(|k| k.sha256 == hash)
            .ok_or(GatewayError::Unauthorized("invalid API key"))
    }

    /// The keys of `config` with their model globs compiled; `None` when auth is disabled.
    pub fn from_config(config: &switchyard_config::Config) -> Result<Option<Keys>, BuildError> {
        let Some(auth) = &config.auth else {
            return Ok(None);
        };
        let mut keys = Vec::with_capacity(auth.keys.len());
        for (i, k) in auth.keys.iter().enumerate() {
            let mut set = GlobSetBuilder::new();
            for (j, pattern) in k.models.iter().enumerate() {
                let glob = Glob::new(pattern).map_err(|e| {
                    BuildError::config(
                        format!("auth.keys[{i}].models[{j}]"),
                        format!("auth key `{}`: bad model glob `{pattern}`: {e}", k.id),
                    )
                })?;
                set.add(glob);
            }
            let models = set.build().map_err(|e| {
                BuildError::config(
                    format!("auth.keys[{i}].models"),
                    format!("auth key `{}`: {e}", k.id),
                )
            })?;
            keys.push(Key {
                id: k.id.as_str().into(),
                sha256: k.sha256,
                models,
            });
        }
        Ok(Some(Keys(keys)))
    }
}

/// The built filter: the keys of one config.
pub struct AuthFilter {
    /// `None`: auth disabled (loopback default config or `auth: {disabled: true}`).
    keys: Option<Keys>,
}

impl FilterFactory for AuthFactory {
    fn name(&self) -> &'static str {
        "auth"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        if let Some(auth) = &env.config.auth {
            for (i, k) in auth.keys.iter().enumerate() {
                let limited = k.rpm.is_some() || k.tpm.is_some() || k.budget.is_some();
                if limited && !env.config.filters.iter().any(|f| f.name == "rate_limit") {
                    return Err(BuildError::config(format!("auth.keys[{i}]"), format!(
                        "auth.keys[{i}] (`{}`): rpm, tpm and budget need the `rate_limit` filter in `filters:`",
                        k.id
                    )));
                }
            }
        }
        let keys = Keys::from_config(env.config)?;
        Ok(Arc::new(AuthFilter { keys }))
    }
}

/// The key a client presented, from either header.
fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = header("authorization") {
        let v = v.trim();
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .unwrap_or(v);
        return Some(token.trim());
    }
    header("x-api-key").map(str::trim)
}

impl AuthFilter {
    /// The key in the request's headers, and whether it may use the model asked for.
    fn check(&self, cx: &mut RequestCtx, req: &ChatRequest) -> Result<Flow, GatewayError> {
        let Some(keys) = &self.keys else {
            return Ok(Flow::Continue);
        };
        let key = keys.authenticate(&cx.headers)?;
        cx.key_id = Some(key.id.clone());
        if !key.allows(&req.model) {
            return Err(GatewayError::ModelNotAllowed {
                model: req.model.clone(),
            });
        }
        Ok(Flow::Continue)
    }
}

#[async_trait::async_trait]
impl Filter for AuthFilter {
    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, req: &'a mut ChatRequest) -> Step<'a> {
        Step::Done(self.check(cx, req))
    }
}
