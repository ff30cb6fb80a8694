//! Upstream path building: Gemini model paths and Azure deployment paths.
use switchyard_wire::{azure, gemini, TranslateError};

/// Values no path builder may accept.
const REJECTED: &[&str] = &[
    "",
    ".",
    "a/b",
    "..",
    "a..b",
    "x?y",
    "x#y",
    "%2F",
    "a%2e%2e",
    "\n",
    "a b",
    "tab\t",
    "nul\0",
    "del\u{7f}",
    "nbsp\u{a0}",
];

fn assert_rejected(result: Result<String, TranslateError>, value: &str, param: &str) {
    match result {
        Err(TranslateError::InvalidRequest {
            param: Some(p),
            message,
        }) => {
            assert_eq!(p, param, "{value:?}");
            assert!(message.contains(&format!("{value:?}")), "{message}");
        }
        other => panic!("{value:?} was not rejected: {other:?}"),
    }
}

#[test]
fn gemini_model_paths() {
    assert_eq!(
        gemini::model_path("gemini-2.5-flash", false).unwrap(),
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        gemini::model_path("gemini-2.5-flash", true).unwrap(),
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        gemini::model_path("models/gemini-2.0-flash-001", false).unwrap(),
        "/v1beta/models/gemini-2.0-flash-001:generateContent"
    );
}

#[test]
fn gemini_model_path_percent_encodes() {
    assert_eq!(
        gemini::model_path("tuned:model~1_x", false).unwrap(),
        "/v1beta/models/tuned%3Amodel~1_x:generateContent"
    );
    assert_eq!(
        gemini::model_path("modèle", true).unwrap(),
        "/v1beta/models/mod%C3%A8le:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        gemini::model_path("a&b=c+d", false).unwrap(),
        "/v1beta/models/a%26b%3Dc%2Bd:generateContent"
    );
}

#[test]
fn gemini_model_path_rejects_unsafe_names() {
    for value in REJECTED.iter().copied().chain(["models/a/b", "models/"]) {
        let shown = value.strip_prefix("models/").unwrap_or(value);
        assert_rejected(gemini::model_path(value, false), shown, "model");
    }
}

#[test]
fn azure_paths() {
    assert_eq!(
        azure::chat_path("gpt-4o-prod", azure::DEFAULT_API_VERSION).unwrap(),
        "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(
        azure::embeddings_path("embed_small", "2025-04-01-preview").unwrap(),
        "/openai/deployments/embed_small/embeddings?api-version=2025-04-01-preview"
    );
    assert_eq!(
        azure::chat_path("dep:1", "v&x=1").unwrap(),
        "/openai/deployments/dep%3A1/chat/completions?api-version=v%26x%3D1"
    );
}

#[test]
fn azure_paths_reject_unsafe_parts() {
    for value in REJECTED {
        assert_rejected(azure::chat_path(value, "2024-10-21"), value, "deployment");
        assert_rejected(
            azure::embeddings_path(value, "2024-10-21"),
            value,
            "deployment",
        );
        assert_rejected(azure::chat_path("dep", value), value, "api_version");
    }
}
