//! Counting tokens with OpenAI's BPE vocabularies, from compact tables the build script
//! writes (see `build.rs` and [`table`]). The count equals tiktoken's `encode_ordinary(..).len()`:
//! text is split by the vocabulary's regex, and each piece that is not a token itself is merged
//! pair by pair, lowest rank first, as tiktoken does.
//!
//! The tables are static data in the binary: nothing is built at start or on first use, and the
//! pages are read in only when a count touches them. Only the regex is compiled, once, on a
//! vocabulary's first count.

mod table;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use fancy_regex::Regex;

/// `cl100k_base`'s split pattern (tiktoken's, for gpt-4 and gpt-3.5).
const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// Regex copies per vocabulary: a regex keeps per-thread scratch space in a pool whose fast
/// path serves one thread, so each worker thread gets its own copy.
const REGEX_COPIES: usize = 8;

/// One vocabulary: its tables and, once compiled, its split regex.
pub struct Vocab {
    bytes: &'static [u8],
    ends: &'static [u8],
    index: &'static [u8],
    pattern: &'static str,
    regex: OnceLock<Vec<Regex>>,
}

/// `o200k_base`: gpt-4o, gpt-4.1, gpt-5, the o-series.
pub static O200K: Vocab = Vocab {
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.bytes")),
    ends: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.ends")),
    index: include_bytes!(concat!(env!("OUT_DIR"), "/o200k_base.index")),
    pattern: include_str!(concat!(env!("OUT_DIR"), "/o200k_base.pattern")),
    regex: OnceLock::new(),
};

/// `cl100k_base`: gpt-4, gpt-3.5, and the base of every estimate for other vendors.
pub static CL100K: Vocab = Vocab {
    bytes: include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.bytes")),
    ends: include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.ends")),
    index: include_bytes!(concat!(env!("OUT_DIR"), "/cl100k_base.index")),
    pattern: CL100K_PATTERN,
    regex: OnceLock::new(),
};

fn u32_at(data: &[u8], i: usize) -> u32 {
    let b = &data[i * 4..i * 4 + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// This thread's regex copy: threads are numbered as they first count.
fn copy_for_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % REGEX_COPIES;
    }
    SLOT.with(|s| *s)
}

impl Vocab {
    /// The bytes of token `rank`.
    fn token(&self, rank: u32) -> &[u8] {
        let r = rank as usize;
        let start = if r == 0 {
            0
        } else {
            u32_at(self.ends, r - 1) as usize
        };
        &self.bytes[start..u32_at(self.ends, r) as usize]
    }

    /// The rank of `piece` when it is one token.
    fn rank(&self, piece: &[u8]) -> Option<u32> {
        let mask = self.index.len() / 4 - 1;
        let mut i = table::hash(piece) as usize & mask;
        loop {
            let r = u32_at(self.index, i);
            if r == table::EMPTY {
                return None;
            }
            if self.token(r) == piece {
                return Some(r);
            }
            i = (i + 1) & mask;
        }
    }

    fn regex(&self) -> &Regex {
        let copies = self.regex.get_or_init(|| {
            // The pattern is a constant that tests compile: failing here is a build defect.
            #[allow(clippy::expect_used)]
            let regex = Regex::new(self.pattern).expect("BPE split pattern compiles");
            vec![regex; REGEX_COPIES]
        });
        &copies[copy_for_this_thread()]
    }

    /// Tokens in `text` (tiktoken's `encode_ordinary` length).
    pub fn count(&self, text: &str) -> usize {
        let mut n = 0;
        for piece in self.regex().find_iter(text) {
            let Ok(piece) = piece else {
                // The regex gave up (backtrack limit): count what is left a byte a token, an
                // overestimate that keeps the context check on the safe side.
                return n + text.len();
            };
            let piece = piece.as_str().as_bytes();
            n += if self.rank(piece).is_some() {
                1
            } else {
                self.merged_len(piece)
            };
        }
        n
    }

    /// How many tokens byte-pair merging makes of `piece`: start from single bytes and merge
    /// the adjacent pair whose union has the lowest rank (leftmost on a tie) until no union
    /// is a token.
    fn merged_len(&self, piece: &[u8]) -> usize {
        if piece.len() < 2 {
            return piece.len();
        }
        // parts[i] = (start of part i, rank of part i joined with part i + 1, if a token).
        let mut parts: Vec<(usize, u32)> = (0..=piece.len()).map(|i| (i, u32::MAX)).collect();
        let pair = |parts: &[(usize, u32)], i: usize| -> u32 {
            match parts.get(i + 2) {
                Some(&(end, _)) => self.rank(&piece[parts[i].0..end]).unwrap_or(u32::MAX),
                None => u32::MAX,
            }
        };
        for i in 0..parts.len() {
            parts[i].1 = pair(&parts, i);
        }
        loop {
            let mut best = (u32::MAX, 0);
            for (i, &(_, r)) in parts.iter().enumerate() {
                if r < best.0 {
                    best = (r, i);
                }
            }
            if best.0 == u32::MAX {
                break;
            }
            let i = best.1;
            parts.remove(i + 1);
            parts[i].1 = pair(&parts, i);
            if i > 0 {
                parts[i - 1].1 = pair(&parts, i - 1);
            }
        }
        parts.len() - 1
    }
}

#[cfg(test)]
mod tests;
