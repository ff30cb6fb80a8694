//! The CONFIG.md example parses into what the document says.

use std::time::Duration;

use super::{example_env, parse, EXAMPLE};
use crate::{sha256_of, BudgetPeriod, ProviderKind, SecretSource, StateConfig, Strategy};

#[test]
fn config_md_example_parses() {
    let c = parse(EXAMPLE, &example_env()).expect("the CONFIG.md example is valid");
    assert_eq!(c.version, 1);
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(c.server.admin_listen.to_string(), "127.0.0.1:9901");
    assert_eq!(c.server.max_body_bytes, 10 * 1024 * 1024);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    let auth = c.auth.as_ref().expect("auth keys are listed");
    let key = &auth.keys[0];
    assert_eq!(key.id, "support-app");
    assert_eq!(key.sha256, sha256_of(super::SECRETS[4]));
    assert_eq!(key.source, SecretSource::Env("SUPPORT_APP_KEY".into()));
    assert_eq!(key.models, ["chat", "claude-*"]);
    assert_eq!((key.rpm, key.tpm), (Some(600), Some(200_000)));
    let budget = key.budget.as_ref().expect("budget");
    assert_eq!((budget.usd, budget.period), (500.0, BudgetPeriod::Monthly));

    let kinds: Vec<_> = c
        .providers
        .iter()
        .map(|p| (p.id.as_str(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("openai", ProviderKind::OpenAi),
            ("anthropic", ProviderKind::Anthropic),
            ("gemini", ProviderKind::Gemini),
            ("deepseek", ProviderKind::OpenAiCompatible),
        ]
    );
    let openai = &c.providers[0];
    assert_eq!(openai.base_url.as_str(), "https://api.openai.com/v1");
    assert_eq!(openai.timeouts.connect, Duration::from_secs(2));
    assert_eq!(openai.timeouts.total, Duration::from_secs(600));
    assert_eq!(c.providers[1].timeouts.first_byte, Duration::from_secs(60));
    assert_eq!(
        openai.api_key.as_ref().map(|k| k.expose()),
        Some(super::SECRETS[0])
    );

    let deepseek = &c.models[2];
    assert_eq!(deepseek.upstream_model, "deepseek-chat");
    assert_eq!(deepseek.context_window, Some(64_000));
    assert_eq!(deepseek.max_output_tokens, Some(8_192), "from the catalog");
    assert_eq!(deepseek.pricing.map(|p| p.input_per_mtok), Some(0.27));
    assert!(c.notes.iter().any(|n| n.contains("models[2]")));

    assert_eq!(c.routes.len(), 3);
    assert_eq!(c.routes[1].strategy, Strategy::Weighted);
    assert_eq!(c.routes[1].targets[0].weight, 3);
    assert_eq!(
        c.routes[2]
            .when
            .as_ref()
            .and_then(|w| w.priority.as_deref()),
        Some("high")
    );
    assert_eq!(c.index.routes_by_name["chat"], [2, 0]);
    assert_eq!(c.index.models_by_id["claude-sonnet"], 1);
    assert_eq!(
        c.index.models_by_qualified["anthropic/claude-sonnet-4-6"],
        1
    );
    assert_eq!(c.index.models_by_qualified["anthropic/claude-sonnet"], 1);
    assert_eq!(c.index.models_by_qualified["deepseek/deepseek-chat"], 2);
    assert_eq!(c.state, StateConfig::Memory);
    let otlp = c.telemetry.otlp.as_ref().expect("traces are on");
    assert_eq!(otlp.endpoint.as_str(), "http://otel-collector:4317/");
    assert_eq!(otlp.protocol, crate::OtlpProtocol::Grpc);

    assert!(c.filters_explicit);
    let names: Vec<_> = c.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, crate::DEFAULT_FILTERS);
    let cw = &c.filters[2];
    assert_eq!((cw.path.as_str(), cw.line), ("filters[2]", Some(84)));
    assert_eq!(cw.settings["on_overflow"].as_str(), Some("reroute"));
    assert!(c.filters[0].settings.is_null());
}

#[test]
fn line_index_covers_keys_and_items() {
    let c = parse(EXAMPLE, &example_env()).expect("valid");
    let l = &c.lines;
    assert_eq!(l.line_of("server.admin_listen"), Some(5));
    assert_eq!(l.line_of("auth"), Some(8));
    assert_eq!(l.line_of("auth.keys[0].tpm"), Some(14));
    assert_eq!(l.line_of("providers[0]"), Some(18));
    assert_eq!(l.line_of("models[1].max_output_tokens"), Some(47));
    assert_eq!(l.line_of("routes[0].targets[2].model"), Some(60));
    assert_eq!(l.line_of("routes[1].targets[1].weight"), Some(63));
    assert_eq!(l.line_of("routes[2].when.priority"), Some(65));
    assert_eq!(l.line_of("filters[3]"), Some(85));
    // Unknown paths fall back to their nearest indexed ancestor.
    assert_eq!(l.line_of("filters[4].circuit_breaker.nope"), Some(86));
}

#[test]
fn filters_default_when_absent() {
    let yaml = "version: 1\n";
    let c = parse(yaml, &example_env()).expect("a minimal config is valid");
    assert!(!c.filters_explicit);
    let names: Vec<_> = c.filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "auth",
            "rate_limit",
            "context_window",
            "route",
            "circuit_breaker",
            "retry",
            "translate",
            "metrics"
        ]
    );
    assert!(c.filters.iter().all(|f| f.settings.is_null()));
    assert!(c.auth.is_none(), "loopback listen without auth is allowed");
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(20));
    assert!(c.server.threads >= 1);
}

#[test]
fn small_forms_parse() {
    let yaml = r#"
version: 1
server:
  listen: "[::1]:8080"
  max_body_bytes: 1048576
  shutdown_grace: 1m
  usage_log: /var/log/switchyard/usage.jsonl
  log_format: json
auth: { disabled: true }
providers:
  - id: local
    type: openai_compatible
    base_url: http://127.0.0.1:11434/v1/
models:
  - { id: llama, provider: local, model: "llama3.1:8b", context_window: 8192 }
routes:
  - name: chat
    when: { headers: { X-Team: search } }
    targets: [{ model: llama }]
  - name: chat
    targets: [{ model: local/llama3.1:8b }]
filters: []
"#;
    let c = parse(yaml, &example_env()).expect("valid");
    assert_eq!(c.server.max_body_bytes, 1_048_576);
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(60));
    assert!(c.auth.is_none());
    let local = &c.providers[0];
    assert_eq!(local.base_url.as_str(), "http://127.0.0.1:11434/v1");
    assert!(local.api_key.is_none());
    assert_eq!(local.api_key_source, SecretSource::None);
    assert_eq!(c.models[0].pricing, None, "not in the catalog");
    let when = c.routes[0].when.as_ref().expect("when");
    assert_eq!(when.headers, [("x-team".to_owned(), "search".to_owned())]);
    assert_eq!(c.routes[1].targets[0].model, 0);
    assert!(c.filters_explicit && c.filters.is_empty());
}
