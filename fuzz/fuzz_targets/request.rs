//! Any bytes as a client body, in both inbound dialects: parsing must never panic, and every
//! successful encoding, to every upstream, strict or not, must be a JSON object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_wire::{encode_request, ChatRequest, Dialect, EncodeTarget};

const DIALECTS: [Dialect; 3] = [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini];

fuzz_target!(|data: &[u8]| {
    for inbound in [Dialect::OpenAi, Dialect::Anthropic] {
        let Ok(mut req) = ChatRequest::parse(inbound, data) else {
            continue;
        };
        let _ = req.metadata_str("priority");
        for upstream in DIALECTS {
            for strict in [false, true] {
                let target = EncodeTarget {
                    dialect: upstream,
                    upstream_model: "fuzz-model",
                    default_max_output_tokens: Some(1000),
                    strict_params: strict,
                    legacy_max_tokens: !strict,
                    stream_usage: strict,
                };
                if let Ok(enc) = encode_request(&req, &target) {
                    let v: serde_json::Value =
                        serde_json::from_slice(&enc.body).expect("encoded body is JSON");
                    assert!(v.is_object(), "encoded body is an object");
                }
            }
        }
        req.remove_metadata("priority");
    }
});
