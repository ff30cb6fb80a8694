//! `application/vnd.amazon.eventstream` framing, decoded incrementally: bytes split anywhere
//! in, whole checked messages out. The frame codec (prelude, headers, both CRC32s) is
//! `aws-smithy-eventstream`, the AWS SDK's own; this wrapper bounds a frame's size before
//! buffering it and notices a stream cut inside a frame.

use aws_smithy_eventstream::frame::{write_message_to, DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::{Buf, BytesMut};

/// AWS's limit on one event-stream message (16 MiB); a larger length prefix is corruption,
/// and must not make the gateway buffer without bound.
const MAX_FRAME: u32 = 16 * 1024 * 1024;
/// Prelude (total length, headers length, prelude CRC) plus the message CRC.
const MIN_FRAME: u32 = 16;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The length prefix is outside 16 bytes ..= 16 MiB.
    #[error("event-stream frame length {0} is out of range")]
    Length(u32),
    /// A CRC, header or length inside the frame is wrong.
    #[error("corrupt event-stream frame: {0}")]
    Corrupt(String),
    /// The stream ended inside a frame.
    #[error("event stream ended inside a frame")]
    Truncated,
}

/// One decoded message: the headers the Bedrock stream protocol uses, and the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// `:message-type`: `event`, `exception` or `error`.
    pub message_type: &'a str,
    /// `:event-type` for events, `:exception-type` for exceptions, `:error-code` for errors.
    pub kind: &'a str,
    /// `:error-message` (errors only).
    pub error_message: &'a str,
    /// The JSON payload.
    pub payload: &'a [u8],
}

/// Incremental decoder for one response body.
#[derive(Debug, Default)]
pub(crate) struct FrameDecoder {
    buf: BytesMut,
    decoder: MessageFrameDecoder,
    /// Length of the frame being assembled, once its prefix arrived.
    pending: Option<u32>,
}

impl FrameDecoder {
    /// Feeds bytes; calls `on_frame` for every whole frame, in order.
    pub(crate) fn push<E: From<FrameError>>(
        &mut self,
        chunk: &[u8],
        mut on_frame: impl FnMut(Frame<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.buf.extend_from_slice(chunk);
        loop {
            if self.pending.is_none() {
                if self.buf.len() < 4 {
                    return Ok(());
                }
                let len = (&self.buf[..4]).get_u32();
                if !(MIN_FRAME..=MAX_FRAME).contains(&len) {
                    return Err(FrameError::Length(len).into());
                }
                self.pending = Some(len);
            }
            match self.decoder.decode_frame(&mut self.buf) {
                Ok(DecodedFrame::Incomplete) => return Ok(()),
                Ok(DecodedFrame::Complete(message)) => {
                    self.pending = None;
                    on_frame(frame(&message))?;
                }
                Err(e) => return Err(FrameError::Corrupt(e.to_string()).into()),
            }
        }
    }

    /// End of the body: an error if it stopped inside a frame.
    pub(crate) fn finish(&self) -> Result<(), FrameError> {
        if self.pending.is_some() || !self.buf.is_empty() {
            return Err(FrameError::Truncated);
        }
        Ok(())
    }
}

fn frame(message: &Message) -> Frame<'_> {
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map_or("", |s| s.as_str())
    };
    let message_type = header(":message-type");
    let kind = match message_type {
        "exception" => header(":exception-type"),
        "error" => header(":error-code"),
        _ => header(":event-type"),
    };
    Frame {
        message_type,
        kind,
        error_message: header(":error-message"),
        payload: message.payload(),
    }
}

/// Encodes one message as AWS sends it, with `:message-type` and `:event-type` (or
/// `:exception-type`) string headers and `:content-type: application/json`: for tests,
/// fixtures and benchmarks.
pub fn encode_frame(message_type: &str, kind: &str, payload: &[u8]) -> Vec<u8> {
    let kind_header = if message_type == "exception" {
        ":exception-type"
    } else {
        ":event-type"
    };
    let message = Message::new(payload.to_vec())
        .add_header(Header::new(
            kind_header,
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".to_owned().into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_owned().into()),
        ));
    let mut out = Vec::with_capacity(payload.len() + 96);
    // Writing to a Vec can't fail, and the headers above are within every limit.
    let _ = write_message_to(&message, &mut out);
    out
}
