//! `type: vertex` through the real binary. The token endpoint mock is checked the way Google's
//! is: the form carries `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256
//! `assertion` whose signature verifies with the service account's public key and whose claims
//! are those google-auth's service-account credentials send (iss = client_email, scope
//! cloud-platform, aud = token_uri, iat/exp an hour apart, kid = private_key_id). Model calls
//! must carry the issued bearer: Gemini models at `…/publishers/google/models/M:generateContent`
//! (`:streamGenerateContent?alt=sse`), Claude at `…/publishers/anthropic/models/M:rawPredict`
//! (`:streamRawPredict`) with `anthropic_version: vertex-2023-10-16` and no `model` in the
//! body, as Anthropic's AnthropicVertex client sends them.

use std::time::Duration;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use switchyard_e2e::{anthropic, gemini, GatewayBuilder, MockProvider, Received, Reply};

const PRIVATE_KEY: &str = include_str!("fixtures/vertex_test_key.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/vertex_test_key.pub");
const EMAIL: &str = "switchyard@test-proj.iam.gserviceaccount.com";
const TOKEN: &str = "ya29.c.TOP-SECRET-ACCESS-TOKEN-4b1e";
const CLIENT_KEY: &str = "sk-client-vertex-1";

use crate::common::{bin, model, provider, Config, RawProvider};
use switchyard_e2e::config::RawBudget;

fn token_reply(expires_in: u64) -> Reply {
    Reply::json(&json!({"access_token": TOKEN, "expires_in": expires_in, "token_type": "Bearer"}))
}

struct Rig {
    gw: switchyard_e2e::Gateway,
    token: MockProvider,
    vertex: MockProvider,
    spare: MockProvider,
    token_uri: String,
    key_path: std::path::PathBuf,
}

async fn start(token: Reply, vertex: Reply) -> Rig {
    let token = MockProvider::start(token).await;
    let vertex = MockProvider::start(vertex).await;
    let spare = MockProvider::start(Reply::json(&switchyard_e2e::openai::completion(
        "spare here",
        3,
        2,
    )))
    .await;
    let token_uri = format!("{}/token", token.base());
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("sa.json");
    write_key(&key_path, "kid-0042", &token_uri);
    let vertex_provider = RawProvider {
        id: "vertex".into(),
        kind: Some("vertex".into()),
        project: Some("test-proj".into()),
        location: Some("us-east5".into()),
        base_url: Some(vertex.base()),
        credentials_file: Some(key_path.display().to_string()),
        ..RawProvider::default()
    };
    let spare_provider = RawProvider {
        api_key_env: Some("SPARE_KEY".into()),
        ..provider("spare", "openai", &format!("{}/v1", spare.base()))
    };
    let config = Config::new()
        .app_key(|k| {
            k.budget = Some(RawBudget {
                usd: 100.0,
                period: None,
            })
        })
        .provider(vertex_provider)
        .provider(spare_provider)
        .model(model("flash", "vertex").upstream("gemini-2.5-flash"))
        .model(model("claude", "vertex").upstream("claude-sonnet-4-5@20250929"))
        .model(model("spare", "spare").upstream("gpt-4o-mini"))
        .route("ha", &["claude", "spare"]);
    let gw = GatewayBuilder::new(bin(), config.yaml())
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("SPARE_KEY", "sk-spare-1")
        .start();
    std::mem::forget(dir);
    Rig {
        gw,
        token,
        vertex,
        spare,
        token_uri,
        key_path,
    }
}

fn write_key(path: &std::path::Path, kid: &str, token_uri: &str) {
    std::fs::write(
        path,
        json!({"type": "service_account", "project_id": "test-proj", "private_key_id": kid,
               "private_key": PRIVATE_KEY, "client_email": EMAIL, "client_id": "1",
               "token_uri": token_uri})
        .to_string(),
    )
    .unwrap();
}

impl Rig {
    async fn chat(&self, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", self.gw.base))
            .bearer_auth(CLIENT_KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn messages(&self, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/v1/messages", self.gw.base))
            .header("x-api-key", CLIENT_KEY)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Every token request was a valid JWT-bearer grant for the service account.
    fn assert_grants(&self) {
        let grants = self.token.received();
        assert!(!grants.is_empty());
        for g in grants {
            assert_grant(&g, &self.token_uri);
        }
    }
}

fn assert_grant(r: &Received, token_uri: &str) {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/token");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&r.body).into_owned().collect();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        field("grant_type"),
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let assertion = field("assertion");
    let header = decode_header(&assertion).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert!(header
        .kid
        .as_deref()
        .is_some_and(|k| k.starts_with("kid-00")));
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[token_uri]);
    v.set_issuer(&[EMAIL]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let claims = decode::<Value>(
        &assertion,
        &DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap(),
        &v,
    )
    .expect("signature and claims verify with the key's public half")
    .claims;
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
}

fn assert_bearer(r: &Received) {
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(r.header("x-goog-api-key").is_none() && r.header("x-api-key").is_none());
}

fn claude_message(text: &str) -> Value {
    let mut m = anthropic::message(text, 10, 5);
    m["usage"] = json!({"input_tokens": 10, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        "output_tokens": 5});
    m
}

#[tokio::test]
async fn gemini_models_get_generate_content_with_the_issued_token() {
    let rig = start(
        token_reply(3599),
        Reply::json(&gemini::response("Hi from Vertex", "STOP", 7, 4)),
    )
    .await;
    let resp = rig.chat(json!({"model": "flash", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Hi from Vertex");
    let sent = &rig.vertex.received()[0];
    assert_eq!(sent.path, "/v1/projects/test-proj/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent");
    assert_bearer(sent);
    let b = sent.json();
    assert!(
        b["contents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["role"] == "user" || c["role"] == "model"),
        "{b}"
    );
    assert!(b.get("model").is_none());
    rig.assert_grants();

    // Streaming, from an Anthropic client.
    rig.vertex
        .push(Reply::sse(&gemini::stream(&["Hel", "lo"], 7, 4)));
    let resp = rig.messages(json!({"model": "flash", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("message_stop") && text.contains("Hel") && text.contains("lo"),
        "{text}"
    );
    assert_eq!(
        rig.vertex.received()[1].path,
        "/v1/projects/test-proj/locations/us-east5/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(rig.token.hits(), 1, "the token is cached across requests");
}

#[tokio::test]
async fn claude_models_get_raw_predict_and_true_cache_costs() {
    let rig = start(
        token_reply(3599),
        Reply::json(&claude_message("Hi from Claude")),
    )
    .await;
    // OpenAI client, tools included.
    let resp = rig.chat(json!({"model": "claude", "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "Hi from Claude");
    let sent = &rig.vertex.received()[0];
    assert_eq!(sent.path, "/v1/projects/test-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict");
    assert_bearer(sent);
    assert!(
        sent.header("anthropic-version").is_none(),
        "Vertex takes the version in the body"
    );
    let b = sent.json();
    assert_eq!(b["anthropic_version"], "vertex-2023-10-16");
    assert!(b.get("model").is_none(), "{b}");
    assert_eq!(b["tools"][0]["name"], "get_weather");
    assert!(b["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("role").is_some()));

    // Anthropic client, streaming.
    rig.vertex
        .push(Reply::sse(&anthropic::stream(&["Hel", "lo"], 10, 5)));
    let resp = rig.messages(json!({"model": "claude", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("message_stop"), "{text}");
    assert!(rig.vertex.received()[1]
        .path
        .ends_with("claude-sonnet-4-5@20250929:streamRawPredict"));

    // Cost: Claude Sonnet 4.5 on Vertex, catalog prices: 3 in, 15 out, 0.30 read, 3.75 write
    // (5m), 6 write (1h).
    let recs = rig.gw.usage_records(2);
    let r = &recs[0];
    assert_eq!(r["prompt_tokens"], 2310);
    assert_eq!(r["cached_tokens"], 2000);
    assert_eq!(r["cache_write_tokens"], 300);
    let want = (10.0 * 3.0 + 2000.0 * 0.30 + 100.0 * 3.75 + 200.0 * 6.0 + 5.0 * 15.0) / 1e6;
    assert!(
        (r["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12,
        "{r}"
    );
    rig.assert_grants();
}

#[tokio::test]
async fn platform_errors_fail_over_and_model_errors_keep_their_shape() {
    let rig = start(token_reply(3599), Reply::json(&claude_message("unused"))).await;
    rig.vertex.push(Reply::status_json(429, &json!({"error": {"code": 429, "message": "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model", "status": "RESOURCE_EXHAUSTED"}})));
    let resp = rig
        .chat(json!({"model": "ha", "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-model"], "spare");
    assert_eq!(rig.spare.hits(), 1);

    rig.vertex.push(Reply::status_json(503, &json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})));
    let resp = rig
        .chat(json!({"model": "ha", "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(rig.spare.hits(), 2);

    rig.vertex.push(Reply::status_json(
        400,
        &anthropic::error("invalid_request_error", "max_tokens: 999999 > 64000"),
    ));
    let resp = rig.messages(json!({"model": "claude", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_tokens"));
}

#[tokio::test]
async fn tokens_are_refreshed_before_expiry_and_shared_by_concurrent_requests() {
    // A token with less than the refresh margin left is refreshed on the next request.
    let rig = start(
        token_reply(60),
        Reply::json(&gemini::response("ok", "STOP", 1, 1)),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            rig.chat(json!({"model": "flash", "messages": [{"role": "user", "content": "Hi"}]}))
                .await
                .status(),
            200
        );
    }
    assert_eq!(rig.token.hits(), 2);
    rig.assert_grants();

    // Eight requests at once behind a slow token endpoint: one exchange.
    let rig = start(
        Reply::Delay(Duration::from_millis(400), Box::new(token_reply(3599))),
        Reply::json(&gemini::response("ok", "STOP", 1, 1)),
    )
    .await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let url = format!("{}/v1/chat/completions", rig.gw.base);
        set.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(CLIENT_KEY)
                .json(&json!({"model": "flash", "messages": [{"role": "user", "content": "Hi"}]}))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(rig.token.hits(), 1, "one exchange, not a stampede");
    assert_eq!(rig.vertex.hits(), 8);
}

#[tokio::test]
async fn refused_grants_skip_the_target_and_no_credential_leaks() {
    let rig = start(
        Reply::status_json(
            400,
            &json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ),
        Reply::json(&claude_message("unused")),
    )
    .await;
    let resp = rig
        .chat(json!({"model": "ha", "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(resp.status(), 200, "the spare answers");
    assert_eq!(rig.vertex.hits(), 0);
    let resp = rig
        .chat(json!({"model": "flash", "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert!(status.is_server_error(), "{status} {body}");
    // Now a working endpoint: the token must not show up anywhere either.
    let rig2 = start(
        token_reply(3599),
        Reply::json(&gemini::response("ok", "STOP", 1, 1)),
    )
    .await;
    let resp = rig2
        .chat(json!({"model": "flash", "messages": [{"role": "user", "content": "Hi"}]}))
        .await;
    assert_eq!(resp.status(), 200);
    let answer = resp.text().await.unwrap();
    let config = reqwest::get(format!("{}/config", rig2.gw.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key_body = PRIVATE_KEY.lines().nth(1).unwrap();
    for out in [
        &body,
        &answer,
        &rig.gw.stdout(),
        &rig.gw.stderr(),
        &rig2.gw.stdout(),
        &rig2.gw.stderr(),
        &rig2.gw.metrics(),
        &config,
    ] {
        assert!(!out.contains(TOKEN), "token leaked: {out}");
        assert!(!out.contains(key_body), "private key leaked");
    }
}

#[test]
fn presets_and_catalog_are_listed_by_the_binary() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let presets: Value = serde_json::from_str(&run(&["presets", "--json"])).unwrap();
    let presets = presets.as_array().unwrap();
    assert!(presets.len() >= 20);
    let groq = presets.iter().find(|p| p["name"] == "groq").unwrap();
    assert_eq!(groq["type"], "openai_compatible");
    assert_eq!(groq["base_url"], "https://api.groq.com/openai/v1");
    assert_eq!(groq["key_env"], "GROQ_API_KEY");
    assert!(run(&["presets"]).contains("api.mistral.ai"));

    let catalog: Value = serde_json::from_str(&run(&["catalog", "--json"])).unwrap();
    let models = catalog["models"].as_array().unwrap();
    assert!(models.len() >= 150);
    assert!(models
        .iter()
        .all(|m| m["date"].as_str().is_some_and(|d| d.len() == 10)));
    let table = run(&["catalog"]);
    assert!(table.contains("claude-sonnet-4-5") && table.contains("models, catalog dated"));
}

#[tokio::test]
async fn sighup_rereads_the_key_file_and_starts_a_fresh_token() {
    let rig = start(
        token_reply(3599),
        Reply::json(&gemini::response("ok", "STOP", 1, 1)),
    )
    .await;
    let ask =
        || rig.chat(json!({"model": "flash", "messages": [{"role": "user", "content": "Hi"}]}));
    assert_eq!(ask().await.status(), 200);
    assert_eq!(rig.token.hits(), 1);
    // The mounted key is rotated, then the operator sends SIGHUP.
    write_key(&rig.key_path, "kid-0043", &rig.token_uri);
    rig.gw.signal("HUP");
    assert!(rig.gw.eventually(Duration::from_secs(10), || rig
        .gw
        .metrics()
        .contains(r#"switchyard_config_reloads_total{result="success"} 1"#)));
    assert_eq!(ask().await.status(), 200);
    assert_eq!(rig.token.hits(), 2, "a reload starts a fresh token");
    let last = rig.token.received().pop().unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&last.body)
        .into_owned()
        .collect();
    let assertion = &form.iter().find(|(k, _)| k == "assertion").unwrap().1;
    assert_eq!(
        decode_header(assertion).unwrap().kid.as_deref(),
        Some("kid-0043")
    );
    rig.assert_grants();
}
