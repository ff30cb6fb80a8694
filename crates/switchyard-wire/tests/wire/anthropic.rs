//! Anthropic behaviour beyond the golden files: passthrough, strict params, defaults, the
//! JSON-output tool, truncation and errors.

use crate::common::*;
use serde_json::{json, Value};
use switchyard_wire::{
    decode_response, encode_request, translate_upstream_error, ChatRequest, Dialect, EncodeTarget,
    StreamTranslator, TranslateError, Usage,
};

const OA: Dialect = Dialect::OpenAi;
const AN: Dialect = Dialect::Anthropic;

fn target(dialect: Dialect, strict: bool, default_max: Option<u64>) -> EncodeTarget<'static> {
    EncodeTarget {
        dialect,
        upstream_model: "upstream-model",
        default_max_output_tokens: default_max,
        strict_params: strict,
        legacy_max_tokens: false,
        stream_usage: true,
    }
}

fn encode(
    from: Dialect,
    body: Value,
    t: &EncodeTarget,
) -> Result<(Value, Vec<String>), TranslateError> {
    let req = ChatRequest::parse(from, &serde_json::to_vec(&body).unwrap())?;
    let enc = encode_request(&req, t)?;
    Ok((
        serde_json::from_slice(&enc.body).unwrap(),
        enc.dropped_params,
    ))
}

#[test]
fn anthropic_passthrough_renames_model_and_keeps_everything_else() {
    let body = json!({"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"hi"}],
                      "thinking":{"type":"enabled","budget_tokens":1024},"top_k":5,"stream":true});
    let (out, dropped) = encode(AN, body.clone(), &target(AN, true, None)).unwrap();
    let mut want = body;
    want["model"] = json!("upstream-model");
    assert_eq!(out, want);
    assert!(dropped.is_empty());
}

#[test]
fn anthropic_passthrough_restores_a_removed_max_tokens() {
    let raw = br#"{"model":"c","max_tokens":50,"messages":[]}"#;
    let mut req = ChatRequest::parse(AN, raw).unwrap();
    req.body_mut().remove("max_tokens");
    req.max_output_tokens = None;
    let enc = encode_request(&req, &target(AN, false, Some(777))).unwrap();
    let out: Value = serde_json::from_slice(&enc.body).unwrap();
    assert_eq!(out["max_tokens"], 777);
}

#[test]
fn max_tokens_defaults_to_target_then_4096() {
    let body = json!({"model":"m","messages":[{"role":"user","content":"hi"}]});
    let (out, _) = encode(OA, body.clone(), &target(AN, false, Some(8192))).unwrap();
    assert_eq!(out["max_tokens"], 8192);
    let (out, _) = encode(OA, body, &target(AN, false, None)).unwrap();
    assert_eq!(out["max_tokens"], 4096);
}

#[test]
fn strict_params_refuse_what_would_be_dropped() {
    let body =
        json!({"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":2}});
    let err = encode(OA, body.clone(), &target(AN, true, None)).unwrap_err();
    assert_eq!(
        err,
        TranslateError::UnsupportedParam {
            param: "logit_bias".into(),
            target: "anthropic".into()
        }
    );
    let (_, dropped) = encode(OA, body, &target(AN, false, None)).unwrap();
    assert_eq!(dropped, vec!["logit_bias"]);

    let neutral =
        json!({"model":"m","messages":[],"n":1,"presence_penalty":0,"logprobs":false,"seed":null});
    assert!(encode(OA, neutral, &target(AN, true, None)).is_ok());

    let anthropic = json!({"model":"m","max_tokens":10,"messages":[],"top_k":3});
    let err = encode(AN, anthropic, &target(OA, true, None)).unwrap_err();
    assert_eq!(
        err,
        TranslateError::UnsupportedParam {
            param: "top_k".into(),
            target: "openai".into()
        }
    );
}

#[test]
fn reasoning_is_dropped_when_max_tokens_leaves_no_budget() {
    let body = json!({"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low","max_tokens":1500});
    let (out, dropped) = encode(OA, body, &target(AN, false, None)).unwrap();
    assert!(out.get("thinking").is_none());
    assert_eq!(dropped, vec!["reasoning_effort"]);
}

#[test]
fn unsendable_content_is_a_client_error_naming_the_part() {
    let body = json!({"model":"m","messages":[{"role":"user","content":[
        {"type":"text","text":"listen"},{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]});
    match encode(OA, body, &target(AN, false, None)) {
        Err(TranslateError::InvalidRequest { param, .. }) => {
            assert_eq!(param.as_deref(), Some("messages[0].content[1]"))
        }
        other => panic!("{other:?}"),
    }
    let bad_url = json!({"model":"m","messages":[{"role":"user","content":[
        {"type":"image_url","image_url":{"url":"data:image/png,notbase64"}}]}]});
    assert!(matches!(
        encode(OA, bad_url, &target(AN, false, None)),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

#[test]
fn malformed_tool_arguments_are_kept_not_lost() {
    let body = json!({"model":"m","messages":[{"role":"assistant","tool_calls":[
        {"id":"c1","type":"function","function":{"name":"f","arguments":"not json"}}]}]});
    let (out, _) = encode(OA, body, &target(AN, false, None)).unwrap();
    assert_eq!(
        out["messages"][0]["content"][0]["input"],
        json!({"arguments":"not json"})
    );
}

#[test]
fn json_tool_answer_becomes_message_text() {
    let reply = json!({"id":"msg_1","type":"message","role":"assistant","model":"claude",
        "content":[{"type":"tool_use","id":"toolu_1","name":"switchyard_json_response","input":{"name":"Jane","age":34}}],
        "stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}});
    let out = decode_response(AN, OA, &serde_json::to_vec(&reply).unwrap()).unwrap();
    let body: Value = serde_json::from_slice(&out.body).unwrap();
    let msg = &body["choices"][0]["message"];
    assert_eq!(
        serde_json::from_str::<Value>(msg["content"].as_str().unwrap()).unwrap(),
        json!({"name":"Jane","age":34})
    );
    assert!(msg.get("tool_calls").is_none());
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    let stream = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"switchyard_json_response\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":1}\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":4}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let run = run_every_split(AN, OA, false, stream.as_bytes());
    let text = String::from_utf8(run.out).unwrap();
    assert!(
        text.contains(r#""delta":{"content":"{\"a\":1}"}"#),
        "{text}"
    );
    assert!(text.contains(r#""finish_reason":"stop""#), "{text}");
    assert!(!text.contains("tool_calls"), "{text}");
    assert_eq!(
        run.usage,
        Some(Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            cached_tokens: 0,
            reasoning_tokens: 0,
            ..Usage::default()
        })
    );
}

#[test]
fn anthropic_stream_passthrough_is_byte_identical_and_metered() {
    let input = fixture("anthropic/stream_tools.sse");
    let run = run_every_split(AN, AN, false, &input);
    assert_eq!(run.out, input);
    assert!(run.done);
    assert_eq!(run.events, 22);
    assert_eq!(
        run.usage,
        Some(Usage {
            prompt_tokens: 2312,
            completion_tokens: 142,
            cached_tokens: 1800,
            reasoning_tokens: 0,
            ..Usage::default()
        })
    );
    for variant in [crlf(&input), cr(&input)] {
        let r = run_every_split(AN, AN, false, &variant);
        assert_eq!(r.out, input, "normalized to LF");
    }
}

#[test]
fn anthropic_stream_error_is_re_rendered_and_ends_the_stream() {
    let input = fixture("anthropic/stream_error.sse");
    let run = run_every_split(AN, AN, true, &input);
    assert_eq!(run.finish, Ok(()));
    assert_eq!(run.error.as_deref(), Some("Overloaded"));
    let text = String::from_utf8(run.out).unwrap();
    assert!(text.ends_with(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
    ));
}

#[test]
fn truncated_streams_report_malformed_in_every_pair() {
    for (from, to, file) in [
        (AN, OA, "anthropic/stream_text.sse"),
        (AN, AN, "anthropic/stream_text.sse"),
        (OA, AN, "openai/stream_text.sse"),
    ] {
        let input = fixture(file);
        let cut = &input[..input.len() * 2 / 3];
        let run = run_every_split(from, to, true, cut);
        assert!(
            matches!(run.finish, Err(TranslateError::MalformedUpstream(_))),
            "{file}"
        );
        assert!(!run.done);
    }
}

#[test]
fn openai_to_anthropic_stream_without_usage_still_closes_the_message() {
    let input = b"data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";
    let run = run_every_split(OA, AN, true, input);
    let text = String::from_utf8(run.out).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(text.contains(r#""stop_reason":"max_tokens""#));
    assert_eq!(run.usage, None);
}

#[test]
fn malformed_event_json_is_an_upstream_error() {
    let mut t = StreamTranslator::new(AN, OA, false);
    let err = t
        .push(b"event: message_start\ndata: {nope\n\n", &mut Vec::new())
        .unwrap_err();
    assert!(matches!(err, TranslateError::MalformedUpstream(_)));
    let mut t = StreamTranslator::new(OA, AN, false);
    let err = t.push(b"data: [1,2]\n\n", &mut Vec::new()).unwrap_err();
    assert!(matches!(err, TranslateError::MalformedUpstream(_)));
}

#[test]
fn created_timestamp_can_be_stamped() {
    let input = fixture("anthropic/stream_text.sse");
    let mut t = StreamTranslator::new(AN, OA, false).with_created(1_751_900_000);
    let mut out = Vec::new();
    t.push(&input, &mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("\"created\":1751900000"));
    let body = fixture("anthropic/response_text.json");
    let decoded = switchyard_wire::decode_response_at(AN, OA, &body, 42).unwrap();
    let v: Value = serde_json::from_slice(&decoded.body).unwrap();
    assert_eq!(v["created"], 42);
}

#[test]
fn anthropic_response_passthrough_reads_usage() {
    let body = fixture("anthropic/response_tools.json");
    let out = decode_response(AN, AN, &body).unwrap();
    assert_eq!(out.body, body);
    assert_eq!(
        out.usage,
        Some(Usage {
            prompt_tokens: 2412,
            completion_tokens: 142,
            cached_tokens: 1800,
            reasoning_tokens: 0,
            cache_write_tokens: 100,
            ..Usage::default()
        })
    );
    assert!(matches!(
        decode_response(AN, OA, b"{\"type\":\"message\"}"),
        Err(TranslateError::MalformedUpstream(_))
    ));
    assert!(matches!(
        decode_response(OA, AN, b"{\"choices\":[]}"),
        Err(TranslateError::MalformedUpstream(_))
    ));
}

#[test]
fn anthropic_error_bodies_translate_both_ways() {
    let body = fixture("anthropic/error_529.json");
    let to_openai: Value =
        serde_json::from_slice(&translate_upstream_error(AN, OA, 529, &body)).unwrap();
    assert_eq!(
        to_openai,
        json!({"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}})
    );
    let same: Value =
        serde_json::from_slice(&translate_upstream_error(AN, AN, 529, &body)).unwrap();
    assert_eq!(
        same,
        json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})
    );
    let body = fixture("anthropic/error_400.json");
    let to_openai: Value =
        serde_json::from_slice(&translate_upstream_error(AN, OA, 400, &body)).unwrap();
    assert_eq!(to_openai["error"]["type"], "invalid_request_error");
    assert!(to_openai["error"].get("request_id").is_none());
}

#[test]
fn requests_reach_gemini_from_both_dialects() {
    let gemini = target(Dialect::Gemini, false, None);
    let openai = json!({"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":50});
    let (out, _) = encode(OA, openai, &gemini).unwrap();
    assert_eq!(out["contents"][0]["parts"][0]["text"], "hi");
    assert_eq!(out["systemInstruction"]["parts"][0]["text"], "be brief");

    let anthropic = json!({"model":"m","max_tokens":50,"system":"be brief","top_k":4,
                           "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]});
    let (out, dropped) = encode(AN, anthropic, &gemini).unwrap();
    assert_eq!(out["contents"][0]["parts"][0]["text"], "hi");
    // Gemini takes top_k (as topK), so nothing is lost on the way through the canonical form.
    assert_eq!(out["generationConfig"]["topK"], 4);
    assert!(dropped.is_empty(), "{dropped:?}");
}
