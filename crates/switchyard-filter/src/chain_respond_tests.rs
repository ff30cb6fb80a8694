//! The local-reply path of the filter API: a filter that answers with `Flow::Respond` stops
//! the chain, filters after it never run, and only the filters that ran see the reply's head
//! and body, in reverse order.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_config::{Config, MapEnv};
use switchyard_wire::{ChatRequest, Dialect};

use crate::{
    Chain, Endpoint, Filter, Flow, GatewayError, LocalReply, NamedFilter, RequestCtx, ResponseHead,
    Step,
};

type Log = Arc<Mutex<Vec<String>>>;

/// Records every hook it sees; `answers` makes it reply locally from `on_request`.
struct Probe {
    name: &'static str,
    answers: bool,
    log: Log,
}

impl Probe {
    fn note(&self, hook: &str) {
        self.log
            .lock()
            .expect("log")
            .push(format!("{}:{hook}", self.name));
    }
}

#[async_trait::async_trait]
impl Filter for Probe {
    fn on_request<'a>(&'a self, _cx: &'a mut RequestCtx, _req: &'a mut ChatRequest) -> Step<'a> {
        self.note("request");
        if !self.answers {
            return Step::Done(Ok(Flow::Continue));
        }
        Step::Done(Ok(Flow::Respond(LocalReply {
            status: 200,
            headers: vec![(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from_static(br#"{"cached":true}"#),
        })))
    }

    fn on_response_head(
        &self,
        _cx: &mut RequestCtx,
        head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        self.note(&format!("head {}", head.status));
        head.headers.push((
            HeaderName::from_static("x-seen-by"),
            HeaderValue::from_static(self.name),
        ));
        Ok(())
    }

    fn on_response_chunk(
        &self,
        _cx: &mut RequestCtx,
        chunk: &mut Bytes,
        end: bool,
    ) -> Result<(), GatewayError> {
        self.note(&format!(
            "chunk {} end={end}",
            String::from_utf8_lossy(chunk)
        ));
        Ok(())
    }
}

fn chain(log: &Log, answering: &'static str) -> Chain {
    let probe = |name| NamedFilter {
        name,
        filter: Arc::new(Probe {
            name,
            answers: name == answering,
            log: log.clone(),
        }),
    };
    Chain::new(vec![probe("first"), probe("cache"), probe("last")])
}

fn context() -> RequestCtx {
    let yaml = "version: 1\nproviders:\n  - { id: p, type: openai_compatible, base_url: \"http://127.0.0.1:1/v1\" }\nmodels:\n  - { id: m, provider: p }\n";
    let config = Config::from_yaml_str(yaml, &MapEnv::new()).expect("config");
    RequestCtx::new(
        "r".into(),
        Arc::new(config),
        Endpoint::ChatCompletions,
        HeaderMap::new(),
    )
}

#[tokio::test]
async fn a_local_reply_stops_the_chain_and_only_filters_that_ran_see_it_in_reverse() {
    let log = Log::default();
    let chain = chain(&log, "cache");
    let mut cx = context();
    let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
    let mut req = ChatRequest::parse(Dialect::OpenAi, body).expect("request");

    let Flow::Respond(reply) = chain.on_request(&mut cx, &mut req).await.expect("flow") else {
        panic!("the cache filter answers locally");
    };
    assert_eq!(reply.status, 200);
    assert_eq!(
        cx.ran, 2,
        "the filter after the one that answered never ran"
    );

    // What the data path does with a local reply: head, then the whole body, through the chain.
    let mut head = ResponseHead {
        status: reply.status,
        headers: reply.headers,
    };
    chain.on_response_head(&mut cx, &mut head).expect("head");
    let mut body = reply.body;
    chain
        .on_response_chunk(&mut cx, &mut body, true)
        .expect("chunk");

    let seen: Vec<_> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "x-seen-by")
        .map(|(_, v)| v.to_str().expect("ascii"))
        .collect();
    assert_eq!(seen, ["cache", "first"]);
    assert_eq!(body, Bytes::from_static(br#"{"cached":true}"#));
    assert_eq!(
        *log.lock().expect("log"),
        [
            "first:request",
            "cache:request",
            "cache:head 200",
            "first:head 200",
            r#"cache:chunk {"cached":true} end=true"#,
            r#"first:chunk {"cached":true} end=true"#,
        ]
    );
}

#[tokio::test]
async fn without_a_local_reply_every_filter_runs() {
    let log = Log::default();
    let chain = chain(&log, "none");
    let mut cx = context();
    let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
    let mut req = ChatRequest::parse(Dialect::OpenAi, body).expect("request");
    assert!(matches!(
        chain.on_request(&mut cx, &mut req).await.expect("flow"),
        Flow::Continue
    ));
    assert_eq!(cx.ran, 3);
}
