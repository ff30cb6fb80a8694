//! Hot reload: by overwrite, by rename, by a Kubernetes ConfigMap symlink swap and by SIGHUP;
//! an invalid file keeps the old config serving; a stream in flight finishes on the config it
//! started with.

use std::time::Duration;

use crate::common::*;
use switchyard_e2e::{configmap_write, openai, Gate, Gateway, MockProvider, Reply};

/// Providers `a` and `b` (at `b`), and route `chat` pointing at `target`.
fn with_provider_a(a: RawProvider, b: &str, target: &str) -> Config {
    Config::new()
        .provider(a)
        .provider(provider("b", "openai", &format!("{b}/v1")))
        .model(model("model-a", "a"))
        .model(model("model-b", "b"))
        .route("chat", &[target])
}

/// Providers `a` and `b` at those bases, and route `chat` pointing at `target`.
fn config(a: &str, b: &str, target: &str) -> Config {
    with_provider_a(provider("a", "openai", &format!("{a}/v1")), b, target)
}

async fn answering_model(gw: &Gateway) -> String {
    let resp = ask(gw, "chat").await;
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

fn start(config: Config) -> switchyard_e2e::GatewayBuilder {
    gateway_for(&config)
}

#[tokio::test]
async fn reloads_on_overwrite_and_on_rename() {
    let (a, b) = mocks().await;
    let gw = start(config(&a.base(), &b.base(), "model-a")).start();
    assert_eq!(answering_model(&gw).await, "model-a");

    std::fs::write(
        &gw.config_path,
        config(&a.base(), &b.base(), "model-b").yaml(),
    )
    .unwrap();
    wait_for_model(&gw, "model-b").await;

    let tmp = gw.dir().join("next.yaml.tmp");
    std::fs::write(&tmp, config(&a.base(), &b.base(), "model-a").yaml()).unwrap();
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
    let next = config(&a.base(), &b.base(), "model-b").yaml();
    configmap_write(gw.dir(), "switchyard.yaml", &next, 2);
    wait_for_model(&gw, "model-b").await;
    let again = config(&a.base(), &b.base(), "model-a").yaml();
    configmap_write(gw.dir(), "switchyard.yaml", &again, 3);
    wait_for_model(&gw, "model-a").await;
}

#[tokio::test]
async fn sighup_rereads_key_files() {
    let (a, b) = mocks().await;
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), "sk-file-key-one\n").unwrap();
    let from_file = RawProvider {
        api_key_env: None,
        api_key_file: Some(key_file.path().display().to_string()),
        ..provider("a", "openai", &format!("{}/v1", a.base()))
    };
    let gw = start(with_provider_a(from_file, &b.base(), "model-a")).start();
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
    let broken = config(&a.base(), &b.base(), "model-zzz").yaml();
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
    // Reload once the stream is in flight: the upstream has the request.
    let in_flight = stream_in_flight(&gw, "chat", &a).await;
    std::fs::write(
        &gw.config_path,
        config(&a.base(), &b.base(), "model-b").yaml(),
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
