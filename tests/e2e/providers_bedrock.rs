//! `bedrock` upstreams through the real binary, for OpenAI-SDK and Anthropic-SDK clients,
//! against the harness's Bedrock mock, which verifies every request's SigV4 signature with an
//! independent implementation (checked against AWS's test vectors) and answers in Converse
//! JSON, event-stream frames with real CRCs, and AWS error types. Covered: text, streams,
//! tools and a tool round trip, usage and cost, failover on throttling, no failover on a
//! validation error, a mid-stream exception, and no credential in any output.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_e2e::bedrock::{
    converse_text, converse_tool_call, event, frame, text_frames, tool_frames, usage, BedrockMock,
    BedrockReply, ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, SESSION_TOKEN,
};
use switchyard_e2e::config::RawAws;
use switchyard_e2e::providers::{req, Answer, Client, CLIENTS, CLIENT_KEY};
use switchyard_e2e::{openai, Gateway, GatewayBuilder, MockProvider, Reply};

use crate::common::{bin, chain_with, filter_with, model, provider, Config, RawProvider};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const PATH: &str = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse";

/// A gateway with provider `aws` (bedrock, at `mock`) as model `m`, and route `ha` = [m,
/// spare]. `aws` names the credential variables (the standard ones when `None`), `env` gives
/// them.
fn gateway(
    mock: &BedrockMock,
    spare: &MockProvider,
    aws: Option<RawAws>,
    env: &[(&str, &str)],
) -> Gateway {
    let bedrock = RawProvider {
        id: "aws".into(),
        kind: Some("bedrock".into()),
        region: Some(REGION.into()),
        base_url: Some(mock.base()),
        aws,
        ..RawProvider::default()
    };
    let spare_provider = RawProvider {
        api_key_env: Some("SPARE_KEY".into()),
        ..provider("spare", "openai", &format!("{}/v1", spare.base()))
    };
    let retry = filter_with("retry", json!({"attempts": 2, "backoff": "10ms"}));
    let config = Config::new()
        .provider(bedrock)
        .provider(spare_provider)
        .model(
            model("m", "aws")
                .upstream(MODEL)
                .max_output_tokens(1000)
                .priced(3.0, 15.0),
        )
        .model(model("spare", "spare").upstream("spare-model"))
        .route("ha", &["m", "spare"])
        .filters(chain_with([retry]));
    let mut b = GatewayBuilder::new(bin(), config.yaml())
        .env("CLIENT_KEY", CLIENT_KEY)
        .env("SPARE_KEY", "sk-spare-0000");
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start()
}

/// The standard variables, with a session token.
const STANDARD: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
    ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
    ("AWS_SESSION_TOKEN", SESSION_TOKEN),
];

/// A Bedrock mock answering `reply` that checks the session token, the spare, and a gateway
/// with the standard credential variables.
async fn standard(reply: BedrockReply) -> (BedrockMock, MockProvider, Gateway) {
    let mock = BedrockMock::start(reply, Some(SESSION_TOKEN)).await;
    let spare = spare().await;
    let gw = gateway(&mock, &spare, None, &STANDARD);
    (mock, spare, gw)
}

async fn spare() -> MockProvider {
    MockProvider::start(Reply::json(&openai::completion("from spare", 5, 2))).await
}

async fn ask(gw: &Gateway, client: Client, body: &Value) -> (u16, String) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = match client {
        Client::OpenAi => c
            .post(format!("{}/v1/chat/completions", gw.base))
            .bearer_auth(CLIENT_KEY),
        Client::Anthropic => c
            .post(format!("{}/v1/messages", gw.base))
            .header("x-api-key", CLIENT_KEY)
            .header("anthropic-version", "2023-06-01"),
    };
    let resp = r.json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn answer(gw: &Gateway, client: Client, body: &Value) -> Answer {
    let (status, text) = ask(gw, client, body).await;
    assert_eq!(status, 200, "{text}\n{}", gw.stderr());
    if body["stream"] == true {
        Answer::from_stream(client, &text)
    } else {
        Answer::from_json(client, &serde_json::from_str(&text).unwrap())
    }
}

fn no_rejections(mock: &BedrockMock) {
    assert!(
        mock.rejected().is_empty(),
        "mock refused: {:?}",
        mock.rejected()
    );
}

#[tokio::test]
async fn text_both_dialects_signed_with_the_session_token() {
    let (mock, _spare, gw) = standard(BedrockReply::Converse(converse_text(
        "Hello from Bedrock.",
        "end_turn",
        usage(20, 7, 100, 30),
    )))
    .await;
    for client in CLIENTS {
        let a = answer(&gw, client, &req::text(client, "m", false)).await;
        assert_eq!(a.text, "Hello from Bedrock.");
        match client {
            Client::OpenAi => assert_eq!((a.finish.as_str(), a.usage), ("stop", Some((150, 7)))),
            // Anthropic's input_tokens leaves cache reads and writes out, as Bedrock's does.
            Client::Anthropic => assert_eq!(a.finish, "end_turn"),
        }
    }
    no_rejections(&mock);
    let got = mock.received();
    assert_eq!(got.len(), 2);
    for r in &got {
        assert_eq!(r.path, PATH);
        assert_eq!(r.header("x-amz-security-token"), Some(SESSION_TOKEN));
        assert!(r
            .header("authorization")
            .unwrap()
            .contains(&format!("/{REGION}/bedrock/aws4_request")));
        let body = r.json();
        assert!(
            body.get("model").is_none() && body.get("stream").is_none(),
            "{body}"
        );
        assert_eq!(
            body["system"],
            json!([{"text": "You are terse."}]),
            "{body}"
        );
        assert_eq!(body["messages"][0]["role"], "user");
    }
    assert_eq!(got[1].json()["inferenceConfig"]["maxTokens"], 256);
    // Every cent counted: prompt tokens include cache reads and writes.
    let recs = gw.usage_records(2);
    assert_eq!(recs.len(), 2, "{}", gw.stdout());
    for r in &recs {
        assert_eq!(r["provider"], "aws", "{r}");
        assert_eq!(r["prompt_tokens"], 150, "{r}");
        assert_eq!(r["completion_tokens"], 7, "{r}");
        // Cache reads and writes are counted apart, each at its own price.
        assert_eq!(r["cached_tokens"], 100, "{r}");
        assert_eq!(r["cache_write_tokens"], 30, "{r}");
        assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
    }
}

#[tokio::test]
async fn streams_both_dialects_from_event_stream_frames() {
    let pieces = ["Waves", " fold into foam,", "\nthe tide keeps its time."];
    let (mock, _spare, gw) = standard(BedrockReply::Stream {
        frames: text_frames(&pieces, usage(25, 12, 0, 0)),
        gap: Duration::from_millis(5),
        cut: false,
    })
    .await;
    for client in CLIENTS {
        let mut body = req::text(client, "m", true);
        if client == Client::OpenAi {
            body["stream_options"] = json!({"include_usage": true});
        }
        let a = answer(&gw, client, &body).await;
        assert_eq!(a.text, pieces.concat());
        match client {
            Client::OpenAi => {
                assert_eq!(a.finish, "stop");
                assert_eq!(a.usage, Some((25, 12)));
                assert_eq!(a.events.last().map(String::as_str), Some("[DONE]"));
            }
            Client::Anthropic => {
                assert_eq!(a.finish, "end_turn");
                assert_eq!(a.events.last().map(String::as_str), Some("message_stop"));
            }
        }
    }
    no_rejections(&mock);
    for r in mock.received() {
        assert_eq!(r.path, PATH.replace("/converse", "/converse-stream"));
        assert_eq!(
            r.header("accept"),
            Some("application/vnd.amazon.eventstream")
        );
    }
    let recs = gw.usage_records(2);
    assert!(
        recs.iter()
            .all(|r| r["prompt_tokens"] == 25 && r["completion_tokens"] == 12),
        "{recs:?}"
    );
}

#[tokio::test]
async fn tools_and_a_tool_round_trip_both_dialects() {
    let mock = BedrockMock::start(BedrockReply::Converse(converse_tool_call()), None).await;
    let spare = spare().await;
    let named = RawAws {
        access_key_id_env: Some("TEAM_AWS_ID".into()),
        secret_access_key_env: Some("TEAM_AWS_SECRET".into()),
        ..RawAws::default()
    };
    let env = [
        ("TEAM_AWS_ID", ACCESS_KEY_ID),
        ("TEAM_AWS_SECRET", SECRET_ACCESS_KEY),
    ];
    let gw = gateway(&mock, &spare, Some(named), &env);
    for client in CLIENTS {
        let want_finish = if client == Client::OpenAi {
            "tool_calls"
        } else {
            "tool_use"
        };
        let want_call = [(
            "tooluse_Paris01".to_owned(),
            "get_weather".to_owned(),
            json!({"city": "Paris"}),
        )];
        // Whole, then streamed: the same call from contentBlockStart + toolUse deltas.
        for stream in [false, true] {
            if stream {
                mock.push(BedrockReply::Stream {
                    frames: tool_frames(),
                    gap: Duration::ZERO,
                    cut: false,
                });
            }
            let a = answer(&gw, client, &req::tools(client, "m", stream)).await;
            assert_eq!(a.finish, want_finish, "stream: {stream}");
            assert_eq!(a.tool_calls, want_call, "stream: {stream}");
        }
        mock.push(BedrockReply::Converse(converse_text(
            "18°C and sunny in Paris.",
            "end_turn",
            usage(60, 9, 0, 0),
        )));
        let a = answer(
            &gw,
            client,
            &req::tool_result(client, "m", "tooluse_Paris01"),
        )
        .await;
        assert_eq!(a.text, "18°C and sunny in Paris.");
    }
    no_rejections(&mock);
    let got = mock.received();
    assert_eq!(got.len(), 6);
    for r in &got {
        assert!(
            r.header("x-amz-security-token").is_none(),
            "no token configured"
        );
        let spec = &r.json()["toolConfig"]["tools"][0]["toolSpec"];
        assert_eq!(spec["name"], "get_weather");
        assert_eq!(spec["inputSchema"]["json"]["required"], json!(["city"]));
    }
    for r in [&got[2], &got[5]] {
        let msgs = r.json()["messages"].clone();
        assert_eq!(
            msgs[1]["content"][0]["toolUse"],
            json!({"toolUseId": "tooluse_Paris01", "name": "get_weather", "input": {"city": "Paris"}}),
            "{msgs}"
        );
        assert_eq!(
            msgs[2]["content"][0]["toolResult"]["toolUseId"], "tooluse_Paris01",
            "{msgs}"
        );
        assert_eq!(
            msgs[2]["content"][0]["toolResult"]["content"],
            json!([{"text": "18°C and sunny"}]),
            "{msgs}"
        );
    }
}

#[tokio::test]
async fn throttling_fails_over_and_validation_errors_reach_the_client() {
    let (mock, spare, gw) = standard(BedrockReply::Error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
    ))
    .await;
    for client in CLIENTS {
        let a = answer(&gw, client, &req::text(client, "ha", false)).await;
        assert_eq!(a.text, "from spare");
    }
    assert_eq!(spare.hits(), 2);
    // ModelNotReadyException is a 429 in botocore's model: also failed over.
    mock.push(BedrockReply::Error(
        429,
        "ModelNotReadyException",
        "Model is not ready for inference.",
    ));
    let a = answer(&gw, Client::OpenAi, &req::text(Client::OpenAi, "ha", false)).await;
    assert_eq!(a.text, "from spare");
    // A ValidationException is the client's fault: no failover, AWS's message and type.
    for client in CLIENTS {
        mock.push(BedrockReply::Error(
            400,
            "ValidationException",
            "The model returned the following errors: messages: roles must alternate",
        ));
        let (status, text) = ask(&gw, client, &req::text(client, "ha", false)).await;
        assert_eq!(status, 400, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let message = match client {
            Client::OpenAi => {
                assert_eq!(v["error"]["code"], "ValidationException", "{v}");
                assert_eq!(v["error"]["type"], "invalid_request_error");
                &v["error"]["message"]
            }
            Client::Anthropic => {
                assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
                &v["error"]["message"]
            }
        };
        assert!(
            message.as_str().unwrap().contains("roles must alternate"),
            "{v}"
        );
    }
    assert_eq!(spare.hits(), 3, "validation errors are not failed over");
    no_rejections(&mock);
}

#[tokio::test]
async fn a_mid_stream_exception_ends_the_clients_stream_loudly() {
    let mut frames = text_frames(&["Partial", " answer"], usage(10, 2, 0, 0));
    frames.truncate(3);
    frames.push(frame("exception", "modelStreamErrorException", &json!({
        "message": "Model stream error", "originalStatusCode": 500, "originalMessage": "upstream model crashed"
    })));
    frames.push(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "never shown"}}),
    ));
    let (mock, _spare, gw) = standard(BedrockReply::Stream {
        frames,
        gap: Duration::ZERO,
        cut: false,
    })
    .await;
    for client in CLIENTS {
        let (status, text) = ask(&gw, client, &req::text(client, "m", true)).await;
        assert_eq!(status, 200);
        assert!(
            text.contains("Partial") && text.contains(" answer"),
            "{text}"
        );
        assert!(text.contains("upstream model crashed"), "{text}");
        if client == Client::OpenAi {
            assert!(
                text.contains(r#""code":"modelStreamErrorException""#),
                "{text}"
            );
        }
        assert!(
            !text.contains("never shown")
                && !text.contains("[DONE]")
                && !text.contains("message_stop"),
            "{text}"
        );
        if client == Client::Anthropic {
            assert!(text.contains("event: error"), "{text}");
        }
    }
    no_rejections(&mock);
}

#[tokio::test]
async fn no_credential_reaches_logs_metrics_config_or_clients() {
    // The gateway's secret is wrong: the mock (like AWS) answers 403 InvalidSignatureException.
    let mock = BedrockMock::start(
        BedrockReply::Converse(converse_text("ok", "end_turn", usage(1, 1, 0, 0))),
        Some(SESSION_TOKEN),
    )
    .await;
    let spare = spare().await;
    let wrong = "wrongSecretKeyEXAMPLE/0123456789abcdefghijklm";
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", wrong),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
    ];
    let gw = gateway(&mock, &spare, None, &env);
    let mut outputs = Vec::new();
    for client in CLIENTS {
        for stream in [false, true] {
            let (status, text) = ask(&gw, client, &req::text(client, "m", stream)).await;
            assert_eq!(status, 403, "{text}");
            outputs.push(text);
        }
    }
    assert_eq!(mock.rejected().len(), 4);
    let admin = reqwest::get(format!("{}/config", gw.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        admin.contains("AWS_SECRET_ACCESS_KEY"),
        "/config names the variable: {admin}"
    );
    outputs.extend([gw.stdout(), gw.stderr(), gw.metrics(), admin]);
    for out in &outputs {
        for secret in [wrong, SESSION_TOKEN] {
            assert!(!out.contains(secret), "credential in output:\n{out}");
        }
    }
}
