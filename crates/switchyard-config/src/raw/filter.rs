//! `filters:` entries, whose settings stay YAML until the named filter reads them.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_yaml::Value;

/// One `filters:` entry: a bare name, or a single-key map `{name: settings}`.
#[derive(Debug, Clone)]
pub struct RawFilter {
    /// The filter's name.
    pub name: String,
    /// Its settings, `Null` for a bare name.
    pub settings: Value,
}

impl<'de> Deserialize<'de> for RawFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const SHAPE: &str = "a filter entry is a name or a single-key map {name: settings}";
        match Value::deserialize(d)? {
            Value::String(name) => Ok(RawFilter {
                name,
                settings: Value::Null,
            }),
            Value::Mapping(map) if map.len() == 1 => {
                let Some((Value::String(name), settings)) = map.into_iter().next() else {
                    return Err(de::Error::custom(SHAPE));
                };
                Ok(RawFilter { name, settings })
            }
            _ => Err(de::Error::custom(SHAPE)),
        }
    }
}
