//! A Bedrock Runtime mock: `POST /model/{modelId}/converse` (JSON) and `/converse-stream`
//! (`application/vnd.amazon.eventstream` frames with real prelude and message CRC32s), AWS's
//! restJson1 errors (`x-amzn-ErrorType` header, `{"message"}` body), and SigV4 checked on
//! every request with the independent verifier in [`crate::sigv4`]: a bad signature gets
//! AWS's 403 `InvalidSignatureException` instead of the scripted reply. Shapes follow
//! botocore's bedrock-runtime model (the wire crate's tests check the same events against it).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::mock::read_request;
use crate::sigv4::{self, Expected};
use crate::Received;

/// The test credentials the gateway is given and the mock expects.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret access key (AWS's documentation example).
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// A session token, as temporary credentials carry.
pub const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-7f3a9c";
/// The region configured and signed for.
pub const REGION: &str = "us-west-2";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum BedrockReply {
    /// 200 with a ConverseResponse.
    Converse(Value),
    /// 200 with these event-stream frames, each written as its own chunk after `gap`;
    /// `cut` drops the connection after them.
    Stream {
        /// Encoded frames.
        frames: Vec<Vec<u8>>,
        /// Pause before each frame.
        gap: Duration,
        /// Close without the final chunk.
        cut: bool,
    },
    /// An AWS error: status, type (`x-amzn-ErrorType`), message.
    Error(u16, &'static str, &'static str),
}

type Script = Arc<Mutex<(VecDeque<BedrockReply>, BedrockReply)>>;

/// A running mock. Dropping it stops accepting.
pub struct BedrockMock {
    addr: SocketAddr,
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
    rejected: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BedrockMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the mock checks signatures against.
#[derive(Debug, Clone)]
struct Creds {
    session_token: Option<String>,
}

impl BedrockMock {
    /// Starts on 127.0.0.1:0, expecting [`ACCESS_KEY_ID`] / [`SECRET_ACCESS_KEY`] in
    /// [`REGION`] (and `session_token`, when given), answering `default` unless a reply is
    /// queued.
    pub async fn start(default: BedrockReply, session_token: Option<&str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
        let addr = listener.local_addr().expect("addr");
        let script: Script = Arc::new(Mutex::new((VecDeque::new(), default)));
        let received = Arc::new(Mutex::new(Vec::new()));
        let rejected = Arc::new(Mutex::new(Vec::new()));
        let creds = Creds {
            session_token: session_token.map(str::to_owned),
        };
        let (s, r, x) = (script.clone(), received.clone(), rejected.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (s, r, x, c) = (s.clone(), r.clone(), x.clone(), creds.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, s, r, x, c).await;
                });
            }
        });
        BedrockMock {
            addr,
            script,
            received,
            rejected,
            task,
        }
    }

    /// Queues a reply used before the default.
    pub fn push(&self, reply: BedrockReply) {
        self.script.lock().expect("script").0.push_back(reply);
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("received").clone()
    }

    /// Why each refused request was refused (bad signature or path).
    pub fn rejected(&self) -> Vec<String> {
        self.rejected.lock().expect("rejected").clone()
    }
}

async fn serve(
    mut sock: TcpStream,
    script: Script,
    received: Arc<Mutex<Vec<Received>>>,
    rejected: Arc<Mutex<Vec<String>>>,
    creds: Creds,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        received.lock().expect("received").push(req.clone());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let want = Expected {
            access_key_id: ACCESS_KEY_ID,
            secret_access_key: SECRET_ACCESS_KEY,
            session_token: creds.session_token.as_deref(),
            region: REGION,
            service: "bedrock",
        };
        let checked = sigv4::verify(&req, &want, now).and_then(|()| check_path(&req));
        let reply = match checked {
            Err(why) => {
                rejected.lock().expect("rejected").push(why);
                BedrockReply::Error(
                    403,
                    "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided.",
                )
            }
            Ok(()) => {
                let mut s = script.lock().expect("script");
                s.0.pop_front().unwrap_or_else(|| s.1.clone())
            }
        };
        write_reply(&mut sock, reply).await?;
    }
    Ok(())
}

/// `/model/{label}/converse` or `/converse-stream`, the label one percent-encoded segment.
fn check_path(r: &Received) -> Result<(), String> {
    let rest = r
        .path
        .strip_prefix("/model/")
        .ok_or("path is not /model/…")?;
    let (label, op) = rest.split_once('/').ok_or("no operation in path")?;
    if label.is_empty() || label.contains(':') || !matches!(op, "converse" | "converse-stream") {
        return Err(format!("bad path {}", r.path));
    }
    if r.method != "POST" || r.header("content-type") != Some("application/json") {
        return Err("not a JSON POST".into());
    }
    Ok(())
}

async fn write_reply(sock: &mut TcpStream, reply: BedrockReply) -> std::io::Result<()> {
    let request_id = "x-amzn-requestid: 6a3c1d2e-0f4b-4c8e-9d7a-1b2c3d4e5f60\r\n";
    match reply {
        BedrockReply::Converse(v) => whole(sock, 200, &v, request_id).await,
        BedrockReply::Error(status, kind, message) => {
            let headers = format!("{request_id}x-amzn-errortype: {kind}:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n");
            whole(sock, status, &json!({ "message": message }), &headers).await
        }
        BedrockReply::Stream { frames, gap, cut } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\n{request_id}transfer-encoding: chunked\r\n\r\n");
            sock.write_all(head.as_bytes()).await?;
            for f in frames {
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
                let mut chunk = format!("{:x}\r\n", f.len()).into_bytes();
                chunk.extend_from_slice(&f);
                chunk.extend_from_slice(b"\r\n");
                sock.write_all(&chunk).await?;
            }
            if cut {
                return sock.shutdown().await;
            }
            sock.write_all(b"0\r\n\r\n").await
        }
    }
}

async fn whole(
    sock: &mut TcpStream,
    status: u16,
    body: &Value,
    headers: &str,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(body).expect("json");
    let head = format!(
        "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    sock.write_all(&out).await
}

/// One event-stream message: prelude (total length, headers length, CRC32 of both), string
/// headers (`:event-type` or `:exception-type`, `:content-type`, `:message-type`), the JSON
/// payload, and the CRC32 of everything before it.
pub fn frame(message_type: &str, kind: &str, payload: &Value) -> Vec<u8> {
    let kind_header = if message_type == "exception" {
        ":exception-type"
    } else {
        ":event-type"
    };
    let mut headers = Vec::new();
    for (name, value) in [
        (kind_header, kind),
        (":content-type", "application/json"),
        (":message-type", message_type),
    ] {
        headers.push(u8::try_from(name.len()).expect("short name"));
        headers.extend_from_slice(name.as_bytes());
        headers.push(7); // string
        headers.extend_from_slice(
            &u16::try_from(value.len())
                .expect("short value")
                .to_be_bytes(),
        );
        headers.extend_from_slice(value.as_bytes());
    }
    let payload = serde_json::to_vec(payload).expect("json");
    let total = 12 + headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).expect("small").to_be_bytes());
    out.extend_from_slice(&u32::try_from(headers.len()).expect("small").to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(&payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// An `event` message.
pub fn event(kind: &str, payload: Value) -> Vec<u8> {
    frame("event", kind, &payload)
}

/// usage for `metadata` / ConverseResponse.
pub fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Value {
    json!({
        "inputTokens": input,
        "outputTokens": output,
        "totalTokens": input + output + cache_read + cache_write,
        "cacheReadInputTokens": cache_read,
        "cacheWriteInputTokens": cache_write,
    })
}

/// A ConverseResponse with one text block.
pub fn converse_text(text: &str, stop: &str, usage: Value) -> Value {
    json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": text }] } },
        "stopReason": stop,
        "usage": usage,
        "metrics": { "latencyMs": 321 },
    })
}

/// A ConverseResponse calling `get_weather` for Paris.
pub fn converse_tool_call() -> Value {
    json!({
        "output": { "message": { "role": "assistant", "content": [
            { "text": "Let me look that up." },
            { "toolUse": { "toolUseId": "tooluse_Paris01", "name": "get_weather", "input": { "city": "Paris" } } }
        ] } },
        "stopReason": "tool_use",
        "usage": usage(40, 18, 0, 0),
        "metrics": { "latencyMs": 512 },
    })
}

/// The events of a streamed text answer, in ConverseStream's order.
pub fn text_frames(pieces: &[&str], usage: Value) -> Vec<Vec<u8>> {
    let mut f = vec![event("messageStart", json!({ "role": "assistant" }))];
    for p in pieces {
        f.push(event(
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "text": p } }),
        ));
    }
    f.push(event("contentBlockStop", json!({ "contentBlockIndex": 0 })));
    f.push(event("messageStop", json!({ "stopReason": "end_turn" })));
    f.push(event(
        "metadata",
        json!({ "usage": usage, "metrics": { "latencyMs": 210 } }),
    ));
    f
}

/// The events of a streamed `get_weather` call (arguments in two fragments).
pub fn tool_frames() -> Vec<Vec<u8>> {
    vec![
        event("messageStart", json!({ "role": "assistant" })),
        event(
            "contentBlockStart",
            json!({ "contentBlockIndex": 0, "start": { "toolUse": { "toolUseId": "tooluse_Paris01", "name": "get_weather" } } }),
        ),
        event(
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "toolUse": { "input": "{\"city\": " } } }),
        ),
        event(
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "toolUse": { "input": "\"Paris\"}" } } }),
        ),
        event("contentBlockStop", json!({ "contentBlockIndex": 0 })),
        event("messageStop", json!({ "stopReason": "tool_use" })),
        event(
            "metadata",
            json!({ "usage": usage(40, 18, 0, 0), "metrics": { "latencyMs": 300 } }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_the_aws_sdk_codec() {
        // The mock's own encoder against the AWS SDK's (via the wire crate): same bytes, so
        // both CRCs and the header layout agree with AWS's implementation.
        let payload = json!({ "contentBlockIndex": 0, "delta": { "text": "hi" } });
        let ours = frame("event", "contentBlockDelta", &payload);
        let sdk = switchyard_wire::bedrock::encode_frame(
            "event",
            "contentBlockDelta",
            &serde_json::to_vec(&payload).unwrap_or_default(),
        );
        assert_eq!(ours, sdk);
    }
}
