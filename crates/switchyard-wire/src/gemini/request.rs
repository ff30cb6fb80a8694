//! OpenAI chat completions request to a Gemini `GenerateContentRequest`: the conversation
//! (`messages` to `systemInstruction` + `contents`). Sampling parameters, tools and response
//! format live in `config.rs`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::config::Config;
use super::SKIP_SIGNATURE;
use crate::{turns, TranslateError};

/// Translates an OpenAI chat completions request into a Gemini `GenerateContentRequest`.
///
/// Returns the body and the names of the parameters dropped because Gemini has no
/// counterpart (for `x-switchyard-dropped-params`). With `strict_params`, the first such
/// parameter is an `UnsupportedParam` error instead. `model`, `stream` and `stream_options`
/// are not part of the body: the model and streaming choice go in the URL ([`super::model_path`]).
///
/// # Errors
/// `InvalidRequest` for a malformed request (missing `messages`, unknown role, a `tool`
/// message whose `tool_call_id` matches no earlier call, unparseable tool arguments, an image
/// that is neither a base64 data URL nor http(s), ...); `UnsupportedParam` as above.
pub fn request_from_openai(
    req: &Map<String, Value>,
    strict_params: bool,
) -> Result<(Value, Vec<String>), TranslateError> {
    let messages = req
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            invalid(
                "messages",
                "`messages` must be a non-empty array".to_owned(),
            )
        })?;
    let conversation = Conversation::from_messages(messages)?;
    let config = Config::from_request(req, strict_params)?;

    let mut body = Map::new();
    if !conversation.system.is_empty() {
        body.insert(
            "systemInstruction".to_owned(),
            json!({ "parts": conversation.system }),
        );
    }
    body.insert("contents".to_owned(), Value::Array(conversation.contents));
    config.write_into(&mut body);
    Ok((Value::Object(body), config.dropped))
}

/// `InvalidRequest` for `param`.
pub(super) fn invalid(param: impl Into<String>, message: String) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.into()),
        message,
    }
}

/// The translated conversation.
struct Conversation {
    /// Text parts of every `system`/`developer` message, in order. Gemini has a single
    /// system instruction, so a system message in mid-conversation joins it too.
    system: Vec<Value>,
    /// `Content`s with roles `user`/`model`, consecutive same-role turns merged.
    contents: Vec<Value>,
}

impl Conversation {
    fn from_messages(messages: &[Value]) -> Result<Self, TranslateError> {
        let mut conv = Conversation {
            system: Vec::new(),
            contents: Vec::new(),
        };
        // tool_call_id -> function name, to name each functionResponse.
        let mut call_names: HashMap<String, String> = HashMap::new();
        for (i, msg) in messages.iter().enumerate() {
            let at = format!("messages[{i}]");
            let role = turns::role(msg, &at)?;
            let content = msg.get("content").unwrap_or(&Value::Null);
            match role {
                "system" | "developer" => conv.system.extend(text_only_parts(content, &at)?),
                "user" => {
                    let parts = user_parts(content, &at)?;
                    conv.push("user", parts);
                }
                "assistant" => {
                    let mut parts = text_only_parts(content, &at)?;
                    parts.extend(call_parts(msg, &at, &mut call_names)?);
                    conv.push("model", parts);
                }
                "tool" => {
                    let id = turns::tool_call_id(msg, &at)?;
                    let name = call_names.get(id).ok_or_else(|| {
                        invalid(
                            format!("{at}.tool_call_id"),
                            format!("{at}: no earlier assistant tool call has id {id:?}"),
                        )
                    })?;
                    let part = function_response(name, content);
                    conv.push("user", vec![part]);
                }
                "function" => {
                    let name = msg.get("name").and_then(Value::as_str).ok_or_else(|| {
                        invalid(format!("{at}.name"), format!("{at} has no `name`"))
                    })?;
                    conv.push("user", vec![function_response(name, content)]);
                }
                other => return Err(turns::unknown_role(&at, other, "gemini")),
            }
        }
        turns::not_empty(&conv.contents)?;
        Ok(conv)
    }

    /// Appends parts as a turn of `role`, merged into the previous turn when it has the same
    /// role (Gemini expects alternating turns; parallel tool results must share one turn).
    fn push(&mut self, role: &str, parts: Vec<Value>) {
        turns::push_merged(&mut self.contents, role, "parts", parts);
    }
}

/// Text parts of a string or array content (`text` and `refusal` parts); empty text is
/// skipped because Gemini rejects empty text parts.
fn text_only_parts(content: &Value, at: &str) -> Result<Vec<Value>, TranslateError> {
    match content {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(text_part(s).into_iter().collect()),
        Value::Array(items) => {
            let mut parts = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
                let text = match kind {
                    "text" => item.get("text"),
                    "refusal" => item.get("refusal"),
                    _ => {
                        return Err(invalid(
                            format!("{at}.content[{j}].type"),
                            format!("{at}.content[{j}]: part type {kind:?} is not allowed here"),
                        ))
                    }
                };
                let text = text.and_then(Value::as_str).ok_or_else(|| {
                    invalid(
                        format!("{at}.content[{j}]"),
                        format!("{at}.content[{j}] has no text"),
                    )
                })?;
                parts.extend(text_part(text));
            }
            Ok(parts)
        }
        _ => Err(invalid(
            format!("{at}.content"),
            format!("{at}.content must be a string or an array of parts"),
        )),
    }
}

fn text_part(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "text": text }))
}

/// Parts of a user message: text, images, audio and files.
fn user_parts(content: &Value, at: &str) -> Result<Vec<Value>, TranslateError> {
    let Value::Array(items) = content else {
        return text_only_parts(content, at);
    };
    let mut parts = Vec::new();
    for (j, item) in items.iter().enumerate() {
        let here = format!("{at}.content[{j}]");
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        let part = match kind {
            "text" => item.get("text").and_then(Value::as_str).and_then(text_part),
            "image_url" => {
                let url = item
                    .get("image_url")
                    .and_then(|i| i.get("url").or(Some(i)))
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(&here, format!("{here} has no image_url.url")))?;
                Some(image_part(url, &here)?)
            }
            "input_audio" => {
                let audio = item.get("input_audio");
                let data = audio.and_then(|a| a.get("data")).and_then(Value::as_str);
                let format = audio.and_then(|a| a.get("format")).and_then(Value::as_str);
                let (Some(data), Some(format)) = (data, format) else {
                    return Err(invalid(
                        &here,
                        format!("{here} needs input_audio.data and .format"),
                    ));
                };
                Some(
                    json!({ "inlineData": { "mimeType": format!("audio/{format}"), "data": data } }),
                )
            }
            "file" => {
                let data = item
                    .get("file")
                    .and_then(|f| f.get("file_data"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            &here,
                            format!("{here}: only inline file_data is supported (no file_id)"),
                        )
                    })?;
                Some(data_url_part(data, &here)?)
            }
            other => {
                return Err(invalid(
                    format!("{here}.type"),
                    format!("{here}: unsupported content part type {other:?}"),
                ))
            }
        };
        parts.extend(part);
    }
    Ok(parts)
}

/// An image reference: a base64 data URL becomes `inlineData`, an http(s) URL `fileData`
/// with the MIME type guessed from the file extension (`image/jpeg` when unknown).
fn image_part(url: &str, at: &str) -> Result<Value, TranslateError> {
    if url.starts_with("data:") {
        return data_url_part(url, at);
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(invalid(
            at,
            format!("{at}: image URL must be https://, http:// or a base64 data: URL"),
        ));
    }
    Ok(json!({ "fileData": { "mimeType": guess_image_mime(&lower), "fileUri": url } }))
}

/// `data:<mime>[;params];base64,<data>` to `inlineData`.
fn data_url_part(url: &str, at: &str) -> Result<Value, TranslateError> {
    let parsed = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','));
    let Some((header, data)) = parsed else {
        return Err(invalid(at, format!("{at}: malformed data URL")));
    };
    let mime = header.split(';').next().unwrap_or("");
    if !header.ends_with(";base64") || mime.is_empty() || data.is_empty() {
        return Err(invalid(
            at,
            format!("{at}: data URL must be `data:<mime type>;base64,<data>`"),
        ));
    }
    Ok(json!({ "inlineData": { "mimeType": mime, "data": data } }))
}

/// MIME type from a URL path's extension (query and fragment ignored), for the image types
/// Gemini documents; anything else is sent as `image/jpeg`.
fn guess_image_mime(lower_url: &str) -> &'static str {
    let path = lower_url.split(['?', '#']).next().unwrap_or("");
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "gif" => "image/gif",
        _ => "image/jpeg",
    }
}

/// `functionCall` parts of an assistant message's `tool_calls`, recording each call's name.
///
/// A call's Gemini thought signature is read back from `extra_content.google.thought_signature`
/// (where responses put it). If the message's first call has none, it gets Google's documented
/// skip value, because Gemini 3 rejects a replayed function call without a signature.
fn call_parts(
    msg: &Value,
    at: &str,
    names: &mut HashMap<String, String>,
) -> Result<Vec<Value>, TranslateError> {
    let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut parts = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let here = format!("{at}.tool_calls[{j}]");
        let (name, args) = turns::function_call(call, &here)?;
        if let Some(id) = call.get("id").and_then(Value::as_str) {
            names.insert(id.to_owned(), name.to_owned());
        }
        let mut part = json!({ "functionCall": { "name": name, "args": args } });
        let signature = call
            .pointer("/extra_content/google/thought_signature")
            .and_then(Value::as_str)
            .or((j == 0).then_some(SKIP_SIGNATURE));
        if let (Some(sig), Some(obj)) = (signature, part.as_object_mut()) {
            obj.insert("thoughtSignature".to_owned(), Value::String(sig.to_owned()));
        }
        parts.push(part);
    }
    Ok(parts)
}

/// A `functionResponse` part. Gemini wants `response` to be an object: a tool result that is
/// a JSON object is sent as is; anything else (plain text, other JSON) goes under `output`,
/// the key Gemini documents for a function's output.
fn function_response(name: &str, content: &Value) -> Value {
    let text = turns::tool_text(content);
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(obj @ Value::Object(_)) => obj,
        Ok(other) => json!({ "output": other }),
        Err(_) => json!({ "output": text }),
    };
    json!({ "functionResponse": { "name": name, "response": response } })
}
