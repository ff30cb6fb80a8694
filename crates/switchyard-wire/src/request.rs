//! The client's request as the filter chain sees it, and its encoding for an upstream.
//!
//! The body stays the client's own JSON object so that a same-dialect request passes through
//! with only the gateway-owned fields rewritten; the typed fields next to it are the few facts
//! every filter needs, validated once at parse time.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::json::{self, Overlay};
use crate::raw_body::{dom_and_index, dom_of, RawBody, Source};
use crate::{Dialect, TranslateError};

/// A parsed chat request, in its inbound dialect.
///
/// The body is kept as the client sent it, indexed at its top level, for as long as no filter
/// edits it: a same-dialect request then goes upstream spliced from those bytes, and the JSON
/// DOM is built only when something needs it (translation to another dialect, a BPE count, an
/// edit) — [`ChatRequest::body`].
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The dialect the client spoke.
    pub dialect: Dialect,
    /// `body["model"]`: the route or model the client asked for.
    pub model: String,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Whether the client wants a usage report in the stream (OpenAI
    /// `stream_options.include_usage`; always true for Anthropic, whose stream carries usage).
    pub include_usage: bool,
    /// Output cap the client asked for: `max_completion_tokens`, else `max_tokens`.
    pub max_output_tokens: Option<u64>,
    /// The client's bytes and their top-level index, until the body is edited.
    raw: Option<RawBody>,
    /// The client's JSON object as a DOM, built on first use.
    dom: OnceLock<Map<String, Value>>,
    /// A request parsed straight into its DOM (Responses): the client's bytes and their index,
    /// found in that same parse, to splice a same-dialect pass-through from until the body is
    /// edited. Not [`ChatRequest::raw_bytes`]: filters read those when no DOM was built.
    splice: Option<RawBody>,
}

impl PartialEq for ChatRequest {
    fn eq(&self, other: &Self) -> bool {
        self.dialect == other.dialect
            && self.model == other.model
            && self.stream == other.stream
            && self.include_usage == other.include_usage
            && self.max_output_tokens == other.max_output_tokens
            && self.body() == other.body()
    }
}

impl ChatRequest {
    /// A request from a validated body.
    pub(crate) fn from_source(
        src: Source,
        dialect: Dialect,
        model: String,
        stream: bool,
        include_usage: bool,
        max_output_tokens: Option<u64>,
    ) -> ChatRequest {
        let (raw, dom) = match src {
            Source::Raw(raw) => (Some(raw), OnceLock::new()),
            Source::Dom(map) => (None, OnceLock::from(map)),
        };
        ChatRequest {
            dialect,
            model,
            stream,
            include_usage,
            max_output_tokens,
            raw,
            dom,
            splice: None,
        }
    }

    /// Parses and validates the fields the gateway relies on; everything else is left to the
    /// upstream to judge.
    ///
    /// # Errors
    /// `InvalidJson` when the body is not a JSON object; `InvalidRequest` naming the field when
    /// `model`, `messages`, `stream` or a token cap is missing or ill-typed.
    pub fn parse(dialect: Dialect, body: &[u8]) -> Result<ChatRequest, TranslateError> {
        let mut splice = None;
        let (src, model) = if dialect == Dialect::OpenAiResponses {
            // Checked for stored state, echoed and translated item by item from its DOM in any
            // case: parsed once, straight into it (indexing the bytes first cost 28 % of a
            // 100 KB request), noting where its members are on the way. The errors are those
            // of the indexed path, which falls back to this same full parse.
            let (map, model) = match dom_and_index(body) {
                Some((map, top)) => {
                    let model = model_of(&map)?;
                    splice = top.map(|top| RawBody {
                        bytes: body.into(),
                        top,
                    });
                    (map, model)
                }
                None => object_with_model(body)?,
            };
            (Source::Dom(map), model)
        } else {
            Source::read(body)?
        };
        if matches!(dialect, Dialect::Gemini | Dialect::Bedrock) {
            return Err(TranslateError::InvalidRequest {
                param: None,
                message: format!("{dialect} is not an inbound dialect"),
            });
        }
        if dialect == Dialect::OpenAiResponses {
            if let Source::Dom(map) = &src {
                crate::responses::inbound::check_stateless(map)?;
            }
        } else if !src.is_array("messages") {
            return Err(invalid(
                "messages",
                "`messages` is required and must be an array",
            ));
        }
        let stream = match src.value("stream").as_deref() {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("stream", "`stream` must be a boolean")),
        };
        let (include_usage, max_output_tokens) = match dialect {
            Dialect::Anthropic => {
                let max = opt_u64(&src, "max_tokens")?.ok_or_else(|| {
                    invalid(
                        "max_tokens",
                        "`max_tokens` is required and must be an integer",
                    )
                })?;
                (true, Some(max))
            }
            // Usage always arrives in `response.completed`.
            Dialect::OpenAiResponses => (true, opt_u64(&src, "max_output_tokens")?),
            _ => {
                let include_usage = src
                    .value("stream_options")
                    .as_deref()
                    .and_then(|o| o.get("include_usage"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let max = match opt_u64(&src, "max_completion_tokens")? {
                    Some(m) => Some(m),
                    None => opt_u64(&src, "max_tokens")?,
                };
                (include_usage, max)
            }
        };
        let mut req = ChatRequest::from_source(
            src,
            dialect,
            model,
            stream,
            include_usage,
            max_output_tokens,
        );
        req.splice = splice;
        Ok(req)
    }

    /// Parses an Anthropic `count_tokens` body: a Messages request without `max_tokens`.
    ///
    /// # Errors
    /// As [`ChatRequest::parse`].
    pub fn parse_count_tokens(body: &[u8]) -> Result<ChatRequest, TranslateError> {
        let (src, model) = Source::read(body)?;
        if !src.is_array("messages") {
            return Err(invalid(
                "messages",
                "`messages` is required and must be an array",
            ));
        }
        Ok(ChatRequest::from_source(
            src,
            Dialect::Anthropic,
            model,
            false,
            false,
            None,
        ))
    }

    /// A request from an already-parsed body (embeddings).
    pub(crate) fn from_dom(dialect: Dialect, body: Map<String, Value>, model: String) -> Self {
        ChatRequest::from_source(Source::Dom(body), dialect, model, false, false, None)
    }

    /// The client's JSON object (built from the client's bytes on first use).
    pub fn body(&self) -> &Map<String, Value> {
        self.dom.get_or_init(|| match &self.raw {
            Some(raw) => dom_of(&raw.bytes),
            None => Map::new(),
        })
    }

    /// The client's JSON object, to edit; from then on the request is encoded from it.
    pub fn body_mut(&mut self) -> &mut Map<String, Value> {
        self.splice = None;
        if let Some(raw) = self.raw.take() {
            if self.dom.get().is_none() {
                self.dom = OnceLock::from(dom_of(&raw.bytes));
            }
        }
        if self.dom.get().is_none() {
            self.dom = OnceLock::from(Map::new());
        }
        self.dom.get_mut().expect("set just above")
    }

    /// Whether the body has the top-level member `key`, without building the DOM.
    pub fn has_member(&self, key: &str) -> bool {
        match (&self.raw, self.dom.get()) {
            (_, Some(map)) => map.contains_key(key),
            (Some(raw), None) => raw.top.contains(&raw.bytes, key),
            (None, None) => false,
        }
    }

    /// The client's bytes, while no filter has edited the body.
    pub fn raw_bytes(&self) -> Option<&[u8]> {
        self.raw.as_ref().map(|r| &*r.bytes)
    }

    /// The client's bytes and their index, to splice an unedited body from.
    fn spliceable(&self) -> Option<&RawBody> {
        self.raw.as_ref().or(self.splice.as_ref())
    }

    /// Lowers every output cap in the body (`max_tokens`, `max_completion_tokens`,
    /// `max_output_tokens`) that is above `cap` to it, for a target that can't produce more;
    /// returns the names lowered.
    pub fn clamp_max_output_tokens(&mut self, cap: u64) -> Vec<&'static str> {
        let mut lowered = Vec::new();
        let body = self.body_mut();
        for key in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
            if let Some(v) = body.get_mut(key) {
                if v.as_u64().is_some_and(|n| n > cap) {
                    *v = Value::from(cap);
                    lowered.push(key);
                }
            }
        }
        if self.max_output_tokens.is_some_and(|n| n > cap) {
            self.max_output_tokens = Some(cap);
        }
        lowered
    }

    /// `body.metadata[key]` when it is a string; routing and auth read hints from here.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        if !self.has_member("metadata") {
            return None;
        }
        self.body().get("metadata")?.get(key)?.as_str()
    }

    /// Removes a gateway-only hint so the upstream never sees it; drops `metadata` once empty,
    /// since some providers reject an empty object or refuse `metadata` altogether.
    pub fn remove_metadata(&mut self, key: &str) {
        if !self.has_member("metadata") {
            return;
        }
        let body = self.body_mut();
        let Some(Value::Object(meta)) = body.get_mut("metadata") else {
            return;
        };
        meta.remove(key);
        if meta.is_empty() {
            body.remove("metadata");
        }
    }
}

/// A JSON object body and its required `model` string: the start of every request parse.
pub(crate) fn object_with_model(
    body: &[u8],
) -> Result<(serde_json::Map<String, Value>, String), TranslateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let Value::Object(body) = value else {
        return Err(TranslateError::InvalidJson(
            "expected a JSON object".to_owned(),
        ));
    };
    let model = model_of(&body)?;
    Ok((body, model))
}

/// The body's `model`: a non-empty string.
fn model_of(body: &Map<String, Value>) -> Result<String, TranslateError> {
    match body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        _ => Err(invalid("model", "`model` is required and must be a string")),
    }
}

pub(crate) fn invalid(param: &str, message: &str) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param.to_owned()),
        message: message.to_owned(),
    }
}

fn opt_u64(src: &Source, key: &str) -> Result<Option<u64>, TranslateError> {
    match src.value(key).as_deref() {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| TranslateError::InvalidRequest {
                param: Some(key.to_owned()),
                message: format!("`{key}` must be a non-negative integer"),
            }),
    }
}

/// Where a request is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeTarget<'a> {
    /// The upstream's dialect.
    pub dialect: Dialect,
    /// The model name the upstream knows.
    pub upstream_model: &'a str,
    /// Output cap for dialects that require one when the client gave none.
    pub default_max_output_tokens: Option<u64>,
    /// Refuse parameters the target can't take instead of dropping them.
    pub strict_params: bool,
    /// The upstream knows the output cap only by its older name, `max_tokens` (OpenAI-compatible
    /// servers such as Ollama, llama.cpp or Mistral): a request translated to OpenAI uses it
    /// instead of `max_completion_tokens`. Same-dialect requests are never renamed.
    pub legacy_max_tokens: bool,
    /// Ask an OpenAI upstream for a stream's usage chunk (`stream_options.include_usage`), so
    /// every stream is metered. When false, `stream_options` is left out altogether, for
    /// servers that refuse the field (Mistral, which reports usage in its last chunk anyway).
    pub stream_usage: bool,
}

/// The upstream request body, and what had to be left out to produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    /// Serialized JSON body for the upstream.
    pub body: Vec<u8>,
    /// Client parameters the target can't take, dropped (surfaced as
    /// `x-switchyard-dropped-params`).
    pub dropped_params: Vec<String>,
}

/// Encodes the request for `target`, translating dialects when they differ.
///
/// # Errors
/// `UnsupportedParam` when `strict_params` is set and a parameter would be dropped;
/// `InvalidRequest` when the request can't be expressed in the target dialect.
pub fn encode_request(
    req: &ChatRequest,
    target: &EncodeTarget,
) -> Result<EncodedRequest, TranslateError> {
    match (req.dialect, target.dialect) {
        (Dialect::OpenAi, Dialect::OpenAi) => Ok(encode_openai_request(req, target)),
        (Dialect::OpenAi, Dialect::Anthropic) => {
            crate::anthropic::request::encode(req.body(), req.stream, target)
        }
        (Dialect::Anthropic, Dialect::Anthropic) => Ok(encode_anthropic(req, target)),
        (Dialect::Anthropic, Dialect::OpenAi) => {
            let mut canonical = crate::anthropic::inbound::to_canonical(
                req.body(),
                target.strict_params,
                target.dialect,
            )?;
            if target.legacy_max_tokens {
                if let Some(max) = canonical.body.remove("max_completion_tokens") {
                    canonical.body.insert("max_tokens".to_owned(), max);
                }
            }
            let mut encoded = encode_openai(&canonical.body, req.stream, target);
            encoded.dropped_params = canonical.dropped;
            Ok(encoded)
        }
        (Dialect::OpenAi, Dialect::Gemini) => encode_gemini(req.body(), target, Vec::new()),
        (Dialect::Anthropic, Dialect::Gemini) => {
            let canonical = crate::anthropic::inbound::to_canonical(
                req.body(),
                target.strict_params,
                target.dialect,
            )?;
            encode_gemini(&canonical.body, target, canonical.dropped)
        }
        (Dialect::OpenAiResponses, Dialect::OpenAiResponses) => Ok(encode_renamed(req, target)),
        (Dialect::OpenAiResponses, to) => {
            let canonical =
                crate::responses::inbound::to_canonical(req.body(), target.strict_params, to)?;
            let mut body = canonical.body;
            let mut encoded = match to {
                Dialect::Anthropic => crate::anthropic::request::encode(&body, req.stream, target)?,
                Dialect::Gemini => encode_gemini(&body, target, Vec::new())?,
                Dialect::OpenAi => {
                    if target.legacy_max_tokens {
                        if let Some(max) = body.remove("max_completion_tokens") {
                            body.insert("max_tokens".to_owned(), max);
                        }
                    }
                    encode_openai(&body, req.stream, target)
                }
                Dialect::Bedrock => encode_bedrock(&body, target, Vec::new())?,
                other => return Err(crate::unsupported_pair(req.dialect, other)),
            };
            let mut dropped = canonical.dropped;
            for p in encoded.dropped_params {
                if !dropped.contains(&p) {
                    dropped.push(p);
                }
            }
            encoded.dropped_params = dropped;
            Ok(encoded)
        }
        (Dialect::OpenAi, Dialect::Bedrock) => encode_bedrock(req.body(), target, Vec::new()),
        (Dialect::Anthropic, Dialect::Bedrock) => {
            let canonical = crate::anthropic::inbound::to_canonical(
                req.body(),
                target.strict_params,
                target.dialect,
            )?;
            encode_bedrock(&canonical.body, target, canonical.dropped)
        }
        (from, to) => Err(crate::unsupported_pair(from, to)),
    }
}

/// The client's body with only `model` rewritten, for an upstream that takes it as it is
/// (Anthropic's `count_tokens`).
pub fn rename_model(req: &ChatRequest, upstream_model: &str) -> Vec<u8> {
    let target = EncodeTarget {
        dialect: req.dialect,
        upstream_model,
        default_max_output_tokens: None,
        strict_params: false,
        legacy_max_tokens: false,
        stream_usage: false,
    };
    encode_renamed(req, &target).body
}

/// A body passed through to an upstream of its own dialect with only `model` rewritten.
fn encode_renamed(req: &ChatRequest, target: &EncodeTarget) -> EncodedRequest {
    let set = [("model", Value::String(target.upstream_model.to_owned()))];
    EncodedRequest {
        body: write_patched(req, &set, &[]),
        dropped_params: Vec::new(),
    }
}

/// The request's body with the `set` members replaced (or added) and the `remove` ones left
/// out: spliced from the client's bytes while no filter has edited them, else written from
/// the DOM.
fn write_patched(req: &ChatRequest, set: &[(&str, Value)], remove: &[&str]) -> Vec<u8> {
    let raw = req.spliceable();
    let mut out = Vec::with_capacity(raw.map_or(256, |r| r.bytes.len()) + 64);
    match raw {
        Some(raw) => {
            let values: Vec<Vec<u8>> = set
                .iter()
                .map(|(_, v)| {
                    let mut text = Vec::new();
                    json::write(&mut text, v);
                    text
                })
                .collect();
            let set: Vec<(&str, &[u8])> = set
                .iter()
                .zip(&values)
                .map(|((k, _), v)| (*k, v.as_slice()))
                .collect();
            raw.top.patch(&raw.bytes, &set, remove, &mut out);
        }
        None => json::write(
            &mut out,
            &Overlay {
                base: req.body(),
                set,
                remove,
            },
        ),
    }
    out
}

/// An OpenAI-canonical body as a Converse request; the model and streaming go in the URL
/// ([`crate::bedrock::model_path`]).
fn encode_bedrock(
    body: &Map<String, Value>,
    target: &EncodeTarget,
    mut dropped: Vec<String>,
) -> Result<EncodedRequest, TranslateError> {
    let (out, more) =
        crate::bedrock::request_from_openai(body, target.upstream_model, target.strict_params)?;
    dropped.extend(more);
    let mut bytes = Vec::with_capacity(256);
    json::write(&mut bytes, &out);
    Ok(EncodedRequest {
        body: bytes,
        dropped_params: dropped,
    })
}

/// An OpenAI-canonical body for Gemini; the model and streaming go in the URL
/// ([`crate::gemini::model_path`]), not the body.
fn encode_gemini(
    body: &Map<String, Value>,
    target: &EncodeTarget,
    mut dropped: Vec<String>,
) -> Result<EncodedRequest, TranslateError> {
    let (out, more) = crate::gemini::request_from_openai(body, target.strict_params)?;
    dropped.extend(more);
    let mut bytes = Vec::with_capacity(256);
    json::write(&mut bytes, &out);
    Ok(EncodedRequest {
        body: bytes,
        dropped_params: dropped,
    })
}

/// An OpenAI body for an OpenAI upstream: rename the model and, for streams, ask for the usage
/// chunk so the gateway can meter even when the client didn't (the stream translator hides it
/// again), unless the target refuses `stream_options`.
fn encode_openai(body: &Map<String, Value>, stream: bool, target: &EncodeTarget) -> EncodedRequest {
    let (set, remove) = openai_members(body.get("stream_options"), stream, target);
    let mut out = Vec::with_capacity(256);
    json::write(
        &mut out,
        &Overlay {
            base: body,
            set: &set,
            remove,
        },
    );
    EncodedRequest {
        body: out,
        dropped_params: Vec::new(),
    }
}

/// [`encode_openai`] for the client's own OpenAI request, spliced when unedited.
fn encode_openai_request(req: &ChatRequest, target: &EncodeTarget) -> EncodedRequest {
    let options = match &req.raw {
        Some(raw) if req.dom.get().is_none() => raw.value("stream_options"),
        _ => req.body().get("stream_options").cloned(),
    };
    let (set, remove) = openai_members(options.as_ref(), req.stream, target);
    EncodedRequest {
        body: write_patched(req, &set, remove),
        dropped_params: Vec::new(),
    }
}

/// What an OpenAI upstream gets rewritten: the model and, for streams, the usage chunk asked
/// for (merged into the client's `stream_options`) or `stream_options` left out.
fn openai_members(
    client_options: Option<&Value>,
    stream: bool,
    target: &EncodeTarget,
) -> (Vec<(&'static str, Value)>, &'static [&'static str]) {
    let mut set: Vec<(&str, Value)> = Vec::with_capacity(2);
    set.push(("model", Value::String(target.upstream_model.to_owned())));
    if stream && target.stream_usage {
        let mut options = match client_options {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        options.insert("include_usage".to_owned(), Value::Bool(true));
        set.push(("stream_options", Value::Object(options)));
    }
    let remove: &[&str] = if target.stream_usage {
        &[]
    } else {
        &["stream_options"]
    };
    (set, remove)
}

/// Anthropic to Anthropic: rename the model; restore `max_tokens` if a filter removed it,
/// since Anthropic requires it.
fn encode_anthropic(req: &ChatRequest, target: &EncodeTarget) -> EncodedRequest {
    let mut set: Vec<(&str, Value)> = Vec::with_capacity(2);
    set.push(("model", Value::String(target.upstream_model.to_owned())));
    if !req.has_member("max_tokens") {
        let max = req
            .max_output_tokens
            .or(target.default_max_output_tokens)
            .unwrap_or(4096);
        set.push(("max_tokens", Value::from(max)));
    }
    EncodedRequest {
        body: write_patched(req, &set, &[]),
        dropped_params: Vec::new(),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
