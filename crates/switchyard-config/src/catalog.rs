//! The model catalog: context window, output limit and prices of well-known models, so a
//! config (or the embedded default) need not repeat them. What a config says always wins; the
//! catalog only fills gaps.
//!
//! The built-in catalog is `catalog.yaml`, compiled in and parsed once. A config's
//! `catalog_file:` (same format) extends it or overrides entries without a rebuild. Prices
//! are USD per million tokens, standard tier (no batch, flex or priority rates), the lowest
//! prompt tier where prices are tiered; each entry carries the date its figures were checked.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::Pricing;

/// The built-in catalog's source text.
const BUILTIN_YAML: &str = include_str!("../catalog.yaml");

/// One model at one vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Who serves it: a preset name (`openai`, `anthropic`, `vertex`, `bedrock`, `groq`…).
    pub vendor: String,
    /// The upstream model name, as that vendor spells it.
    pub model: String,
    /// Tokens, prompt + output.
    pub context_window: u64,
    /// Output tokens; absent where the vendor publishes none (and for embeddings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// USD per million prompt tokens.
    pub input_per_mtok: f64,
    /// USD per million output tokens (reasoning tokens included).
    pub output_per_mtok: f64,
    /// USD per million prompt tokens read from the provider's cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_mtok: Option<f64>,
    /// USD per million prompt tokens written to the cache (Anthropic: 5-minute lifetime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<f64>,
    /// USD per million prompt tokens written to the cache with a 1-hour lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_mtok: Option<f64>,
    /// When the figures were checked (`YYYY-MM-DD`); the file's `date:` when left out.
    #[serde(default)]
    pub date: String,
}

impl CatalogEntry {
    /// The entry's prices as config `Pricing`.
    pub fn pricing(&self) -> Pricing {
        Pricing {
            input_per_mtok: self.input_per_mtok,
            output_per_mtok: self.output_per_mtok,
            cached_input_per_mtok: self.cache_read_per_mtok,
            cache_write_per_mtok: self.cache_write_per_mtok,
            cache_write_1h_per_mtok: self.cache_write_1h_per_mtok,
        }
    }
}

/// A catalog file: its date and its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// When the file's figures were checked.
    pub date: String,
    /// Entries; `(vendor, model)` pairs are unique.
    pub models: Vec<CatalogEntry>,
}

/// Why a catalog file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    /// Not YAML of the catalog's shape.
    #[error("not a model catalog: {0}")]
    Parse(String),
    /// An entry that can't be right.
    #[error("models[{index}] ({model}): {message}")]
    Entry {
        /// Position in `models:`.
        index: usize,
        /// Its model name.
        model: String,
        /// What is wrong.
        message: String,
    },
}

impl Catalog {
    /// The catalog compiled into the binary, parsed on first use.
    pub fn builtin() -> &'static Arc<Catalog> {
        static BUILTIN: OnceLock<Arc<Catalog>> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Arc::new(Catalog::parse(BUILTIN_YAML).expect("the built-in catalog is valid"))
        })
    }

    /// Parses and checks a catalog file. Entries without a `date` take the file's.
    ///
    /// # Errors
    /// A YAML or shape error, or an entry with a zero window, a negative or non-finite
    /// price, or an output limit above its window, or a repeated `(vendor, model)`.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let mut catalog: Catalog =
            serde_yaml::from_str(text).map_err(|e| CatalogError::Parse(e.to_string()))?;
        for (index, entry) in catalog.models.iter_mut().enumerate() {
            if entry.date.is_empty() {
                entry.date.clone_from(&catalog.date);
            }
            check_entry(entry).map_err(|message| CatalogError::Entry {
                index,
                model: entry.model.clone(),
                message,
            })?;
        }
        for (i, e) in catalog.models.iter().enumerate() {
            if let Some(j) = catalog.models[..i]
                .iter()
                .position(|d| d.vendor == e.vendor && d.model == e.model)
            {
                return Err(CatalogError::Entry {
                    index: i,
                    model: e.model.clone(),
                    message: format!("repeats models[{j}] (same vendor and model)"),
                });
            }
        }
        Ok(catalog)
    }

    /// This catalog with `extra`'s entries added; an entry of `extra` with the same vendor and
    /// model replaces this one's.
    pub fn extended(&self, extra: Catalog) -> Catalog {
        let mut models = self.models.clone();
        for entry in extra.models {
            match models
                .iter_mut()
                .find(|m| m.vendor == entry.vendor && m.model == entry.model)
            {
                Some(slot) => *slot = entry,
                None => models.push(entry),
            }
        }
        Catalog {
            date: self.date.clone(),
            models,
        }
    }

    /// The entry for `model` as served by `vendor` when given (a preset name), else by
    /// any vendor (the first listed). See [`normalize`] for the names that match.
    pub fn lookup(&self, vendor: Option<&str>, model: &str) -> Option<&CatalogEntry> {
        let model = normalize(model);
        let by = |vendor: Option<&str>| {
            let of_vendor = |c: &&CatalogEntry| vendor.is_none_or(|v| c.vendor == v);
            if let Some(exact) = self
                .models
                .iter()
                .filter(of_vendor)
                .find(|c| c.model == model)
            {
                return Some(exact);
            }
            self.models
                .iter()
                .filter(of_vendor)
                .filter(|c| {
                    model
                        .strip_prefix(c.model.as_str())
                        .and_then(|rest| rest.strip_prefix(['-', '@']))
                        .is_some_and(is_version_suffix)
                })
                .max_by_key(|c| c.model.len())
        };
        match vendor {
            Some(v) => by(Some(v)).or_else(|| by(None)),
            None => by(None),
        }
    }
}

/// The model name as the catalog spells it: a Gemini-style `models/` prefix and a Bedrock
/// geographic inference-profile prefix (`us.`, `eu.`, `apac.`, `global.`…) are ignored.
fn normalize(model: &str) -> &str {
    let model = model.strip_prefix("models/").unwrap_or(model);
    for geo in [
        "us.", "eu.", "apac.", "global.", "jp.", "au.", "us-gov.", "ca.",
    ] {
        if let Some(rest) = model.strip_prefix(geo) {
            if rest.contains('.') {
                return rest;
            }
        }
    }
    model
}

/// The entry for `model` in the built-in catalog, from any vendor: an exact name, else the
/// longest catalog name that `model` extends with a dated or pinned suffix
/// (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5@20250929` → `claude-sonnet-4-5`,
/// `gemini-2.0-flash-001`, `…-latest`). Other suffixes are different models (`o3-mini` is not
/// `o3`).
pub fn lookup(model: &str) -> Option<&'static CatalogEntry> {
    Catalog::builtin().lookup(None, model)
}

/// `2024-08-06`, `20241022`, `001`, `latest`, Vertex's `default`: at least three leading
/// digits, or one of the words.
fn is_version_suffix(rest: &str) -> bool {
    rest == "latest"
        || rest == "default"
        || rest.chars().take_while(char::is_ascii_digit).count() >= 3
}

fn check_entry(e: &CatalogEntry) -> Result<(), String> {
    if e.vendor.trim().is_empty() || e.model.trim().is_empty() {
        return Err("vendor and model must not be empty".into());
    }
    if e.context_window == 0 {
        return Err("context_window must be greater than 0".into());
    }
    if e.max_output_tokens
        .is_some_and(|m| m == 0 || m > e.context_window)
    {
        return Err("max_output_tokens must be between 1 and context_window".into());
    }
    let prices = [
        Some(e.input_per_mtok),
        Some(e.output_per_mtok),
        e.cache_read_per_mtok,
        e.cache_write_per_mtok,
        e.cache_write_1h_per_mtok,
    ];
    if prices
        .into_iter()
        .flatten()
        .any(|p| !p.is_finite() || p < 0.0)
    {
        return Err("prices must be finite and 0 or more (USD per million tokens)".into());
    }
    if e.date.len() != 10 {
        return Err(format!("date `{}` is not YYYY-MM-DD", e.date));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(m: &str) -> Option<&'static str> {
        lookup(m).map(|c| c.model.as_str())
    }

    #[test]
    fn exact_and_dated_lookup() {
        assert_eq!(name("gpt-4o"), Some("gpt-4o"));
        assert_eq!(name("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(name("gpt-4o-mini-2024-07-18"), Some("gpt-4o-mini"));
        assert_eq!(
            name("claude-sonnet-4-5-20250929"),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            name("claude-sonnet-4-5@20250929"),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            name("models/gemini-2.0-flash-001"),
            Some("gemini-2.0-flash")
        );
        assert_eq!(name("claude-haiku-4-5-latest"), Some("claude-haiku-4-5"));
        assert_eq!(
            name("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
    }

    #[test]
    fn other_suffixes_are_other_models() {
        assert!(lookup("o3-pro").is_none());
        assert!(lookup("gpt-4o-audio-preview").is_none());
        assert!(lookup("claude-sonnet-4-7").is_none());
        assert!(lookup("llama3").is_none());
    }

    #[test]
    fn the_vendor_is_preferred_then_any() {
        let c = Catalog::builtin();
        assert_eq!(
            c.lookup(Some("azure"), "gpt-4o").map(|e| e.vendor.as_str()),
            Some("azure")
        );
        assert_eq!(
            c.lookup(Some("openai"), "gpt-4o")
                .map(|e| e.vendor.as_str()),
            Some("openai")
        );
        let vertex = c
            .lookup(Some("vertex"), "claude-sonnet-4-5@20250929")
            .expect("vertex claude");
        assert_eq!(vertex.vendor, "vertex");
        assert!(vertex.cache_write_per_mtok.is_some() && vertex.cache_write_1h_per_mtok.is_some());
        // A vendor without the model falls back to whoever lists it.
        assert_eq!(
            c.lookup(Some("groq"), "gpt-4o").map(|e| e.vendor.as_str()),
            Some("openai")
        );
    }

    #[test]
    fn the_builtin_catalog_is_large_dated_and_priced() {
        let c = Catalog::builtin();
        assert!(c.models.len() >= 150, "{} models", c.models.len());
        assert_eq!(c.date.len(), 10);
        let vendors: std::collections::HashSet<&str> =
            c.models.iter().map(|m| m.vendor.as_str()).collect();
        assert!(vendors.len() >= 20, "{vendors:?}");
        let opus = c
            .lookup(Some("anthropic"), "claude-opus-4-1")
            .expect("opus 4.1");
        assert_eq!(opus.input_per_mtok, 15.0);
        assert_eq!(opus.cache_read_per_mtok, Some(1.5));
        assert_eq!(opus.cache_write_per_mtok, Some(18.75));
        assert_eq!(opus.cache_write_1h_per_mtok, Some(30.0));
    }

    #[test]
    fn a_file_overrides_and_extends() {
        let extra = Catalog::parse(
            "date: 2026-09-01\nmodels:\n  - { vendor: openai, model: gpt-4o, context_window: 1000, input_per_mtok: 1, output_per_mtok: 2 }\n  - { vendor: acme, model: acme-1, context_window: 5000, max_output_tokens: 100, input_per_mtok: 0.5, output_per_mtok: 0.5, date: 2026-08-01 }\n",
        )
        .expect("valid");
        let merged = Catalog::builtin().extended(extra);
        assert_eq!(merged.models.len(), Catalog::builtin().models.len() + 1);
        let gpt = merged.lookup(Some("openai"), "gpt-4o").expect("gpt-4o");
        assert_eq!(
            (gpt.context_window, gpt.date.as_str()),
            (1000, "2026-09-01")
        );
        assert_eq!(
            merged.lookup(None, "acme-1").map(|e| e.date.as_str()),
            Some("2026-08-01")
        );
    }

    #[test]
    fn bad_files_are_refused() {
        for (text, want) in [
            ("models: []", "not a model catalog"),
            ("date: 2026-01-01\nmodels:\n  - { vendor: a, model: m, context_window: 0, input_per_mtok: 1, output_per_mtok: 1 }", "context_window"),
            ("date: 2026-01-01\nmodels:\n  - { vendor: a, model: m, context_window: 10, input_per_mtok: -1, output_per_mtok: 1 }", "prices"),
            ("date: 2026-01-01\nmodels:\n  - { vendor: a, model: m, context_window: 10, max_output_tokens: 11, input_per_mtok: 1, output_per_mtok: 1 }", "max_output_tokens"),
            ("date: 2026-01-01\nmodels:\n  - { vendor: a, model: m, context_window: 10, input_per_mtok: 1, output_per_mtok: 1 }\n  - { vendor: a, model: m, context_window: 10, input_per_mtok: 1, output_per_mtok: 1 }", "repeats"),
            ("date: 2026-01-01\nmodels:\n  - { vendor: a, model: m, context_window: 10, input_per_mtok: 1, output_per_mtok: 1, colour: red }", "unknown field"),
        ] {
            let err = Catalog::parse(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
