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
                        (Ok(a), Ok(b)) => {
                            let a = serde_json::from_slice::<serde_json::Value>(&a.body).ok();
                            let b = serde_json::from_slice::<serde_json::Value>(&b.body).ok();
                            assert!(same_json(a.as_ref(), b.as_ref()), "{a:?} != {b:?}");
                        }
                        (a, b) => assert_eq!(a.is_ok(), b.is_ok()),
                    }
                }
            }
        }
        req.remove_metadata("priority");
    }
});

/// Equal JSON, numbers compared as numbers: the spliced body keeps the client's digits, while
/// the DOM path writes serde_json's reading of them, which for long digit runs (its default
/// float parsing is not correctly rounded) can differ in the last place.
fn same_json(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>) -> bool {
    use serde_json::Value;
    match (a, b) {
        (None, None) => true,
        (Some(Value::Number(x)), Some(Value::Number(y))) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-12,
            _ => x == y,
        },
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(Some(x), Some(y)))
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.len() == y.len() && x.iter().all(|(k, v)| same_json(Some(v), y.get(k)))
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
