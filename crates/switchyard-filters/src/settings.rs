//! Reading a filter's YAML settings into its typed config: a bare name means the defaults,
//! unknown keys are errors, durations are humantime strings (`250ms`, `30s`).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use switchyard_filter::BuildError;

/// `settings` as `T`; `Null` (a bare filter name) gives `T::default()`. An error names the
/// field it is about, so the registry can point at its line.
pub(crate) fn parse<T: DeserializeOwned + Default>(
    name: &str,
    settings: &serde_yaml::Value,
) -> Result<T, BuildError> {
    if settings.is_null() {
        return Ok(T::default());
    }
    serde_path_to_error::deserialize(settings.clone()).map_err(|e| {
        let field = e.path().to_string();
        let message = format!("filter `{name}`: {}", e.inner());
        if field.is_empty() || field == "." {
            BuildError::new(message)
        } else {
            BuildError::field(field, message)
        }
    })
}

/// A humantime duration (`100ms`, `30s`, `5m`).
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
}
