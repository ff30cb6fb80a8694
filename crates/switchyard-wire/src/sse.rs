//! Incremental server-sent events codec. Upstream bytes arrive at arbitrary boundaries (pingora's
//! body hook hands us whatever the socket read), so the parser keeps only the partial line and the
//! event being assembled, and reuses those buffers for the life of the stream.
//!
//! Follows the WHATWG event-stream rules: lines end in LF, CRLF or CR; `:` starts a comment;
//! multi-line `data` is joined with `\n`; a blank line dispatches; a leading UTF-8 BOM is skipped.
//! A line still unterminated at end of input is incomplete and is discarded.

use memchr::{memchr, memchr2};

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One dispatched event. Borrowed from the parser's buffers, valid until the callback returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field; empty when the event had none (the default type, `message`).
    pub event: &'a [u8],
    /// The `data:` lines joined with `\n`.
    pub data: &'a [u8],
}

/// Incremental event-stream parser; feed it chunks, get whole events through a callback.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The unterminated tail of the previous chunk.
    line: Vec<u8>,
    data: Vec<u8>,
    event: Vec<u8>,
    /// Distinguishes `data:` with an empty value (dispatched) from no data at all (not).
    has_data: bool,
    /// The previous chunk ended in CR; an LF at the start of the next one completes that CRLF.
    skip_lf: bool,
    /// How many BOM bytes matched at the very start of the stream.
    bom_matched: usize,
    bom_done: bool,
}

impl SseParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one chunk; calls `on_event` for every event it completes, in order. Stops at the
    /// first error the callback returns.
    pub fn push<E>(
        &mut self,
        chunk: &[u8],
        mut on_event: impl FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut chunk = chunk;
        if !self.bom_done {
            while self.bom_matched < BOM.len() {
                match chunk.first() {
                    Some(&b) if b == BOM[self.bom_matched] => {
                        self.bom_matched += 1;
                        chunk = &chunk[1..];
                    }
                    _ => break,
                }
            }
            if self.bom_matched == BOM.len() {
                self.bom_done = true;
            } else if chunk.is_empty() {
                return Ok(());
            } else {
                // Only a prefix of a BOM: those bytes were content after all.
                self.bom_done = true;
                let held = &BOM[..self.bom_matched];
                self.feed(held, &mut on_event)?;
            }
        }
        self.feed(chunk, &mut on_event)
    }

    /// End of input: dispatches an event whose lines were all complete but that lacked the
    /// closing blank line, and drops an unterminated final line (it was cut off).
    pub fn finish<E>(
        &mut self,
        mut on_event: impl FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.line.clear();
        self.skip_lf = false;
        let result = self.dispatch(&mut on_event);
        self.reset_event();
        result
    }

    /// Declares that the stream did not start with a byte-order mark, for a caller that saw
    /// its first bytes itself and feeds the parser only later parts of it.
    pub(crate) fn no_bom(&mut self) {
        self.bom_done = true;
    }

    /// Bytes buffered for an event not yet complete; lets callers cap memory.
    pub fn pending_len(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len()
    }

    fn feed<E>(
        &mut self,
        chunk: &[u8],
        on_event: &mut impl FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rest = chunk;
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(i) = memchr2(b'\n', b'\r', rest) {
            if self.line.is_empty() {
                self.process_line(&rest[..i], on_event)?;
            } else {
                self.line.extend_from_slice(&rest[..i]);
                // Take the buffer out so the line can be read while `self` is mutated; it goes
                // back afterwards, so its capacity is reused.
                let line = std::mem::take(&mut self.line);
                let result = self.process_line(&line, on_event);
                self.line = line;
                self.line.clear();
                result?;
            }
            let terminator = rest[i];
            rest = &rest[i + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.skip_lf = true,
                    Some(_) => {}
                }
            }
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    fn process_line<E>(
        &mut self,
        line: &[u8],
        on_event: &mut impl FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if line.is_empty() {
            let result = self.dispatch(on_event);
            self.reset_event();
            return result;
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (name, value) = match memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch<E>(
        &mut self,
        on_event: &mut impl FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.has_data {
            return Ok(());
        }
        on_event(SseEvent {
            event: &self.event,
            data: &self.data,
        })
    }

    fn reset_event(&mut self) {
        self.data.clear();
        self.event.clear();
        self.has_data = false;
    }
}

/// Appends one event in the canonical LF form; `data` may hold `\n`, which becomes several
/// `data:` lines so the receiver joins it back.
pub fn write_event(out: &mut Vec<u8>, event: Option<&str>, data: &[u8]) {
    if let Some(name) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in data.split(|&b| b == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = (String, String);

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<Owned> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        let mut sink = |ev: SseEvent<'_>| -> Result<(), ()> {
            events.push((
                String::from_utf8_lossy(ev.event).into_owned(),
                String::from_utf8_lossy(ev.data).into_owned(),
            ));
            Ok(())
        };
        for chunk in chunks {
            parser.push(chunk, &mut sink).unwrap();
        }
        parser.finish(&mut sink).unwrap();
        events
    }

    fn every_split(input: &[u8]) {
        let whole = parse_chunks(&[input]);
        for i in 0..=input.len() {
            assert_eq!(
                parse_chunks(&[&input[..i], &input[i..]]),
                whole,
                "split at {i}"
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes), whole, "byte at a time");
    }

    fn ev(event: &str, data: &str) -> Owned {
        (event.to_owned(), data.to_owned())
    }

    #[test]
    fn parses_fields_comments_and_multiline_data() {
        let input =
            b": keepalive\nevent: ping\ndata: a\ndata:b\ndata\nid: 7\nretry: 10\n\ndata: x\n\n";
        assert_eq!(
            parse_chunks(&[input]),
            vec![ev("ping", "a\nb\n"), ev("", "x")]
        );
        every_split(input);
    }

    #[test]
    fn all_line_endings_agree() {
        let lf = b"event: e\ndata: 1\ndata: 2\n\ndata: 3\n\n".to_vec();
        let crlf: Vec<u8> = String::from_utf8(lf.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let cr: Vec<u8> = String::from_utf8(lf.clone())
            .unwrap()
            .replace('\n', "\r")
            .into_bytes();
        let expected = vec![ev("e", "1\n2"), ev("", "3")];
        for input in [&lf, &crlf, &cr] {
            assert_eq!(parse_chunks(&[input]), expected);
            every_split(input);
        }
    }

    #[test]
    fn skips_a_leading_bom_even_when_split() {
        let input = b"\xEF\xBB\xBFdata: hi\n\n";
        assert_eq!(parse_chunks(&[input]), vec![ev("", "hi")]);
        every_split(input);
    }

    #[test]
    fn keeps_bytes_that_only_look_like_a_bom_prefix() {
        assert_eq!(
            parse_chunks(&[b"\xEF", b"data: x\n\n"]),
            Vec::<Owned>::new()
        );
        assert_eq!(parse_chunks(&[b"\xEFdat"]), Vec::<Owned>::new());
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        assert_eq!(
            parse_chunks(&[b"event: x\n\ndata: y\n\n"]),
            vec![ev("", "y")]
        );
    }

    #[test]
    fn eof_flushes_complete_lines_and_drops_a_cut_line() {
        assert_eq!(parse_chunks(&[b"data: [DONE]\n"]), vec![ev("", "[DONE]")]);
        assert_eq!(parse_chunks(&[b"data: {\"a\""]), Vec::<Owned>::new());
        assert_eq!(
            parse_chunks(&[b"data: 1\n\ndata: {\"tr"]),
            vec![ev("", "1")]
        );
    }

    #[test]
    fn writer_round_trips_through_parser() {
        let mut out = Vec::new();
        write_event(&mut out, Some("message_start"), b"{\"a\":1}");
        write_event(&mut out, None, b"x\ny");
        assert_eq!(
            out,
            b"event: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\n"
        );
        assert_eq!(
            parse_chunks(&[&out]),
            vec![ev("message_start", "{\"a\":1}"), ev("", "x\ny")]
        );
    }
}
