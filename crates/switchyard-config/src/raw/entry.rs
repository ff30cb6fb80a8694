//! Parsing each section and list item on its own ([`Entry`]), so one bad entry does not
//! hide the errors in the others, and the path helpers its error reports use.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_yaml::Value;

/// A section or list item parsed on its own: the value, or the type error found in it. Unknown
/// keys are set aside (and kept for the report) so the rest of the entry is still read.
#[derive(Debug)]
pub enum Entry<T> {
    /// It parsed (once the unknown keys, if any, were set aside).
    Valid(T, Vec<EntryError>),
    /// It did not; validation reports this and carries on with the other entries.
    Invalid(EntryError, Vec<EntryError>),
}

impl<T> Entry<T> {
    /// The unknown keys found in the entry.
    pub fn unknown_keys(&self) -> &[EntryError] {
        match self {
            Entry::Valid(_, u) | Entry::Invalid(_, u) => u,
        }
    }
}

/// A serde error inside one [`Entry`].
#[derive(Debug, Clone)]
pub struct EntryError {
    /// Path inside the entry (`timeouts.connect`), empty for the entry itself.
    pub path: String,
    /// serde's message.
    pub message: String,
    /// The entry's `id` (or `name`) when it could still be read, so other entries that refer
    /// to it don't get a second, misleading "unknown id" error.
    pub id: Option<String>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let id = ["id", "name"]
            .iter()
            .find_map(|k| value.get(k).and_then(Value::as_str))
            .map(str::to_owned);
        let mut value = value;
        let mut unknown = Vec::new();
        loop {
            let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(v) => return Ok(Entry::Valid(v, unknown)),
                Err(e) => e,
            };
            let err = EntryError {
                path: render_path(e.path()),
                message: e.inner().to_string(),
                id: id.clone(),
            };
            let removed = err
                .message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
                .is_some_and(|key| remove_key(&mut value, e.path(), key));
            if !removed || unknown.len() >= 100 {
                return Ok(Entry::Invalid(err, unknown));
            }
            unknown.push(err);
        }
    }
}
/// Removes `key` from the mapping at `at` in `value`; false when there is no such key.
pub(crate) fn remove_key(value: &mut Value, at: &serde_path_to_error::Path, key: &str) -> bool {
    use serde_path_to_error::Segment;
    let mut segs: Vec<&Segment> = at.iter().collect();
    // The path may end at the unknown key itself rather than at its parent.
    if matches!(segs.last(), Some(Segment::Map { key: k }) if k == key) {
        segs.pop();
    }
    let mut node = value;
    for seg in segs {
        let next = match (seg, node) {
            (Segment::Map { key }, Value::Mapping(m)) => m.get_mut(key.as_str()),
            (Segment::Seq { index }, Value::Sequence(s)) => s.get_mut(*index),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match node {
        Value::Mapping(m) => m.remove(key).is_some(),
        _ => false,
    }
}

/// `serde_path_to_error`'s path in our spelling: `a.b[2].c`, empty at the root.
pub(crate) fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}
