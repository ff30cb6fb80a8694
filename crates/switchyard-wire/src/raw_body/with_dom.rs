//! A body that must be parsed whole (a Responses request: its DOM is read for the stored-state
//! checks, the echo and the item translation) indexed in the same pass: where each top-level
//! member sits is worked out from where serde_json found its key, so a pass-through to an
//! upstream of the same dialect is spliced from the client's bytes instead of written back out
//! from the DOM (escaping every string again cost a third of a 100 KB pass-through).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{Key, KeyCow, Member, TopLevel};

/// The DOM of `body` and, when every top-level key is written without escapes, its
/// [`TopLevel`] index (equal to [`TopLevel::index`]'s); `None` when `body` is not a
/// well-formed JSON object (the caller parses it the ordinary way to report why).
pub(crate) fn dom_and_index(body: &[u8]) -> Option<(Map<String, Value>, Option<TopLevel>)> {
    let open = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[open] != b'{' {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let (map, keys) = de
        .deserialize_map(DomKeys {
            base: body.as_ptr() as usize,
        })
        .ok()?;
    de.end().ok()?;
    let top = keys.and_then(|keys| members(body, open, &keys));
    Some((map, top.map(|members| TopLevel { members })))
}

/// The members whose keys (unquoted spans) are `keys`, in order: between a key's closing quote
/// and its value there is only whitespace and a colon, and between a value and the next key's
/// opening quote (or the closing brace) only whitespace and a comma.
fn members(body: &[u8], open: usize, keys: &[std::ops::Range<usize>]) -> Option<Vec<Member>> {
    let close = body.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let mut out = Vec::with_capacity(keys.len());
    let mut start = open + 1;
    for (i, key) in keys.iter().enumerate() {
        let mut at = key.end + 1;
        at += skip_ws(&body[at..]);
        if body.get(at) != Some(&b':') {
            return None;
        }
        at += 1;
        at += skip_ws(&body[at..]);
        let value_start = at;
        // Back from the next key's opening quote over `ws , ws`, or from the closing brace.
        let mut end = match keys.get(i + 1) {
            Some(next) => {
                let mut e = next.start.checked_sub(1)?;
                e -= skip_ws_back(&body[..e]);
                if e == 0 || body[e - 1] != b',' {
                    return None;
                }
                e - 1
            }
            None => close,
        };
        end -= skip_ws_back(&body[..end]);
        if end <= value_start {
            return None;
        }
        out.push(Member {
            key: Key::Span(key.clone()),
            start,
            value: value_start..end,
        });
        start = end;
    }
    Some(out)
}

fn skip_ws(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_whitespace()).count()
}

fn skip_ws_back(s: &[u8]) -> usize {
    s.iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

/// Builds the DOM of a map, noting where each key is in the body (`None` once a key has
/// escapes: then it was decoded into a copy, and the body can't be spliced by position).
struct DomKeys {
    base: usize,
}

type Keys = Option<Vec<std::ops::Range<usize>>>;

impl<'de> Visitor<'de> for DomKeys {
    type Value = (Map<String, Value>, Keys);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut dom = Map::new();
        let mut keys: Keys = Some(Vec::with_capacity(16));
        while let Some(KeyCow(key)) = map.next_key::<KeyCow<'de>>()? {
            match (&key, &mut keys) {
                (Cow::Borrowed(k), Some(spans)) => {
                    let at = k.as_ptr() as usize - self.base;
                    spans.push(at..at + k.len());
                }
                _ => keys = None,
            }
            let value: Value = map.next_value()?;
            dom.insert(key.into_owned(), value);
        }
        Ok((dom, keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_one_the_raw_reader_builds_and_the_dom_the_full_parse() {
        for body in [
            r#"{"model":"m","input":"hi"}"#,
            "  {\n  \"model\" :\t\"m\" ,\r\n \"input\": [ {\"a\": \"}\\\",\"} ] , \"n\":1.5e3 }  ",
            r#"{"model":"a","model":"b","x":{"model":"c"},"y":[1,{"z":null}],"t":true}"#,
            r#"{"é":"ü","s":"\"{,}\"","e":{},"a":[]}"#,
            "{}",
            " { } ",
            r#"{"k":"\ud83d\ude00"}"#,
        ] {
            let (dom, top) = dom_and_index(body.as_bytes()).expect(body);
            assert_eq!(
                Value::Object(dom),
                serde_json::from_str::<Value>(body).unwrap(),
                "{body}"
            );
            assert_eq!(top, TopLevel::index(body.as_bytes()), "{body}");
            assert!(top.is_some(), "{body}");
        }
    }

    #[test]
    fn an_escaped_key_leaves_the_dom_alone_and_no_index() {
        let body = r#"{"mod\u0065l":"a","x":1}"#;
        let (dom, top) = dom_and_index(body.as_bytes()).unwrap();
        assert_eq!(dom.get("model"), Some(&Value::from("a")));
        assert_eq!(top, None);
    }

    #[test]
    fn what_the_full_parse_refuses_is_refused() {
        for bad in [
            "",
            "[1]",
            "{",
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"t":1e400}"#,
            r#"{"t":"\ud800"}"#,
        ] {
            assert!(dom_and_index(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
