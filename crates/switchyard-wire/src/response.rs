//! Complete (non-stream) upstream responses, translated into the client's dialect.

use crate::{Dialect, TranslateError, Usage};

/// A response body for the client, and the usage read from it for metering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedResponse {
    /// JSON body in the client's dialect.
    pub body: Vec<u8>,
    /// Token usage, when the upstream reported it.
    pub usage: Option<Usage>,
}

/// Translates a successful upstream body (2xx) for the client. Error bodies go through
/// [`crate::translate_upstream_error`] instead.
///
/// # Errors
/// `MalformedUpstream` when the body is not the upstream dialect's response shape.
pub fn decode_response(
    upstream: Dialect,
    client: Dialect,
    body: &[u8],
) -> Result<DecodedResponse, TranslateError> {
    match (upstream, client) {
        (Dialect::OpenAi, Dialect::OpenAi) => Ok(DecodedResponse {
            usage: crate::openai::usage::response_usage(body)?,
            body: body.to_vec(),
        }),
        (from, to) => Err(crate::unsupported_pair(from, to)),
    }
}
