//! Embeddings through `translate`: the request for each provider that has an embeddings API,
//! and the reply (Gemini's translated, OpenAI's checked) with its usage.

use bytes::Bytes;
use switchyard_config::{Provider, ProviderKind};
use switchyard_filter::GatewayError;
use switchyard_wire::{ChatRequest, Dialect};

/// Path and body of an embeddings request for `provider`.
pub(super) fn embeddings_request(
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
pub(super) fn embeddings_reply(
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
