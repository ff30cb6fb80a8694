//! Gemini `streamGenerateContent?alt=sse` events to OpenAI `chat.completion.chunk`s.

use serde_json::{json, Map, Value};

use super::error::error_to_openai;
use super::response::{block_reason, malformed, read_candidate};
use super::{completion_id, finish_reason, unix_now, usage_from_metadata, usage_json};
use crate::{TranslateError, Usage};

/// Translates one Gemini SSE stream, event by event, into OpenAI chunks.
///
/// Each `data:` payload is a whole `GenerateContentResponse` slice. The first chunk of each
/// choice carries `role: "assistant"`; text becomes `content` deltas, thought text
/// `reasoning_content` deltas, and each `functionCall` one `tool_calls` delta with its index,
/// id, name and complete arguments (Gemini never splits a call across events). Finish reasons
/// are remembered and emitted by [`finish`](Self::finish) as one final chunk per choice, so a
/// late event can't put content after a finish chunk. The last `usageMetadata` wins.
#[derive(Debug)]
pub struct GeminiStreamToOpenAi {
    model: String,
    created: u64,
    /// `responseId` of the first event that had one.
    response_id: Option<String>,
    choices: Vec<ChoiceState>,
    usage: Option<Usage>,
    finished: bool,
}

#[derive(Debug)]
struct ChoiceState {
    index: u64,
    /// Whether a chunk with `role` was sent.
    started: bool,
    /// Tool calls sent so far, for the next call's `index`.
    tool_calls: usize,
    /// OpenAI finish reason, once known.
    finish: Option<&'static str>,
}

impl GeminiStreamToOpenAi {
    /// A translator whose chunks are named `model`.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            created: unix_now(),
            response_id: None,
            choices: Vec::new(),
            usage: None,
            finished: false,
        }
    }

    /// Translates one event's `data:` payload, appending chunks to `out`. Blank payloads are
    /// ignored.
    ///
    /// # Errors
    /// `MalformedUpstream` if the payload is not a JSON object or is an error envelope (Google
    /// reports mid-stream failures that way); the error names the status and a capped message.
    pub fn on_event(&mut self, data: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let event: Value = serde_json::from_str(data)
            .map_err(|e| malformed(format!("stream event is not valid JSON: {e}")))?;
        let Some(obj) = event.as_object() else {
            return Err(malformed("stream event is not a JSON object".to_owned()));
        };
        if obj.contains_key("error") {
            let (message, kind, _) = error_to_openai(500, data.as_bytes());
            return Err(malformed(format!("stream failed ({kind}): {message}")));
        }
        if self.response_id.is_none() {
            self.response_id = obj
                .get("responseId")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if let Some(meta) = obj.get("usageMetadata") {
            self.usage = Some(usage_from_metadata(meta));
        }
        let candidates = obj.get("candidates").and_then(Value::as_array);
        for (pos, candidate) in candidates.into_iter().flatten().enumerate() {
            self.on_candidate(candidate, pos, out)?;
        }
        if candidates.is_none_or(Vec::is_empty) && block_reason(obj).is_some() {
            self.choice(0).finish = Some("content_filter");
        }
        Ok(())
    }

    fn on_candidate(
        &mut self,
        candidate: &Value,
        pos: usize,
        out: &mut Vec<Value>,
    ) -> Result<(), TranslateError> {
        let cand = read_candidate(candidate, pos)?;
        let response_id = self.response_id.clone().unwrap_or_default();
        let state = self.choice(cand.index);
        let mut delta = Map::new();
        if !state.started {
            delta.insert("role".to_owned(), json!("assistant"));
        }
        if !cand.text.is_empty() {
            delta.insert("content".to_owned(), json!(cand.text));
        }
        if !cand.reasoning.is_empty() {
            delta.insert("reasoning_content".to_owned(), json!(cand.reasoning));
        }
        if !cand.calls.is_empty() {
            let mut calls = Vec::with_capacity(cand.calls.len());
            for call in &cand.calls {
                let mut value = call.to_openai(&response_id, state.tool_calls);
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("index".to_owned(), json!(state.tool_calls));
                }
                calls.push(value);
                state.tool_calls += 1;
            }
            delta.insert("tool_calls".to_owned(), Value::Array(calls));
        }
        if let Some(reason) = &cand.finish {
            state.finish = Some(finish_reason(reason, state.tool_calls > 0));
        }
        if !delta.is_empty() {
            state.started = true;
            let index = state.index;
            out.push(self.chunk(index, Value::Object(delta), None));
        }
        Ok(())
    }

    /// Ends the stream: appends one chunk with `finish_reason` per choice. Call it when the
    /// upstream body ends; calling it again does nothing.
    ///
    /// # Errors
    /// `MalformedUpstream` if no event carried a finish reason (or block reason), or some
    /// choice never got one: the upstream stream was cut short.
    pub fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), TranslateError> {
        if self.finished {
            return Ok(());
        }
        if !self.is_done() {
            return Err(malformed(
                "stream ended before every candidate had a finishReason".to_owned(),
            ));
        }
        self.finished = true;
        self.choices.sort_by_key(|c| c.index);
        let finals: Vec<(u64, bool, &'static str)> = self
            .choices
            .iter()
            .filter_map(|c| c.finish.map(|f| (c.index, c.started, f)))
            .collect();
        for (index, started, reason) in finals {
            let delta = if started {
                json!({})
            } else {
                json!({ "role": "assistant", "content": "" })
            };
            out.push(self.chunk(index, delta, Some(reason)));
        }
        Ok(())
    }

    /// Usage from the last `usageMetadata` seen, in OpenAI's terms.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Whether every choice seen so far has a finish reason (the upstream finished).
    pub fn is_done(&self) -> bool {
        !self.choices.is_empty() && self.choices.iter().all(|c| c.finish.is_some())
    }

    /// The trailing OpenAI usage chunk (`choices: []`) that clients asking for
    /// `stream_options.include_usage` expect, if any usage was reported.
    pub fn usage_chunk(&self) -> Option<Value> {
        let usage = self.usage?;
        Some(json!({
            "id": completion_id(self.response_id.as_deref()),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage_json(&usage),
        }))
    }

    fn choice(&mut self, index: u64) -> &mut ChoiceState {
        let pos = match self.choices.iter().position(|c| c.index == index) {
            Some(pos) => pos,
            None => {
                self.choices.push(ChoiceState {
                    index,
                    started: false,
                    tool_calls: 0,
                    finish: None,
                });
                self.choices.len() - 1
            }
        };
        &mut self.choices[pos]
    }

    fn chunk(&self, index: u64, delta: Value, finish: Option<&str>) -> Value {
        json!({
            "id": completion_id(self.response_id.as_deref()),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": index,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish,
            }],
        })
    }
}
