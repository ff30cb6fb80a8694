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

use super::{is_claude, TARGET};
use crate::TranslateError;

/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

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
    let conv = Conversation::from_messages(messages)?;
    if !conv.system.is_empty() {
        out.insert("system".into(), Value::Array(conv.system));
    }
    out.insert("messages".into(), Value::Array(conv.turns));
    let mut params = Params {
        strict: strict_params,
        claude: is_claude(model),
        dropped: Vec::new(),
        inference: Map::new(),
        additional: Map::new(),
    };
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

fn invalid(param: impl Into<String>, message: String) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.into()),
        message,
    }
}

struct Conversation {
    system: Vec<Value>,
    turns: Vec<Value>,
    /// Some turn carries `toolUse`/`toolResult`: Converse then needs `toolConfig`.
    has_tool_blocks: bool,
}

impl Conversation {
    fn from_messages(messages: &[Value]) -> Result<Self, TranslateError> {
        let mut conv = Conversation {
            system: Vec::new(),
            turns: Vec::new(),
            has_tool_blocks: false,
        };
        for (i, msg) in messages.iter().enumerate() {
            let at = format!("messages[{i}]");
            let role = msg
                .get("role")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("{at}.role"), format!("{at} has no `role`")))?;
            let content = msg.get("content").unwrap_or(&Value::Null);
            match role {
                "system" | "developer" => conv.system.extend(blocks(content, &at, false)?),
                "user" => {
                    let b = blocks(content, &at, true)?;
                    conv.push("user", b);
                }
                "assistant" => {
                    let mut b = blocks(content, &at, false)?;
                    let calls = tool_uses(msg, &at)?;
                    conv.has_tool_blocks |= !calls.is_empty();
                    b.extend(calls);
                    conv.push("assistant", b);
                }
                "tool" => {
                    let id = msg
                        .get("tool_call_id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            invalid(
                                format!("{at}.tool_call_id"),
                                format!("{at} is a tool message without `tool_call_id`"),
                            )
                        })?;
                    let text = tool_text(content);
                    conv.has_tool_blocks = true;
                    conv.push(
                        "user",
                        vec![json!({ "toolResult": {
                            "toolUseId": id,
                            "content": [{ "text": text }],
                        }})],
                    );
                }
                other => {
                    return Err(invalid(
                        format!("{at}.role"),
                        format!("{at} has role {other:?}, which bedrock can't take"),
                    ))
                }
            }
        }
        if conv.turns.is_empty() {
            return Err(invalid(
                "messages",
                "`messages` needs at least one user or assistant message".into(),
            ));
        }
        Ok(conv)
    }

    /// Appends blocks as a turn, merged into the previous one of the same role.
    fn push(&mut self, role: &str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        if let Some(last) = self.turns.last_mut() {
            if last.get("role").and_then(Value::as_str) == Some(role) {
                if let Some(Value::Array(have)) = last.get_mut("content") {
                    have.extend(blocks);
                    return;
                }
            }
        }
        self.turns.push(json!({ "role": role, "content": blocks }));
    }
}

/// Content blocks of a string or part array. Empty text is skipped (Converse refuses blank
/// text blocks); media parts are allowed only in user turns.
fn blocks(content: &Value, at: &str, media: bool) -> Result<Vec<Value>, TranslateError> {
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
                    format!("{here}: content part type {other:?} is not supported by bedrock here"),
                ))
            }
        }
    }
    Ok(out)
}

fn text_block(text: &str) -> Option<Value> {
    (!text.trim().is_empty()).then(|| json!({ "text": text }))
}

/// `data:<mime>;base64,<data>` → (mime, data).
fn data_url<'a>(url: &'a str, at: &str) -> Result<(&'a str, &'a str), TranslateError> {
    let (header, data) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(|| invalid(at, format!("{at}: malformed data URL")))?;
    let mime = header.split(';').next().unwrap_or("");
    if !header.ends_with(";base64") || mime.is_empty() || data.is_empty() {
        return Err(invalid(
            at,
            format!("{at}: data URL must be `data:<mime type>;base64,<data>`"),
        ));
    }
    Ok((mime, data))
}

/// An `image` block: base64 bytes (Converse's JSON carries blobs as base64) or an S3 object.
fn image(url: &str, at: &str) -> Result<Value, TranslateError> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let format = match rest.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
            Some(e) if e == "png" || e == "gif" || e == "webp" => e,
            _ => "jpeg".to_owned(),
        };
        return Ok(
            json!({ "image": { "format": format, "source": { "s3Location": { "uri": url } } } }),
        );
    }
    if !url.starts_with("data:") {
        return Err(invalid(
            at,
            format!("{at}: bedrock takes images as base64 data: URLs or s3:// URIs, not links"),
        ));
    }
    let (mime, data) = data_url(url, at)?;
    let format = match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(invalid(
                at,
                format!(
                    "{at}: image type {other:?} is not one bedrock takes (png, jpeg, gif, webp)"
                ),
            ))
        }
    };
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

/// A `document` block from a base64 file; Converse requires a name, unique in the request.
fn document(url: &str, n: usize, at: &str) -> Result<Value, TranslateError> {
    let (mime, data) = data_url(url, at)?;
    let format = match mime {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "text/html" => "html",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        other => {
            return Err(invalid(
                at,
                format!("{at}: document type {other:?} is not one bedrock takes"),
            ))
        }
    };
    Ok(
        json!({ "document": { "format": format, "name": format!("document {n}"), "source": { "bytes": data } } }),
    )
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
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    format!("{here}.function.name"),
                    format!("{here} has no function name"),
                )
            })?;
        let raw = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("");
        let input = if raw.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str::<Value>(raw)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    invalid(
                        format!("{here}.function.arguments"),
                        format!("{here}.function.arguments must be a JSON object string"),
                    )
                })?
        };
        out.push(json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } }));
    }
    Ok(out)
}

/// A tool message's content as text (parts joined).
fn tool_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The request's parameters, read into `inferenceConfig`, `additionalModelRequestFields` and
/// the top-level fields.
struct Params {
    strict: bool,
    claude: bool,
    dropped: Vec<String>,
    inference: Map<String, Value>,
    additional: Map<String, Value>,
}

impl Params {
    fn drop(&mut self, param: &str) -> Result<(), TranslateError> {
        if self.strict {
            return Err(TranslateError::UnsupportedParam {
                param: param.to_owned(),
                target: TARGET.to_owned(),
            });
        }
        if !self.dropped.iter().any(|p| p == param) {
            self.dropped.push(param.to_owned());
        }
        Ok(())
    }

    fn read(
        &mut self,
        req: &Map<String, Value>,
        out: &mut Map<String, Value>,
        has_tool_blocks: bool,
    ) -> Result<(), TranslateError> {
        let max = req
            .get("max_completion_tokens")
            .filter(|v| !v.is_null())
            .or_else(|| req.get("max_tokens").filter(|v| !v.is_null()));
        if let Some(max) = max {
            let n = max.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "max_tokens",
                    "the output token cap must be a positive integer".into(),
                )
            })?;
            self.inference.insert("maxTokens".into(), json!(n));
        }
        for (key, value) in req {
            if value.is_null() {
                continue;
            }
            match key.as_str() {
                "model"
                | "messages"
                | "stream"
                | "stream_options"
                | "max_completion_tokens"
                | "max_tokens"
                | "tools"
                | "tool_choice"
                | "reasoning_effort"
                | "thinking_budget" => {}
                "temperature" => self.number("temperature", "temperature", value)?,
                "top_p" => self.number("topP", "top_p", value)?,
                "stop" => {
                    let stops: Vec<Value> = match value {
                        Value::String(s) => vec![json!(s)],
                        Value::Array(a) if a.iter().all(Value::is_string) => a.clone(),
                        _ => {
                            return Err(invalid(
                                "stop",
                                "`stop` must be a string or an array of strings".into(),
                            ))
                        }
                    };
                    if !stops.is_empty() {
                        self.inference
                            .insert("stopSequences".into(), Value::Array(stops));
                    }
                }
                "top_k" if self.claude && value.is_u64() => {
                    self.additional.insert("top_k".into(), value.clone());
                }
                "response_format" => self.response_format(value, out)?,
                "metadata" => match request_metadata(value) {
                    Some(meta) => {
                        out.insert("requestMetadata".into(), meta);
                    }
                    None => self.drop("metadata")?,
                },
                "parallel_tool_calls" if value.as_bool() == Some(true) => {}
                "logprobs" | "store" if value.as_bool() == Some(false) => {}
                "n" if value.as_u64() == Some(1) => {}
                _ => self.drop(key)?,
            }
        }
        self.thinking(req)?;
        self.tools(req, out, has_tool_blocks)
    }

    fn number(&mut self, name: &str, param: &str, value: &Value) -> Result<(), TranslateError> {
        if !value.is_number() {
            return Err(invalid(param, format!("`{param}` must be a number")));
        }
        self.inference.insert(name.into(), value.clone());
        Ok(())
    }

    /// Claude's `thinking`, from an exact budget (an Anthropic client's) or from
    /// `reasoning_effort` (the budgets the Anthropic translation uses, at most half the cap).
    fn thinking(&mut self, req: &Map<String, Value>) -> Result<(), TranslateError> {
        let exact = req.get("thinking_budget").and_then(Value::as_u64);
        let effort = req.get("reasoning_effort").and_then(Value::as_str);
        let param = if exact.is_some() {
            "thinking"
        } else {
            "reasoning_effort"
        };
        let budget = match (exact, effort) {
            (Some(b), _) => b,
            (None, None | Some("none")) => return Ok(()),
            (None, Some(effort)) => {
                let b: u64 = match effort {
                    "minimal" => 1024,
                    "low" => 2048,
                    "medium" => 8192,
                    "high" => 24576,
                    _ => 32768,
                };
                match self.inference.get("maxTokens").and_then(Value::as_u64) {
                    Some(max) => b.min(max / 2),
                    None => b,
                }
            }
        };
        if !self.claude || budget < MIN_THINKING_BUDGET {
            return self.drop(param);
        }
        self.additional.insert(
            "thinking".into(),
            json!({ "type": "enabled", "budget_tokens": budget }),
        );
        Ok(())
    }

    /// `tools` and `tool_choice` → `toolConfig`. `tool_choice: "none"` has no Converse
    /// counterpart: the tools are left out, unless the history holds tool blocks (Converse then
    /// requires `toolConfig`), in which case `tool_choice` is dropped.
    fn tools(
        &mut self,
        req: &Map<String, Value>,
        out: &mut Map<String, Value>,
        has_tool_blocks: bool,
    ) -> Result<(), TranslateError> {
        let Some(tools) = req
            .get("tools")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
        else {
            return Ok(());
        };
        let mut specs = Vec::with_capacity(tools.len());
        for (i, tool) in tools.iter().enumerate() {
            let at = format!("tools[{i}]");
            let kind = tool
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("function");
            if kind != "function" {
                return Err(invalid(
                    format!("{at}.type"),
                    format!("{at}: only function tools are supported by bedrock"),
                ));
            }
            let f = tool
                .get("function")
                .ok_or_else(|| invalid(&at, format!("{at} has no function")))?;
            let name = f.get("name").and_then(Value::as_str).ok_or_else(|| {
                invalid(format!("{at}.function.name"), format!("{at} has no name"))
            })?;
            let schema = f
                .get("parameters")
                .filter(|p| p.is_object())
                .cloned()
                .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
            let mut spec = Map::new();
            spec.insert("name".into(), json!(name));
            if let Some(d) = f
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
            {
                spec.insert("description".into(), json!(d));
            }
            spec.insert("inputSchema".into(), json!({ "json": schema }));
            if f.get("strict").and_then(Value::as_bool) == Some(true) {
                spec.insert("strict".into(), json!(true));
            }
            specs.push(json!({ "toolSpec": spec }));
        }
        let mut config = Map::new();
        config.insert("tools".into(), Value::Array(specs));
        match req.get("tool_choice").filter(|v| !v.is_null()) {
            None => {}
            Some(Value::String(s)) if s == "auto" => {
                config.insert("toolChoice".into(), json!({ "auto": {} }));
            }
            Some(Value::String(s)) if s == "required" => {
                config.insert("toolChoice".into(), json!({ "any": {} }));
            }
            Some(Value::String(s)) if s == "none" => {
                if !has_tool_blocks {
                    return Ok(());
                }
                self.drop("tool_choice")?;
            }
            Some(choice) => {
                let name = choice
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("tool_choice", "unsupported `tool_choice`".into()))?;
                config.insert("toolChoice".into(), json!({ "tool": { "name": name } }));
            }
        }
        out.insert("toolConfig".into(), Value::Object(config));
        Ok(())
    }

    /// `json_schema` → `outputConfig.textFormat` (the schema travels as a JSON string);
    /// `json_object` has no Converse counterpart.
    fn response_format(
        &mut self,
        value: &Value,
        out: &mut Map<String, Value>,
    ) -> Result<(), TranslateError> {
        match value.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => Ok(()),
            "json_schema" => {
                let Some(schema) = value
                    .pointer("/json_schema/schema")
                    .filter(|s| s.is_object())
                else {
                    return Err(invalid(
                        "response_format.json_schema.schema",
                        "json_schema needs a schema object".into(),
                    ));
                };
                let mut def = Map::new();
                def.insert("schema".into(), json!(schema.to_string()));
                if let Some(name) = value.pointer("/json_schema/name").and_then(Value::as_str) {
                    def.insert("name".into(), json!(name));
                }
                out.insert(
                    "outputConfig".into(),
                    json!({ "textFormat": { "type": "json_schema", "structure": { "jsonSchema": def } } }),
                );
                Ok(())
            }
            "json_object" => self.drop("response_format"),
            other => Err(invalid(
                "response_format.type",
                format!("unsupported response_format type {other:?}"),
            )),
        }
    }
}

/// OpenAI `metadata` (string → string, at most 16 pairs) is Converse's `requestMetadata`.
fn request_metadata(value: &Value) -> Option<Value> {
    let obj = value
        .as_object()
        .filter(|o| !o.is_empty() && o.len() <= 16)?;
    obj.values().all(Value::is_string).then(|| value.clone())
}
