//! A table of invalid configs, each with the path, line and message fragment it must yield.

use super::{example_env, issues, parse};
use crate::{ConfigError, MapEnv};

/// Lines 1-8; cases append from line 9.
const BASE: &str = "version: 1
providers:
  - id: openai
    type: openai
    api_key_env: OPENAI_API_KEY
models:
  - id: gpt-4o
    provider: openai
";

/// (yaml, path, line, message fragment). `+` at the start means "append to BASE".
const CASES: &[(&str, &str, Option<usize>, &str)] = &[
    // serde: syntax, unknown keys, wrong types, bad enum values
    ("version: 1\nserver: [unclosed\n", "config", Some(3), "not valid YAML"),
    ("version: 1\nservr: {}\n", "servr", Some(2), "unknown field `servr`"),
    ("+routes:\n  - name: r\n    targets: [{ model: gpt-4o }]\n    stratgy: weighted\n", "routes[0].stratgy", Some(12), "unknown field"),
    ("+  - id: m2\n    provider: openai\n    context_window: lots\n", "models[1].context_window", Some(11), "invalid type"),
    ("+routes:\n  - name: r\n    strategy: fastest\n    targets: [{ model: gpt-4o }]\n", "routes[0].strategy", Some(11), "unknown variant `fastest`"),
    ("+server:\n  log_format: xml\n", "server.log_format", Some(10), "unknown variant"),
    ("+filters:\n  - auth\n  - { a: 1, b: 2 }\n", "filters[1]", Some(11), "single-key map"),
    ("+state:\n  backend: etcd\n", "state.backend", Some(10), "unknown variant"),
    // version
    ("version: 2\n", "version", Some(1), "unsupported version 2"),
    ("server: {}\n", "version", None, "missing `version: 1`"),
    // ids and references
    ("+  - id: gpt-4o\n    provider: openai\n", "models[1].id", Some(9), "duplicate model id `gpt-4o`"),
    ("+  - id: m2\n    provider: opnai\n", "models[1].provider", Some(10), "did you mean `openai`?"),
    ("version: 1\nproviders:\n  - { id: a, type: openai_compatible, base_url: 'http://h' }\n  - { id: a, type: openai_compatible, base_url: 'http://h' }\n", "providers[1].id", Some(4), "duplicate provider id `a`"),
    ("+routes:\n  - name: r\n    targets: [{ model: gpt4o }]\n", "routes[0].targets[0].model", Some(11), "unknown model `gpt4o`; did you mean `gpt-4o`?"),
    ("+routes:\n  - name: r\n", "routes[0].targets", Some(10), "at least one target"),
    ("+routes:\n  - name: r\n    targets: []\n", "routes[0].targets", Some(11), "at least one target"),
    ("+routes:\n  - name: r\n    when: { priority: high }\n    targets: [{ model: gpt-4o }]\n  - name: r\n    when: { priority: high }\n    targets: [{ model: gpt-4o }]\n", "routes[1]", Some(13), "defined twice with the same `when`"),
    ("+routes:\n  - name: r\n    targets: [{ model: gpt-4o, weight: 0 }]\n", "routes[0].targets[0].weight", Some(11), "at least 1"),
    ("+routes:\n  - name: r\n    when: {}\n    targets: [{ model: gpt-4o }]\n", "routes[0].when", Some(11), "is empty"),
    // durations, sizes, addresses, urls
    ("version: 1\nproviders:\n  - id: openai\n    type: openai\n    api_key_env: OPENAI_API_KEY\n    timeouts: { connect: fast }\n", "providers[0].timeouts.connect", Some(6), "not a duration"),
    ("version: 1\nproviders:\n  - id: openai\n    type: openai\n    api_key_env: OPENAI_API_KEY\n    timeouts:\n      idle: -1s\n", "providers[0].timeouts.idle", Some(7), "negative"),
    ("version: 1\nproviders:\n  - id: openai\n    type: openai\n    api_key_env: OPENAI_API_KEY\n    timeouts: { total: 0s }\n", "providers[0].timeouts.total", Some(6), "greater than 0"),
    ("+server:\n  shutdown_grace: 20\n", "server.shutdown_grace", Some(10), "no unit"),
    ("+server:\n  max_body_bytes: 10 MiBs\n", "server.max_body_bytes", Some(10), "unknown unit"),
    ("+server:\n  listen: localhost\n", "server.listen", Some(10), "not an address"),
    ("+server:\n  admin_listen: 1.2.3.4:99999\n", "server.admin_listen", Some(10), "not an address"),
    ("+server:\n  threads: 0\n", "server.threads", Some(10), "at least 1"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    base_url: ftp://example.com\n    api_key_env: OPENAI_API_KEY\n", "providers[0].base_url", Some(5), "http:// or https://"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    base_url: not a url\n    api_key_env: OPENAI_API_KEY\n", "providers[0].base_url", Some(5), "not a URL"),
    // provider types and keys
    ("version: 1\nproviders:\n  - id: p\n    type: watsonx\n    api_key_env: OPENAI_API_KEY\n", "providers[0].type", Some(4), "openai, openai_compatible, azure_openai, anthropic, gemini, vertex, bedrock"),
    ("version: 1\nproviders:\n  - id: p\n    type: anthropic\n", "providers[0]", Some(3), "needs a key"),
    ("version: 1\nproviders:\n  - id: p\n    type: azure_openai\n    api_key_env: OPENAI_API_KEY\n", "providers[0]", Some(3), "needs a base_url"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    api_key_env: NOT_SET_ANYWHERE\n", "providers[0].api_key_env", Some(5), "`NOT_SET_ANYWHERE` is not set"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    api_key_env: EMPTY_VAR\n", "providers[0].api_key_env", Some(5), "`EMPTY_VAR` is empty"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    api_key_file: /run/secrets/missing\n", "providers[0].api_key_file", Some(5), "cannot read `/run/secrets/missing`"),
    ("version: 1\nproviders:\n  - id: p\n    type: openai\n    api_key_env: OPENAI_API_KEY\n    api_key_file: /run/secrets/k\n", "providers[0]", Some(3), "set only one of `api_key_env`, `api_key_file`"),
    // gateway keys
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n    - id: a\n      key_sha256: 0000000000000000000000000000000000000000000000000000000000000000\n", "auth.keys[1].id", Some(6), "duplicate key id `a`"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_sha256: abc123\n", "auth.keys[0].key_sha256", Some(5), "64 hex digits"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      models: [chat]\n", "auth.keys[0]", Some(4), "needs one of key_env, key_file, key_sha256"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n      key_file: /k\n", "auth.keys[0]", Some(4), "set only one of `key_env`, `key_file`"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: EMPTY_VAR\n", "auth.keys[0].key_env", Some(5), "`EMPTY_VAR` is empty"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n      budget: { usd: 0, period: daily }\n", "auth.keys[0].budget.usd", Some(6), "positive"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n      budget: { usd: 5, period: yearly }\n", "auth.keys[0].budget.period", Some(6), "unknown variant `yearly`"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n      rpm: 0\n", "auth.keys[0].rpm", Some(6), "at least 1"),
    ("version: 1\nauth:\n  keys:\n    - id: a\n      key_env: SUPPORT_APP_KEY\n      models: ['[bad']\n", "auth.keys[0].models[0]", Some(6), "bad glob"),
    ("version: 1\nauth: { keys: [] }\n", "auth", Some(2), "at least one key"),
    ("version: 1\nserver:\n  listen: 0.0.0.0:8080\n", "auth", None, "auth is required when listening beyond loopback"),
    // models and state
    ("+    pricing: { input_per_mtok: -1, output_per_mtok: 2 }\n", "models[0].pricing.input_per_mtok", Some(9), "0 or more"),
    ("+    context_window: 1000\n    max_output_tokens: 2000\n", "models[0].max_output_tokens", Some(10), "larger than context_window"),
    ("+state:\n  backend: redis\n", "state", Some(9), "needs `url_env`"),
    ("+state:\n  backend: redis\n  url_env: NO_REDIS\n", "state.url_env", Some(11), "`NO_REDIS` is not set"),
    ("+state:\n  backend: redis\n  url: http://redis:6379\n", "state.url", Some(11), "redis://"),
    ("+state:\n  backend: redis\n  url: redis://redis:6379\n  timeout: 0s\n", "state.timeout", Some(12), "more than 0"),
    ("+state:\n  backend: redis\n  url: redis://redis:6379\n  timeout: 1m\n", "state.timeout", Some(12), "at most 10s"),
    ("+state:\n  backend: memory\n  timeout: 1s\n", "state.timeout", Some(11), "only used with `backend: redis`"),
];

fn env() -> MapEnv {
    example_env().with_var("EMPTY_VAR", "  ")
}

#[test]
fn invalid_configs_report_path_and_line() {
    let mut failures = Vec::new();
    for (yaml, path, line, fragment) in CASES {
        let text = match yaml.strip_prefix('+') {
            Some(tail) => format!("{BASE}{tail}"),
            None => (*yaml).to_owned(),
        };
        let found = issues(&text, &env());
        let hit = found
            .iter()
            .any(|i| i.path == *path && i.line == *line && i.message.contains(fragment));
        if !hit {
            failures.push(format!(
                "--- expected {path} (line {line:?}) ~ {fragment:?}\n{text}got: {found:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reports_every_mistake_not_just_the_first() {
    let yaml = r#"
version: 1
providers:
  - id: openai
    type: openai
    api_key_env: OPENAI_API_KEY
    timeouts: { connect: soon }
models:
  - id: gpt-4o
    provider: openia
routes:
  - name: chat
    targets: [{ model: gpt-4o, weight: 0 }]
"#;
    let found = issues(yaml, &env());
    let paths: Vec<_> = found.iter().map(|i| (i.path.as_str(), i.line)).collect();
    assert_eq!(
        paths,
        [
            ("providers[0].timeouts.connect", Some(6)),
            ("models[0].provider", Some(9)),
            ("routes[0].targets[0].weight", Some(12)),
        ]
    );
}

#[test]
fn type_errors_in_several_entries_are_all_reported() {
    let yaml = "+  - id: m2\n    provider: [openai]\nroutes:\n  - name: r\n    targets: [{ model: gpt-4o, weight: heavy }]\nserver:\n  threads: many\n";
    let text = format!("{BASE}{}", &yaml[1..]);
    let found = issues(&text, &env());
    let paths: Vec<_> = found.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "models[1].provider",
            "routes[0].targets[0].weight",
            "server.threads"
        ]
    );
}

#[test]
fn display_prints_one_issue_per_line() {
    let err = crate::Config::from_yaml_str("version: 3\nservr: 1\n", &env())
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err.issues.len(),
        2,
        "a top-level unknown key is reported with the rest (here the version)"
    );
    let err = ConfigError::new(issues("version: 2\nauth: { keys: [] }\n", &env()));
    assert_eq!(
        err.to_string(),
        "version (line 1): unsupported version 2; this switchyard reads version 1\n\
         auth (line 2): list at least one key under auth.keys, or write auth: {disabled: true}"
    );
}

#[test]
fn disabled_auth_with_keys_is_an_error_and_listen_rule_holds() {
    let yaml =
        "version: 1\nauth:\n  disabled: true\n  keys: [{ id: a, key_env: SUPPORT_APP_KEY }]\n";
    let found = issues(yaml, &env());
    assert_eq!(found[0].path, "auth.disabled");
    let ok = "version: 1\nserver: { listen: 0.0.0.0:8080 }\nauth: { disabled: true }\n";
    assert!(parse(ok, &env()).is_ok_and(|c| c.auth.is_none()));
}

#[test]
fn check_reports_unknown_keys_with_the_name_problems() {
    let text = "version: 1\nservr:\n  listen: 127.0.0.1:8080\nproviders:\n  - id: openai\n    type: openai\n    api_key_env: NOT_SET\n    colour: blue\nmodels:\n  - id: gpt\n    provider: opena\n";
    let err = crate::Config::from_yaml_str(text, &env()).unwrap_err();
    let all = err.to_string();
    for want in ["servr", "colour", "opena"] {
        assert!(
            all.contains(want),
            "{want} missing from one run's report:\n{all}"
        );
    }
}
