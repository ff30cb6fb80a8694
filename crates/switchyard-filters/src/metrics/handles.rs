//! Metric children resolved once and reused. `with_label_values` hashes every label, takes the
//! family's lock and clones an `Arc` each time; a request touches about ten series, so the
//! metrics filter keeps the children it has resolved, per config snapshot (the families
//! themselves outlive reloads, so a child resolved again after a reload is the same series).
//!
//! A child is created on first use, never ahead of time: a series that no request has touched
//! must not appear in `/metrics` with a zero value.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use prometheus::{Counter, Histogram, IntCounter};

use crate::metrics::Families;

/// More distinct (key, route, model, endpoint) series than this are resolved per request
/// rather than cached, so a config with very many keys and routes keeps a bounded cache.
const MAX_CACHED_SERIES: usize = 4096;

/// The attempt outcomes, in the order of [`ModelHandles::attempts`].
pub(crate) const OUTCOMES: [&str; 7] = [
    "success",
    "rate_limited",
    "server_error",
    "client_error",
    "connect_error",
    "timeout",
    "malformed",
];

/// Statuses common enough to keep a `switchyard_requests_total` child for each.
const STATUSES: [u16; 11] = [200, 400, 401, 403, 404, 413, 429, 500, 502, 503, 504];

/// A family child, resolved on first use.
type Lazy<T> = OnceLock<T>;

/// What a request's labels name: the gateway key, the endpoint, the route, the model that
/// answered (index into `Config::models`, with its id and provider) and the GenAI operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Labels<'a> {
    pub key_id: &'a str,
    /// [`switchyard_filter::Endpoint::as_str`]: a handful of fixed values.
    pub endpoint: &'static str,
    pub route: &'a str,
    pub model: Option<usize>,
    pub model_id: &'a str,
    pub provider: &'a str,
    /// `gen_ai_operation_name`, `gen_ai_provider_name`, upstream model (only when a model answered).
    pub genai: Option<[&'a str; 3]>,
}

/// The children one request's completion updates.
pub(crate) struct Series {
    key_id: Box<str>,
    endpoint: &'static str,
    route: Box<str>,
    model: Option<usize>,
    model_id: Box<str>,
    provider: Box<str>,
    genai: Option<[Box<str>; 3]>,
    /// By status, for answers that were not cut mid-stream (their outcome follows the status).
    requests: [Lazy<IntCounter>; STATUSES.len()],
    duration: Lazy<Histogram>,
    overhead: Lazy<Histogram>,
    ttft: Lazy<Histogram>,
    exhausted: Lazy<IntCounter>,
    stream_errors: Lazy<IntCounter>,
    /// prompt, completion, cached, cache_write.
    tokens: [Lazy<IntCounter>; 4],
    cost: Lazy<Counter>,
    genai_duration_ok: Lazy<Histogram>,
    genai_ttft: Lazy<Histogram>,
    /// input, output.
    genai_tokens: [Lazy<Histogram>; 2],
}

impl Series {
    fn new(l: &Labels<'_>) -> Self {
        Series {
            key_id: l.key_id.into(),
            endpoint: l.endpoint,
            route: l.route.into(),
            model: l.model,
            model_id: l.model_id.into(),
            provider: l.provider.into(),
            genai: l.genai.map(|g| g.map(Box::from)),
            requests: Default::default(),
            duration: Lazy::new(),
            overhead: Lazy::new(),
            ttft: Lazy::new(),
            exhausted: Lazy::new(),
            stream_errors: Lazy::new(),
            tokens: Default::default(),
            cost: Lazy::new(),
            genai_duration_ok: Lazy::new(),
            genai_ttft: Lazy::new(),
            genai_tokens: Default::default(),
        }
    }

    fn is(&self, l: &Labels<'_>) -> bool {
        *self.key_id == *l.key_id
            && self.endpoint == l.endpoint
            && *self.route == *l.route
            && self.model == l.model
            && *self.model_id == *l.model_id
            && *self.provider == *l.provider
            && match (&self.genai, &l.genai) {
                (None, None) => true,
                (Some(a), Some(b)) => a.iter().zip(b).all(|(x, y)| **x == **y),
                _ => false,
            }
    }

    fn route4(&self) -> [&str; 4] {
        [&self.key_id, &self.route, &self.model_id, &self.provider]
    }

    fn genai4<'a>(&'a self, op_kind_model: &'a [Box<str>; 3]) -> [&'a str; 4] {
        let [op, kind, upstream] = op_kind_model;
        [op, kind, &self.model_id, upstream]
    }

    /// `switchyard_requests_total` for `status` and `outcome`; `cut` is whether the answer
    /// failed after its first byte (the only case where the outcome doesn't follow the status).
    pub fn requests(
        &self,
        f: &Families,
        status: &str,
        code: u16,
        outcome: &str,
        cut: bool,
    ) -> IntCounter {
        let [k, r, m, p] = self.route4();
        let resolve = || {
            f.requests
                .with_label_values(&[k, self.endpoint, r, m, p, status, outcome])
        };
        match STATUSES.iter().position(|s| *s == code) {
            Some(i) if !cut => self.requests[i].get_or_init(resolve).clone(),
            _ => resolve(),
        }
    }

    /// Labels of the per-route histograms: endpoint, route, model, provider.
    fn route_hist(&self) -> [&str; 4] {
        [self.endpoint, &self.route, &self.model_id, &self.provider]
    }

    pub fn duration(&self, f: &Families) -> &Histogram {
        self.duration
            .get_or_init(|| f.duration.with_label_values(&self.route_hist()))
    }

    pub fn overhead(&self, f: &Families) -> &Histogram {
        self.overhead
            .get_or_init(|| f.overhead.with_label_values(&[self.endpoint, &*self.route]))
    }

    pub fn ttft(&self, f: &Families) -> &Histogram {
        self.ttft
            .get_or_init(|| f.ttft.with_label_values(&self.route_hist()))
    }

    pub fn exhausted(&self, f: &Families) -> &IntCounter {
        self.exhausted
            .get_or_init(|| f.exhausted.with_label_values(&[&*self.route]))
    }

    pub fn stream_errors(&self, f: &Families) -> &IntCounter {
        self.stream_errors.get_or_init(|| {
            f.stream_errors
                .with_label_values(&[&*self.route, &self.model_id, &self.provider])
        })
    }

    /// `switchyard_tokens_total` for type `i` of prompt, completion, cached, cache_write.
    pub fn tokens(&self, f: &Families, i: usize) -> &IntCounter {
        const TYPES: [&str; 4] = ["prompt", "completion", "cached", "cache_write"];
        let [k, r, m, p] = self.route4();
        self.tokens[i].get_or_init(|| f.tokens.with_label_values(&[k, r, m, p, TYPES[i]]))
    }

    pub fn cost(&self, f: &Families) -> &Counter {
        self.cost
            .get_or_init(|| f.cost.with_label_values(&self.route4()))
    }

    /// The GenAI operation duration for `error_type` (cached for the empty one, success).
    pub fn genai_duration(&self, f: &Families, error_type: &str) -> Option<Histogram> {
        let g = self.genai.as_ref()?;
        let [a, b, c, d] = self.genai4(g);
        if !error_type.is_empty() {
            return Some(
                f.genai_duration
                    .with_label_values(&[a, b, c, d, error_type]),
            );
        }
        Some(
            self.genai_duration_ok
                .get_or_init(|| f.genai_duration.with_label_values(&[a, b, c, d, ""]))
                .clone(),
        )
    }

    pub fn genai_ttft(&self, f: &Families) -> Option<&Histogram> {
        let g = self.genai.as_ref()?;
        Some(
            self.genai_ttft
                .get_or_init(|| f.genai_ttft.with_label_values(&self.genai4(g))),
        )
    }

    /// GenAI token usage for type `i` of input, output.
    pub fn genai_tokens(&self, f: &Families, i: usize) -> Option<&Histogram> {
        const TYPES: [&str; 2] = ["input", "output"];
        let g = self.genai.as_ref()?;
        let [a, b, c, d] = self.genai4(g);
        Some(
            self.genai_tokens[i]
                .get_or_init(|| f.genai_tokens.with_label_values(&[a, b, c, d, TYPES[i]])),
        )
    }
}

/// One target's attempt and skip children.
pub(crate) struct ModelHandles {
    attempts: [Lazy<IntCounter>; OUTCOMES.len()],
}

/// The children a config snapshot's requests have resolved so far.
pub(crate) struct Handles {
    /// Indexed like `Config::models`.
    models: Vec<ModelHandles>,
    /// Request series by a hash of their labels; a hit is checked against the labels, and a
    /// collision falls back to an uncached series.
    series: ArcSwap<HashMap<u64, Arc<Series>>>,
}

impl Handles {
    /// Empty handles for a config with `models` models.
    pub fn new(models: usize) -> Self {
        Handles {
            models: (0..models)
                .map(|_| ModelHandles {
                    attempts: Default::default(),
                })
                .collect(),
            series: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// `switchyard_upstream_attempts_total` for `model` (index, id, provider) and outcome `i`
    /// of [`OUTCOMES`].
    pub fn attempts(&self, f: &Families, model: usize, labels: [&str; 2], i: usize) -> IntCounter {
        let resolve = || {
            f.attempts
                .with_label_values(&[labels[0], labels[1], OUTCOMES[i]])
        };
        match self.models.get(model) {
            Some(m) => m.attempts[i].get_or_init(resolve).clone(),
            None => resolve(),
        }
    }

    /// The series for `labels`, cached after its first use.
    pub fn series(&self, labels: &Labels<'_>) -> Arc<Series> {
        let hash = {
            let mut h = DefaultHasher::new();
            labels.key_id.hash(&mut h);
            labels.endpoint.hash(&mut h);
            labels.route.hash(&mut h);
            labels.model.hash(&mut h);
            labels.genai.map(|g| g[0]).hash(&mut h);
            h.finish()
        };
        if let Some(s) = self.series.load().get(&hash) {
            if s.is(labels) {
                return s.clone();
            }
            return Arc::new(Series::new(labels));
        }
        let fresh = Arc::new(Series::new(labels));
        if self.series.load().len() >= MAX_CACHED_SERIES {
            return fresh;
        }
        let mut cached = fresh.clone();
        self.series.rcu(|map| {
            let mut map = HashMap::clone(map);
            cached = map.entry(hash).or_insert_with(|| fresh.clone()).clone();
            map
        });
        if cached.is(labels) {
            cached
        } else {
            fresh
        }
    }
}

#[cfg(test)]
mod tests {
    use prometheus::Registry;

    use super::*;

    fn labels<'a>(key: &'a str, route: &'a str) -> Labels<'a> {
        Labels {
            key_id: key,
            endpoint: "chat_completions",
            route,
            model: Some(0),
            model_id: "m",
            provider: "p",
            genai: Some(["chat", "openai", "gpt-x"]),
        }
    }

    #[test]
    fn a_series_is_resolved_once_and_shared() {
        let families = Families::register(&Registry::new()).unwrap();
        let h = Handles::new(1);
        let a = h.series(&labels("k", "r"));
        let b = h.series(&labels("k", "r"));
        assert!(Arc::ptr_eq(&a, &b));
        a.duration(&families).observe(1.0);
        assert_eq!(b.duration(&families).get_sample_count(), 1);
        let other = h.series(&labels("k2", "r2"));
        assert!(!Arc::ptr_eq(&a, &other));
        assert_eq!(other.duration(&families).get_sample_count(), 0);
        let responses = h.series(&Labels {
            endpoint: "responses",
            ..labels("k", "r")
        });
        assert!(!Arc::ptr_eq(&a, &responses));
        assert_eq!(responses.duration(&families).get_sample_count(), 0);
    }

    #[test]
    fn cached_children_are_the_family_series() {
        let registry = Registry::new();
        let families = Families::register(&registry).unwrap();
        let h = Handles::new(1);
        let s = h.series(&labels("k", "r"));
        s.requests(&families, "200", 200, "success", false).inc();
        s.requests(&families, "200", 200, "success", false).inc();
        s.requests(&families, "200", 200, "stream_error", true)
            .inc();
        s.requests(&families, "418", 418, "client_error", false)
            .inc();
        h.attempts(&families, 0, ["m", "p"], 0).inc();
        h.attempts(&families, 7, ["x", "p"], 5).inc();
        assert_eq!(
            families
                .requests
                .with_label_values(&["k", "chat_completions", "r", "m", "p", "200", "success"])
                .get(),
            2
        );
        assert_eq!(
            families
                .requests
                .with_label_values(&[
                    "k",
                    "chat_completions",
                    "r",
                    "m",
                    "p",
                    "200",
                    "stream_error"
                ])
                .get(),
            1
        );
        assert_eq!(
            families
                .requests
                .with_label_values(&[
                    "k",
                    "chat_completions",
                    "r",
                    "m",
                    "p",
                    "418",
                    "client_error"
                ])
                .get(),
            1
        );
        assert_eq!(
            families
                .attempts
                .with_label_values(&["m", "p", "success"])
                .get(),
            1
        );
        assert_eq!(
            families
                .attempts
                .with_label_values(&["x", "p", "timeout"])
                .get(),
            1
        );
    }

    #[test]
    fn nothing_is_created_before_use() {
        let registry = Registry::new();
        let families = Families::register(&registry).unwrap();
        let h = Handles::new(2);
        let _ = h.series(&labels("k", "r"));
        // Unlabelled families (gauges) are there from the start; no labelled child is.
        assert!(registry
            .gather()
            .iter()
            .flat_map(|m| m.get_metric())
            .all(|m| m.get_label().is_empty()));
        let _ = families;
    }
}
