//! Any bytes as an upstream reply: decoding for every pair must never panic and must yield
//! JSON; error translation must always yield JSON and never echo the raw body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_wire::{decode_response, translate_upstream_error, Dialect};

const DIALECTS: [Dialect; 3] = [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini];

fuzz_target!(|data: &[u8]| {
    for upstream in DIALECTS {
        for client in [Dialect::OpenAi, Dialect::Anthropic] {
            if let Ok(decoded) = decode_response(upstream, client, data) {
                serde_json::from_slice::<serde_json::Value>(&decoded.body)
                    .expect("decoded body is JSON");
            }
            let status = 400 + u16::from(data.first().copied().unwrap_or(0)) % 200;
            let err = translate_upstream_error(upstream, client, status, data);
            serde_json::from_slice::<serde_json::Value>(&err).expect("error body is JSON");
        }
    }
});
