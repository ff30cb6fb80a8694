//! `context_window`: keeps prompts away from models that can't hold them. Before the first
//! attempt it counts the prompt ([`crate::tokens`]) plus the output the request may use, and
//! checks each target's `context_window` (config, else catalog; a target with no known window
//! always fits). `on_overflow: reroute` (the default) drops the targets that can't fit from the
//! plan — the answer says so in `x-switchyard-context-reroute: <prompt tokens>` — and
//! `reject` answers 400 `context_length_exceeded` when the first target can't fit. With no
//! target fitting, both answer 400 naming the counts.

use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use switchyard_config::Config;
use switchyard_filter::{
    BuildEnv, BuildError, Endpoint, Filter, FilterFactory, GatewayError, RequestCtx,
};
use switchyard_wire::ChatRequest;

use crate::tokens::{self, Tokenizer};

/// The response header set when targets were dropped for size.
pub const REROUTE_HEADER: &str = "x-switchyard-context-reroute";
/// The skip reason logged and counted for a dropped target.
pub const SKIP_REASON: &str = "context window";

/// What to do when the preferred target can't hold the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOverflow {
    /// Drop the targets that can't fit; 400 only when none can.
    #[default]
    Reroute,
    /// 400 when the first target can't fit.
    Reject,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ContextWindowConfig {
    on_overflow: OnOverflow,
}

/// Builds [`ContextWindowFilter`].
#[derive(Debug, Default)]
pub struct ContextWindowFactory;

/// The built filter.
pub struct ContextWindowFilter {
    config: Arc<Config>,
    on_overflow: OnOverflow,
    /// Per model (indexed like `config.models`): its tokenizer.
    tokenizers: Vec<Tokenizer>,
}

impl FilterFactory for ContextWindowFactory {
    fn name(&self) -> &'static str {
        "context_window"
    }

    fn check_settings(&self, settings: &serde_yaml::Value) -> Result<(), BuildError> {
        crate::settings::parse::<ContextWindowConfig>(self.name(), settings)?;
        Ok(())
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        let cfg = crate::settings::parse::<ContextWindowConfig>(self.name(), settings)?;
        let tokenizers: Vec<Tokenizer> = env
            .config
            .models
            .iter()
            .map(|m| tokens::tokenizer_for(&m.upstream_model))
            .collect();
        Ok(Arc::new(ContextWindowFilter {
            config: env.config.clone(),
            on_overflow: cfg.on_overflow,
            tokenizers,
        }))
    }
}

/// One target's fit.
struct Fit {
    model: usize,
    prompt: u64,
    needed: u64,
    window: u64,
}

impl ContextWindowFilter {
    fn window(&self, model: usize) -> Option<u64> {
        self.config.models.get(model).and_then(|m| m.context_window)
    }

    fn output(&self, req: &ChatRequest, model: usize) -> u64 {
        let m = &self.config.models[model];
        tokens::output_tokens(req, m, self.config.providers[m.provider].kind)
    }

    fn fit(&self, cx: &mut RequestCtx, req: &ChatRequest, model: usize, window: u64) -> Fit {
        let tokenizer = self
            .tokenizers
            .get(model)
            .copied()
            .unwrap_or(Tokenizer::Cl100k);
        let prompt = tokens::count_cached(cx, req, tokenizer);
        Fit {
            model,
            prompt,
            needed: prompt + self.output(req, model),
            window,
        }
    }
}

#[async_trait::async_trait]
impl Filter for ContextWindowFilter {
    fn on_plan(&self, cx: &mut RequestCtx, req: &ChatRequest) -> Result<(), GatewayError> {
        // Counting a prompt is how a client learns it is too long: never refuse it.
        if cx.endpoint == Endpoint::CountTokens {
            return Ok(());
        }
        // Taken out of the plan while the checks below need `cx`, and put back (or replaced
        // by the targets that fit) before returning: no copy per request.
        let Some(targets) = cx.route.as_mut().map(|r| std::mem::take(&mut r.targets)) else {
            return Ok(());
        };
        let (result, targets) = self.check(cx, req, targets);
        if let Some(plan) = cx.route.as_mut() {
            plan.targets = targets;
        }
        result
    }
}

impl ContextWindowFilter {
    /// The checks of `on_plan` over the plan's `targets`; returns the targets the plan keeps.
    fn check(
        &self,
        cx: &mut RequestCtx,
        req: &ChatRequest,
        targets: Vec<usize>,
    ) -> (Result<(), GatewayError>, Vec<usize>) {
        // Fast path: the byte count bounds every tokenizer's count, so no BPE when it fits.
        let fits = |bytes: u64| {
            let bound = |m: usize| match self.tokenizers.get(m) {
                Some(Tokenizer::Estimate(margin)) => (bytes as f64 * margin).ceil() as u64,
                _ => bytes,
            };
            targets.iter().all(|&m| {
                self.window(m)
                    .is_none_or(|w| bound(m) + self.output(req, m) <= w)
            })
        };
        // The whole body's size bounds the text in it too, and needs no JSON DOM.
        if tokens::raw_upper_bound(req).is_some_and(fits)
            || fits(tokens::upper_bound(req, Tokenizer::Cl100k))
        {
            return (Ok(()), targets);
        }
        let mut misfits: Vec<Fit> = Vec::new();
        let mut first_fit: Option<Fit> = None;
        for (i, &m) in targets.iter().enumerate() {
            let Some(window) = self.window(m) else {
                continue;
            };
            let fit = self.fit(cx, req, m, window);
            if fit.needed > fit.window {
                if i == 0 && self.on_overflow == OnOverflow::Reject {
                    let e = GatewayError::ContextWindowExceeded {
                        needed: fit.needed,
                        limit: fit.window,
                    };
                    return (Err(e), targets);
                }
                misfits.push(fit);
            } else if first_fit.is_none() {
                first_fit = Some(fit);
            }
        }
        if misfits.is_empty() {
            return (Ok(()), targets);
        }
        let remaining: Vec<usize> = targets
            .iter()
            .copied()
            .filter(|m| misfits.iter().all(|f| f.model != *m))
            .collect();
        if remaining.is_empty() {
            let widest = misfits
                .iter()
                .max_by_key(|f| f.window)
                .map_or((0, 0), |f| (f.needed, f.window));
            let e = GatewayError::ContextWindowExceeded {
                needed: widest.0,
                limit: widest.1,
            };
            return (Err(e), targets);
        }
        if self.on_overflow == OnOverflow::Reroute {
            let prompt = first_fit.map_or_else(
                || {
                    let m = remaining[0];
                    let t = self.tokenizers.get(m).copied().unwrap_or(Tokenizer::Cl100k);
                    tokens::count_cached(cx, req, t)
                },
                |f| f.prompt,
            );
            cx.response_headers.push((
                HeaderName::from_static(REROUTE_HEADER),
                HeaderValue::from(prompt),
            ));
        }
        if let Some(plan) = cx.route.as_mut() {
            plan.pruned
                .extend(misfits.iter().map(|f| (f.model, SKIP_REASON)));
        }
        (Ok(()), remaining)
    }
}

#[cfg(test)]
#[path = "context_window_tests.rs"]
mod tests;
