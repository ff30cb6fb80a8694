//! Per-request state shared by the filters and the data path.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_config::Config;
use switchyard_wire::{Dialect, Usage};

use crate::NameValues;

/// The API the client called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    ChatCompletions,
    /// `POST /v1/messages`
    Messages,
    /// `POST /v1/embeddings`
    Embeddings,
    /// `POST /v1/responses` (OpenAI Responses API)
    Responses,
    /// `POST /v1/messages/count_tokens` (Anthropic)
    CountTokens,
    /// `GET /v1/models`
    Models,
    /// Any other method and path (answered 404); keeps the metric label set bounded.
    Unknown,
}

impl Endpoint {
    /// Short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Messages => "messages",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Responses => "responses",
            Endpoint::CountTokens => "count_tokens",
            Endpoint::Models => "models",
            Endpoint::Unknown => "unknown",
        }
    }
}

/// The route a request resolved to: its name and targets in the order to try them.
#[derive(Debug, Clone, Default)]
pub struct RoutePlan {
    /// Route name (or the model id / `provider/model` the client named); shared with the
    /// route filter's table, not copied per request.
    pub name: Arc<str>,
    /// Indices into `Config::models`, in the order to try.
    pub targets: Vec<usize>,
    /// Refuse unmappable parameters instead of dropping them.
    pub strict_params: bool,
    /// Targets an `on_plan` hook removed before any attempt (index into `Config::models`,
    /// reason); the data path logs and counts them as skips.
    pub pruned: Vec<(usize, &'static str)>,
    /// How many entries of `targets` the data path has taken so far (sent or skipped);
    /// `targets[tried..]` are still to come.
    pub tried: usize,
}

/// Facts about the attempt that answered (or the last one tried).
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Index into `Config::models`.
    pub model: Option<usize>,
    /// Upstream requests made (skips excluded).
    pub attempts: u32,
    /// Time from request start to the first body byte sent to the client.
    pub ttft: Option<Duration>,
    /// Time spent waiting on upstreams (connect to last byte), for the overhead figure.
    pub upstream_time: Duration,
}

/// How many filter states a request's [`Slots`] make room for when the first arrives.
const SLOTS: usize = 8;

/// Typed per-filter state, in the spirit of pingora's `HttpModuleCtx::get::<T>()`: a filter
/// keeps what it must remember between hooks here without the context naming its type.
#[derive(Default)]
pub struct Slots(Vec<(TypeId, Box<dyn Any + Send + Sync>)>);

impl Slots {
    /// Stores `value`, replacing any earlier value of the same type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        if let Some(slot) = self.0.iter_mut().find(|(t, _)| *t == id) {
            slot.1 = Box::new(value);
        } else {
            if self.0.capacity() == 0 {
                // Room for the default chain's state at once, instead of growing 4 -> 8.
                self.0.reserve_exact(SLOTS);
            }
            self.0.push((id, Box::new(value)));
        }
    }
    /// The stored value of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_ref())
    }
    /// The stored value of type `T`, mutably.
    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.0
            .iter_mut()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_mut())
    }
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slots({})", self.0.len())
    }
}

/// Everything the filters know about one request. Core facts are named fields; a filter's
/// private state goes in `slots`.
#[derive(Debug)]
pub struct RequestCtx {
    /// Unique id, echoed as `x-request-id`.
    pub request_id: String,
    /// When the request head arrived.
    pub started: Instant,
    /// The config this request runs on, taken once at its start.
    pub config: Arc<Config>,
    /// Which API the client called.
    pub endpoint: Endpoint,
    /// The client's wire format.
    pub client_dialect: Dialect,
    /// The client's request headers.
    pub headers: HeaderMap,
    /// The gateway key's id, once `auth` accepted it (shared with the config's key: no copy
    /// per request).
    pub key_id: Option<Arc<str>>,
    /// Set by `route`.
    pub route: Option<RoutePlan>,
    /// What answered.
    pub answer: Answer,
    /// Usage of the answer, once known.
    pub usage: Option<Usage>,
    /// Whether the response is a stream.
    pub streaming: bool,
    /// Set when an upstream stream failed or ended early after bytes reached the client; the
    /// client got an error event in its format instead of a clean end.
    pub stream_error: Option<String>,
    /// Parameters dropped because the target can't take them.
    pub dropped_params: Vec<String>,
    /// Extra headers for the client's response.
    pub response_headers: Vec<(HeaderName, HeaderValue)>,
    /// Per-filter state.
    pub slots: Slots,
    /// The config's names as header values, when the data path has them prepared (once per
    /// config); without them an answer builds its name headers itself.
    pub names: Option<Arc<NameValues>>,
    /// How many filters' `on_request` ran; maintained by the chain runner.
    pub(crate) ran: usize,
}

impl RequestCtx {
    /// A context for a request that just arrived.
    pub fn new(
        request_id: String,
        config: Arc<Config>,
        endpoint: Endpoint,
        headers: HeaderMap,
    ) -> Self {
        let client_dialect = match endpoint {
            Endpoint::Messages | Endpoint::CountTokens => Dialect::Anthropic,
            Endpoint::ChatCompletions
            | Endpoint::Embeddings
            | Endpoint::Models
            | Endpoint::Unknown => Dialect::OpenAi,
            Endpoint::Responses => Dialect::OpenAiResponses,
        };
        Self {
            request_id,
            started: Instant::now(),
            config,
            endpoint,
            client_dialect,
            headers,
            key_id: None,
            route: None,
            answer: Answer::default(),
            usage: None,
            streaming: false,
            stream_error: None,
            dropped_params: Vec::new(),
            response_headers: Vec::new(),
            slots: Slots::default(),
            names: None,
            ran: 0,
        }
    }

    /// A request header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One upstream attempt: filled by the `on_upstream_request` hooks (translation and provider
/// auth), sent by the data path.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    /// The target: index into `Config::models`.
    pub model: usize,
    /// Path and query appended to the provider's base URL path, e.g. `/chat/completions`
    /// (most are fixed text, so they are borrowed, not built per request).
    pub path: Cow<'static, str>,
    /// Headers to send (besides host, content-length and content-type).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body to send.
    pub body: Bytes,
    /// Whether the upstream will answer with an event stream.
    pub stream: bool,
}

impl UpstreamRequest {
    /// An empty attempt at `model`.
    pub fn new(model: usize) -> Self {
        Self {
            model,
            path: Cow::Borrowed(""),
            headers: Vec::new(),
            body: Bytes::new(),
            stream: false,
        }
    }
}

/// The response head on its way to the client.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Headers (content-type and the gateway's own `x-*` headers are set by the data path).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// A reply produced by the gateway itself instead of an upstream.
#[derive(Debug, Clone)]
pub struct LocalReply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The whole body.
    pub body: Bytes,
}
