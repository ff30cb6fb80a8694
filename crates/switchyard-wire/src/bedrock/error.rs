//! AWS error types, as botocore's `bedrock-runtime` service model defines them (each
//! exception shape's `error.httpStatusCode`), and their rendering for clients.
//!
//! Bedrock Runtime speaks AWS restJson1: an error names its type in the `x-amzn-ErrorType`
//! header (`ThrottlingException:http://internal.amazon.com/coral/…`) or in the body's
//! `__type`/`code` (`com.amazon.coral.validate#ValidationException`), with the text in
//! `message` (or `Message`). Inside a ConverseStream the same errors arrive as exception
//! messages whose `:exception-type` is the union member name (`throttlingException`).

use serde_json::Value;

use crate::error::{openai_type, render, ErrorBody, UpstreamError};
use crate::Dialect;

/// `(type, HTTP status)` for every exception botocore's bedrock-runtime model declares
/// (service-2.json, 2023-09-30).
const STATUS: [(&str, u16); 12] = [
    ("AccessDeniedException", 403),
    ("ConflictException", 400),
    ("InternalServerException", 500),
    ("ModelErrorException", 424),
    ("ModelNotReadyException", 429),
    ("ModelStreamErrorException", 424),
    ("ModelTimeoutException", 408),
    ("ResourceNotFoundException", 404),
    ("ServiceQuotaExceededException", 400),
    ("ServiceUnavailableException", 503),
    ("ThrottlingException", 429),
    ("ValidationException", 400),
];

/// The HTTP status botocore's model gives an error type (either spelling: `ThrottlingException`
/// or the stream member `throttlingException`); `None` for a type it doesn't declare.
pub fn error_status(kind: &str) -> Option<u16> {
    STATUS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(kind))
        .map(|&(_, status)| status)
}

/// The status a ConverseStream exception would have had as an HTTP error; 500 when unknown.
pub fn stream_exception_status(kind: &str) -> u16 {
    error_status(kind).unwrap_or(500)
}

/// The error type of an HTTP error: the `x-amzn-ErrorType` header when present, else the
/// body's `__type` or `code`, reduced to the bare name as restJson1 clients do (text after a
/// `#`, before a `:`). `None` when neither names one.
pub fn error_type(header: Option<&str>, body: &[u8]) -> Option<String> {
    let from_body = || {
        let v: Value = serde_json::from_slice(body).ok()?;
        let t = v.get("__type").or_else(|| v.get("code"))?.as_str()?;
        Some(t.to_owned())
    };
    let raw = header.map(str::to_owned).or_else(from_body)?;
    let name = raw.split(':').next().unwrap_or("");
    let name = name.rsplit('#').next().unwrap_or("").trim();
    let ok =
        !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| name.to_owned())
}

/// OpenAI's error type for a Bedrock error type (by its botocore status), else for `status`.
fn openai_kind(kind: Option<&str>, status: u16) -> &'static str {
    match kind {
        Some(k) if k.eq_ignore_ascii_case("ModelTimeoutException") => "timeout_error",
        // 424: the model itself failed; the request may be fine.
        Some(k)
            if k.eq_ignore_ascii_case("ModelErrorException")
                || k.eq_ignore_ascii_case("ModelStreamErrorException") =>
        {
            "server_error"
        }
        Some(k) => openai_type(error_status(k).unwrap_or(status)),
        None => openai_type(status),
    }
}

/// The body's `message` (restJson1) or `Message` (some AWS front ends).
fn message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let m = v.get("message").or_else(|| v.get("Message"))?.as_str()?;
    Some(crate::error::capped(m))
}

/// Re-renders a Bedrock HTTP error for the client: AWS's message, OpenAI's type for the error
/// type's status, and the AWS type as `code` (e.g. `ThrottlingException`).
pub fn error_to_client(client: Dialect, status: u16, header: Option<&str>, body: &[u8]) -> Vec<u8> {
    let kind = error_type(header, body);
    let generic;
    let message = match message(body) {
        Some(m) => m,
        None => {
            generic = match &kind {
                Some(k) => format!("bedrock returned {k} (HTTP {status})"),
                None => format!("upstream bedrock provider returned HTTP {status}"),
            };
            generic
        }
    };
    render(
        client,
        &ErrorBody {
            status,
            kind: openai_kind(kind.as_deref(), status),
            code: kind.as_deref(),
            param: None,
            message: &message,
        },
    )
}

/// A ConverseStream exception message as an upstream error: the OpenAI type its status maps
/// to, the member name as code, and the message (with the model's own status and message for
/// `modelStreamErrorException`).
pub(crate) fn stream_exception(kind: &str, payload: &[u8]) -> UpstreamError {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let mut text = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(original) = v.get("originalMessage").and_then(Value::as_str) {
        let code = v
            .get("originalStatusCode")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        text = format!("{text} (model said {code}: {original})");
    }
    if text.trim().is_empty() {
        text = format!("bedrock stream failed with {kind}");
    }
    let status = stream_exception_status(kind);
    UpstreamError {
        message: crate::error::capped(&text),
        kind: Some(openai_kind(Some(kind), status).to_owned()),
        code: (!kind.is_empty() && kind.len() <= 64).then(|| kind.to_owned()),
        param: None,
    }
}
