//! `type: bedrock`: region, default endpoint, credentials from the standard or named
//! variables (session token optional unless named), and mistakes reported clearly.

use super::{issues, parse};
use crate::{MapEnv, ProviderKind};

fn yaml(provider_extra: &str) -> String {
    format!(
        "version: 1\nauth: {{ disabled: true }}\nproviders:\n  - id: aws\n    type: bedrock\n{provider_extra}models:\n  - {{ id: claude, provider: aws, model: us.anthropic.claude-sonnet-4-5-20250929-v1:0 }}\n"
    )
}

fn standard() -> MapEnv {
    MapEnv::new()
        .with_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .with_var("AWS_SECRET_ACCESS_KEY", "aws-SECRET-1")
}

#[test]
fn region_sets_the_endpoint_and_standard_variables_the_credentials() {
    let cfg = parse(&yaml("    region: eu-central-1\n"), &standard()).unwrap();
    let p = &cfg.providers[0];
    assert_eq!(p.kind, ProviderKind::Bedrock);
    assert_eq!(
        p.base_url.as_str(),
        "https://bedrock-runtime.eu-central-1.amazonaws.com/"
    );
    let aws = p.aws.as_ref().unwrap();
    assert_eq!(aws.region, "eu-central-1");
    assert_eq!(aws.access_key_id.expose(), "AKIDEXAMPLE");
    assert_eq!(aws.secret_access_key.expose(), "aws-SECRET-1");
    assert!(aws.session_token.is_none());
    let shown = format!("{p:?} {}", cfg.redacted_json());
    assert!(!shown.contains("aws-SECRET-1"), "{shown}");
    assert!(shown.contains("AWS_SECRET_ACCESS_KEY"), "{shown}");
    // A session token in the standard variable is picked up.
    let env = standard().with_var("AWS_SESSION_TOKEN", "tok-SECRET-2");
    let cfg = parse(&yaml("    region: us-east-1\n"), &env).unwrap();
    let token = cfg.providers[0].aws.as_ref().unwrap().session_token.clone();
    assert_eq!(token.unwrap().expose(), "tok-SECRET-2");
}

#[test]
fn named_variables_win_and_must_exist() {
    let block = "    region: us-west-2\n    aws: { access_key_id_env: TEAM_ID, secret_access_key_env: TEAM_SECRET, session_token_env: TEAM_TOKEN }\n";
    let env = MapEnv::new()
        .with_var("TEAM_ID", "AKIDTEAM")
        .with_var("TEAM_SECRET", "team-SECRET")
        .with_var("TEAM_TOKEN", "team-TOKEN");
    let cfg = parse(&yaml(block), &env).unwrap();
    let aws = cfg.providers[0].aws.as_ref().unwrap();
    assert_eq!(aws.access_key_id.expose(), "AKIDTEAM");
    assert_eq!(aws.session_token.as_ref().unwrap().expose(), "team-TOKEN");
    let env = MapEnv::new()
        .with_var("TEAM_ID", "AKIDTEAM")
        .with_var("TEAM_SECRET", "team-SECRET");
    let found = issues(&yaml(block), &env);
    assert!(
        found
            .iter()
            .any(|i| i.path == "providers[0].aws.session_token_env"
                && i.message.contains("`TEAM_TOKEN` is not set")),
        "{found:?}"
    );
}

#[test]
fn mistakes_are_reported() {
    let cases = [
        ("", standard(), "needs `region`"),
        ("    region: US East\n", standard(), "not an AWS region"),
        (
            "    region: us-east-1\n",
            MapEnv::new(),
            "`AWS_ACCESS_KEY_ID` is not set",
        ),
        (
            "    region: us-east-1\n    api_key_env: AWS_SECRET_ACCESS_KEY\n",
            standard(),
            "signs with AWS credentials",
        ),
    ];
    for (extra, env, want) in cases {
        let found = issues(&yaml(extra), &env);
        assert!(
            found.iter().any(|i| i.message.contains(want)),
            "{want}: {found:?}"
        );
    }
    let other = "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: o, type: openai, api_key_env: K, region: us-east-1 }\n";
    let found = issues(other, &MapEnv::new().with_var("K", "v"));
    assert!(
        found
            .iter()
            .any(|i| i.message.contains("only for `type: bedrock`")),
        "{found:?}"
    );
}
