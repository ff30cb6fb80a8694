//! Serialisation of the raw types that are not derived: the shapes with more than one
//! spelling (`pricing: free`, a bare filter name) and the wrappers, written the way a person
//! would write them.

use serde::ser::{self, SerializeMap, Serializer};
use serde::Serialize;
use serde_yaml::Value;

use crate::raw::{Entry, OrderedMap, RawFilter, RawPricing, Text};

impl Serialize for RawPricing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RawPricing::Free => s.serialize_str("free"),
            RawPricing::Prices(p) => p.serialize(s),
        }
    }
}

impl Serialize for RawFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.settings.is_null() {
            return s.serialize_str(&self.name);
        }
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(&self.name, &self.settings)?;
        map.end()
    }
}

impl From<&str> for RawFilter {
    /// A filter by name, without settings.
    fn from(name: &str) -> Self {
        RawFilter {
            name: name.to_owned(),
            settings: Value::Null,
        }
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(text.to_owned())
    }
}

impl Serialize for OrderedMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<T> From<T> for Entry<T> {
    fn from(value: T) -> Self {
        Entry::Valid(value, Vec::new())
    }
}

impl<T: Serialize> Serialize for Entry<T> {
    /// The value; an entry that did not parse has nothing to write and is an error.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Entry::Valid(v, _) => v.serialize(s),
            Entry::Invalid(e, _) => Err(ser::Error::custom(format!(
                "an entry that did not parse ({}: {})",
                e.path, e.message
            ))),
        }
    }
}
