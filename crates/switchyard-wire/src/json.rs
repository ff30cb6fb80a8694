//! Small JSON helpers shared by the dialect modules.

use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{Map, Value};

/// Serializes into `out`. Writing to a `Vec` cannot fail, and every type serialized here has
/// string keys only, so serde_json has no error to report; should one appear anyway, `null` is
/// appended rather than panicking on a request path.
pub(crate) fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// A JSON object written as `base` with some keys replaced, added or removed, without cloning
/// `base`: passthrough requests can be 100 KB+ and only the gateway-owned fields change.
pub(crate) struct Overlay<'a> {
    pub base: &'a Map<String, Value>,
    /// Replaced in place when present in `base`, appended otherwise.
    pub set: &'a [(&'a str, Value)],
    pub remove: &'a [&'a str],
}

impl Serialize for Overlay<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.base {
            if self.remove.contains(&key.as_str()) {
                continue;
            }
            match self.set.iter().find(|(k, _)| *k == key) {
                Some((_, replacement)) => map.serialize_entry(key, replacement)?,
                None => map.serialize_entry(key, value)?,
            }
        }
        for (key, value) in self.set {
            if !self.base.contains_key(*key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}
