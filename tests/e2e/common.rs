//! Helpers shared by the scenarios: the binary cargo built, typed configs for the common
//! shapes (the builders of `switchyard_e2e::config` re-exported), a gateway with the client
//! and provider keys, a client that presents its key, waits on conditions with deadlines (and
//! the one fixed window, [`holds_for`]), and `rows!`, a test per row of a scenario table.

pub use switchyard_e2e::config::{
    budget, filter_with, key, model, provider, timeouts, Config, RawFilter, RawPeriod, RawProvider,
    RawTimeouts,
};
pub use switchyard_e2e::providers::{CLIENT_KEY, PROVIDER_KEY};
use switchyard_e2e::GatewayBuilder;

/// The switchyard binary cargo built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_switchyard")
}

/// A gateway for a typed config (see `switchyard_e2e::config`), with the client and provider
/// keys in its environment.
pub fn gateway_for(config: &Config) -> GatewayBuilder {
    GatewayBuilder::new(bin(), config.yaml())
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("PROVIDER_KEY", PROVIDER_KEY)
}

/// One openai provider (`mock`) at `base` with model `gpt-4o-mini` (upstream name
/// `gpt-4o-mini-up`).
pub fn one_model(base: &str) -> Config {
    Config::new()
        .provider(provider("mock", "openai", &format!("{base}/v1")))
        .model(
            model("gpt-4o-mini", "mock")
                .upstream("gpt-4o-mini-up")
                .priced(0.15, 0.60),
        )
}

/// One openai provider (`mock`) at `base` with model `m`: output costs $1 per 1000 tokens, so
/// each answer of 10 tokens costs $0.01 and a [`capped_request`] (at most 20 output tokens)
/// reserves $0.02. For budget scenarios.
pub fn priced_model(base: &str) -> Config {
    Config::new()
        .provider(provider("mock", "openai", &format!("{base}/v1")))
        .model(model("m", "mock").priced(0.0, 1000.0))
}

/// Route `chat` over `primary` (an `openai` provider `first` at `first`, with `timeouts`), then
/// `backup` (an `openai_compatible` provider `second` at `second`).
pub fn primary_then_backup(first: &str, timeouts: RawTimeouts, second: &str) -> Config {
    Config::new()
        .provider(RawProvider {
            timeouts: Some(timeouts),
            ..provider("first", "openai", &format!("{first}/v1"))
        })
        .provider(provider(
            "second",
            "openai_compatible",
            &format!("{second}/v1"),
        ))
        .model(model("primary", "first"))
        .model(model("backup", "second"))
        .route("chat", &["primary", "backup"])
}

/// The filter chain `auth, route, <extra…>, translate, metrics`.
pub fn chain_with(extra: impl IntoIterator<Item = RawFilter>) -> Vec<RawFilter> {
    let mut chain: Vec<RawFilter> = vec!["auth".into(), "route".into()];
    chain.extend(extra);
    chain.extend(["translate".into(), "metrics".into()]);
    chain
}

/// An OpenAI 429 saying `slow down`, with `retry-after: SECS`.
pub fn rate_limited(retry_after_secs: &str) -> switchyard_e2e::Reply {
    let error = switchyard_e2e::openai::error("slow down", "rate_limit_error", None);
    switchyard_e2e::Reply::Whole {
        status: 429,
        content_type: "application/json",
        body: serde_json::to_vec(&error).expect("JSON"),
        headers: vec![("retry-after".into(), retry_after_secs.into())],
    }
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

/// POSTs a plain chat request for `model` (OpenAI's format, not streamed) to `gw` with the
/// client key.
pub async fn ask(gw: &switchyard_e2e::Gateway, model: &str) -> reqwest::Response {
    let body = switchyard_e2e::openai::request(model, false);
    post(&gw.base, "/v1/chat/completions", &body).await
}

/// POSTs a streamed chat request for `model` (OpenAI's format) to `gw` with the client key.
pub async fn ask_stream(gw: &switchyard_e2e::Gateway, model: &str) -> reqwest::Response {
    let body = switchyard_e2e::openai::request(model, true);
    post(&gw.base, "/v1/chat/completions", &body).await
}

/// Starts a streamed chat request for `model` through `gw` in a task of its own, and returns
/// once `upstream` has it (the stream is in flight); the task ends with the body the client
/// read.
pub async fn stream_in_flight(
    gw: &switchyard_e2e::Gateway,
    model: &str,
    upstream: &switchyard_e2e::MockProvider,
) -> tokio::task::JoinHandle<String> {
    let (base, body) = (
        gw.base.clone(),
        switchyard_e2e::openai::request(model, true),
    );
    let in_flight = tokio::spawn(async move {
        let resp = post(&base, "/v1/chat/completions", &body).await;
        resp.text().await.expect("body")
    });
    let reached = poll_until(|| upstream.hits(), |&n| n >= 1).await;
    assert_eq!(reached, 1, "the stream never reached the upstream");
    in_flight
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

/// Watches `cond` for the whole of `window` and says whether it held every time: the one way
/// to check that something does *not* happen (a second reload, a duplicate record, a
/// connection). A fixed window can only miss a late event, never fail a correct gateway, so
/// keep it short and use it for nothing that can be waited on.
pub async fn holds_for(window: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + window;
    while std::time::Instant::now() < end {
        if !cond() {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cond()
}

/// The value of the sample whose line starts with `prefix` in the metrics text `m` (which
/// must have it).
pub fn metric(m: &str, prefix: &str) -> f64 {
    m.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no metric {prefix} in\n{m}"))
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no value for {prefix} in\n{m}"))
}

/// POSTs a [`capped_request`] to `gw_base` from a task of its own, for concurrent requests;
/// the task ends with the status and the JSON body.
pub fn spawn_capped(
    client: &reqwest::Client,
    gw_base: &str,
) -> tokio::task::JoinHandle<(u16, serde_json::Value)> {
    let (c, url) = (client.clone(), format!("{gw_base}/v1/chat/completions"));
    tokio::spawn(async move {
        let r = c
            .post(url)
            .bearer_auth(CLIENT_KEY)
            .json(&capped_request())
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    })
}

/// `GET /budgets` on the admin listener, parsed.
pub fn budgets(gw: &switchyard_e2e::Gateway) -> serde_json::Value {
    let text = switchyard_e2e::http::get_text(&format!("{}/budgets", gw.admin)).expect("budgets");
    serde_json::from_str(&text).expect("budgets JSON")
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
