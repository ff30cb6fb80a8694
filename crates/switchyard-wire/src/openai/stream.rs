//! OpenAI `chat.completion.chunk` streams: decoding upstream chunks into [`Canon`] steps, and
//! encoding canonical steps as chunks for OpenAI clients.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::usage::WireUsage;
use crate::error::{parse_upstream_error, write_stream_error};
use crate::sse::{write_event, SseEvent};
use crate::stream::canon::{Canon, Finish};
use crate::{Dialect, TranslateError, Usage};

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    /// DeepSeek, vLLM and others stream reasoning here.
    #[serde(default, borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    /// OpenRouter and some vLLM versions use this name instead.
    #[serde(default, borrow)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
}

/// Reads OpenAI chunks for a client that speaks another dialect. Only choice 0 is translated:
/// the other dialects have no `n`.
#[derive(Debug, Default)]
pub(crate) struct OpenAiDecoder {
    started: bool,
}

impl OpenAiDecoder {
    pub(crate) fn decode(
        &mut self,
        ev: SseEvent<'_>,
        emit: &mut impl FnMut(Canon<'_>),
    ) -> Result<(), TranslateError> {
        let data = ev.data.trim_ascii();
        if data == b"[DONE]" {
            emit(Canon::Done);
            return Ok(());
        }
        if let Some(err) = error_payload(data) {
            emit(Canon::Error(&err));
            return Ok(());
        }
        let chunk: Chunk<'_> = serde_json::from_slice(data)
            .map_err(|e| TranslateError::MalformedUpstream(format!("openai chunk: {e}")))?;
        if !self.started {
            self.started = true;
            emit(Canon::Start {
                id: chunk.id.as_deref().unwrap_or(""),
                model: chunk.model.as_deref().unwrap_or(""),
            });
        }
        for choice in chunk.choices.iter().flatten().filter(|c| c.index == 0) {
            if let Some(delta) = &choice.delta {
                emit_delta(delta, emit);
            }
            if let Some(reason) = &choice.finish_reason {
                emit(Canon::Finish(Finish::from_openai(reason)));
            }
        }
        if let Some(usage) = chunk.usage {
            emit(Canon::Usage(usage.into()));
        }
        Ok(())
    }
}

fn emit_delta(delta: &Delta<'_>, emit: &mut impl FnMut(Canon<'_>)) {
    let reasoning = delta
        .reasoning_content
        .as_ref()
        .or(delta.reasoning.as_ref());
    if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
        emit(Canon::Reasoning(text));
    }
    for text in [&delta.content, &delta.refusal].into_iter().flatten() {
        if !text.is_empty() {
            emit(Canon::Text(text));
        }
    }
    for call in delta.tool_calls.iter().flatten() {
        let function = call.function.as_ref();
        let name = function.and_then(|f| f.name.as_deref());
        if call.id.is_some() || name.is_some() {
            emit(Canon::ToolStart {
                index: call.index,
                id: call.id.as_deref().unwrap_or(""),
                name: name.unwrap_or(""),
            });
        }
        if let Some(args) = function.and_then(|f| f.arguments.as_deref()) {
            if !args.is_empty() {
                emit(Canon::ToolArgs {
                    index: call.index,
                    fragment: args,
                });
            }
        }
    }
}

/// `{"error":{...}}` inside a stream, if that is what `data` is.
fn error_payload(data: &[u8]) -> Option<crate::UpstreamError> {
    let rest = data.strip_prefix(b"{")?.trim_ascii_start();
    if !rest.starts_with(b"\"error\"") {
        return None;
    }
    parse_upstream_error(data)
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: &'a [ChoiceOut<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct ChoiceOut<'a> {
    index: u32,
    delta: DeltaOut<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolOut<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a str>,
}

/// OpenAI's usage object, written for clients.
#[derive(Serialize)]
pub(crate) struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetailsOut,
    completion_tokens_details: CompletionDetailsOut,
}

#[derive(Serialize)]
struct PromptDetailsOut {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct CompletionDetailsOut {
    reasoning_tokens: u64,
}

impl From<Usage> for UsageOut {
    fn from(u: Usage) -> UsageOut {
        UsageOut {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens + u.completion_tokens,
            prompt_tokens_details: PromptDetailsOut {
                cached_tokens: u.cached_tokens,
            },
            completion_tokens_details: CompletionDetailsOut {
                reasoning_tokens: u.reasoning_tokens,
            },
        }
    }
}

/// Writes canonical steps as OpenAI chunks. The usage chunk (empty `choices`) goes out just
/// before `[DONE]`, as OpenAI sends it, and only when the client asked for it.
#[derive(Debug)]
pub(crate) struct OpenAiEncoder {
    id: String,
    model: String,
    created: u64,
    wants_usage: bool,
    usage: Option<Usage>,
    started: bool,
}

impl OpenAiEncoder {
    pub(crate) fn new(created: u64, wants_usage: bool) -> Self {
        OpenAiEncoder {
            id: String::new(),
            model: String::new(),
            created,
            wants_usage,
            usage: None,
            started: false,
        }
    }

    pub(crate) fn set_created(&mut self, created: u64) {
        self.created = created;
    }

    pub(crate) fn emit(&mut self, step: Canon<'_>, out: &mut Vec<u8>) {
        match step {
            Canon::Start { id, model } => {
                self.id = id.to_owned();
                self.model = model.to_owned();
                self.start(out);
            }
            Canon::Text(text) => self.delta(
                out,
                DeltaOut {
                    content: Some(text),
                    ..DeltaOut::default()
                },
                None,
            ),
            Canon::ReasoningSignature(_) => {}
            Canon::Reasoning(text) => self.delta(
                out,
                DeltaOut {
                    reasoning_content: Some(text),
                    ..DeltaOut::default()
                },
                None,
            ),
            Canon::ToolStart { index, id, name } => {
                let call = ToolOut {
                    index,
                    id: Some(id),
                    kind: Some("function"),
                    function: FunctionOut {
                        name: Some(name),
                        arguments: Some(""),
                    },
                };
                self.tool_delta(out, call);
            }
            Canon::ToolArgs { index, fragment } => {
                let call = ToolOut {
                    index,
                    id: None,
                    kind: None,
                    function: FunctionOut {
                        name: None,
                        arguments: Some(fragment),
                    },
                };
                self.tool_delta(out, call);
            }
            Canon::Finish(reason) => self.delta(out, DeltaOut::default(), Some(reason.openai())),
            Canon::Usage(usage) => self.usage = Some(usage),
            Canon::Done => {
                self.start(out);
                if let (true, Some(usage)) = (self.wants_usage, self.usage) {
                    self.write(out, &[], Some(usage.into()));
                }
                write_event(out, None, b"[DONE]");
            }
            Canon::Error(err) => write_stream_error(Dialect::OpenAi, err, out),
        }
    }

    /// The role chunk, once, before anything else.
    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let delta = DeltaOut {
            role: Some("assistant"),
            content: Some(""),
            ..DeltaOut::default()
        };
        self.write(out, &[choice(delta, None)], None);
    }

    fn tool_delta(&mut self, out: &mut Vec<u8>, call: ToolOut<'_>) {
        let delta = DeltaOut {
            tool_calls: Some([call]),
            ..DeltaOut::default()
        };
        self.delta(out, delta, None);
    }

    fn delta(&mut self, out: &mut Vec<u8>, delta: DeltaOut<'_>, finish: Option<&'static str>) {
        self.start(out);
        self.write(out, &[choice(delta, finish)], None);
    }

    fn write(&self, out: &mut Vec<u8>, choices: &[ChoiceOut<'_>], usage: Option<UsageOut>) {
        out.extend_from_slice(b"data: ");
        crate::json::write(
            out,
            &ChunkOut {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.created,
                model: &self.model,
                choices,
                usage,
            },
        );
        out.extend_from_slice(b"\n\n");
    }
}

fn choice<'a>(delta: DeltaOut<'a>, finish_reason: Option<&'static str>) -> ChoiceOut<'a> {
    ChoiceOut {
        index: 0,
        delta,
        logprobs: None,
        finish_reason,
    }
}
