//! OpenAI embeddings (`POST /v1/embeddings`): parsing the client's request into the same
//! [`ChatRequest`] carrier the chain uses, encoding it for an upstream, and reading the reply's
//! usage. Gemini's `batchEmbedContents` lives in `gemini::embeddings`; Anthropic has no
//! embeddings API.

use serde::Deserialize;
use serde_json::Value;

use crate::request::{invalid, object_with_model};
use crate::{ChatRequest, Dialect, TranslateError, Usage};

/// Parses an OpenAI embeddings request: `model` (string) and `input` (a string, or a
/// non-empty array of strings or token arrays) are required.
pub fn parse_embeddings(body: &[u8]) -> Result<ChatRequest, TranslateError> {
    let (body, model) = object_with_model(body)?;
    match body.get("input") {
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) if !items.is_empty() => {}
        _ => {
            return Err(invalid(
                "input",
                "`input` is required: a string or a non-empty array",
            ))
        }
    }
    Ok(ChatRequest::from_dom(Dialect::OpenAi, body, model))
}

/// The body for an OpenAI-type upstream: the client's, with the upstream model name.
pub fn encode_openai_embeddings(req: &ChatRequest, upstream_model: &str) -> Vec<u8> {
    let mut body = req.body().clone();
    body.insert("model".to_owned(), Value::String(upstream_model.to_owned()));
    serde_json::to_vec(&body).unwrap_or_default()
}

#[derive(Deserialize)]
struct Reply {
    usage: Option<ReplyUsage>,
    data: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    prompt_tokens: u64,
}

/// Checks an OpenAI embeddings reply and reads its usage (embeddings have prompt tokens only).
pub fn openai_embeddings_usage(body: &[u8]) -> Result<Usage, TranslateError> {
    let reply: Reply = serde_json::from_slice(body)
        .map_err(|e| TranslateError::MalformedUpstream(format!("embeddings reply: {e}")))?;
    if reply.data.is_none() {
        return Err(TranslateError::MalformedUpstream(
            "embeddings reply has no `data`".to_owned(),
        ));
    }
    Ok(Usage {
        prompt_tokens: reply.usage.map_or(0, |u| u.prompt_tokens),
        ..Usage::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_encodes_an_embeddings_request() {
        let req =
            parse_embeddings(br#"{"model":"emb","input":["a","b"],"dimensions":256}"#).unwrap();
        assert_eq!(req.model, "emb");
        let out: Value =
            serde_json::from_slice(&encode_openai_embeddings(&req, "text-embedding-3-small"))
                .unwrap();
        assert_eq!(out["model"], "text-embedding-3-small");
        assert_eq!(out["dimensions"], 256);
    }

    #[test]
    fn rejects_missing_input_and_model() {
        assert!(
            matches!(parse_embeddings(br#"{"model":"emb"}"#), Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == "input")
        );
        assert!(
            matches!(parse_embeddings(br#"{"input":"x"}"#), Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == "model")
        );
        assert!(matches!(
            parse_embeddings(b"[1]"),
            Err(TranslateError::InvalidJson(_))
        ));
    }

    #[test]
    fn reads_usage_and_refuses_replies_without_data() {
        let body = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1]}],"model":"m","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        assert_eq!(openai_embeddings_usage(body).unwrap().prompt_tokens, 8);
        assert!(openai_embeddings_usage(br#"{"usage":{"prompt_tokens":1}}"#).is_err());
    }
}
