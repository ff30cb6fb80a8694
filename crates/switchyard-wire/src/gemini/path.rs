//! Checked, percent-encoded URL path and query parts built from config values (Gemini model
//! names, Azure deployments and api-versions). These values come from operators and, through
//! `provider/model` routing, from clients, so they must never be able to change which path the
//! gateway calls.

use crate::TranslateError;

/// Validates `value` as one opaque URL component and percent-encodes it.
///
/// Rejected (as `InvalidRequest` naming `what` and the value): empty, `.`, anything containing
/// `/`, `..`, `?`, `#`, `%` (no pre-encoded input, so `%2F` can't smuggle a slash), whitespace
/// or control characters. Everything outside RFC 3986 unreserved characters is then
/// percent-encoded, so `:` or non-ASCII letters reach the upstream intact but inert.
pub(crate) fn encode_component(value: &str, what: &str) -> Result<String, TranslateError> {
    let reason = if value.is_empty() {
        Some("it is empty")
    } else if value == "." || value.contains("..") {
        Some("it contains a dot segment")
    } else if value.contains('/') {
        Some("it contains `/`")
    } else if value.contains(['?', '#']) {
        Some("it contains `?` or `#`")
    } else if value.contains('%') {
        Some("it contains `%`")
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains whitespace or control characters")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(TranslateError::InvalidRequest {
            param: Some(what.to_owned()),
            message: format!("{what} {value:?} is not usable in an upstream URL: {reason}"),
        });
    }
    Ok(percent_encode(value))
}

/// Percent-encodes every byte outside `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn percent_encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}
