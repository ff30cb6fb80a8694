//! Fault injection through the real binary, for an OpenAI-type and an Anthropic-type primary,
//! streaming and not: every failure before the first byte (status codes, reset, stall before
//! and after the response head, malformed replies, a body cut short) is answered by the next
//! target; failures after the first byte end the stream with an error event; nothing waits
//! past its deadline; every request is counted once.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;
use switchyard_e2e::{anthropic, openai, Gateway, MockProvider, Reply};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    OpenAi,
    Anthropic,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    Reset,
    StallBeforeHead,
    StallAfterHead,
    Malformed,
    CutMidBody,
}

/// Every provider's deadlines: short enough that a stall is cut well within a test.
fn deadlines() -> RawTimeouts {
    timeouts(Some("1s"), Some("500ms"), Some("500ms"), Some("10s"))
}

/// Provider `id` of `kind` at `base_url`, with [`deadlines`].
fn upstream(id: &str, kind: &str, base_url: &str) -> RawProvider {
    RawProvider {
        timeouts: Some(deadlines()),
        ..provider(id, kind, base_url)
    }
}

struct Rig {
    oa: MockProvider,
    an: MockProvider,
    spare: MockProvider,
    gw: Gateway,
}

async fn rig() -> Rig {
    let unexpected =
        || Reply::status_json(500, &openai::error("unexpected call", "server_error", None));
    rig_answering(unexpected(), unexpected(), unexpected()).await
}

/// A rig whose mocks answer every request not scripted with `push` with these replies.
async fn rig_answering(oa: Reply, an: Reply, spare: Reply) -> Rig {
    let (oa, an, spare) = (
        MockProvider::start(oa).await,
        MockProvider::start(an).await,
        MockProvider::start(spare).await,
    );
    let config = Config::new()
        .provider(upstream("oa", "openai", &format!("{}/v1", oa.base())))
        .provider(upstream("an", "anthropic", &an.base()))
        .provider(upstream(
            "spare",
            "openai_compatible",
            &format!("{}/v1", spare.base()),
        ))
        .model(model("oa-primary", "oa").upstream("gpt-4o-mini"))
        .model(model("an-primary", "an").upstream("claude-sonnet-4-6"))
        .model(model("backup", "spare").upstream("backup-model"))
        .route("oa-first", &["oa-primary", "backup"])
        .route("an-first", &["an-primary", "backup"]);
    let gw = gateway_for(&config).start();
    Rig { oa, an, spare, gw }
}

impl Rig {
    fn primary(&self, kind: Kind) -> &MockProvider {
        match kind {
            Kind::OpenAi => &self.oa,
            Kind::Anthropic => &self.an,
        }
    }
}

fn route(kind: Kind) -> &'static str {
    match kind {
        Kind::OpenAi => "oa-first",
        Kind::Anthropic => "an-first",
    }
}

fn events(kind: Kind, pieces: &[&str]) -> Vec<String> {
    match kind {
        Kind::OpenAi => openai::stream(pieces, 7, 3),
        Kind::Anthropic => anthropic::stream(pieces, 7, 3),
    }
}

fn good(kind: Kind, stream: bool, text: &str) -> Reply {
    match (kind, stream) {
        (_, true) => Reply::sse(&events(kind, &[text])),
        (Kind::OpenAi, false) => Reply::json(&openai::completion(text, 7, 3)),
        (Kind::Anthropic, false) => Reply::json(&anthropic::message(text, 7, 3)),
    }
}

fn error_body(kind: Kind, status: u16) -> Value {
    match (kind, status) {
        (Kind::OpenAi, 429) => {
            openai::error("slow down", "rate_limit_error", Some("rate_limit_exceeded"))
        }
        (Kind::OpenAi, _) => openai::error("overloaded", "server_error", None),
        (Kind::Anthropic, 429) => anthropic::error("rate_limit_error", "slow down"),
        (Kind::Anthropic, _) => anthropic::error("overloaded_error", "Overloaded"),
    }
}

fn faulty(kind: Kind, stream: bool, fault: Fault) -> Reply {
    let first = events(kind, &["never"])[0].clone().into_bytes();
    match fault {
        Fault::Status(s) => Reply::status_json(s, &error_body(kind, s)),
        Fault::Reset => Reply::Reset,
        Fault::StallBeforeHead => Reply::Stall(Duration::from_secs(5)),
        Fault::StallAfterHead => Reply::Stream {
            status: 200,
            pieces: vec![(Duration::from_secs(5), first)],
            cut: false,
        },
        Fault::Malformed if stream => Reply::Stream {
            status: 200,
            pieces: vec![(Duration::ZERO, b"data: {\"choices\": [tru\n\n".to_vec())],
            cut: false,
        },
        Fault::Malformed => Reply::Whole {
            status: 200,
            content_type: "application/json",
            body: b"{\"id\": \"x\", \"choices\": [".to_vec(),
            headers: Vec::new(),
        },
        Fault::CutMidBody => {
            let whole = match good(kind, false, "never") {
                Reply::Whole { body, .. } => body,
                _ => unreachable!(),
            };
            Reply::Stream {
                status: 200,
                pieces: vec![(Duration::ZERO, whole[..whole.len() / 2].to_vec())],
                cut: true,
            }
        }
    }
}

async fn content(resp: reqwest::Response, stream: bool) -> String {
    let text = resp.text().await.unwrap();
    if stream {
        return text;
    }
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    v["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every combination of primary type and streaming, with `fault` at the primary: the
/// backup answers, two upstream requests, one usage record each, within `bound`.
async fn fails_over(fault: Fault, stream_too: bool, bound: Duration) {
    let rig = rig().await;
    let mut n = 0;
    for kind in [Kind::OpenAi, Kind::Anthropic] {
        for stream in [false, true] {
            if stream && !stream_too {
                continue;
            }
            let primary = rig.primary(kind);
            let (p0, s0) = (primary.hits(), rig.spare.hits());
            primary.push(faulty(kind, stream, fault));
            rig.spare.push(good(Kind::OpenAi, stream, "from backup"));
            let started = Instant::now();
            let resp = post(
                &rig.gw.base,
                "/v1/chat/completions",
                &openai::request(route(kind), stream),
            )
            .await;
            let case = format!("{fault:?} {kind:?} stream={stream}");
            assert_eq!(resp.status(), 200, "{case}\n{}", rig.gw.stderr());
            assert_eq!(resp.headers()["x-switchyard-model"], "backup", "{case}");
            assert_eq!(resp.headers()["x-switchyard-attempts"], "2", "{case}");
            assert!(
                content(resp, stream).await.contains("from backup"),
                "{case}"
            );
            assert!(started.elapsed() < bound, "{case}: {:?}", started.elapsed());
            assert_eq!(
                (primary.hits() - p0, rig.spare.hits() - s0),
                (1, 1),
                "{case}"
            );
            n += 1;
        }
    }
    let recs = rig.gw.usage_records(n);
    assert_eq!(recs.len(), n, "one usage record per request");
    assert!(
        holds_for(Duration::from_millis(200), || rig.gw.usage_records(n).len()
            == n)
        .await,
        "a second record for a request: {}",
        rig.gw.stdout()
    );
    for r in &recs {
        assert_eq!(r["status"], 200);
        assert_eq!(r["attempts"], 2);
        assert_eq!(r["model"], "backup");
        assert_eq!(r["prompt_tokens"], 7);
    }
}

/// Loose on purpose: every deadline here is 500 ms, and CI machines are busy.
const QUICK: Duration = Duration::from_secs(3);

// Each fault before the first byte, and whether streamed requests are tried with it too; the
// test names say what is checked (`resilience::fails_over::reset`).
rows!(fails_over => {
    status_500: (Fault::Status(500), true, QUICK),
    status_503: (Fault::Status(503), true, QUICK),
    status_529: (Fault::Status(529), false, QUICK),
    status_429: (Fault::Status(429), true, QUICK),
    reset_before_any_byte: (Fault::Reset, true, QUICK),
    stall_before_the_response_head_is_cut_at_first_byte: (Fault::StallBeforeHead, true, QUICK),
    // The head arrives at once but no body: `first_byte` (500 ms) bounds the wait, not `idle`.
    stall_after_the_head_before_the_first_event_is_cut_at_first_byte: (Fault::StallAfterHead, true, QUICK),
    malformed_json_and_malformed_first_event: (Fault::Malformed, true, QUICK),
    a_body_cut_before_it_is_whole: (Fault::CutMidBody, false, QUICK),
});

#[tokio::test]
async fn a_slow_but_timely_primary_answers_itself() {
    let rig = rig().await;
    for kind in [Kind::OpenAi, Kind::Anthropic] {
        for stream in [false, true] {
            rig.primary(kind).push(Reply::Delay(
                Duration::from_millis(250),
                Box::new(good(kind, stream, "from primary")),
            ));
            let resp = post(
                &rig.gw.base,
                "/v1/chat/completions",
                &openai::request(route(kind), stream),
            )
            .await;
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
            assert!(content(resp, stream).await.contains("from primary"));
        }
    }
    assert_eq!(rig.spare.hits(), 0);
    assert_eq!(rig.gw.usage_records(4).len(), 4);
}

/// The primary sends `kept` events, then fails as `tail` says; the client gets those events
/// and an error event in its own format, never a clean end; no failover once bytes are out.
async fn fails_mid_stream(tail: &str) {
    let rig = rig().await;
    for kind in [Kind::OpenAi, Kind::Anthropic] {
        let all = events(kind, &["first ", "second ", "third"]);
        let kept: Vec<(Duration, Vec<u8>)> = all[..4]
            .iter()
            .map(|e| (Duration::from_millis(10), e.clone().into_bytes()))
            .collect();
        let reply = match tail {
            "reset" => Reply::Stream {
                status: 200,
                pieces: kept,
                cut: true,
            },
            "error" => {
                let err = match kind {
                    Kind::OpenAi => format!(
                        "data: {}\n\n",
                        openai::error("overloaded", "server_error", None)
                    ),
                    Kind::Anthropic => anthropic::error_event("overloaded_error", "Overloaded"),
                };
                let mut pieces = kept;
                pieces.push((Duration::ZERO, err.into_bytes()));
                Reply::Stream {
                    status: 200,
                    pieces,
                    cut: false,
                }
            }
            _ => {
                let mut pieces = kept;
                pieces.push((Duration::from_secs(3), all[4].clone().into_bytes()));
                Reply::Stream {
                    status: 200,
                    pieces,
                    cut: false,
                }
            }
        };
        rig.primary(kind).push(reply);
        let started = Instant::now();
        let resp = post(
            &rig.gw.base,
            "/v1/chat/completions",
            &openai::request(route(kind), true),
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-switchyard-attempts"], "1");
        let text = resp.text().await.unwrap();
        let case = format!("{tail} {kind:?}");
        assert!(started.elapsed() < QUICK, "{case}: {:?}", started.elapsed());
        assert!(text.contains("first "), "{case}: {text}");
        assert!(!text.contains("[DONE]"), "{case}: {text}");
        let last = text.trim_end().rsplit("\n\n").next().unwrap();
        let err: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap_or(last))
            .unwrap_or_else(|_| panic!("{case}: last event is not JSON: {last}"));
        assert!(err["error"]["message"].is_string(), "{case}: {err}");
    }
    assert_eq!(rig.spare.hits(), 0, "no failover after the first byte");
    let recs = rig.gw.usage_records(2);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert!(r["stream_error"].is_string(), "{r}");
        assert_eq!(r["attempts"], 1);
    }
    assert!(rig.gw.metrics().contains("switchyard_stream_errors_total{"));
}

// How the stream fails after its first byte (`resilience::fails_mid_stream::reset`): each
// ends the client's stream with an error event.
rows!(fails_mid_stream => {
    reset: ("reset"),
    upstream_error_event_is_relayed: ("error"),
    silence_is_cut_at_idle: ("idle"),
});

#[tokio::test]
async fn every_target_failing_is_502_in_the_clients_format() {
    let rig = rig_answering(
        Reply::Reset,
        faulty(Kind::Anthropic, false, Fault::Status(500)),
        faulty(Kind::OpenAi, false, Fault::Status(503)),
    )
    .await;
    let resp = ask(&rig.gw, "an-first").await;
    assert_eq!(resp.status(), 502);
    // Both targets, then the first again (the default chain's retry: attempts 3).
    assert_eq!(resp.headers()["x-switchyard-attempts"], "3");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_failed");
    let resp = post(
        &rig.gw.base,
        "/v1/messages",
        &anthropic::request("an-first", true),
    )
    .await;
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "api_error", "{body}");
    assert_eq!((rig.an.hits(), rig.spare.hits()), (4, 2));
    let recs = rig.gw.usage_records(2);
    assert_eq!(recs.len(), 2);
    assert!(recs
        .iter()
        .all(|r| r["status"] == 502 && r["attempts"] == 3));
}

#[tokio::test]
async fn every_target_stalling_is_504_within_the_deadlines() {
    let stall = || Reply::Stall(Duration::from_secs(5));
    let rig = rig_answering(stall(), stall(), stall()).await;
    let started = Instant::now();
    let resp = ask_stream(&rig.gw, "oa-first").await;
    assert_eq!(resp.status(), 504);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_timeout");
    // Three attempts, each cut at first_byte (500 ms), and one short backoff.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(rig.gw.usage_records(1).len(), 1);
}

#[tokio::test]
async fn every_target_rate_limited_for_long_is_429_at_once_with_the_shortest_retry_after() {
    let rig = rig_answering(rate_limited("40"), rate_limited("40"), rate_limited("30")).await;
    let started = Instant::now();
    let resp = ask(&rig.gw, "oa-first").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "30");
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    assert!(started.elapsed() < Duration::from_secs(1), "not waited on");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(rig.gw.usage_records(1).len(), 1);
}
