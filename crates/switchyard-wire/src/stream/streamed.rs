//! What a stream has sent so far, for metering a stream that ends without a usage report.
//! OpenAI reports usage only in the last chunk, so a stream cut before it (an upstream reset,
//! a client gone, a shutdown) would be metered at zero output tokens and zero cost. Counting
//! the output's text as it passes costs a substring search per event: same-dialect chunks
//! are otherwise never parsed.

use memchr::{memchr2, memmem::Finder};

use super::canon::Canon;
use crate::openai::scan::FINDERS;
use crate::Usage;

/// Output deltas seen and the bytes of their text (JSON-escaped, as it was streamed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Streamed {
    deltas: u64,
    text_bytes: u64,
}

impl Streamed {
    /// Counts a decoded step's output.
    pub(crate) fn note(&mut self, step: &Canon<'_>) {
        let text = match step {
            Canon::Text(t) | Canon::Reasoning(t) => t,
            Canon::ToolArgs { fragment, .. } => fragment,
            Canon::ToolStart { name, .. } => name,
            _ => return,
        };
        self.add(text.len());
    }

    /// Counts the output in an OpenAI chunk's JSON, without parsing it.
    pub(crate) fn note_openai(&mut self, data: &[u8]) {
        let len: usize = FINDERS
            .output
            .iter()
            .map(|key| string_values_len(data, key))
            .sum();
        self.add(len);
    }

    fn add(&mut self, len: usize) {
        if len > 0 {
            self.deltas += 1;
            self.text_bytes += len as u64;
        }
    }

    /// Output tokens estimated from what was streamed, when anything was: one per delta
    /// (providers stream about a token per chunk) or a quarter of the text's bytes, whichever
    /// is more (some servers batch several tokens per chunk). Prompt tokens are unknown.
    pub(crate) fn estimate(&self) -> Option<Usage> {
        (self.deltas > 0).then(|| Usage {
            completion_tokens: self.deltas.max(self.text_bytes.div_ceil(4)),
            ..Usage::default()
        })
    }
}

/// The summed length of the string values of `key` (quoted, e.g. `"content"`) in `json`;
/// `null` and other non-string values count nothing.
fn string_values_len(json: &[u8], key: &Finder<'_>) -> usize {
    let mut total = 0;
    let mut from = 0;
    while let Some(at) = key.find(&json[from..]) {
        let mut i = from + at + key.needle().len();
        i += skip_ws(&json[i..]);
        from = i;
        if json.get(i) != Some(&b':') {
            continue;
        }
        i += 1;
        i += skip_ws(&json[i..]);
        if json.get(i) != Some(&b'"') {
            from = i;
            continue;
        }
        let len = string_len(&json[i + 1..]);
        total += len;
        from = (i + 1 + len).min(json.len());
    }
    total
}

fn skip_ws(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

/// Bytes up to the closing quote of a JSON string whose opening quote was just passed.
fn string_len(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(j) = memchr2(b'"', b'\\', &s[i..]) {
        if s[i + j] == b'"' {
            return i + j;
        }
        i += j + 2;
        if i >= s.len() {
            return s.len();
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai(delta: &str) -> String {
        format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{{"index":0,"delta":{delta},"finish_reason":null}}]}}"#
        )
    }

    #[test]
    fn counts_content_reasoning_and_tool_arguments_but_not_roles_or_nulls() {
        let mut s = Streamed::default();
        s.note_openai(openai(r#"{"role":"assistant","content":""}"#).as_bytes());
        s.note_openai(openai(r#"{"content":null}"#).as_bytes());
        assert_eq!(s.estimate(), None);
        s.note_openai(openai(r#"{"content":"Hello"}"#).as_bytes());
        s.note_openai(openai(r#"{"content": "say \"hi\""}"#).as_bytes());
        s.note_openai(openai(r#"{"reasoning_content":"hmm"}"#).as_bytes());
        s.note_openai(
            openai(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}"#)
                .as_bytes(),
        );
        assert_eq!(s.deltas, 4);
        assert_eq!(s.text_bytes, 5 + 10 + 3 + 9);
        // Four deltas, 27 bytes: the byte estimate (7) wins.
        assert_eq!(s.estimate().map(|u| u.completion_tokens), Some(7));
    }

    #[test]
    fn one_token_per_delta_when_the_text_is_short() {
        let mut s = Streamed::default();
        for piece in ["a", "b", "c"] {
            s.note(&Canon::Text(piece));
        }
        let u = s.estimate().unwrap();
        assert_eq!((u.completion_tokens, u.prompt_tokens), (3, 0));
    }

    #[test]
    fn a_string_cut_short_counts_to_its_end() {
        assert_eq!(
            string_values_len(br#"{"content":"abc\"#, &Finder::new(b"\"content\"")),
            4
        );
        assert_eq!(
            string_values_len(br#"{"content":"ab"#, &Finder::new(b"\"content\"")),
            2
        );
        assert_eq!(
            string_values_len(br#"{"content""#, &Finder::new(b"\"content\"")),
            0
        );
    }
}
