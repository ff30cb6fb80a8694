//! Gateway configs for the scenarios, built from the config crate's own raw types and
//! serialised to YAML, so a scenario names what it sets (a provider, a model, a route) instead
//! of formatting YAML text, and a field the config crate renames or drops breaks the build.
//!
//! ```ignore
//! let yaml = Config::new()
//!     .provider(provider("mock", "openai", &format!("{}/v1", mock.base())))
//!     .model(model("gpt-4o-mini", "mock").upstream("gpt-4o-mini-up").priced(0.15, 0.60))
//!     .route("chat", &["gpt-4o-mini"])
//!     .yaml();
//! ```

pub use switchyard_config::raw::{
    Entry, OrderedMap, RawAuth, RawAws, RawBackend, RawBudget, RawConfig, RawFilter, RawKey,
    RawModel, RawOnUnavailable, RawOtlp, RawPeriod, RawPrices, RawPricing, RawProvider, RawRoute,
    RawServer, RawState, RawStrategy, RawTarget, RawTelemetry, RawTimeouts, Text,
};

/// The variable the client key is read from (see [`crate::providers::CLIENT_KEY`]).
pub const CLIENT_KEY_ENV: &str = "CLIENT_KEY";
/// The variable provider keys are read from (see [`crate::providers::PROVIDER_KEY`]).
pub const PROVIDER_KEY_ENV: &str = "PROVIDER_KEY";

/// A whole config, written with [`Config::yaml`].
#[derive(Debug)]
pub struct Config(RawConfig);

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// Version 1, both listeners on 127.0.0.1 port 0 (the gateway reports what it bound),
    /// a 1 s shutdown grace, and one client key `app` read from `CLIENT_KEY`.
    pub fn new() -> Self {
        let server = RawServer {
            listen: Some("127.0.0.1:0".into()),
            admin_listen: Some("127.0.0.1:0".into()),
            shutdown_grace: Some("1s".into()),
            ..RawServer::default()
        };
        let auth = RawAuth {
            keys: Some(vec![key("app").into()]),
            disabled: false,
        };
        Self(RawConfig {
            version: Some(1.into()),
            server: Some(server.into()),
            auth: Some(auth.into()),
            ..RawConfig::default()
        })
    }

    /// Edits `server:`.
    pub fn server(mut self, edit: impl FnOnce(&mut RawServer)) -> Self {
        edit(valid(
            self.0
                .server
                .get_or_insert_with(|| RawServer::default().into()),
        ));
        self
    }

    /// `auth: { disabled: true }`: no client keys.
    pub fn auth_disabled(mut self) -> Self {
        self.0.auth = Some(
            RawAuth {
                keys: None,
                disabled: true,
            }
            .into(),
        );
        self
    }

    /// Edits the client key `app`.
    pub fn app_key(mut self, edit: impl FnOnce(&mut RawKey)) -> Self {
        let auth = valid(self.0.auth.get_or_insert_with(|| RawAuth::default().into()));
        let keys = auth.keys.get_or_insert_with(Vec::new);
        edit(valid(keys.first_mut().expect("the app key")));
        self
    }

    /// Adds a client key after `app`.
    pub fn key(mut self, key: RawKey) -> Self {
        let auth = valid(self.0.auth.get_or_insert_with(|| RawAuth::default().into()));
        auth.keys.get_or_insert_with(Vec::new).push(key.into());
        self
    }

    /// Adds a provider.
    pub fn provider(mut self, provider: RawProvider) -> Self {
        self.0
            .providers
            .get_or_insert_with(Vec::new)
            .push(provider.into());
        self
    }

    /// Adds a model.
    pub fn model(mut self, model: impl Into<RawModel>) -> Self {
        self.0
            .models
            .get_or_insert_with(Vec::new)
            .push(model.into().into());
        self
    }

    /// Adds a route over `targets` (model ids), tried in order.
    pub fn route(self, name: &str, targets: &[&str]) -> Self {
        self.route_with(route(name, targets))
    }

    /// Adds a route built by hand (a strategy, weights, a condition).
    pub fn route_with(mut self, route: RawRoute) -> Self {
        self.0
            .routes
            .get_or_insert_with(Vec::new)
            .push(route.into());
        self
    }

    /// Sets the strategy of route `name`.
    pub fn strategy(mut self, name: &str, strategy: RawStrategy) -> Self {
        let route = self
            .0
            .routes
            .iter_mut()
            .flatten()
            .map(valid)
            .find(|r| r.name == name)
            .expect("a route of that name");
        route.strategy = Some(strategy);
        self
    }

    /// Sets `filters:`, in order: names (`"auth"`) or [`filter_with`] entries.
    pub fn filters<F: Into<RawFilter>>(mut self, filters: impl IntoIterator<Item = F>) -> Self {
        self.0.filters = Some(filters.into_iter().map(|f| f.into().into()).collect());
        self
    }

    /// Sets `state:`.
    pub fn state(mut self, state: RawState) -> Self {
        self.0.state = Some(state.into());
        self
    }

    /// Sets `telemetry.otlp:` (traces exported over OTLP).
    pub fn otlp(mut self, otlp: RawOtlp) -> Self {
        self.0.telemetry = Some(RawTelemetry { otlp: Some(otlp) }.into());
        self
    }

    /// The YAML text.
    pub fn yaml(&self) -> String {
        serde_yaml::to_string(&self.0).expect("a config built from valid entries serialises")
    }
}

/// Every entry a builder makes is valid; an invalid one comes only from parsing.
fn valid<T>(entry: &mut Entry<T>) -> &mut T {
    match entry {
        Entry::Valid(v, _) => v,
        Entry::Invalid(e, _) => panic!("a parsed entry that did not parse: {e:?}"),
    }
}

/// A client key read from `CLIENT_KEY`.
pub fn key(id: &str) -> RawKey {
    RawKey {
        id: id.into(),
        key_env: Some(CLIENT_KEY_ENV.into()),
        ..RawKey::default()
    }
}

/// `budget: { usd, period }`.
pub fn budget(usd: f64, period: RawPeriod) -> RawBudget {
    RawBudget {
        usd,
        period: Some(period),
    }
}

/// `state:` shared in Redis at the URL in variable `url_env`, doing `on_unavailable` when Redis
/// can't be reached.
pub fn redis_state(url_env: &str, on_unavailable: RawOnUnavailable) -> RawState {
    RawState {
        backend: Some(RawBackend::Redis),
        url_env: Some(url_env.into()),
        on_unavailable: Some(on_unavailable),
        ..RawState::default()
    }
}

/// Provider deadlines, each a duration such as `300ms` or left out: `connect`, `first_byte`,
/// `idle`, `total`.
pub fn timeouts(
    connect: Option<&str>,
    first_byte: Option<&str>,
    idle: Option<&str>,
    total: Option<&str>,
) -> RawTimeouts {
    RawTimeouts {
        connect: connect.map(Into::into),
        first_byte: first_byte.map(Into::into),
        idle: idle.map(Into::into),
        total: total.map(Into::into),
    }
}

/// `telemetry.otlp` exporting to the collector at `endpoint`, the rest left to `OTEL_*`
/// variables or the defaults.
pub fn otlp(endpoint: &str) -> RawOtlp {
    RawOtlp {
        endpoint: Some(endpoint.into()),
        ..RawOtlp::default()
    }
}

/// A provider of `kind` (the YAML `type`) at `base_url`, keyed by `PROVIDER_KEY`.
pub fn provider(id: &str, kind: &str, base_url: &str) -> RawProvider {
    RawProvider {
        id: id.into(),
        kind: Some(kind.into()),
        base_url: Some(base_url.into()),
        api_key_env: Some(PROVIDER_KEY_ENV.into()),
        ..RawProvider::default()
    }
}

/// A model `id` served by `provider`, with everything else left out.
pub fn model(id: &str, provider: &str) -> Model {
    Model(RawModel {
        id: id.into(),
        provider: provider.into(),
        ..RawModel::default()
    })
}

/// A route over `targets`, in order.
pub fn route(name: &str, targets: &[&str]) -> RawRoute {
    RawRoute {
        name: name.into(),
        targets: Some(
            targets
                .iter()
                .map(|&m| RawTarget {
                    model: m.into(),
                    weight: None,
                })
                .collect(),
        ),
        ..RawRoute::default()
    }
}

/// A route that picks by `weight` among `targets`.
pub fn weighted(name: &str, targets: &[(&str, i64)]) -> RawRoute {
    RawRoute {
        name: name.into(),
        strategy: Some(RawStrategy::Weighted),
        targets: Some(
            targets
                .iter()
                .map(|&(m, w)| RawTarget {
                    model: m.into(),
                    weight: Some(w),
                })
                .collect(),
        ),
        ..RawRoute::default()
    }
}

/// A `filters:` entry with settings, `{name: settings}`.
pub fn filter_with(name: &str, settings: serde_json::Value) -> RawFilter {
    RawFilter {
        name: name.into(),
        settings: serde_yaml::to_value(settings).expect("JSON is YAML"),
    }
}

/// A model under construction; see [`model`].
#[derive(Debug)]
pub struct Model(pub RawModel);

impl Model {
    /// The upstream's name for it.
    pub fn upstream(mut self, name: &str) -> Self {
        self.0.model = Some(name.into());
        self
    }

    /// USD per million prompt and completion tokens.
    pub fn priced(mut self, input_per_mtok: f64, output_per_mtok: f64) -> Self {
        self.0.pricing = Some(RawPricing::Prices(RawPrices {
            input_per_mtok,
            output_per_mtok,
            ..RawPrices::default()
        }));
        self
    }

    /// USD per million cached prompt tokens, beside the prices [`Model::priced`] set.
    pub fn cached_input_priced(mut self, per_mtok: f64) -> Self {
        match &mut self.0.pricing {
            Some(RawPricing::Prices(p)) => p.cached_input_per_mtok = Some(per_mtok),
            _ => panic!("cached_input_priced goes after priced"),
        }
        self
    }

    /// `pricing: free`.
    pub fn free(mut self) -> Self {
        self.0.pricing = Some(RawPricing::Free);
        self
    }

    /// The most it may write, in tokens.
    pub fn max_output_tokens(mut self, tokens: u64) -> Self {
        self.0.max_output_tokens = Some(tokens);
        self
    }

    /// `strict_params: true`: a parameter it can't take is refused, not dropped.
    pub fn strict_params(mut self) -> Self {
        self.0.strict_params = Some(true);
        self
    }

    /// Its context window, in tokens.
    pub fn context_window(mut self, tokens: u64) -> Self {
        self.0.context_window = Some(tokens);
        self
    }
}

impl From<Model> for RawModel {
    fn from(m: Model) -> Self {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_config_is_the_yaml_an_operator_would_write() {
        let yaml = Config::new()
            .provider(provider("mock", "openai", "http://127.0.0.1:9/v1"))
            .model(model("m", "mock").upstream("m-up").priced(0.15, 0.6))
            .model(model("f", "mock").free())
            .route("chat", &["m", "f"])
            .route_with(weighted("w", &[("m", 3), ("f", 1)]))
            .filters([
                "auth".into(),
                filter_with(
                    "context_window",
                    serde_json::json!({"on_overflow": "reject"}),
                ),
                "route".into(),
            ])
            .yaml();
        let want = "version: 1
server:
  listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
  shutdown_grace: 1s
auth:
  keys:
  - id: app
    key_env: CLIENT_KEY
providers:
- id: mock
  type: openai
  base_url: http://127.0.0.1:9/v1
  api_key_env: PROVIDER_KEY
models:
- id: m
  provider: mock
  model: m-up
  pricing:
    input_per_mtok: 0.15
    output_per_mtok: 0.6
- id: f
  provider: mock
  pricing: free
routes:
- name: chat
  targets:
  - model: m
  - model: f
- name: w
  strategy: weighted
  targets:
  - model: m
    weight: 3
  - model: f
    weight: 1
filters:
- auth
- context_window:
    on_overflow: reject
- route
";
        assert_eq!(yaml, want);
        let env = switchyard_config::MapEnv::new()
            .with_var(CLIENT_KEY_ENV, "c")
            .with_var(PROVIDER_KEY_ENV, "p");
        let config = switchyard_config::Config::from_yaml_str(&yaml, &env).expect("valid");
        assert_eq!(config.routes.len(), 2);
    }
}
