//! The provider matrix rig: one gateway in front of one mock of the provider type under test
//! (route `m`) and a spare OpenAI mock (route `ha` = `[m, spare]`), clients for both inbound
//! dialects (the OpenAI SDK's `/v1/chat/completions` with a bearer key, the Anthropic SDK's
//! `/v1/messages` with `x-api-key` and `anthropic-version`), the same feature requests in both
//! dialects. The feature requests and provider replies are in [`crate::cases`], the readers of
//! the client's answer in [`crate::answer`]; both are re-exported here.

use serde_json::Value;

pub use crate::answer::{
    anthropic_text_events, error_of, finish_for, openai_text_events, signature, text_events, Answer,
};
pub use crate::cases::{reply, req};
use crate::config::{filter_with, model, provider, Config};
use crate::{openai, Gateway, GatewayBuilder, MockProvider, Received, Reply};

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
    /// Starts a rig whose mock answers every request with `default`.
    pub async fn start(bin: &str, kind: Kind, default: Reply) -> Rig {
        Self::start_with(bin, kind, default, |c| c).await
    }

    /// A rig whose mock answers every request with `text` in its wire format
    /// ([`reply::text`]).
    pub async fn answering(bin: &str, kind: Kind, text: &str) -> Rig {
        Self::start(bin, kind, reply::text(kind.wire(), text)).await
    }

    /// [`Rig::start`] with the config edited by `edit`: models with `provider: up` reach the
    /// mock; models and routes added go after the rig's own.
    pub async fn start_with(
        bin: &str,
        kind: Kind,
        default: Reply,
        edit: impl FnOnce(Config) -> Config,
    ) -> Rig {
        let mock = MockProvider::start(default).await;
        let spare = MockProvider::start(Reply::json(&openai::completion("from spare", 5, 2))).await;
        let mut up = provider(
            "up",
            kind.yaml_type(),
            &format!("{}{}", mock.base(), kind.base_url_suffix()),
        );
        if kind == Kind::Azure {
            up.api_version = Some(AZURE_API_VERSION.into());
        }
        let mut spare_provider = provider("spare", "openai", &format!("{}/v1", spare.base()));
        spare_provider.api_key_env = Some("SPARE_KEY".into());
        let config = Config::new()
            .provider(up)
            .provider(spare_provider)
            .model(
                model("m", "up")
                    .upstream(kind.upstream_model())
                    .max_output_tokens(16000)
                    .priced(1.0, 2.0),
            )
            .model(model("spare", "spare").upstream("spare-model"))
            .route("ha", &["m", "spare"])
            .filters([
                "auth".into(),
                "route".into(),
                filter_with(
                    "retry",
                    serde_json::json!({"attempts": 2, "backoff": "10ms"}),
                ),
                "translate".into(),
                "metrics".into(),
            ]);
        let gw = GatewayBuilder::new(bin, edit(config).yaml())
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
