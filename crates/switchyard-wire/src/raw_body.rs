//! A JSON object indexed at its top level without building a DOM, and rewritten by splicing:
//! a request going to an upstream of its own dialect keeps the client's bytes, with only the
//! gateway-owned members (`model`, `stream_options`, …) replaced, added or removed.
//!
//! The index is built by serde_json itself (each value is skipped as a [`RawValue`]), so a body
//! it accepts is well-formed JSON and its syntax errors are serde_json's. Two things serde_json
//! only checks when it builds values — numbers beyond `f64` and lone UTF-16 surrogates in
//! `\u` escapes — are caught by [`needs_full_parse`], after which the caller parses the body
//! the ordinary way.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::request::{invalid, object_with_model};
use crate::TranslateError;

mod with_dom;

pub(crate) use with_dom::dom_and_index;

/// A member's key: a span of the body when it has no escapes, else decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Span(Range<usize>),
    Decoded(Box<str>),
}

/// One top-level member.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    key: Key,
    /// Where the member's text starts: just after `{` or after the previous value (so it
    /// holds the separating comma, whitespace, the key and the colon).
    start: usize,
    /// The value, without surrounding whitespace.
    value: Range<usize>,
}

/// The top-level members of a JSON object body, in order (duplicates kept: as with a DOM,
/// the last one is the one that counts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopLevel {
    members: Vec<Member>,
}

impl TopLevel {
    /// Indexes `body`; `None` when it is not a well-formed JSON object (the caller parses it
    /// the ordinary way to report why).
    pub fn index(body: &[u8]) -> Option<TopLevel> {
        let first = body.iter().position(|b| !b.is_ascii_whitespace())?;
        if body[first] != b'{' {
            return None;
        }
        let mut de = serde_json::Deserializer::from_slice(body);
        let raw = de
            .deserialize_map(Collect {
                base: body.as_ptr() as usize,
                open: first,
            })
            .ok()?;
        de.end().ok()?;
        Some(TopLevel { members: raw })
    }

    fn key<'b>(&'b self, body: &'b [u8], m: &'b Member) -> &'b [u8] {
        match &m.key {
            Key::Span(r) => &body[r.clone()],
            Key::Decoded(k) => k.as_bytes(),
        }
    }

    /// The raw text of the value of `key` (its last occurrence).
    pub fn get<'b>(&self, body: &'b [u8], key: &str) -> Option<&'b [u8]> {
        self.members
            .iter()
            .rev()
            .find(|m| self.key(body, m) == key.as_bytes())
            .map(|m| &body[m.value.clone()])
    }

    /// Whether `key` is a member.
    pub fn contains(&self, body: &[u8], key: &str) -> bool {
        self.get(body, key).is_some()
    }

    /// Writes `body` with every member named in `set` given that raw JSON value (appended
    /// when absent) and every member named in `remove` left out. Everything else, spacing and
    /// member order included, is copied as the client wrote it.
    pub fn patch(&self, body: &[u8], set: &[(&str, &[u8])], remove: &[&str], out: &mut Vec<u8>) {
        out.reserve(body.len() + 64);
        out.push(b'{');
        let mut wrote = false;
        for m in &self.members {
            let key = self.key(body, m);
            if remove.iter().any(|r| r.as_bytes() == key) {
                continue;
            }
            let head = &body[m.start..m.value.start];
            let head = strip_comma(head);
            if wrote {
                out.push(b',');
            }
            out.extend_from_slice(head);
            match set.iter().find(|(k, _)| k.as_bytes() == key) {
                Some((_, v)) => out.extend_from_slice(v),
                None => out.extend_from_slice(&body[m.value.clone()]),
            }
            wrote = true;
        }
        for (k, v) in set {
            if self
                .members
                .iter()
                .any(|m| self.key(body, m) == k.as_bytes())
            {
                continue;
            }
            if wrote {
                out.push(b',');
            }
            crate::json::write(out, k);
            out.push(b':');
            out.extend_from_slice(v);
            wrote = true;
        }
        out.push(b'}');
    }
}

/// A member's head without the comma that separated it from the one before.
fn strip_comma(head: &[u8]) -> &[u8] {
    let skip = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    match head.get(skip) {
        Some(b',') => &head[skip + 1..],
        _ => head,
    }
}

/// Whether `body` may hold what only a full parse rejects: an exponent or a long digit run
/// (a number beyond `f64`), or a `\u` escape (a lone surrogate). Cheap and conservative: a
/// `true` costs a full parse, never a wrong answer.
pub fn needs_full_parse(body: &[u8]) -> bool {
    let mut digits = 0usize;
    let mut prev = 0u8;
    for &b in body {
        if b.is_ascii_digit() {
            digits += 1;
            if digits > 300 {
                return true;
            }
        } else {
            if (b == b'e' || b == b'E') && prev.is_ascii_digit() {
                return true;
            }
            if b == b'u' && prev == b'\\' {
                return true;
            }
            digits = 0;
        }
        prev = b;
    }
    false
}

/// The client's bytes and their top-level index.
#[derive(Debug, Clone)]
pub(crate) struct RawBody {
    pub bytes: Box<[u8]>,
    pub top: TopLevel,
}

/// A request body being validated: indexed bytes, or a DOM when the bytes need a full parse.
pub(crate) enum Source {
    Raw(RawBody),
    Dom(Map<String, Value>),
}

impl Source {
    /// Reads a JSON object with a non-empty string `model`.
    pub fn read(body: &[u8]) -> Result<(Source, String), TranslateError> {
        if !needs_full_parse(body) {
            if let Some(top) = TopLevel::index(body) {
                let raw = RawBody {
                    bytes: body.into(),
                    top,
                };
                let model = match raw.value("model") {
                    Some(Value::String(m)) if !m.is_empty() => m,
                    _ => return Err(invalid("model", "`model` is required and must be a string")),
                };
                return Ok((Source::Raw(raw), model));
            }
        }
        let (map, model) = object_with_model(body)?;
        Ok((Source::Dom(map), model))
    }

    pub fn value(&self, key: &str) -> Option<Cow<'_, Value>> {
        match self {
            Source::Raw(raw) => raw.value(key).map(Cow::Owned),
            Source::Dom(map) => map.get(key).map(Cow::Borrowed),
        }
    }

    pub fn is_array(&self, key: &str) -> bool {
        match self {
            Source::Raw(raw) => raw
                .top
                .get(&raw.bytes, key)
                .is_some_and(|v| v.first() == Some(&b'[')),
            Source::Dom(map) => matches!(map.get(key), Some(Value::Array(_))),
        }
    }
}

impl RawBody {
    /// The member `key` as a value (small members only: this parses it).
    pub fn value(&self, key: &str) -> Option<Value> {
        let text = self.top.get(&self.bytes, key)?;
        Some(serde_json::from_slice(text).unwrap_or(Value::Null))
    }
}

/// The DOM of bytes [`Source::read`] already accepted (so this can't fail; an empty object
/// stands in if it somehow did).
pub(crate) fn dom_of(bytes: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Collects the top-level members of a map.
struct Collect {
    base: usize,
    open: usize,
}

/// A key, borrowed from the body when it has no escapes.
struct KeyCow<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyCow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyCow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyCow(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyCow(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Collect {
    type Value = Vec<Member>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(16);
        let mut start = self.open + 1;
        while let Some(KeyCow(key)) = map.next_key::<KeyCow<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            let text = value.get();
            let at = text.as_ptr() as usize - self.base;
            let key = match key {
                Cow::Borrowed(k) => {
                    let k_at = k.as_ptr() as usize - self.base;
                    Key::Span(k_at..k_at + k.len())
                }
                Cow::Owned(k) => Key::Decoded(k.into()),
            };
            members.push(Member {
                key,
                start,
                value: at..at + text.len(),
            });
            start = at + text.len();
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn patched(body: &str, set: &[(&str, &str)], remove: &[&str]) -> String {
        let top = TopLevel::index(body.as_bytes()).expect("an object");
        let set: Vec<(&str, &[u8])> = set.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        let mut out = Vec::new();
        top.patch(body.as_bytes(), &set, remove, &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn replaces_only_the_top_level_member() {
        let body = r#"{ "model" : "gpt-4o", "messages":[{"model":"x","content":"hi"}], "n": 1 }"#;
        let out = patched(body, &[("model", r#""gpt-4o-2024""#)], &[]);
        assert_eq!(
            out,
            r#"{ "model" : "gpt-4o-2024", "messages":[{"model":"x","content":"hi"}], "n": 1}"#
        );
    }

    #[test]
    fn appends_and_removes_members() {
        let body = r#"{"stream_options":{"x":1},"model":"a","stream":true}"#;
        let out = patched(
            body,
            &[("model", r#""b""#), ("max_tokens", "10")],
            &["stream_options"],
        );
        assert_eq!(out, r#"{"model":"b","stream":true,"max_tokens":10}"#);
        let v: Value = serde_json::from_str(&out).expect("valid");
        assert_eq!(v, json!({"model": "b", "stream": true, "max_tokens": 10}));
        assert_eq!(
            patched("{}", &[("model", r#""m""#)], &[]),
            r#"{"model":"m"}"#
        );
        assert_eq!(patched(r#"{"model":"a"}"#, &[], &["model"]), "{}");
    }

    #[test]
    fn escaped_and_duplicate_keys_are_matched_like_a_dom() {
        let body = r#"{"mod\u0065l":"a","model":"b","x":"\u00e9"}"#;
        let top = TopLevel::index(body.as_bytes()).expect("object");
        assert_eq!(top.get(body.as_bytes(), "model"), Some(&br#""b""#[..]));
        let out = patched(body, &[("model", r#""c""#)], &[]);
        let v: Value = serde_json::from_str(&out).expect("valid");
        assert_eq!(v, json!({"model": "c", "x": "é"}));
    }

    #[test]
    fn anything_but_a_well_formed_object_is_left_to_the_full_parse() {
        for bad in [
            "",
            "   ",
            "[1]",
            "\"s\"",
            "{",
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a":[1,2}"#,
            r#"{"a":"\x"}"#,
            r#"{1:2}"#,
        ] {
            assert!(TopLevel::index(bad.as_bytes()).is_none(), "{bad}");
            assert!(serde_json::from_str::<Value>(bad).is_err() || !bad.starts_with('{'));
        }
    }

    #[test]
    fn what_only_a_full_parse_rejects_is_flagged() {
        for body in [
            r#"{"t":1e400}"#,
            r#"{"t":"\ud800"}"#,
            &format!(r#"{{"t":{}}}"#, "9".repeat(400)),
        ] {
            assert!(serde_json::from_str::<Value>(body).is_err(), "{body}");
            assert!(needs_full_parse(body.as_bytes()), "{body}");
        }
        assert!(!needs_full_parse(
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"2 + 2 = 4"}],"temperature":0.2}"#
        ));
    }

    #[test]
    fn patching_round_trips_as_the_dom_would() {
        let body = r#"{"model":"a","messages":[{"role":"user","content":"q \"quoted\" \n"}],"temperature":0.5,"metadata":{"k":"v"}}"#;
        let out = patched(body, &[("model", r#""z""#)], &["metadata"]);
        let mut want: Value = serde_json::from_str(body).expect("valid");
        want["model"] = json!("z");
        want.as_object_mut().expect("object").remove("metadata");
        assert_eq!(serde_json::from_str::<Value>(&out).expect("valid"), want);
    }
}
