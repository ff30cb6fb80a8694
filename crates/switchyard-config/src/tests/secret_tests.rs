//! Secrets never show: not in Debug, Display, redacted JSON, warnings or errors.

use super::{example_env, issues, parse, EXAMPLE, SECRETS};
use crate::{Env, MapEnv, SystemEnv};

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS
        .iter()
        .chain(["sk-literal-VALUE-6", "file-SECRET-7"].iter())
    {
        assert!(!text.contains(s), "{what} leaks {s}:\n{text}");
    }
}

const WITH_ALL_SOURCES: &str = r#"
version: 1
auth:
  keys:
    - { id: env, key_env: SUPPORT_APP_KEY }
    - { id: file, key_file: /run/secrets/gw }
    - { id: lit, key: sk-literal-VALUE-6 }
    - { id: hash, key_sha256: "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789" }
providers:
  - { id: openai, type: openai, api_key_env: OPENAI_API_KEY }
  - { id: anthropic, type: anthropic, api_key_file: /run/secrets/anthropic }
  - id: lit
    type: openai_compatible
    base_url: https://llm.internal/v1
    api_key: sk-literal-VALUE-6
    headers: { x-extra-auth: sk-literal-VALUE-6 }
state:
  backend: redis
  url_env: REDIS_URL
"#;

fn env() -> MapEnv {
    example_env()
        .with_file("/run/secrets/gw", "file-SECRET-7\n")
        .with_file("/run/secrets/anthropic", "file-SECRET-7\r\n")
        .with_var("REDIS_URL", "redis://:ds-TOP-SECRET-4@redis:6379")
}

#[test]
fn debug_display_and_redacted_json_show_no_secret() {
    for yaml in [EXAMPLE, WITH_ALL_SOURCES] {
        let c = parse(yaml, &env()).expect("valid");
        assert_clean("Debug", &format!("{c:?}"));
        assert_clean("Display", &c.to_string());
        assert_clean("redacted_json", &c.redacted_json().to_string());
        assert_clean("warnings", &c.warnings.join("\n"));
        assert_clean("notes", &c.notes.join("\n"));
    }
}

#[test]
fn redacted_json_shows_sources() {
    let c = parse(WITH_ALL_SOURCES, &env()).expect("valid");
    let j = c.redacted_json();
    let keys = &j["auth"]["keys"];
    assert_eq!(keys[0]["key"]["env"], "SUPPORT_APP_KEY");
    assert_eq!(keys[1]["key"]["file"], "/run/secrets/gw");
    assert_eq!(keys[2]["key"], "<literal, redacted>");
    assert_eq!(keys[3]["key_sha256"], "sha256:abcdef01…");
    let p = &j["providers"];
    assert_eq!(p[0]["api_key"]["env"], "OPENAI_API_KEY");
    assert_eq!(p[1]["api_key"]["file"], "/run/secrets/anthropic");
    assert_eq!(p[2]["api_key"], "<literal, redacted>");
    assert_eq!(p[2]["headers"]["x-extra-auth"], "<redacted>");
    assert_eq!(j["state"]["url"], "<redacted>");
    assert_eq!(j["filters"][7]["name"], "metrics");
}

#[test]
fn the_redis_call_timeout_defaults_to_100ms_and_can_be_set() {
    let timeout = |c: &crate::Config| match c.state {
        crate::StateConfig::Redis { timeout, .. } => Some(timeout),
        crate::StateConfig::Memory => None,
    };
    let c = parse(WITH_ALL_SOURCES, &env()).expect("valid");
    assert_eq!(timeout(&c), Some(std::time::Duration::from_millis(100)));
    assert_eq!(c.redacted_json()["state"]["timeout"], "100ms");
    let yaml = WITH_ALL_SOURCES.replace(
        "  url_env: REDIS_URL\n",
        "  url_env: REDIS_URL\n  timeout: 250ms\n",
    );
    let c = parse(&yaml, &env()).expect("valid");
    assert_eq!(timeout(&c), Some(std::time::Duration::from_millis(250)));
    assert_eq!(c.redacted_json()["state"]["timeout"], "250ms");
}

#[test]
fn file_secrets_are_trimmed_and_hashed() {
    let c = parse(WITH_ALL_SOURCES, &env()).expect("valid");
    let anthropic = c.providers[1].api_key.as_ref().expect("key");
    assert_eq!(anthropic.expose(), "file-SECRET-7");
    let keys = &c.auth.as_ref().expect("auth").keys;
    assert_eq!(keys[1].sha256, crate::sha256_of("file-SECRET-7"));
    assert_eq!(keys[3].sha256[0], 0xab, "uppercase hex accepted");
}

#[test]
fn literal_keys_warn_without_the_value() {
    let c = parse(WITH_ALL_SOURCES, &env()).expect("valid");
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].starts_with("auth.keys[2].key:"));
    assert!(c.warnings[0].contains("key_env or key_file"));
    assert!(c.warnings[1].starts_with("providers[2].api_key:"));
    assert!(c.warnings[1].contains("api_key_env or api_key_file"));
}

#[test]
fn errors_name_the_variable_never_the_value() {
    let yaml = "version: 1\nauth:\n  keys:\n    - { id: a, key_env: SUPPORT_APP_KEY }\n    - { id: b, key_env: SUPPORT_APP_KEY }\n";
    let found = issues(yaml, &env());
    assert_eq!(found[0].path, "auth.keys[1]");
    assert!(found[0].message.contains("same key as auth.keys[0]"));
    let text = crate::ConfigError::new(found).to_string();
    assert_clean("error", &text);
}

#[test]
fn system_env_reads_and_trims_files() {
    let dir = std::env::temp_dir().join(format!("switchyard-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("secret");
    std::fs::write(&path, "value\n").expect("write");
    assert_eq!(SystemEnv.read_file(&path).expect("read"), "value");
    assert!(SystemEnv.read_file(&dir.join("missing")).is_err());
    assert!(SystemEnv.var("SWITCHYARD_SURELY_UNSET_VARIABLE").is_none());
    std::fs::remove_dir_all(&dir).expect("cleanup");
    assert!(
        !format!("{:?}", env()).contains("TOP-SECRET"),
        "MapEnv Debug hides values"
    );
}
