//! Hot reload: by overwrite, by rename, by a Kubernetes ConfigMap symlink swap and by SIGHUP;
//! an invalid file keeps the old config serving; a stream in flight finishes on the config it
//! started with.

use std::time::Duration;

use crate::common::*;
use switchyard_e2e::{configmap_write, openai, Gate, Gateway, MockProvider, Reply};

/// Providers `a` and `b`, and route `chat` pointing at `target`.
fn config(a: &str, b: &str, target: &str) -> String {
    format!(
        r#"version: 1
server:
  listen: 127.0.0.1:{{port}}
  admin_listen: 127.0.0.1:{{admin_port}}
  shutdown_grace: 1s
auth:
  keys:
    - id: app
      key_env: CLIENT_KEY
providers:
  - id: a
    type: openai
    base_url: {a}/v1
    api_key_env: PROVIDER_KEY
  - id: b
    type: openai
    base_url: {b}/v1
    api_key_env: PROVIDER_KEY
models:
  - id: model-a
    provider: a
  - id: model-b
    provider: b
routes:
  - name: chat
    targets: [{{ model: {target} }}]
"#
    )
}

/// The text the gateway was started with, with its ports filled in (from its admin URL).
fn with_ports(gw: &Gateway, yaml: &str) -> String {
    let text = std::fs::read_to_string(&gw.config_path).unwrap();
    let listen = text
        .lines()
        .find(|l| l.contains("  listen:"))
        .unwrap()
        .to_string();
    let admin = text
        .lines()
        .find(|l| l.contains("admin_listen:"))
        .unwrap()
        .to_string();
    yaml.lines()
        .map(|l| {
            if l.contains("  listen:") {
                listen.clone()
            } else if l.contains("admin_listen:") {
                admin.clone()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn answering_model(gw: &Gateway) -> String {
    let resp = post(
        &gw.base,
        "/v1/chat/completions",
        &openai::request("chat", false),
    )
    .await;
    assert_eq!(resp.status(), 200);
    resp.headers()["x-switchyard-model"]
        .to_str()
        .unwrap()
        .to_string()
}

async fn wait_for_model(gw: &Gateway, want: &str) {
    for _ in 0..100 {
        if answering_model(gw).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("route never moved to {want}:\n{}", gw.stderr());
}

async fn mocks() -> (MockProvider, MockProvider) {
    (
        MockProvider::start(Reply::json(&openai::completion("a", 1, 1))).await,
        MockProvider::start(Reply::json(&openai::completion("b", 1, 1))).await,
    )
}

fn start(yaml: String) -> switchyard_e2e::GatewayBuilder {
    switchyard_e2e::GatewayBuilder::new(bin(), yaml)
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("PROVIDER_KEY", PROVIDER_KEY)
}

#[tokio::test]
async fn reloads_on_overwrite_and_on_rename() {
    let (a, b) = mocks().await;
    let gw = start(config(&a.base(), &b.base(), "model-a")).start();
    assert_eq!(answering_model(&gw).await, "model-a");

    std::fs::write(
        &gw.config_path,
        with_ports(&gw, &config(&a.base(), &b.base(), "model-b")),
    )
    .unwrap();
    wait_for_model(&gw, "model-b").await;

    let tmp = gw.dir().join("next.yaml.tmp");
    std::fs::write(
        &tmp,
        with_ports(&gw, &config(&a.base(), &b.base(), "model-a")),
    )
    .unwrap();
    std::fs::rename(&tmp, &gw.config_path).unwrap();
    wait_for_model(&gw, "model-a").await;
    assert!(
        gw.metrics()
            .contains(r#"switchyard_config_reloads_total{result="success"} 2"#),
        "{}",
        gw.metrics()
    );
    assert!(gw.metrics().contains("switchyard_config_generation 3"));
}

#[tokio::test]
async fn reloads_on_a_configmap_symlink_swap() {
    let (a, b) = mocks().await;
    let gw = start(config(&a.base(), &b.base(), "model-a"))
        .configmap_layout()
        .start();
    assert_eq!(answering_model(&gw).await, "model-a");
    let next = with_ports(&gw, &config(&a.base(), &b.base(), "model-b"));
    configmap_write(gw.dir(), "switchyard.yaml", &next, 2);
    wait_for_model(&gw, "model-b").await;
    let again = with_ports(&gw, &config(&a.base(), &b.base(), "model-a"));
    configmap_write(gw.dir(), "switchyard.yaml", &again, 3);
    wait_for_model(&gw, "model-a").await;
}

#[tokio::test]
async fn sighup_rereads_key_files() {
    let (a, b) = mocks().await;
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), "sk-file-key-one\n").unwrap();
    let yaml = config(&a.base(), &b.base(), "model-a")
        .replace("    base_url: ".to_string().as_str(), "    base_url: ");
    let yaml = yaml.replacen(
        "    api_key_env: PROVIDER_KEY",
        &format!("    api_key_file: {}", key_file.path().display()),
        1,
    );
    let gw = start(yaml).start();
    answering_model(&gw).await;
    assert_eq!(
        a.received()[0].header("authorization"),
        Some("Bearer sk-file-key-one")
    );
    std::fs::write(key_file.path(), "sk-file-key-two\n").unwrap();
    gw.signal("HUP");
    let ok = gw.eventually(Duration::from_secs(5), || {
        gw.metrics().contains("switchyard_config_generation 2")
    });
    assert!(ok, "SIGHUP did not reload:\n{}", gw.stderr());
    answering_model(&gw).await;
    assert_eq!(
        a.received().last().unwrap().header("authorization"),
        Some("Bearer sk-file-key-two")
    );
}

#[tokio::test]
async fn an_invalid_file_is_rejected_and_the_old_config_keeps_serving() {
    let (a, b) = mocks().await;
    let gw = start(config(&a.base(), &b.base(), "model-a")).start();
    let broken = with_ports(&gw, &config(&a.base(), &b.base(), "model-zzz"));
    std::fs::write(&gw.config_path, broken).unwrap();
    let rejected = gw.eventually(Duration::from_secs(5), || {
        gw.metrics()
            .contains(r#"switchyard_config_reloads_total{result="failure"} 1"#)
    });
    assert!(rejected, "{}", gw.metrics());
    assert!(gw
        .metrics()
        .contains("switchyard_config_last_reload_success 0"));
    assert!(
        gw.stderr().contains("model-zzz"),
        "the log names the bad reference"
    );
    assert_eq!(answering_model(&gw).await, "model-a");
}

#[tokio::test]
async fn a_stream_in_flight_finishes_across_a_reload() {
    let events = openai::stream(&["slow ", "but ", "complete"], 3, 3);
    let gate = Gate::new();
    let held = Reply::Held {
        gate: gate.clone(),
        pieces: events.iter().map(|e| e.as_bytes().to_vec()).collect(),
    };
    let a = MockProvider::start(held).await;
    let b = MockProvider::start(Reply::json(&openai::completion("b", 1, 1))).await;
    let gw = start(config(&a.base(), &b.base(), "model-a")).start();
    let base = gw.base.clone();
    let in_flight = tokio::spawn(async move {
        post(
            &base,
            "/v1/chat/completions",
            &openai::request("chat", true),
        )
        .await
        .text()
        .await
        .unwrap()
    });
    // Reload once the stream is in flight: the upstream has the request.
    let reached = poll_until(|| a.hits(), |&n| n >= 1).await;
    assert_eq!(reached, 1, "the stream never reached the upstream");
    std::fs::write(
        &gw.config_path,
        with_ports(&gw, &config(&a.base(), &b.base(), "model-b")),
    )
    .unwrap();
    let reloaded = gw.eventually(Duration::from_secs(5), || {
        gw.metrics().contains("switchyard_config_generation 2")
    });
    assert!(reloaded);
    assert_eq!(answering_model(&gw).await, "model-b");
    assert!(!in_flight.is_finished(), "the stream outlived the reload");
    gate.open();
    let text = in_flight.await.unwrap();
    assert!(text.contains("complete"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}
