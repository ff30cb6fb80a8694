//! `routes:`: names clients send, each a strategy over model targets; several routes may
//! share a name when their `when` differs.

use std::collections::HashMap;

use super::providers::{check_headers, Models};
use super::{suggest, Ctx};
use crate::raw::{Entry, RawRoute, RawStrategy, RawWhen};
use crate::{Index, Route, Strategy, Target, When};

pub(super) fn check_routes(
    ctx: &mut Ctx<'_>,
    entries: &[Entry<RawRoute>],
    models: &Models,
    index: &Index,
) -> Vec<Route> {
    let mut out = Vec::new();
    let mut first: HashMap<(String, WhenKey), usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("routes[{i}]");
        let Some(raw) = ctx.entry(&path, entry) else {
            continue;
        };
        if raw.name.trim().is_empty() {
            ctx.error(&format!("{path}.name"), "is empty");
            continue;
        }
        let when = match &raw.when {
            Some(w) => match check_when(ctx, &format!("{path}.when"), w) {
                Some(w) => Some(w),
                None => continue,
            },
            None => None,
        };
        let key = (raw.name.clone(), when_key(when.as_ref()));
        if let Some(j) = first.get(&key) {
            let msg = format!(
                "route `{}` is defined twice with the same `when` (first at routes[{j}])",
                raw.name
            );
            ctx.error(&path, msg);
            continue;
        }
        first.insert(key, i);
        let Some(targets) = check_targets(ctx, &path, raw, models, index) else {
            continue;
        };
        out.push(Route {
            name: raw.name.clone(),
            when,
            strategy: match raw.strategy.unwrap_or(RawStrategy::Priority) {
                RawStrategy::Priority => Strategy::Priority,
                RawStrategy::Weighted => Strategy::Weighted,
                RawStrategy::LowestLatency => Strategy::LowestLatency,
                RawStrategy::LowestCost => Strategy::LowestCost,
            },
            targets,
            strict_params: raw.strict_params.unwrap_or(false),
        });
    }
    out
}

/// A `When` compared regardless of header order and name case.
type WhenKey = Option<(Option<String>, Vec<(String, String)>)>;

fn when_key(when: Option<&When>) -> WhenKey {
    when.map(|w| {
        let mut headers = w.headers.clone();
        headers.sort();
        (w.priority.clone(), headers)
    })
}

fn check_when(ctx: &mut Ctx<'_>, path: &str, raw: &RawWhen) -> Option<When> {
    let headers = raw.headers.as_ref().map(|h| h.0.as_slice());
    let headers = check_headers(ctx, &format!("{path}.headers"), headers)?;
    let when = When {
        priority: raw.priority.as_ref().map(|p| p.0.clone()),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
    };
    if when.priority.is_none() && when.headers.is_empty() {
        ctx.error(
            path,
            "is empty; give `priority` or `headers`, or leave `when` out",
        );
        return None;
    }
    Some(when)
}

fn check_targets(
    ctx: &mut Ctx<'_>,
    path: &str,
    raw: &RawRoute,
    models: &Models,
    index: &Index,
) -> Option<Vec<Target>> {
    let list = raw.targets.as_deref().unwrap_or_default();
    if list.is_empty() {
        ctx.error(
            &format!("{path}.targets"),
            "a route needs at least one target",
        );
        return None;
    }
    let mut targets = Vec::new();
    let mut ok = true;
    for (j, t) in list.iter().enumerate() {
        let tpath = format!("{path}.targets[{j}]");
        let model = index
            .models_by_id
            .get(&t.model)
            .or_else(|| index.models_by_qualified.get(&t.model))
            .copied();
        if model.is_none() {
            ok = false;
            if !models.broken.contains(&t.model) {
                let known: Vec<&str> = models.list.iter().map(|m| m.id.as_str()).collect();
                let msg = format!(
                    "unknown model `{}`{}",
                    t.model,
                    suggest::hint(&t.model, &known)
                );
                ctx.error(&format!("{tpath}.model"), msg);
            }
        }
        let weight = match t.weight {
            None => Some(1),
            Some(w) if w < 1 => {
                ctx.error(
                    &format!("{tpath}.weight"),
                    "must be at least 1 (remove the target to send it nothing)",
                );
                None
            }
            Some(w) => u32::try_from(w)
                .map_err(|_| ctx.error(&format!("{tpath}.weight"), "is too large"))
                .ok(),
        };
        if let (Some(model), Some(weight)) = (model, weight) {
            targets.push(Target { model, weight });
        } else {
            ok = false;
        }
    }
    ok.then_some(targets)
}
