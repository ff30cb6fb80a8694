//! `translate`: turns the client's request into the target provider's (body, path, auth
//! headers) on every attempt, and the provider's answer back into the client's dialect —
//! whole JSON bodies at the end, streams event by event as they arrive.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use switchyard_config::{Config, MaxTokensField, Provider, ProviderKind, Secret};
use switchyard_filter::{
    AttemptFlow, BuildEnv, BuildError, Endpoint, Filter, FilterFactory, Flow, GatewayError,
    RequestCtx, ResponseHead, UpstreamRequest,
};
use switchyard_wire::responses::Echo;
use switchyard_wire::{
    decode_response_named, encode_request, translate_upstream_error, ChatRequest, Dialect,
    EncodeTarget, ErrorBody, StreamTranslator, TranslateError,
};

use crate::vertex_auth::{Prefetched, VertexTokens};

mod upstream;

use upstream::{chat_path, forward_anthropic_beta, header, provider_headers};
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
        crate::no_settings(self.name(), settings)?;
        upstream::check_paths(env.config)?;
        Ok(Arc::new(TranslateFilter {
            config: env.config.clone(),
            vertex: VertexTokens::for_config(env.config)?,
            aws: crate::sigv4::Signers::new(env.config),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["route"]
    }

    fn required(&self) -> bool {
        true
    }
}

/// Per-attempt translation state.
enum State {
    /// Passed through unchanged (Anthropic's `count_tokens` answer).
    Raw,
    /// A whole JSON body, translated at the end.
    Json { upstream: Dialect, buf: BytesMut },
    /// An event stream, translated event by event.
    Stream(Box<StreamTranslator>),
    /// An embeddings reply, checked (and for Gemini translated) at the end.
    Embeddings {
        upstream: Dialect,
        model: String,
        buf: BytesMut,
    },
    /// An upstream error body, translated at the end.
    Error {
        upstream: Dialect,
        status: u16,
        buf: BytesMut,
        /// Bedrock's `x-amzn-ErrorType` header.
        aws_type: Option<String>,
    },
}

struct Attempt {
    /// The provider key, to scrub from upstream error bodies that echo it.
    key: Option<Secret>,
    upstream: Dialect,
    /// The upstream model name, for Gemini streams whose events may not name one.
    model: String,
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
    fn finish_json(
        cx: &mut RequestCtx,
        upstream: Dialect,
        model: &str,
        echo: Option<&Echo>,
        buf: &[u8],
    ) -> Result<Bytes, GatewayError> {
        let decoded = match echo {
            Some(echo) => {
                switchyard_wire::responses::decode(upstream, buf, unix_now(), model, echo)?
            }
            None => decode_response_named(upstream, cx.client_dialect, buf, unix_now(), model)?,
        };
        cx.usage = decoded.usage.or(cx.usage);
        Ok(Bytes::from(decoded.body))
    }
}

impl TranslateFilter {
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
    async fn on_request(
        &self,
        cx: &mut RequestCtx,
        req: &mut ChatRequest,
    ) -> Result<Flow, GatewayError> {
        cx.streaming = req.stream;
        if !self.vertex.is_empty() {
            if let Some(plan) = &cx.route {
                let tokens = self.vertex.prefetch(&self.config, &plan.targets).await;
                cx.slots.insert(tokens);
            }
        }
        if cx.endpoint == Endpoint::CountTokens {
            return Ok(self.count_tokens_locally(cx, req));
        }
        Ok(Flow::Continue)
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
            up.path = "/v1/messages/count_tokens".to_owned();
            up.body = Bytes::from(switchyard_wire::rename_model(req, &model.upstream_model));
            provider_headers(provider, token.as_ref(), &mut up.headers)?;
            forward_anthropic_beta(cx, &mut up.headers)?;
            cx.slots.insert(Attempt {
                key: secret.clone(),
                upstream: dialect,
                model: model.upstream_model.clone(),
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
            up.path = path;
            up.body = Bytes::from(body);
            provider_headers(provider, token.as_ref(), &mut up.headers)?;
            cx.slots.insert(Attempt {
                key: secret,
                upstream: dialect,
                model: model.upstream_model.clone(),
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
        provider_headers(provider, token.as_ref(), &mut up.headers)?;
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
            model: model.upstream_model.clone(),
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
        let client = cx.client_dialect;
        let Some(attempt) = cx.slots.get_mut::<Attempt>() else {
            return Ok(());
        };
        let (state, content_type) = if !(200..300).contains(&head.status) {
            (
                State::Error {
                    upstream: attempt.upstream,
                    status: head.status,
                    buf: BytesMut::new(),
                    aws_type: (attempt.upstream == Dialect::Bedrock)
                        .then(|| aws_error_type(head))
                        .flatten(),
                },
                "application/json",
            )
        } else if attempt.raw {
            (State::Raw, "application/json")
        } else if let Some(model) = &attempt.embeddings {
            (
                State::Embeddings {
                    upstream: attempt.upstream,
                    model: model.clone(),
                    buf: BytesMut::new(),
                },
                "application/json",
            )
        } else if attempt.stream {
            (
                State::Stream(Box::new(
                    StreamTranslator::new(attempt.upstream, client, attempt.wants_usage)
                        .with_model(&attempt.model)
                        .with_created(unix_now())
                        .with_echo(attempt.echo.clone().unwrap_or_default()),
                )),
                "text/event-stream",
            )
        } else {
            (
                State::Json {
                    upstream: attempt.upstream,
                    buf: BytesMut::new(),
                },
                "application/json",
            )
        };
        attempt.state = Some(state);
        head.headers
            .retain(|(n, _)| n != http::header::CONTENT_TYPE && n != "x-amzn-errortype");
        head.headers.push((
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        ));
        if content_type == "text/event-stream" {
            head.headers.push((
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ));
        }
        Ok(())
    }

    fn on_response_chunk(
        &self,
        cx: &mut RequestCtx,
        chunk: &mut Bytes,
        end: bool,
    ) -> Result<(), GatewayError> {
        let client = cx.client_dialect;
        let Some(attempt) = cx.slots.get_mut::<Attempt>() else {
            return Ok(());
        };
        let key = attempt.key.clone();
        let echo = if end { attempt.echo.take() } else { None };
        // Only a whole body's last chunk needs the name (for Gemini replies without one).
        let model = if end {
            attempt.model.clone()
        } else {
            String::new()
        };
        let Some(state) = attempt.state.as_mut() else {
            return Ok(());
        };
        match state {
            State::Raw => {}
            State::Json { upstream, buf } => {
                buf.extend_from_slice(chunk);
                if end {
                    let (upstream, body) = (*upstream, std::mem::take(buf));
                    *chunk = Self::finish_json(cx, upstream, &model, echo.as_ref(), &body)?;
                } else {
                    *chunk = Bytes::new();
                }
            }
            State::Embeddings {
                upstream,
                model,
                buf,
            } => {
                buf.extend_from_slice(chunk);
                *chunk = if end {
                    let (body, usage) = embeddings_reply(*upstream, model, buf)?;
                    cx.usage = Some(usage);
                    body
                } else {
                    Bytes::new()
                };
            }
            State::Error {
                upstream,
                status,
                buf,
                aws_type,
            } => {
                buf.extend_from_slice(chunk);
                *chunk = if end {
                    let mut body = if *upstream == Dialect::Bedrock {
                        switchyard_wire::bedrock::error_to_client(
                            client,
                            *status,
                            aws_type.as_deref(),
                            buf,
                        )
                    } else {
                        translate_upstream_error(*upstream, client, *status, buf)
                    };
                    if let Some(key) = &key {
                        redact(&mut body, key.expose().as_bytes());
                    }
                    Bytes::from(body)
                } else {
                    Bytes::new()
                };
            }
            State::Stream(tr) => {
                let first = tr.events_seen() == 0;
                // Same-dialect events come back as they arrived, usually `chunk` itself.
                let pushed = tr.push_bytes(chunk)?;
                if first && tr.events_seen() > 0 {
                    check_first_event(&pushed)?;
                }
                *chunk = pushed;
                if end {
                    let mut tail = Vec::new();
                    let finished = tr.finish(&mut tail);
                    // With nothing held back the chunk stays as it is.
                    if finished.is_err() || !tail.is_empty() {
                        let mut out = Vec::with_capacity(chunk.len() + tail.len() + 256);
                        out.extend_from_slice(chunk);
                        out.extend_from_slice(&tail);
                        *chunk = Bytes::from(out);
                    }
                    if let Err(e) = finished {
                        let mut out = Vec::from(std::mem::take(chunk));
                        let message = format!("upstream stream ended early: {e}");
                        out.extend_from_slice(&tr.error_event(&ErrorBody {
                            status: 502,
                            kind: "server_error",
                            code: Some("upstream_stream_truncated"),
                            param: None,
                            message: &message,
                        }));
                        let usage = tr.usage();
                        cx.stream_error = Some(message);
                        cx.usage = usage.or(cx.usage);
                        *chunk = Bytes::from(out);
                        return Ok(());
                    }
                }
                if let Some(msg) = tr.upstream_error() {
                    let msg = msg.to_string();
                    let usage = tr.usage();
                    cx.stream_error.get_or_insert(msg);
                    cx.usage = usage.or(cx.usage);
                } else if let Some(u) = tr.usage() {
                    cx.usage = Some(u);
                }
            }
        }
        Ok(())
    }
}

/// Same-dialect streams pass events through unparsed, so the first one is checked here: a
/// malformed first event must fail over before anything reaches the client. Later events are
/// not parsed (that is the point of passing them through).
fn check_first_event(out: &[u8]) -> Result<(), GatewayError> {
    let Some(line) = out
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"data:"))
    else {
        return Ok(());
    };
    let data = line.trim_ascii();
    if data == b"[DONE]" || serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok() {
        return Ok(());
    }
    Err(GatewayError::UpstreamFailed(
        "the upstream's first stream event is not valid JSON".into(),
    ))
}

/// Bedrock's error type header (`x-amzn-ErrorType`), if the reply has one.
fn aws_error_type(head: &ResponseHead) -> Option<String> {
    head.headers
        .iter()
        .find(|(n, _)| n.as_str().eq_ignore_ascii_case("x-amzn-errortype"))
        .and_then(|(_, v)| v.to_str().ok())
        .map(str::to_owned)
}

/// Seconds since the epoch, for the `created` field of replies built by translation.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Path and body of an embeddings request for `provider`.
fn embeddings_request(
    provider: &Provider,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<(String, Vec<u8>), GatewayError> {
    use switchyard_wire::embeddings::encode_openai_embeddings;
    Ok(match provider.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => (
            "/embeddings".to_owned(),
            encode_openai_embeddings(req, upstream_model),
        ),
        ProviderKind::AzureOpenAi => (
            switchyard_wire::azure::embeddings_path(
                upstream_model,
                provider
                    .api_version
                    .as_deref()
                    .unwrap_or(switchyard_wire::azure::DEFAULT_API_VERSION),
            )?,
            encode_openai_embeddings(req, upstream_model),
        ),
        ProviderKind::Gemini => {
            let (path, body) =
                switchyard_wire::gemini::embeddings_request_from_openai(req.body(), upstream_model)?;
            (path, serde_json::to_vec(&body).map_err(|e| GatewayError::Internal(e.to_string()))?)
        }
        ProviderKind::Anthropic | ProviderKind::Vertex | ProviderKind::Bedrock => {
            return Err(GatewayError::InvalidRequest {
                message: format!(
                    "provider `{}` ({}) has no embeddings API here; route embeddings to an openai, azure_openai, openai_compatible or gemini model",
                    provider.id,
                    provider.kind.as_str()
                ),
                param: Some("model".to_owned()),
            })
        }
    })
}

/// The client's embeddings body and its usage.
fn embeddings_reply(
    upstream: Dialect,
    model: &str,
    buf: &[u8],
) -> Result<(Bytes, switchyard_wire::Usage), GatewayError> {
    if upstream == Dialect::Gemini {
        let (value, usage) = switchyard_wire::gemini::embeddings_response_to_openai(buf, model)?;
        let body = serde_json::to_vec(&value).map_err(|e| GatewayError::Internal(e.to_string()))?;
        return Ok((Bytes::from(body), usage));
    }
    let usage = switchyard_wire::embeddings::openai_embeddings_usage(buf)?;
    Ok((Bytes::copy_from_slice(buf), usage))
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

/// Replaces every occurrence of `secret` in `body` (providers echo keys in auth errors).
fn redact(body: &mut Vec<u8>, secret: &[u8]) {
    if secret.len() < 4 || memchr::memmem::find(body, secret).is_none() {
        return;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(i) = memchr::memmem::find(rest, secret) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(b"[redacted]");
        rest = &rest[i + secret.len()..];
    }
    out.extend_from_slice(rest);
    *body = out;
}

#[cfg(test)]
mod tests {
    use super::{check_first_event, redact};

    #[test]
    fn a_malformed_first_event_is_refused() {
        assert!(check_first_event(b"data: {\"id\":\"x\"}\n\n").is_ok());
        assert!(check_first_event(b"event: message_start\ndata: {}\n\n").is_ok());
        assert!(check_first_event(b"data: [DONE]\n\n").is_ok());
        assert!(check_first_event(b": keep-alive\n\n").is_ok());
        assert!(check_first_event(b"data: {\"choices\": [tru\n\n").is_err());
    }

    #[test]
    fn redacts_every_occurrence_of_the_key() {
        let mut b = b"key sk-abc123 and sk-abc123!".to_vec();
        redact(&mut b, b"sk-abc123");
        assert_eq!(b, b"key [redacted] and [redacted]!");
    }
}
