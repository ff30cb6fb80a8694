//! The hook through which the filter registry checks `filters:` while the rest of the config
//! is validated. This crate knows no filter, yet a typo'd filter name or setting should be
//! reported in the same run as every other mistake in the file, not after those are fixed.

use crate::{ConfigIssue, FilterSpec, LineIndex};

/// Checks the `filters:` list as written — names, duplicates, order and each entry's own
/// settings — from the list alone: no other part of the config, and no side effects, so a
/// candidate config that fails elsewhere is still checked here.
pub trait FilterCheck {
    /// Every problem found, each located at its YAML path and line (through `lines`).
    /// `explicit` is false when the list is the default chain (the file has no `filters:`).
    fn check_filters(
        &self,
        specs: &[FilterSpec],
        explicit: bool,
        lines: &LineIndex,
    ) -> Vec<ConfigIssue>;
}
