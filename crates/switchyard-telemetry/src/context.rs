//! The W3C Trace Context headers: `traceparent` read from a client (its trace is continued)
//! and written on each upstream attempt (the attempt's span becomes the upstream's parent);
//! `tracestate` passed along unchanged.

use crate::ids::hex_into;
use crate::{SpanId, TraceId};

/// The `sampled` bit of the trace flags.
pub const SAMPLED: u8 = 0x01;

/// A caller's span, from its `traceparent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteParent {
    /// The trace to continue.
    pub trace_id: TraceId,
    /// The caller's span: the parent of the gateway's.
    pub span_id: SpanId,
    /// The caller's trace flags.
    pub flags: u8,
}

impl RemoteParent {
    /// Whether the caller recorded its span.
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }
}

fn hex_bytes<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Parses a `traceparent` value as the W3C Trace Context specifies: lowercase hex, version
/// `00` exactly 55 characters, a later version at least that and read by its first four
/// fields, version `ff` and all-zero ids invalid. `None` for anything else, and the request
/// then starts a new trace.
pub fn parse_traceparent(value: &str) -> Option<RemoteParent> {
    let v = value.trim().as_bytes();
    if v.len() < 55 || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let version = hex_bytes::<1>(&v[..2])?[0];
    if version == 0xff || (version == 0 && v.len() != 55) || (v.len() > 55 && v[55] != b'-') {
        return None;
    }
    let trace_id = TraceId(hex_bytes::<16>(&v[3..35])?);
    let span_id = SpanId(hex_bytes::<8>(&v[36..52])?);
    let flags = hex_bytes::<1>(&v[53..55])?[0];
    if trace_id.0 == [0; 16] || span_id.0 == [0; 8] {
        return None;
    }
    Some(RemoteParent {
        trace_id,
        span_id,
        flags,
    })
}

/// A `tracestate` worth passing on: at most 512 characters of visible ASCII (the
/// specification's limit), else dropped.
pub fn valid_tracestate(value: &str) -> bool {
    !value.is_empty() && value.len() <= 512 && value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The `traceparent` value naming `span_id` of `trace_id` as the parent:
/// `00-<trace id>-<span id>-<flags>`.
pub fn traceparent(trace_id: &TraceId, span_id: &SpanId, sampled: bool) -> [u8; 55] {
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    hex_into(&trace_id.0, &mut out[3..35]);
    hex_into(&span_id.0, &mut out[36..52]);
    if sampled {
        out[54] = b'1';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specifications_example_parses_and_prints_back() {
        let p = parse_traceparent(EXAMPLE).expect("valid");
        assert!(p.sampled());
        assert_eq!(p.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.span_id.to_string(), "00f067aa0ba902b7");
        let out = traceparent(&p.trace_id, &p.span_id, true);
        assert_eq!(std::str::from_utf8(&out).unwrap(), EXAMPLE);
        let out = traceparent(&p.trace_id, &p.span_id, false);
        assert!(std::str::from_utf8(&out).unwrap().ends_with("-00"));
    }

    #[test]
    fn invalid_values_start_a_new_trace() {
        for bad in [
            "",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // 00 is exact
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        // A later version is read by its first four fields.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes";
        let p = parse_traceparent(later).expect("future version");
        assert!(!p.sampled());
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x").is_none()
        );
    }

    #[test]
    fn tracestate_is_passed_on_only_when_sane() {
        assert!(valid_tracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
        assert!(!valid_tracestate(""));
        assert!(!valid_tracestate(&"a".repeat(513)));
        assert!(!valid_tracestate("a=b\n"));
    }
}
