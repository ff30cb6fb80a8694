//! OpenAI upstream to OpenAI client: bytes forwarded, usage metered, errors re-rendered.

use crate::common::*;
use serde_json::{json, Value};
use switchyard_wire::{decode_response, translate_upstream_error, Dialect, TranslateError, Usage};

const OA: Dialect = Dialect::OpenAi;

#[test]
fn text_stream_forwards_every_chunk_and_hides_usage_unless_asked() {
    let input = fixture("openai/stream_text.sse");
    let hidden = run_every_split(OA, OA, false, &input);
    assert_eq!(hidden.finish, Ok(()));
    assert!(hidden.done);
    assert_eq!(hidden.events, 21);
    assert_eq!(
        hidden.usage,
        Some(Usage {
            prompt_tokens: 231,
            completion_tokens: 17,
            cached_tokens: 0,
            reasoning_tokens: 0,
            ..Usage::default()
        })
    );
    let lines = data_lines(&hidden.out);
    assert_eq!(
        lines.len(),
        20,
        "19 content chunks and [DONE], no usage chunk"
    );
    assert!(lines.iter().all(|l| !l.contains("\"usage\"")));
    assert_eq!(lines.last().map(String::as_str), Some("[DONE]"));

    let shown = run_every_split(OA, OA, true, &input);
    assert_eq!(
        shown.out, input,
        "with usage wanted the stream is byte-identical"
    );
}

#[test]
fn crlf_and_cr_streams_translate_like_lf() {
    let input = fixture("openai/stream_tool_calls.sse");
    let lf = run_every_split(OA, OA, true, &input);
    for variant in [crlf(&input), cr(&input)] {
        assert_eq!(run_every_split(OA, OA, true, &variant), lf);
    }
    assert_eq!(lf.out, input);
    assert_eq!(
        lf.usage,
        Some(Usage {
            prompt_tokens: 85,
            completion_tokens: 48,
            cached_tokens: 64,
            reasoning_tokens: 0,
            ..Usage::default()
        })
    );
}

#[test]
fn null_usage_on_content_chunks_is_not_parsed_as_a_report() {
    let input = fixture("openai/stream_tool_calls.sse");
    let run = run(OA, OA, false, &[&input]);
    // Every content chunk carries `"usage":null` and must still be forwarded.
    assert_eq!(data_lines(&run.out).len(), 12);
}

#[test]
fn stream_without_done_is_malformed_and_a_cut_event_is_dropped() {
    let input = fixture("openai/stream_text.sse");
    let cut = input.len() - "data: [DONE]\n\n".len() - 40;
    let truncated = run_every_split(OA, OA, true, &input[..cut]);
    assert!(matches!(
        truncated.finish,
        Err(TranslateError::MalformedUpstream(_))
    ));
    assert!(!truncated.done);
    assert_eq!(truncated.usage, None, "the cut usage chunk never parsed");
    assert!(
        truncated.out.ends_with(b"}\n\n"),
        "only whole events are emitted"
    );
    assert_eq!(data_lines(&truncated.out).len(), 19);
}

#[test]
fn done_without_trailing_blank_line_still_finishes() {
    let run = run(
        OA,
        OA,
        false,
        &[b"data: {\"choices\":[]}\n\ndata: [DONE]\n"],
    );
    assert_eq!(run.finish, Ok(()));
    assert!(run.done);
}

#[test]
fn in_stream_error_becomes_client_error_event() {
    let input = fixture("openai/stream_error.sse");
    let run = run_every_split(OA, OA, false, &input);
    assert_eq!(run.finish, Ok(()), "the error event was the stream's end");
    assert_eq!(
        run.error.as_deref(),
        Some("The server had an error while processing your request. Sorry about that!")
    );
    let last: Value = serde_json::from_str(data_lines(&run.out).last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "server_error");
}

#[test]
fn gemini_is_not_a_client_dialect() {
    let mut t = switchyard_wire::StreamTranslator::new(OA, Dialect::Gemini, false);
    let err = t.push(b"data: {}\n\n", &mut Vec::new()).unwrap_err();
    assert!(matches!(err, TranslateError::InvalidRequest { .. }));
    assert!(matches!(
        t.finish(&mut Vec::new()),
        Err(TranslateError::InvalidRequest { .. })
    ));
    assert!(matches!(
        decode_response(OA, Dialect::Gemini, b"{}"),
        Err(TranslateError::InvalidRequest { .. })
    ));
}

#[test]
fn response_passes_through_with_usage() {
    let body = fixture("openai/response_text.json");
    let decoded = decode_response(OA, OA, &body).unwrap();
    assert_eq!(decoded.body, body);
    assert_eq!(
        decoded.usage,
        Some(Usage {
            prompt_tokens: 231,
            completion_tokens: 62,
            cached_tokens: 0,
            reasoning_tokens: 0,
            ..Usage::default()
        })
    );
    let no_usage = decode_response(OA, OA, br#"{"id":"x","choices":[],"usage":null}"#).unwrap();
    assert_eq!(no_usage.usage, None);
    assert!(matches!(
        decode_response(OA, OA, b"<html>"),
        Err(TranslateError::MalformedUpstream(_))
    ));
}

#[test]
fn recorded_error_bodies_keep_message_type_and_code() {
    for (file, status, code) in [
        ("openai/error_401.json", 401, "invalid_api_key"),
        ("openai/error_404.json", 404, "model_not_found"),
        ("openai/error_429.json", 429, "rate_limit_exceeded"),
    ] {
        let raw: Value = serde_json::from_slice(&fixture(file)).unwrap();
        let out: Value =
            serde_json::from_slice(&translate_upstream_error(OA, OA, status, &fixture(file)))
                .unwrap();
        assert_eq!(out, raw, "{file}");
        let anthropic: Value = serde_json::from_slice(&translate_upstream_error(
            OA,
            Dialect::Anthropic,
            status,
            &fixture(file),
        ))
        .unwrap();
        assert_eq!(anthropic["type"], "error");
        assert_eq!(anthropic["error"]["message"], raw["error"]["message"]);
        assert_eq!(out["error"]["code"], json!(code));
    }
}

#[test]
fn passthrough_refuses_bodies_that_are_not_utf8() {
    // Found by fuzzing: serde skips unparsed strings without checking them.
    let body = b"{\"id\":\"x\",\"note\":\"ac\xc6ess\",\"choices\":[]}";
    assert!(matches!(
        decode_response(OA, OA, body),
        Err(TranslateError::MalformedUpstream(_))
    ));
}
