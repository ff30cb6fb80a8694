//! What the benches share: the gateway config they start from and its chain, one request
//! driven through a filter chain as the data path drives it, and the peers harness's request
//! and reply bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use switchyard_config::{Config, MapEnv};
use switchyard_filter::{
    AttemptResult, Chain, Endpoint, Outcome, RequestCtx, ResponseHead, UpstreamRequest,
};
use switchyard_wire::{ChatRequest, Dialect};

/// The client key of the benches' configs (`auth.keys[0]`, read from `CLIENT_KEY`).
pub const CLIENT_KEY: &str = "sk-bench-client-0123456789";

/// One OpenAI provider and one priced model behind a keyed gateway, usage log off; a bench
/// appends its `filters:`, `telemetry:` or other sections.
pub const GATEWAY_YAML: &str = r#"version: 1
server: { usage_log: off }
auth:
  keys:
    - id: bench
      key_env: CLIENT_KEY
providers:
  - id: mock
    type: openai
    base_url: http://127.0.0.1:18080/v1
    api_key_env: PROVIDER_KEY
models:
  - id: gpt-4o-mini
    provider: mock
    pricing: { input_per_mtok: 0.15, output_per_mtok: 0.60 }
"#;

/// The variables the benches' configs read (`CLIENT_KEY`, `PROVIDER_KEY`), plus `vars`.
pub fn bench_env(vars: &[(&str, &str)]) -> MapEnv {
    let mut env = MapEnv::new()
        .with_var("CLIENT_KEY", CLIENT_KEY)
        .with_var("PROVIDER_KEY", "sk-upstream");
    for (k, v) in vars {
        env = env.with_var(k, v);
    }
    env
}

/// `config`'s chain, from a registry of every built-in filter (not yet activated).
pub fn chain(config: &Arc<Config>) -> Chain {
    let metrics = prometheus::Registry::new();
    let registry = switchyard_filters::register_all(&metrics).expect("registry");
    registry.build_chain(config).expect("chain")
}

/// `yaml` checked with [`bench_env`]`(vars)`, and its chain.
pub fn chain_for(yaml: &str, vars: &[(&str, &str)]) -> (Arc<Config>, Chain) {
    let config = Arc::new(Config::from_yaml_str(yaml, &bench_env(vars)).expect("config"));
    let chain = chain(&config);
    (config, chain)
}

/// A client's headers: its key, and a JSON body.
pub fn client_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    let key = format!("Bearer {CLIENT_KEY}");
    h.insert("authorization", key.parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    h
}

/// One whole chat request through `chain` with the client's `headers`: every hook in the
/// data path's order, the answer `reply` chunk by chunk. Returns the client's body length.
pub fn run(
    rt: &tokio::runtime::Runtime,
    config: &Arc<Config>,
    chain: &Chain,
    headers: HeaderMap,
    body: &[u8],
    reply: &[Bytes],
) -> usize {
    let mut cx = RequestCtx::new(
        "bench".into(),
        config.clone(),
        Endpoint::ChatCompletions,
        headers,
    );
    let mut req = ChatRequest::parse(Dialect::OpenAi, body).unwrap();
    rt.block_on(chain.on_request(&mut cx, &mut req)).unwrap();
    chain.on_plan(&mut cx, &req).unwrap();
    let target = cx.route.as_ref().unwrap().targets[0];
    let mut up = UpstreamRequest::new(target);
    chain.on_upstream_request(&mut cx, &req, &mut up).unwrap();
    black_box((&up.body, &up.headers));
    let mut head = ResponseHead {
        status: 200,
        headers: Vec::new(),
    };
    chain.on_response_head(&mut cx, &mut head).unwrap();
    let mut out = 0;
    for (i, piece) in reply.iter().enumerate() {
        let mut chunk = piece.clone();
        chain
            .on_response_chunk(&mut cx, &mut chunk, i + 1 == reply.len())
            .unwrap();
        out += chunk.len();
    }
    chain.on_attempt_end(&mut cx, &up, &AttemptResult::Status(200));
    chain.on_complete(
        &cx,
        &Outcome {
            status: 200,
            error_kind: None,
            truncated: false,
        },
    );
    out
}

/// The peers harness's load: its chat request as JSON and streamed, and the mock upstream's
/// answers to it (a whole JSON body, and a 22-event stream split event by event).
pub struct PeerLoad {
    /// The request, parsed (for variants).
    pub request: serde_json::Value,
    /// The request's bytes (about 1 KB).
    pub body: Vec<u8>,
    /// The same with `"stream": true`.
    pub stream_body: Vec<u8>,
    /// The JSON answer, in one chunk.
    pub json_reply: Vec<Bytes>,
    /// The streamed answer, one chunk per event.
    pub sse_reply: Vec<Bytes>,
}

impl PeerLoad {
    /// The two requests every chain bench times, by name: `json_1kb` and
    /// `stream_1kb_22_events`, each with its body and the upstream's answer.
    pub fn cases(&self) -> [(&'static str, &[u8], &[Bytes]); 2] {
        [
            ("json_1kb", &self.body, &self.json_reply),
            ("stream_1kb_22_events", &self.stream_body, &self.sse_reply),
        ]
    }
}

/// The peers harness's request and answers.
pub fn peer_load() -> PeerLoad {
    let mut request: serde_json::Value =
        serde_json::from_slice(&peers_file("wrk/request.json")).unwrap();
    let sse = String::from_utf8(peers_file("mock/bodies/chat.sse")).unwrap();
    let body = serde_json::to_vec(&request).unwrap();
    request["stream"] = serde_json::json!(true);
    let stream_body = serde_json::to_vec(&request).unwrap();
    request["stream"] = serde_json::json!(false);
    PeerLoad {
        request,
        body,
        stream_body,
        json_reply: vec![Bytes::from(peers_file("mock/bodies/chat.json"))],
        sse_reply: sse
            .split_inclusive("\n\n")
            .map(|e| Bytes::from(e.to_string()))
            .collect(),
    }
}

/// A file of the peers harness (`../shared/peers/NAME`).
pub fn peers_file(name: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/peers/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{path}: run from the project checkout beside shared/"))
}
