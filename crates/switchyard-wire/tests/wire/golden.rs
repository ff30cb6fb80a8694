//! Golden translation tests: every fixture input, in every direction, against a reviewed
//! expected file. `BLESS=1 cargo test -p switchyard-wire --test wire golden::` rewrites the expected
//! files; review the diff like code.

use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::{json, Value};
use switchyard_wire::{decode_response, encode_request, ChatRequest, Dialect, EncodeTarget};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some()
}

fn check_json(expected: &Path, actual: &Value) {
    if bless() {
        let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
        std::fs::write(expected, text).unwrap();
        return;
    }
    let raw = std::fs::read(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", expected.display()));
    let want: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(actual, &want, "{}", expected.display());
}

fn check_text(expected: &Path, actual: &[u8]) {
    if bless() {
        std::fs::write(expected, actual).unwrap();
        return;
    }
    let want = std::fs::read(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", expected.display()));
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&want),
        "{}",
        expected.display()
    );
}

fn target(dialect: Dialect) -> EncodeTarget<'static> {
    EncodeTarget {
        dialect,
        upstream_model: match dialect {
            Dialect::Anthropic => "claude-sonnet-4-5-20250929",
            _ => "gpt-4o-2024-08-06",
        },
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: true,
    }
}

fn sorted_dirs(path: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn requests_translate_to_every_upstream() {
    let mut seen = 0;
    for case in sorted_dirs(&dir().join("requests")) {
        for (input, from, to, expected) in [
            (
                "input.openai.json",
                Dialect::OpenAi,
                Dialect::Anthropic,
                "expected.anthropic.json",
            ),
            (
                "input.anthropic.json",
                Dialect::Anthropic,
                Dialect::OpenAi,
                "expected.openai.json",
            ),
        ] {
            let Ok(raw) = std::fs::read(case.join(input)) else {
                continue;
            };
            seen += 1;
            let req = ChatRequest::parse(from, &raw).unwrap();
            let enc = encode_request(&req, &target(to)).unwrap();
            let body: Value = serde_json::from_slice(&enc.body).unwrap();
            check_json(
                &case.join(expected),
                &json!({"body": body, "dropped_params": enc.dropped_params}),
            );
        }
    }
    assert!(seen >= 6);
}

#[test]
fn responses_translate_both_ways() {
    for (from, to, files) in [
        (
            Dialect::Anthropic,
            Dialect::OpenAi,
            &["anthropic/response_text", "anthropic/response_tools"][..],
        ),
        (
            Dialect::OpenAi,
            Dialect::Anthropic,
            &[
                "openai/response_text",
                "openai/response_tool_calls",
                "openai/response_reasoning",
            ][..],
        ),
        (
            Dialect::Gemini,
            Dialect::Anthropic,
            &[
                "gemini/response/text.gemini",
                "gemini/response/tool_calls.gemini",
            ][..],
        ),
    ] {
        for file in files {
            let raw = fixture(&format!("{file}.json"));
            let decoded = decode_response(from, to, &raw).unwrap();
            let body: Value = serde_json::from_slice(&decoded.body).unwrap();
            let usage = decoded.usage.map(|u| {
                json!([
                    u.prompt_tokens,
                    u.completion_tokens,
                    u.cached_tokens,
                    u.reasoning_tokens
                ])
            });
            let ext = if to == Dialect::OpenAi {
                "openai"
            } else {
                "anthropic"
            };
            check_json(
                &dir().join(format!("{file}.{ext}.json")),
                &json!({"body": body, "usage": usage}),
            );
        }
    }
}

const GEMINI_STREAMS: &[&str] = &[
    "gemini/stream/text",
    "gemini/stream/tool_calls",
    "gemini/stream/error",
    "gemini/stream/blocked",
];

#[test]
fn streams_translate_both_ways_at_every_split() {
    for (from, to, files) in [
        (
            Dialect::Anthropic,
            Dialect::OpenAi,
            &[
                "anthropic/stream_text",
                "anthropic/stream_tools",
                "anthropic/stream_error",
            ][..],
        ),
        (
            Dialect::OpenAi,
            Dialect::Anthropic,
            &[
                "openai/stream_text",
                "openai/stream_tool_calls",
                "openai/stream_error",
            ][..],
        ),
        (Dialect::Gemini, Dialect::OpenAi, GEMINI_STREAMS),
        (Dialect::Gemini, Dialect::Anthropic, GEMINI_STREAMS),
    ] {
        for file in files {
            let input = fixture(&format!("{file}.sse"));
            let run = run_every_split(from, to, true, &input);
            assert_eq!(run.finish, Ok(()), "{file}");
            assert!(run.done || run.error.is_some(), "{file}");
            let ext = if to == Dialect::OpenAi {
                "openai"
            } else {
                "anthropic"
            };
            check_text(&dir().join(format!("{file}.{ext}.sse")), &run.out);
        }
    }
}
