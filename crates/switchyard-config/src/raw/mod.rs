//! The YAML as written: serde types that mirror CONFIG.md key for key, with
//! `deny_unknown_fields` and `Option` wherever a key may be left out. Nothing here checks
//! meaning; `validate` turns a `RawConfig` into a `Config`.
//!
//! Sections and list items are wrapped in [`Entry`], so a type error in one provider does
//! not hide a type error in a model further down: every entry is parsed on its own.
//!
//! The types also serialise, leaving out what is `None` (the hand-written impls are in
//! `ser`), so a program (the end-to-end tests, a generator) can write a config from these
//! types instead of formatting YAML text.

mod auth;
mod entry;
mod filter;
mod providers;
mod routes;
mod scalars;
mod ser;
mod server;
mod telemetry;

use serde::{Deserialize, Serialize};

pub use auth::{RawAuth, RawBudget, RawKey, RawPeriod};
pub(crate) use entry::{remove_key, render_path};
pub use entry::{Entry, EntryError};
pub use filter::RawFilter;
pub use providers::{RawAws, RawModel, RawPrices, RawPricing, RawProvider, RawTimeouts};
pub use routes::{RawRoute, RawStrategy, RawTarget, RawWhen};
pub use scalars::{OrderedMap, Text};
pub use server::{RawBackend, RawLogFormat, RawOnUnavailable, RawServer, RawState};
pub use telemetry::{RawOtlp, RawTelemetry};

/// The whole file.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Schema version; must be 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Entry<u32>>,
    /// `server:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Entry<RawServer>>,
    /// `auth:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Entry<RawAuth>>,
    /// `providers:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Entry<RawProvider>>>,
    /// `models:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<Entry<RawModel>>>,
    /// `routes:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Entry<RawRoute>>>,
    /// `state:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Entry<RawState>>,
    /// `filters:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Entry<RawFilter>>>,
    /// `telemetry:`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Entry<RawTelemetry>>,
    /// `catalog_file:` a model catalog (catalog.yaml's format) that extends or overrides the
    /// built-in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_file: Option<String>,
}
