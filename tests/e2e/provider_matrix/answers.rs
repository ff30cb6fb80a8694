//! Text, whole and streamed: the upstream body each provider type gets, and the exact events
//! each client gets.

use serde_json::json;
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{text_events, Client, Kind, Wire};

use crate::common::bin;

/// System prompt and one user turn, not streamed: the exact upstream body.
pub async fn text(kind: Kind) {
    for (client, sent) in matrix::text(bin(), kind).await {
        let b = sent.json();
        match kind.wire() {
            Wire::OpenAi => {
                assert_eq!(
                    b["messages"],
                    json!([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}])
                );
                match client {
                    // Passed through: nothing added.
                    Client::OpenAi => assert_eq!(b.as_object().unwrap().len(), 3, "{b}"),
                    // Anthropic's required max_tokens becomes OpenAI's current name, except for
                    // OpenAI-compatible servers (Ollama, llama.cpp, Mistral…), which know only
                    // the old.
                    Client::Anthropic => {
                        let (name, other) = if kind == Kind::Compatible {
                            ("max_tokens", "max_completion_tokens")
                        } else {
                            ("max_completion_tokens", "max_tokens")
                        };
                        assert_eq!(b[name], 256, "{b}");
                        assert!(b.get(other).is_none() && b.get("system").is_none());
                    }
                }
                if kind == Kind::Azure {
                    assert_eq!(
                        sent.path,
                        "/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01-preview"
                    );
                    assert_eq!(sent.header("authorization"), None);
                    assert_eq!(b["model"], "prod-gpt4o");
                }
            }
            Wire::Anthropic => match client {
                // Translated: system prompt as a text block, max_tokens from max_output_tokens.
                Client::OpenAi => assert_eq!(
                    b,
                    json!({"model": "claude-sonnet-4-5", "max_tokens": 16000,
                           "system": [{"type": "text", "text": "You are terse."}],
                           "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}]})
                ),
                // Passed through with only the model renamed.
                Client::Anthropic => assert_eq!(
                    b,
                    json!({"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": false,
                           "system": "You are terse.",
                           "messages": [{"role": "user", "content": "Say hello."}]})
                ),
            },
            Wire::Gemini => {
                let mut want = json!({
                    "contents": [{"role": "user", "parts": [{"text": "Say hello."}]}],
                    "systemInstruction": {"parts": [{"text": "You are terse."}]}
                });
                if client == Client::Anthropic {
                    want["generationConfig"] = json!({"maxOutputTokens": 256});
                }
                assert_eq!(b, want);
            }
        }
    }
}

/// The pieces each provider type's mock streams.
fn pieces(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Anthropic => &["A", " circuit", " breaker"],
        Kind::Gemini => &["Waves", " fold into foam,", "\nthe tide keeps its time."],
        Kind::OpenAi | Kind::Compatible | Kind::Azure => &["Hel", "lo"],
    }
}

/// A streamed answer: each client gets exactly its own event sequence.
pub async fn stream(kind: Kind) {
    let pieces = pieces(kind);
    for (client, a, sent) in matrix::stream(bin(), kind, pieces).await {
        let mut want = text_events(client, pieces);
        if kind == Kind::Anthropic {
            assert_eq!(sent.json()["stream"], true);
            if client == Client::Anthropic {
                // Same dialect: Anthropic's events pass through, ping included.
                want.insert(2, "ping".into());
            }
        }
        assert_eq!(a.events, want, "{client:?}");
    }
}
