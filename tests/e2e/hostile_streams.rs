//! Hostile upstreams mid-stream, through the real binary: what a cut stream is metered at.

use std::time::Duration;

use crate::common::*;
use switchyard_e2e::{openai, MockProvider, Reply};

/// OpenAI reports usage only in a stream's last chunk; a stream the upstream resets before it
/// is metered with the output streamed so far instead of nothing.
#[tokio::test]
async fn an_openai_stream_cut_before_its_usage_chunk_is_metered_with_what_was_streamed() {
    let events = openai::stream(&["Hel", "lo", " wor", "ld"], 9, 4);
    // The role chunk and three content chunks, then a reset.
    let pieces = events[..4]
        .iter()
        .map(|e| (Duration::ZERO, e.clone().into_bytes()))
        .collect();
    let mock = MockProvider::start(Reply::Stream {
        status: 200,
        pieces,
        cut: true,
    })
    .await;
    let gw = gateway_for(&one_model(&mock.base())).start();
    let resp = post(
        &gw.base,
        "/v1/chat/completions",
        &openai::request("gpt-4o-mini", true),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains(r#""content":" wor""#), "{text}");
    assert!(text.contains("upstream_stream"), "no error event: {text}");

    let recs = gw.usage_records(1);
    assert_eq!(recs.len(), 1, "{}", gw.stdout());
    let r = &recs[0];
    // Three deltas, 9 bytes of text: about one token each.
    assert_eq!(r["completion_tokens"], 3, "{r}");
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["stream_error"].is_string(), "{r}");
}
