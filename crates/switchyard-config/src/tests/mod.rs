//! Crate tests: the CONFIG.md example, a table of invalid configs, secrets, catalog fills
//! and the embedded default. Helpers live here.

mod bedrock_tests;
mod catalog_fill_tests;
mod default_tests;
mod example_tests;
mod invalid_tests;
mod preset_tests;
mod secret_tests;
mod telemetry_tests;

use crate::{Config, ConfigIssue, MapEnv};

/// The example from CONFIG.md, verbatim.
pub(crate) const EXAMPLE: &str = include_str!("config_md_example.yaml");

/// Secret values used by the tests; asserted never to appear in output.
pub(crate) const SECRETS: [&str; 5] = [
    "sk-openai-TOP-SECRET-1",
    "sk-ant-TOP-SECRET-2",
    "gm-TOP-SECRET-3",
    "ds-TOP-SECRET-4",
    "support-app-TOP-SECRET-5",
];

/// Every variable the example names.
pub(crate) fn example_env() -> MapEnv {
    MapEnv::new()
        .with_var("OPENAI_API_KEY", SECRETS[0])
        .with_var("ANTHROPIC_API_KEY", SECRETS[1])
        .with_var("GEMINI_API_KEY", SECRETS[2])
        .with_var("DEEPSEEK_API_KEY", SECRETS[3])
        .with_var("SUPPORT_APP_KEY", SECRETS[4])
}

/// Parses `yaml` (a leading newline is dropped so raw strings can start on their own line).
pub(crate) fn parse(yaml: &str, env: &MapEnv) -> Result<Config, Vec<ConfigIssue>> {
    let yaml = yaml.strip_prefix('\n').unwrap_or(yaml);
    Config::from_yaml_str(yaml, env).map_err(|e| e.issues)
}

/// The issues of a config that must fail.
pub(crate) fn issues(yaml: &str, env: &MapEnv) -> Vec<ConfigIssue> {
    match parse(yaml, env) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(issues) => issues,
    }
}
