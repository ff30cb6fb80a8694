//! Usage records through the real binary: the file sink (`server.usage_log: <path>`) gets one
//! line per request with the fields CONFIG.md promises, tokens equal to what the upstream
//! reported (cached ones included, streaming or not), and cost = tokens × pricing.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};
use switchyard_e2e::{openai, MockProvider, Reply};

fn request_id(r: &reqwest::Response) -> String {
    r.headers()["x-request-id"].to_str().unwrap().to_string()
}

/// Records in the order of the requests (they are written as requests end, which two
/// back-to-back requests on different workers may do in either order).
fn in_order(recs: &[Value], ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            recs.iter()
                .find(|r| r["request_id"] == id.as_str())
                .unwrap_or_else(|| panic!("no record for {id} in {recs:?}"))
                .clone()
        })
        .collect()
}

fn read_records(path: &std::path::Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let recs: Vec<Value> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if recs.len() >= n || Instant::now() > deadline {
            return recs;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[tokio::test]
async fn file_sink_gets_one_record_per_request_with_exact_tokens_and_cost() {
    let mut with_cache = openai::completion("Hello!", 120, 30);
    with_cache["usage"]["prompt_tokens_details"]["cached_tokens"] = json!(100);
    let mock = MockProvider::start(Reply::json(&with_cache)).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("usage.jsonl");
    let config = Config::new()
        .server(|s| s.usage_log = Some(log.display().to_string()))
        .provider(provider("mock", "openai", &format!("{}/v1", mock.base())))
        .model(
            model("gpt-4o-mini", "mock")
                .priced(0.15, 0.60)
                .cached_input_priced(0.075),
        )
        .route("chat", &["gpt-4o-mini"]);
    let gw = gateway_for(&config).start();

    let r = ask(&gw, "chat").await;
    assert_eq!(r.status(), 200);
    let mut ids = vec![request_id(&r)];
    let r = post(
        &gw.base,
        "/v1/messages",
        &json!({"model": "chat", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    ids.push(request_id(&r));
    mock.push(Reply::sse(&openai::stream(&["Hel", "lo"], 40, 7)));
    let r = ask_stream(&gw, "chat").await;
    assert_eq!(r.status(), 200);
    ids.push(request_id(&r));
    r.text().await.unwrap();

    let recs = read_records(&log, 3);
    assert_eq!(recs.len(), 3, "{recs:?}");
    let recs = in_order(&recs, &ids);
    assert!(
        gw.usage_records(0).is_empty(),
        "stdout has no usage lines when a file is set"
    );
    for r in &recs {
        for field in [
            "type",
            "request_id",
            "time",
            "key_id",
            "route",
            "model",
            "provider",
            "status",
            "attempts",
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "cost_usd",
            "duration_ms",
            "ttft_ms",
        ] {
            assert!(r.get(field).is_some(), "{field} missing in {r}");
        }
        assert_eq!(r["type"], "usage");
        assert_eq!(r["key_id"], "app");
        assert_eq!(r["route"], "chat");
        assert_eq!(r["model"], "gpt-4o-mini");
        assert_eq!(r["provider"], "mock");
        assert_eq!(r["status"], 200);
        assert_eq!(r["attempts"], 1);
        assert!(r["time"].as_str().unwrap().ends_with('Z'));
        assert!(r["duration_ms"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(recs[0]["endpoint"], "chat_completions");
    assert_eq!(recs[1]["endpoint"], "messages");
    for r in &recs[..2] {
        assert_eq!(r["prompt_tokens"], 120);
        assert_eq!(r["completion_tokens"], 30);
        assert_eq!(r["cached_tokens"], 100);
        let want = (20.0 * 0.15 + 100.0 * 0.075 + 30.0 * 0.60) / 1e6;
        assert!(
            (r["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12,
            "{r}"
        );
    }
    let s = &recs[2];
    assert_eq!(s["stream"], true);
    assert_eq!(s["prompt_tokens"], 40);
    assert_eq!(s["completion_tokens"], 7);
    assert!((s["cost_usd"].as_f64().unwrap() - (40.0 * 0.15 + 7.0 * 0.60) / 1e6).abs() < 1e-12);

    let m = gw.metrics();
    let total = |ty: &str| -> f64 {
        let prefix = format!(
            "switchyard_tokens_total{{key_id=\"app\",model=\"gpt-4o-mini\",provider=\"mock\",route=\"chat\",type=\"{ty}\"}}"
        );
        m.lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{prefix} in\n{m}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(total("prompt"), 280.0);
    assert_eq!(total("completion"), 67.0);
    assert_eq!(total("cached"), 200.0);
}

fn gemini_chunk(text: &str, finish: Option<&str>, prompt: u64, output: u64) -> Value {
    let mut candidate =
        json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output},
        "modelVersion": "gemini-2.0-flash",
        "responseId": "9LJVaNWdCJq_7M8P2ZfJuQo"
    })
}

#[tokio::test]
async fn usage_equals_what_anthropic_and_gemini_upstreams_report() {
    use switchyard_e2e::anthropic;
    let claude = MockProvider::start(Reply::json(&anthropic::message("Hi!", 25, 6))).await;
    let gemini = MockProvider::start(Reply::json(&gemini_chunk("Hi!", Some("STOP"), 11, 3))).await;
    let config = Config::new()
        .provider(provider("a", "anthropic", &claude.base()))
        .provider(provider("g", "gemini", &gemini.base()))
        .model(
            model("claude", "a")
                .upstream("claude-sonnet-4-20250514")
                .priced(3.0, 15.0),
        )
        .model(
            model("gem", "g")
                .upstream("gemini-2.0-flash")
                .priced(0.1, 0.4),
        );
    let gw = gateway_for(&config).start();
    let mut ids = Vec::new();
    for (model, stream) in [
        ("claude", false),
        ("claude", true),
        ("gem", false),
        ("gem", true),
    ] {
        if stream && model == "claude" {
            claude.push(Reply::sse(&anthropic::stream(&["Hel", "lo"], 40, 9)));
        }
        if stream && model == "gem" {
            gemini.push(Reply::sse(&[
                format!("data: {}\r\n\r\n", gemini_chunk("Hel", None, 13, 1)),
                format!("data: {}\r\n\r\n", gemini_chunk("lo", Some("STOP"), 13, 5)),
            ]));
        }
        let r = post(
            &gw.base,
            "/v1/chat/completions",
            &openai::request(model, stream),
        )
        .await;
        assert_eq!(r.status(), 200, "{model} {stream}");
        ids.push(request_id(&r));
        r.text().await.unwrap();
    }
    let recs = gw.usage_records(4);
    assert_eq!(recs.len(), 4);
    let recs = in_order(&recs, &ids);
    let want = [
        ("claude", "a", 25, 6, 3.0, 15.0),
        ("claude", "a", 40, 9, 3.0, 15.0),
        ("gem", "g", 11, 3, 0.1, 0.4),
        ("gem", "g", 13, 5, 0.1, 0.4),
    ];
    for (r, (model, provider, p, c, pin, pout)) in recs.iter().zip(want) {
        assert_eq!(r["model"], model, "{r}");
        assert_eq!(r["provider"], provider);
        assert_eq!(r["prompt_tokens"], p, "{r}");
        assert_eq!(r["completion_tokens"], c, "{r}");
        let cost = (p as f64 * pin + c as f64 * pout) / 1e6;
        assert!(
            (r["cost_usd"].as_f64().unwrap() - cost).abs() < 1e-12,
            "{r}"
        );
    }
}
