//! The answer side of `translate`: each attempt's reply — a whole JSON body, a stream, an
//! embeddings list or an upstream error — turned into the client's dialect as it arrives, and
//! provider keys scrubbed from error bodies that echo them.

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use switchyard_filter::{GatewayError, RequestCtx, ResponseHead};
use switchyard_wire::responses::Echo;
use switchyard_wire::{
    decode_response_named, translate_upstream_error, Dialect, ErrorBody, StreamTranslator,
};

use super::embeddings::embeddings_reply;
use super::{unix_now, upstream_name, Attempt};

/// Per-attempt translation state.
pub(super) enum State {
    /// Passed through unchanged (Anthropic's `count_tokens` answer).
    Raw,
    /// A whole JSON body, translated at the end.
    Json { upstream: Dialect, buf: BytesMut },
    /// An event stream, translated event by event.
    Stream(Box<StreamTranslator>),
    /// An embeddings reply, checked (and for Gemini translated) at the end.
    Embeddings {
        upstream: Dialect,
        model: String,
        buf: BytesMut,
    },
    /// An upstream error body, translated at the end.
    Error {
        upstream: Dialect,
        status: u16,
        buf: BytesMut,
        /// Bedrock's `x-amzn-ErrorType` header.
        aws_type: Option<String>,
    },
}

/// Picks the attempt's [`State`] from the response head and sets the client's content type.
pub(super) fn on_head(cx: &mut RequestCtx, head: &mut ResponseHead) -> Result<(), GatewayError> {
    let client = cx.client_dialect;
    let Some(attempt) = cx.slots.get_mut::<Attempt>() else {
        return Ok(());
    };
    let (state, content_type) = if !(200..300).contains(&head.status) {
        (
            State::Error {
                upstream: attempt.upstream,
                status: head.status,
                buf: BytesMut::new(),
                aws_type: (attempt.upstream == Dialect::Bedrock)
                    .then(|| aws_error_type(head))
                    .flatten(),
            },
            "application/json",
        )
    } else if attempt.raw {
        (State::Raw, "application/json")
    } else if let Some(model) = &attempt.embeddings {
        (
            State::Embeddings {
                upstream: attempt.upstream,
                model: model.clone(),
                buf: BytesMut::new(),
            },
            "application/json",
        )
    } else if attempt.stream {
        (
            State::Stream(Box::new(
                StreamTranslator::new(attempt.upstream, client, attempt.wants_usage)
                    .with_model(upstream_name(&cx.config, attempt.model))
                    .with_created(unix_now())
                    .with_echo(attempt.echo.clone().unwrap_or_default()),
            )),
            "text/event-stream",
        )
    } else {
        (
            State::Json {
                upstream: attempt.upstream,
                buf: BytesMut::new(),
            },
            "application/json",
        )
    };
    attempt.state = Some(state);
    head.headers
        .retain(|(n, _)| n != http::header::CONTENT_TYPE && n != "x-amzn-errortype");
    head.headers.push((
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    ));
    if content_type == "text/event-stream" {
        head.headers.push((
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    }
    Ok(())
}

/// Feeds one chunk of the attempt's answer through its [`State`]; `end` finishes it.
pub(super) fn on_chunk(
    cx: &mut RequestCtx,
    chunk: &mut Bytes,
    end: bool,
) -> Result<(), GatewayError> {
    let client = cx.client_dialect;
    let Some(attempt) = cx.slots.get_mut::<Attempt>() else {
        return Ok(());
    };
    let key = attempt.key.clone();
    let echo = if end { attempt.echo.take() } else { None };
    // Only a whole body's last chunk needs the name (for Gemini replies without one).
    let config = end.then(|| cx.config.clone());
    let model = config
        .as_deref()
        .map_or("", |c| upstream_name(c, attempt.model));
    let Some(state) = attempt.state.as_mut() else {
        return Ok(());
    };
    match state {
        State::Raw => {}
        State::Json { upstream, buf } => {
            if end {
                // The usual answer arrives whole in one piece: decoded from it, not a copy.
                let upstream = *upstream;
                let body = if buf.is_empty() {
                    std::mem::take(chunk)
                } else {
                    buf.extend_from_slice(chunk);
                    std::mem::take(buf).freeze()
                };
                *chunk = finish_json(cx, upstream, model, echo.as_ref(), &body)?;
            } else {
                buf.extend_from_slice(chunk);
                *chunk = Bytes::new();
            }
        }
        State::Embeddings {
            upstream,
            model,
            buf,
        } => {
            buf.extend_from_slice(chunk);
            *chunk = if end {
                let (body, usage) = embeddings_reply(*upstream, model, buf)?;
                cx.usage = Some(usage);
                body
            } else {
                Bytes::new()
            };
        }
        State::Error {
            upstream,
            status,
            buf,
            aws_type,
        } => {
            buf.extend_from_slice(chunk);
            *chunk = if end {
                let mut body = if *upstream == Dialect::Bedrock {
                    switchyard_wire::bedrock::error_to_client(
                        client,
                        *status,
                        aws_type.as_deref(),
                        buf,
                    )
                } else {
                    translate_upstream_error(*upstream, client, *status, buf)
                };
                if let Some(key) = &key {
                    redact(&mut body, key.expose().as_bytes());
                }
                Bytes::from(body)
            } else {
                Bytes::new()
            };
        }
        State::Stream(tr) => {
            let first = tr.events_seen() == 0;
            // Same-dialect events come back as they arrived, usually `chunk` itself.
            let pushed = tr.push_bytes(chunk)?;
            if first && tr.events_seen() > 0 {
                check_first_event(&pushed)?;
            }
            *chunk = pushed;
            if end {
                let mut tail = Vec::new();
                let finished = tr.finish(&mut tail);
                // With nothing held back the chunk stays as it is.
                if finished.is_err() || !tail.is_empty() {
                    let mut out = Vec::with_capacity(chunk.len() + tail.len() + 256);
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(&tail);
                    *chunk = Bytes::from(out);
                }
                if let Err(e) = finished {
                    let mut out = Vec::from(std::mem::take(chunk));
                    let message = format!("upstream stream ended early: {e}");
                    out.extend_from_slice(&tr.error_event(&ErrorBody {
                        status: 502,
                        kind: "server_error",
                        code: Some("upstream_stream_truncated"),
                        param: None,
                        message: &message,
                    }));
                    let usage = tr.usage().or_else(|| tr.streamed_estimate());
                    cx.stream_error = Some(message);
                    cx.usage = usage.or(cx.usage);
                    *chunk = Bytes::from(out);
                    return Ok(());
                }
            }
            // Until the upstream reports usage (OpenAI only does in its last chunk), the text
            // streamed so far is metered: a stream cut before the report (upstream reset,
            // client gone, shutdown) is not free.
            let usage = tr.usage().or_else(|| tr.streamed_estimate());
            if let Some(msg) = tr.upstream_error() {
                cx.stream_error.get_or_insert_with(|| msg.to_string());
                cx.usage = usage.or(cx.usage);
            } else if let Some(u) = usage {
                cx.usage = Some(u);
            }
        }
    }
    Ok(())
}

fn finish_json(
    cx: &mut RequestCtx,
    upstream: Dialect,
    model: &str,
    echo: Option<&Echo>,
    buf: &[u8],
) -> Result<Bytes, GatewayError> {
    let decoded = match echo {
        Some(echo) => switchyard_wire::responses::decode(upstream, buf, unix_now(), model, echo)?,
        None => decode_response_named(upstream, cx.client_dialect, buf, unix_now(), model)?,
    };
    cx.usage = decoded.usage.or(cx.usage);
    Ok(Bytes::from(decoded.body))
}

/// Same-dialect streams pass events through unparsed, so the first one is checked here: a
/// malformed first event must fail over before anything reaches the client. Later events are
/// not parsed (that is the point of passing them through).
fn check_first_event(out: &[u8]) -> Result<(), GatewayError> {
    let Some(line) = out
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"data:"))
    else {
        return Ok(());
    };
    let data = line.trim_ascii();
    if data == b"[DONE]" || serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok() {
        return Ok(());
    }
    Err(GatewayError::UpstreamFailed(
        "the upstream's first stream event is not valid JSON".into(),
    ))
}

/// Bedrock's error type header (`x-amzn-ErrorType`), if the reply has one.
fn aws_error_type(head: &ResponseHead) -> Option<String> {
    head.headers
        .iter()
        .find(|(n, _)| n.as_str().eq_ignore_ascii_case("x-amzn-errortype"))
        .and_then(|(_, v)| v.to_str().ok())
        .map(str::to_owned)
}

/// Replaces every occurrence of `secret` in `body` (providers echo keys in auth errors).
fn redact(body: &mut Vec<u8>, secret: &[u8]) {
    if secret.len() < 4 || memchr::memmem::find(body, secret).is_none() {
        return;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(i) = memchr::memmem::find(rest, secret) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(b"[redacted]");
        rest = &rest[i + secret.len()..];
    }
    out.extend_from_slice(rest);
    *body = out;
}

#[cfg(test)]
mod tests {
    use super::{check_first_event, redact};

    #[test]
    fn a_malformed_first_event_is_refused() {
        assert!(check_first_event(b"data: {\"id\":\"x\"}\n\n").is_ok());
        assert!(check_first_event(b"event: message_start\ndata: {}\n\n").is_ok());
        assert!(check_first_event(b"data: [DONE]\n\n").is_ok());
        assert!(check_first_event(b": keep-alive\n\n").is_ok());
        assert!(check_first_event(b"data: {\"choices\": [tru\n\n").is_err());
    }

    #[test]
    fn redacts_every_occurrence_of_the_key() {
        let mut b = b"key sk-abc123 and sk-abc123!".to_vec();
        redact(&mut b, b"sk-abc123");
        assert_eq!(b, b"key [redacted] and [redacted]!");
    }
}
