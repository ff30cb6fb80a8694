//! The request's parameters: `inferenceConfig`, `toolConfig`, `outputConfig`,
//! `requestMetadata`, and what Converse lacks in `additionalModelRequestFields` (Claude's
//! `thinking` and `top_k`). Parameters with no counterpart are dropped and listed, or refused
//! under `strict_params`.

use serde_json::{json, Map, Value};

use super::request::{cache_point, invalid};
use super::TARGET;
use crate::TranslateError;

/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

/// The request's parameters, read into `inferenceConfig`, `additionalModelRequestFields` and
/// the top-level fields.
pub(super) struct Params {
    pub strict: bool,
    pub claude: bool,
    /// The model takes `cachePoint` blocks (Claude and Nova).
    pub caching: bool,
    pub dropped: Vec<String>,
    pub inference: Map<String, Value>,
    pub additional: Map<String, Value>,
}

impl Params {
    pub fn drop(&mut self, param: &str) -> Result<(), TranslateError> {
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

    pub fn read(
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
            if let Some(cc) = tool.get("cache_control").filter(|c| !c.is_null()) {
                if self.caching {
                    specs.push(cache_point(cc));
                } else {
                    self.drop("cache_control")?;
                }
            }
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
