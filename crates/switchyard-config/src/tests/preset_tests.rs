//! Presets, `type: vertex`, `catalog_file:`, `pricing: free` and the unpriced-budget check.

use super::{issues, parse};
use crate::{MapEnv, MaxTokensField, ProviderKind, PRESETS};

const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

fn key_file(token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "kid-1",
        "private_key": KEY_PEM,
        "client_email": "sy@p.iam.gserviceaccount.com",
        "token_uri": token_uri,
    })
    .to_string()
}

/// An environment where every preset's key variable is set.
fn all_keys() -> MapEnv {
    let mut env = MapEnv::new().with_file(
        "/keys/sa.json",
        &key_file("https://oauth2.googleapis.com/token"),
    );
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        env = env.with_var(var, "AKIDEXAMPLE-k-123456");
    }
    for p in PRESETS {
        if let Some(var) = p.key_env {
            let value = if p.kind == ProviderKind::Vertex {
                "/keys/sa.json"
            } else {
                "k-123456"
            };
            env = env.with_var(var, value);
        }
    }
    env
}

#[test]
fn every_preset_renders_a_valid_provider() {
    assert!(PRESETS.len() >= 20);
    let env = all_keys();
    for p in PRESETS {
        let extra = match p.name {
            "azure" => "\n    base_url: https://res.openai.azure.com",
            "vertex" => "\n    project: p\n    location: us-east5",
            "bedrock" => "\n    region: us-east-1",
            _ => "",
        };
        let yaml = format!(
            "version: 1\nauth: {{ disabled: true }}\nproviders:\n  - id: x\n    preset: {}{extra}\n",
            p.name
        );
        let c = parse(&yaml, &env).unwrap_or_else(|e| panic!("{}: {e:?}", p.name));
        let got = &c.providers[0];
        assert_eq!(got.kind, p.kind, "{}", p.name);
        assert_eq!(got.preset.as_deref(), Some(p.name));
        if let Some(url) = p.base_url {
            assert_eq!(
                got.base_url.as_str().trim_end_matches('/'),
                url.trim_end_matches('/'),
                "{}",
                p.name
            );
        }
        assert_eq!(got.stream_usage, p.stream_usage, "{}", p.name);
        assert_eq!(got.max_tokens_field, p.max_tokens_field, "{}", p.name);
        assert_eq!(
            got.api_key.is_some(),
            p.key_env.is_some() && p.kind != ProviderKind::Vertex,
            "{}",
            p.name
        );
    }
}

#[test]
fn what_is_written_beside_a_preset_wins() {
    let env = MapEnv::new().with_var("MY_GROQ", "gk-1");
    let c = parse(
        r#"
version: 1
auth: { disabled: true }
providers:
  - id: g
    preset: groq
    base_url: http://127.0.0.1:9999/v1
    api_key_env: MY_GROQ
    stream_usage: false
    max_tokens_field: max_tokens
    unsupported_params: [seed]
"#,
        &env,
    )
    .expect("valid");
    let p = &c.providers[0];
    assert_eq!(p.base_url.as_str(), "http://127.0.0.1:9999/v1");
    assert_eq!(p.api_key.as_ref().map(|k| k.expose()), Some("gk-1"));
    assert!(!p.stream_usage);
    assert_eq!(p.max_tokens_field, MaxTokensField::MaxTokens);
    assert_eq!(p.unsupported_params, ["seed"]);
}

#[test]
fn preset_mistakes_are_named() {
    let e = issues(
        "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: g, preset: grok }\n",
        &MapEnv::new(),
    );
    assert!(e[0].message.contains("unknown preset `grok`"), "{e:?}");
    let e = issues(
        "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: g, preset: groq }\n",
        &MapEnv::new(),
    );
    assert!(e[0].message.contains("GROQ_API_KEY"), "{e:?}");
    let e = issues(
        "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: g }\n",
        &MapEnv::new(),
    );
    assert!(e[0].message.contains("missing `type`"), "{e:?}");
    // Local presets need no key, and their models are free unless priced.
    let c = parse(
        "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: o, preset: ollama }\nmodels:\n  - { id: llama, provider: o, model: llama3.2, context_window: 8192 }\n",
        &MapEnv::new(),
    )
    .expect("valid");
    assert!(c.providers[0].api_key.is_none());
    assert_eq!(c.models[0].pricing, Some(crate::Pricing::FREE));
}

#[test]
fn vertex_providers_read_their_key_file_and_pick_the_host() {
    let env = MapEnv::new().with_file(
        "/keys/sa.json",
        &key_file("https://oauth2.googleapis.com/token"),
    );
    for (location, host) in [
        ("us-east5", "https://us-east5-aiplatform.googleapis.com/"),
        (
            "europe-west1",
            "https://europe-west1-aiplatform.googleapis.com/",
        ),
        ("us", "https://aiplatform.us.rep.googleapis.com/"),
        ("eu", "https://aiplatform.eu.rep.googleapis.com/"),
        ("global", "https://aiplatform.googleapis.com/"),
    ] {
        let yaml = format!(
            "version: 1\nauth: {{ disabled: true }}\nproviders:\n  - {{ id: v, type: vertex, project: my-proj, location: {location}, credentials_file: /keys/sa.json }}\nmodels:\n  - {{ id: c, provider: v, model: claude-sonnet-4-5@20250929 }}\n"
        );
        let c = parse(&yaml, &env).unwrap_or_else(|e| panic!("{location}: {e:?}"));
        let p = &c.providers[0];
        assert_eq!(p.base_url.as_str(), host);
        let v = p.vertex.as_ref().expect("vertex settings");
        assert_eq!(
            (v.project.as_str(), v.location.as_str()),
            ("my-proj", location)
        );
        assert_eq!(
            v.service_account.client_email,
            "sy@p.iam.gserviceaccount.com"
        );
        assert_eq!(v.service_account.private_key_id.as_deref(), Some("kid-1"));
        assert!(
            !format!("{p:?}").contains("MIIB"),
            "the key never shows in Debug"
        );
        let m = &c.models[0];
        assert_eq!(
            m.context_window,
            Some(200_000),
            "Vertex Claude from the catalog"
        );
        assert!(m.pricing.and_then(|p| p.cache_write_1h_per_mtok).is_some());
    }
}

#[test]
fn vertex_mistakes_are_named_without_the_key() {
    let env = MapEnv::new()
        .with_file(
            "/keys/sa.json",
            &key_file("https://oauth2.googleapis.com/token"),
        )
        .with_file(
            "/keys/user.json",
            r#"{"type":"authorized_user","client_id":"x","private_key":"SECRET-PEM"}"#,
        )
        .with_file("/keys/bad.json", "{ not json SECRET-PEM");
    for (provider, want) in [
        ("{ id: v, type: vertex, location: us-east5, credentials_file: /keys/sa.json }", "needs `project`"),
        ("{ id: v, type: vertex, project: p, credentials_file: /keys/sa.json }", "needs `location`"),
        ("{ id: v, type: vertex, project: p, location: US/East, credentials_file: /keys/sa.json }", "not a Vertex location"),
        ("{ id: v, type: vertex, project: p, location: us-east5 }", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("{ id: v, type: vertex, project: p, location: us-east5, credentials_file: /keys/none.json }", "cannot read"),
        ("{ id: v, type: vertex, project: p, location: us-east5, credentials_file: /keys/user.json }", "authorized_user"),
        ("{ id: v, type: vertex, project: p, location: us-east5, credentials_file: /keys/bad.json }", "not a service-account key file"),
        ("{ id: v, type: vertex, project: p, location: us-east5, credentials_file: /keys/sa.json, api_key: x }", "credentials_file, not api_key"),
        ("{ id: v, type: openai, project: p, api_key: x }", "only for providers of type `vertex`"),
    ] {
        let yaml = format!("version: 1\nauth: {{ disabled: true }}\nproviders:\n  - {provider}\n");
        let e = issues(&yaml, &env);
        let all = format!("{e:?}");
        assert!(all.contains(want), "{provider}: {all}");
        assert!(!all.contains("SECRET-PEM"), "{provider}: {all}");
    }
}

#[test]
fn a_budget_refuses_unpriced_models_unless_free() {
    let env = MapEnv::new()
        .with_var("APP_KEY", "app-key-123456")
        .with_var("OTHER_KEY", "other-key-123456");
    let base = |pricing: &str| {
        format!(
            r#"
version: 1
auth:
  keys:
    - {{ id: app, key_env: APP_KEY, models: ["chat"], budget: {{ usd: 10 }} }}
    - {{ id: free-for-all, key_env: OTHER_KEY, models: ["*"] }}
providers:
  - {{ id: local, type: openai_compatible, base_url: http://127.0.0.1:1/v1 }}
models:
  - {{ id: mine, provider: local, model: my-finetune, context_window: 4096{pricing} }}
routes:
  - {{ name: chat, targets: [{{ model: mine }}] }}
"#
        )
    };
    let e = issues(&base(""), &env);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].path, "auth.keys[0].budget");
    assert!(e[0].message.contains("(mine)"), "{e:?}");
    parse(&base(", pricing: free"), &env).expect("free is priced");
    parse(
        &base(", pricing: { input_per_mtok: 1, output_per_mtok: 2 }"),
        &env,
    )
    .expect("priced");
}

#[test]
fn uncatalogued_models_without_a_window_are_warned_about() {
    let c = parse(
        "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: l, type: openai_compatible, base_url: http://127.0.0.1:1/v1 }\nmodels:\n  - { id: m, provider: l, model: mystery-7b }\n",
        &MapEnv::new(),
    )
    .expect("valid");
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("mystery-7b") && w.contains("not in the model catalog")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_catalog_file_extends_and_overrides_the_builtin_one() {
    let env = MapEnv::new()
        .with_var("OPENAI_API_KEY", "sk-1234567")
        .with_file(
            "/etc/sy/catalog.yaml",
            "date: 2026-11-01\nmodels:\n  - { vendor: openai, model: gpt-4o, context_window: 64000, input_per_mtok: 9, output_per_mtok: 9 }\n  - { vendor: openai, model: gpt-9, context_window: 500000, max_output_tokens: 1000, input_per_mtok: 1, output_per_mtok: 2, cache_read_per_mtok: 0.1 }\n",
        )
        .with_file("/etc/sy/bad.yaml", "date: 2026-11-01\nmodels:\n  - { vendor: x }\n");
    let c = parse(
        "version: 1\ncatalog_file: /etc/sy/catalog.yaml\nauth: { disabled: true }\nproviders:\n  - { id: openai, preset: openai }\nmodels:\n  - { id: a, provider: openai, model: gpt-4o }\n  - { id: b, provider: openai, model: gpt-9 }\n  - { id: c, provider: openai, model: gpt-4o-mini }\n",
        &env,
    )
    .expect("valid");
    assert_eq!(c.models[0].context_window, Some(64_000));
    assert_eq!(
        c.models[1].pricing.map(|p| p.cached_input_per_mtok),
        Some(Some(0.1))
    );
    assert_eq!(
        c.models[2].context_window,
        Some(128_000),
        "built-in entries stay"
    );
    let e = issues(
        "version: 1\ncatalog_file: /etc/sy/bad.yaml\nauth: { disabled: true }\n",
        &env,
    );
    assert_eq!(e[0].path, "catalog_file");
}
