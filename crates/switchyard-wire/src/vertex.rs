//! Google Vertex AI: which publisher serves a model, the request path, and the Anthropic body
//! changes Vertex wants. Gemini models speak Gemini's generateContent; `claude-*` models speak
//! Anthropic Messages through `rawPredict`, with `anthropic_version` in the body instead of
//! `model` (as Anthropic's own Vertex client sends it).

use serde_json::{Map, Value};

use crate::gemini::path::encode_component;
use crate::{Dialect, TranslateError};

/// The `anthropic_version` Vertex requires in Claude request bodies.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Who publishes a model on Vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Google: Gemini (and Gemma) models, generateContent.
    Google,
    /// Anthropic: `claude-*` models, rawPredict.
    Anthropic,
}

impl Publisher {
    /// The publisher of `model`: Anthropic for `claude-*`, Google otherwise.
    pub fn of(model: &str) -> Publisher {
        if model.starts_with("claude-") {
            Publisher::Anthropic
        } else {
            Publisher::Google
        }
    }

    /// The wire format its models speak.
    pub fn dialect(self) -> Dialect {
        match self {
            Publisher::Google => Dialect::Gemini,
            Publisher::Anthropic => Dialect::Anthropic,
        }
    }
}

/// `/v1/projects/{project}/locations/{location}/publishers/{google|anthropic}/models/{model}:
/// {method}`, with the streaming method (and `?alt=sse` for Gemini) when `stream`.
///
/// # Errors
/// `InvalidRequest` when a component could change the path (`/`, `..`, `?`, `#`, `%`).
pub fn chat_path(
    project: &str,
    location: &str,
    model: &str,
    stream: bool,
) -> Result<String, TranslateError> {
    let publisher = Publisher::of(model);
    let project = encode_component(project, "project")?;
    let location = encode_component(location, "location")?;
    // `@` pins a Claude version (`claude-sonnet-4-5@20250929`) and is legal in a path.
    let model = encode_component(model, "model")?.replace("%40", "@");
    let (name, method) = match (publisher, stream) {
        (Publisher::Google, false) => ("google", "generateContent"),
        (Publisher::Google, true) => ("google", "streamGenerateContent?alt=sse"),
        (Publisher::Anthropic, false) => ("anthropic", "rawPredict"),
        (Publisher::Anthropic, true) => ("anthropic", "streamRawPredict"),
    };
    Ok(format!(
        "/v1/projects/{project}/locations/{location}/publishers/{name}/models/{model}:{method}"
    ))
}

/// An Anthropic Messages body made fit for Vertex: `model` removed (it is in the path) and
/// `anthropic_version` set, the other fields kept.
///
/// # Errors
/// `InvalidRequest` when `body` is not a JSON object.
pub fn anthropic_body(body: &[u8]) -> Result<Vec<u8>, TranslateError> {
    let mut map: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidRequest {
            param: None,
            message: format!("the Anthropic body for Vertex is not a JSON object: {e}"),
        })?;
    map.remove("model");
    map.insert(
        "anthropic_version".to_owned(),
        Value::String(ANTHROPIC_VERSION.to_owned()),
    );
    serde_json::to_vec(&map).map_err(|e| TranslateError::InvalidRequest {
        param: None,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_for_both_publishers() {
        assert_eq!(
            chat_path("my-proj", "us-east5", "gemini-2.5-flash", false).unwrap(),
            "/v1/projects/my-proj/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            chat_path("p", "global", "gemini-2.5-pro", true).unwrap(),
            "/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            chat_path("p", "us-east5", "claude-sonnet-4-5@20250929", false).unwrap(),
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        );
        assert_eq!(
            chat_path("p", "eu", "claude-haiku-4-5", true).unwrap(),
            "/v1/projects/p/locations/eu/publishers/anthropic/models/claude-haiku-4-5:streamRawPredict"
        );
    }

    #[test]
    fn components_cannot_change_the_path() {
        for (project, model) in [("a/b", "m"), ("p", "../x"), ("p", "m?x=1"), ("p", "m%2Fx")] {
            assert!(
                chat_path(project, "us-east5", model, false).is_err(),
                "{project} {model}"
            );
        }
    }

    #[test]
    fn anthropic_bodies_lose_model_and_gain_the_vertex_version() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#;
        let out: Value = serde_json::from_slice(&anthropic_body(body).unwrap()).unwrap();
        assert!(out.get("model").is_none());
        assert_eq!(out["anthropic_version"], "vertex-2023-10-16");
        assert_eq!(out["max_tokens"], 10);
        assert_eq!(out["messages"][0]["content"], "hi");
        assert!(anthropic_body(b"[1]").is_err());
    }
}
