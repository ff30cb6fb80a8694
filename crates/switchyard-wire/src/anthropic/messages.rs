//! OpenAI chat messages → Anthropic `system` and `messages`.
//!
//! System and developer messages become `system` text blocks, wherever they appear. Assistant
//! tool calls become `tool_use` blocks; `tool` messages become `tool_result` blocks in a user
//! turn. Consecutive same-role turns are merged, so tool results and the user text after them
//! share one turn, results first, as Anthropic requires. Output borrows the client's strings,
//! so a large prompt is copied once, when serialized.

use serde::Serialize;
use serde_json::{Map, Value};

use super::response::tool_input;
use crate::TranslateError;

/// A text block; `cache_control` is kept when a client set it on an OpenAI content part, so
/// prompt caching still works through the OpenAI dialect.
#[derive(Debug, Serialize)]
pub(crate) struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<&'a Value>,
}

impl<'a> TextBlock<'a> {
    pub(crate) fn new(text: &'a str, cache_control: Option<&'a Value>) -> Self {
        TextBlock {
            kind: "text",
            text,
            cache_control,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Image {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Document {
        source: Source<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: ToolContent<'a>,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Source<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum ToolContent<'a> {
    Text(&'a str),
    Blocks(Vec<TextBlock<'a>>),
}

#[derive(Debug, Serialize)]
pub(crate) struct Turn<'a> {
    pub role: &'static str,
    pub content: Vec<Block<'a>>,
}

/// The converted conversation.
#[derive(Debug, Default)]
pub(crate) struct Conversation<'a> {
    pub system: Vec<TextBlock<'a>>,
    pub turns: Vec<Turn<'a>>,
}

fn invalid(param: String, message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param),
        message: message.into(),
    }
}

/// Converts `messages`; errors name the offending path (`messages[3].content[1]`).
pub(crate) fn convert(messages: &[Value]) -> Result<Conversation<'_>, TranslateError> {
    let mut conv = Conversation::default();
    for (i, msg) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let obj = msg
            .as_object()
            .ok_or_else(|| invalid(path.clone(), "each message must be an object"))?;
        let role = obj
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{path}.role"), "`role` must be a string"))?;
        let content = obj.get("content").unwrap_or(&Value::Null);
        match role {
            "system" | "developer" => {
                for (text, cache) in text_parts(content, &path)? {
                    conv.system.push(TextBlock::new(text, cache));
                }
            }
            "user" => {
                let blocks = user_blocks(content, &path)?;
                push(&mut conv.turns, "user", blocks);
            }
            "assistant" => {
                let mut blocks: Vec<Block<'_>> = text_parts(content, &path)?
                    .into_iter()
                    .map(|(text, cache_control)| Block::Text {
                        text,
                        cache_control,
                    })
                    .collect();
                if let Some(calls) = obj.get("tool_calls").and_then(Value::as_array) {
                    for (j, call) in calls.iter().enumerate() {
                        blocks.push(tool_use(call, &format!("{path}.tool_calls[{j}]"))?);
                    }
                }
                push(&mut conv.turns, "assistant", blocks);
            }
            "tool" => {
                let id = obj
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            format!("{path}.tool_call_id"),
                            "`tool_call_id` must be a string",
                        )
                    })?;
                let content = match content {
                    Value::String(s) => ToolContent::Text(s),
                    other => ToolContent::Blocks(
                        text_parts(other, &path)?
                            .into_iter()
                            .map(|(t, c)| TextBlock::new(t, c))
                            .collect(),
                    ),
                };
                let result = Block::ToolResult {
                    tool_use_id: id,
                    content,
                };
                push(&mut conv.turns, "user", vec![result]);
            }
            other => {
                return Err(invalid(
                    format!("{path}.role"),
                    format!("role `{other}` cannot be sent to anthropic"),
                ))
            }
        }
    }
    Ok(conv)
}

/// Appends blocks as a turn, merging into the previous turn of the same role; empty turns are
/// skipped because Anthropic rejects empty content.
fn push<'a>(turns: &mut Vec<Turn<'a>>, role: &'static str, blocks: Vec<Block<'a>>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => turns.push(Turn {
            role,
            content: blocks,
        }),
    }
}

type TextPart<'a> = (&'a str, Option<&'a Value>);

/// Text of a string or an array of `text`/`refusal` parts; empty strings are left out
/// (Anthropic rejects empty text blocks).
fn text_parts<'a>(content: &'a Value, path: &str) -> Result<Vec<TextPart<'a>>, TranslateError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(vec![(s.as_str(), None)]),
        Value::Array(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                let part_path = format!("{path}.content[{j}]");
                let obj = part
                    .as_object()
                    .ok_or_else(|| invalid(part_path.clone(), "content parts must be objects"))?;
                let key = match part_type(obj) {
                    Some("text") => "text",
                    Some("refusal") => "refusal",
                    _ => {
                        return Err(invalid(
                            part_path,
                            "only text parts are allowed in this message",
                        ))
                    }
                };
                let text = obj
                    .get(key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(format!("{part_path}.{key}"), "must be a string"))?;
                if !text.is_empty() {
                    out.push((text, obj.get("cache_control")));
                }
            }
            Ok(out)
        }
        _ => Err(invalid(
            format!("{path}.content"),
            "`content` must be a string or an array",
        )),
    }
}

fn part_type(obj: &Map<String, Value>) -> Option<&str> {
    obj.get("type").and_then(Value::as_str)
}

fn user_blocks<'a>(content: &'a Value, path: &str) -> Result<Vec<Block<'a>>, TranslateError> {
    let Value::Array(parts) = content else {
        return Ok(text_parts(content, path)?
            .into_iter()
            .map(|(text, cache_control)| Block::Text {
                text,
                cache_control,
            })
            .collect());
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}.content[{j}]");
        let obj = part
            .as_object()
            .ok_or_else(|| invalid(part_path.clone(), "content parts must be objects"))?;
        let cache = obj.get("cache_control");
        match part_type(obj) {
            Some("text") => {
                let text = obj.get("text").and_then(Value::as_str).ok_or_else(|| {
                    invalid(format!("{part_path}.text"), "`text` must be a string")
                })?;
                if !text.is_empty() {
                    out.push(Block::Text {
                        text,
                        cache_control: cache,
                    });
                }
            }
            Some("image_url") => {
                let image = obj.get("image_url");
                let url = image
                    .and_then(|i| i.get("url").or(Some(i)))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            format!("{part_path}.image_url.url"),
                            "`url` must be a string",
                        )
                    })?;
                let source = match url.strip_prefix("data:") {
                    Some(_) => data_url(url, &part_path)?,
                    None => Source::Url { url },
                };
                out.push(Block::Image {
                    source,
                    cache_control: cache,
                });
            }
            Some("file") => {
                let file = obj.get("file");
                let data = file
                    .and_then(|f| f.get("file_data"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            format!("{part_path}.file.file_data"),
                            "only inline `file_data` files can be sent to anthropic",
                        )
                    })?;
                out.push(Block::Document {
                    source: data_url(data, &part_path)?,
                    title: file.and_then(|f| f.get("filename")).and_then(Value::as_str),
                });
            }
            other => {
                return Err(invalid(
                    part_path,
                    format!(
                        "content part type `{}` cannot be sent to anthropic",
                        other.unwrap_or("?")
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// `data:<media type>;base64,<data>` → a base64 source, borrowing both parts.
fn data_url<'a>(url: &'a str, path: &str) -> Result<Source<'a>, TranslateError> {
    let rest = url.strip_prefix("data:").unwrap_or(url);
    let (media_type, data) = rest.split_once(";base64,").ok_or_else(|| {
        invalid(
            path.to_owned(),
            "data URLs must be base64 (`data:<type>;base64,...`)",
        )
    })?;
    Ok(Source::Base64 { media_type, data })
}

fn tool_use<'a>(call: &'a Value, path: &str) -> Result<Block<'a>, TranslateError> {
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.id"), "`id` must be a string"))?;
    let function = call.get("function");
    let name = function
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.function.name"), "`name` must be a string"))?;
    let arguments = function
        .and_then(|f| f.get("arguments"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(Block::ToolUse {
        id,
        name,
        input: tool_input(arguments),
    })
}
