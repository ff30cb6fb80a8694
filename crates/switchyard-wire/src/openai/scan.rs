//! Byte-level checks that decide whether a stream chunk needs JSON parsing at all. Ordinary
//! content chunks must cost no parse; only usage and error chunks are parsed.
//!
//! A key such as `"usage"` can only appear unescaped in the JSON text as a real key (inside a
//! string value its quotes would be escaped), so a substring search is exact enough; whatever
//! it lets through is confirmed by the parse that follows.

use memchr::memmem;

/// True when `data` has `"<key>"` followed (after optional whitespace) by `:` and then `open`,
/// e.g. `"usage": {` but not `"usage":null`.
pub(crate) fn has_key_then(data: &[u8], finder: &memmem::Finder<'_>, open: u8) -> bool {
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

/// Finders built once per stream and reused for every chunk.
#[derive(Debug)]
pub(crate) struct Finders {
    pub usage: memmem::Finder<'static>,
    pub error: memmem::Finder<'static>,
}

impl Default for Finders {
    fn default() -> Self {
        Finders {
            usage: memmem::Finder::new(b"\"usage\"").into_owned(),
            error: memmem::Finder::new(b"\"error\"").into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_usage_objects_but_not_null_usage() {
        let f = Finders::default();
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
