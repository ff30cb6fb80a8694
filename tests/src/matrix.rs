//! The scenarios of the provider matrix, each run for both inbound dialects against one
//! provider type. Each checks what the client got (in its own dialect) and the usage records,
//! and hands back what the mock received so the provider's test file can assert the exact
//! upstream fields its API reference names.

use serde_json::Value;

use crate::providers::{
    error_of, finish_for, reply, req, Answer, Client, Kind, Rig, Wire, CLIENTS, SPARE_KEY,
};
use crate::Received;

/// Asserts the first `n` usage records all carry the usage the mock reported and the cost the
/// config's pricing gives for it (1 and 2 USD per million prompt and completion tokens).
fn assert_usage_records(rig: &Rig, n: usize, prompt: u64, completion: u64) {
    let recs = rig.gw.usage_records(n);
    assert_eq!(recs.len(), n, "{recs:?}");
    for r in &recs {
        assert_eq!(r["model"], "m", "{r}");
        assert_eq!(r["provider"], "up");
        assert_eq!(r["status"], 200);
        assert_eq!(r["prompt_tokens"], prompt, "{r}");
        assert_eq!(r["completion_tokens"], completion, "{r}");
        let cost = (prompt as f64 + 2.0 * completion as f64) / 1e6;
        assert!(
            (r["cost_usd"].as_f64().expect("cost") - cost).abs() < 1e-12,
            "{r}"
        );
    }
}

/// Plain text, not streamed: the answer, finish reason, client usage and usage records.
pub async fn text(bin: &str, kind: Kind) -> Vec<(Client, Received)> {
    let rig = Rig::answering(bin, kind, "Hello there!").await;
    let mut sent = Vec::new();
    for (i, client) in CLIENTS.into_iter().enumerate() {
        let resp = rig.ask(client, &req::text(client, "m", false)).await;
        assert_eq!(resp.status(), 200);
        let h = resp.headers();
        assert_eq!(h["x-switchyard-model"], "m");
        assert_eq!(h["x-switchyard-provider"], "up");
        assert_eq!(h["x-switchyard-attempts"], "1");
        assert!(h.get("x-switchyard-dropped-params").is_none(), "{h:?}");
        let a = Answer::from_json(client, &resp.json().await.expect("JSON"));
        assert_eq!(a.text, "Hello there!");
        assert_eq!(a.finish, finish_for(client, "stop"));
        assert_eq!(a.usage, Some((21, 7)), "{client:?}");
        let r = rig.sent_nth(i);
        kind.assert_sent(&r, false);
        sent.push((client, r));
    }
    assert_usage_records(&rig, 2, 21, 7);
    sent
}

/// Streamed text: the client's events (handed back for an exact comparison), their text,
/// finish reason and framing, and exact usage records although no client asked for usage.
pub async fn stream(bin: &str, kind: Kind, pieces: &[&str]) -> Vec<(Client, Answer, Received)> {
    let rig = Rig::start(bin, kind, reply::text_stream(kind.wire(), pieces)).await;
    let mut out = Vec::new();
    for (i, client) in CLIENTS.into_iter().enumerate() {
        let a = rig.answer(client, &req::text(client, "m", true)).await;
        assert_eq!(a.text, pieces.concat(), "{client:?}: {:?}", a.events);
        assert_eq!(a.finish, finish_for(client, "stop"));
        match client {
            Client::OpenAi => {
                assert_eq!(a.events.last().map(String::as_str), Some("[DONE]"));
                assert_eq!(a.usage, None, "usage chunk only when asked");
            }
            Client::Anthropic => {
                assert_eq!(a.events.first().map(String::as_str), Some("message_start"));
                assert_eq!(a.events.last().map(String::as_str), Some("message_stop"));
                assert_eq!(a.usage, Some((21, 7)), "{:?}", a.events);
            }
        }
        let r = rig.sent_nth(i);
        kind.assert_sent(&r, true);
        out.push((client, a, r));
    }
    // An OpenAI client that asks for usage gets one usage chunk, just before [DONE].
    let mut body = req::text(Client::OpenAi, "m", true);
    body["stream_options"] = serde_json::json!({"include_usage": true});
    let a = rig.answer(Client::OpenAi, &body).await;
    assert_eq!(a.usage, Some((21, 7)), "{:?}", a.events);
    let tail: Vec<&str> = a.events.iter().rev().take(2).map(String::as_str).collect();
    assert_eq!(tail, ["[DONE]", "usage"], "{:?}", a.events);
    assert_eq!(a.events.iter().filter(|e| e.contains("usage")).count(), 1);
    assert_usage_records(&rig, 3, 21, 7);
    out
}

/// Tools: a call (whole and streamed) comes back as the client's tool call with parsed
/// arguments; then the round trip's second leg (call + result) reaches the upstream. Hands back
/// `[call, streamed call, result]` requests per client, and the streamed answers.
pub async fn tools(bin: &str, kind: Kind) -> Vec<(Client, [Received; 3], Answer)> {
    let rig = Rig::answering(bin, kind, "It is 18°C.").await;
    let mut out = Vec::new();
    for client in CLIENTS {
        let before = rig.mock.hits();
        rig.mock.push(reply::tool_call(kind.wire()));
        rig.mock.push(reply::tool_call_stream(kind.wire()));
        let call = rig.answer(client, &req::tools(client, "m", false)).await;
        assert_eq!(call.finish, finish_for(client, "tool_calls"));
        assert_eq!(call.tool_calls.len(), 1, "{call:?}");
        let (id, name, args) = call.tool_calls[0].clone();
        assert_eq!(name, "get_weather");
        assert_eq!(args, serde_json::json!({"city": "Paris"}));
        assert!(!id.is_empty());
        let streamed = rig.answer(client, &req::tools(client, "m", true)).await;
        assert_eq!(
            streamed.finish,
            finish_for(client, "tool_calls"),
            "{:?}",
            streamed.events
        );
        assert_eq!(streamed.tool_calls.len(), 1, "{:?}", streamed.events);
        assert_eq!(streamed.tool_calls[0].1, "get_weather");
        assert_eq!(
            streamed.tool_calls[0].2,
            serde_json::json!({"city": "Paris"})
        );
        // Second leg: the client sends back the id it was given.
        let done = rig
            .answer(client, &req::tool_result(client, "m", &id))
            .await;
        assert_eq!(done.text, "It is 18°C.");
        assert_eq!(done.finish, finish_for(client, "stop"));
        let got = rig.mock.received();
        assert_eq!(got.len(), before + 3);
        kind.assert_sent(&got[before], false);
        kind.assert_sent(&got[before + 1], true);
        kind.assert_sent(&got[before + 2], false);
        let three = [
            got[before].clone(),
            got[before + 1].clone(),
            got[before + 2].clone(),
        ];
        out.push((client, three, streamed));
    }
    out
}

/// Structured output: the answer text is the JSON the model produced. Hands back the
/// requests.
pub async fn json_schema(bin: &str, kind: Kind) -> Vec<(Client, Received)> {
    let rig = Rig::answering(bin, kind, "unused").await;
    let mut out = Vec::new();
    for (i, client) in CLIENTS.into_iter().enumerate() {
        rig.mock.push(reply::json_answer(kind.wire(), client));
        let a = rig.answer(client, &req::json_schema(client, "m")).await;
        let v: Value = serde_json::from_str(&a.text).expect("answer text is JSON");
        assert_eq!(v, serde_json::json!({"city": "Paris", "temp_c": 18}));
        assert_eq!(a.finish, finish_for(client, "stop"), "{a:?}");
        assert!(a.tool_calls.is_empty());
        out.push((client, rig.sent_nth(i)));
    }
    out
}

/// An image by URL and one in base64 in one user turn. Hands back the requests.
pub async fn images(bin: &str, kind: Kind) -> Vec<(Client, Received)> {
    let rig = Rig::answering(bin, kind, "Two ants.").await;
    let mut out = Vec::new();
    for (i, client) in CLIENTS.into_iter().enumerate() {
        let a = rig.answer(client, &req::images(client, "m")).await;
        assert_eq!(a.text, "Two ants.");
        out.push((client, rig.sent_nth(i)));
    }
    out
}

/// Stop sequences and an output cap of 5: the request carries both, and a reply cut by the
/// cap (or ended by the stop sequence) gets the right finish reason. Hands back the requests
/// (cap reply first, then stop reply, per client).
pub async fn stop_and_max_tokens(bin: &str, kind: Kind) -> Vec<(Client, Received, Received)> {
    let rig = Rig::answering(bin, kind, "unused").await;
    let mut out = Vec::new();
    for client in CLIENTS {
        let before = rig.mock.hits();
        rig.mock
            .push(reply::max_tokens(kind.wire(), "One, two, three"));
        let a = rig.answer(client, &req::stop_and_cap(client, "m", 5)).await;
        assert_eq!(a.text, "One, two, three");
        assert_eq!(a.finish, finish_for(client, "length"));
        assert_eq!(a.usage, Some((21, 5)));
        rig.mock.push(reply::stopped(kind.wire(), "One, two"));
        let a = rig.answer(client, &req::stop_and_cap(client, "m", 5)).await;
        assert_eq!(a.text, "One, two");
        match (client, kind) {
            // Only an Anthropic upstream says which sequence stopped it, and only an
            // Anthropic client can be told.
            (Client::Anthropic, Kind::Anthropic) => {
                assert_eq!(a.finish, "stop_sequence");
                assert_eq!(a.stop_sequence.as_deref(), Some("END"));
            }
            _ => assert_eq!(a.finish, finish_for(client, "stop")),
        }
        let got = rig.mock.received();
        out.push((client, got[before].clone(), got[before + 1].clone()));
    }
    out
}

/// Provider errors in the provider's real shape: 400 and 401 reach the client with their
/// status in the client's error shape (the provider key scrubbed); 429, 500 and "overloaded"
/// (503, Anthropic's 529) fail over to the spare target on route `ha`, and on the model alone
/// 429 and 500 end as 429 / 502.
pub async fn errors(bin: &str, kind: Kind) {
    let rig = Rig::answering(bin, kind, "fine").await;
    for client in CLIENTS {
        // A stream request answered with an error gets a JSON error, not an event stream.
        for (status, stream, openai_type, anthropic_type) in [
            (400, false, "invalid_request_error", "invalid_request_error"),
            (400, true, "invalid_request_error", "invalid_request_error"),
            (401, false, "authentication_error", "authentication_error"),
            (401, true, "authentication_error", "authentication_error"),
        ] {
            rig.mock.push(reply::error(kind.wire(), status));
            let spare_before = rig.spare.hits();
            let resp = rig.ask(client, &req::text(client, "ha", stream)).await;
            assert_eq!(resp.headers()["content-type"], "application/json");
            let (got, ty, message) = error_of(client, resp).await;
            assert_eq!(got, status, "{client:?} {status}: {ty} {message}");
            let want = match (client, kind.wire()) {
                // OpenAI's own 401 says `invalid_request_error` (code `invalid_api_key`);
                // an OpenAI client gets OpenAI's body re-rendered as it was.
                (Client::OpenAi, Wire::OpenAi) => "invalid_request_error",
                (Client::OpenAi, _) => openai_type,
                (Client::Anthropic, _) => anthropic_type,
            };
            assert_eq!(ty, want, "{client:?} {status}: {message}");
            assert!(
                !message.is_empty() && !message.contains("SECRET"),
                "{message}"
            );
            if status == 400 {
                // The provider's own words reach the client.
                let marker = match kind.wire() {
                    Wire::OpenAi => "'temperature'",
                    Wire::Anthropic => "max_tokens: 100000 > 64000",
                    Wire::Gemini => "contents is not specified",
                };
                assert!(message.contains(marker), "{message}");
            }
            assert_eq!(
                rig.spare.hits(),
                spare_before,
                "a client error is not failed over"
            );
        }
        for status in [429u16, 500, reply::overloaded_status(kind.wire())] {
            rig.mock.push(reply::error(kind.wire(), status));
            let resp = rig.ask(client, &req::text(client, "ha", false)).await;
            assert_eq!(resp.status(), 200, "{status} fails over");
            assert_eq!(resp.headers()["x-switchyard-model"], "spare");
            assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
            let a = Answer::from_json(client, &resp.json().await.expect("JSON"));
            assert_eq!(a.text, "from spare");
            let last = rig.spare.received().pop().expect("spare got the request");
            assert_eq!(
                last.header("authorization"),
                Some(format!("Bearer {SPARE_KEY}").as_str())
            );
            assert_eq!(last.json()["model"], "spare-model");
        }
        for (status, want, openai_type, anthropic_type) in [
            (429u16, 429u16, "rate_limit_error", "rate_limit_error"),
            (500, 502, "server_error", "api_error"),
        ] {
            rig.mock.push(reply::error(kind.wire(), status));
            rig.mock.push(reply::error(kind.wire(), status));
            let resp = rig.ask(client, &req::text(client, "m", false)).await;
            let (got, ty, message) = error_of(client, resp).await;
            assert_eq!(got, want, "{client:?} {status}: {ty} {message}");
            let want_ty = if client == Client::OpenAi {
                openai_type
            } else {
                anthropic_type
            };
            assert_eq!(ty, want_ty, "{client:?} {status}: {message}");
        }
    }
    assert!(!rig.gw.stderr().contains(crate::providers::PROVIDER_KEY));
    // 2 clients × (400 and 401 twice each, 429, 500, overloaded once each, then 429 and 500
    // twice each).
    assert_eq!(rig.mock.hits(), 2 * 11);
}

/// A provider error event after the first text: the client gets the text, then one error
/// event in its own format, and no clean end (`[DONE]`, `message_stop`). Hands back the
/// client's events.
pub async fn stream_error(bin: &str, kind: Kind) -> Vec<(Client, Answer)> {
    let rig = Rig::start(bin, kind, reply::stream_then_error(kind.wire())).await;
    let mut out = Vec::new();
    for client in CLIENTS {
        let a = rig.answer(client, &req::text(client, "m", true)).await;
        assert_eq!(a.text, "Hel", "{:?}", a.events);
        let last = a.events.last().expect("events");
        assert!(last.starts_with("error:"), "{:?}", a.events);
        assert_eq!(
            a.events.iter().filter(|e| e.starts_with("error:")).count(),
            1
        );
        assert!(!a
            .events
            .iter()
            .any(|e| e == "[DONE]" || e == "message_stop"));
        out.push((client, a));
    }
    let recs = rig.gw.usage_records(2);
    assert_eq!(recs.len(), 2);
    out
}

/// JSON mode (`response_format: {"type": "json_object"}`, OpenAI clients only: Anthropic's API
/// has no schema-less JSON mode): the answer text is the model's JSON. Hands back the request.
pub async fn json_mode(bin: &str, kind: Kind) -> Received {
    let rig = Rig::start(bin, kind, reply::json_answer(kind.wire(), Client::OpenAi)).await;
    let mut body = req::text(Client::OpenAi, "m", false);
    body["response_format"] = serde_json::json!({"type": "json_object"});
    let a = rig.answer(Client::OpenAi, &body).await;
    let v: Value = serde_json::from_str(&a.text).expect("answer text is JSON");
    assert_eq!(v, serde_json::json!({"city": "Paris", "temp_c": 18}));
    assert_eq!(a.finish, "stop");
    rig.sent()
}

/// Failover across dialects mid-request: the provider under test fails a stream request
/// (429, then 500) before any byte, and the spare (an OpenAI provider) answers; each client
/// gets the spare's stream translated for it, as if the first attempt had not happened.
pub async fn stream_failover(bin: &str, kind: Kind) -> Vec<(Client, Answer)> {
    let rig = Rig::start(bin, kind, reply::error(kind.wire(), 500)).await;
    let mut out = Vec::new();
    for (client, status) in [(Client::OpenAi, 429), (Client::Anthropic, 500)] {
        rig.mock.push(reply::error(kind.wire(), status));
        rig.spare
            .push(reply::text_stream(Wire::OpenAi, &["Sp", "are"]));
        let resp = rig.ask(client, &req::text(client, "ha", true)).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-switchyard-model"], "spare");
        assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
        let a = Answer::from_stream(client, &resp.text().await.expect("body"));
        assert_eq!(a.text, "Spare", "{:?}", a.events);
        assert_eq!(a.finish, finish_for(client, "stop"));
        out.push((client, a));
    }
    let recs = rig.gw.usage_records(2);
    assert!(
        recs.iter()
            .all(|r| r["model"] == "spare" && r["prompt_tokens"] == 21),
        "{recs:?}"
    );
    out
}
