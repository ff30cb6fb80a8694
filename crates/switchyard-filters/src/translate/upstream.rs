//! Where and how an attempt is sent: the provider's wire format for a model, the path, and
//! the auth and version headers each provider type wants.

use std::borrow::Cow;

use http::{HeaderName, HeaderValue};
use switchyard_config::{Config, Provider, ProviderKind, Secret};
use switchyard_filter::{BuildError, GatewayError, RequestCtx};
use switchyard_wire::vertex::Publisher;
use switchyard_wire::{Dialect, TranslateError};

use super::ANTHROPIC_VERSION;

/// The wire format `provider` speaks for `upstream_model` (Vertex: by publisher).
pub fn dialect_of(provider: &Provider, upstream_model: &str) -> Dialect {
    match provider.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::AzureOpenAi => {
            Dialect::OpenAi
        }
        ProviderKind::Anthropic => Dialect::Anthropic,
        ProviderKind::Gemini => Dialect::Gemini,
        ProviderKind::Vertex => Publisher::of(upstream_model).dialect(),
        ProviderKind::Bedrock => Dialect::Bedrock,
    }
}

/// The wire format a request from a `client` speaks to a provider of `kind`: OpenAI and
/// Azure take the Responses API natively (so built-in tools and encrypted reasoning keep
/// working); every other pairing is the provider's own dialect.
pub fn upstream_dialect(provider: &Provider, upstream_model: &str, client: Dialect) -> Dialect {
    match (provider.kind, client) {
        (ProviderKind::OpenAi | ProviderKind::AzureOpenAi, Dialect::OpenAiResponses) => {
            Dialect::OpenAiResponses
        }
        _ => dialect_of(provider, upstream_model),
    }
}

/// The path (and query) appended to the provider's base URL for a chat request.
pub(super) fn chat_path(
    provider: &Provider,
    upstream_model: &str,
    stream: bool,
    dialect: Dialect,
) -> Result<Cow<'static, str>, TranslateError> {
    if dialect == Dialect::OpenAiResponses {
        return Ok(match provider.kind {
            ProviderKind::AzureOpenAi => switchyard_wire::azure::RESPONSES_PATH.into(),
            _ => "/responses".into(),
        });
    }
    let built = match provider.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => {
            return Ok("/chat/completions".into())
        }
        ProviderKind::Anthropic => return Ok("/v1/messages".into()),
        ProviderKind::Gemini => switchyard_wire::gemini::model_path(upstream_model, stream),
        ProviderKind::Bedrock => switchyard_wire::bedrock::model_path(upstream_model, stream),
        ProviderKind::AzureOpenAi => switchyard_wire::azure::chat_path(
            upstream_model,
            provider
                .api_version
                .as_deref()
                .unwrap_or(switchyard_wire::azure::DEFAULT_API_VERSION),
        ),
        ProviderKind::Vertex => {
            let v = provider
                .vertex
                .as_ref()
                .ok_or_else(|| TranslateError::InvalidRequest {
                    param: None,
                    message: format!("provider `{}` has no vertex settings", provider.id),
                })?;
            switchyard_wire::vertex::chat_path(&v.project, &v.location, upstream_model, stream)
        }
    };
    built.map(Cow::Owned)
}

/// Checks every deployment's upstream name (and its provider's URL parts) as each request's
/// path is checked: a name the data path would refuse on every request (`../x`,
/// `gemini?key=1`, `dep#x`) is a config error at its YAML path, not a 400 that blames the
/// client.
pub(super) fn check_paths(config: &Config) -> Result<(), BuildError> {
    for (i, model) in config.models.iter().enumerate() {
        let provider = &config.providers[model.provider];
        let Err(TranslateError::InvalidRequest { param, message }) =
            chat_path(provider, &model.upstream_model, false, Dialect::OpenAi)
        else {
            continue;
        };
        let path = match param.as_deref() {
            Some(part @ ("project" | "location" | "api_version")) => {
                format!("providers[{}].{part}", model.provider)
            }
            // Without `model:` the upstream name is the id.
            _ if model.upstream_model == model.id => format!("models[{i}].id"),
            _ => format!("models[{i}].model"),
        };
        return Err(BuildError::config(
            path,
            format!(
                "model `{}`: {message}, so every request to it would be refused",
                model.id
            ),
        ));
    }
    Ok(())
}

pub(super) fn header(
    name: &'static str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), GatewayError> {
    let value = HeaderValue::from_str(value)
        .map_err(|_| GatewayError::Internal(format!("header `{name}` has an invalid value")))?;
    Ok((HeaderName::from_static(name), value))
}

/// A provider's own headers (auth by key, version, `headers:`), built once per config so an
/// attempt clones them instead of formatting and copying each; an error is what every
/// request to that provider gets, as when they were built per request.
pub(super) type Prepared = Result<Vec<(HeaderName, HeaderValue)>, GatewayError>;

/// An attempt's provider headers: the bearer `token` (a Vertex provider's access token,
/// prefetched for this request), then the provider's prepared ones.
pub(super) fn attempt_headers(
    prepared: &Prepared,
    token: Option<&Secret>,
    out: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(), GatewayError> {
    let bearer = token.map(bearer).transpose()?;
    let prepared = prepared.as_ref().map_err(Clone::clone)?;
    out.reserve(prepared.len() + usize::from(bearer.is_some()));
    out.extend(bearer);
    out.extend(prepared.iter().cloned());
    Ok(())
}

/// `authorization: Bearer TOKEN`, marked sensitive.
fn bearer(token: &Secret) -> Result<(HeaderName, HeaderValue), GatewayError> {
    let mut h = header("authorization", &format!("Bearer {}", token.expose()))?;
    h.1.set_sensitive(true);
    Ok(h)
}

/// The [`Prepared`] headers of `provider`: authentication by key, version, `headers:`.
pub(super) fn prepare_headers(provider: &Provider) -> Prepared {
    let mut out = Vec::new();
    if let Some(key) = &provider.api_key {
        let key = key.expose();
        let mut h = match provider.kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => {
                header("authorization", &format!("Bearer {key}"))?
            }
            ProviderKind::AzureOpenAi => header("api-key", key)?,
            ProviderKind::Anthropic => header("x-api-key", key)?,
            ProviderKind::Gemini => header("x-goog-api-key", key)?,
            ProviderKind::Vertex => {
                return Err(GatewayError::Internal(
                    "vertex providers authenticate with access tokens, not keys".into(),
                ))
            }
            // Bedrock API keys are bearer tokens (config signs with SigV4 instead).
            ProviderKind::Bedrock => header("authorization", &format!("Bearer {key}"))?,
        };
        h.1.set_sensitive(true);
        out.push(h);
    }
    if provider.kind == ProviderKind::Anthropic {
        out.push(header(
            "anthropic-version",
            provider.api_version.as_deref().unwrap_or(ANTHROPIC_VERSION),
        )?);
    }
    for (name, value) in &provider.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| GatewayError::Internal(format!("bad header name `{name}`")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| GatewayError::Internal(format!("bad value for header `{name}`")))?;
        out.push((name, value));
    }
    Ok(out)
}

/// An Anthropic client's `anthropic-beta` feature flags, for an Anthropic upstream: without
/// them a beta feature the body uses would be refused or silently ignored. They are flags, not
/// credentials, so they pass; merged (comma-separated, as Anthropic accepts them) with any the
/// provider's `headers:` set.
pub(super) fn forward_anthropic_beta(
    cx: &RequestCtx,
    out: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(), GatewayError> {
    const NAME: &str = "anthropic-beta";
    let mut betas: Vec<&str> = cx
        .headers
        .get_all(NAME)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    if betas.is_empty() {
        return Ok(());
    }
    let configured = out.iter().position(|(n, _)| n == NAME);
    let mut merged: Vec<String> = configured
        .and_then(|i| out[i].1.to_str().ok())
        .map(|v| v.split(',').map(|b| b.trim().to_owned()).collect())
        .unwrap_or_default();
    betas.retain(|b| !merged.iter().any(|m| m == b));
    merged.extend(betas.into_iter().map(str::to_owned));
    let value =
        HeaderValue::from_str(&merged.join(",")).map_err(|_| GatewayError::InvalidRequest {
            message: "the anthropic-beta header has an invalid value".to_owned(),
            param: None,
        })?;
    match configured {
        Some(i) => out[i].1 = value,
        None => out.push((HeaderName::from_static(NAME), value)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use switchyard_config::MapEnv;

    use super::*;

    fn config() -> Config {
        let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: o, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K, headers: { openai-organization: org-1 } }
  - { id: a, type: anthropic, base_url: "http://127.0.0.1:2", api_key_env: K }
  - { id: g, type: gemini, base_url: "http://127.0.0.1:3", api_key_env: K }
models:
  - { id: m, provider: o }
"#;
        let env = MapEnv::new().with_var("K", "sk-secret-1");
        Config::from_yaml_str(yaml, &env).expect("config")
    }

    /// `(name, value, sensitive)` of an attempt's provider headers.
    fn sent(prepared: &Prepared, token: Option<&Secret>) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        attempt_headers(prepared, token, &mut out).expect("headers");
        out.iter()
            .map(|(n, v)| {
                let text = v.to_str().expect("text").to_owned();
                (n.to_string(), text, v.is_sensitive())
            })
            .collect()
    }

    #[test]
    fn each_providers_auth_and_version_headers_are_prepared_once() {
        let config = config();
        let prepared: Vec<Prepared> = config.providers.iter().map(prepare_headers).collect();
        let owned = |n: &str, v: &str, s: bool| (n.to_owned(), v.to_owned(), s);
        assert_eq!(
            sent(&prepared[0], None),
            [
                owned("authorization", "Bearer sk-secret-1", true),
                owned("openai-organization", "org-1", false),
            ]
        );
        assert_eq!(
            sent(&prepared[1], None),
            [
                owned("x-api-key", "sk-secret-1", true),
                owned("anthropic-version", ANTHROPIC_VERSION, false),
            ]
        );
        assert_eq!(
            sent(&prepared[2], None),
            [owned("x-goog-api-key", "sk-secret-1", true)]
        );
        // An access token goes first, then the provider's own headers.
        let token = Secret::new("ya29.token");
        assert_eq!(
            sent(&prepared[2], Some(&token))[0],
            owned("authorization", "Bearer ya29.token", true)
        );
    }

    #[test]
    fn a_header_that_cannot_be_built_fails_every_attempt_as_before() {
        let mut config = config();
        config.providers[0].headers = vec![("bad name".into(), "v".into())];
        let prepared = prepare_headers(&config.providers[0]);
        let mut out = Vec::new();
        let e = attempt_headers(&prepared, None, &mut out).expect_err("refused");
        assert!(
            matches!(e, GatewayError::Internal(ref m) if m.contains("bad name")),
            "{e}"
        );
        assert!(out.is_empty());
    }
}
