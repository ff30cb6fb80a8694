//! Gemini `generateContent` wire fixtures, shaped like recorded API transcripts (see
//! `crates/switchyard-wire/tests/fixtures/gemini/`): the `GenerateContentResponse`, the
//! `streamGenerateContent?alt=sse` event stream (`data: {…}\r\n\r\n`, no terminator), and
//! Google's `{"error":{code,message,status}}` envelope.

use serde_json::{json, Value};

const RESPONSE_ID: &str = "k3JVaLmDNeKH7M8Pj-HVqAU";
const MODEL_VERSION: &str = "gemini-2.5-flash";

fn usage(prompt: u64, output: Option<u64>) -> Value {
    let mut u = json!({
        "promptTokenCount": prompt,
        "totalTokenCount": prompt + output.unwrap_or(0),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]
    });
    if let Some(o) = output {
        u["candidatesTokenCount"] = json!(o);
    }
    u
}

fn with_parts(parts: Value, finish: Option<&str>, prompt: u64, output: Option<u64>) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(f) = finish {
        candidate["finishReason"] = json!(f);
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage(prompt, output),
        "modelVersion": MODEL_VERSION,
        "responseId": RESPONSE_ID
    })
}

/// A whole response answering `text`, stopped for `finish` (`STOP`, `MAX_TOKENS`, …).
pub fn response(text: &str, finish: &str, prompt: u64, output: u64) -> Value {
    with_parts(json!([{"text": text}]), Some(finish), prompt, Some(output))
}

/// A whole response calling one function (Gemini sends no call id).
pub fn function_call(name: &str, args: Value, prompt: u64, output: u64) -> Value {
    with_parts(
        json!([{"functionCall": {"name": name, "args": args}}]),
        Some("STOP"),
        prompt,
        Some(output),
    )
}

fn event(v: &Value) -> String {
    format!("data: {v}\r\n\r\n")
}

/// The events of a streamed answer made of `pieces`; the last carries `finishReason: STOP`
/// and the final usage (earlier ones carry the prompt count only, as Gemini sends).
pub fn stream(pieces: &[&str], prompt: u64, output: u64) -> Vec<String> {
    let last = pieces.len().saturating_sub(1);
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == last {
                event(&with_parts(
                    json!([{"text": p}]),
                    Some("STOP"),
                    prompt,
                    Some(output),
                ))
            } else {
                event(&with_parts(json!([{"text": p}]), None, prompt, None))
            }
        })
        .collect()
}

/// A streamed function call: one event with the whole call (Gemini never splits arguments).
pub fn function_call_stream(name: &str, args: Value, prompt: u64, output: u64) -> Vec<String> {
    vec![event(&function_call(name, args, prompt, output))]
}

/// Google's error envelope.
pub fn error(code: u16, status: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "status": status}})
}
