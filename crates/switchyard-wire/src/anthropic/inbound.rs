//! Anthropic Messages request (from an Anthropic-speaking client) → OpenAI-canonical body.
//!
//! Mapping choices, where the APIs differ:
//! - `system` → a leading system message; `tool_result` blocks → `tool` messages placed right
//!   after the assistant turn (before the rest of that user turn), as OpenAI requires.
//! - images (base64 or URL) → `image_url` parts (base64 as a data URL); base64 PDF documents →
//!   `file` parts; plain-text documents → text parts.
//! - For Bedrock targets, assistant `thinking`/`redacted_thinking` blocks are kept (with their
//!   signatures) as the message's `thinking_blocks`: Claude requires them back on a tool-use
//!   turn when thinking is on. Other targets can't take them, so they are left out.
//! - `max_tokens` → `max_completion_tokens` (OpenAI's current name; `max_tokens` is deprecated
//!   and refused by its reasoning models).
//! - `thinking` and `output_config.effort` are dropped for OpenAI targets: `reasoning_effort`
//!   is refused by non-reasoning models, and reasoning models think by default. For Gemini
//!   targets `thinking.budget_tokens` is kept (as `thinking_budget`, which becomes
//!   `thinkingConfig.thinkingBudget` with thought summaries). Thinking blocks in history are
//!   left out (neither can take them back).
//! - `output_config.format` json_schema → `response_format` json_schema.
//! - `top_k` is kept (as `top_k`) only for Gemini targets, which take it as `topK`; OpenAI has
//!   no counterpart.
//! - `cache_control` on blocks and tools is carried for Bedrock targets only (as
//!   `cache_control` on the canonical part, tool message, assistant message or tool, which the
//!   Bedrock encoder turns into `cachePoint` blocks); OpenAI and Gemini have no counterpart.
//! - `top_k` for OpenAI targets, `service_tier` (different values), server tools, `container`,
//!   `mcp_servers`, top-level `cache_control` … have no counterpart: dropped and listed, or
//!   refused under strict.

use serde_json::{json, Map, Value};

use crate::{Dialect, TranslateError};

const HANDLED: [&str; 14] = [
    "model",
    "messages",
    "max_tokens",
    "system",
    "stream",
    "stop_sequences",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "metadata",
    "thinking",
    "output_config",
    "anthropic_version",
];

/// The canonical body and the Anthropic parameters left out of it.
pub(crate) struct Canonical {
    pub body: Map<String, Value>,
    pub dropped: Vec<String>,
}

fn invalid(param: String, message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param),
        message: message.into(),
    }
}

/// Converts an Anthropic request body for a `target` upstream (OpenAI or Gemini, both fed from
/// the canonical form); `strict` refuses any parameter that would be dropped.
pub(crate) fn to_canonical(
    body: &Map<String, Value>,
    strict: bool,
    target: Dialect,
) -> Result<Canonical, TranslateError> {
    // Gemini takes what OpenAI lacks: top_k, and an exact thinking budget.
    // Bedrock passes both on to Claude models in `additionalModelRequestFields`.
    let gemini = matches!(target, Dialect::Gemini | Dialect::Bedrock);
    let bedrock = target == Dialect::Bedrock;
    let mut dropped = Vec::new();
    let mut drop = |param: &str| -> Result<(), TranslateError> {
        if strict {
            return Err(TranslateError::UnsupportedParam {
                param: param.to_owned(),
                target: target.as_str().to_owned(),
            });
        }
        if !dropped.iter().any(|p: &String| p == param) {
            dropped.push(param.to_owned());
        }
        Ok(())
    };
    for (key, value) in body {
        let kept = gemini && key == "top_k";
        if !kept && !HANDLED.contains(&key.as_str()) && !value.is_null() {
            drop(key)?;
        }
    }
    let mut out = Map::new();
    if let Some(model) = body.get("model") {
        out.insert("model".to_owned(), model.clone());
    }
    let mut messages = Vec::new();
    match body.get("system") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(Value::Array(blocks)) if bedrock && blocks.iter().any(has_cache_control) => {
            let parts = text_parts(blocks, "system")?;
            messages.push(json!({"role": "system", "content": parts}));
        }
        Some(Value::Array(blocks)) => {
            let text = join_text(blocks, "system")?;
            messages.push(json!({"role": "system", "content": text}));
        }
        Some(_) => {
            return Err(invalid(
                "system".to_owned(),
                "`system` must be a string or an array",
            ))
        }
    }
    let empty = Vec::new();
    let turns = body
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for (i, turn) in turns.iter().enumerate() {
        convert_turn(turn, &format!("messages[{i}]"), bedrock, &mut messages)?;
    }
    out.insert("messages".to_owned(), Value::Array(messages));
    if let Some(max) = body.get("max_tokens") {
        out.insert("max_completion_tokens".to_owned(), max.clone());
    }
    for key in ["temperature", "top_p", "stream", "top_k"] {
        if key == "top_k" && !gemini {
            continue;
        }
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(stop) = body.get("stop_sequences").filter(|v| !v.is_null()) {
        out.insert("stop".to_owned(), stop.clone());
    }
    if let Some(user) = body
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
    {
        out.insert("user".to_owned(), Value::String(user.to_owned()));
    }
    let thinking = body.get("thinking");
    if thinking.and_then(|t| t.get("type")).and_then(Value::as_str) == Some("enabled") {
        match thinking.and_then(|t| t.get("budget_tokens")) {
            // Gemini's thinkingBudget is the same quantity: carried exactly, not dropped.
            Some(budget) if gemini && budget.is_u64() => {
                out.insert("thinking_budget".to_owned(), budget.clone());
            }
            _ => drop("thinking")?,
        }
    }
    if let Some(config) = body.get("output_config").and_then(Value::as_object) {
        if config.get("effort").is_some_and(|e| !e.is_null()) {
            drop("output_config.effort")?;
        }
        if let Some(schema) = config.get("format").and_then(|f| f.get("schema")) {
            out.insert(
                "response_format".to_owned(),
                json!({"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": true}}),
            );
        }
    }
    let tools = convert_tools(body.get("tools"), bedrock, &mut drop)?;
    let has_tools = !tools.is_empty();
    if has_tools {
        out.insert("tools".to_owned(), Value::Array(tools));
    }
    if let (true, Some(choice)) = (
        has_tools,
        body.get("tool_choice").and_then(Value::as_object),
    ) {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => json!({"type": "function", "function": {"name": choice.get("name")}}),
            _ => json!("auto"),
        };
        out.insert("tool_choice".to_owned(), mapped);
        if choice.get("disable_parallel_tool_use") == Some(&Value::Bool(true)) {
            out.insert("parallel_tool_calls".to_owned(), Value::Bool(false));
        }
    }
    Ok(Canonical { body: out, dropped })
}

fn convert_tools(
    tools: Option<&Value>,
    bedrock: bool,
    drop: &mut impl FnMut(&str) -> Result<(), TranslateError>,
) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::new();
    for (i, tool) in tools
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match tool.get("type").and_then(Value::as_str) {
            None | Some("custom") => {}
            // Server tools (web search, code execution, …) run at Anthropic only.
            Some(_) => {
                drop(&format!("tools[{i}]"))?;
                continue;
            }
        }
        let name = tool
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("tools[{i}].name"), "`name` must be a string"))?;
        let mut function = Map::new();
        function.insert("name".to_owned(), Value::String(name.to_owned()));
        if let Some(d) = tool.get("description").filter(|d| d.is_string()) {
            function.insert("description".to_owned(), d.clone());
        }
        let schema = tool
            .get("input_schema")
            .cloned()
            .unwrap_or_else(|| json!({"type": "object"}));
        function.insert("parameters".to_owned(), schema);
        let mut converted = json!({"type": "function", "function": function});
        if bedrock {
            keep_cache_control(tool, &mut converted);
        }
        out.push(converted);
    }
    Ok(out)
}

/// One Anthropic turn → one or more OpenAI messages.
fn convert_turn(
    turn: &Value,
    path: &str,
    bedrock: bool,
    out: &mut Vec<Value>,
) -> Result<(), TranslateError> {
    let role = turn
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.role"), "`role` must be a string"))?;
    let content = turn.get("content").unwrap_or(&Value::Null);
    let blocks = match content {
        Value::String(s) => {
            out.push(json!({"role": role, "content": s}));
            return Ok(());
        }
        Value::Array(blocks) => blocks,
        _ => {
            return Err(invalid(
                format!("{path}.content"),
                "`content` must be a string or an array",
            ))
        }
    };
    match role {
        "user" => user_turn(blocks, path, bedrock, out),
        "assistant" => assistant_turn(blocks, path, bedrock, out),
        other => Err(invalid(
            format!("{path}.role"),
            format!("role `{other}` is not an Anthropic role"),
        )),
    }
}

fn user_turn(
    blocks: &[Value],
    path: &str,
    bedrock: bool,
    out: &mut Vec<Value>,
) -> Result<(), TranslateError> {
    let mut parts = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        let part = match block.get("type").and_then(Value::as_str) {
            Some("text") => json!({"type": "text", "text": str_field(block, "text", &bpath)?}),
            Some("image") => image_part(block, &bpath)?,
            Some("document") => document_part(block, &bpath)?,
            Some("tool_result") => {
                let id = str_field(block, "tool_use_id", &bpath)?;
                let content = match block.get("content") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(items)) => join_text(items, &format!("{bpath}.content"))?,
                    Some(_) => {
                        return Err(invalid(
                            format!("{bpath}.content"),
                            "must be a string or an array",
                        ))
                    }
                };
                let mut msg = json!({"role": "tool", "tool_call_id": id, "content": content});
                if bedrock {
                    keep_cache_control(block, &mut msg);
                }
                out.push(msg);
                continue;
            }
            other => {
                return Err(invalid(
                    bpath,
                    format!(
                        "content block `{}` cannot be sent to openai",
                        other.unwrap_or("?")
                    ),
                ))
            }
        };
        let mut part = part;
        if bedrock {
            keep_cache_control(block, &mut part);
        }
        parts.push(part);
    }
    if !parts.is_empty() {
        out.push(json!({"role": "user", "content": parts}));
    }
    Ok(())
}

fn assistant_turn(
    blocks: &[Value],
    path: &str,
    bedrock: bool,
    out: &mut Vec<Value>,
) -> Result<(), TranslateError> {
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut thinking = Vec::new();
    // The turn is one canonical message: a mark on any of its blocks marks the whole turn.
    let cache_control = blocks
        .iter()
        .rev()
        .find_map(|b| b.get("cache_control").filter(|c| bedrock && !c.is_null()));
    for (j, block) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(str_field(block, "text", &bpath)?),
            Some("tool_use") => {
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(json!({
                    "id": str_field(block, "id", &bpath)?,
                    "type": "function",
                    "function": {"name": str_field(block, "name", &bpath)?, "arguments": input.to_string()},
                }));
            }
            Some("thinking" | "redacted_thinking") if bedrock => thinking.push(block.clone()),
            // Thinking can't be replayed to OpenAI; server tool blocks ran at Anthropic.
            _ => {}
        }
    }
    let mut msg = Map::new();
    msg.insert("role".to_owned(), json!("assistant"));
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        Value::String(text)
    };
    msg.insert("content".to_owned(), content);
    if !calls.is_empty() {
        msg.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    if let Some(cc) = cache_control {
        msg.insert("cache_control".to_owned(), cc.clone());
    }
    if !thinking.is_empty() {
        msg.insert("thinking_blocks".to_owned(), Value::Array(thinking));
    }
    out.push(Value::Object(msg));
    Ok(())
}

fn image_part(block: &Value, path: &str) -> Result<Value, TranslateError> {
    let source = block.get("source");
    let url = match source.and_then(|s| s.get("type")).and_then(Value::as_str) {
        Some("base64") => {
            let source = source.unwrap_or(&Value::Null);
            let media = str_field(source, "media_type", &format!("{path}.source"))?;
            let data = str_field(source, "data", &format!("{path}.source"))?;
            format!("data:{media};base64,{data}")
        }
        Some("url") => str_field(
            source.unwrap_or(&Value::Null),
            "url",
            &format!("{path}.source"),
        )?
        .to_owned(),
        _ => {
            return Err(invalid(
                format!("{path}.source"),
                "image source must be base64 or url",
            ))
        }
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

fn document_part(block: &Value, path: &str) -> Result<Value, TranslateError> {
    let source = block.get("source").unwrap_or(&Value::Null);
    let spath = format!("{path}.source");
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media = str_field(source, "media_type", &spath)?;
            let data = str_field(source, "data", &spath)?;
            let name = block
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("document.pdf");
            Ok(
                json!({"type": "file", "file": {"filename": name, "file_data": format!("data:{media};base64,{data}")}}),
            )
        }
        Some("text") => Ok(json!({"type": "text", "text": str_field(source, "data", &spath)?})),
        _ => Err(invalid(
            spath,
            "only base64 and text documents can be sent to openai",
        )),
    }
}

/// Text blocks joined with blank lines (system prompts, tool results); other blocks refused.
fn join_text(blocks: &[Value], path: &str) -> Result<String, TranslateError> {
    let mut text = String::new();
    for (j, block) in blocks.iter().enumerate() {
        let bpath = format!("{path}[{j}]");
        if block.get("type").and_then(Value::as_str) != Some("text") {
            return Err(invalid(
                bpath,
                "only text blocks can be sent to openai here",
            ));
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(str_field(block, "text", &bpath)?);
    }
    Ok(text)
}

/// System text blocks as canonical text parts, each keeping its `cache_control`.
fn text_parts(blocks: &[Value], path: &str) -> Result<Vec<Value>, TranslateError> {
    let mut parts = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.iter().enumerate() {
        let bpath = format!("{path}[{j}]");
        if block.get("type").and_then(Value::as_str) != Some("text") {
            return Err(invalid(bpath, "only text blocks can be sent here"));
        }
        let mut part = json!({"type": "text", "text": str_field(block, "text", &bpath)?});
        keep_cache_control(block, &mut part);
        parts.push(part);
    }
    Ok(parts)
}

fn has_cache_control(block: &Value) -> bool {
    block.get("cache_control").is_some_and(|c| !c.is_null())
}

/// Copies an Anthropic block's `cache_control` onto the canonical value made from it.
fn keep_cache_control(block: &Value, into: &mut Value) {
    if let (Some(cc), Some(obj)) = (
        block.get("cache_control").filter(|c| !c.is_null()),
        into.as_object_mut(),
    ) {
        obj.insert("cache_control".to_owned(), cc.clone());
    }
}

fn str_field<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a str, TranslateError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.{key}"), format!("`{key}` must be a string")))
}
