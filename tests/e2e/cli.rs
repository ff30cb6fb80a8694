//! The command line: `check` reports every error with its path and line, or the chain in force;
//! `--version`; a bad config at start exits 1 with its errors.

use std::process::Command;

fn check(yaml: &str, env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sw.yaml");
    std::fs::write(&path, yaml).unwrap();
    let mut cmd = Command::new(crate::common::bin());
    cmd.arg("check").arg("--config").arg(&path).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

const GOOD: &str = "version: 1
providers:
  - id: local
    type: openai_compatible
    base_url: http://127.0.0.1:11434/v1
models:
  - id: llama
    provider: local
";

#[test]
fn check_accepts_a_valid_file_and_prints_the_chain() {
    let (ok, out) = check(GOOD, &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "auth -> rate_limit -> context_window -> route -> circuit_breaker -> retry -> translate -> metrics"
        ),
        "{out}"
    );
}

#[test]
fn check_reports_every_error_with_path_and_line() {
    let bad = "version: 1
providers:
  - id: local
    type: openai_compatible
    base_url: http://127.0.0.1:11434/v1
  - id: openai
    type: openai
    api_key_env: NOT_SET_ANYWHERE
models:
  - id: llama
    provider: nowhere
routes:
  - name: chat
    targets: [{ model: missing }]
";
    let (ok, out) = check(bad, &[]);
    assert!(!ok);
    for needle in [
        "NOT_SET_ANYWHERE",
        "line 8",
        "models[0].provider",
        "line 11",
        "missing",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
    let (ok, out) = check(
        &format!("{GOOD}filters: [rate_limit, auth, route, bogus]\n"),
        &[],
    );
    assert!(!ok);
    for needle in [
        "filters[0] (line 9)",
        "must come after `auth`",
        "filters[3]",
        "bogus",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
    let (ok, out) = check(&format!("{GOOD}unknown_key: 1\n"), &[]);
    assert!(!ok);
    assert!(
        out.contains("unknown_key") && out.contains("line 9"),
        "{out}"
    );
}

#[test]
fn check_reports_filter_errors_in_the_same_run_as_config_errors() {
    let yaml = format!(
        "{GOOD}routes:
  - name: chat
    targets: [{{ model: no-such-model }}]
filters:
  - route
  - retry:
      attempts: 0
  - circuit_breaker: {{ open_for: soon }}
  - translate
"
    );
    let (ok, out) = check(&yaml, &[]);
    assert!(!ok, "{out}");
    for needle in [
        "routes[0].targets[0].model (line 11)",
        "no-such-model",
        "filters[1].retry.attempts (line 15)",
        "at least 1",
        "filters[2].circuit_breaker.open_for (line 16)",
        "`soon` is not a duration",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in:\n{out}");
    }
}

#[test]
fn limits_without_their_filter_are_refused_not_ignored() {
    let yaml = format!(
        "{GOOD}auth:\n  keys:\n    - id: a\n      key_env: K\n      rpm: 10\nfilters: [auth, route]\n"
    );
    let (ok, out) = check(&yaml, &[("K", "secret")]);
    assert!(!ok);
    assert!(out.contains("need the `rate_limit` filter"), "{out}");
    let yaml = format!("{GOOD}auth:\n  keys:\n    - id: a\n      key_env: K\n      rpm: 10\n");
    let (ok, out) = check(&yaml, &[("K", "secret")]);
    assert!(ok, "{out}");
    assert!(out.contains("rate_limit"), "{out}");
}

#[test]
fn upstream_names_that_no_request_could_use_are_refused_with_path_and_line() {
    let yaml = |model: &str| {
        format!(
            "version: 1
providers:
  - id: goog
    type: gemini
    base_url: http://127.0.0.1:9/
    api_key_env: K
  - id: az
    type: azure_openai
    base_url: http://127.0.0.1:9/
    api_key_env: K
models:
  - id: fine
    provider: goog
    model: gemini-2.0-flash
  - id: broken
    provider: {model}
"
        )
    };
    let env = [("K", "secret")];
    for (target, needle) in [
        ("goog\n    model: ../x", "dot segment"),
        ("goog\n    model: \"gemini?key=1\"", "`?` or `#`"),
        ("az\n    model: \"dep#x\"", "`?` or `#`"),
        ("az\n    model: a/b", "`/`"),
    ] {
        let (ok, out) = check(&yaml(target), &env);
        assert!(!ok, "accepted {target}: {out}");
        for n in ["models[1].model", "line 17", "model `broken`", needle] {
            assert!(out.contains(n), "missing `{n}` for {target} in:\n{out}");
        }
    }
    // A name without `model:` is its id, and the error points there.
    let (ok, out) = check(
        &yaml("goog").replace("  - id: broken", "  - id: \"x?y\""),
        &env,
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("models[1].id") && out.contains("line 15"),
        "{out}"
    );
    let (ok, out) = check(&yaml("goog\n    model: models/gemini-2.0-flash"), &env);
    assert!(ok, "{out}");
}

#[test]
fn version_and_bad_start() {
    let out = Command::new(crate::common::bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("switchyard "));
    let out = Command::new(crate::common::bin())
        .args(["--config", "/nonexistent/switchyard.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/switchyard.yaml"));
}
