//! Switchyard's end-to-end tests: the real `switchyard` binary on loopback ports, in front of
//! mock providers that speak each provider's wire format (the harness is the `switchyard-e2e`
//! crate in `tests/src/`). All scenarios live in this one test binary, so cargo links it once.
//!
//! **Where new scenarios go:** a module in this directory (`tests/e2e/<area>.rs`), declared
//! below, never a new file under `crates/*/tests/` (each of those is another binary to link).
//! Put a scenario that runs across provider types in a table over
//! `switchyard_e2e::providers::Kind` (`rows!`, a test per row; see `provider_matrix`) rather
//! than a copy per provider; shared helpers go in
//! `common.rs` (or the harness crate when they are not about one test binary).
//!
//! Run them with `cargo test -p switchyard --test e2e` (add a name filter such as
//! `reload::` to run one area).

// Test code: a failed assertion with the gateway's log is the point.
#![allow(clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod common;

mod cli;
mod deadlines;
mod drain;
mod endpoints;
mod errors;
mod failover;
mod hardening;
mod hostile_conns;
mod hostile_state;
mod hostile_streams;
mod limits;
mod passthrough;
mod provider_matrix;
mod providers_bedrock;
mod providers_config;
mod providers_params;
mod providers_presets;
mod providers_recorded;
mod providers_vertex;
mod reload;
mod resilience;
mod responses_sdk;
mod routing;
mod shared_state;
mod status_page;
mod traces;
mod traces_export;
mod usage;
