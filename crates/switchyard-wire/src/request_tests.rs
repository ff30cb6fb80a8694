use super::*;
use serde_json::json;

fn parse(dialect: Dialect, v: Value) -> Result<ChatRequest, TranslateError> {
    ChatRequest::parse(dialect, &serde_json::to_vec(&v).unwrap())
}

fn param_of(e: TranslateError) -> Option<String> {
    match e {
        TranslateError::InvalidRequest { param, .. } => param,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn target(dialect: Dialect) -> EncodeTarget<'static> {
    EncodeTarget {
        dialect,
        upstream_model: "gpt-4o-2024-08-06",
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    }
}

#[test]
fn parses_openai_fields() {
    let req = parse(
        Dialect::OpenAi,
        json!({"model":"chat","messages":[],"stream":true,
               "stream_options":{"include_usage":true},"max_tokens":10,"max_completion_tokens":20}),
    )
    .unwrap();
    assert_eq!(req.model, "chat");
    assert!(req.stream && req.include_usage);
    assert_eq!(req.max_output_tokens, Some(20));

    let req = parse(
        Dialect::OpenAi,
        json!({"model":"m","messages":[],"max_tokens":7,"stream":null}),
    )
    .unwrap();
    assert!(!req.stream && !req.include_usage);
    assert_eq!(req.max_output_tokens, Some(7));
}

#[test]
fn anthropic_requires_max_tokens_and_always_reports_usage() {
    let e = parse(Dialect::Anthropic, json!({"model":"m","messages":[]})).unwrap_err();
    assert_eq!(param_of(e), Some("max_tokens".into()));
    let req = parse(
        Dialect::Anthropic,
        json!({"model":"m","messages":[],"max_tokens":100}),
    )
    .unwrap();
    assert!(req.include_usage);
    assert_eq!(req.max_output_tokens, Some(100));
}

#[test]
fn rejects_bad_json_and_ill_typed_fields() {
    assert!(matches!(
        ChatRequest::parse(Dialect::OpenAi, b"{nope"),
        Err(TranslateError::InvalidJson(_))
    ));
    assert!(matches!(
        ChatRequest::parse(Dialect::OpenAi, b"[1]"),
        Err(TranslateError::InvalidJson(_))
    ));
    let cases = [
        (json!({"messages":[]}), "model"),
        (json!({"model":5,"messages":[]}), "model"),
        (json!({"model":"m"}), "messages"),
        (json!({"model":"m","messages":{}}), "messages"),
        (json!({"model":"m","messages":[],"stream":"yes"}), "stream"),
        (
            json!({"model":"m","messages":[],"max_tokens":-1}),
            "max_tokens",
        ),
        (
            json!({"model":"m","messages":[],"max_completion_tokens":"9"}),
            "max_completion_tokens",
        ),
    ];
    for (body, param) in cases {
        let e = parse(Dialect::OpenAi, body.clone()).unwrap_err();
        assert_eq!(param_of(e), Some(param.into()), "{body}");
    }
}

#[test]
fn metadata_helpers_read_and_remove() {
    let mut req = parse(
        Dialect::OpenAi,
        json!({"model":"m","messages":[],"metadata":{"priority":"high","n":1}}),
    )
    .unwrap();
    assert_eq!(req.metadata_str("priority"), Some("high"));
    assert_eq!(req.metadata_str("n"), None);
    req.remove_metadata("priority");
    assert!(req.body().contains_key("metadata"));
    req.remove_metadata("n");
    assert!(!req.body().contains_key("metadata"));
    req.remove_metadata("absent");
}

#[test]
fn openai_passthrough_renames_model_and_forces_stream_usage() {
    let req = parse(
        Dialect::OpenAi,
        json!({"model":"chat","messages":[{"role":"user","content":"hi"}],"stream":true,
               "stream_options":{"include_obfuscation":false},"temperature":0.2}),
    )
    .unwrap();
    let enc = encode_request(&req, &target(Dialect::OpenAi)).unwrap();
    let out: Value = serde_json::from_slice(&enc.body).unwrap();
    assert_eq!(
        out,
        json!({"model":"gpt-4o-2024-08-06","messages":[{"role":"user","content":"hi"}],"stream":true,
               "stream_options":{"include_obfuscation":false,"include_usage":true},"temperature":0.2})
    );
    assert!(enc.dropped_params.is_empty());
}

#[test]
fn openai_passthrough_leaves_non_stream_options_alone() {
    let req = parse(Dialect::OpenAi, json!({"model":"chat","messages":[]})).unwrap();
    let enc = encode_request(&req, &target(Dialect::OpenAi)).unwrap();
    let out: Value = serde_json::from_slice(&enc.body).unwrap();
    assert_eq!(out, json!({"model":"gpt-4o-2024-08-06","messages":[]}));
}

#[test]
fn anthropic_top_k_reaches_gemini_and_is_dropped_for_openai() {
    let req = parse(
        Dialect::Anthropic,
        json!({"model":"m","max_tokens":64,"top_k":40,"messages":[{"role":"user","content":"hi"}]}),
    )
    .unwrap();
    let gemini = encode_request(&req, &target(Dialect::Gemini)).unwrap();
    let body: Value = serde_json::from_slice(&gemini.body).unwrap();
    assert_eq!(body["generationConfig"]["topK"], 40);
    assert!(
        gemini.dropped_params.is_empty(),
        "{:?}",
        gemini.dropped_params
    );

    let openai = encode_request(&req, &target(Dialect::OpenAi)).unwrap();
    let body: Value = serde_json::from_slice(&openai.body).unwrap();
    assert!(body.get("top_k").is_none(), "{body}");
    assert_eq!(openai.dropped_params, ["top_k"]);

    let strict = EncodeTarget {
        strict_params: true,
        ..target(Dialect::Gemini)
    };
    let err = encode_request(
        &parse(
            Dialect::Anthropic,
            json!({"model":"m","max_tokens":64,"container":"c","messages":[]}),
        )
        .unwrap(),
        &strict,
    )
    .unwrap_err();
    assert_eq!(
        err,
        TranslateError::UnsupportedParam {
            param: "container".into(),
            target: "gemini".into()
        },
        "a strict refusal names the real target"
    );
}

#[test]
fn anthropic_max_tokens_keeps_its_old_name_for_legacy_openai_servers() {
    let req = parse(
        Dialect::Anthropic,
        json!({"model":"m","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}),
    )
    .unwrap();
    let body = |legacy: bool| -> Value {
        let t = EncodeTarget {
            legacy_max_tokens: legacy,
            ..target(Dialect::OpenAi)
        };
        serde_json::from_slice(&encode_request(&req, &t).unwrap().body).unwrap()
    };
    assert_eq!(body(false)["max_completion_tokens"], 64);
    assert!(body(false).get("max_tokens").is_none());
    assert_eq!(body(true)["max_tokens"], 64);
    assert!(body(true).get("max_completion_tokens").is_none());

    // An OpenAI client's own choice of name passes through either way.
    let own = parse(
        Dialect::OpenAi,
        json!({"model":"m","max_completion_tokens":9,"messages":[]}),
    )
    .unwrap();
    let t = EncodeTarget {
        legacy_max_tokens: true,
        ..target(Dialect::OpenAi)
    };
    let out: Value = serde_json::from_slice(&encode_request(&own, &t).unwrap().body).unwrap();
    assert_eq!(out["max_completion_tokens"], 9);
}

#[test]
fn stream_options_are_left_out_for_servers_that_refuse_them() {
    let t = EncodeTarget {
        stream_usage: false,
        ..target(Dialect::OpenAi)
    };
    for (dialect, body) in [
        (
            Dialect::OpenAi,
            json!({"model":"m","stream":true,"stream_options":{"include_usage":true},
                   "messages":[{"role":"user","content":"hi"}]}),
        ),
        (
            Dialect::Anthropic,
            json!({"model":"m","stream":true,"max_tokens":9,
                   "messages":[{"role":"user","content":"hi"}]}),
        ),
    ] {
        let req = parse(dialect, body).unwrap();
        let out: Value = serde_json::from_slice(&encode_request(&req, &t).unwrap().body).unwrap();
        assert!(out.get("stream_options").is_none(), "{out}");
        assert_eq!(out["stream"], true);
    }
}

#[test]
fn anthropic_thinking_budget_reaches_gemini_exactly_and_is_dropped_for_openai() {
    let req = parse(
        Dialect::Anthropic,
        json!({"model":"m","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":2048},
               "messages":[{"role":"user","content":"hi"}]}),
    )
    .unwrap();
    let gemini = encode_request(&req, &target(Dialect::Gemini)).unwrap();
    let body: Value = serde_json::from_slice(&gemini.body).unwrap();
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 2048, "includeThoughts": true})
    );
    assert!(
        gemini.dropped_params.is_empty(),
        "{:?}",
        gemini.dropped_params
    );
    let openai = encode_request(&req, &target(Dialect::OpenAi)).unwrap();
    assert_eq!(openai.dropped_params, ["thinking"]);
    let body: Value = serde_json::from_slice(&openai.body).unwrap();
    assert!(body.get("thinking_budget").is_none(), "{body}");
}

#[test]
fn malformed_json_gets_serde_jsons_own_error() {
    for body in [
        "",
        "{",
        "[1,2",
        "\"text\"",
        r#"{"model":"m","messages":[}"#,
        r#"{"model":"m","messages":[],}"#,
        r#"{"model":"m","messages":[]} trailing"#,
        r#"{"model":"m","messages":[],"t":1e400}"#,
        r#"{"model":"m","messages":[{"content":"\ud800"}]}"#,
        r#"{"model":"m","messages":[{"content":"\q"}]}"#,
    ] {
        let want = match serde_json::from_slice::<Value>(body.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(_) => "expected a JSON object".to_owned(),
        };
        for dialect in [
            Dialect::OpenAi,
            Dialect::Anthropic,
            Dialect::OpenAiResponses,
        ] {
            match ChatRequest::parse(dialect, body.as_bytes()) {
                Err(TranslateError::InvalidJson(got)) => assert_eq!(got, want, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}

/// A Responses body is parsed straight into its DOM, not indexed first: its `model` is still
/// checked exactly as on the indexed path (same error, parameter and message), and the DOM is
/// the client's object.
#[test]
fn a_responses_request_goes_straight_to_its_dom_with_the_same_model_checks() {
    for body in [
        r#"{"input":"hi"}"#,
        r#"{"model":"","input":"hi"}"#,
        r#"{"model":5,"input":"hi"}"#,
        r#"{"model":null,"input":"hi"}"#,
        r#"{"model":["m"],"input":"hi"}"#,
        r#"{"model":"m","model":7,"input":"hi"}"#,
        r#"{"model":"m","t":1e400}"#,
        r#"{"model":"m","input":"\ud800"}"#,
    ] {
        let indexed = ChatRequest::parse(Dialect::OpenAi, body.as_bytes()).unwrap_err();
        let direct = ChatRequest::parse(Dialect::OpenAiResponses, body.as_bytes()).unwrap_err();
        assert_eq!(direct, indexed, "{body}");
        assert!(
            matches!(&direct, TranslateError::InvalidJson(_))
                || param_of(direct).as_deref() == Some("model"),
            "{body}"
        );
    }
    let body = br#"{"model":"x","model":"m","input":"hi","stream":true,"max_output_tokens":9}"#;
    let req = ChatRequest::parse(Dialect::OpenAiResponses, body).unwrap();
    assert_eq!(req.raw_bytes(), None);
    assert_eq!(
        (req.model.as_str(), req.stream, req.max_output_tokens),
        ("m", true, Some(9))
    );
    assert_eq!(
        Value::Object(req.body().clone()),
        json!({"model": "m", "input": "hi", "stream": true, "max_output_tokens": 9})
    );
}

#[test]
fn same_dialect_bodies_are_spliced_and_equal_the_dom_encoding() {
    let body = br#"{ "stream_options": {"x": 1}, "model": "chat", "messages": [{"role": "user", "content": "hi", "model": "inner"}], "stream": true, "metadata": {"priority": "high", "k": "v"} }"#;
    let req = ChatRequest::parse(Dialect::OpenAi, body).unwrap();
    let mut dom = req.clone();
    dom.body_mut();
    for stream_usage in [true, false] {
        let t = EncodeTarget {
            stream_usage,
            ..target(Dialect::OpenAi)
        };
        let spliced = encode_request(&req, &t).unwrap().body;
        let written = encode_request(&dom, &t).unwrap().body;
        assert_eq!(
            serde_json::from_slice::<Value>(&spliced).unwrap(),
            serde_json::from_slice::<Value>(&written).unwrap()
        );
        // The client's spacing and member order survive: only the gateway's members changed.
        let text = String::from_utf8(spliced).unwrap();
        assert!(text.starts_with(r#"{ "#), "{text}");
        assert!(text.contains(r#""model": "gpt-4o-2024-08-06""#), "{text}");
        assert!(
            text.contains(r#""content": "hi", "model": "inner""#),
            "{text}"
        );
    }
    // An edit (routing removing its hint) switches to the DOM, so the edit is kept.
    let mut edited = req.clone();
    edited.remove_metadata("priority");
    let out: Value = serde_json::from_slice(
        &encode_request(&edited, &target(Dialect::OpenAi))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(out["metadata"], json!({"k": "v"}));
    for (dialect, body) in [
        (
            Dialect::Anthropic,
            &br#"{"model":"c","max_tokens":5,"messages":[]}"#[..],
        ),
        (
            Dialect::OpenAiResponses,
            &br#"{"model":"c","input":"hi","store":false}"#[..],
        ),
    ] {
        let req = ChatRequest::parse(dialect, body).unwrap();
        let out: Value =
            serde_json::from_slice(&encode_request(&req, &target(dialect)).unwrap().body).unwrap();
        assert_eq!(out["model"], "gpt-4o-2024-08-06");
    }
}

/// A Responses request to a Responses upstream is spliced from the client's bytes (indexed in
/// the same parse as its DOM): spacing and member order kept, only `model` replaced; an edit
/// switches it to the DOM, so the edit is kept.
#[test]
fn a_responses_pass_through_is_spliced_until_edited() {
    let body = br#"{ "input": [{"role": "user", "content": "hi", "model": "inner"}], "model" : "route", "max_output_tokens": 900 }"#;
    let mut req = ChatRequest::parse(Dialect::OpenAiResponses, body).unwrap();
    assert_eq!(
        req.raw_bytes(),
        None,
        "filters see no raw bytes: the DOM is built"
    );
    let t = target(Dialect::OpenAiResponses);
    let out = encode_request(&req, &t).unwrap().body;
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{ "input": [{"role": "user", "content": "hi", "model": "inner"}], "model" : "gpt-4o-2024-08-06", "max_output_tokens": 900}"#
    );
    assert_eq!(req.clamp_max_output_tokens(100), ["max_output_tokens"]);
    let out: Value = serde_json::from_slice(&encode_request(&req, &t).unwrap().body).unwrap();
    assert_eq!(
        out,
        json!({"input": [{"role": "user", "content": "hi", "model": "inner"}],
            "model": "gpt-4o-2024-08-06", "max_output_tokens": 100})
    );
    // An escaped key: no index, written from the DOM.
    let req = ChatRequest::parse(
        Dialect::OpenAiResponses,
        br#"{"mod\u0065l":"r","input":"x"}"#,
    )
    .unwrap();
    let out: Value = serde_json::from_slice(&encode_request(&req, &t).unwrap().body).unwrap();
    assert_eq!(out, json!({"model": "gpt-4o-2024-08-06", "input": "x"}));
}
