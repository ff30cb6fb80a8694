//! Complete (non-stream) responses between Anthropic's Message and OpenAI's chat.completion.
//!
//! Choices made where the shapes differ: Anthropic thinking becomes OpenAI `reasoning_content`
//! (the de facto field of OpenAI-compatible servers) and back, with an empty signature since
//! OpenAI has none; redacted thinking and server-tool blocks have no OpenAI counterpart and are
//! left out; the `response_format` tool's input becomes the message text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{WireUsage, JSON_TOOL};
use crate::openai::stream::UsageOut;
use crate::stream::canon::Finish;
use crate::{TranslateError, Usage};

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    Thinking {
        thinking: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: AssistantMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct AssistantMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
    refusal: Option<()>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: String,
}

/// Anthropic Message → OpenAI chat.completion, with usage in OpenAI's terms.
pub(crate) fn to_openai(
    body: &[u8],
    created: u64,
) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    let msg: Message = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(format!("anthropic message: {e}")))?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    let mut json_tool = false;
    for block in &msg.content {
        match block {
            Block::Text { text: t } => text.push_str(t),
            Block::Thinking { thinking } => reasoning.push_str(thinking),
            Block::ToolUse { name, input, .. } if name == JSON_TOOL => {
                json_tool = true;
                text.push_str(&input.to_string());
            }
            Block::ToolUse { id, name, input } => tool_calls.push(ToolCallOut {
                id,
                kind: "function",
                function: FunctionOut {
                    name,
                    arguments: input.to_string(),
                },
            }),
            Block::Other => {}
        }
    }
    let mut finish = msg
        .stop_reason
        .as_deref()
        .map_or(Finish::Stop, Finish::from_anthropic);
    if finish == Finish::ToolCalls && json_tool && tool_calls.is_empty() {
        finish = Finish::Stop;
    }
    let usage = msg.usage.map(Usage::from);
    let completion = Completion {
        id: &msg.id,
        object: "chat.completion",
        created,
        model: &msg.model,
        choices: [CompletionChoice {
            index: 0,
            message: AssistantMessage {
                role: "assistant",
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text.as_str()),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning.as_str()),
                tool_calls,
                refusal: None,
            },
            logprobs: None,
            finish_reason: finish.openai(),
        }],
        usage: usage.map(UsageOut::from),
    };
    let mut out = Vec::with_capacity(body.len() + 128);
    crate::json::write(&mut out, &completion);
    Ok((out, usage))
}

#[derive(Deserialize)]
struct OpenAiCompletion {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    choices: Vec<OpenAiChoice>,
    #[serde(default)]
    usage: Option<crate::openai::usage::WireUsage>,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    #[serde(default)]
    index: u32,
    message: OpenAiMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<OpenAiToolCall>>,
    /// Claude's thinking blocks with their signatures, as a translated Bedrock reply carries
    /// them (the field LiteLLM uses for the same purpose).
    #[serde(default)]
    thinking_blocks: Option<Vec<ThinkingBlockIn>>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ThinkingBlockIn {
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
}

#[derive(Deserialize)]
struct OpenAiToolCall {
    #[serde(default)]
    id: String,
    function: OpenAiFunction,
}

#[derive(Deserialize)]
struct OpenAiFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Serialize)]
struct AnthropicMessage<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<BlockOut<'a>>,
    stop_reason: &'static str,
    stop_sequence: Option<()>,
    usage: WireUsage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockOut<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
}

/// OpenAI chat.completion → Anthropic Message (choice 0; Anthropic has no `n`).
pub(crate) fn from_openai(body: &[u8]) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    from_openai_with(body, None)
}

/// [`from_openai`] for a completion made by translating another provider's reply, whose
/// `usage` was read from that reply: it knows what OpenAI's usage can't say (cache writes).
pub(crate) fn from_openai_with(
    body: &[u8],
    known: Option<Usage>,
) -> Result<(Vec<u8>, Option<Usage>), TranslateError> {
    let completion: OpenAiCompletion = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(format!("openai completion: {e}")))?;
    let choice = completion
        .choices
        .iter()
        .find(|c| c.index == 0)
        .ok_or_else(|| {
            TranslateError::MalformedUpstream("openai completion has no choices".to_owned())
        })?;
    let msg = &choice.message;
    let mut content = Vec::new();
    if let Some(blocks) = msg.thinking_blocks.as_deref().filter(|b| !b.is_empty()) {
        content.extend(blocks.iter().map(|b| match b {
            ThinkingBlockIn::Thinking {
                thinking,
                signature,
            } => BlockOut::Thinking {
                thinking,
                signature,
            },
            ThinkingBlockIn::RedactedThinking { data } => BlockOut::RedactedThinking { data },
        }));
    } else if let Some(thinking) = msg
        .reasoning_content
        .as_deref()
        .or(msg.reasoning.as_deref())
    {
        if !thinking.is_empty() {
            content.push(BlockOut::Thinking {
                thinking,
                signature: "",
            });
        }
    }
    for text in [&msg.content, &msg.refusal].into_iter().flatten() {
        if !text.is_empty() {
            content.push(BlockOut::Text { text });
        }
    }
    for call in msg.tool_calls.iter().flatten() {
        content.push(BlockOut::ToolUse {
            id: &call.id,
            name: &call.function.name,
            input: tool_input(&call.function.arguments),
        });
    }
    let mut finish = choice
        .finish_reason
        .as_deref()
        .map_or(Finish::Stop, Finish::from_openai);
    if msg.refusal.as_deref().is_some_and(|r| !r.is_empty()) {
        finish = Finish::ContentFilter;
    }
    let usage = known.or_else(|| completion.usage.map(Usage::from));
    let message = AnthropicMessage {
        id: &completion.id,
        kind: "message",
        role: "assistant",
        model: &completion.model,
        content,
        stop_reason: finish.anthropic(),
        stop_sequence: None,
        usage: usage.map(WireUsage::from).unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(body.len() + 128);
    crate::json::write(&mut out, &message);
    Ok((out, usage))
}

/// Tool arguments as Anthropic's `input` object. Models occasionally emit arguments that are
/// not a JSON object; Anthropic requires one, so such text is kept under `"arguments"` rather
/// than lost.
pub(crate) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let mut map = serde_json::Map::new();
            map.insert("arguments".to_owned(), Value::String(arguments.to_owned()));
            Value::Object(map)
        }
    }
}

#[derive(Deserialize)]
struct UsageOnly {
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// Usage of an Anthropic Message passed through unchanged; the rest is skipped unparsed.
pub(crate) fn usage_only(body: &[u8]) -> Result<Option<Usage>, TranslateError> {
    let parsed: UsageOnly = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(format!("anthropic message: {e}")))?;
    Ok(parsed.usage.map(Usage::from))
}
