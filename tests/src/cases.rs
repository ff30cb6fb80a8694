//! The same feature requests in both inbound dialects, and each provider's replies in its
//! exact wire format, for the provider matrix.

use serde_json::{json, Value};

use crate::providers::{Client, Wire};
use crate::{anthropic, gemini, openai, Reply};

/// A reply in `wire`'s exact format.
pub mod reply {
    use super::*;

    /// Text answer with usage (prompt 21, completion 7).
    pub fn text(wire: Wire, text: &str) -> Reply {
        Reply::json(&match wire {
            Wire::OpenAi => openai::completion(text, 21, 7),
            Wire::Anthropic => anthropic::message(text, 21, 7),
            Wire::Gemini => gemini::response(text, "STOP", 21, 7),
        })
    }

    /// Streamed text answer (usage 21/7).
    pub fn text_stream(wire: Wire, pieces: &[&str]) -> Reply {
        Reply::sse(&match wire {
            Wire::OpenAi => openai::stream(pieces, 21, 7),
            Wire::Anthropic => anthropic::stream(pieces, 21, 7),
            Wire::Gemini => gemini::stream(pieces, 21, 7),
        })
    }

    /// Answer cut by the output cap (usage 21/5).
    pub fn max_tokens(wire: Wire, text: &str) -> Reply {
        Reply::json(&match wire {
            Wire::OpenAi => openai::completion_finishing(text, "length", 21, 5),
            Wire::Anthropic => anthropic::message_stopping(text, "max_tokens", None, 21, 5),
            Wire::Gemini => gemini::response(text, "MAX_TOKENS", 21, 5),
        })
    }

    /// Answer ended by the stop sequence `END` (OpenAI and Gemini don't say which).
    pub fn stopped(wire: Wire, text: &str) -> Reply {
        Reply::json(&match wire {
            Wire::OpenAi => openai::completion(text, 21, 7),
            Wire::Anthropic => {
                anthropic::message_stopping(text, "stop_sequence", Some("END"), 21, 7)
            }
            Wire::Gemini => gemini::response(text, "STOP", 21, 7),
        })
    }

    /// A stream that says `Hel`, then fails with the provider's own overloaded error event.
    pub fn stream_then_error(wire: Wire) -> Reply {
        let mut events = match wire {
            Wire::OpenAi => openai::stream(&["Hel"], 21, 7)[..2].to_vec(),
            Wire::Anthropic => anthropic::stream(&["Hel"], 21, 7)[..4].to_vec(),
            Wire::Gemini => gemini::stream(&["Hel", "unused"], 21, 7)[..1].to_vec(),
        };
        events.push(match wire {
            Wire::OpenAi => format!(
                "data: {}\n\n",
                openai::error(
                    "The engine is currently overloaded, please try again later.",
                    "server_error",
                    None
                )
            ),
            Wire::Anthropic => anthropic::error_event("overloaded_error", "Overloaded"),
            Wire::Gemini => format!(
                "data: {}\r\n\r\n",
                gemini::error(
                    503,
                    "UNAVAILABLE",
                    "The model is overloaded. Please try again later."
                )
            ),
        });
        Reply::sse(&events)
    }

    /// A `get_weather({"city":"Paris"})` call (usage 30/12).
    pub fn tool_call(wire: Wire) -> Reply {
        Reply::json(&match wire {
            Wire::OpenAi => {
                openai::tool_call("call_abc123", "get_weather", r#"{"city":"Paris"}"#, 30, 12)
            }
            Wire::Anthropic => anthropic::tool_use(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                json!({"city": "Paris"}),
                30,
                12,
            ),
            Wire::Gemini => gemini::function_call("get_weather", json!({"city": "Paris"}), 30, 12),
        })
    }

    /// The same call, streamed (arguments in two pieces where the format splits them).
    pub fn tool_call_stream(wire: Wire) -> Reply {
        Reply::sse(&match wire {
            Wire::OpenAi => openai::tool_call_stream(
                "call_abc123",
                "get_weather",
                &[r#"{"city":"#, r#""Paris"}"#],
                30,
                12,
            ),
            Wire::Anthropic => anthropic::tool_use_stream(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                &[r#"{"city":"#, r#""Paris"}"#],
                30,
                12,
            ),
            Wire::Gemini => {
                gemini::function_call_stream("get_weather", json!({"city": "Paris"}), 30, 12)
            }
        })
    }

    /// A JSON answer `{"city":"Paris","temp_c":18}` to a structured-output request from
    /// `client`.
    pub fn json_answer(wire: Wire, client: Client) -> Reply {
        let text = r#"{"city":"Paris","temp_c":18}"#;
        match (wire, client) {
            // An OpenAI request reaches Anthropic as the forced response-format tool, which is
            // how Anthropic answers it; an Anthropic client's `output_config.format` passes
            // through and is answered natively, in a text block.
            (Wire::Anthropic, Client::OpenAi) => Reply::json(&anthropic::tool_use(
                "toolu_01JSON",
                "switchyard_json_response",
                json!({"city": "Paris", "temp_c": 18}),
                21,
                7,
            )),
            _ => self::text(wire, text),
        }
    }

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).expect("fixture is JSON")
    }

    /// The status a provider uses for "overloaded": 529 for Anthropic, 503 for the others.
    pub fn overloaded_status(wire: Wire) -> u16 {
        if wire == Wire::Anthropic {
            529
        } else {
            503
        }
    }

    /// The provider's own error body for `status`, as that provider really words it (recorded
    /// bodies from `crates/switchyard-wire/tests/fixtures/` where there is one).
    pub fn error(wire: Wire, status: u16) -> Reply {
        let body = match (wire, status) {
            (Wire::OpenAi, 400) => openai::error("Invalid value for 'temperature': must be <= 2.", "invalid_request_error", Some("invalid_value")),
            (Wire::OpenAi, 401) => openai::error("Incorrect API key provided: sk-provi*************9c. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", Some("invalid_api_key")),
            (Wire::OpenAi, 429) => openai::error("Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", Some("rate_limit_exceeded")),
            (Wire::OpenAi, 503) => openai::error("The engine is currently overloaded, please try again later.", "server_error", None),
            (Wire::OpenAi, _) => openai::error("The server had an error while processing your request. Sorry about that!", "server_error", None),
            (Wire::Anthropic, 400) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/anthropic/error_400.json")),
            (Wire::Anthropic, 401) => anthropic::error("authentication_error", "invalid x-api-key"),
            (Wire::Anthropic, 429) => anthropic::error("rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."),
            (Wire::Anthropic, 529) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/anthropic/error_529.json")),
            (Wire::Anthropic, _) => anthropic::error("api_error", "Internal server error"),
            (Wire::Gemini, 400) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/gemini/error/400_invalid_argument.json")),
            (Wire::Gemini, 401) => gemini::error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."),
            (Wire::Gemini, 429) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/gemini/error/429_resource_exhausted.json")),
            (Wire::Gemini, 503) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/gemini/error/503_unavailable.json")),
            (Wire::Gemini, _) => fixture(include_str!("../../crates/switchyard-wire/tests/fixtures/gemini/error/500_internal.json")),
        };
        Reply::status_json(status, &body)
    }
}

/// The same feature requests in both inbound dialects. `model` is a route or model id.
pub mod req {
    use super::*;

    /// System prompt + one user turn.
    pub fn text(client: Client, model: &str, stream: bool) -> Value {
        match client {
            Client::OpenAi => {
                let mut v = openai::request(model, false);
                v["stream"] = json!(stream);
                v
            }
            Client::Anthropic => anthropic::request(model, stream),
        }
    }

    /// The `get_weather` tool definition, offered with automatic choice.
    pub fn tools(client: Client, model: &str, stream: bool) -> Value {
        let schema = json!({"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]});
        match client {
            Client::OpenAi => json!({
                "model": model, "stream": stream,
                "messages": [{"role": "user", "content": "Weather in Paris?"}],
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": schema}}],
                "tool_choice": "auto"
            }),
            Client::Anthropic => json!({
                "model": model, "stream": stream, "max_tokens": 256,
                "messages": [{"role": "user", "content": "Weather in Paris?"}],
                "tools": [{"name": "get_weather", "description": "Current weather", "input_schema": schema}],
                "tool_choice": {"type": "auto"}
            }),
        }
    }

    /// The second leg of a tool round trip: the call the model made and its result.
    pub fn tool_result(client: Client, model: &str, call_id: &str) -> Value {
        let mut v = tools(client, model, false);
        match client {
            Client::OpenAi => {
                v["messages"] = json!([
                    {"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                    {"role": "tool", "tool_call_id": call_id, "content": "18°C and sunny"}
                ]);
            }
            Client::Anthropic => {
                v["messages"] = json!([
                    {"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"city": "Paris"}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call_id, "content": "18°C and sunny"}]}
                ]);
            }
        }
        v
    }

    /// The JSON schema both dialects ask for.
    pub fn weather_schema() -> Value {
        json!({"type": "object", "properties": {"city": {"type": "string"}, "temp_c": {"type": "integer"}}, "required": ["city", "temp_c"], "additionalProperties": false})
    }

    /// Structured output: OpenAI `response_format` json_schema, Anthropic
    /// `output_config.format` json_schema.
    pub fn json_schema(client: Client, model: &str) -> Value {
        let mut v = text(client, model, false);
        match client {
            Client::OpenAi => {
                v["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "weather", "strict": true, "schema": weather_schema()}});
            }
            Client::Anthropic => {
                v["output_config"] =
                    json!({"format": {"type": "json_schema", "schema": weather_schema()}});
            }
        }
        v
    }

    /// A 1×1 PNG, base64.
    pub const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    /// An image URL.
    pub const IMAGE_URL: &str =
        "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg";

    /// One user turn with text, an image by URL and one in base64.
    pub fn images(client: Client, model: &str) -> Value {
        let mut v = text(client, model, false);
        v["messages"] = match client {
            Client::OpenAi => json!([{"role": "user", "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": IMAGE_URL}},
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_B64}")}}
            ]}]),
            Client::Anthropic => json!([{"role": "user", "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image", "source": {"type": "url", "url": IMAGE_URL}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}}
            ]}]),
        };
        v
    }

    /// Stop sequence `END` and an output cap of `max`.
    pub fn stop_and_cap(client: Client, model: &str, max: u64) -> Value {
        let mut v = text(client, model, false);
        match client {
            Client::OpenAi => {
                v["stop"] = json!(["END"]);
                v["max_tokens"] = json!(max);
            }
            Client::Anthropic => {
                v["stop_sequences"] = json!(["END"]);
                v["max_tokens"] = json!(max);
            }
        }
        v
    }
}
