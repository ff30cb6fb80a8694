//! Stream translation: upstream SSE bytes in, whole client events out, at any chunk boundary.
//!
//! Same-dialect streams pass through byte for byte, parsing only the events that carry usage,
//! errors or the end. Cross-dialect streams go upstream → [`canon::Canon`] steps → client, so a
//! new provider needs only a decoder. Usage is always recorded (the gateway meters every
//! stream) but shown to an OpenAI client only when it asked. An upstream error event ends the
//! stream: it is re-rendered in the client's format and later events are ignored. Bedrock's
//! stream is binary event-stream frames rather than SSE; its frames feed the same machinery.

pub(crate) mod canon;
mod gemini;
mod raw;
mod streamed;

use bytes::Bytes;
use canon::Canon;
use gemini::GeminiDecoder;
use raw::{Block, Events, RawFraming};
use streamed::Streamed;

use crate::anthropic::stream_decode::AnthropicDecoder;
use crate::anthropic::stream_encode::AnthropicEncoder;
use crate::bedrock::frames::{Frame, FrameDecoder, FrameError};
use crate::bedrock::stream::BedrockDecoder;
use crate::error::{parse_upstream_error, write_stream_error};
use crate::openai::scan::{has_key_then, FINDERS};
use crate::openai::stream::{OpenAiDecoder, OpenAiEncoder};
use crate::openai::usage::UsageChunk;
use crate::responses::stream_encode::ResponsesEncoder;
use crate::sse::{write_event, SseEvent, SseParser};
use crate::{Dialect, TranslateError, Usage};

/// Translates one upstream stream for one client; create one per response.
#[derive(Debug)]
pub struct StreamTranslator {
    /// Same-dialect streams: events split and forwarded as the upstream framed them.
    raw: Option<Box<RawFraming>>,
    /// How upstream bytes are cut (SSE lines or event-stream frames) when not forwarded raw.
    input: Input,
    state: State,
}

/// How the upstream's bytes are cut into events.
#[derive(Debug)]
enum Input {
    Sse(SseParser),
    Frames(Box<FrameDecoder>),
}

impl From<FrameError> for TranslateError {
    fn from(e: FrameError) -> Self {
        TranslateError::MalformedUpstream(format!("bedrock: {e}"))
    }
}

#[derive(Debug)]
struct State {
    upstream: Dialect,
    client: Dialect,
    client_wants_usage: bool,
    mode: Mode,
    events: u64,
    facts: Facts,
}

#[derive(Debug)]
enum Mode {
    /// OpenAI to OpenAI: bytes forwarded, only usage and error chunks parsed.
    OpenAiPassthrough,
    /// Anthropic to Anthropic: bytes forwarded, only message_start/delta/stop and error parsed.
    AnthropicPassthrough(AnthropicDecoder),
    /// Responses to Responses: bytes forwarded, only the terminal and error events parsed.
    ResponsesPassthrough,
    /// Different dialects: decode to canonical steps, encode for the client.
    Translate { decoder: Decoder, encoder: Encoder },
    /// A pair with no translation yet; every push fails.
    Unsupported,
}

#[derive(Debug)]
enum Decoder {
    OpenAi(OpenAiDecoder),
    Anthropic(AnthropicDecoder),
    Gemini(Box<GeminiDecoder>),
    Bedrock(Box<BedrockDecoder>),
}

#[derive(Debug)]
enum Encoder {
    OpenAi(OpenAiEncoder),
    Anthropic(AnthropicEncoder),
    Responses(Box<ResponsesEncoder>),
}

impl StreamTranslator {
    /// A translator from `upstream`'s stream format to `client`'s. `client_wants_usage` decides
    /// whether OpenAI clients get the usage chunk (it is recorded either way; Anthropic clients
    /// always get usage in message_delta, as their format requires).
    pub fn new(upstream: Dialect, client: Dialect, client_wants_usage: bool) -> Self {
        let decoder = match upstream {
            Dialect::OpenAi => Some(Decoder::OpenAi(OpenAiDecoder::default())),
            Dialect::Anthropic => Some(Decoder::Anthropic(AnthropicDecoder::default())),
            Dialect::Gemini => Some(Decoder::Gemini(Box::new(GeminiDecoder::new("")))),
            Dialect::OpenAiResponses => None,
            Dialect::Bedrock => Some(Decoder::Bedrock(Box::default())),
        };
        let encoder = match client {
            Dialect::OpenAi => Some(Encoder::OpenAi(OpenAiEncoder::new(0, client_wants_usage))),
            Dialect::Anthropic => Some(Encoder::Anthropic(AnthropicEncoder::default())),
            Dialect::OpenAiResponses => Some(Encoder::Responses(Box::default())),
            Dialect::Gemini | Dialect::Bedrock => None,
        };
        let mode = match (upstream, client, decoder, encoder) {
            (Dialect::OpenAi, Dialect::OpenAi, ..) => Mode::OpenAiPassthrough,
            (Dialect::Anthropic, Dialect::Anthropic, ..) => {
                Mode::AnthropicPassthrough(AnthropicDecoder::default())
            }
            (Dialect::OpenAiResponses, Dialect::OpenAiResponses, ..) => Mode::ResponsesPassthrough,
            (_, _, Some(decoder), Some(encoder)) => Mode::Translate { decoder, encoder },
            _ => Mode::Unsupported,
        };
        let raw = matches!(
            mode,
            Mode::OpenAiPassthrough | Mode::AnthropicPassthrough(_) | Mode::ResponsesPassthrough
        )
        .then(Box::default);
        let input = match upstream {
            Dialect::Bedrock => Input::Frames(Box::default()),
            _ => Input::Sse(SseParser::new()),
        };
        StreamTranslator {
            input,
            raw,
            state: State {
                upstream,
                client,
                client_wants_usage,
                mode,
                events: 0,
                facts: Facts::default(),
            },
        }
    }

    /// Sets the `created` timestamp (Unix seconds) written into chunks this translator makes
    /// for OpenAI clients from another dialect's stream; this crate has no clock, and the
    /// default is 0.
    pub fn with_created(mut self, unix_secs: u64) -> Self {
        match &mut self.state.mode {
            Mode::Translate {
                encoder: Encoder::OpenAi(enc),
                ..
            } => enc.set_created(unix_secs),
            Mode::Translate {
                encoder: Encoder::Responses(enc),
                ..
            } => enc.set_created(unix_secs),
            _ => {}
        }
        self
    }

    /// Sets the request settings a Responses client's `response` objects repeat back.
    pub fn with_echo(mut self, echo: crate::responses::Echo) -> Self {
        if let Mode::Translate {
            encoder: Encoder::Responses(enc),
            ..
        } = &mut self.state.mode
        {
            enc.set_echo(echo);
        }
        self
    }

    /// The gateway's own error as one event in the client's stream format, for a failure
    /// after the head went out (a Responses client's event continues the sequence numbers).
    pub fn error_event(&mut self, e: &crate::ErrorBody<'_>) -> Vec<u8> {
        match &mut self.state.mode {
            Mode::Translate {
                encoder: Encoder::Responses(enc),
                ..
            } => {
                let mut out = Vec::new();
                let err = crate::UpstreamError {
                    message: e.message.to_owned(),
                    kind: Some(e.kind.to_owned()),
                    code: e.code.map(str::to_owned),
                    param: e.param.map(str::to_owned),
                };
                enc.error(&mut out, &err);
                out
            }
            _ => crate::stream_error_event(self.state.client, e),
        }
    }

    /// Sets the model name written into chunks built from a Gemini stream when its first event
    /// names none (`modelVersion` is optional, and some proxies leave it out), or from a
    /// Bedrock stream (whose events never name it). Call before the first push.
    pub fn with_model(mut self, model: &str) -> Self {
        match &mut self.state.mode {
            Mode::Translate {
                decoder: Decoder::Gemini(dec),
                ..
            } => **dec = GeminiDecoder::new(model),
            Mode::Translate {
                decoder: Decoder::Bedrock(dec),
                ..
            } => **dec = BedrockDecoder::new(model),
            _ => {}
        }
        self
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
        match (&mut self.raw, &mut self.input) {
            (Some(raw), _) => raw.push(chunk, &mut Writer::new(state, out, &[])),
            (None, Input::Sse(parser)) => parser.push(chunk, |ev| state.on_event(ev, out)),
            (None, Input::Frames(frames)) => frames.push(chunk, |f| state.on_frame(f, out)),
        }
    }

    /// [`Self::push`] for a shared chunk, returning the client's bytes: when a same-dialect
    /// chunk holds only whole events forwarded unchanged (the usual case) the result is a view
    /// of `chunk` itself, with no copy.
    ///
    /// # Errors
    /// As [`Self::push`].
    pub fn push_bytes(&mut self, chunk: &Bytes) -> Result<Bytes, TranslateError> {
        self.state.check_supported()?;
        let mut out = Vec::new();
        let state = &mut self.state;
        let Some(raw) = &mut self.raw else {
            out.reserve(chunk.len() + 64);
            match &mut self.input {
                Input::Sse(parser) => parser.push(chunk, |ev| state.on_event(ev, &mut out))?,
                Input::Frames(frames) => frames.push(chunk, |f| state.on_frame(f, &mut out))?,
            }
            return Ok(Bytes::from(out));
        };
        let mut writer = Writer::new(state, &mut out, chunk);
        raw.push(chunk, &mut writer)?;
        Ok(match writer.in_place {
            Some(n) => chunk.slice(..n),
            None => Bytes::from(out),
        })
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
        match (&mut self.raw, &mut self.input) {
            (Some(raw), _) => raw.finish(&mut Writer::new(state, out, &[]))?,
            (None, Input::Sse(parser)) => parser.finish(|ev| state.on_event(ev, out))?,
            (None, Input::Frames(frames)) => {
                if let Err(e) = frames.finish() {
                    if !state.facts.ended() {
                        return Err(e.into());
                    }
                }
            }
        }
        self.state.end_of_input(out)?;
        if self.state.facts.ended() {
            return Ok(());
        }
        Err(TranslateError::MalformedUpstream(format!(
            "{} stream ended before its terminal event",
            self.state.upstream
        )))
    }

    /// Usage reported by the upstream so far (the last report wins).
    pub fn usage(&self) -> Option<Usage> {
        self.state.facts.usage
    }

    /// Output tokens estimated from the text streamed so far, for a stream that ends without
    /// a usage report (OpenAI reports it only in the last chunk); `None` before any output.
    pub fn streamed_estimate(&self) -> Option<Usage> {
        self.state.facts.streamed.estimate()
    }

    /// Complete upstream events parsed so far; zero means nothing reached the client yet.
    pub fn events_seen(&self) -> u64 {
        self.state.events
    }

    /// Whether the upstream's terminal event arrived.
    pub fn is_done(&self) -> bool {
        self.state.facts.done
    }

    /// The upstream's message, if it sent an in-stream error event.
    pub fn upstream_error(&self) -> Option<&str> {
        self.state.facts.error.as_deref()
    }
}

impl Encoder {
    fn emit(&mut self, step: Canon<'_>, out: &mut Vec<u8>) {
        match self {
            Encoder::OpenAi(enc) => enc.emit(step, out),
            Encoder::Anthropic(enc) => enc.emit(step, out),
            Encoder::Responses(enc) => enc.emit(step, out),
        }
    }
}

/// Writes a same-dialect stream's events: whole canonical blocks that need no look inside are
/// copied as they are (or, while they are consecutive bytes of `src`, not even copied), the
/// rest go through [`State::on_event`].
struct Writer<'a> {
    state: &'a mut State,
    out: &'a mut Vec<u8>,
    /// The chunk being pushed, when the caller can forward a prefix of it as it is.
    src: &'a [u8],
    /// How many leading bytes of `src` are the client's output so far, uncopied; `None` once
    /// anything else was written (then `out` holds everything).
    in_place: Option<usize>,
}

impl<'a> Writer<'a> {
    fn new(state: &'a mut State, out: &'a mut Vec<u8>, src: &'a [u8]) -> Self {
        let in_place = (!src.is_empty()).then_some(0);
        Writer {
            state,
            out,
            src,
            in_place,
        }
    }

    /// Copies the uncopied prefix into `out`, before anything else is written there.
    fn materialize(&mut self) {
        if let Some(n) = self.in_place.take() {
            self.out.extend_from_slice(&self.src[..n]);
        }
    }

    /// Whether a canonical block must be parsed: it may carry usage, an error or the end.
    fn needs_look(&self, bytes: &[u8], name: &[u8]) -> bool {
        match &self.state.mode {
            Mode::OpenAiPassthrough => {
                let f = &*FINDERS;
                f.done.find(bytes).is_some()
                    || has_key_then(bytes, &f.error, b'{')
                    || has_key_then(bytes, &f.usage, b'{')
            }
            Mode::AnthropicPassthrough(_) => anthropic_meaningful(name),
            Mode::ResponsesPassthrough => crate::responses::passthrough::meaningful(name),
            Mode::Translate { .. } | Mode::Unsupported => true,
        }
    }
}

impl Events<TranslateError> for Writer<'_> {
    fn block(&mut self, bytes: &[u8], kind: Block<'_>) -> Result<bool, TranslateError> {
        let Block::Canonical { name } = kind else {
            return Ok(false);
        };
        if self.needs_look(bytes, name) {
            return Ok(false);
        }
        self.state.events += 1;
        if self.state.facts.ended() {
            return Ok(true);
        }
        if let Mode::OpenAiPassthrough = self.state.mode {
            self.state.facts.streamed.note_openai(bytes);
        }
        let next = self.in_place.and_then(|n| self.src.get(n..));
        match next {
            Some(rest) if rest.as_ptr() == bytes.as_ptr() => {
                self.in_place = Some(self.src.len() - rest.len() + bytes.len());
            }
            _ => {
                self.materialize();
                self.out.extend_from_slice(bytes);
            }
        }
        Ok(true)
    }

    fn event(&mut self, ev: SseEvent<'_>) -> Result<(), TranslateError> {
        self.materialize();
        self.state.on_event(ev, self.out)
    }
}

/// The facts every mode records, whatever it writes.
#[derive(Debug, Default)]
struct Facts {
    usage: Option<Usage>,
    done: bool,
    error: Option<String>,
    streamed: Streamed,
}

impl Facts {
    fn note(&mut self, step: &Canon<'_>) {
        match step {
            Canon::Usage(u) => self.usage = Some(*u),
            Canon::Done => self.done = true,
            Canon::Error(e) => self.error = Some(e.message.clone()),
            _ => self.streamed.note(step),
        }
    }

    fn ended(&self) -> bool {
        self.done || self.error.is_some()
    }
}

impl State {
    fn check_supported(&self) -> Result<(), TranslateError> {
        match self.mode {
            Mode::Unsupported => Err(crate::unsupported_pair(self.upstream, self.client)),
            _ => Ok(()),
        }
    }

    /// Streams whose end is EOF rather than an event (Gemini) finish here.
    fn end_of_input(&mut self, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        if self.facts.ended() {
            return Ok(());
        }
        let Mode::Translate { decoder, encoder } = &mut self.mode else {
            return Ok(());
        };
        let record = &mut self.facts;
        let mut sink = |step: Canon<'_>| {
            record.note(&step);
            encoder.emit(step, out);
        };
        match decoder {
            Decoder::Gemini(dec) => dec.finish(&mut sink),
            Decoder::Bedrock(dec) => {
                dec.finish(&mut sink);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One Bedrock event-stream message.
    fn on_frame(&mut self, frame: Frame<'_>, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        self.events += 1;
        if self.facts.ended() {
            return Ok(());
        }
        let Mode::Translate {
            decoder: Decoder::Bedrock(dec),
            encoder,
        } = &mut self.mode
        else {
            return Err(crate::unsupported_pair(self.upstream, self.client));
        };
        let record = &mut self.facts;
        dec.decode(frame, &mut |step: Canon<'_>| {
            record.note(&step);
            encoder.emit(step, out);
        })
    }

    fn on_event(&mut self, ev: SseEvent<'_>, out: &mut Vec<u8>) -> Result<(), TranslateError> {
        self.events += 1;
        if self.facts.ended() {
            return Ok(());
        }
        let record = &mut self.facts;
        match &mut self.mode {
            Mode::OpenAiPassthrough => {
                openai_passthrough(ev, self.client_wants_usage, record, out);
                Ok(())
            }
            Mode::AnthropicPassthrough(decoder) => {
                anthropic_passthrough(ev, decoder, record, out);
                Ok(())
            }
            Mode::ResponsesPassthrough => {
                crate::responses::passthrough::forward(ev, &mut |step| record.note(&step), out);
                Ok(())
            }
            Mode::Translate { decoder, encoder } => {
                let mut sink = |step: Canon<'_>| {
                    record.note(&step);
                    encoder.emit(step, out);
                };
                match decoder {
                    Decoder::OpenAi(dec) => dec.decode(ev, &mut sink),
                    Decoder::Anthropic(dec) => dec.decode(ev, &mut sink),
                    Decoder::Gemini(dec) => dec.decode(ev, &mut sink),
                    // Bedrock streams are frames, never SSE (see `on_frame`).
                    Decoder::Bedrock(_) => Err(crate::unsupported_pair(self.upstream, self.client)),
                }
            }
            Mode::Unsupported => Err(crate::unsupported_pair(self.upstream, self.client)),
        }
    }
}

/// Forwards an OpenAI event unchanged unless it is `[DONE]`, an error, or the usage-only chunk
/// (recorded, and forwarded only if the client asked). Content chunks are never parsed, only
/// measured (`streamed`).
fn openai_passthrough(ev: SseEvent<'_>, wants_usage: bool, record: &mut Facts, out: &mut Vec<u8>) {
    let data = ev.data;
    if data.trim_ascii() == b"[DONE]" {
        record.note(&Canon::Done);
        write_event(out, None, b"[DONE]");
        return;
    }
    if has_key_then(data, &FINDERS.error, b'{') {
        if let Some(err) = parse_upstream_error(data) {
            record.note(&Canon::Error(&err));
            write_stream_error(Dialect::OpenAi, &err, out);
            return;
        }
    }
    if has_key_then(data, &FINDERS.usage, b'{') {
        if let Ok(chunk) = serde_json::from_slice::<UsageChunk>(data) {
            if let Some(u) = chunk.usage {
                record.note(&Canon::Usage(u.into()));
            }
            let usage_only = chunk.choices.is_none_or(|c| c.is_empty());
            if usage_only && !wants_usage {
                return;
            }
        }
    }
    record.streamed.note_openai(data);
    let name = std::str::from_utf8(ev.event).ok().filter(|n| !n.is_empty());
    write_event(out, name, data);
}

/// Forwards Anthropic events unchanged; only the few that carry usage, the end or an error are
/// decoded (a malformed one is still forwarded: the client may cope, metering just misses it).
fn anthropic_passthrough(
    ev: SseEvent<'_>,
    decoder: &mut AnthropicDecoder,
    record: &mut Facts,
    out: &mut Vec<u8>,
) {
    let mut replaced = false;
    if anthropic_meaningful(ev.event) {
        let _ = decoder.decode(ev, &mut |step: Canon<'_>| {
            record.note(&step);
            if let Canon::Error(err) = step {
                write_stream_error(Dialect::Anthropic, err, out);
                replaced = true;
            }
        });
    }
    if !replaced {
        let name = std::str::from_utf8(ev.event).ok().filter(|n| !n.is_empty());
        write_event(out, name, ev.data);
    }
}

/// Anthropic events that carry usage, the end or an error (an unnamed one may be anything).
fn anthropic_meaningful(name: &[u8]) -> bool {
    matches!(
        name,
        b"" | b"message_start" | b"message_delta" | b"message_stop" | b"error"
    )
}

#[cfg(test)]
#[path = "raw_tests.rs"]
mod raw_tests;
