//! What Switchyard runs with when there is no config file, and the default filter chain.

use crate::validate::{default_server, parse_base_url, DEFAULT_TIMEOUTS};
use crate::{
    catalog, index, Config, Env, FilterSpec, LineIndex, Model, Provider, ProviderKind, Secret,
    SecretSource, StateConfig,
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

/// A provider the embedded default knows: its id (== catalog vendor), type, key variable,
/// base-URL override variable and base URL.
struct Known {
    id: &'static str,
    kind: ProviderKind,
    key_var: &'static str,
    url_var: &'static str,
    base_url: &'static str,
}

#[rustfmt::skip]
const KNOWN: [Known; 6] = [
    Known { id: "openai", kind: ProviderKind::OpenAi, key_var: "OPENAI_API_KEY", url_var: "OPENAI_BASE_URL", base_url: "https://api.openai.com/v1" },
    Known { id: "anthropic", kind: ProviderKind::Anthropic, key_var: "ANTHROPIC_API_KEY", url_var: "ANTHROPIC_BASE_URL", base_url: "https://api.anthropic.com" },
    Known { id: "gemini", kind: ProviderKind::Gemini, key_var: "GEMINI_API_KEY", url_var: "GEMINI_BASE_URL", base_url: "https://generativelanguage.googleapis.com" },
    Known { id: "deepseek", kind: ProviderKind::OpenAiCompatible, key_var: "DEEPSEEK_API_KEY", url_var: "DEEPSEEK_BASE_URL", base_url: "https://api.deepseek.com/v1" },
    Known { id: "mistral", kind: ProviderKind::OpenAiCompatible, key_var: "MISTRAL_API_KEY", url_var: "MISTRAL_BASE_URL", base_url: "https://api.mistral.ai/v1" },
    Known { id: "groq", kind: ProviderKind::OpenAiCompatible, key_var: "GROQ_API_KEY", url_var: "GROQ_BASE_URL", base_url: "https://api.groq.com/openai/v1" },
];

/// The config in force without a file: loopback listeners, no gateway auth, and every
/// known provider whose key variable is set and non-empty, with its catalog models as
/// deployments (model id = upstream name). `<ID>_BASE_URL` (e.g. `OPENAI_BASE_URL`)
/// overrides a provider's base URL; an unusable override is a warning and is ignored.
pub fn embedded_default(env: &dyn Env) -> Config {
    let mut providers = Vec::new();
    let mut models = Vec::new();
    let mut warnings = Vec::new();
    for known in &KNOWN {
        let Some(key) = env.var(known.key_var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let base_url = match env.var(known.url_var).filter(|v| !v.trim().is_empty()) {
            Some(text) => parse_base_url(&text).unwrap_or_else(|m| {
                warnings.push(format!("{}: {m}; using {}", known.url_var, known.base_url));
                fallback_url(known)
            }),
            None => fallback_url(known),
        };
        let provider = providers.len();
        providers.push(Provider {
            id: known.id.to_owned(),
            kind: known.kind,
            base_url,
            api_key: Some(Secret::new(key)),
            api_key_source: SecretSource::Env(known.key_var.to_owned()),
            timeouts: DEFAULT_TIMEOUTS,
            api_version: None,
            headers: Vec::new(),
            // Mistral refuses `stream_options` (422) and reports stream usage unasked.
            stream_usage: known.id != "mistral",
        });
        for entry in catalog::by_vendor(known.id) {
            models.push(Model {
                id: entry.model.to_owned(),
                provider,
                upstream_model: entry.model.to_owned(),
                context_window: Some(entry.context_window),
                max_output_tokens: entry.max_output_tokens,
                pricing: Some(entry.pricing()),
                strict_params: false,
            });
        }
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
        warnings,
        notes: Vec::new(),
        index,
        lines: LineIndex::default(),
    }
}

fn fallback_url(known: &Known) -> url::Url {
    parse_base_url(known.base_url).expect("the built-in base URLs are valid")
}
