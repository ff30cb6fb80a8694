//! Byte-level checks that decide whether a stream chunk needs JSON parsing at all. Ordinary
//! content chunks must cost no parse; only usage and error chunks are parsed.
//!
//! A key such as `"usage"` can only appear unescaped in the JSON text as a real key (inside a
//! string value its quotes would be escaped), so a substring search is exact enough; whatever
//! it lets through is confirmed by the parse that follows.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// True when `data` has `"<key>"` followed (after optional whitespace) by `:` and then `open`,
/// e.g. `"usage": {` but not `"usage":null`.
pub(crate) fn has_key_then(data: &[u8], finder: &Finder<'_>, open: u8) -> bool {
    let needle_len = finder.needle().len();
    let mut from = 0;
    while let Some(pos) = finder.find(&data[from..]) {
        let after = from + pos + needle_len;
        if key_then(&data[after..], open) {
            return true;
        }
        from = after;
    }
    false
}

fn key_then(rest: &[u8], open: u8) -> bool {
    let mut it = rest.iter().copied().skip_while(u8::is_ascii_whitespace);
    if it.next() != Some(b':') {
        return false;
    }
    it.find(|b| !b.is_ascii_whitespace()) == Some(open)
}

/// Every substring searcher the stream code runs on OpenAI chunks, built once for the process:
/// building a `memmem` searcher costs more than running it on one event (it was 5 % of a
/// pass-through stream's CPU when built per search), and none is built per stream or per chunk.
#[derive(Debug)]
pub(crate) struct Finders {
    /// `"usage"`: a usage chunk (parsed, for metering).
    pub usage: Finder<'static>,
    /// `"error"`: an in-stream error (parsed, re-rendered).
    pub error: Finder<'static>,
    /// `[DONE]`: the end-of-stream marker.
    pub done: Finder<'static>,
    /// Keys of a chunk's delta whose string values are output, measured for a stream cut
    /// before its usage report: text, reasoning text (DeepSeek, vLLM, OpenRouter) and
    /// tool-call arguments.
    pub output: [Finder<'static>; 4],
}

/// The searchers, built on first use.
pub(crate) static FINDERS: LazyLock<Finders> = LazyLock::new(|| Finders {
    usage: Finder::new(b"\"usage\""),
    error: Finder::new(b"\"error\""),
    done: Finder::new(b"[DONE]"),
    output: [
        Finder::new(b"\"content\""),
        Finder::new(b"\"reasoning_content\""),
        Finder::new(b"\"reasoning\""),
        Finder::new(b"\"arguments\""),
    ],
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_usage_objects_but_not_null_usage() {
        let f = &*FINDERS;
        assert!(has_key_then(
            br#"{"choices":[],"usage":{"a":1}}"#,
            &f.usage,
            b'{'
        ));
        assert!(has_key_then(b"{\"usage\" :\n {}}", &f.usage, b'{'));
        assert!(!has_key_then(br#"{"usage":null}"#, &f.usage, b'{'));
        assert!(!has_key_then(
            br#"{"content":"\"usage\": {"}"#,
            &f.usage,
            b'{'
        ));
        assert!(has_key_then(br#"{"x":"usage","usage":{}}"#, &f.usage, b'{'));
        assert!(!has_key_then(br#"{"usage""#, &f.usage, b'{'));
    }
}
