//! Trace and span ids: random, never all zeros (the W3C trace context's invalid value).

use std::fmt;

/// A 16-byte trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

impl TraceId {
    /// A new random id.
    pub fn random() -> Self {
        loop {
            let v = fastrand::u128(..);
            if v != 0 {
                return Self(v.to_be_bytes());
            }
        }
    }
}

impl SpanId {
    /// A new random id.
    pub fn random() -> Self {
        loop {
            let v = fastrand::u64(..);
            if v != 0 {
                return Self(v.to_be_bytes());
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes` into `out` (twice as long).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 32];
        hex_into(&self.0, &mut out);
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 16];
        hex_into(&self.0, &mut out);
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_lowercase_hex() {
        let t = TraceId([0xab; 16]);
        assert_eq!(t.to_string(), "ab".repeat(16));
        let s = SpanId([0, 1, 2, 3, 4, 5, 6, 0xff]);
        assert_eq!(s.to_string(), "00010203040506ff");
        assert_ne!(TraceId::random(), TraceId::random());
        assert_ne!(SpanId::random().0, [0; 8]);
    }
}
