//! OpenAI chat-completions request → Anthropic Messages request.
//!
//! Mapping choices, where the APIs differ:
//! - `max_completion_tokens`/`max_tokens` → `max_tokens` (required by Anthropic: the target's
//!   default, else 4096).
//! - `temperature` is clamped to Anthropic's 0..=1 (OpenAI allows up to 2); values in range are
//!   unchanged.
//! - `reasoning_effort` → `thinking` with a token budget (minimal 1024, low 2048, medium 8192,
//!   high 24576, xhigh 32768), at most half of `max_tokens`, which includes thinking on both
//!   APIs. Thinking forbids forced tool choice and non-default sampling, so those conflicts
//!   drop the conflicting parameter and say so in `dropped_params`.
//! - `response_format` json_schema/json_object → a forced tool named [`JSON_TOOL`] whose input
//!   schema is the requested schema; the response side turns that tool call back into message
//!   text. This works on every Claude model, unlike native structured output.
//! - `user` → `metadata.user_id`; other `metadata` keys are not accepted by Anthropic.
//! - Everything without a counterpart (`n` > 1, `logit_bias`, `logprobs`, penalties, `seed`,
//!   …) is dropped and listed, or refused when `strict_params` is set. Neutral values (null,
//!   `n: 1`, zero penalties, `logprobs: false`) are not worth reporting and are dropped quietly.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::messages::{self, TextBlock, Turn};
use super::JSON_TOOL;
use crate::request::{EncodeTarget, EncodedRequest};
use crate::TranslateError;

/// Anthropic's required output cap when neither the client nor the config gives one.
const DEFAULT_MAX_TOKENS: u64 = 4096;
/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    max_tokens: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<TextBlock<'a>>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stop_sequences: Vec<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

#[derive(Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u64,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    input_schema: SchemaRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SchemaRef<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

#[derive(Serialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_parallel_tool_use: bool,
}

/// Keys read by this module; anything else in the body is dropped and reported.
const HANDLED: [&str; 17] = [
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "user",
    "metadata",
    "reasoning_effort",
    "response_format",
];

/// Collects dropped parameters, or fails on the first one under `strict_params`.
struct Drops {
    strict: bool,
    list: Vec<String>,
}

impl Drops {
    fn drop(&mut self, param: &str) -> Result<(), TranslateError> {
        if self.strict {
            return Err(TranslateError::UnsupportedParam {
                param: param.to_owned(),
                target: "anthropic".to_owned(),
            });
        }
        if !self.list.iter().any(|p| p == param) {
            self.list.push(param.to_owned());
        }
        Ok(())
    }
}

/// Encodes an OpenAI-dialect body for an Anthropic upstream.
pub(crate) fn encode(
    body: &Map<String, Value>,
    stream: bool,
    target: &EncodeTarget,
) -> Result<EncodedRequest, TranslateError> {
    let mut drops = Drops {
        strict: target.strict_params,
        list: Vec::new(),
    };
    for (key, value) in body {
        if !HANDLED.contains(&key.as_str()) && !is_neutral(key, value) {
            drops.drop(key)?;
        }
    }
    let empty = Vec::new();
    let msgs = body
        .get("messages")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let conv = messages::convert(msgs)?;
    let max_tokens = u64_field(body, "max_completion_tokens")
        .or_else(|| u64_field(body, "max_tokens"))
        .or(target.default_max_output_tokens)
        .unwrap_or(DEFAULT_MAX_TOKENS);
    let mut req = Request {
        model: target.upstream_model,
        max_tokens,
        system: conv.system,
        messages: conv.turns,
        metadata: metadata(body, &mut drops)?,
        stop_sequences: stop_sequences(body.get("stop")),
        stream,
        temperature: body
            .get("temperature")
            .and_then(Value::as_f64)
            .map(|t| t.clamp(0.0, 1.0)),
        top_p: body.get("top_p").and_then(Value::as_f64),
        top_k: u64_field(body, "top_k"),
        thinking: None,
        tools: tools(body.get("tools"))?,
        tool_choice: None,
    };
    let forced_json = apply_response_format(body.get("response_format"), &mut req);
    if !forced_json {
        req.tool_choice = tool_choice(body, !req.tools.is_empty());
    }
    apply_reasoning(body, &mut req, &mut drops)?;
    let mut out = Vec::with_capacity(estimate(body));
    crate::json::write(&mut out, &req);
    Ok(EncodedRequest {
        body: out,
        dropped_params: drops.list,
    })
}

/// Output size guess so the buffer rarely regrows: the input messages dominate.
fn estimate(body: &Map<String, Value>) -> usize {
    body.get("messages")
        .and_then(Value::as_array)
        .map_or(256, |m| 256 + m.len() * 64)
}

fn u64_field(body: &Map<String, Value>, key: &str) -> Option<u64> {
    body.get(key).and_then(Value::as_u64)
}

/// Values that ask for nothing beyond the default, so dropping them changes nothing.
fn is_neutral(key: &str, value: &Value) -> bool {
    match (key, value) {
        (_, Value::Null) => true,
        ("n", v) => v.as_u64() == Some(1),
        ("presence_penalty" | "frequency_penalty", v) => v.as_f64() == Some(0.0),
        ("logprobs" | "store", Value::Bool(false)) => true,
        _ => false,
    }
}

fn metadata<'a>(
    body: &'a Map<String, Value>,
    drops: &mut Drops,
) -> Result<Option<Metadata<'a>>, TranslateError> {
    let meta = body.get("metadata").and_then(Value::as_object);
    let from_meta = meta.and_then(|m| m.get("user_id")).and_then(Value::as_str);
    if meta.is_some_and(|m| m.keys().any(|k| k != "user_id")) {
        drops.drop("metadata")?;
    }
    let user = body.get("user").and_then(Value::as_str).or(from_meta);
    Ok(user.map(|user_id| Metadata { user_id }))
}

fn stop_sequences(stop: Option<&Value>) -> Vec<&str> {
    match stop {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn tools(tools: Option<&Value>) -> Result<Vec<Tool<'_>>, TranslateError> {
    let Some(list) = tools.and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        let function = match tool.get("type").and_then(Value::as_str) {
            None | Some("function") => tool.get("function"),
            Some(other) => {
                return Err(TranslateError::InvalidRequest {
                    param: Some(format!("tools[{i}].type")),
                    message: format!("tool type `{other}` cannot be sent to anthropic"),
                })
            }
        };
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| TranslateError::InvalidRequest {
                param: Some(format!("tools[{i}].function.name")),
                message: "`name` must be a string".to_owned(),
            })?;
        out.push(Tool {
            name,
            description: function
                .and_then(|f| f.get("description"))
                .and_then(Value::as_str)
                .map(Cow::Borrowed),
            input_schema: match function.and_then(|f| f.get("parameters")) {
                Some(schema @ Value::Object(_)) => SchemaRef::Borrowed(schema),
                _ => SchemaRef::Owned(empty_object_schema()),
            },
            cache_control: tool.get("cache_control"),
        });
    }
    Ok(out)
}

fn empty_object_schema() -> Value {
    let mut schema = Map::new();
    schema.insert("type".to_owned(), Value::String("object".to_owned()));
    schema.insert("properties".to_owned(), Value::Object(Map::new()));
    Value::Object(schema)
}

fn tool_choice(body: &Map<String, Value>, has_tools: bool) -> Option<ToolChoice<'_>> {
    if !has_tools {
        return None;
    }
    let no_parallel = body.get("parallel_tool_calls") == Some(&Value::Bool(false));
    let (kind, name) = match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ("none", None),
        Some(Value::String(s)) if s == "required" => ("any", None),
        Some(Value::Object(o)) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            match name {
                Some(n) => ("tool", Some(n)),
                None => ("auto", None),
            }
        }
        _ if no_parallel => ("auto", None),
        _ => return None,
    };
    Some(ToolChoice {
        kind,
        name,
        // Anthropic rejects the flag on `none`.
        disable_parallel_tool_use: no_parallel && kind != "none",
    })
}

/// Adds the JSON tool for `response_format`; true when it also set `tool_choice`.
fn apply_response_format(format: Option<&Value>, req: &mut Request<'_>) -> bool {
    let Some(format) = format else {
        return false;
    };
    let (schema, description) = match format.get("type").and_then(Value::as_str) {
        Some("json_schema") => {
            let spec = format.get("json_schema");
            let schema = spec.and_then(|s| s.get("schema")).cloned();
            let description = spec
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            (schema.unwrap_or_else(empty_object_schema), description)
        }
        Some("json_object") => (empty_object_schema(), None),
        _ => return false,
    };
    let description = description.unwrap_or_else(|| {
        "Give your final answer by calling this tool; its input is the answer as JSON.".to_owned()
    });
    req.tools.push(Tool {
        name: JSON_TOOL,
        description: Some(Cow::Owned(description)),
        input_schema: SchemaRef::Owned(schema),
        cache_control: None,
    });
    let user_tools = req.tools.len() > 1;
    req.tool_choice = Some(ToolChoice {
        kind: if user_tools { "any" } else { "tool" },
        name: (!user_tools).then_some(JSON_TOOL),
        disable_parallel_tool_use: true,
    });
    true
}

/// `reasoning_effort` → `thinking`, or a drop when it can't coexist with the rest.
fn apply_reasoning(
    body: &Map<String, Value>,
    req: &mut Request<'_>,
    drops: &mut Drops,
) -> Result<(), TranslateError> {
    let budget = match body.get("reasoning_effort").and_then(Value::as_str) {
        None | Some("none") => return Ok(()),
        Some("minimal") => 1024,
        Some("low") => 2048,
        Some("medium") => 8192,
        Some("high") => 24576,
        Some(_) => 32768,
    };
    let budget = budget.min(req.max_tokens / 2);
    let forced = req
        .tool_choice
        .as_ref()
        .is_some_and(|c| matches!(c.kind, "any" | "tool"));
    if budget < MIN_THINKING_BUDGET || forced {
        return drops.drop("reasoning_effort");
    }
    req.thinking = Some(Thinking {
        kind: "enabled",
        budget_tokens: budget,
    });
    if req.temperature.is_some_and(|t| t != 1.0) {
        req.temperature = None;
        drops.drop("temperature")?;
    }
    if req.top_p.is_some_and(|p| p < 0.95) {
        req.top_p = None;
        drops.drop("top_p")?;
    }
    if req.top_k.take().is_some() {
        drops.drop("top_k")?;
    }
    Ok(())
}
