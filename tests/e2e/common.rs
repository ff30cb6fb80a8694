//! Helpers shared by the scenarios: the binary cargo built, a gateway with one client key,
//! and a client that presents it.

pub use switchyard_e2e::providers::{CLIENT_KEY, PROVIDER_KEY};
use switchyard_e2e::GatewayBuilder;

/// The switchyard binary cargo built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_switchyard")
}

/// A gateway with one client key (`app`) and the given providers/models/routes YAML.
pub fn gateway(body: &str) -> GatewayBuilder {
    let yaml =
        format!("version: 1\nauth:\n  keys:\n    - id: app\n      key_env: CLIENT_KEY\n{body}");
    GatewayBuilder::new(bin(), yaml)
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("PROVIDER_KEY", PROVIDER_KEY)
}

/// A gateway for a typed config (see `switchyard_e2e::config`), with the client and provider
/// keys in its environment.
pub fn gateway_for(config: &switchyard_e2e::config::Config) -> GatewayBuilder {
    GatewayBuilder::new(bin(), config.yaml())
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("PROVIDER_KEY", PROVIDER_KEY)
}

/// One openai provider at `base` with model `gpt-4o-mini` (upstream name `gpt-4o-mini-up`).
pub fn one_provider(base: &str) -> String {
    format!(
        "providers:\n  - id: mock\n    type: openai\n    base_url: {base}/v1\n    api_key_env: PROVIDER_KEY\nmodels:\n  - id: gpt-4o-mini\n    provider: mock\n    model: gpt-4o-mini-up\n    pricing: {{ input_per_mtok: 0.15, output_per_mtok: 0.60 }}\n"
    )
}

/// An async HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// POSTs JSON with the client key.
pub async fn post(base: &str, path: &str, body: &serde_json::Value) -> reqwest::Response {
    client()
        .post(format!("{base}{path}"))
        .bearer_auth(CLIENT_KEY)
        .json(body)
        .send()
        .await
        .expect("request")
}

/// Reads `probe` every 25 ms until `done` holds of what it read, for at most 10 s, and returns
/// the last reading (so the caller's assertions report what was there at the deadline).
pub async fn poll_until<T>(mut probe: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = probe();
        if done(&seen) || std::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// `GET /budgets` on the admin listener, parsed.
pub fn budgets(gw: &switchyard_e2e::Gateway) -> serde_json::Value {
    let text = switchyard_e2e::http::get_text(&format!("{}/budgets", gw.admin)).expect("budgets");
    serde_json::from_str(&text).expect("budgets JSON")
}

/// One openai provider at `base` with model `m`: output costs $1 per 1000 tokens, so each
/// answer of 10 tokens costs $0.01 and a [`capped_request`] (at most 20 output tokens)
/// reserves $0.02. For budget scenarios.
pub fn priced_provider(base: &str) -> String {
    format!(
        "providers:\n  - id: mock\n    type: openai\n    base_url: {base}/v1\n    api_key_env: PROVIDER_KEY\nmodels:\n  - id: m\n    provider: mock\n    pricing: {{ input_per_mtok: 0.0, output_per_mtok: 1000.0 }}\n"
    )
}

/// A chat request for `m` asking for at most 20 output tokens.
pub fn capped_request() -> serde_json::Value {
    let mut r = switchyard_e2e::openai::request("m", false);
    r["max_tokens"] = serde_json::json!(20);
    r
}

/// One test per row of a scenario table. `rows!(text, stream => { gemini: (Kind::Gemini), … })`
/// makes, for each scenario function named (`text`, `stream`), a module of the same name with a
/// `#[tokio::test] fn gemini` per row that runs `text(Kind::Gemini)`: each row is its own test,
/// named by the table and the row (`provider_matrix::text::gemini`), so a failure says which
/// row failed, and a name filter runs one row, one table (`::text::`) or one provider across
/// the tables (`::gemini`).
macro_rules! rows {
    (@table $scenario:ident { $($row:ident: ($($arg:expr),* $(,)?)),+ $(,)? }) => {
        mod $scenario {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $row() {
                    super::$scenario($($arg),*).await;
                }
            )+
        }
    };
    ($($scenario:ident),+ => $rows:tt) => {
        $( rows!(@table $scenario $rows); )+
    };
}
