//! Reading a filter's YAML settings into its typed config: a bare name means the defaults,
//! unknown keys are errors, durations are humantime strings (`250ms`, `30s`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// `settings` as `T`; `Null` (a bare filter name) gives `T::default()`.
pub(crate) fn parse<T: DeserializeOwned + Default>(
    name: &str,
    settings: &serde_yaml::Value,
) -> Result<T, String> {
    if settings.is_null() {
        return Ok(T::default());
    }
    serde_yaml::from_value(settings.clone()).map_err(|e| format!("filter `{name}`: {e}"))
}

/// A humantime duration (`100ms`, `30s`, `5m`).
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
}
