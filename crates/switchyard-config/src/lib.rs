//! Switchyard's YAML config: raw serde types, validation into a checked [`Config`], and the
//! compiled-in model catalog. Parses from `&str`; reading and watching files is the server's
//! job, and secrets are resolved through the [`Env`] trait so tests never touch the process
//! environment. Depends on no async runtime and on no other Switchyard crate.

mod catalog;
mod defaults;
mod env;
mod error;
mod filter_check;
mod index;
mod lines;
mod model;
mod presets;
pub mod raw;
mod redact;
mod telemetry;
mod units;
mod validate;

pub use catalog::{lookup, Catalog, CatalogEntry, CatalogError};
pub use defaults::{default_filters, embedded_default, DEFAULT_FILTERS};
pub use env::{Env, MapEnv, SystemEnv};
pub use error::{ConfigError, ConfigIssue};
pub use filter_check::FilterCheck;
pub use model::*;
pub use presets::{preset, Preset, PRESETS};
pub use telemetry::*;
pub use validate::sha256_of;

#[cfg(test)]
mod tests;
