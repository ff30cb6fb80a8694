//! The embedded default: providers from the standard key variables, loopback, no auth.

use crate::{embedded_default, MapEnv, ProviderKind, SecretSource};

#[test]
fn only_openai_key_gives_one_provider_and_its_models() {
    let env = MapEnv::new()
        .with_var("OPENAI_API_KEY", "sk-x")
        .with_var("ANTHROPIC_API_KEY", "");
    let c = embedded_default(&env);
    assert_eq!(c.providers.len(), 1);
    let p = &c.providers[0];
    assert_eq!((p.id.as_str(), p.kind), ("openai", ProviderKind::OpenAi));
    assert_eq!(p.base_url.as_str(), "https://api.openai.com/v1");
    assert_eq!(p.api_key_source, SecretSource::Env("OPENAI_API_KEY".into()));
    let ids: Vec<_> = c.models.iter().map(|m| m.id.as_str()).collect();
    for want in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "o3",
        "gpt-5",
        "text-embedding-3-small",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    assert!(c
        .models
        .iter()
        .all(|m| m.provider == 0 && m.id == m.upstream_model));
    assert!(c
        .models
        .iter()
        .all(|m| m.pricing.is_some() && m.context_window.is_some()));
    assert_eq!(
        c.index.models_by_qualified["openai/gpt-5"],
        c.index.models_by_id["gpt-5"]
    );
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.server.admin_listen.to_string(), "127.0.0.1:9901");
    assert!(c.auth.is_none() && c.routes.is_empty());
    assert!(!c.filters_explicit);
    assert_eq!(c.filters.len(), 8);
}

#[test]
fn no_key_warns_naming_every_variable_it_looked_for() {
    let c = embedded_default(&MapEnv::new());
    assert!(c.providers.is_empty());
    let w = c.warnings.join("\n");
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "DEEPSEEK_API_KEY",
        "MISTRAL_API_KEY",
        "GROQ_API_KEY",
    ] {
        assert!(w.contains(var), "{var} not named in {w}");
    }
    assert!(w.contains("--config"), "{w}");
    let with_key = embedded_default(&MapEnv::new().with_var("OPENAI_API_KEY", "sk-x"));
    assert!(with_key.warnings.is_empty(), "{:?}", with_key.warnings);
}

#[test]
fn inside_a_container_it_says_how_to_listen_beyond_loopback() {
    let env = MapEnv::new()
        .with_var("OPENAI_API_KEY", "sk-x")
        .with_var("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    let w = embedded_default(&env).warnings.join("\n");
    assert!(w.contains("0.0.0.0:8080") && w.contains("auth.keys"), "{w}");
    let docker = MapEnv::new()
        .with_var("OPENAI_API_KEY", "sk-x")
        .with_file("/.dockerenv", "");
    assert!(embedded_default(&docker)
        .warnings
        .join("\n")
        .contains("container"));
}

#[test]
fn no_keys_no_providers_and_base_url_overrides() {
    assert!(embedded_default(&MapEnv::new()).providers.is_empty());
    let env = MapEnv::new()
        .with_var("GROQ_API_KEY", "g")
        .with_var("GROQ_BASE_URL", "http://127.0.0.1:9999/openai/v1/")
        .with_var("DEEPSEEK_API_KEY", "d")
        .with_var("DEEPSEEK_BASE_URL", "nonsense");
    let c = embedded_default(&env);
    let urls: Vec<_> = c
        .providers
        .iter()
        .map(|p| (p.id.as_str(), p.base_url.as_str()))
        .collect();
    assert_eq!(
        urls,
        [
            ("deepseek", "https://api.deepseek.com/v1"),
            ("groq", "http://127.0.0.1:9999/openai/v1")
        ]
    );
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].starts_with("DEEPSEEK_BASE_URL"));
    assert!(c
        .models
        .iter()
        .any(|m| m.id == "deepseek-reasoner" && m.provider == 0));
}
