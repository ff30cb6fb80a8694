//! The admin status page through the binary: `/status` JSON (routes and targets in order with
//! breaker, latency, error rate and cooldown; keys with budgets; config sha and reload history,
//! a reverted bad edit clearing the failed-reload gauge), the process and build metrics, and
//! `/` loaded in headless Chromium (Debian's `chromium`): its script refreshes the tables from
//! `/status`, and a screenshot lands in `target/artifacts/` for CI to keep.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::*;
use serde_json::json;
use switchyard_e2e::config::RawStrategy;
use switchyard_e2e::{openai, Gateway, MockProvider, RefusedPort, Reply};

/// Route `chat`: a dead target first (nothing listens on its port), then the mock; the dead
/// one's breaker opens after one failure. Key `app` has a 10 USD monthly budget.
fn config(mock: &str, dead_port: u16) -> Config {
    let breaker = filter_with(
        "circuit_breaker",
        json!({"failure_threshold": 1, "open_for": "60s"}),
    );
    let retry = filter_with("retry", json!({"attempts": 3, "backoff": "10ms"}));
    Config::new()
        .app_key(|k| k.budget = Some(budget(10.0, RawPeriod::Monthly)))
        .provider(provider(
            "dead",
            "openai",
            &format!("http://127.0.0.1:{dead_port}/v1"),
        ))
        .provider(provider("mock", "openai", &format!("{mock}/v1")))
        // Priced, so a budgeted key may reach it.
        .model(model("gone", "dead").priced(1.0, 2.0))
        .model(model("live", "mock").priced(1.0, 2.0))
        .route("chat", &["gone", "live"])
        .strategy("chat", RawStrategy::Priority)
        .filters([
            "auth".into(),
            "rate_limit".into(),
            "route".into(),
            breaker,
            retry,
            "translate".into(),
            "metrics".into(),
        ])
}

/// The value of an unlabelled metric (its sample line, not its HELP text).
fn sample(gw: &Gateway, name: &str) -> Option<f64> {
    let m = gw.metrics();
    let line = m
        .lines()
        .find(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with(' ')))?;
    line[name.len()..].trim().parse().ok()
}

fn admin_json(gw: &Gateway, path: &str) -> serde_json::Value {
    let text = switchyard_e2e::http::get_text(&format!("{}{path}", gw.admin)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

async fn started() -> (MockProvider, Gateway, RefusedPort) {
    let mock = MockProvider::start(Reply::json(&openai::completion("hello", 10, 5))).await;
    let dead = RefusedPort::new();
    let gw = gateway_for(&config(&mock.base(), dead.port)).start();
    for _ in 0..3 {
        let r = ask(&gw, "chat").await;
        assert_eq!(r.status(), 200, "{}", gw.stderr());
    }
    (mock, gw, dead)
}

#[tokio::test]
async fn status_json_shows_routes_breakers_budgets_and_reload_history() {
    let (mock, gw, dead) = started().await;
    // Attempts are counted as the request completes, which may trail the client's answer.
    let counted = gw.eventually(Duration::from_secs(5), || {
        admin_json(&gw, "/status")["targets"][1]["recent_attempts"] == 3
    });
    assert!(counted, "{:#}", admin_json(&gw, "/status"));
    let s = admin_json(&gw, "/status");
    let targets = s["routes"][0]["targets"].as_array().unwrap();
    assert_eq!(s["routes"][0]["name"], "chat");
    assert_eq!(
        targets
            .iter()
            .map(|t| t["model"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["gone", "live"],
        "targets in the route's order"
    );
    assert_eq!(targets[0]["breaker"], "open", "{s:#}");
    assert_eq!(targets[0]["recent_error_rate"], 1.0, "{s:#}");
    assert_eq!(targets[1]["breaker"], "closed");
    assert_eq!(targets[1]["recent_error_rate"], 0.0);
    assert_eq!(targets[1]["recent_attempts"], 3);
    assert!(
        targets[1]["latency_ms_avg"].as_f64().unwrap() >= 0.0,
        "{s:#}"
    );
    assert!(targets[1].get("cooldown_seconds").is_some());
    let key = &s["keys"][0];
    assert_eq!(key["id"], "app");
    assert_eq!(key["budget"]["usd"], 10.0);
    assert!(
        key["spent_usd_since_start"].as_f64().unwrap() > 0.0,
        "{s:#}"
    );
    assert_eq!(s["config"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(s["reloads"][0]["result"], "loaded");
    assert!(s["last_reload_error"].is_null());

    // A bad edit is rejected; putting the file back clears the failed-reload gauge.
    let good = std::fs::read_to_string(&gw.config_path).unwrap();
    let bad = good.replace("provider: mock", "provider: nowhere");
    std::fs::write(&gw.config_path, &bad).unwrap();
    let gauge = "switchyard_config_last_reload_success";
    let rejected = gw.eventually(Duration::from_secs(5), || sample(&gw, gauge) == Some(0.0));
    assert!(rejected, "{}", gw.metrics());
    let s = admin_json(&gw, "/status");
    let err = s["last_reload_error"]["errors"][0].as_str().unwrap();
    assert!(err.contains("nowhere"), "{err}");
    std::fs::write(&gw.config_path, &good).unwrap();
    let cleared = gw.eventually(Duration::from_secs(5), || sample(&gw, gauge) == Some(1.0));
    assert!(
        cleared,
        "a reverted bad edit must clear the gauge:\n{}",
        gw.metrics()
    );
    let s = admin_json(&gw, "/status");
    assert_eq!(s["reloads"][0]["result"], "reverted", "{s:#}");
    assert_eq!(s["reloads"][1]["result"], "rejected");
    assert_eq!(
        s["config"]["generation"], 1,
        "the config in force never changed"
    );
    drop((mock, dead));
}

#[tokio::test]
async fn process_build_and_genai_metrics_are_exported() {
    let (_mock, gw, _dead) = started().await;
    // A request leaves the in-flight gauge after its answer is written: wait for the last.
    assert!(gw.eventually(Duration::from_secs(5), || gw
        .metrics()
        .contains("switchyard_requests_in_flight 0")));
    let m = gw.metrics();
    for want in [
        "switchyard_build_info{",
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_start_time_seconds ",
        "switchyard_requests_in_flight 0",
        "switchyard_streams_in_flight 0",
        r#"gen_ai_provider_name="openai""#,
    ] {
        assert!(m.contains(want), "missing {want}:\n{m}");
    }
    let duration = m
        .lines()
        .find(|l| l.starts_with("switchyard_request_duration_seconds_bucket"))
        .unwrap();
    assert!(
        !duration.contains("key_id"),
        "histograms carry no key_id: {duration}"
    );
}

/// The artifacts directory CI keeps: `target/artifacts` of the workspace.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Runs headless Chromium on `url` with `extra` flags; virtual time lets the page's script
/// fetch `/status` and render before the DOM is dumped or the screenshot taken.
fn headless(chrome: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=4000",
            "--window-size=1280,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[tokio::test]
async fn the_status_page_renders_and_refreshes_in_headless_chromium() {
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed (apt-get install chromium); CI must run this test"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let (_mock, gw, _dead) = started().await;
    let url = format!("{}/", gw.admin);
    let profile = tempfile::tempdir().unwrap();
    let (chrome2, profile2, url2) = (chrome.clone(), profile.path().to_owned(), url.clone());
    let out =
        tokio::task::spawn_blocking(move || headless(&chrome2, &profile2, &["--dump-dom"], &url2))
            .await
            .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        dom.contains("<table id=\"routes\">"),
        "no DOM from chromium: {}\n{dom}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The script ran: it fetched /status and re-rendered (body data-refreshed counts renders).
    assert!(
        dom.contains("data-refreshed=\""),
        "the page's script never refreshed:\n{dom}"
    );
    assert!(
        dom.contains("<span id=\"stale\" hidden=\"\">"),
        "a refresh failed: {dom}"
    );
    assert!(
        dom.contains("<td class=\"breaker-open\">open</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td class=\"breaker-closed\">closed</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td>100.0 %</td>"),
        "the dead target's error rate: {dom}"
    );
    assert!(dom.contains("<td>app</td>"), "{dom}");
    assert!(dom.contains("reload-loaded"), "{dom}");
    let shot = artifacts().join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    let out = tokio::task::spawn_blocking(move || {
        headless(&chrome, profile.path(), &[shot_arg.as_str()], &url)
    })
    .await
    .unwrap();
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
