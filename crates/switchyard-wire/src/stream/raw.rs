//! Framing for same-dialect streams: an upstream event that the gateway would write back
//! byte for byte is forwarded as the upstream framed it, without being parsed into fields and
//! written out again. Only events that need a look (usage, errors, the end, or any framing
//! other than the canonical `event: X\n` + `data: Y\n` + blank line) go through the
//! [`SseParser`] and are re-rendered, exactly as before.
//!
//! The fast path holds while the stream is LF-only and starts without a byte-order mark; the
//! first CR or BOM hands the stream (with any partial event) to the parser for good, so CRLF
//! and CR streams come out normalized as they always did.

use memchr::memchr;

use crate::sse::{SseEvent, SseParser};

/// The upstream's bytes split into whole events, or the parser once the stream left LF-only
/// framing.
#[derive(Debug, Default)]
pub(super) struct RawFraming {
    parser: SseParser,
    /// Bytes of an event not yet complete (always starting at an event boundary).
    pending: Vec<u8>,
    /// Set once a CR or BOM was seen: from then on every byte goes to the parser.
    parsing: bool,
    /// Whether the first byte of the stream has been seen (a BOM can only come first).
    started: bool,
}

/// What a whole event block needs.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Block<'a> {
    /// Canonical framing with this event name (empty for none): re-rendering it would write
    /// the same bytes.
    Canonical { name: &'a [u8] },
    /// Anything else: parse and re-render.
    Other,
}

/// Where [`RawFraming::push`] sends what it splits.
pub(super) trait Events<E> {
    /// A whole event block (ending in its blank line): returns whether the sink took it as
    /// it is; if not, the block is parsed and comes back through [`Events::event`].
    fn block(&mut self, bytes: &[u8], kind: Block<'_>) -> Result<bool, E>;
    /// One parsed event.
    fn event(&mut self, ev: SseEvent<'_>) -> Result<(), E>;
}

impl RawFraming {
    /// Feeds one chunk. Blocks wholly inside `chunk` are handed on as slices of it, so a sink
    /// can tell (by address) when it may forward a run of `chunk` without copying.
    pub(super) fn push<E>(&mut self, chunk: &[u8], sink: &mut impl Events<E>) -> Result<(), E> {
        if !self.parsing && !self.started && !chunk.is_empty() {
            self.started = true;
            if chunk[0] == 0xEF {
                self.parsing = true;
            } else {
                self.parser.no_bom();
            }
        }
        if !self.parsing && memchr(b'\r', chunk).is_some() {
            self.parsing = true;
        }
        if self.parsing {
            if !self.pending.is_empty() {
                let pending = std::mem::take(&mut self.pending);
                self.parser.push(&pending, |ev| sink.event(ev))?;
            }
            return self.parser.push(chunk, |ev| sink.event(ev));
        }
        if self.pending.is_empty() {
            let used = split_blocks(chunk, &mut self.parser, sink)?;
            self.pending.extend_from_slice(&chunk[used..]);
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        let pending = std::mem::take(&mut self.pending);
        let result = split_blocks(&pending, &mut self.parser, sink);
        self.pending = pending;
        let used = result?;
        self.pending.drain(..used);
        Ok(())
    }

    /// End of input: a partial event goes to the parser, which applies the end-of-stream rules
    /// (an event whose lines all ended is dispatched; a cut line is dropped).
    pub(super) fn finish<E>(&mut self, sink: &mut impl Events<E>) -> Result<(), E> {
        let pending = std::mem::take(&mut self.pending);
        self.parsing = true;
        self.parser.push(&pending, |ev| sink.event(ev))?;
        self.parser.finish(|ev| sink.event(ev))
    }
}

/// Hands on every whole block of `buf` (which starts at an event boundary and has no CR);
/// returns the bytes consumed.
/// Where the first `\n\n` in `s` starts. (A `memmem` search would build a searcher per call,
/// which costs more than the search on an event-sized block.)
fn blank_line(s: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', s).find(|&j| s.get(j + 1) == Some(&b'\n'))
}

fn split_blocks<E>(
    buf: &[u8],
    parser: &mut SseParser,
    sink: &mut impl Events<E>,
) -> Result<usize, E> {
    let mut pos = 0;
    loop {
        // Blank lines between events dispatch nothing.
        while buf.get(pos) == Some(&b'\n') {
            pos += 1;
        }
        let Some(i) = blank_line(&buf[pos..]) else {
            return Ok(pos);
        };
        let end = pos + i + 2;
        let block = &buf[pos..end];
        if !sink.block(block, classify(block))? {
            parser.push(block, |ev| sink.event(ev))?;
        }
        pos = end;
    }
}

/// Whether `block` (LF-only, ending in `\n\n`) is exactly what re-rendering its event would
/// write: an optional first line `event: <UTF-8 name>`, then one or more `data: ` lines.
pub(super) fn classify(block: &[u8]) -> Block<'_> {
    let body = &block[..block.len() - 1];
    let mut name: &[u8] = &[];
    let mut data = false;
    // Lines found with memchr: splitting on a byte predicate looked at every byte one by one,
    // the most of a pass-through stream's own work on events of a few hundred bytes.
    let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
    let mut start = 0;
    for (i, end) in ends.enumerate() {
        let line = &body[start..end];
        start = end + 1;
        if line.is_empty() {
            // The empty tail after the last line's LF.
            continue;
        }
        if line.starts_with(b"data: ") {
            data = true;
        } else if i == 0 && line.len() > 7 && line.starts_with(b"event: ") {
            name = &line[7..];
            if std::str::from_utf8(name).is_err() {
                return Block::Other;
            }
        } else {
            return Block::Other;
        }
    }
    if data {
        Block::Canonical { name }
    } else {
        Block::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_blocks_are_recognized() {
        assert_eq!(classify(b"data: {}\n\n"), Block::Canonical { name: b"" });
        assert_eq!(
            classify(b"event: ping\ndata: {}\ndata: x\n\n"),
            Block::Canonical { name: b"ping" }
        );
        for other in [
            &b"data:{}\n\n"[..],
            b": keep-alive\ndata: {}\n\n",
            b"data: {}\nevent: late\n\n",
            b"event: only\n\n",
            b"event: \ndata: x\n\n",
            b"id: 3\ndata: x\n\n",
            b"data\n\n",
            b"event: \xff\ndata: x\n\n",
        ] {
            assert_eq!(
                classify(other),
                Block::Other,
                "{:?}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
