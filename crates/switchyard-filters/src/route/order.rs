//! The strategies: the order in which a route's targets are tried. Pure functions of the
//! targets, what is known about them and a random source, so they are tested with a seeded
//! generator.

use std::sync::Arc;

use switchyard_config::{Model, Target};

use super::latency::LatencyCell;

/// Chance that `lowest_latency` puts a random other target first, so a target that was slow
/// (or failed) and has recovered gets measured again.
pub const EXPLORATION: f64 = 0.05;
/// Output tokens `lowest_cost` expects when the client's cap is higher or absent.
pub const EXPECTED_OUTPUT_TOKENS: u64 = 512;

/// `weighted`: the first target drawn by weight, then the next from those left, and so on
/// (sampling without replacement), so failover also spreads by weight.
pub fn weighted(targets: &[Target], rng: &mut fastrand::Rng) -> Vec<usize> {
    let mut left: Vec<(usize, u64)> = targets
        .iter()
        .map(|t| (t.model, u64::from(t.weight.max(1))))
        .collect();
    let mut out = Vec::with_capacity(left.len());
    while left.len() > 1 {
        let total: u64 = left.iter().map(|x| x.1).sum();
        let mut r = rng.u64(..total);
        let i = left
            .iter()
            .position(|&(_, w)| {
                if r < w {
                    true
                } else {
                    r -= w;
                    false
                }
            })
            .unwrap_or(0);
        out.push(left.remove(i).0);
    }
    out.extend(left.into_iter().map(|x| x.0));
    out
}

/// `lowest_latency`: fastest average time to first token first; a target with no samples yet
/// counts as fast, so a new or reset target is tried. With probability [`EXPLORATION`] a
/// random other target goes first.
pub fn lowest_latency(
    targets: &[Target],
    cells: &[Arc<LatencyCell>],
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let latency = |m: usize| cells.get(m).and_then(|c| c.get()).unwrap_or(0.0);
    let mut order: Vec<usize> = targets.iter().map(|t| t.model).collect();
    order.sort_by(|a, b| latency(*a).total_cmp(&latency(*b)));
    if order.len() > 1 && rng.f64() < EXPLORATION {
        let pick = order.remove(rng.usize(1..order.len()));
        order.insert(0, pick);
    }
    order
}

/// `lowest_cost`: cheapest estimated cost first (input price × estimated prompt tokens +
/// output price × expected output); targets without pricing last, in route order.
pub fn lowest_cost(
    targets: &[Target],
    models: &[Model],
    prompt_tokens: u64,
    max_output: Option<u64>,
) -> Vec<usize> {
    let output = max_output.map_or(EXPECTED_OUTPUT_TOKENS, |m| m.min(EXPECTED_OUTPUT_TOKENS));
    let cost = |m: usize| {
        models
            .get(m)
            .and_then(|m| m.pricing)
            .map_or(f64::INFINITY, |p| {
                p.input_per_mtok * prompt_tokens as f64 + p.output_per_mtok * output as f64
            })
    };
    let mut order: Vec<usize> = targets.iter().map(|t| t.model).collect();
    order.sort_by(|a, b| cost(*a).total_cmp(&cost(*b)));
    order
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use switchyard_config::Pricing;

    use super::*;

    fn t(model: usize, weight: u32) -> Target {
        Target { model, weight }
    }

    #[test]
    fn weighted_first_pick_follows_weights_and_order_has_every_target() {
        let mut rng = fastrand::Rng::with_seed(7);
        let targets = [t(0, 3), t(1, 1)];
        let n = 4_000;
        let mut first_zero = 0;
        for _ in 0..n {
            let o = weighted(&targets, &mut rng);
            assert_eq!(o.len(), 2);
            assert_ne!(o[0], o[1]);
            first_zero += usize::from(o[0] == 0);
        }
        let share = first_zero as f64 / n as f64;
        assert!((0.72..0.78).contains(&share), "{share}");
    }

    #[test]
    fn weighted_failover_order_is_weighted_too() {
        let mut rng = fastrand::Rng::with_seed(11);
        let targets = [t(0, 6), t(1, 3), t(2, 1)];
        let (mut second_is_1, mut first_is_0) = (0, 0);
        for _ in 0..4_000 {
            let o = weighted(&targets, &mut rng);
            if o[0] == 0 {
                first_is_0 += 1;
                second_is_1 += usize::from(o[1] == 1);
            }
        }
        // With 0 drawn first, 1 follows with probability 3 / (3 + 1).
        let share = second_is_1 as f64 / first_is_0 as f64;
        assert!((0.70..0.80).contains(&share), "{share}");
    }

    #[test]
    fn lowest_latency_prefers_fast_tries_untried_and_explores() {
        let cells: Vec<Arc<LatencyCell>> = (0..3).map(|_| Arc::default()).collect();
        cells[0].record(Duration::from_millis(400));
        cells[1].record(Duration::from_millis(100));
        let targets = [t(0, 1), t(1, 1), t(2, 1)];
        let mut rng = fastrand::Rng::with_seed(3);
        // 2 has no samples: it goes first until measured.
        assert_eq!(lowest_latency(&targets, &cells, &mut rng)[0], 2);
        cells[2].record(Duration::from_millis(900));
        let n = 10_000;
        let mut firsts = [0usize; 3];
        for _ in 0..n {
            let o = lowest_latency(&targets, &cells, &mut rng);
            firsts[o[0]] += 1;
            assert_eq!(o.len(), 3);
        }
        let explore = (firsts[0] + firsts[2]) as f64 / n as f64;
        assert!((0.035..0.065).contains(&explore), "{firsts:?}");
        assert!(firsts[0] > 100 && firsts[2] > 100, "{firsts:?}");
    }

    #[test]
    fn lowest_cost_orders_by_estimated_cost_with_unpriced_last() {
        let model = |id: &str, p: Option<(f64, f64)>| Model {
            id: id.into(),
            provider: 0,
            upstream_model: id.into(),
            context_window: None,
            max_output_tokens: None,
            pricing: p.map(|(i, o)| Pricing {
                input_per_mtok: i,
                output_per_mtok: o,
                ..Pricing::FREE
            }),
            strict_params: false,
        };
        let models = [
            model("free?", None),
            model("cheap-in", Some((0.1, 10.0))),
            model("cheap-out", Some((2.0, 0.5))),
        ];
        let targets = [t(0, 1), t(1, 1), t(2, 1)];
        // Short prompt, long answer: output price dominates.
        assert_eq!(
            lowest_cost(&targets, &models, 10, Some(4_000)),
            vec![2, 1, 0]
        );
        // Long prompt, short answer: input price dominates.
        assert_eq!(
            lowest_cost(&targets, &models, 100_000, Some(10)),
            vec![1, 2, 0]
        );
    }
}
