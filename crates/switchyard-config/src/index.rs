//! The lookup tables of `Config::index`, built once per config so the request path does
//! hash lookups only.

use std::collections::HashMap;

use crate::{Index, Model, Provider, Route};

/// Models by id and by `provider/upstream` and `provider/id` (first declared wins).
pub(crate) fn models_index(providers: &[Provider], models: &[Model]) -> Index {
    let mut index = Index::default();
    for (i, m) in models.iter().enumerate() {
        index.models_by_id.entry(m.id.clone()).or_insert(i);
        if let Some(p) = providers.get(m.provider) {
            for name in [&m.upstream_model, &m.id] {
                index
                    .models_by_qualified
                    .entry(format!("{}/{name}", p.id))
                    .or_insert(i);
            }
        }
    }
    index
}

/// Route name → indices, those with a `when` first, then file order.
pub(crate) fn routes_index(routes: &[Route]) -> HashMap<String, Vec<usize>> {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in routes.iter().enumerate() {
        by_name.entry(r.name.clone()).or_default().push(i);
    }
    for list in by_name.values_mut() {
        // Stable: keeps file order within each group.
        list.sort_by_key(|&i| routes[i].when.is_none());
    }
    by_name
}
