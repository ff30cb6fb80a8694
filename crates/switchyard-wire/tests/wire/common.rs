//! Helpers shared by the integration tests: fixtures and whole-stream translation.
use std::path::PathBuf;

use switchyard_wire::{Dialect, StreamTranslator, TranslateError, Usage};

pub fn fixture(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// What one translated stream produced.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub out: Vec<u8>,
    pub finish: Result<(), TranslateError>,
    pub usage: Option<Usage>,
    pub events: u64,
    pub done: bool,
    pub error: Option<String>,
}

pub fn run(upstream: Dialect, client: Dialect, wants_usage: bool, chunks: &[&[u8]]) -> Run {
    let mut t = StreamTranslator::new(upstream, client, wants_usage);
    let mut out = Vec::new();
    for chunk in chunks {
        t.push(chunk, &mut out).unwrap();
    }
    let finish = t.finish(&mut out);
    Run {
        out,
        finish,
        usage: t.usage(),
        events: t.events_seen(),
        done: t.is_done(),
        error: t.upstream_error().map(str::to_owned),
    }
}

/// Translates `input` in one push, then split at every byte offset, and byte by byte; all must
/// agree. Returns the one-push run.
pub fn run_every_split(upstream: Dialect, client: Dialect, wants_usage: bool, input: &[u8]) -> Run {
    let whole = run(upstream, client, wants_usage, &[input]);
    for i in 0..=input.len() {
        let split = run(upstream, client, wants_usage, &[&input[..i], &input[i..]]);
        assert_eq!(split, whole, "split at byte {i}");
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        run(upstream, client, wants_usage, &bytes),
        whole,
        "byte at a time"
    );
    whole
}

/// The `data:` payloads of a client stream, in order.
pub fn data_lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

pub fn crlf(input: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(input)
        .replace('\n', "\r\n")
        .into_bytes()
}

pub fn cr(input: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(input)
        .replace('\n', "\r")
        .into_bytes()
}
