//! Any bytes as a client body, in both inbound dialects: parsing must never panic, malformed
//! JSON gets serde_json's own error, every successful encoding, to every upstream, strict or
//! not, must be a JSON object, and a same-dialect body spliced from the client's bytes must
//! equal the one written from the DOM.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_wire::{encode_request, ChatRequest, Dialect, EncodeTarget, TranslateError};

const DIALECTS: [Dialect; 3] = [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini];

fuzz_target!(|data: &[u8]| {
    let json_error = serde_json::from_slice::<serde_json::Value>(data)
        .err()
        .map(|e| e.to_string());
    for inbound in [Dialect::OpenAi, Dialect::Anthropic] {
        let parsed = ChatRequest::parse(inbound, data);
        if let Some(want) = &json_error {
            match &parsed {
                Err(TranslateError::InvalidJson(got)) => assert_eq!(got, want),
                other => panic!("malformed JSON parsed as {other:?}"),
            }
        }
        let Ok(mut req) = parsed else {
            continue;
        };
        let mut dom = req.clone();
        dom.body_mut();
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
                let spliced = encode_request(&req, &target);
                if let Ok(enc) = &spliced {
                    let v: serde_json::Value =
                        serde_json::from_slice(&enc.body).expect("encoded body is JSON");
                    assert!(v.is_object(), "encoded body is an object");
                }
                if upstream == inbound {
                    let from_dom = encode_request(&dom, &target);
                    match (spliced, from_dom) {
                        (Ok(a), Ok(b)) => assert_eq!(
                            serde_json::from_slice::<serde_json::Value>(&a.body).ok(),
                            serde_json::from_slice::<serde_json::Value>(&b.body).ok(),
                        ),
                        (a, b) => assert_eq!(a.is_ok(), b.is_ok()),
                    }
                }
            }
        }
        req.remove_metadata("priority");
    }
});
