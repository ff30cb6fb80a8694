//! A budget only holds if every model it pays for has a price: a key with a budget that can
//! reach an unpriced model is an error (the model would silently cost $0). `pricing: free`
//! says the $0 is meant.

use globset::Glob;

use super::Ctx;
use crate::{AuthConfig, Model, Provider, Route};

pub(super) fn check_unpriced(
    ctx: &mut Ctx<'_>,
    auth: Option<&AuthConfig>,
    providers: &[Provider],
    models: &[Model],
    routes: &[Route],
) {
    let Some(auth) = auth else { return };
    for (i, key) in auth.keys.iter().enumerate() {
        if key.budget.is_none() {
            continue;
        }
        let globs: Vec<globset::GlobMatcher> = key
            .models
            .iter()
            .filter_map(|g| Glob::new(g).ok().map(|g| g.compile_matcher()))
            .collect();
        let allows = |name: &str| globs.iter().any(|g| g.is_match(name));
        let mut unpriced: Vec<&str> = Vec::new();
        for (m, model) in models.iter().enumerate() {
            if model.pricing.is_some() || unpriced.contains(&model.id.as_str()) {
                continue;
            }
            let qualified = providers
                .get(model.provider)
                .map(|p| format!("{}/{}", p.id, model.upstream_model));
            let by_route = routes
                .iter()
                .any(|r| allows(&r.name) && r.targets.iter().any(|t| t.model == m));
            if allows(&model.id) || qualified.is_some_and(|q| allows(&q)) || by_route {
                unpriced.push(&model.id);
            }
        }
        if !unpriced.is_empty() {
            ctx.error(
                &format!("auth.keys[{i}].budget"),
                format!(
                    "key `{}` has a budget but can reach {} without a price ({}): their cost would \
                     count as $0; give each `pricing: {{input_per_mtok, output_per_mtok}}`, or \
                     `pricing: free` if it really costs nothing",
                    key.id,
                    if unpriced.len() == 1 { "a model" } else { "models" },
                    unpriced.join(", ")
                ),
            );
        }
    }
}
