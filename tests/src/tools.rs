//! External programs a test needs (redis-server, openssl, helm, promtool, a browser…). Where
//! one is missing, a developer's run skips that test with a note, but CI (`CI=true`, which
//! `.ci/run` sets) fails it: a test that cannot run must not pass there.

use std::process::{Command, Stdio};

/// Whether `program --version`-style `args` run and exit 0.
pub fn installed(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this run is CI (`CI` set to `true` or `1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// True when `program` (checked with `args`) is installed. Otherwise a note and false on a
/// developer's machine (the caller returns early), and a panic naming the program in CI.
pub fn require(program: &str, args: &[&str], test: &str) -> bool {
    if installed(program, args) {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: `{program}` is not installed, and CI=true: install it (.ci/run does) \
         instead of letting this test pass without running"
    );
    eprintln!("{test}: `{program}` is not installed: skipped (CI fails instead)");
    false
}
