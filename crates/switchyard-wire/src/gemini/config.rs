//! OpenAI request parameters to Gemini's `generationConfig`, `tools` and `toolConfig`.

use serde_json::{json, Map, Value};

use super::request::invalid;
use super::schema::function_parameters;
use super::TARGET;
use crate::TranslateError;

/// `generationConfig`, `tools` and `toolConfig` of one request, plus what was dropped.
pub(super) struct Config {
    generation: Map<String, Value>,
    declarations: Vec<Value>,
    tool_config: Option<Value>,
    /// Parameters with no Gemini counterpart, in request order.
    pub(super) dropped: Vec<String>,
}

impl Config {
    /// Reads every parameter of `req` except `messages`.
    ///
    /// A parameter that is `null`, or set to the value that means "off" (`logprobs: false`,
    /// `store: false`, `parallel_tool_calls: true`), changes nothing and is not reported.
    pub(super) fn from_request(
        req: &Map<String, Value>,
        strict: bool,
    ) -> Result<Self, TranslateError> {
        let mut cfg = Config {
            generation: Map::new(),
            declarations: Vec::new(),
            tool_config: None,
            dropped: Vec::new(),
        };
        for (key, value) in req {
            if value.is_null() {
                continue;
            }
            let k = key.as_str();
            match k {
                "model" | "messages" | "stream" | "stream_options" | "tool_choice" => {}
                "temperature" => cfg.set("temperature", number(value, k)?),
                "top_p" => cfg.set("topP", number(value, k)?),
                "top_k" => cfg.set("topK", integer(value, k)?),
                "seed" => cfg.set("seed", integer(value, k)?),
                "presence_penalty" => cfg.set("presencePenalty", number(value, k)?),
                "frequency_penalty" => cfg.set("frequencyPenalty", number(value, k)?),
                "n" => cfg.set("candidateCount", positive(value, k)?),
                "max_completion_tokens" => cfg.set("maxOutputTokens", positive(value, k)?),
                "max_tokens" => {
                    // max_completion_tokens is the current name and wins when both are set.
                    if req.get("max_completion_tokens").is_none_or(Value::is_null) {
                        cfg.set("maxOutputTokens", positive(value, k)?);
                    }
                }
                "stop" => cfg.set("stopSequences", stop_sequences(value)?),
                // Not an OpenAI parameter: Anthropic's exact thinking budget, for Gemini only.
                "thinking_budget" => cfg.set(
                    "thinkingConfig",
                    json!({ "thinkingBudget": integer(value, k)?, "includeThoughts": true }),
                ),
                "reasoning_effort" => {
                    let budget = thinking_budget(value)?;
                    cfg.set("thinkingConfig", json!({ "thinkingBudget": budget }));
                }
                "response_format" => cfg.response_format(value)?,
                "tools" => cfg.declarations = declarations(value)?,
                "parallel_tool_calls" if value.as_bool() == Some(true) => {}
                "logprobs" | "store" if value.as_bool() == Some(false) => {}
                _ => {
                    if strict {
                        return Err(TranslateError::UnsupportedParam {
                            param: key.clone(),
                            target: TARGET.to_owned(),
                        });
                    }
                    cfg.dropped.push(key.clone());
                }
            }
        }
        if let Some(choice) = req.get("tool_choice").filter(|v| !v.is_null()) {
            cfg.tool_config = tool_config(choice, !cfg.declarations.is_empty())?;
        }
        Ok(cfg)
    }

    /// Adds the non-empty parts to the request body.
    pub(super) fn write_into(&self, body: &mut Map<String, Value>) {
        if !self.declarations.is_empty() {
            body.insert(
                "tools".to_owned(),
                json!([{ "functionDeclarations": self.declarations }]),
            );
        }
        if let Some(tc) = &self.tool_config {
            body.insert("toolConfig".to_owned(), tc.clone());
        }
        if !self.generation.is_empty() {
            body.insert(
                "generationConfig".to_owned(),
                Value::Object(self.generation.clone()),
            );
        }
    }

    fn set(&mut self, key: &str, value: Value) {
        self.generation.insert(key.to_owned(), value);
    }

    /// `json_object` sets `responseMimeType`; `json_schema` also sets `responseJsonSchema`
    /// (Gemini's JSON Schema field, which unlike the deprecated `responseSchema` accepts
    /// `additionalProperties`, `$ref`/`$defs` and type arrays, so the schema is passed
    /// through with only `$schema` removed).
    fn response_format(&mut self, value: &Value) -> Result<(), TranslateError> {
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "text" => {}
            "json_object" => self.set("responseMimeType", json!("application/json")),
            "json_schema" => {
                self.set("responseMimeType", json!("application/json"));
                if let Some(Value::Object(schema)) = value.pointer("/json_schema/schema") {
                    let mut schema = schema.clone();
                    schema.remove("$schema");
                    self.set("responseJsonSchema", Value::Object(schema));
                }
            }
            other => {
                return Err(invalid(
                    "response_format.type",
                    format!("unsupported response_format type {other:?}"),
                ))
            }
        }
        Ok(())
    }
}

fn number(value: &Value, param: &str) -> Result<Value, TranslateError> {
    value
        .as_f64()
        .map(|_| value.clone())
        .ok_or_else(|| invalid(param, format!("`{param}` must be a number")))
}

fn integer(value: &Value, param: &str) -> Result<Value, TranslateError> {
    if value.is_i64() || value.is_u64() {
        Ok(value.clone())
    } else {
        Err(invalid(param, format!("`{param}` must be an integer")))
    }
}

fn positive(value: &Value, param: &str) -> Result<Value, TranslateError> {
    match value.as_u64() {
        Some(n) if n > 0 => Ok(value.clone()),
        _ => Err(invalid(
            param,
            format!("`{param}` must be a positive integer"),
        )),
    }
}

/// `stop` is a string or an array of strings; Gemini always takes an array.
fn stop_sequences(value: &Value) -> Result<Value, TranslateError> {
    match value {
        Value::String(s) => Ok(json!([s])),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
        _ => Err(invalid(
            "stop",
            "`stop` must be a string or an array of strings".to_owned(),
        )),
    }
}

/// `reasoning_effort` to a `thinkingBudget` in tokens, using the budgets Google's own OpenAI
/// compatibility layer documents (low 1K, medium 8K, high 24K, none 0). `minimal` is treated
/// as `low` and `xhigh` as `high`, the largest budget every 2.5 thinking model accepts.
fn thinking_budget(value: &Value) -> Result<u32, TranslateError> {
    match value.as_str() {
        Some("none") => Ok(0),
        Some("minimal" | "low") => Ok(1024),
        Some("medium") => Ok(8192),
        Some("high" | "xhigh") => Ok(24576),
        _ => Err(invalid(
            "reasoning_effort",
            format!("unsupported reasoning_effort {value}"),
        )),
    }
}

/// `tools` to `functionDeclarations`. Only function tools exist in Gemini's function calling;
/// `strict` is dropped (Gemini always validates against the declaration).
fn declarations(value: &Value) -> Result<Vec<Value>, TranslateError> {
    let tools = value
        .as_array()
        .ok_or_else(|| invalid("tools", "`tools` must be an array".to_owned()))?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let kind = tool
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        if kind != "function" {
            return Err(invalid(
                format!("tools[{i}].type"),
                format!("tool type {kind:?} is not supported by {TARGET}"),
            ));
        }
        let function = tool.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    format!("tools[{i}].function.name"),
                    format!("tools[{i}] has no function name"),
                )
            })?;
        let mut decl = Map::new();
        decl.insert("name".to_owned(), json!(name));
        if let Some(desc) = function
            .and_then(|f| f.get("description"))
            .filter(|d| d.is_string())
        {
            decl.insert("description".to_owned(), desc.clone());
        }
        if let Some(params) = function
            .and_then(|f| f.get("parameters"))
            .and_then(function_parameters)
        {
            decl.insert("parameters".to_owned(), params);
        }
        out.push(Value::Object(decl));
    }
    Ok(out)
}

/// `tool_choice` to `toolConfig.functionCallingConfig`: `none` NONE, `auto` AUTO, `required`
/// ANY, a named function ANY limited to it; `allowed_tools` limits AUTO (as Gemini's
/// VALIDATED) or ANY to its list. Without tools, `none`/`auto` mean nothing and are ignored;
/// forcing a call is an error, as it is at OpenAI.
fn tool_config(choice: &Value, has_tools: bool) -> Result<Option<Value>, TranslateError> {
    let (mode, names): (&str, Vec<Value>) = match choice {
        Value::String(s) => match s.as_str() {
            "none" => ("NONE", Vec::new()),
            "auto" => ("AUTO", Vec::new()),
            "required" => ("ANY", Vec::new()),
            other => {
                return Err(invalid(
                    "tool_choice",
                    format!("unsupported tool_choice {other:?}"),
                ))
            }
        },
        Value::Object(obj) => match obj.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = choice
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            "tool_choice",
                            "tool_choice.function.name is missing".to_owned(),
                        )
                    })?;
                ("ANY", vec![json!(name)])
            }
            Some("allowed_tools") => {
                let mode = match choice
                    .pointer("/allowed_tools/mode")
                    .and_then(Value::as_str)
                {
                    Some("required") => "ANY",
                    _ => "VALIDATED",
                };
                let names = choice
                    .pointer("/allowed_tools/tools")
                    .and_then(Value::as_array)
                    .map(|tools| {
                        tools
                            .iter()
                            .filter_map(|t| t.pointer("/function/name").cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                (mode, names)
            }
            _ => {
                return Err(invalid(
                    "tool_choice",
                    "unsupported tool_choice object".to_owned(),
                ))
            }
        },
        _ => {
            return Err(invalid(
                "tool_choice",
                "`tool_choice` must be a string or an object".to_owned(),
            ))
        }
    };
    if !has_tools {
        return match mode {
            "NONE" | "AUTO" => Ok(None),
            _ => Err(invalid(
                "tool_choice",
                "tool_choice forces a tool call but no tools were given".to_owned(),
            )),
        };
    }
    let mut fcc = Map::new();
    fcc.insert("mode".to_owned(), json!(mode));
    if !names.is_empty() {
        fcc.insert("allowedFunctionNames".to_owned(), Value::Array(names));
    }
    Ok(Some(json!({ "functionCallingConfig": fcc })))
}
