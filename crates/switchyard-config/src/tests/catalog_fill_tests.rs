//! The catalog fills what a config leaves out, and never overrides what it says.

use super::{example_env, parse};
use crate::lookup;

#[test]
fn catalog_fills_missing_fields() {
    let yaml = "version: 1\nproviders:\n  - { id: openai, type: openai, api_key_env: OPENAI_API_KEY }\nmodels:\n  - { id: fast, provider: openai, model: gpt-4o-mini-2024-07-18 }\n";
    let c = parse(yaml, &example_env()).expect("valid");
    let m = &c.models[0];
    assert_eq!(m.context_window, Some(128_000));
    assert_eq!(m.max_output_tokens, Some(16_384));
    let p = m.pricing.expect("pricing from the catalog");
    assert_eq!((p.input_per_mtok, p.output_per_mtok), (0.15, 0.60));
    assert_eq!(p.cached_input_per_mtok, Some(0.075));
    assert!(c.warnings.is_empty(), "fills are notes, not warnings");
    assert_eq!(c.notes.len(), 1);
    assert!(c.notes[0].contains("gpt-4o-mini"));
}

#[test]
fn config_wins_over_catalog() {
    let yaml = r#"
version: 1
providers:
  - { id: openai, type: openai, api_key_env: OPENAI_API_KEY }
models:
  - id: gpt-4o
    provider: openai
    context_window: 64000
    pricing: { input_per_mtok: 1.0, output_per_mtok: 2.0 }
"#;
    let c = parse(yaml, &example_env()).expect("valid");
    let m = &c.models[0];
    assert_eq!(m.context_window, Some(64_000), "config wins");
    assert_eq!(m.max_output_tokens, Some(16_384), "gap filled");
    let p = m.pricing.expect("pricing");
    assert_eq!(
        (p.input_per_mtok, p.output_per_mtok, p.cached_input_per_mtok),
        (1.0, 2.0, None)
    );
}

#[test]
fn catalog_output_limit_never_exceeds_a_smaller_configured_window() {
    let yaml = "version: 1\nproviders:\n  - { id: ds, type: openai_compatible, base_url: 'https://api.deepseek.com/v1', api_key_env: DEEPSEEK_API_KEY }\nmodels:\n  - { id: r1, provider: ds, model: deepseek-reasoner, context_window: 32000 }\n";
    let c = parse(yaml, &example_env()).expect("valid");
    assert_eq!(c.models[0].context_window, Some(32_000));
    assert_eq!(c.models[0].max_output_tokens, None);
}

#[test]
fn unknown_models_stay_unfilled() {
    let yaml = "version: 1\nproviders:\n  - { id: openai, type: openai, api_key_env: OPENAI_API_KEY }\nmodels:\n  - { id: ft, provider: openai, model: 'ft:gpt-4o:acme' }\n";
    let c = parse(yaml, &example_env()).expect("valid");
    assert_eq!(c.models[0].context_window, None);
    assert!(c.notes.is_empty());
}

#[test]
fn dated_suffix_lookup() {
    assert_eq!(
        lookup("gpt-4o-2024-08-06").map(|e| e.model.as_str()),
        Some("gpt-4o")
    );
    assert_eq!(
        lookup("gpt-4.1-mini-2025-04-14").map(|e| e.model.as_str()),
        Some("gpt-4.1-mini")
    );
    assert_eq!(
        lookup("claude-haiku-4-5-20251001").map(|e| e.model.as_str()),
        Some("claude-haiku-4-5")
    );
    assert!(lookup("o4-mini-deep-research").is_none());
}
