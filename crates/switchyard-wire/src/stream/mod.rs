//! Stream translation: upstream SSE bytes in, whole client events out, at any chunk boundary.
//!
//! Usage is always recorded (the gateway meters every stream) but only shown to the client when
//! it asked for it. An upstream error event ends the stream: it is re-rendered in the client's
//! format and later events are ignored.

use crate::error::{parse_upstream_error, status_for_type, stream_error_event, ErrorBody};
use crate::openai::scan::{has_key_then, Finders};
use crate::openai::usage::UsageChunk;
use crate::sse::{write_event, SseEvent, SseParser};
use crate::{Dialect, TranslateError, Usage};

/// Translates one upstream stream for one client; create one per response.
#[derive(Debug)]
pub struct StreamTranslator {
    parser: SseParser,
    state: State,
}

#[derive(Debug)]
struct State {
    upstream: Dialect,
    client: Dialect,
    client_wants_usage: bool,
    mode: Mode,
    usage: Option<Usage>,
    events: u64,
    done: bool,
    error: Option<String>,
}

#[derive(Debug)]
enum Mode {
    /// OpenAI to OpenAI: bytes forwarded, only usage and error chunks parsed.
    OpenAiPassthrough(Box<Finders>),
    /// A pair with no translation yet; every push fails.
    Unsupported,
}

impl StreamTranslator {
    /// A translator from `upstream`'s stream format to `client`'s. `client_wants_usage` decides
    /// whether usage reports reach the client (they are recorded either way).
    pub fn new(upstream: Dialect, client: Dialect, client_wants_usage: bool) -> Self {
        let mode = match (upstream, client) {
            (Dialect::OpenAi, Dialect::OpenAi) => Mode::OpenAiPassthrough(Box::default()),
            _ => Mode::Unsupported,
        };
        StreamTranslator {
            parser: SseParser::new(),
            state: State {
                upstream,
                client,
                client_wants_usage,
                mode,
                usage: None,
                events: 0,
                done: false,
                error: None,
            },
        }
    }

    /// Feeds raw upstream bytes, split anywhere; appends only whole, translated client events to
    /// `out`.
    ///
    /// # Errors
    /// `MalformedUpstream` when an event can't be translated; `InvalidRequest` when this pair of
    /// dialects has no stream translation.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), TranslateError> {
        self.state.check_supported()?;
        let state = &mut self.state;
        self.parser.push(chunk, |ev| state.on_event(ev, out))
    }

    /// Upstream EOF: flushes a pending event.
    ///
    /// # Errors
    /// `MalformedUpstream` when the stream ended without its terminal event (`[DONE]`,
    /// `message_stop`) and without an upstream error event; the caller then emits its own error
    /// event so the client never sees a silent truncation.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        self.state.check_supported()?;
        let state = &mut self.state;
        self.parser.finish(|ev| state.on_event(ev, out))?;
        if self.state.done || self.state.error.is_some() {
            return Ok(());
        }
        Err(TranslateError::MalformedUpstream(format!(
            "{} stream ended before its terminal event",
            self.state.upstream
        )))
    }

    /// Usage reported by the upstream so far (the last report wins).
    pub fn usage(&self) -> Option<Usage> {
        self.state.usage
    }

    /// Complete upstream events parsed so far; zero means nothing reached the client yet.
    pub fn events_seen(&self) -> u64 {
        self.state.events
    }

    /// Whether the upstream's terminal event arrived.
    pub fn is_done(&self) -> bool {
        self.state.done
    }

    /// The upstream's message, if it sent an in-stream error event.
    pub fn upstream_error(&self) -> Option<&str> {
        self.state.error.as_deref()
    }
}

impl State {
    fn check_supported(&self) -> Result<(), TranslateError> {
        match self.mode {
            Mode::Unsupported => Err(crate::unsupported_pair(self.upstream, self.client)),
            _ => Ok(()),
        }
    }

    fn on_event(&mut self, ev: SseEvent<'_>, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        self.events += 1;
        if self.done || self.error.is_some() {
            return Ok(());
        }
        match &self.mode {
            Mode::OpenAiPassthrough(finders) => {
                let data = ev.data;
                if data.trim_ascii() == b"[DONE]" {
                    self.done = true;
                    write_event(out, None, b"[DONE]");
                    return Ok(());
                }
                if has_key_then(data, &finders.error, b'{') {
                    if let Some(err) = parse_upstream_error(data) {
                        self.emit_error(&err, out);
                        return Ok(());
                    }
                }
                if has_key_then(data, &finders.usage, b'{') {
                    if let Ok(chunk) = serde_json::from_slice::<UsageChunk>(data) {
                        if let Some(u) = chunk.usage {
                            self.usage = Some(u.into());
                        }
                        let usage_only = chunk.choices.is_none_or(|c| c.is_empty());
                        if usage_only && !self.client_wants_usage {
                            return Ok(());
                        }
                    }
                }
                let name = std::str::from_utf8(ev.event).ok().filter(|n| !n.is_empty());
                write_event(out, name, data);
                Ok(())
            }
            Mode::Unsupported => Err(crate::unsupported_pair(self.upstream, self.client)),
        }
    }

    fn emit_error(&mut self, err: &crate::error::UpstreamError, out: &mut Vec<u8>) {
        let kind = err.kind.as_deref().unwrap_or("server_error");
        out.extend_from_slice(&stream_error_event(
            self.client,
            &ErrorBody {
                status: status_for_type(kind),
                kind,
                code: err.code.as_deref(),
                param: err.param.as_deref(),
                message: &err.message,
            },
        ));
        self.error = Some(err.message.clone());
    }
}
