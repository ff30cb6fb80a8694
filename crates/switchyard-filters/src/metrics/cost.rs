//! What a request cost: tokens priced by kind (fresh input, cache reads, cache writes of
//! each lifetime, output). Shared by the metrics and the budgets of `rate_limit`.

use switchyard_config::Pricing;
use switchyard_wire::Usage;

/// Cost in USD of `usage` at `pricing`. Prompt tokens split three ways: cache reads at the
/// cache-read price, cache writes at the write price (5-minute, and 1-hour ones at theirs), the
/// rest at the input price; completion tokens (reasoning included) at the output price.
/// Unset cache prices fall back to the input price (1-hour writes to the 5-minute price).
pub fn cost_usd(usage: &Usage, pricing: &Pricing) -> f64 {
    let cached = usage.cached_tokens.min(usage.prompt_tokens);
    let writes = usage.cache_write_tokens.min(usage.prompt_tokens - cached);
    let writes_1h = usage.cache_write_1h_tokens.min(writes);
    let fresh = usage.prompt_tokens - cached - writes;
    let input = pricing.input_per_mtok;
    let read = pricing.cached_input_per_mtok.unwrap_or(input);
    let write = pricing.cache_write_per_mtok.unwrap_or(input);
    let write_1h = pricing.cache_write_1h_per_mtok.unwrap_or(write);
    (fresh as f64 * input
        + cached as f64 * read
        + (writes - writes_1h) as f64 * write
        + writes_1h as f64 * write_1h
        + usage.completion_tokens as f64 * pricing.output_per_mtok)
        / 1_000_000.0
}

#[cfg(test)]
mod cost_tests {
    use super::*;

    #[test]
    fn cache_reads_and_both_write_lifetimes_have_their_own_prices() {
        // Claude Opus 4.1: 15 in, 75 out, 1.50 read, 18.75 write (5m), 30 write (1h).
        let pricing = switchyard_config::lookup("claude-opus-4-1")
            .expect("in the catalog")
            .pricing();
        let usage = Usage {
            prompt_tokens: 1_000 + 2_000 + 300 + 200,
            completion_tokens: 500,
            cached_tokens: 2_000,
            reasoning_tokens: 400,
            cache_write_tokens: 500,
            cache_write_1h_tokens: 200,
        };
        let want =
            (1_000.0 * 15.0 + 2_000.0 * 1.5 + 300.0 * 18.75 + 200.0 * 30.0 + 500.0 * 75.0) / 1e6;
        assert!((cost_usd(&usage, &pricing) - want).abs() < 1e-12);
    }

    #[test]
    fn unset_cache_prices_fall_back_to_input() {
        let pricing = Pricing {
            input_per_mtok: 2.0,
            output_per_mtok: 8.0,
            ..Pricing::FREE
        };
        let usage = Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
            cached_tokens: 40,
            cache_write_tokens: 30,
            cache_write_1h_tokens: 10,
            ..Usage::default()
        };
        assert!((cost_usd(&usage, &pricing) - (100.0 * 2.0 + 10.0 * 8.0) / 1e6).abs() < 1e-12);
    }
}
