//! What the benches share: one request driven through a filter chain as the data path drives
//! it, and the peers harness's request and reply bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use switchyard_config::Config;
use switchyard_filter::{
    AttemptResult, Chain, Endpoint, Outcome, RequestCtx, ResponseHead, UpstreamRequest,
};
use switchyard_wire::{ChatRequest, Dialect};

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

/// A file of the peers harness (`../shared/peers/NAME`).
pub fn peers_file(name: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/peers/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{path}: run from the project checkout beside shared/"))
}
