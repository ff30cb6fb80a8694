use serde_json::json;
use switchyard_wire::ChatRequest;

use super::*;

fn openai(body: serde_json::Value) -> ChatRequest {
    ChatRequest::parse(Dialect::OpenAi, body.to_string().as_bytes()).unwrap()
}

#[test]
fn picks_the_vocabulary_by_model_name() {
    for m in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "o3-mini",
        "o1",
        "ft:gpt-4o:acme::x",
        "openai/gpt-4.1",
    ] {
        assert_eq!(tokenizer_for(m), Tokenizer::O200k, "{m}");
    }
    for m in [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "gpt-35-turbo",
        "text-embedding-3-small",
    ] {
        assert_eq!(tokenizer_for(m), Tokenizer::Cl100k, "{m}");
    }
    assert_eq!(
        tokenizer_for("claude-sonnet-4-6"),
        Tokenizer::Estimate(CLAUDE_MARGIN)
    );
    assert_eq!(
        tokenizer_for("gemini-2.5-pro"),
        Tokenizer::Estimate(GEMINI_MARGIN)
    );
    assert_eq!(
        tokenizer_for("llama-3.3-70b"),
        Tokenizer::Estimate(OTHER_MARGIN)
    );
    assert_eq!(
        tokenizer_for("omni-moderation"),
        Tokenizer::Estimate(OTHER_MARGIN)
    );
}

#[test]
fn counts_text_with_the_real_vocabulary_plus_framing() {
    let req = openai(json!({"model": "m", "messages": [
        {"role": "user", "content": "hello world"}
    ]}));
    // "hello world" is 2 tokens in both vocabularies.
    let framing = TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS;
    assert_eq!(estimate_prompt_tokens(&req, "gpt-4o"), 2 + framing);
    assert_eq!(estimate_prompt_tokens(&req, "gpt-4"), 2 + framing);
    let claude = estimate_prompt_tokens(&req, "claude-sonnet-4-6");
    assert_eq!(claude, ((2 + framing) as f64 * CLAUDE_MARGIN).ceil() as u64);
}

#[test]
fn system_tools_tool_calls_and_images_count() {
    let base = openai(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    let rich = openai(json!({"model": "m",
        "messages": [
            {"role": "system", "content": "You are a careful assistant who answers briefly."},
            {"role": "user", "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}}
            ]},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather",
            "description": "Weather for a city", "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}}}}}]
    }));
    let b = estimate_prompt_tokens(&base, "gpt-4o");
    let r = estimate_prompt_tokens(&rich, "gpt-4o");
    assert!(r > b + MEDIA_PART_TOKENS + 30, "{b} {r}");
    // The base64 data of the image is not counted as text.
    assert!(r < b + MEDIA_PART_TOKENS + 120, "{b} {r}");
}

#[test]
fn anthropic_system_blocks_and_tool_use_count() {
    let req = ChatRequest::parse(
        Dialect::Anthropic,
        json!({"model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": "Be terse and exact.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}, {"type": "text", "text": "what is this"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "look", "input": {"q": "picture"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a cat"}]}
            ]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let n = count_with(&req, Tokenizer::Cl100k);
    assert!(n > MEDIA_PART_TOKENS + 4 * TOKENS_PER_MESSAGE + 15, "{n}");
    assert!(n < MEDIA_PART_TOKENS + 60, "{n}");
}

#[test]
fn upper_bound_is_never_below_any_count() {
    for text in [
        "plain English words here",
        "日本語のテキストです。東京は大きい。",
        "fn main() { println!(\"{}\", 1 + 2); }",
        "🙂🙂🙂 emoji",
    ] {
        let req = openai(
            json!({"model": "m", "messages": [{"role": "user", "content": text.repeat(20)}]}),
        );
        for t in [
            Tokenizer::O200k,
            Tokenizer::Cl100k,
            tokenizer_for("claude-x"),
            tokenizer_for("gemini-x"),
            tokenizer_for("x"),
        ] {
            assert!(count_with(&req, t) <= upper_bound(&req, t), "{text} {t:?}");
        }
        assert!(quick_estimate(&req) <= upper_bound(&req, Tokenizer::O200k));
    }
}

#[test]
fn output_tokens_follow_the_request_then_the_target() {
    let mut model = switchyard_config::Model {
        id: "m".into(),
        provider: 0,
        upstream_model: "m".into(),
        context_window: None,
        max_output_tokens: Some(8_000),
        pricing: None,
        strict_params: false,
    };
    let req = openai(json!({"model": "m", "messages": [], "max_completion_tokens": 77}));
    assert_eq!(output_tokens(&req, &model, ProviderKind::Anthropic), 77);
    let req = openai(json!({"model": "m", "messages": []}));
    assert_eq!(
        output_tokens(&req, &model, ProviderKind::OpenAi),
        DEFAULT_OUTPUT_TOKENS
    );
    assert_eq!(output_tokens(&req, &model, ProviderKind::Anthropic), 8_000);
    model.max_output_tokens = None;
    assert_eq!(output_tokens(&req, &model, ProviderKind::Anthropic), 4_096);
}

#[test]
fn a_responses_request_counts_like_the_same_chat_request() {
    let text = "The gateway counts every prompt the same way, whatever the client spoke.";
    let chat = openai(json!({"model": "m", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": text}
    ]}));
    let responses = ChatRequest::parse(
        Dialect::OpenAiResponses,
        json!({"model": "m", "instructions": "Be brief.", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": text}]}
        ]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        count_with(&responses, Tokenizer::O200k),
        count_with(&chat, Tokenizer::O200k)
    );
}

#[test]
fn the_raw_bound_is_never_below_the_dom_bound() {
    let anthropic = |b: serde_json::Value| {
        ChatRequest::parse(Dialect::Anthropic, b.to_string().as_bytes()).unwrap()
    };
    let image = json!({"type": "image_url", "image_url": {"url": "https://x/y.png"}});
    let cases = [
        openai(json!({"model": "m", "messages": [{}, {}, {}, {}, {}, {}, {}, {}]})),
        openai(
            json!({"model": "m", "messages": [{"role": "user", "content": [image.clone(), image]}]}),
        ),
        openai(
            json!({"model": "m", "messages": [{"role": "user", "content": "héllo \"world\"\n"}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}),
        ),
        anthropic(
            json!({"model": "m", "max_tokens": 5, "system": "s", "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a": [1, 2]}}]},
            {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "AAAA"}}]}]}),
        ),
    ];
    for req in &cases {
        let raw = raw_upper_bound(req).expect("unedited");
        for t in [Tokenizer::Cl100k, Tokenizer::O200k] {
            assert!(
                raw >= upper_bound(req, t),
                "{raw} < {}",
                upper_bound(req, t)
            );
        }
    }
    let mut edited = cases[0].clone();
    edited.remove_metadata("x");
    assert!(
        raw_upper_bound(&edited).is_some(),
        "no metadata: nothing edited"
    );
    edited.body_mut();
    assert_eq!(raw_upper_bound(&edited), None);
}
