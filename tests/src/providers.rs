//! The provider matrix rig: one gateway in front of one mock of the provider type under test
//! (route `m`) and a spare OpenAI mock (route `ha` = `[m, spare]`), clients for both inbound
//! dialects (the OpenAI SDK's `/v1/chat/completions` with a bearer key, the Anthropic SDK's
//! `/v1/messages` with `x-api-key` and `anthropic-version`), the same feature requests in both
//! dialects, each provider's replies in its exact wire format, and readers that turn the
//! client's answer (whole or streamed) into comparable facts.

use serde_json::{json, Value};

use crate::{anthropic, gemini, openai, Gateway, GatewayBuilder, MockProvider, Received, Reply};

/// The provider key the gateway sends upstream.
pub const PROVIDER_KEY: &str = "sk-provider-SECRET-7f3a9c";
/// The key clients present to the gateway.
pub const CLIENT_KEY: &str = "sk-client-gw-1234";
/// The spare provider's key.
pub const SPARE_KEY: &str = "sk-spare-0000";

/// A provider type under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `openai`
    OpenAi,
    /// `openai_compatible` (base URL with its own path prefix)
    Compatible,
    /// `azure_openai` (deployment URL, `api-version`, `api-key`)
    Azure,
    /// `anthropic`
    Anthropic,
    /// `gemini`
    Gemini,
}

/// The wire format a provider type speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI chat completions (openai, openai_compatible, azure_openai).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Gemini generateContent.
    Gemini,
}

/// An inbound dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// `POST /v1/chat/completions`, `Authorization: Bearer`.
    OpenAi,
    /// `POST /v1/messages`, `x-api-key` + `anthropic-version`.
    Anthropic,
}

/// Both inbound dialects.
pub const CLIENTS: [Client; 2] = [Client::OpenAi, Client::Anthropic];

/// Azure api-version configured for the Azure rig.
pub const AZURE_API_VERSION: &str = "2025-01-01-preview";

impl Kind {
    /// The YAML `type`.
    pub fn yaml_type(self) -> &'static str {
        match self {
            Kind::OpenAi => "openai",
            Kind::Compatible => "openai_compatible",
            Kind::Azure => "azure_openai",
            Kind::Anthropic => "anthropic",
            Kind::Gemini => "gemini",
        }
    }

    /// The wire format.
    pub fn wire(self) -> Wire {
        match self {
            Kind::OpenAi | Kind::Compatible | Kind::Azure => Wire::OpenAi,
            Kind::Anthropic => Wire::Anthropic,
            Kind::Gemini => Wire::Gemini,
        }
    }

    /// The upstream model name (an Azure deployment for Azure).
    pub fn upstream_model(self) -> &'static str {
        match self {
            Kind::OpenAi => "gpt-4o-mini-2024-07-18",
            Kind::Compatible => "deepseek-chat",
            Kind::Azure => "prod-gpt4o",
            Kind::Anthropic => "claude-sonnet-4-5",
            Kind::Gemini => "gemini-2.5-flash",
        }
    }

    fn base_url_suffix(self) -> &'static str {
        match self {
            Kind::OpenAi => "/v1",
            Kind::Compatible => "/compat/v1",
            _ => "",
        }
    }

    /// The exact path (and query) a chat request for `model` must reach.
    pub fn path_for(self, model: &str, stream: bool) -> String {
        match self {
            Kind::OpenAi => "/v1/chat/completions".into(),
            Kind::Compatible => "/compat/v1/chat/completions".into(),
            Kind::Azure => format!(
                "/openai/deployments/{model}/chat/completions?api-version={AZURE_API_VERSION}"
            ),
            Kind::Anthropic => "/v1/messages".into(),
            Kind::Gemini if stream => {
                format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
            }
            Kind::Gemini => format!("/v1beta/models/{model}:generateContent"),
        }
    }

    /// Asserts path, method, auth and version headers of one upstream request, and that the
    /// client's own key went nowhere.
    pub fn assert_sent(self, r: &Received, stream: bool) {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, self.path_for(self.upstream_model(), stream), "path");
        let (auth_header, auth_value) = match self {
            Kind::OpenAi | Kind::Compatible => ("authorization", format!("Bearer {PROVIDER_KEY}")),
            Kind::Azure => ("api-key", PROVIDER_KEY.to_owned()),
            Kind::Anthropic => ("x-api-key", PROVIDER_KEY.to_owned()),
            Kind::Gemini => ("x-goog-api-key", PROVIDER_KEY.to_owned()),
        };
        assert_eq!(r.header(auth_header), Some(auth_value.as_str()), "{r:?}");
        for (name, value) in &r.headers {
            assert!(
                !value.contains(CLIENT_KEY),
                "client key sent upstream in {name}"
            );
            if name != auth_header {
                assert!(!value.contains(PROVIDER_KEY), "provider key in {name}");
            }
        }
        assert_eq!(
            r.header("anthropic-version"),
            (self == Kind::Anthropic).then_some("2023-06-01"),
            "anthropic-version"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        match self.wire() {
            Wire::OpenAi => {
                assert_eq!(body["model"], self.upstream_model());
                assert!(body["messages"].is_array());
                if stream {
                    assert_eq!(body["stream"], true);
                    assert_eq!(body["stream_options"]["include_usage"], true);
                }
            }
            Wire::Anthropic => {
                assert_eq!(body["model"], self.upstream_model());
                assert!(body["max_tokens"].is_u64(), "max_tokens is required");
                assert_eq!(body["stream"].as_bool().unwrap_or(false), stream);
            }
            Wire::Gemini => {
                assert!(body.get("model").is_none() && body.get("stream").is_none());
                assert!(body["contents"].is_array());
            }
        }
    }
}

/// A running rig.
pub struct Rig {
    /// Provider type under test.
    pub kind: Kind,
    /// The mock of that provider.
    pub mock: MockProvider,
    /// The spare OpenAI provider (second target of route `ha`).
    pub spare: MockProvider,
    /// The gateway.
    pub gw: Gateway,
}

impl Rig {
    /// Starts a rig whose mock answers every request with `default`. `extra_models` is YAML
    /// appended under `models:` (entries with `provider: up` reach the mock).
    pub async fn start(bin: &str, kind: Kind, default: Reply, extra_models: &str) -> Rig {
        Self::start_with_routes(bin, kind, default, extra_models, "").await
    }

    /// [`Rig::start`] with `extra_routes` YAML appended under `routes:`.
    pub async fn start_with_routes(
        bin: &str,
        kind: Kind,
        default: Reply,
        extra_models: &str,
        extra_routes: &str,
    ) -> Rig {
        let mock = MockProvider::start(default).await;
        let spare = MockProvider::start(Reply::json(&openai::completion("from spare", 5, 2))).await;
        let version = if kind == Kind::Azure {
            format!("    api_version: {AZURE_API_VERSION}\n")
        } else {
            String::new()
        };
        let yaml = format!(
            "version: 1\nauth:\n  keys:\n    - id: app\n      key_env: CLIENT_KEY\nproviders:\n  - id: up\n    type: {ty}\n    base_url: {base}{suffix}\n    api_key_env: PROVIDER_KEY\n{version}  - id: spare\n    type: openai\n    base_url: {spare}/v1\n    api_key_env: SPARE_KEY\nmodels:\n  - id: m\n    provider: up\n    model: {model}\n    max_output_tokens: 1000\n    pricing: {{ input_per_mtok: 1.0, output_per_mtok: 2.0 }}\n  - id: spare\n    provider: spare\n    model: spare-model\n{extra_models}routes:\n  - name: ha\n    targets: [{{ model: m }}, {{ model: spare }}]\n{extra_routes}filters:\n  - auth\n  - route\n  - retry: {{ attempts: 2, backoff: 10ms }}\n  - translate\n  - metrics\n",
            ty = kind.yaml_type(),
            base = mock.base(),
            suffix = kind.base_url_suffix(),
            spare = spare.base(),
            model = kind.upstream_model(),
        );
        let gw = GatewayBuilder::new(bin, yaml)
            .env("CLIENT_KEY", CLIENT_KEY)
            .env("PROVIDER_KEY", PROVIDER_KEY)
            .env("SPARE_KEY", SPARE_KEY)
            .start();
        Rig {
            kind,
            mock,
            spare,
            gw,
        }
    }

    /// Sends `body` as `client` would.
    pub async fn ask(&self, client: Client, body: &Value) -> reqwest::Response {
        let c = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        let req = match client {
            Client::OpenAi => c
                .post(format!("{}/v1/chat/completions", self.gw.base))
                .bearer_auth(CLIENT_KEY),
            Client::Anthropic => c
                .post(format!("{}/v1/messages", self.gw.base))
                .header("x-api-key", CLIENT_KEY)
                .header("anthropic-version", "2023-06-01"),
        };
        req.json(body).send().await.expect("request")
    }

    /// Sends `body`, expects 200 and reads the answer (streamed or whole).
    pub async fn answer(&self, client: Client, body: &Value) -> Answer {
        let resp = self.ask(client, body).await;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.expect("body");
        assert_eq!(status, 200, "{text}\n{}", self.gw.stderr());
        if body["stream"] == true {
            assert_eq!(ct, "text/event-stream");
            Answer::from_stream(client, &text)
        } else {
            assert_eq!(ct, "application/json");
            Answer::from_json(client, &serde_json::from_str(&text).expect("JSON answer"))
        }
    }

    /// The only request the mock received (panics if it got another number).
    pub fn sent(&self) -> Received {
        let got = self.mock.received();
        assert_eq!(got.len(), 1, "upstream requests: {got:?}");
        got[0].clone()
    }

    /// The `n`th request the mock received.
    pub fn sent_nth(&self, n: usize) -> Received {
        self.mock.received()[n].clone()
    }
}

/// What the client got, in terms common to both dialects.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Answer {
    /// Concatenated text.
    pub text: String,
    /// `finish_reason` (OpenAI) or `stop_reason` (Anthropic), as the client got it.
    pub finish: String,
    /// Anthropic `stop_sequence`.
    pub stop_sequence: Option<String>,
    /// Tool calls: id, name, arguments (parsed).
    pub tool_calls: Vec<(String, String, Value)>,
    /// Prompt/input and completion/output tokens as reported to the client (Anthropic input
    /// tokens exclude cache reads).
    pub usage: Option<(u64, u64)>,
    /// For streams: a signature per event (see [`signature`]); empty for whole bodies.
    pub events: Vec<String>,
}

impl Answer {
    /// Reads a whole response body in `client`'s shape.
    pub fn from_json(client: Client, v: &Value) -> Answer {
        let mut a = Answer::default();
        match client {
            Client::OpenAi => {
                assert_eq!(v["object"], "chat.completion", "{v}");
                let choice = &v["choices"][0];
                let msg = &choice["message"];
                assert_eq!(msg["role"], "assistant");
                a.text = msg["content"].as_str().unwrap_or_default().to_owned();
                a.finish = choice["finish_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                for c in msg["tool_calls"].as_array().into_iter().flatten() {
                    assert_eq!(c["type"], "function");
                    let args = c["function"]["arguments"]
                        .as_str()
                        .expect("arguments string");
                    a.tool_calls.push((
                        c["id"].as_str().unwrap_or_default().to_owned(),
                        c["function"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        serde_json::from_str(args).expect("arguments are JSON"),
                    ));
                }
                let u = &v["usage"];
                a.usage = u["prompt_tokens"]
                    .as_u64()
                    .zip(u["completion_tokens"].as_u64());
            }
            Client::Anthropic => {
                assert_eq!(v["type"], "message", "{v}");
                assert_eq!(v["role"], "assistant");
                for block in v["content"].as_array().expect("content array") {
                    match block["type"].as_str() {
                        Some("text") => a.text.push_str(block["text"].as_str().unwrap_or_default()),
                        Some("tool_use") => a.tool_calls.push((
                            block["id"].as_str().unwrap_or_default().to_owned(),
                            block["name"].as_str().unwrap_or_default().to_owned(),
                            block["input"].clone(),
                        )),
                        other => panic!("unexpected block {other:?} in {v}"),
                    }
                }
                a.finish = v["stop_reason"].as_str().unwrap_or_default().to_owned();
                a.stop_sequence = v["stop_sequence"].as_str().map(str::to_owned);
                let u = &v["usage"];
                a.usage = u["input_tokens"].as_u64().zip(u["output_tokens"].as_u64());
            }
        }
        a
    }

    /// Reads an event stream in `client`'s format, checking its framing.
    pub fn from_stream(client: Client, text: &str) -> Answer {
        let mut a = Answer::default();
        let mut args: Vec<String> = Vec::new();
        for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
            let mut name = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(d.to_owned());
                }
            }
            let data = data.unwrap_or_else(|| panic!("event without data: {block:?}"));
            if data == "[DONE]" {
                assert_eq!(client, Client::OpenAi, "[DONE] in an Anthropic stream");
                a.events.push("[DONE]".into());
                continue;
            }
            let v: Value = serde_json::from_str(&data).expect("event data is JSON");
            if client == Client::Anthropic {
                assert_eq!(
                    name.as_deref(),
                    v["type"].as_str(),
                    "event name = data.type"
                );
            }
            a.events.push(signature(client, &v));
            read_event(client, &v, &mut a, &mut args);
        }
        for (call, raw) in a.tool_calls.iter_mut().zip(args) {
            call.2 = serde_json::from_str(&raw).expect("streamed arguments are JSON");
        }
        a
    }
}

fn read_event(client: Client, v: &Value, a: &mut Answer, args: &mut Vec<String>) {
    match client {
        Client::OpenAi => {
            if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
                a.usage = u["prompt_tokens"]
                    .as_u64()
                    .zip(u["completion_tokens"].as_u64());
            }
            let Some(choice) = v["choices"].get(0) else {
                return;
            };
            let d = &choice["delta"];
            a.text.push_str(d["content"].as_str().unwrap_or_default());
            for c in d["tool_calls"].as_array().into_iter().flatten() {
                let i = c["index"].as_u64().expect("tool call index") as usize;
                if let Some(id) = c["id"].as_str() {
                    a.tool_calls.push((
                        id.into(),
                        c["function"]["name"].as_str().unwrap_or_default().into(),
                        Value::Null,
                    ));
                    args.push(String::new());
                }
                args[i].push_str(c["function"]["arguments"].as_str().unwrap_or_default());
            }
            if let Some(f) = choice["finish_reason"].as_str() {
                a.finish = f.to_owned();
            }
        }
        Client::Anthropic => match v["type"].as_str().unwrap_or_default() {
            "message_start" => {
                a.usage = v["message"]["usage"]["input_tokens"]
                    .as_u64()
                    .map(|i| (i, 0));
            }
            "content_block_start" if v["content_block"]["type"] == "tool_use" => {
                let b = &v["content_block"];
                a.tool_calls.push((
                    b["id"].as_str().unwrap_or_default().into(),
                    b["name"].as_str().unwrap_or_default().into(),
                    Value::Null,
                ));
                args.push(String::new());
            }
            "content_block_delta" => {
                let d = &v["delta"];
                a.text.push_str(d["text"].as_str().unwrap_or_default());
                if let Some(p) = d["partial_json"].as_str() {
                    args.last_mut()
                        .expect("a tool_use block is open")
                        .push_str(p);
                }
            }
            "message_delta" => {
                a.finish = v["delta"]["stop_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                a.stop_sequence = v["delta"]["stop_sequence"].as_str().map(str::to_owned);
                if let (Some((i, _)), Some(o)) = (a.usage, v["usage"]["output_tokens"].as_u64()) {
                    a.usage = Some((i, o));
                }
            }
            _ => {}
        },
    }
}

/// A compact description of one client event: for OpenAI `role`, `text:…`, `tool:NAME`,
/// `args:…`, `finish:…`, `usage` joined by `+`; for Anthropic the event type with the block or
/// delta type, e.g. `content_block_delta:text_delta:Hel`.
pub fn signature(client: Client, v: &Value) -> String {
    match client {
        Client::OpenAi => {
            assert_eq!(v["object"], "chat.completion.chunk", "{v}");
            let mut parts = Vec::new();
            if let Some(choice) = v["choices"].get(0) {
                let d = &choice["delta"];
                if d.get("role").is_some() {
                    parts.push("role".to_owned());
                }
                if let Some(t) = d["content"].as_str() {
                    parts.push(format!("text:{t}"));
                }
                for c in d["tool_calls"].as_array().into_iter().flatten() {
                    if let Some(n) = c["function"]["name"].as_str() {
                        parts.push(format!("tool:{n}"));
                    }
                    if let Some(x) = c["function"]["arguments"]
                        .as_str()
                        .filter(|x| !x.is_empty())
                    {
                        parts.push(format!("args:{x}"));
                    }
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    parts.push(format!("finish:{f}"));
                }
            }
            if v.get("usage").is_some_and(|u| !u.is_null()) {
                parts.push("usage".into());
            }
            parts.join("+")
        }
        Client::Anthropic => {
            let ty = v["type"].as_str().unwrap_or_default();
            match ty {
                "content_block_start" => format!(
                    "{ty}:{}",
                    v["content_block"]["type"].as_str().unwrap_or_default()
                ),
                "content_block_delta" => {
                    let d = &v["delta"];
                    let dt = d["type"].as_str().unwrap_or_default();
                    let x = d["text"]
                        .as_str()
                        .or(d["partial_json"].as_str())
                        .unwrap_or_default();
                    format!("{ty}:{dt}:{x}")
                }
                "message_delta" => format!(
                    "{ty}:{}",
                    v["delta"]["stop_reason"].as_str().unwrap_or_default()
                ),
                _ => ty.to_owned(),
            }
        }
    }
}

/// The expected Anthropic client events for a text answer made of `pieces`.
pub fn anthropic_text_events(pieces: &[&str], stop: &str) -> Vec<String> {
    let mut e = vec![
        "message_start".to_owned(),
        "content_block_start:text".to_owned(),
    ];
    e.extend(
        pieces
            .iter()
            .map(|p| format!("content_block_delta:text_delta:{p}")),
    );
    e.push("content_block_stop".into());
    e.push(format!("message_delta:{stop}"));
    e.push("message_stop".into());
    e
}

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

    /// The provider's own error body for `status`, as that provider really words it.
    pub fn error(wire: Wire, status: u16) -> Reply {
        let body = match (wire, status) {
            (Wire::OpenAi, 400) => openai::error("Invalid value for 'temperature': must be <= 2.", "invalid_request_error", Some("invalid_value")),
            (Wire::OpenAi, 401) => openai::error("Incorrect API key provided: sk-provi*************9c. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", Some("invalid_api_key")),
            (Wire::OpenAi, 429) => openai::error("Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", Some("rate_limit_exceeded")),
            (Wire::OpenAi, _) => openai::error("The server had an error while processing your request. Sorry about that!", "server_error", None),
            (Wire::Anthropic, 400) => anthropic::error("invalid_request_error", "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5"),
            (Wire::Anthropic, 401) => anthropic::error("authentication_error", "invalid x-api-key"),
            (Wire::Anthropic, 429) => anthropic::error("rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."),
            (Wire::Anthropic, _) => anthropic::error("api_error", "Internal server error"),
            (Wire::Gemini, 400) => gemini::error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.generation_config.temperature: must be in [0, 2]\n"),
            (Wire::Gemini, 401) => gemini::error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."),
            (Wire::Gemini, 429) => gemini::error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details."),
            (Wire::Gemini, _) => gemini::error(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
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

/// The finish reason `client` should see for a canonical reason (`stop`, `length`,
/// `tool_calls`).
pub fn finish_for(client: Client, canonical: &str) -> &'static str {
    match (client, canonical) {
        (Client::OpenAi, "stop") => "stop",
        (Client::OpenAi, "length") => "length",
        (Client::OpenAi, "tool_calls") => "tool_calls",
        (Client::Anthropic, "stop") => "end_turn",
        (Client::Anthropic, "length") => "max_tokens",
        (Client::Anthropic, "tool_calls") => "tool_use",
        _ => panic!("no mapping for {canonical}"),
    }
}

/// Reads an error answer: its status and `(type, message)` from the client's error shape.
pub async fn error_of(client: Client, resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.expect("error body is JSON");
    match client {
        Client::OpenAi => {
            let e = &v["error"];
            assert!(e.get("param").is_some() && e.get("code").is_some(), "{v}");
            (
                status,
                e["type"].as_str().unwrap_or_default().into(),
                e["message"].as_str().unwrap_or_default().into(),
            )
        }
        Client::Anthropic => {
            assert_eq!(v["type"], "error", "{v}");
            let e = &v["error"];
            (
                status,
                e["type"].as_str().unwrap_or_default().into(),
                e["message"].as_str().unwrap_or_default().into(),
            )
        }
    }
}
