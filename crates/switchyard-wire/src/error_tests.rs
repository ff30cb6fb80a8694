use super::*;
use serde_json::{json, Value};

fn body(status: u16) -> ErrorBody<'static> {
    ErrorBody {
        status,
        kind: "invalid_request_error",
        code: Some("model_not_found"),
        param: Some("model"),
        message: "no such model",
    }
}

fn as_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn renders_openai_shape() {
    assert_eq!(
        as_json(&render(Dialect::OpenAi, &body(404))),
        json!({"error":{"message":"no such model","type":"invalid_request_error","param":"model","code":"model_not_found"}})
    );
    let none = ErrorBody {
        code: None,
        param: None,
        ..body(400)
    };
    assert_eq!(
        as_json(&render(Dialect::OpenAi, &none)),
        json!({"error":{"message":"no such model","type":"invalid_request_error","param":null,"code":null}})
    );
}

#[test]
fn renders_anthropic_types_by_status() {
    let cases = [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ];
    for (status, kind) in cases {
        assert_eq!(
            as_json(&render(Dialect::Anthropic, &body(status))),
            json!({"type":"error","error":{"type":kind,"message":"no such model"}}),
            "{status}"
        );
    }
}

#[test]
fn renders_gemini_status_names() {
    let cases = [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (502, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ];
    for (status, name) in cases {
        assert_eq!(
            as_json(&render(Dialect::Gemini, &body(status))),
            json!({"error":{"code":status,"message":"no such model","status":name}}),
            "{status}"
        );
    }
}

#[test]
fn stream_error_events_are_framed_per_dialect() {
    let openai = stream_error_event(Dialect::OpenAi, &body(500));
    assert!(openai.starts_with(b"data: {\"error\":"));
    assert!(openai.ends_with(b"}\n\n"));
    let anthropic = stream_error_event(Dialect::Anthropic, &body(529));
    let text = std::str::from_utf8(&anthropic).unwrap();
    assert!(text.starts_with(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\""
    ));
    assert!(text.ends_with("}\n\n"));
}

#[test]
fn translates_each_provider_shape() {
    let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    assert_eq!(
        as_json(&translate_upstream_error(
            Dialect::OpenAi,
            Dialect::OpenAi,
            429,
            openai
        )),
        json!({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})
    );
    assert_eq!(
        as_json(&translate_upstream_error(
            Dialect::OpenAi,
            Dialect::Anthropic,
            429,
            openai
        )),
        json!({"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached"}})
    );
    let anthropic = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011"}"#;
    assert_eq!(
        as_json(&translate_upstream_error(
            Dialect::Anthropic,
            Dialect::OpenAi,
            529,
            anthropic
        )),
        json!({"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}})
    );
    let gemini = br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo"}]}}"#;
    assert_eq!(
        as_json(&translate_upstream_error(
            Dialect::Gemini,
            Dialect::OpenAi,
            400,
            gemini
        )),
        json!({"error":{"message":"API key not valid.","type":"invalid_request_error","param":null,"code":"INVALID_ARGUMENT"}})
    );
}

#[test]
fn unknown_fields_and_unparseable_bodies_are_never_echoed() {
    let sneaky = br#"{"error":{"message":"bad","type":"x","headers":{"authorization":"Bearer sk-secret"}},"echo":"sk-secret"}"#;
    let out = translate_upstream_error(Dialect::OpenAi, Dialect::OpenAi, 400, sneaky);
    assert!(!String::from_utf8_lossy(&out).contains("secret"));

    let html = b"<html>502 Bad Gateway Authorization: Bearer sk-secret</html>";
    for client in [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini] {
        let out = translate_upstream_error(Dialect::OpenAi, client, 502, html);
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("502"), "{text}");
    }

    let free_text_code =
        br#"{"error":{"message":"m","type":"invalid request: Bearer sk-secret","code":"a b"}}"#;
    let out = translate_upstream_error(Dialect::OpenAi, Dialect::OpenAi, 400, free_text_code);
    assert_eq!(
        as_json(&out),
        json!({"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}})
    );
}

#[test]
fn long_messages_are_capped_on_a_char_boundary() {
    let long = "é".repeat(2000);
    let raw = serde_json::to_vec(&json!({"error":{"message":long}})).unwrap();
    let parsed = parse_upstream_error(&raw).unwrap();
    assert!(parsed.message.len() <= MAX_MESSAGE_BYTES + "…".len());
    assert!(parsed.message.ends_with('…'));
}

#[test]
fn bare_compatible_server_shapes_are_understood() {
    assert_eq!(
        parse_upstream_error(br#"{"error":"boom"}"#)
            .unwrap()
            .message,
        "boom"
    );
    assert_eq!(
        parse_upstream_error(br#"{"detail":"nope"}"#)
            .unwrap()
            .message,
        "nope"
    );
    assert_eq!(
        parse_upstream_error(br#"{"message":"m"}"#).unwrap().message,
        "m"
    );
    assert!(parse_upstream_error(br#"{"other":1}"#).is_none());
    assert!(parse_upstream_error(b"").is_none());
}
