//! `translate`: turns the client's request into the target provider's (body, path, auth
//! headers) on every attempt, and the provider's answer back into the client's dialect —
//! whole JSON bodies at the end, streams event by event as they arrive.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;
use switchyard_config::{Config, MaxTokensField, Provider, ProviderKind, Secret};
use switchyard_filter::{
    AttemptFlow, BuildEnv, BuildError, Endpoint, Filter, FilterFactory, Flow, GatewayError,
    RequestCtx, ResponseHead, Step, UpstreamRequest,
};
use switchyard_wire::responses::Echo;
use switchyard_wire::{encode_request, ChatRequest, Dialect, EncodeTarget, TranslateError};

use crate::vertex_auth::{Prefetched, VertexTokens};

mod embeddings;
mod reply;
mod upstream;

use embeddings::embeddings_request;
use reply::State;
use upstream::{
    attempt_headers, chat_path, forward_anthropic_beta, header, prepare_headers, Prepared,
};
pub use upstream::{dialect_of, upstream_dialect};

/// Anthropic's API version header value when the provider sets none.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Builds [`TranslateFilter`].
#[derive(Debug, Default)]
pub struct TranslateFactory;

/// The built filter.
pub struct TranslateFilter {
    config: Arc<Config>,
    /// Access tokens of the config's Vertex providers (rebuilt, key files re-read, per load).
    vertex: VertexTokens,
    /// SigV4 identities of the bedrock providers.
    aws: crate::sigv4::Signers,
    /// Each provider's own headers, indexed like `config.providers`.
    headers: Vec<Prepared>,
}

impl FilterFactory for TranslateFactory {
    fn name(&self) -> &'static str {
        "translate"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        upstream::check_paths(env.config)?;
        Ok(Arc::new(TranslateFilter {
            config: env.config.clone(),
            vertex: VertexTokens::for_config(env.config)?,
            aws: crate::sigv4::Signers::new(env.config),
            headers: env.config.providers.iter().map(prepare_headers).collect(),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["route"]
    }

    fn required(&self) -> bool {
        true
    }
}

struct Attempt {
    /// The provider key, to scrub from upstream error bodies that echo it.
    key: Option<Secret>,
    upstream: Dialect,
    /// The target (index into `Config::models`): its upstream name is what Gemini streams
    /// and replies that name no model report.
    model: usize,
    stream: bool,
    wants_usage: bool,
    /// For embeddings: the upstream model name (Gemini replies don't carry it).
    embeddings: Option<String>,
    /// For a Responses client: the request settings its `response` objects repeat.
    echo: Option<Echo>,
    /// A `count_tokens` answer, passed through.
    raw: bool,
    state: Option<State>,
}

impl TranslateFilter {
    /// The rest of `on_request`, once any access tokens are in: a `count_tokens` request may
    /// be answered here.
    fn after_tokens(&self, cx: &mut RequestCtx, req: &ChatRequest) -> Flow {
        if cx.endpoint == Endpoint::CountTokens {
            return self.count_tokens_locally(cx, req);
        }
        Flow::Continue
    }

    /// `count_tokens` for a route whose first target is not Anthropic: counted here with the
    /// context-window counter for that model, answered in Anthropic's shape. An Anthropic
    /// first target counts it itself (the request goes on).
    fn count_tokens_locally(&self, cx: &mut RequestCtx, req: &ChatRequest) -> Flow {
        let first = cx
            .route
            .as_ref()
            .and_then(|r| r.targets.first())
            .and_then(|&m| self.config.models.get(m).map(|model| (m, model)));
        let Some((index, model)) = first else {
            return Flow::Continue;
        };
        if self.config.providers[model.provider].kind == ProviderKind::Anthropic {
            return Flow::Continue;
        }
        let tokenizer = crate::tokens::tokenizer_for(&model.upstream_model);
        let count = crate::tokens::count_cached(cx, req, tokenizer);
        cx.answer.model = Some(index);
        let body = format!("{{\"input_tokens\":{count}}}");
        Flow::Respond(switchyard_filter::LocalReply {
            status: 200,
            headers: vec![(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from(body),
        })
    }
}

#[async_trait::async_trait]
impl Filter for TranslateFilter {
    /// Waits only when the config has Vertex providers: for their access tokens.
    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, req: &'a mut ChatRequest) -> Step<'a> {
        cx.streaming = req.stream;
        if self.vertex.is_empty() || cx.route.is_none() {
            return Step::Done(Ok(self.after_tokens(cx, req)));
        }
        Step::Wait(Box::pin(async move {
            if let Some(plan) = &cx.route {
                let tokens = self.vertex.prefetch(&self.config, &plan.targets).await;
                cx.slots.insert(tokens);
            }
            Ok(self.after_tokens(cx, req))
        }))
    }

    fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        let model = self
            .config
            .models
            .get(up.model)
            .ok_or_else(|| GatewayError::Internal("target model index out of range".into()))?;
        let provider = &self.config.providers[model.provider];
        let dialect = upstream_dialect(provider, &model.upstream_model, cx.client_dialect);
        let token = match provider.kind {
            ProviderKind::Vertex => match cx
                .slots
                .get::<Prefetched>()
                .and_then(|t| t.get(model.provider))
            {
                Some(Ok(token)) => Some(token.clone()),
                Some(Err(e)) => {
                    tracing::warn!(request_id = %cx.request_id, provider = %provider.id, error = %e, "skipping a vertex target: no access token");
                    return Ok(AttemptFlow::Skip("no vertex access token"));
                }
                None => return Ok(AttemptFlow::Skip("no vertex access token")),
            },
            _ => None,
        };
        let secret = token.clone().or_else(|| provider.api_key.clone());
        if cx.endpoint == Endpoint::CountTokens {
            if provider.kind != ProviderKind::Anthropic {
                return Ok(AttemptFlow::Skip(
                    "count_tokens is answered by the first target",
                ));
            }
            up.path = "/v1/messages/count_tokens".into();
            up.body = Bytes::from(switchyard_wire::rename_model(req, &model.upstream_model));
            attempt_headers(
                &self.headers[model.provider],
                token.as_ref(),
                &mut up.headers,
            )?;
            forward_anthropic_beta(cx, &mut up.headers)?;
            cx.slots.insert(Attempt {
                key: secret.clone(),
                upstream: dialect,
                model: up.model,
                stream: false,
                wants_usage: false,
                embeddings: None,
                echo: None,
                raw: true,
                state: None,
            });
            return Ok(AttemptFlow::Send);
        }
        if cx.endpoint == Endpoint::Embeddings {
            let (path, body) = embeddings_request(provider, &model.upstream_model, req)?;
            up.path = path.into();
            up.body = Bytes::from(body);
            attempt_headers(
                &self.headers[model.provider],
                token.as_ref(),
                &mut up.headers,
            )?;
            cx.slots.insert(Attempt {
                key: secret,
                upstream: dialect,
                model: up.model,
                stream: false,
                wants_usage: false,
                embeddings: Some(model.upstream_model.clone()),
                echo: None,
                raw: false,
                state: None,
            });
            return Ok(AttemptFlow::Send);
        }
        let strict = model.strict_params || cx.route.as_ref().is_some_and(|r| r.strict_params);
        let clamped;
        let mut lowered: Vec<&'static str> = Vec::new();
        let req = match (req.max_output_tokens, model.max_output_tokens) {
            (Some(asked), Some(cap)) if asked > cap => {
                let mut copy = req.clone();
                lowered = copy.clamp_max_output_tokens(cap);
                if strict {
                    let param = lowered.first().copied().unwrap_or("max_tokens");
                    return Err(GatewayError::InvalidRequest {
                        message: format!(
                            "`{param}` is {asked}, above the {cap}-token output limit of model `{}`",
                            model.id
                        ),
                        param: Some(param.to_owned()),
                    });
                }
                clamped = copy;
                &clamped
            }
            _ => req,
        };
        let encoded = encode_request(
            req,
            &EncodeTarget {
                dialect,
                upstream_model: &model.upstream_model,
                default_max_output_tokens: model.max_output_tokens,
                strict_params: strict,
                legacy_max_tokens: provider.max_tokens_field == MaxTokensField::MaxTokens,
                stream_usage: provider.stream_usage,
            },
        )?;
        let mut encoded = encoded;
        if dialect == Dialect::OpenAi && !provider.unsupported_params.is_empty() {
            drop_unsupported(provider, strict, &mut encoded)?;
        }
        up.path = chat_path(provider, &model.upstream_model, req.stream, dialect)?;
        up.body = if provider.kind == ProviderKind::Vertex && dialect == Dialect::Anthropic {
            Bytes::from(switchyard_wire::vertex::anthropic_body(&encoded.body)?)
        } else {
            Bytes::from(encoded.body)
        };
        up.stream = req.stream;
        attempt_headers(
            &self.headers[model.provider],
            token.as_ref(),
            &mut up.headers,
        )?;
        if cx.client_dialect == Dialect::Anthropic && dialect == Dialect::Anthropic {
            forward_anthropic_beta(cx, &mut up.headers)?;
        }
        if provider.kind == ProviderKind::Bedrock && provider.api_key.is_none() {
            if req.stream {
                up.headers
                    .push(header("accept", "application/vnd.amazon.eventstream")?);
            }
            self.aws
                .sign(model.provider, provider, up, std::time::SystemTime::now())?;
        }
        if !encoded.dropped_params.is_empty() {
            tracing::info!(
                request_id = %cx.request_id,
                model = %model.id,
                params = %encoded.dropped_params.join(", "),
                "parameters dropped: the target can't take them"
            );
        }
        cx.dropped_params = encoded.dropped_params;
        for name in lowered {
            if !cx.dropped_params.iter().any(|p| p == name) {
                cx.dropped_params.push(name.to_owned());
            }
        }
        cx.slots.insert(Attempt {
            key: secret,
            upstream: dialect,
            model: up.model,
            stream: req.stream,
            wants_usage: req.include_usage,
            embeddings: None,
            echo: (cx.client_dialect == Dialect::OpenAiResponses)
                .then(|| Echo::from_request(req.body())),
            raw: false,
            state: None,
        });
        Ok(AttemptFlow::Send)
    }

    fn on_response_head(
        &self,
        cx: &mut RequestCtx,
        head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        reply::on_head(cx, head)
    }

    fn on_response_chunk(
        &self,
        cx: &mut RequestCtx,
        chunk: &mut Bytes,
        end: bool,
    ) -> Result<(), GatewayError> {
        reply::on_chunk(cx, chunk, end)
    }
}

/// The upstream name of model `index` of `config`.
fn upstream_name(config: &Config, index: usize) -> &str {
    config
        .models
        .get(index)
        .map_or("", |m| m.upstream_model.as_str())
}

/// Seconds since the epoch, for the `created` field of replies built by translation.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Removes the top-level parameters `provider` refuses from an OpenAI body and names them in
/// `dropped_params`, or refuses the request under `strict_params`. The body is parsed only
/// when one of the names occurs in it.
fn drop_unsupported(
    provider: &Provider,
    strict: bool,
    encoded: &mut switchyard_wire::EncodedRequest,
) -> Result<(), GatewayError> {
    // A cheap scan first (no allocation); a name inside a string value only costs a parse.
    let mentioned = provider
        .unsupported_params
        .iter()
        .any(|p| memchr::memmem::find(&encoded.body, p.as_bytes()).is_some());
    if !mentioned {
        return Ok(());
    }
    let mut body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&encoded.body).map_err(|e| GatewayError::Internal(e.to_string()))?;
    for param in &provider.unsupported_params {
        if body.remove(param).is_some() {
            if strict {
                return Err(TranslateError::UnsupportedParam {
                    param: param.clone(),
                    target: provider.id.clone(),
                }
                .into());
            }
            encoded.dropped_params.push(param.clone());
        }
    }
    encoded.body = serde_json::to_vec(&body).map_err(|e| GatewayError::Internal(e.to_string()))?;
    Ok(())
}
