//! The model catalog compiled into the binary: context window, output limit and prices of
//! well-known models, so a config (or the embedded default) need not repeat them. What a
//! config says always wins; the catalog only fills gaps.
//!
//! Prices are USD per million tokens as published on each provider's pricing page on
//! [`CATALOG_DATE`] (standard tier, no batch discount; for tiered prices the lowest prompt
//! tier, e.g. Gemini 2.5 Pro up to 200k prompt tokens). They change: operators who bill on
//! them should pin `pricing:` in their config.

use crate::{Pricing, ProviderKind};

/// When the figures below were last checked against the providers' published pages.
pub const CATALOG_DATE: &str = "2026-03-01";

/// One well-known upstream model.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// Who serves it, as the embedded default's provider id: `openai`, `anthropic`,
    /// `gemini`, `deepseek`, `mistral`, `groq`.
    pub vendor: &'static str,
    /// The wire protocol its vendor speaks.
    pub provider_kind: ProviderKind,
    /// The upstream model name.
    pub model: &'static str,
    /// Tokens, prompt + output.
    pub context_window: u64,
    /// Output tokens; `None` where the vendor publishes none (or for embeddings).
    pub max_output_tokens: Option<u64>,
    /// USD per million prompt tokens.
    pub input_per_mtok: f64,
    /// USD per million completion tokens.
    pub output_per_mtok: f64,
    /// USD per million cached prompt tokens (cache reads), where published.
    pub cached_input_per_mtok: Option<f64>,
}

impl CatalogEntry {
    /// The entry's prices as config `Pricing`.
    pub fn pricing(&self) -> Pricing {
        Pricing {
            input_per_mtok: self.input_per_mtok,
            output_per_mtok: self.output_per_mtok,
            cached_input_per_mtok: self.cached_input_per_mtok,
        }
    }
}

const fn e(
    vendor: &'static str,
    provider_kind: ProviderKind,
    model: &'static str,
    context_window: u64,
    max_output_tokens: Option<u64>,
    prices: (f64, f64, Option<f64>),
) -> CatalogEntry {
    CatalogEntry {
        vendor,
        provider_kind,
        model,
        context_window,
        max_output_tokens,
        input_per_mtok: prices.0,
        output_per_mtok: prices.1,
        cached_input_per_mtok: prices.2,
    }
}

use ProviderKind::{Anthropic, Gemini, OpenAi, OpenAiCompatible};

/// Every entry, grouped by vendor.
#[rustfmt::skip]
pub static CATALOG: &[CatalogEntry] = &[
    // OpenAI
    e("openai", OpenAi, "gpt-4o", 128_000, Some(16_384), (2.50, 10.00, Some(1.25))),
    e("openai", OpenAi, "gpt-4o-mini", 128_000, Some(16_384), (0.15, 0.60, Some(0.075))),
    e("openai", OpenAi, "gpt-4.1", 1_047_576, Some(32_768), (2.00, 8.00, Some(0.50))),
    e("openai", OpenAi, "gpt-4.1-mini", 1_047_576, Some(32_768), (0.40, 1.60, Some(0.10))),
    e("openai", OpenAi, "gpt-4.1-nano", 1_047_576, Some(32_768), (0.10, 0.40, Some(0.025))),
    e("openai", OpenAi, "o3", 200_000, Some(100_000), (2.00, 8.00, Some(0.50))),
    e("openai", OpenAi, "o4-mini", 200_000, Some(100_000), (1.10, 4.40, Some(0.275))),
    e("openai", OpenAi, "gpt-5", 400_000, Some(128_000), (1.25, 10.00, Some(0.125))),
    e("openai", OpenAi, "gpt-5-mini", 400_000, Some(128_000), (0.25, 2.00, Some(0.025))),
    e("openai", OpenAi, "gpt-5-nano", 400_000, Some(128_000), (0.05, 0.40, Some(0.005))),
    e("openai", OpenAi, "text-embedding-3-small", 8_191, None, (0.02, 0.0, None)),
    e("openai", OpenAi, "text-embedding-3-large", 8_191, None, (0.13, 0.0, None)),
    // Anthropic (cached = cache hits; the 200k window is the default without beta headers)
    e("anthropic", Anthropic, "claude-opus-4-1", 200_000, Some(32_000), (15.00, 75.00, Some(1.50))),
    e("anthropic", Anthropic, "claude-opus-4-5", 200_000, Some(64_000), (5.00, 25.00, Some(0.50))),
    e("anthropic", Anthropic, "claude-sonnet-4-5", 200_000, Some(64_000), (3.00, 15.00, Some(0.30))),
    e("anthropic", Anthropic, "claude-sonnet-4-6", 200_000, Some(64_000), (3.00, 15.00, Some(0.30))),
    e("anthropic", Anthropic, "claude-haiku-4-5", 200_000, Some(64_000), (1.00, 5.00, Some(0.10))),
    e("anthropic", Anthropic, "claude-3-5-haiku", 200_000, Some(8_192), (0.80, 4.00, Some(0.08))),
    // Google Gemini (2.5 Pro: prompts up to 200k tokens)
    e("gemini", Gemini, "gemini-2.5-pro", 1_048_576, Some(65_536), (1.25, 10.00, Some(0.125))),
    e("gemini", Gemini, "gemini-2.5-flash", 1_048_576, Some(65_536), (0.30, 2.50, Some(0.03))),
    e("gemini", Gemini, "gemini-2.5-flash-lite", 1_048_576, Some(65_536), (0.10, 0.40, Some(0.01))),
    e("gemini", Gemini, "gemini-2.0-flash", 1_048_576, Some(8_192), (0.10, 0.40, Some(0.025))),
    // DeepSeek (cached = cache hit; uncached = cache miss)
    e("deepseek", OpenAiCompatible, "deepseek-chat", 128_000, Some(8_192), (0.28, 0.42, Some(0.028))),
    e("deepseek", OpenAiCompatible, "deepseek-reasoner", 128_000, Some(65_536), (0.28, 0.42, Some(0.028))),
    // Mistral (no published output limit)
    e("mistral", OpenAiCompatible, "mistral-large-latest", 262_144, None, (0.50, 1.50, None)),
    e("mistral", OpenAiCompatible, "mistral-small-latest", 131_072, None, (0.10, 0.30, None)),
    // Groq
    e("groq", OpenAiCompatible, "llama-3.3-70b-versatile", 131_072, Some(32_768), (0.59, 0.79, None)),
    e("groq", OpenAiCompatible, "llama-3.1-8b-instant", 131_072, Some(131_072), (0.05, 0.08, None)),
];

/// The entry for `model`: an exact name, else the longest catalog name that `model` extends
/// with a dated or pinned suffix (`gpt-4o-2024-08-06` → `gpt-4o`,
/// `claude-3-5-haiku-20241022` → `claude-3-5-haiku`, `gemini-2.0-flash-001`,
/// `…-latest`). Other suffixes are different models (`o3-mini` is not `o3`). A Gemini-style
/// `models/` prefix is ignored.
pub fn lookup(model: &str) -> Option<&'static CatalogEntry> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    if let Some(exact) = CATALOG.iter().find(|c| c.model == model) {
        return Some(exact);
    }
    CATALOG
        .iter()
        .filter(|c| {
            model
                .strip_prefix(c.model)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(is_version_suffix)
        })
        .max_by_key(|c| c.model.len())
}

/// `2024-08-06`, `20241022`, `001`, `latest`: at least three leading digits, or `latest`.
fn is_version_suffix(rest: &str) -> bool {
    rest == "latest" || rest.chars().take_while(char::is_ascii_digit).count() >= 3
}

/// The catalog entries of one vendor (the embedded default's deployments).
pub(crate) fn by_vendor(vendor: &str) -> impl Iterator<Item = &'static CatalogEntry> + '_ {
    CATALOG.iter().filter(move |c| c.vendor == vendor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_dated_lookup() {
        assert_eq!(lookup("gpt-4o").map(|c| c.model), Some("gpt-4o"));
        assert_eq!(lookup("gpt-4o-2024-08-06").map(|c| c.model), Some("gpt-4o"));
        assert_eq!(
            lookup("gpt-4o-mini-2024-07-18").map(|c| c.model),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            lookup("claude-3-5-haiku-20241022").map(|c| c.model),
            Some("claude-3-5-haiku")
        );
        assert_eq!(
            lookup("claude-sonnet-4-5-20250929").map(|c| c.model),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            lookup("models/gemini-2.0-flash-001").map(|c| c.model),
            Some("gemini-2.0-flash")
        );
        assert_eq!(
            lookup("claude-3-5-haiku-latest").map(|c| c.model),
            Some("claude-3-5-haiku")
        );
    }

    #[test]
    fn other_suffixes_are_other_models() {
        assert!(lookup("o3-mini").is_none());
        assert!(lookup("gpt-4o-audio-preview").is_none());
        assert!(lookup("claude-sonnet-4-7").is_none());
        assert!(lookup("llama3").is_none());
    }

    #[test]
    fn entries_are_sane_and_unique() {
        for (i, c) in CATALOG.iter().enumerate() {
            assert!(c.context_window > 0, "{}", c.model);
            assert!(c.input_per_mtok >= 0.0 && c.output_per_mtok >= 0.0);
            if let Some(m) = c.max_output_tokens {
                assert!(m <= c.context_window, "{}", c.model);
            }
            assert!(
                CATALOG[i + 1..].iter().all(|d| d.model != c.model),
                "duplicate {}",
                c.model
            );
        }
        assert_eq!(CATALOG_DATE.len(), 10);
    }
}
