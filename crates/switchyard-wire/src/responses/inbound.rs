//! OpenAI Responses request (from a Responses client) → OpenAI-canonical chat body, so every
//! non-Responses upstream is reached through the translation rules chat clients already use.
//!
//! Mapping choices, where the APIs differ:
//! - `instructions` → a leading system message; `developer` messages → system messages.
//! - `input` as a string → one user message. Items: `message` (parts `input_text`,
//!   `output_text`, `refusal` → text; `input_image` → `image_url`; `input_file` with inline
//!   `file_data` → `file`), `function_call` → an assistant `tool_calls` entry (consecutive
//!   calls and the assistant text before them merge into one message, as chat requires),
//!   `function_call_output` → a `tool` message. `reasoning` items are left out: neither chat
//!   nor the providers behind it can take another model's reasoning back.
//! - `max_output_tokens` → `max_completion_tokens`; `reasoning.effort` → `reasoning_effort`;
//!   `text.format` json_schema/json_object → `response_format`; `text.verbosity` →
//!   `verbosity`; function tools and `tool_choice` → their chat shapes.
//! - `include`, `reasoning.summary` and `stream_options` only shape what comes back: accepted
//!   (the gateway returns reasoning as summaries where the provider gives any).
//! - Built-in tools (`web_search`, `file_search`, `code_interpreter`, …) run at OpenAI only:
//!   dropped and named (or refused under `strict_params`), like every parameter without a
//!   counterpart (`truncation`, `max_tool_calls`, `top_logprobs`, …).
//! - `store: true`, `previous_response_id`, `conversation`, `background`, `prompt` and
//!   `item_reference` inputs need state kept at OpenAI; they are refused at parse time
//!   ([`check_stateless`]).

use serde_json::{json, Map, Value};

use crate::{Dialect, TranslateError};

/// The canonical body and the Responses parameters left out of it.
pub(crate) struct Canonical {
    pub body: Map<String, Value>,
    pub dropped: Vec<String>,
}

/// Keys this module maps or knowingly ignores.
const HANDLED: [&str; 19] = [
    "model",
    "input",
    "instructions",
    "max_output_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "metadata",
    "reasoning",
    "text",
    "include",
    "store",
    "user",
    "prompt_cache_key",
    "safety_identifier",
];

fn invalid(param: impl Into<String>, message: impl Into<String>) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.into()),
        message: message.into(),
    }
}

/// Refuses what a stateless gateway can't serve: each of these needs a response store.
///
/// # Errors
/// `InvalidRequest` naming the parameter.
pub(crate) fn check_stateless(body: &Map<String, Value>) -> Result<(), TranslateError> {
    const NO_STORE: &str = "Switchyard's /v1/responses is stateless (no response store is configured): send the whole conversation in `input`";
    if body.get("store") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "store",
            format!(
                "`store: true` is not supported. {NO_STORE} and set `store: false` or leave it out"
            ),
        ));
    }
    for key in ["previous_response_id", "conversation", "prompt"] {
        if body.get(key).is_some_and(|v| !v.is_null()) {
            return Err(invalid(
                key,
                format!("`{key}` is not supported. {NO_STORE}"),
            ));
        }
    }
    if body.get("background") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "background",
            "`background: true` is not supported: background responses need a response store",
        ));
    }
    match body.get("input") {
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if item.get("type").and_then(Value::as_str) == Some("item_reference") {
                    return Err(invalid(
                        format!("input[{i}]"),
                        format!("`item_reference` inputs are not supported. {NO_STORE}"),
                    ));
                }
            }
        }
        _ => {
            return Err(invalid(
                "input",
                "`input` is required and must be a string or an array of items",
            ))
        }
    }
    Ok(())
}

/// Converts a Responses body for a `target` upstream fed from the canonical form; `strict`
/// refuses any parameter that would be dropped.
pub(crate) fn to_canonical(
    body: &Map<String, Value>,
    strict: bool,
    target: Dialect,
) -> Result<Canonical, TranslateError> {
    let mut dropped: Vec<String> = Vec::new();
    let mut drop = |param: &str| -> Result<(), TranslateError> {
        if strict {
            return Err(TranslateError::UnsupportedParam {
                param: param.to_owned(),
                target: target.as_str().to_owned(),
            });
        }
        if !dropped.iter().any(|p| p == param) {
            dropped.push(param.to_owned());
        }
        Ok(())
    };
    for (key, value) in body {
        if !HANDLED.contains(&key.as_str()) && !is_neutral(key, value) {
            drop(key)?;
        }
    }
    let mut out = Map::new();
    if let Some(model) = body.get("model") {
        out.insert("model".to_owned(), model.clone());
    }
    let mut messages = Vec::new();
    match body.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(Value::Array(items)) => convert_items(items, "instructions", &mut messages)?,
        Some(_) => return Err(invalid("instructions", "`instructions` must be a string")),
    }
    match body.get("input") {
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => convert_items(items, "input", &mut messages)?,
        _ => {
            return Err(invalid(
                "input",
                "`input` is required and must be a string or an array of items",
            ))
        }
    }
    out.insert("messages".to_owned(), Value::Array(messages));
    if let Some(max) = body.get("max_output_tokens").filter(|v| !v.is_null()) {
        out.insert("max_completion_tokens".to_owned(), max.clone());
    }
    for key in [
        "temperature",
        "top_p",
        "stream",
        "metadata",
        "user",
        "prompt_cache_key",
        "safety_identifier",
    ] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(effort) = body
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .filter(|e| e.is_string())
    {
        out.insert("reasoning_effort".to_owned(), effort.clone());
    }
    if let Some(text) = body.get("text").and_then(Value::as_object) {
        if let Some(format) = response_format(text.get("format"))? {
            out.insert("response_format".to_owned(), format);
        }
        if let Some(v) = text.get("verbosity").filter(|v| v.is_string()) {
            out.insert("verbosity".to_owned(), v.clone());
        }
    }
    let tools = convert_tools(body.get("tools"), &mut drop)?;
    let has_tools = !tools.is_empty();
    if has_tools {
        out.insert("tools".to_owned(), Value::Array(tools));
        if let Some(choice) = body.get("tool_choice").filter(|v| !v.is_null()) {
            match convert_tool_choice(choice) {
                Some(mapped) => {
                    out.insert("tool_choice".to_owned(), mapped);
                }
                None => drop("tool_choice")?,
            }
        }
        if let Some(p) = body.get("parallel_tool_calls").filter(|v| v.is_boolean()) {
            out.insert("parallel_tool_calls".to_owned(), p.clone());
        }
    }
    Ok(Canonical { body: out, dropped })
}

/// Values that ask for nothing, not worth reporting as dropped.
fn is_neutral(key: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(false) => key != "parallel_tool_calls",
        Value::String(s) => key == "truncation" && s == "disabled",
        _ => false,
    }
}

fn response_format(format: Option<&Value>) -> Result<Option<Value>, TranslateError> {
    let Some(format) = format.filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = Map::new();
            let name = format
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("text.format.name", "`name` must be a string"))?;
            schema.insert("name".to_owned(), json!(name));
            for key in ["schema", "strict", "description"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    schema.insert(key.to_owned(), v.clone());
                }
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        _ => Err(invalid(
            "text.format.type",
            "`text.format.type` must be text, json_object or json_schema",
        )),
    }
}

fn convert_tools(
    tools: Option<&Value>,
    drop: &mut impl FnMut(&str) -> Result<(), TranslateError>,
) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::new();
    for (i, tool) in tools
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            // Built-in tools (web_search, file_search, code_interpreter, …) run at OpenAI.
            drop(&format!("tools[{i}]"))?;
            continue;
        }
        let name = tool
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("tools[{i}].name"), "`name` must be a string"))?;
        let mut function = Map::new();
        function.insert("name".to_owned(), json!(name));
        for key in ["description", "parameters", "strict"] {
            if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
                function.insert(key.to_owned(), v.clone());
            }
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(out)
}

/// `tool_choice` in chat's shape; `None` for choices of built-in tools.
fn convert_tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Some(choice.clone())
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o.get("name")?.as_str()?;
            Some(json!({"type": "function", "function": {"name": name}}))
        }
        _ => None,
    }
}

/// Input items → chat messages, appended to `out`.
fn convert_items(items: &[Value], path: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    for (i, item) in items.iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let kind = item.get("type").and_then(Value::as_str);
        match kind {
            None | Some("message") => message_item(item, &ipath, out)?,
            Some("function_call") => {
                let call = json!({
                    "id": str_field(item, "call_id", &ipath)?,
                    "type": "function",
                    "function": {
                        "name": str_field(item, "name", &ipath)?,
                        "arguments": str_field(item, "arguments", &ipath)?,
                    },
                });
                push_tool_call(out, call);
            }
            Some("function_call_output") => {
                let id = str_field(item, "call_id", &ipath)?;
                let content = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts_text(parts, &format!("{ipath}.output"))?,
                    _ => {
                        return Err(invalid(
                            format!("{ipath}.output"),
                            "`output` must be a string or an array",
                        ))
                    }
                };
                out.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
            }
            // Reasoning is the model's own; it can't be replayed through chat.
            Some("reasoning") => {}
            Some(other) => {
                return Err(invalid(
                    format!("{ipath}.type"),
                    format!("input item `{other}` can only be sent to an OpenAI Responses target"),
                ))
            }
        }
    }
    Ok(())
}

/// Appends a tool call to the trailing assistant message, or starts one.
fn push_tool_call(out: &mut Vec<Value>, call: Value) {
    if let Some(Value::Object(last)) = out.last_mut() {
        if last.get("role").and_then(Value::as_str) == Some("assistant") {
            if let Some(Value::Array(calls)) = last.get_mut("tool_calls") {
                calls.push(call);
                return;
            }
            last.insert("tool_calls".to_owned(), Value::Array(vec![call]));
            if last.get("content").and_then(Value::as_str) == Some("") {
                last.insert("content".to_owned(), Value::Null);
            }
            return;
        }
    }
    out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
}

fn message_item(item: &Value, path: &str, out: &mut Vec<Value>) -> Result<(), TranslateError> {
    let role = item
        .get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.role"), "`role` must be a string"))?;
    let role = match role {
        "user" | "assistant" | "system" => role,
        "developer" => "system",
        other => {
            return Err(invalid(
                format!("{path}.role"),
                format!("role `{other}` is not a Responses message role"),
            ))
        }
    };
    let content = match item.get("content") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Array(parts)) if role == "user" => {
            Value::Array(user_parts(parts, &format!("{path}.content"))?)
        }
        Some(Value::Array(parts)) => Value::String(parts_text(parts, &format!("{path}.content"))?),
        _ => {
            return Err(invalid(
                format!("{path}.content"),
                "`content` must be a string or an array",
            ))
        }
    };
    out.push(json!({"role": role, "content": content}));
    Ok(())
}

fn user_parts(parts: &[Value], path: &str) -> Result<Vec<Value>, TranslateError> {
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let ppath = format!("{path}[{j}]");
        match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => {
                out.push(json!({"type": "text", "text": str_field(part, "text", &ppath)?}))
            }
            Some("input_image") => {
                let url = part.get("image_url").and_then(Value::as_str).ok_or_else(|| {
                    invalid(
                        format!("{ppath}.image_url"),
                        "only `image_url` images (a URL or data URL) can be sent here; `file_id` needs OpenAI's file store",
                    )
                })?;
                let mut image = Map::new();
                image.insert("url".to_owned(), json!(url));
                if let Some(d) = part.get("detail").filter(|d| d.is_string()) {
                    image.insert("detail".to_owned(), d.clone());
                }
                out.push(json!({"type": "image_url", "image_url": image}));
            }
            Some("input_file") => {
                let data = part.get("file_data").and_then(Value::as_str).ok_or_else(|| {
                    invalid(
                        format!("{ppath}.file_data"),
                        "only inline `file_data` files can be sent here; `file_id` and `file_url` need OpenAI",
                    )
                })?;
                let name = part
                    .get("filename")
                    .and_then(Value::as_str)
                    .unwrap_or("file.pdf");
                out.push(json!({"type": "file", "file": {"filename": name, "file_data": data}}));
            }
            other => {
                return Err(invalid(
                    format!("{ppath}.type"),
                    format!(
                        "content part `{}` is not supported here",
                        other.unwrap_or("?")
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Text parts joined (assistant and system content, tool output); other parts refused.
fn parts_text(parts: &[Value], path: &str) -> Result<String, TranslateError> {
    let mut text = String::new();
    for (j, part) in parts.iter().enumerate() {
        let ppath = format!("{path}[{j}]");
        let piece = match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => str_field(part, "text", &ppath)?,
            Some("refusal") => str_field(part, "refusal", &ppath)?,
            other => {
                return Err(invalid(
                    format!("{ppath}.type"),
                    format!(
                        "content part `{}` can't be sent here: only text",
                        other.unwrap_or("?")
                    ),
                ))
            }
        };
        text.push_str(piece);
    }
    Ok(text)
}

fn str_field<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a str, TranslateError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{path}.{key}"), format!("`{key}` must be a string")))
}
