//! Azure OpenAI: same wire format as OpenAI, but the model is a deployment in the URL and every
//! call carries an `api-version` query parameter. Only the paths differ, so only paths live here.

use crate::gemini::path::encode_component;
use crate::TranslateError;

/// The api-version used when a provider does not set one: the latest generally available
/// data-plane inference version (2024-10-21). Newer features need a preview version, set per
/// provider.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The Responses API on Azure's v1 data plane: no deployment in the path (the body's `model`
/// names it) and no `api-version`.
pub const RESPONSES_PATH: &str = "/openai/v1/responses";

/// `/openai/deployments/{deployment}/chat/completions?api-version={api_version}`.
///
/// # Errors
/// `InvalidRequest` if either part is empty, contains `/`, `..`, `?`, `#`, `%`, whitespace or
/// control characters; anything else outside URL-unreserved characters is percent-encoded.
pub fn chat_path(deployment: &str, api_version: &str) -> Result<String, TranslateError> {
    deployment_path(deployment, "chat/completions", api_version)
}

/// `/openai/deployments/{deployment}/embeddings?api-version={api_version}`.
///
/// # Errors
/// As [`chat_path`].
pub fn embeddings_path(deployment: &str, api_version: &str) -> Result<String, TranslateError> {
    deployment_path(deployment, "embeddings", api_version)
}

fn deployment_path(
    deployment: &str,
    operation: &str,
    api_version: &str,
) -> Result<String, TranslateError> {
    let deployment = encode_component(deployment, "deployment")?;
    let api_version = encode_component(api_version, "api_version")?;
    Ok(format!(
        "/openai/deployments/{deployment}/{operation}?api-version={api_version}"
    ))
}
