//! Finish reasons read from the upstream's answer as it streams past, in each provider's own
//! spelling (`finish_reason`, `stop_reason`, `finishReason`, `stopReason`) and values, which
//! is what `gen_ai.response.finish_reasons` asks for. A key split across two reads is found
//! through a short seam of the previous read's tail.

use memchr::memmem;

/// The tail of a read kept to find a key that straddles two reads.
const SEAM: usize = 64;
/// Reasons kept at most (one per choice or candidate).
const MAX: usize = 16;
/// The longest value read.
const MAX_VALUE: usize = 64;

/// What follows a key: a value, `null`, or the read ended first.
enum Parsed {
    Value(usize, usize, usize),
    Null(usize),
    Cut,
    Bad,
}

/// The reasons found so far in one answer.
#[derive(Debug, Default)]
pub(super) struct FinishReasons {
    pub(super) found: Vec<String>,
    carry: Vec<u8>,
}

impl FinishReasons {
    /// Scans one read of the answer.
    pub(super) fn scan(&mut self, chunk: &[u8]) {
        if !self.carry.is_empty() {
            let mut seam = std::mem::take(&mut self.carry);
            let carried = seam.len();
            seam.extend_from_slice(&chunk[..chunk.len().min(SEAM)]);
            // Only keys that started in the previous read and end in this one: the others
            // were found there, or will be found in this read's own scan.
            self.scan_in(&seam, |start, end| start < carried && end > carried);
            seam.clear();
            self.carry = seam;
        }
        self.scan_in(chunk, |_, _| true);
        let tail = chunk.len().saturating_sub(SEAM);
        self.carry.extend_from_slice(&chunk[tail..]);
    }

    fn scan_in(&mut self, hay: &[u8], keep: impl Fn(usize, usize) -> bool) {
        for hit in memmem::find_iter(hay, b"eason\"") {
            if self.found.len() >= MAX {
                return;
            }
            let Some(start) = key_start(hay, hit) else {
                continue;
            };
            match value_after(hay, hit + 6) {
                Parsed::Value(from, to, end) if keep(start, end) => {
                    self.found
                        .push(String::from_utf8_lossy(&hay[from..to]).into_owned());
                }
                Parsed::Null(end) if keep(start, end) => {}
                _ => {}
            }
        }
    }
}

/// Where the key ending in `eason"` at `hit` starts, if it is one of the four spellings and
/// not inside a JSON string (an escaped quote).
fn key_start(hay: &[u8], hit: usize) -> Option<usize> {
    const PREFIXES: [&[u8]; 4] = [b"\"finish_r", b"\"stop_r", b"\"finishR", b"\"stopR"];
    PREFIXES.iter().find_map(|p| {
        let start = hit.checked_sub(p.len())?;
        let escaped = start > 0 && hay[start - 1] == b'\\';
        (hay[start..hit] == **p && !escaped).then_some(start)
    })
}

/// Reads `: "value"` or `: null` after a key.
fn value_after(hay: &[u8], mut i: usize) -> Parsed {
    let skip_ws = |i: &mut usize| {
        while hay.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    match hay.get(i) {
        None => return Parsed::Cut,
        Some(b':') => i += 1,
        Some(_) => return Parsed::Bad,
    }
    skip_ws(&mut i);
    match hay.get(i) {
        None => Parsed::Cut,
        Some(b'"') => {
            let from = i + 1;
            match memchr::memchr(b'"', &hay[from..hay.len().min(from + MAX_VALUE + 1)]) {
                Some(n) if n > 0 => Parsed::Value(from, from + n, from + n + 1),
                Some(_) => Parsed::Bad,
                None if hay.len() < from + MAX_VALUE => Parsed::Cut,
                None => Parsed::Bad,
            }
        }
        Some(b'n') if hay.len() >= i + 4 => Parsed::Null(i + 4),
        Some(b'n') => Parsed::Cut,
        Some(_) => Parsed::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(reads: &[&[u8]]) -> Vec<String> {
        let mut f = FinishReasons::default();
        for r in reads {
            f.scan(r);
        }
        f.found
    }

    #[test]
    fn every_providers_spelling_is_read() {
        let openai = br#"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#;
        let anthropic = br#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#;
        let gemini = br#"{"candidates":[{"finishReason": "STOP"}]}"#;
        let bedrock = b"\x00\x00{\"stopReason\":\"max_tokens\"}\x01";
        assert_eq!(scan_all(&[openai]), ["stop"]);
        assert_eq!(scan_all(&[anthropic]), ["end_turn"]);
        assert_eq!(scan_all(&[gemini]), ["STOP"]);
        assert_eq!(scan_all(&[bedrock]), ["max_tokens"]);
    }

    #[test]
    fn nulls_and_quoted_text_are_not_reasons() {
        let deltas = br#"{"finish_reason":null}{"stop_reason": null}"#;
        assert!(scan_all(&[deltas]).is_empty());
        let in_content = br#"{"content":"say \"finish_reason\":\"stop\""}"#;
        assert!(scan_all(&[in_content]).is_empty());
    }

    #[test]
    fn a_key_split_across_reads_is_found_once() {
        let whole = br#"data: {"choices":[{"index":0,"finish_reason":"length"}]}"#;
        for cut in 1..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(scan_all(&[a, b]), ["length"], "cut at {cut}");
        }
        let two = br#"{"finish_reason":"stop"}{"finish_reason":"length"}"#;
        assert_eq!(scan_all(&[two, b"data: [DONE]"]), ["stop", "length"]);
    }
}
