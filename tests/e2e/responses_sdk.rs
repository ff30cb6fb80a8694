//! The official OpenAI Python SDK (`responses.create`, `.stream`, `.parse`, strict response
//! validation) against the real binary and OpenAI-, Anthropic- and Gemini-type mock upstreams;
//! also count_tokens per provider type, the output-limit clamp and `HEAD /`. The checks live in
//! `tests/e2e/python/responses_sdk.py`; `.ci/run` installs the pinned SDK. Without Python or the
//! SDK the test is skipped locally and fails in CI (`CI` set).

use std::process::Command;

#[test]
fn openai_python_sdk_responses_through_the_gateway() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/e2e/python/responses_sdk.py"
    );
    let probe = Command::new("python3")
        .args(["-c", "import openai, httpx, pydantic"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = "python3 with the `openai` package is needed (pip install openai==3.57.0)";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    let out = Command::new("python3")
        .arg(script)
        .env("SWITCHYARD_BIN", env!("CARGO_BIN_EXE_switchyard"))
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("checks passed"), "{stdout}");
}
