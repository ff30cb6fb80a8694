//! Recorded provider transcripts (`crates/switchyard-wire/tests/fixtures/`) replayed through
//! the real binary: what each client receives equals the wire crate's golden translation of
//! the same transcript, event for event (only `created`, a clock value, is normalized), even
//! though the mock splits the transcript at arbitrary byte offsets. Same-dialect streams pass
//! through unchanged.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_e2e::providers::{req, Client, Kind, Rig};
use switchyard_e2e::Reply;

use crate::common::bin;

fn fixture(path: &str) -> String {
    let full = format!(
        "{}/../switchyard-wire/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The transcript in three pieces cut at arbitrary byte offsets (inside events).
fn split(transcript: &str) -> Reply {
    let b = transcript.as_bytes();
    let (one, two) = (b.len() / 3 + 7, 2 * b.len() / 3 + 1);
    Reply::Stream {
        status: 200,
        pieces: [&b[..one], &b[one..two], &b[two..]]
            .iter()
            .map(|p| (Duration::ZERO, p.to_vec()))
            .collect(),
        cut: false,
    }
}

/// `(event name, data)` of every event, `created` zeroed (in a `live` reply it must be a real
/// clock value; golden files carry 0).
fn events(text: &str, live: bool) -> Vec<(Option<String>, Value)> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            let mut v: Value = if data == "[DONE]" {
                json!("[DONE]")
            } else {
                serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"))
            };
            if live && v.get("created").is_some() {
                assert!(v["created"].as_u64().unwrap() > 1_700_000_000, "{v}");
                v["created"] = json!(0);
            }
            (name, v)
        })
        .collect()
}

/// Streams `transcript` to `client`; an OpenAI client asks for the usage chunk when `usage`.
async fn replay(kind: Kind, transcript: &str, client: Client, usage: bool) -> String {
    let rig = Rig::start(bin(), kind, split(&fixture(transcript))).await;
    let mut body = req::text(client, "m", true);
    if usage && client == Client::OpenAi {
        body["stream_options"] = json!({"include_usage": true});
    }
    let resp = rig.ask(client, &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    resp.text().await.unwrap()
}

async fn golden(kind: Kind, transcript: &str, client: Client, expected: &str) {
    // The golden OpenAI transcripts include the usage chunk.
    let got = replay(kind, transcript, client, true).await;
    let want = fixture(expected);
    assert_eq!(
        events(&got, true),
        events(&want, false),
        "{transcript} to {client:?}: got\n{got}"
    );
}

#[tokio::test]
async fn openai_transcripts_reach_anthropic_clients_as_golden() {
    for case in ["stream_text", "stream_tool_calls", "stream_error"] {
        golden(
            Kind::OpenAi,
            &format!("openai/{case}.sse"),
            Client::Anthropic,
            &format!("openai/{case}.anthropic.sse"),
        )
        .await;
    }
}

#[tokio::test]
async fn anthropic_transcripts_reach_openai_clients_as_golden() {
    for case in ["stream_text", "stream_tools", "stream_error"] {
        golden(
            Kind::Anthropic,
            &format!("anthropic/{case}.sse"),
            Client::OpenAi,
            &format!("anthropic/{case}.openai.sse"),
        )
        .await;
    }
}

#[tokio::test]
async fn gemini_transcripts_reach_both_clients_as_golden() {
    for case in ["text", "tool_calls", "blocked", "error"] {
        for (client, ext) in [(Client::OpenAi, "openai"), (Client::Anthropic, "anthropic")] {
            golden(
                Kind::Gemini,
                &format!("gemini/stream/{case}.sse"),
                client,
                &format!("gemini/stream/{case}.{ext}.sse"),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn same_dialect_transcripts_pass_through_unchanged() {
    let anthropic = fixture("anthropic/stream_text.sse");
    assert_eq!(
        replay(
            Kind::Anthropic,
            "anthropic/stream_text.sse",
            Client::Anthropic,
            false
        )
        .await,
        anthropic
    );
    // OpenAI: byte for byte, except the usage chunk the client did not ask for.
    let got = replay(
        Kind::OpenAi,
        "openai/stream_text.sse",
        Client::OpenAi,
        false,
    )
    .await;
    let want: Vec<_> = events(&fixture("openai/stream_text.sse"), false)
        .into_iter()
        .filter(|(_, v)| v.get("usage").is_none_or(Value::is_null))
        .collect();
    assert_eq!(events(&got, false), want);
}

#[tokio::test]
async fn gemini_replies_without_model_version_are_named_by_the_configured_model() {
    let mut raw: Value =
        serde_json::from_str(&fixture("gemini/response/text.gemini.json")).unwrap();
    raw.as_object_mut().unwrap().remove("modelVersion");
    let rig = Rig::start(bin(), Kind::Gemini, Reply::json(&raw)).await;
    for client in [Client::OpenAi, Client::Anthropic] {
        let resp = rig.ask(client, &req::text(client, "m", false)).await;
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["model"], Kind::Gemini.upstream_model(), "{v}");
    }
}

#[tokio::test]
async fn gemini_streams_without_model_version_are_named_by_the_configured_model() {
    let transcript: String =
        fixture("gemini/stream/text.sse").replace(r#", "modelVersion": "gemini-2.5-flash""#, "");
    assert!(!transcript.contains("modelVersion"));
    let rig = Rig::start(bin(), Kind::Gemini, split(&transcript)).await;
    let resp = rig
        .ask(Client::OpenAi, &req::text(Client::OpenAi, "m", true))
        .await;
    let got = events(&resp.text().await.unwrap(), true);
    for (_, v) in got.iter().filter(|(_, v)| v.is_object()) {
        assert_eq!(v["model"], Kind::Gemini.upstream_model(), "{v}");
    }
}

/// Replays recorded whole responses through one rig of `kind` to `client` and compares each
/// answer with its golden translation (`{body, usage}` files from the wire crate's golden
/// test, or a bare body), and each usage record with the usage the translation reports.
async fn golden_bodies(kind: Kind, client: Client, cases: &[(&str, &str)]) {
    let rig = Rig::start(bin(), kind, Reply::Reset).await;
    for (n, (input, expected)) in cases.iter().enumerate() {
        let raw: Value = serde_json::from_str(&fixture(input)).unwrap();
        rig.mock.push(Reply::json(&raw));
        let resp = rig.ask(client, &req::text(client, "m", false)).await;
        assert_eq!(resp.status(), 200, "{input}");
        let mut got: Value = resp.json().await.unwrap();
        if client == Client::OpenAi {
            assert!(got["created"].as_u64().unwrap() > 1_700_000_000, "{got}");
            got["created"] = json!(0);
        }
        let want: Value = serde_json::from_str(&fixture(expected)).unwrap();
        let (body, usage) = match want.get("body") {
            Some(body) => (body.clone(), want["usage"].clone()),
            None => {
                // Bare bodies were made by the wire crate's Gemini tests, which name the model
                // themselves; the gateway names it after the reply's `modelVersion`.
                assert_eq!(got["model"], raw["modelVersion"], "{input}");
                got["model"] = want["model"].clone();
                let u = &want["usage"];
                let usage = json!([
                    u["prompt_tokens"],
                    u["completion_tokens"],
                    u["prompt_tokens_details"]["cached_tokens"],
                    u["completion_tokens_details"]["reasoning_tokens"]
                ]);
                (want.clone(), usage)
            }
        };
        assert_eq!(got, body, "{input} to {client:?}");
        let rec = rig.gw.usage_records(n + 1).pop().unwrap();
        assert_eq!(
            json!([
                rec["prompt_tokens"],
                rec["completion_tokens"],
                rec["cached_tokens"]
            ]),
            json!([usage[0], usage[1], usage[2]]),
            "{input}: {rec}"
        );
    }
}

#[tokio::test]
async fn recorded_responses_reach_the_other_dialect_as_golden() {
    golden_bodies(
        Kind::Anthropic,
        Client::OpenAi,
        &[
            (
                "anthropic/response_text.json",
                "anthropic/response_text.openai.json",
            ),
            (
                "anthropic/response_tools.json",
                "anthropic/response_tools.openai.json",
            ),
        ],
    )
    .await;
    golden_bodies(
        Kind::OpenAi,
        Client::Anthropic,
        &[
            (
                "openai/response_text.json",
                "openai/response_text.anthropic.json",
            ),
            (
                "openai/response_tool_calls.json",
                "openai/response_tool_calls.anthropic.json",
            ),
            (
                "openai/response_reasoning.json",
                "openai/response_reasoning.anthropic.json",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn recorded_gemini_responses_reach_both_dialects_as_golden() {
    let cases: Vec<(String, String)> = [
        "text",
        "max_tokens",
        "tool_calls",
        "thinking_cached",
        "candidate_safety",
        "prompt_blocked",
        "two_candidates_json",
    ]
    .iter()
    .map(|c| {
        (
            format!("gemini/response/{c}.gemini.json"),
            format!("gemini/response/{c}.openai.json"),
        )
    })
    .collect();
    let cases: Vec<(&str, &str)> = cases
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    golden_bodies(Kind::Gemini, Client::OpenAi, &cases).await;
    golden_bodies(
        Kind::Gemini,
        Client::Anthropic,
        &[
            (
                "gemini/response/text.gemini.json",
                "gemini/response/text.gemini.anthropic.json",
            ),
            (
                "gemini/response/tool_calls.gemini.json",
                "gemini/response/tool_calls.gemini.anthropic.json",
            ),
        ],
    )
    .await;
}
