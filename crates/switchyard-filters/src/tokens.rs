//! Prompt token counting, shared by the filters that need a request's size before it is sent:
//! the context window check, cost routing and token rate limits.
//!
//! OpenAI-family models are counted with their real BPE vocabulary (`o200k_base` for gpt-4o,
//! gpt-4.1, gpt-5 and the o-series; `cl100k_base` for gpt-4 and gpt-3.5). Other vendors'
//! tokenizers are not public, so their count is the `cl100k_base` count times a margin that
//! errs on the high side ([`Tokenizer::Estimate`]): a request rerouted for being a little
//! too large is cheaper than one the provider rejects.
//!
//! What is counted: every message's text (string content and text parts, tool calls and their
//! arguments, tool results, the Anthropic `system` prompt), the tool definitions as their JSON,
//! a `response_format` schema, [`TOKENS_PER_MESSAGE`] framing per message plus
//! [`REPLY_PRIMING_TOKENS`], and each image, audio or file part at the fixed
//! [`MEDIA_PART_TOKENS`] (its real cost depends on pixels or pages the gateway does not decode).

use serde_json::Value;
use switchyard_config::{Model, ProviderKind};
use switchyard_filter::RequestCtx;
use switchyard_wire::{ChatRequest, Dialect};

use crate::bpe::{self, Vocab};

/// Framing tokens per message (role and separators), as OpenAI documents for its chat models.
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Tokens that prime the assistant's reply.
pub const REPLY_PRIMING_TOKENS: u64 = 3;
/// The fixed cost of one image, audio or file part: a 1024×1024 image is 765 tokens at
/// OpenAI's high detail and about 1,400 at Anthropic's; this rounds up past both.
pub const MEDIA_PART_TOKENS: u64 = 1_600;
/// Output tokens assumed when the client sets no cap and the target needs none.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 1_024;
/// The output cap the wire encoder sends an Anthropic target that requires one when neither
/// the client nor the model sets it.
const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 4_096;

/// How a model's prompt is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tokenizer {
    /// OpenAI `o200k_base`: gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1/o3/o4, gpt-oss.
    O200k,
    /// OpenAI `cl100k_base`: gpt-4, gpt-3.5, the text-embedding models.
    Cl100k,
    /// Anything else: the `cl100k_base` count times this margin.
    Estimate(f64),
}

/// Margin over `cl100k_base` for Anthropic models, whose tokenizer yields noticeably more
/// tokens for the same text.
const CLAUDE_MARGIN: f64 = 1.30;
/// Margin for Gemini (a larger vocabulary than cl100k: counts usually come out lower).
const GEMINI_MARGIN: f64 = 1.10;
/// Margin for open and other models (Llama, Mistral, Qwen, DeepSeek…).
const OTHER_MARGIN: f64 = 1.20;

/// The tokenizer for an upstream model name (`gpt-4o-mini`, `claude-sonnet-4-6`,
/// `ft:gpt-4o:org::id`, `openai/gpt-4.1`…).
pub fn tokenizer_for(upstream_model: &str) -> Tokenizer {
    let lower = upstream_model.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let name = name.strip_prefix("ft:").unwrap_or(name);
    let o_series = name.starts_with('o') && name[1..].starts_with(|c: char| c.is_ascii_digit());
    if o_series
        || [
            "gpt-4o",
            "chatgpt-4o",
            "gpt-4.1",
            "gpt-4.5",
            "gpt-5",
            "gpt-oss",
            "codex",
        ]
        .iter()
        .any(|p| name.starts_with(p))
    {
        Tokenizer::O200k
    } else if ["gpt-4", "gpt-3.5", "gpt-35", "text-embedding"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        Tokenizer::Cl100k
    } else if name.contains("claude") {
        Tokenizer::Estimate(CLAUDE_MARGIN)
    } else if name.contains("gemini") || name.contains("gemma") {
        Tokenizer::Estimate(GEMINI_MARGIN)
    } else {
        Tokenizer::Estimate(OTHER_MARGIN)
    }
}

/// The vocabulary behind `t`: static tables, nothing to build (see [`crate::bpe`]).
fn vocab(t: Tokenizer) -> &'static Vocab {
    match t {
        Tokenizer::O200k => &bpe::O200K,
        Tokenizer::Cl100k | Tokenizer::Estimate(_) => &bpe::CL100K,
    }
}

/// What a prompt is made of, before text is turned into tokens.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Parts {
    text: u64,
    media: u64,
    messages: u64,
}

impl Parts {
    fn total(&self) -> u64 {
        self.text
            + self.media * MEDIA_PART_TOKENS
            + self.messages * TOKENS_PER_MESSAGE
            + REPLY_PRIMING_TOKENS
    }
}

/// Keys whose values are identifiers or flags, not text the model reads as prompt.
const SKIPPED_KEYS: &[&str] = &[
    "type",
    "role",
    "id",
    "tool_call_id",
    "tool_use_id",
    "cache_control",
    "detail",
    "signature",
];
/// Part types billed at [`MEDIA_PART_TOKENS`].
const MEDIA_TYPES: &[&str] = &[
    "image_url",
    "image",
    "input_image",
    "input_audio",
    "file",
    "input_file",
    "document",
];

fn walk(v: &Value, count: &mut impl FnMut(&str) -> u64, parts: &mut Parts) {
    match v {
        Value::String(s) => parts.text += count(s),
        Value::Array(a) => a.iter().for_each(|x| walk(x, count, parts)),
        Value::Object(o) => {
            if o.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| MEDIA_TYPES.contains(&t))
            {
                parts.media += 1;
                return;
            }
            for (k, x) in o {
                if SKIPPED_KEYS.contains(&k.as_str()) {
                    continue;
                }
                match x {
                    // A tool call's input object: its JSON is what the model reads.
                    Value::Object(_) if k == "input" => json_text(x, count, parts),
                    _ => walk(x, count, parts),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn json_text(v: &Value, count: &mut impl FnMut(&str) -> u64, parts: &mut Parts) {
    parts.text += count(&v.to_string());
}

fn parts_of(req: &ChatRequest, count: &mut impl FnMut(&str) -> u64) -> Parts {
    let body = req.body();
    let mut parts = Parts::default();
    if let Some(system) = body.get("system") {
        parts.messages += 1;
        walk(system, count, &mut parts);
    }
    // Responses requests: `instructions` and `input` (a string or items). Embeddings have an
    // `input` too, counted elsewhere.
    let responses = req.dialect == Dialect::OpenAiResponses;
    if let Some(instructions) = body.get("instructions").filter(|_| responses) {
        parts.messages += 1;
        walk(instructions, count, &mut parts);
    }
    match body.get("input").filter(|_| responses) {
        Some(Value::Array(items)) => {
            parts.messages += items.len() as u64;
            items.iter().for_each(|i| walk(i, count, &mut parts));
        }
        Some(input) => {
            parts.messages += 1;
            walk(input, count, &mut parts);
        }
        None => {}
    }
    if let Some(Value::Array(messages)) = body.get("messages") {
        parts.messages += messages.len() as u64;
        for m in messages {
            walk(m, count, &mut parts);
        }
    }
    for key in ["tools", "functions"] {
        if let Some(Value::Array(tools)) = body.get(key) {
            for t in tools {
                json_text(t, count, &mut parts);
            }
        }
    }
    if let Some(format) = body
        .get("response_format")
        .and_then(|f| f.get("json_schema"))
    {
        json_text(format, count, &mut parts);
    }
    parts
}

/// The request's prompt tokens for `upstream_model`, counted as the module doc says.
pub fn estimate_prompt_tokens(req: &ChatRequest, upstream_model: &str) -> u64 {
    count_with(req, tokenizer_for(upstream_model))
}

/// The request's prompt tokens under `tokenizer`.
pub fn count_with(req: &ChatRequest, tokenizer: Tokenizer) -> u64 {
    let vocab = vocab(tokenizer);
    let total = parts_of(req, &mut |s| vocab.count(s) as u64).total();
    match tokenizer {
        Tokenizer::Estimate(margin) => (total as f64 * margin).ceil() as u64,
        Tokenizer::O200k | Tokenizer::Cl100k => total,
    }
}

/// A bound `tokenizer`'s count never exceeds: a byte-level BPE token covers at least one
/// byte, so counting bytes as tokens (times the margin, for an estimate) overestimates. Costs
/// one pass over the JSON and no BPE, so a prompt well below every window needs no real count.
pub fn upper_bound(req: &ChatRequest, tokenizer: Tokenizer) -> u64 {
    let total = parts_of(req, &mut |s| s.len() as u64).total();
    match tokenizer {
        Tokenizer::Estimate(margin) => (total as f64 * margin).ceil() as u64,
        Tokenizer::O200k | Tokenizer::Cl100k => total,
    }
}

/// [`upper_bound`] from the client's unedited bytes, without a JSON DOM: the body's size
/// bounds its text, its messages' and the reply's overhead (each costs more bytes than the
/// tokens added for it), and every quoted media type name may be a media part.
pub fn raw_upper_bound(req: &ChatRequest) -> Option<u64> {
    let raw = req.raw_bytes()?;
    let mut media = 0u64;
    for quote in memchr::memchr_iter(b'"', raw) {
        let rest = &raw[quote + 1..];
        if MEDIA_TYPES
            .iter()
            .any(|t| rest.starts_with(t.as_bytes()) && rest.get(t.len()) == Some(&b'"'))
        {
            media += 1;
        }
    }
    Some(raw.len() as u64 + media * MEDIA_PART_TOKENS)
}

/// A quick estimate without BPE (about 4 bytes per token), for ranking targets by cost.
pub fn quick_estimate(req: &ChatRequest) -> u64 {
    parts_of(req, &mut |s| (s.len() as u64).div_ceil(4)).total()
}

/// The output tokens a request may use at `model`: the client's cap, else what the encoder
/// will send a target that requires a cap (Anthropic), else [`DEFAULT_OUTPUT_TOKENS`].
pub fn output_tokens(req: &ChatRequest, model: &Model, kind: ProviderKind) -> u64 {
    match (req.max_output_tokens, kind) {
        // A cap above the model's maximum is lowered to it before sending (`translate`).
        (Some(n), _) => model.max_output_tokens.map_or(n, |max| n.min(max)),
        (None, ProviderKind::Anthropic) => model
            .max_output_tokens
            .unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS),
        (None, _) => DEFAULT_OUTPUT_TOKENS,
    }
}

/// Counts already made for this request, so filters that need the same count share it.
#[derive(Debug, Default)]
struct Counted {
    o200k: Option<u64>,
    cl100k: Option<u64>,
}

/// [`count_with`] for `tokenizer`, counted at most once per request and BPE vocabulary.
pub fn count_cached(cx: &mut RequestCtx, req: &ChatRequest, tokenizer: Tokenizer) -> u64 {
    if cx.slots.get::<Counted>().is_none() {
        cx.slots.insert(Counted::default());
    }
    let known = cx.slots.get::<Counted>().and_then(|c| match tokenizer {
        Tokenizer::O200k => c.o200k,
        Tokenizer::Cl100k | Tokenizer::Estimate(_) => c.cl100k,
    });
    let base = match known {
        Some(n) => n,
        None => {
            let base_tokenizer = match tokenizer {
                Tokenizer::O200k => Tokenizer::O200k,
                Tokenizer::Cl100k | Tokenizer::Estimate(_) => Tokenizer::Cl100k,
            };
            let n = count_with(req, base_tokenizer);
            if let Some(c) = cx.slots.get_mut::<Counted>() {
                match base_tokenizer {
                    Tokenizer::O200k => c.o200k = Some(n),
                    _ => c.cl100k = Some(n),
                }
            }
            n
        }
    };
    match tokenizer {
        Tokenizer::Estimate(margin) => (base as f64 * margin).ceil() as u64,
        Tokenizer::O200k | Tokenizer::Cl100k => base,
    }
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
