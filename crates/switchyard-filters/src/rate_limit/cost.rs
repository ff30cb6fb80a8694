//! What a request may use, estimated before it runs: prompt tokens, and the most it can cost
//! across the targets it may reach (the budget reservation).

use serde_json::Value;
use switchyard_config::{Config, Model};
use switchyard_filter::{Endpoint, RequestCtx};
use switchyard_wire::ChatRequest;

/// Output cap assumed when neither the request nor the model names one.
pub const FALLBACK_MAX_OUTPUT: u64 = 32_768;

/// Prompt tokens, estimated cheaply (about 4 bytes of text per token, no BPE): only an
/// up-front charge, which the real usage corrects afterwards.
pub fn estimate_prompt_tokens(req: &ChatRequest) -> u64 {
    // Embeddings carry their text (or token ids) in `input` rather than in messages.
    let input = req.body().get("input").map_or(0, input_bytes);
    crate::tokens::quick_estimate(req) + input.div_ceil(4)
}

/// Bytes of text in an embeddings `input`, a token id counting as 4 (one token).
fn input_bytes(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64,
        Value::Number(_) => 4,
        Value::Array(a) => a.iter().map(input_bytes).sum(),
        Value::Object(o) => o.values().map(input_bytes).sum(),
        Value::Null | Value::Bool(_) => 0,
    }
}

/// The most output `model` can produce for this request: the request's cap (bounded by the
/// model's), else the model's cap, else what is left of its context window.
pub fn max_output(model: &Model, requested: Option<u64>, prompt: u64) -> u64 {
    match (requested, model.max_output_tokens) {
        (Some(r), Some(m)) => r.min(m),
        (Some(r), None) => r,
        (None, Some(m)) => m,
        (None, None) => model
            .context_window
            .map_or(FALLBACK_MAX_OUTPUT, |c| c.saturating_sub(prompt).max(1)),
    }
}

/// The most this request can cost at `model`, in dollars (0 without pricing). Embeddings
/// produce no output tokens.
fn max_cost_at(model: &Model, req: &ChatRequest, prompt: u64, outputs: bool) -> f64 {
    let Some(p) = &model.pricing else {
        return 0.0;
    };
    let out = if outputs {
        max_output(model, req.max_output_tokens, prompt)
    } else {
        0
    };
    (prompt as f64 * p.input_per_mtok + out as f64 * p.output_per_mtok) / 1_000_000.0
}

/// The request's maximum cost across every target it may reach: the chosen route's when
/// `route` already ran, else every route variant and model of that name.
pub fn max_cost_usd(config: &Config, cx: &RequestCtx, req: &ChatRequest, prompt: u64) -> f64 {
    let outputs = !matches!(cx.endpoint, Endpoint::Embeddings | Endpoint::CountTokens);
    let at = |m: usize| {
        config
            .models
            .get(m)
            .map_or(0.0, |model| max_cost_at(model, req, prompt, outputs))
    };
    if let Some(route) = &cx.route {
        return route.targets.iter().map(|&m| at(m)).fold(0.0, f64::max);
    }
    let mut best = 0.0f64;
    if let Some(routes) = config.index.routes_by_name.get(&req.model) {
        for &r in routes {
            for t in &config.routes[r].targets {
                best = best.max(at(t.model));
            }
        }
    }
    let by_id = config
        .index
        .models_by_id
        .get(&req.model)
        .or_else(|| config.index.models_by_qualified.get(&req.model));
    if let Some(&m) = by_id {
        best = best.max(at(m));
    }
    best
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::HeaderMap;
    use switchyard_config::MapEnv;
    use switchyard_wire::Dialect;

    use super::*;

    const YAML: &str = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai_compatible, base_url: "http://127.0.0.1:1/v1" }
models:
  - id: cheap
    provider: p
    max_output_tokens: 1000
    pricing: { input_per_mtok: 1.0, output_per_mtok: 2.0 }
  - id: dear
    provider: p
    context_window: 10000
    pricing: { input_per_mtok: 10.0, output_per_mtok: 20.0 }
routes:
  - name: chat
    targets: [{ model: cheap }, { model: dear }]
"#;

    fn config() -> Arc<Config> {
        Arc::new(Config::from_yaml_str(YAML, &MapEnv::new()).unwrap())
    }

    fn req(model: &str, max: Option<u64>) -> ChatRequest {
        let mut body = serde_json::json!({"model": model, "messages": [{"role": "user", "content": "x".repeat(400)}]});
        if let Some(m) = max {
            body["max_tokens"] = m.into();
        }
        ChatRequest::parse(Dialect::OpenAi, body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn prompt_estimate_is_about_a_quarter_of_the_text() {
        let n = estimate_prompt_tokens(&req("chat", None));
        assert!((100..=120).contains(&n), "{n}");
    }

    #[test]
    fn reservation_takes_the_priciest_target_and_the_output_cap() {
        let cfg = config();
        let cx = RequestCtx::new(
            "r".into(),
            cfg.clone(),
            Endpoint::ChatCompletions,
            HeaderMap::new(),
        );
        // dear: no max_output_tokens, so the rest of its 10 000-token window.
        let c = max_cost_usd(&cfg, &cx, &req("chat", None), 100);
        assert!(
            (c - (100.0 * 10.0 + 9_900.0 * 20.0) / 1e6).abs() < 1e-12,
            "{c}"
        );
        let c = max_cost_usd(&cfg, &cx, &req("chat", Some(50)), 100);
        assert!(
            (c - (100.0 * 10.0 + 50.0 * 20.0) / 1e6).abs() < 1e-12,
            "{c}"
        );
        // cheap alone: its own cap bounds a larger request.
        let c = max_cost_usd(&cfg, &cx, &req("cheap", Some(5000)), 100);
        assert!((c - (100.0 + 1000.0 * 2.0) / 1e6).abs() < 1e-12, "{c}");
        assert_eq!(max_cost_usd(&cfg, &cx, &req("nope", None), 100), 0.0);
    }

    #[test]
    fn embeddings_reserve_their_input_and_no_output() {
        let cfg = config();
        let body =
            serde_json::json!({"model": "dear", "input": ["x".repeat(400), "y".repeat(400)]});
        let req =
            switchyard_wire::embeddings::parse_embeddings(body.to_string().as_bytes()).unwrap();
        let prompt = estimate_prompt_tokens(&req);
        assert!((200..=210).contains(&prompt), "{prompt}");
        let cx = RequestCtx::new(
            "r".into(),
            cfg.clone(),
            Endpoint::Embeddings,
            HeaderMap::new(),
        );
        let c = max_cost_usd(&cfg, &cx, &req, prompt);
        assert!((c - prompt as f64 * 10.0 / 1e6).abs() < 1e-12, "{c}");
    }
}
