//! OpenAI chat completions request (canonical form) to a Converse `ConverseRequest` body.
//!
//! - `system`/`developer` messages → `system` text blocks; `tool` messages → `toolResult`
//!   blocks in a user turn; assistant `tool_calls` → `toolUse` blocks (arguments parsed to the
//!   JSON document Converse wants); consecutive same-role turns are merged, as Converse
//!   requires alternating roles.
//! - Images: base64 data URLs → `image.source.bytes`, `s3://` URLs → `s3Location`; Converse
//!   can't fetch http(s) URLs, so those are refused. Base64 files → `document` blocks.
//! - `max_completion_tokens`/`max_tokens`, `temperature`, `top_p`, `stop` → `inferenceConfig`;
//!   `tools`/`tool_choice` → `toolConfig`; `response_format` json_schema →
//!   `outputConfig.textFormat`; string-valued `metadata` → `requestMetadata`.
//! - What Converse lacks goes in `additionalModelRequestFields`, in the model's own terms, for
//!   Claude models only: Anthropic's `thinking` (from an Anthropic client's exact budget, or
//!   from `reasoning_effort`) and `top_k`. For other models, and for parameters with no
//!   counterpart (`seed`, penalties, `logprobs`, `n` > 1, `user` …), the parameter is dropped
//!   and listed, or refused under `strict_params`.

use serde_json::{json, Map, Value};

use super::media::{document, image};
use super::params::Params;
use super::{is_claude, supports_cache_points};
use crate::{turns, TranslateError};

/// Translates an OpenAI chat completions body into a `ConverseRequest` body for `model`
/// (the id goes in the URL, not the body: see [`super::model_path`]).
///
/// Returns the body and the parameters dropped; with `strict_params` the first such
/// parameter is an `UnsupportedParam` error instead.
///
/// # Errors
/// `InvalidRequest` for a malformed request (no messages, unknown role, a tool message
/// without `tool_call_id`, unparseable tool arguments, an http(s) image URL …);
/// `UnsupportedParam` as above.
pub fn request_from_openai(
    req: &Map<String, Value>,
    model: &str,
    strict_params: bool,
) -> Result<(Value, Vec<String>), TranslateError> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("messages", "`messages` must be a non-empty array".into()))?;
    let mut out = Map::new();
    let caching = supports_cache_points(model);
    let conv = Conversation::from_messages(messages, caching, is_claude(model))?;
    if !conv.system.is_empty() {
        out.insert("system".into(), Value::Array(conv.system));
    }
    out.insert("messages".into(), Value::Array(conv.turns));
    let mut params = Params {
        strict: strict_params,
        claude: is_claude(model),
        caching,
        dropped: Vec::new(),
        inference: Map::new(),
        additional: Map::new(),
    };
    if conv.uncached {
        params.drop("cache_control")?;
    }
    params.read(req, &mut out, conv.has_tool_blocks)?;
    if !params.inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(params.inference));
    }
    if !params.additional.is_empty() {
        out.insert(
            "additionalModelRequestFields".into(),
            Value::Object(params.additional),
        );
    }
    Ok((Value::Object(out), params.dropped))
}

pub(super) fn invalid(param: impl Into<String>, message: String) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.into()),
        message,
    }
}

/// A `cachePoint` block for a client's `cache_control` (Anthropic's `{type: ephemeral, ttl}`):
/// Converse marks the end of a cached prefix with a block of its own after the content,
/// where Anthropic marks the last cached block. The TTL is kept when it is one Converse knows.
pub(super) fn cache_point(cache_control: &Value) -> Value {
    let mut point = Map::new();
    point.insert("type".into(), json!("default"));
    if let Some(ttl) = cache_control
        .get("ttl")
        .and_then(Value::as_str)
        .filter(|t| matches!(*t, "5m" | "1h"))
    {
        point.insert("ttl".into(), json!(ttl));
    }
    json!({ "cachePoint": point })
}

struct Conversation {
    system: Vec<Value>,
    turns: Vec<Value>,
    /// Some turn carries `toolUse`/`toolResult`: Converse then needs `toolConfig`.
    has_tool_blocks: bool,
    /// The model takes `cachePoint` blocks.
    caching: bool,
    /// The model is Claude, which takes signed thinking back.
    claude: bool,
    /// A `cache_control` was set but the model can't take cache points: listed as dropped.
    uncached: bool,
}

impl Conversation {
    fn from_messages(
        messages: &[Value],
        caching: bool,
        claude: bool,
    ) -> Result<Self, TranslateError> {
        let mut conv = Conversation {
            system: Vec::new(),
            turns: Vec::new(),
            has_tool_blocks: false,
            caching,
            claude,
            uncached: false,
        };
        for (i, msg) in messages.iter().enumerate() {
            let at = format!("messages[{i}]");
            let role = turns::role(msg, &at)?;
            let content = msg.get("content").unwrap_or(&Value::Null);
            match role {
                "system" | "developer" => {
                    let b = conv.blocks(content, &at, false)?;
                    conv.system.extend(b);
                }
                "user" => {
                    let b = conv.blocks(content, &at, true)?;
                    conv.push("user", b);
                }
                "assistant" => {
                    let mut b = conv.reasoning(msg);
                    b.extend(conv.blocks(content, &at, false)?);
                    let calls = tool_uses(msg, &at)?;
                    conv.has_tool_blocks |= !calls.is_empty();
                    b.extend(calls);
                    conv.mark(msg.get("cache_control"), &mut b);
                    conv.push("assistant", b);
                }
                "tool" => {
                    let id = turns::tool_call_id(msg, &at)?;
                    let text = turns::tool_text(content);
                    conv.has_tool_blocks = true;
                    let mut b = vec![json!({ "toolResult": {
                        "toolUseId": id,
                        "content": [{ "text": text }],
                    }})];
                    let part_cache = content
                        .as_array()
                        .and_then(|parts| parts.iter().rev().find_map(|p| p.get("cache_control")));
                    conv.mark(msg.get("cache_control").or(part_cache), &mut b);
                    conv.push("user", b);
                }
                other => return Err(turns::unknown_role(&at, other, "bedrock")),
            }
        }
        turns::not_empty(&conv.turns)?;
        Ok(conv)
    }

    /// Content blocks of a string or part array. Empty text is skipped (Converse refuses blank
    /// text blocks); media parts are allowed only in user turns.
    fn blocks(
        &mut self,
        content: &Value,
        at: &str,
        media: bool,
    ) -> Result<Vec<Value>, TranslateError> {
        let items = match content {
            Value::Null => return Ok(Vec::new()),
            Value::String(s) => return Ok(text_block(s).into_iter().collect()),
            Value::Array(items) => items,
            _ => {
                return Err(invalid(
                    format!("{at}.content"),
                    format!("{at}.content must be a string or an array of parts"),
                ))
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (j, item) in items.iter().enumerate() {
            let here = format!("{at}.content[{j}]");
            let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
            match kind {
                "text" | "refusal" => {
                    let text = item
                        .get(kind)
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(&here, format!("{here} has no {kind}")))?;
                    out.extend(text_block(text));
                }
                "image_url" if media => {
                    let url = item
                        .get("image_url")
                        .and_then(|i| i.get("url").or(Some(i)))
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid(&here, format!("{here} has no image_url.url")))?;
                    out.push(image(url, &here)?);
                }
                "file" if media => {
                    let data = item
                        .pointer("/file/file_data")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            invalid(&here, format!("{here}: only inline file_data is supported"))
                        })?;
                    out.push(document(data, out.len(), &here)?);
                }
                other => {
                    return Err(invalid(
                        format!("{here}.type"),
                        format!(
                            "{here}: content part type {other:?} is not supported by bedrock here"
                        ),
                    ))
                }
            }
            self.mark(item.get("cache_control"), &mut out);
        }
        Ok(out)
    }

    /// An assistant message's signed thinking (`thinking_blocks`, from an Anthropic client
    /// or LiteLLM's form) as leading `reasoningContent` blocks, for Claude only: with thinking
    /// on, Claude wants them back before a tool use. Unsigned thinking can't be verified by
    /// Claude, so it is left out, as are all of them for other models.
    fn reasoning(&self, msg: &Value) -> Vec<Value> {
        let Some(blocks) = msg.get("thinking_blocks").and_then(Value::as_array) else {
            return Vec::new();
        };
        if !self.claude {
            return Vec::new();
        }
        blocks
            .iter()
            .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                Some("thinking") => {
                    let signature = b.get("signature").and_then(Value::as_str)?;
                    let text = b.get("thinking").and_then(Value::as_str).unwrap_or("");
                    (!signature.is_empty()).then(|| {
                        json!({ "reasoningContent": { "reasoningText": {
                            "text": text, "signature": signature } } })
                    })
                }
                Some("redacted_thinking") => {
                    let data = b.get("data").and_then(Value::as_str)?;
                    Some(json!({ "reasoningContent": { "redactedContent": data } }))
                }
                _ => None,
            })
            .collect()
    }

    /// A cache point after `blocks` when the client marked them with `cache_control`.
    fn mark(&mut self, cache_control: Option<&Value>, blocks: &mut Vec<Value>) {
        let Some(cc) = cache_control.filter(|c| !c.is_null()) else {
            return;
        };
        if !self.caching {
            self.uncached = true;
        } else if !blocks.is_empty() {
            blocks.push(cache_point(cc));
        }
    }

    /// Appends blocks as a turn, merged into the previous one of the same role.
    fn push(&mut self, role: &str, blocks: Vec<Value>) {
        turns::push_merged(&mut self.turns, role, "content", blocks);
    }
}

fn text_block(text: &str) -> Option<Value> {
    (!text.trim().is_empty()).then(|| json!({ "text": text }))
}

/// `toolUse` blocks of an assistant message's `tool_calls`.
fn tool_uses(msg: &Value, at: &str) -> Result<Vec<Value>, TranslateError> {
    let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let here = format!("{at}.tool_calls[{j}]");
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{here}.id"), format!("{here} has no id")))?;
        let (name, input) = turns::function_call(call, &here)?;
        out.push(json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } }));
    }
    Ok(out)
}
