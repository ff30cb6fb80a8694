//! A hostile state backend: a Redis that accepts connections and never answers costs a
//! request `state.timeout`, no more and no less.

use std::time::{Duration, Instant};

use crate::common::*;
use switchyard_e2e::config::{redis_state, RawOnUnavailable, Text};
use switchyard_e2e::{openai, MockProvider, Reply};

#[tokio::test]
async fn a_redis_that_never_answers_costs_a_request_state_timeout() {
    // Accepts, never answers: every call runs into its deadline.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let mock = MockProvider::start(Reply::json(&openai::completion("ok", 5, 5))).await;
    let mut state = redis_state("REDIS_URL", RawOnUnavailable::FailClosed);
    state.timeout = Some(Text::from("1500ms"));
    let config = one_model(&mock.base())
        .app_key(|k| k.rpm = Some(1000))
        .state(state);
    let gw = gateway_for(&config).env("REDIS_URL", &url).start();
    let started = Instant::now();
    let r = post(
        &gw.base,
        "/v1/chat/completions",
        &openai::request("gpt-4o-mini", false),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(r.status(), 429, "{}", gw.stderr());
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(gw.metrics().contains("switchyard_state_errors_total"));
    held.abort();
}
