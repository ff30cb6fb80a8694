//! Bedrock's per-request costs: SigV4 signing of a ~1 KB Converse request, and decoding a
//! ConverseStream answer (24 event-stream frames, CRCs checked) into the client's SSE.

use std::hint::black_box;
use std::time::SystemTime;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use switchyard_config::{Config, MapEnv};
use switchyard_filter::UpstreamRequest;
use switchyard_filters::sigv4::Signers;
use switchyard_wire::bedrock::{encode_frame, model_path};
use switchyard_wire::{Dialect, StreamTranslator};

const YAML: &str = "version: 1\nauth: { disabled: true }\nproviders:\n  - { id: aws, type: bedrock, region: us-east-1 }\nmodels:\n  - { id: claude, provider: aws, model: us.anthropic.claude-sonnet-4-5-20250929-v1:0 }\n";

fn signing(c: &mut Criterion) {
    let env = MapEnv::new()
        .with_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .with_var(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .with_var("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLEtoken");
    let config = Config::from_yaml_str(YAML, &env).expect("bench config");
    let signers = Signers::new(&config);
    let provider = &config.providers[0];
    let body = serde_json::to_vec(&json!({
        "system": [{"text": "You are a concise assistant."}],
        "messages": [{"role": "user", "content": [{"text": "The circuit breaker opens after repeated upstream failures. ".repeat(14)}]}],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.2}
    }))
    .expect("json");
    let mut base = UpstreamRequest::new(0);
    base.path = model_path("us.anthropic.claude-sonnet-4-5-20250929-v1:0", false)
        .expect("path")
        .into();
    base.body = Bytes::from(body);
    c.bench_function("bedrock/sigv4_sign_1KB", |b| {
        b.iter(|| {
            let mut up = UpstreamRequest::new(0);
            up.path.clone_from(&base.path);
            up.body = base.body.clone();
            signers
                .sign(0, provider, &mut up, SystemTime::now())
                .expect("signed");
            black_box(up.headers.len())
        });
    });
}

fn stream_frames() -> Vec<u8> {
    let mut frames = vec![encode_frame(
        "event",
        "messageStart",
        br#"{"role":"assistant"}"#,
    )];
    for i in 0..20 {
        let payload = json!({"contentBlockIndex": 0, "delta": {"text": format!("token {i} of a streamed answer, ")}, "p": "abcdefghijkl"});
        frames.push(encode_frame(
            "event",
            "contentBlockDelta",
            &serde_json::to_vec(&payload).expect("json"),
        ));
    }
    frames.push(encode_frame(
        "event",
        "contentBlockStop",
        br#"{"contentBlockIndex":0}"#,
    ));
    frames.push(encode_frame(
        "event",
        "messageStop",
        br#"{"stopReason":"end_turn"}"#,
    ));
    frames.push(encode_frame("event", "metadata", br#"{"usage":{"inputTokens":250,"outputTokens":120,"totalTokens":370},"metrics":{"latencyMs":900}}"#));
    frames.concat()
}

fn decoding(c: &mut Criterion) {
    let bytes = stream_frames();
    // One network read per frame boundary would be ideal; real reads split frames anywhere,
    // so the stream is fed in 256-byte pieces.
    for (name, client) in [
        ("openai", Dialect::OpenAi),
        ("anthropic", Dialect::Anthropic),
    ] {
        c.bench_function(
            &format!("bedrock/converse_stream_24_frames_to_{name}"),
            |b| {
                b.iter(|| {
                    let mut t =
                        StreamTranslator::new(Dialect::Bedrock, client, true).with_model("claude");
                    let mut out = Vec::with_capacity(8192);
                    for piece in bytes.chunks(256) {
                        t.push(piece, &mut out).expect("push");
                    }
                    t.finish(&mut out).expect("finish");
                    black_box(out.len())
                });
            },
        );
    }
}

criterion_group!(benches, signing, decoding);
criterion_main!(benches);
