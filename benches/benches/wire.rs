//! switchyard-wire hot paths: request parse+encode (small and ~100 KB prompts, same-dialect
//! and OpenAI→Anthropic), response decode, stream translation per chunk, and same-dialect
//! streams forwarded as framed.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use switchyard_wire::{
    decode_response, encode_request, ChatRequest, Dialect, EncodeTarget, StreamTranslator,
};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/switchyard-wire/tests/fixtures"
);

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).expect("fixture exists")
}

/// An OpenAI request of about `bytes` bytes: a system prompt, then alternating turns.
fn openai_request(bytes: usize) -> Vec<u8> {
    let sentence = "The circuit breaker opens after repeated upstream failures and probes later. ";
    let mut messages = vec![json!({"role": "system", "content": "You are a concise assistant."})];
    let mut size = 200;
    let mut turn = 0;
    while size < bytes {
        let role = if turn % 2 == 0 { "user" } else { "assistant" };
        let text = sentence.repeat(8);
        size += text.len() + 40;
        messages.push(json!({"role": role, "content": text}));
        turn += 1;
    }
    if turn % 2 == 0 {
        messages.push(json!({"role": "user", "content": "Summarize."}));
    }
    serde_json::to_vec(&json!({
        "model": "chat", "messages": messages, "temperature": 0.2, "max_tokens": 512,
        "stream": true, "stream_options": {"include_usage": true}
    }))
    .expect("serializable")
}

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_parse_encode");
    for (label, size) in [("1KB", 1_000), ("100KB", 100_000)] {
        let body = openai_request(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (to, model) in [
            (Dialect::OpenAi, "gpt-4o"),
            (Dialect::Anthropic, "claude-sonnet-4-5"),
        ] {
            let target = EncodeTarget {
                dialect: to,
                upstream_model: model,
                default_max_output_tokens: None,
                strict_params: false,
                legacy_max_tokens: false,
                stream_usage: true,
            };
            group.bench_with_input(
                BenchmarkId::new(format!("openai->{to}"), label),
                &body,
                |b, body| {
                    b.iter(|| {
                        let req =
                            ChatRequest::parse(Dialect::OpenAi, black_box(body)).expect("parses");
                        encode_request(&req, &target).expect("encodes")
                    })
                },
            );
        }
    }
    group.finish();
}

/// A same-dialect request (OpenAI to OpenAI: model renamed, usage asked for) spliced from the
/// client's bytes, beside the same request once a DOM is built and re-serialized (what an edit
/// by a filter, or the gateway before splicing, costs).
fn same_dialect_patch(c: &mut Criterion) {
    let target = EncodeTarget {
        dialect: Dialect::OpenAi,
        upstream_model: "gpt-4o-2024-08-06",
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    };
    let mut group = c.benchmark_group("same_dialect_patch");
    for (label, size) in [("1KB", 1_000), ("100KB", 100_000)] {
        let body = openai_request(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for dom in [false, true] {
            let name = if dom { "dom" } else { "spliced" };
            group.bench_with_input(BenchmarkId::new(name, label), &body, |b, body| {
                b.iter(|| {
                    let mut req =
                        ChatRequest::parse(Dialect::OpenAi, black_box(body)).expect("parses");
                    if dom {
                        req.body_mut();
                    }
                    encode_request(&req, &target).expect("encodes")
                })
            });
        }
    }
    group.finish();
}

fn responses(c: &mut Criterion) {
    let mut group = c.benchmark_group("response_decode");
    for (from, to, file) in [
        (
            Dialect::OpenAi,
            Dialect::OpenAi,
            "openai/response_text.json",
        ),
        (
            Dialect::Anthropic,
            Dialect::OpenAi,
            "anthropic/response_text.json",
        ),
        (
            Dialect::OpenAi,
            Dialect::Anthropic,
            "openai/response_text.json",
        ),
    ] {
        let body = fixture(file);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{from}->{to}"), |b| {
            b.iter(|| decode_response(from, to, black_box(&body)).expect("decodes"))
        });
    }
    group.finish();
}

/// One whole recorded stream per iteration; throughput is in upstream events, so criterion's
/// elements/s is chunks translated per second.
fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_translate");
    for (from, to, file) in [
        (Dialect::OpenAi, Dialect::OpenAi, "openai/stream_text.sse"),
        (
            Dialect::Anthropic,
            Dialect::Anthropic,
            "anthropic/stream_text.sse",
        ),
        (
            Dialect::Anthropic,
            Dialect::OpenAi,
            "anthropic/stream_text.sse",
        ),
        (
            Dialect::OpenAi,
            Dialect::Anthropic,
            "openai/stream_text.sse",
        ),
    ] {
        let body = fixture(file);
        let events = body.windows(6).filter(|w| w == b"data: ").count() as u64;
        // Split as a socket would deliver it: a few events per read, cut mid-event.
        let reads: Vec<&[u8]> = body.chunks(700).collect();
        group.throughput(Throughput::Elements(events));
        let mut out = Vec::with_capacity(body.len() * 2);
        group.bench_function(format!("{from}->{to}"), |b| {
            b.iter(|| {
                out.clear();
                let mut t = StreamTranslator::new(from, to, false);
                for read in &reads {
                    t.push(black_box(read), &mut out).expect("translates");
                }
                t.finish(&mut out).expect("complete");
                black_box(t.usage())
            })
        });
    }
    group.finish();
}

/// Same-dialect streams as upstreams usually deliver them, an event or two per read: LF-framed
/// events are forwarded as framed (a view of the read, no copy); the same stream with CRLF line
/// ends is parsed and re-rendered event by event, which is what every same-dialect stream cost
/// before.
fn passthrough(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_passthrough");
    for (d, file) in [
        (Dialect::OpenAi, "openai/stream_text.sse"),
        (Dialect::Anthropic, "anthropic/stream_text.sse"),
    ] {
        let lf = fixture(file);
        let crlf = String::from_utf8_lossy(&lf)
            .replace('\n', "\r\n")
            .into_bytes();
        for (framing, body) in [("as_framed", lf), ("re_rendered", crlf)] {
            let sep: &[u8] = if framing == "as_framed" {
                b"\n\n"
            } else {
                b"\r\n\r\n"
            };
            let mut reads = Vec::new();
            let mut start = 0;
            for i in 0..body.len() {
                if body[i..].starts_with(sep) {
                    reads.push(Bytes::copy_from_slice(&body[start..i + sep.len()]));
                    start = i + sep.len();
                }
            }
            group.throughput(Throughput::Elements(reads.len() as u64));
            group.bench_function(format!("{d}/{framing}"), |b| {
                b.iter(|| {
                    let mut t = StreamTranslator::new(d, d, true);
                    let mut sent = 0;
                    for read in &reads {
                        sent += t.push_bytes(black_box(read)).expect("passes").len();
                    }
                    black_box((sent, t.usage()))
                })
            });
        }
    }
    group.finish();
}

/// The same conversation as a Responses request (`instructions` + `input` items).
fn responses_request(bytes: usize) -> Vec<u8> {
    let chat: serde_json::Value = serde_json::from_slice(&openai_request(bytes)).expect("json");
    let mut input = Vec::new();
    for m in chat["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .skip(1)
    {
        let part = if m["role"] == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        input.push(json!({"type": "message", "role": m["role"], "content": [{"type": part, "text": m["content"]}]}));
    }
    serde_json::to_vec(&json!({
        "model": "chat", "instructions": "You are a concise assistant.", "input": input,
        "temperature": 0.2, "max_output_tokens": 512, "stream": true, "store": false
    }))
    .expect("serializable")
}

/// A Responses request translated to Anthropic beside the same chat request, and a Responses
/// stream built from an Anthropic stream beside the chat stream from it.
fn responses_api(c: &mut Criterion) {
    let target = EncodeTarget {
        dialect: Dialect::Anthropic,
        upstream_model: "claude-sonnet-4-5",
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    };
    let mut group = c.benchmark_group("responses_vs_chat_to_anthropic");
    for (label, size) in [("1KB", 1_000), ("100KB", 100_000)] {
        for (client, body) in [
            (Dialect::OpenAi, openai_request(size)),
            (Dialect::OpenAiResponses, responses_request(size)),
        ] {
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{client}->anthropic"), label),
                &body,
                |b, body| {
                    b.iter(|| {
                        let req = ChatRequest::parse(client, black_box(body)).expect("parses");
                        encode_request(&req, &target).expect("encodes")
                    })
                },
            );
        }
    }
    let stream = fixture("anthropic/stream_text.sse");
    for client in [Dialect::OpenAi, Dialect::OpenAiResponses] {
        group.bench_with_input(
            BenchmarkId::new(format!("anthropic-stream->{client}"), "whole"),
            &stream,
            |b, stream| {
                b.iter(|| {
                    let mut tr = StreamTranslator::new(Dialect::Anthropic, client, true);
                    let mut out = Vec::with_capacity(stream.len() * 2);
                    tr.push(black_box(stream), &mut out).expect("translates");
                    tr.finish(&mut out).expect("ends");
                    out
                })
            },
        );
    }
    group.finish();
}

/// The Responses API's own paths: a request parsed (what it costs before any translation)
/// and passed through to a Responses upstream (model renamed: Codex and the Agents SDK in
/// front of OpenAI), a Responses stream built from an OpenAI chat stream, and a Responses
/// stream passed through, an event per read.
fn responses_own(c: &mut Criterion) {
    let target = EncodeTarget {
        dialect: Dialect::OpenAiResponses,
        upstream_model: "gpt-5",
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    };
    let mut group = c.benchmark_group("responses_api");
    for (label, size) in [("1KB", 1_000), ("100KB", 100_000)] {
        let body = responses_request(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse", label), &body, |b, body| {
            b.iter(|| ChatRequest::parse(Dialect::OpenAiResponses, black_box(body)).expect("ok"))
        });
        group.bench_with_input(
            BenchmarkId::new("responses->responses", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let req = ChatRequest::parse(Dialect::OpenAiResponses, black_box(body))
                        .expect("parses");
                    encode_request(&req, &target).expect("encodes")
                })
            },
        );
    }
    let chat = fixture("openai/stream_text.sse");
    let events = chat.windows(6).filter(|w| w == b"data: ").count() as u64;
    group.throughput(Throughput::Elements(events));
    group.bench_function("openai-stream->responses", |b| {
        let mut out = Vec::with_capacity(chat.len() * 4);
        b.iter(|| {
            out.clear();
            let mut t = StreamTranslator::new(Dialect::OpenAi, Dialect::OpenAiResponses, false);
            t.push(black_box(&chat), &mut out).expect("translates");
            t.finish(&mut out).expect("complete");
            black_box(t.usage())
        })
    });
    // A Responses stream as OpenAI sends it: the gateway's own translation of a chat stream.
    let mut native = Vec::new();
    let mut t = StreamTranslator::new(Dialect::OpenAi, Dialect::OpenAiResponses, true);
    t.push(&chat, &mut native).expect("translates");
    t.finish(&mut native).expect("complete");
    let reads: Vec<Bytes> = native
        .split_inclusive(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .chunks(3)
        .map(|lines| Bytes::from(lines.concat()))
        .collect();
    group.throughput(Throughput::Elements(reads.len() as u64));
    group.bench_function("responses-stream/passthrough", |b| {
        b.iter(|| {
            let mut t =
                StreamTranslator::new(Dialect::OpenAiResponses, Dialect::OpenAiResponses, true);
            let mut sent = 0;
            for read in &reads {
                sent += t.push_bytes(black_box(read)).expect("passes").len();
            }
            black_box((sent, t.usage()))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    requests,
    same_dialect_patch,
    responses,
    streams,
    passthrough,
    responses_api,
    responses_own
);
criterion_main!(benches);
