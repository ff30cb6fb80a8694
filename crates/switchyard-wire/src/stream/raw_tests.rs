//! Same-dialect streams forwarded as framed must give the client exactly what re-rendering
//! every event gave, at any chunk boundary, and must not copy whole-event chunks.

use bytes::Bytes;

use super::*;

fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// What a client and the metering saw.
#[derive(Debug, PartialEq)]
struct Seen {
    out: Vec<u8>,
    finish: Result<(), TranslateError>,
    usage: Option<Usage>,
    events: u64,
    error: Option<String>,
}

/// Runs `chunks` through a translator, re-rendering every event when `reframe` (the path
/// same-dialect streams took before), else through `push_bytes`.
fn run(d: Dialect, wants_usage: bool, chunks: &[&[u8]], reframe: bool) -> Seen {
    let mut t = StreamTranslator::new(d, d, wants_usage);
    if reframe {
        t.raw = None;
    }
    let mut out = Vec::new();
    let mut finish = Ok(());
    for chunk in chunks {
        match t.push_bytes(&Bytes::copy_from_slice(chunk)) {
            Ok(b) => out.extend_from_slice(&b),
            Err(e) => {
                finish = Err(e);
                break;
            }
        }
    }
    if finish.is_ok() {
        finish = t.finish(&mut out);
    }
    Seen {
        out,
        finish,
        usage: t.usage(),
        events: t.events_seen(),
        error: t.upstream_error().map(str::to_owned),
    }
}

/// Compares the two paths on `input` whole, split at every `stride`-th byte, and byte by byte.
fn agrees(d: Dialect, wants_usage: bool, input: &[u8], stride: usize) {
    let expected = run(d, wants_usage, &[input], true);
    assert_eq!(run(d, wants_usage, &[input], false), expected, "whole");
    for i in (0..=input.len()).step_by(stride) {
        let parts: &[&[u8]] = &[&input[..i], &input[i..]];
        assert_eq!(run(d, wants_usage, parts, false), expected, "split at {i}");
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        run(d, wants_usage, &bytes, false),
        expected,
        "byte at a time"
    );
}

fn variants(input: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(input).into_owned();
    let mut cut = input.to_vec();
    cut.truncate(input.len() - input.len() / 3);
    vec![
        input.to_vec(),
        text.replace('\n', "\r\n").into_bytes(),
        text.replace('\n', "\r").into_bytes(),
        [&b"\xEF\xBB\xBF"[..], input].concat(),
        text.replace("data: ", "data:").into_bytes(),
        format!(": keep-alive\n\n{text}").into_bytes(),
        text.replacen("\n\n", "\n\n\n", 3).into_bytes(),
        text.replacen("data: ", "id: 1\ndata: ", 2).into_bytes(),
        cut,
    ]
}

#[test]
fn openai_streams_forwarded_as_framed_equal_re_rendered_ones() {
    for name in [
        "stream_text.sse",
        "stream_tool_calls.sse",
        "stream_error.sse",
    ] {
        for (i, input) in variants(&fixture(&format!("openai/{name}")))
            .iter()
            .enumerate()
        {
            // Every split of the stream as recorded; a sample of them for the variants.
            let stride = if i == 0 { 1 } else { 17 };
            for wants_usage in [false, true] {
                agrees(Dialect::OpenAi, wants_usage, input, stride);
            }
        }
    }
}

#[test]
fn anthropic_streams_forwarded_as_framed_equal_re_rendered_ones() {
    for name in ["stream_text.sse", "stream_tools.sse", "stream_error.sse"] {
        for (i, input) in variants(&fixture(&format!("anthropic/{name}")))
            .iter()
            .enumerate()
        {
            agrees(Dialect::Anthropic, true, input, if i == 0 { 1 } else { 17 });
        }
    }
}

/// Responses streams as OpenAI sends them (the gateway's own translations of recorded chat
/// and Anthropic streams, one ending in an error), and with their `event:` lines left out.
fn responses_streams() -> Vec<Vec<u8>> {
    let mut streams = Vec::new();
    for (from, name) in [
        (Dialect::OpenAi, "openai/stream_text.sse"),
        (Dialect::OpenAi, "openai/stream_error.sse"),
        (Dialect::Anthropic, "anthropic/stream_tools.sse"),
    ] {
        let mut t = StreamTranslator::new(from, Dialect::OpenAiResponses, true);
        let mut out = Vec::new();
        t.push(&fixture(name), &mut out).unwrap();
        let _ = t.finish(&mut out);
        let unnamed: String = String::from_utf8_lossy(&out)
            .split_inclusive('\n')
            .filter(|line| !line.starts_with("event: "))
            .collect();
        streams.push(out);
        streams.push(unnamed.into_bytes());
    }
    streams
}

#[test]
fn responses_streams_forwarded_as_framed_equal_re_rendered_ones() {
    for stream in responses_streams() {
        for (i, input) in variants(&stream).iter().enumerate() {
            agrees(
                Dialect::OpenAiResponses,
                true,
                input,
                if i == 0 { 7 } else { 61 },
            );
        }
    }
}

#[test]
fn responses_content_events_pass_uncopied_and_the_end_is_still_read() {
    let stream = &responses_streams()[0];
    let mut t = StreamTranslator::new(Dialect::OpenAiResponses, Dialect::OpenAiResponses, true);
    let end = stream
        .windows(28)
        .position(|w| w == b"event: response.completed\nda")
        .unwrap();
    let (content, last) = (
        Bytes::copy_from_slice(&stream[..end]),
        Bytes::copy_from_slice(&stream[end..]),
    );
    let out = t.push_bytes(&content).unwrap();
    assert_eq!(out, content);
    assert_eq!(out.as_ptr(), content.as_ptr(), "a view of the same buffer");
    assert!(!t.is_done());
    let out = t.push_bytes(&last).unwrap();
    assert_eq!(out, last);
    assert_eq!(t.finish(&mut Vec::new()), Ok(()));
    assert!(t.is_done());
    assert!(t.usage().is_some());
}

#[test]
fn whole_event_chunks_are_forwarded_without_a_copy() {
    let mut t = StreamTranslator::new(Dialect::OpenAi, Dialect::OpenAi, false);
    let chunk = Bytes::from_static(
        b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
    );
    let out = t.push_bytes(&chunk).unwrap();
    assert_eq!(out, chunk);
    assert_eq!(out.as_ptr(), chunk.as_ptr(), "a view of the same buffer");
    // A trailing partial event is held back, and the whole ones before it still not copied.
    let partial = Bytes::from_static(b"data: {\"choices\":[]}\n\ndata: {\"cho");
    let out = t.push_bytes(&partial).unwrap();
    assert_eq!(&out[..], b"data: {\"choices\":[]}\n\n");
    assert_eq!(out.as_ptr(), partial.as_ptr());
    let rest = Bytes::from_static(b"ices\":[]}\n\ndata: [DONE]\n\n");
    let out = t.push_bytes(&rest).unwrap();
    assert_eq!(&out[..], b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
    assert!(t.is_done());
    assert_eq!(t.events_seen(), 5);
}

#[test]
fn anthropic_content_events_pass_and_metering_still_reads_the_ends() {
    let input = fixture("anthropic/stream_text.sse");
    let mut t = StreamTranslator::new(Dialect::Anthropic, Dialect::Anthropic, true);
    let out = t.push_bytes(&Bytes::from(input.clone())).unwrap();
    assert_eq!(&out[..], &input[..]);
    let mut tail = Vec::new();
    assert_eq!(t.finish(&mut tail), Ok(()));
    assert!(tail.is_empty());
    assert!(t.is_done());
    assert!(t.usage().is_some());
}
