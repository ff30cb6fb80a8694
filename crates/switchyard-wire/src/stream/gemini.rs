//! Gemini streams into canonical steps, by way of the Gemini module's OpenAI chunks: each
//! chunk it produces is read by the OpenAI chunk decoder, so every client encoder works
//! unchanged. Gemini has no terminal event; the end is upstream EOF with every candidate
//! finished, so the last steps come from [`GeminiDecoder::finish`].

use serde_json::Value;

use super::canon::Canon;
use crate::error::parse_upstream_error;
use crate::gemini::GeminiStreamToOpenAi;
use crate::openai::stream::OpenAiDecoder;
use crate::sse::SseEvent;
use crate::TranslateError;

#[derive(serde::Deserialize)]
struct ModelVersion {
    #[serde(default, rename = "modelVersion")]
    model_version: Option<String>,
}

#[derive(Debug)]
pub(crate) struct GeminiDecoder {
    inner: GeminiStreamToOpenAi,
    /// The first event not seen yet: its `modelVersion`, when present, names the chunks;
    /// otherwise they keep the name given to [`GeminiDecoder::new`].
    model_known: bool,
    chunks: Vec<Value>,
    /// Serialized chunk, reused between chunks.
    buf: Vec<u8>,
    openai: OpenAiDecoder,
}

impl GeminiDecoder {
    /// `model` names the chunks when the stream's first event carries no `modelVersion`.
    pub(crate) fn new(model: &str) -> Self {
        GeminiDecoder {
            inner: GeminiStreamToOpenAi::new(model),
            model_known: false,
            chunks: Vec::new(),
            buf: Vec::new(),
            openai: OpenAiDecoder::default(),
        }
    }

    pub(crate) fn decode(
        &mut self,
        ev: SseEvent<'_>,
        emit: &mut impl FnMut(Canon<'_>),
    ) -> Result<(), TranslateError> {
        let data = ev.data.trim_ascii();
        // Google reports a failure mid-stream as its error envelope.
        if data.starts_with(b"{") && data.windows(7).take(64).any(|w| w == b"\"error\"") {
            if let Some(err) = parse_upstream_error(data) {
                emit(Canon::Error(&err));
                return Ok(());
            }
        }
        let text = std::str::from_utf8(data)
            .map_err(|_| TranslateError::MalformedUpstream("gemini event is not UTF-8".into()))?;
        if !self.model_known {
            self.model_known = true;
            if let Ok(ModelVersion {
                model_version: Some(model),
            }) = serde_json::from_str(text)
            {
                self.inner = GeminiStreamToOpenAi::new(&model);
            }
        }
        self.inner.on_event(text, &mut self.chunks)?;
        self.drain(emit)
    }

    /// Upstream EOF: the final finish chunks, the usage, and the end.
    pub(crate) fn finish(
        &mut self,
        emit: &mut impl FnMut(Canon<'_>),
    ) -> Result<(), TranslateError> {
        self.inner.finish(&mut self.chunks)?;
        self.drain(emit)?;
        if let Some(usage) = self.inner.usage() {
            emit(Canon::Usage(usage));
        }
        emit(Canon::Done);
        Ok(())
    }

    fn drain(&mut self, emit: &mut impl FnMut(Canon<'_>)) -> Result<(), TranslateError> {
        for chunk in self.chunks.drain(..) {
            self.buf.clear();
            crate::json::write(&mut self.buf, &chunk);
            let ev = SseEvent {
                event: b"",
                data: &self.buf,
            };
            self.openai.decode(ev, emit)?;
        }
        Ok(())
    }
}
