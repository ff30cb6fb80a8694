//! What Switchyard runs with when there is no config file, and the default filter chain.

use crate::validate::{default_server, parse_base_url, DEFAULT_TIMEOUTS};
use crate::{
    index, Catalog, Config, Env, FilterSpec, LineIndex, Model, Provider, Secret, SecretSource,
    StateConfig, PRESETS,
};

/// The chain used when a file has no `filters:` list, in order (CONFIG.md).
pub const DEFAULT_FILTERS: [&str; 8] = [
    "auth",
    "rate_limit",
    "context_window",
    "route",
    "circuit_breaker",
    "retry",
    "translate",
    "metrics",
];

/// [`DEFAULT_FILTERS`] as specs with default (`Null`) settings and no source line.
pub fn default_filters() -> Vec<FilterSpec> {
    DEFAULT_FILTERS
        .iter()
        .enumerate()
        .map(|(i, name)| FilterSpec {
            name: (*name).to_owned(),
            settings: serde_yaml::Value::Null,
            path: format!("filters[{i}]"),
            line: None,
        })
        .collect()
}

/// The config in force without a file: loopback listeners, no gateway auth, and every
/// preset with a fixed base URL whose key variable is set and non-empty, with its catalog
/// models as deployments (model id = upstream name; a name another provider already took is
/// `preset/name`). `<PRESET>_BASE_URL` (e.g. `OPENAI_BASE_URL`) overrides a provider's base
/// URL; an unusable override is a warning and is ignored.
pub fn embedded_default(env: &dyn Env) -> Config {
    let mut providers = Vec::new();
    let mut models: Vec<Model> = Vec::new();
    let mut warnings = Vec::new();
    let catalog = Catalog::builtin();
    for preset in PRESETS {
        let (Some(key_var), Some(url)) = (preset.key_env, preset.base_url) else {
            continue;
        };
        let Some(key) = env.var(key_var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let url_var = format!("{}_BASE_URL", preset.name.to_ascii_uppercase());
        let fallback = || parse_base_url(url).expect("the presets' base URLs are valid");
        let base_url = match env.var(&url_var).filter(|v| !v.trim().is_empty()) {
            Some(text) => parse_base_url(&text).unwrap_or_else(|m| {
                warnings.push(format!("{url_var}: {m}; using {url}"));
                fallback()
            }),
            None => fallback(),
        };
        let provider = providers.len();
        providers.push(Provider {
            id: preset.name.to_owned(),
            kind: preset.kind,
            base_url,
            api_key: Some(Secret::new(key)),
            api_key_source: SecretSource::Env(key_var.to_owned()),
            timeouts: DEFAULT_TIMEOUTS,
            api_version: None,
            headers: Vec::new(),
            stream_usage: preset.stream_usage,
            preset: Some(preset.name.to_owned()),
            max_tokens_field: preset.max_tokens_field,
            unsupported_params: preset
                .unsupported_params
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            vertex: None,
            aws: None,
        });
        for entry in catalog.models.iter().filter(|c| c.vendor == preset.name) {
            let id = if models.iter().any(|m| m.id == entry.model) {
                format!("{}/{}", preset.name, entry.model)
            } else {
                entry.model.clone()
            };
            models.push(Model {
                id,
                provider,
                upstream_model: entry.model.clone(),
                context_window: Some(entry.context_window),
                max_output_tokens: entry.max_output_tokens,
                pricing: Some(entry.pricing()),
                strict_params: false,
            });
        }
    }
    if providers.is_empty() {
        let vars: Vec<&str> = PRESETS
            .iter()
            .filter(|p| p.base_url.is_some())
            .filter_map(|p| p.key_env)
            .collect();
        warnings.push(format!(
            "no config file and no provider key: looked for {}; every model request will get 404 \
             model_not_found until one is set (or run with --config FILE)",
            vars.join(", ")
        ));
    }
    if in_container(env) {
        warnings.push(
            "no config file inside a container: the embedded default listens on 127.0.0.1:8080 \
             only, which nothing outside the container can reach. Mount a config with \
             server.listen: 0.0.0.0:8080 and auth.keys (`switchyard --config \
             /etc/switchyard/switchyard.yaml`; see deploy/ and the Dockerfile)"
                .to_owned(),
        );
    }
    let index = index::models_index(&providers, &models);
    Config {
        version: 1,
        server: default_server(),
        auth: None,
        providers,
        models,
        routes: Vec::new(),
        state: StateConfig::Memory,
        filters: default_filters(),
        filters_explicit: false,
        telemetry: Default::default(),
        warnings,
        notes: Vec::new(),
        index,
        lines: LineIndex::default(),
        catalog: catalog.clone(),
    }
}

/// Whether the process runs in a container: Docker's `/.dockerenv`, Podman's
/// `/run/.containerenv`, or a Kubernetes pod's service variables.
fn in_container(env: &dyn Env) -> bool {
    env.var("KUBERNETES_SERVICE_HOST").is_some()
        || env.read_file(std::path::Path::new("/.dockerenv")).is_ok()
        || env
            .read_file(std::path::Path::new("/run/.containerenv"))
            .is_ok()
}
