//! `route`: resolves the `model` a client asked for to a route — a named route (matching its
//! `when` conditions first), a model id, or `provider/model` — and orders its targets. Removes
//! the gateway's own tags (`metadata.priority`) before the request goes upstream.

use std::sync::Arc;

use switchyard_config::{Config, Route, Strategy, When};
use switchyard_filter::{
    BuildEnv, Filter, FilterFactory, Flow, GatewayError, RequestCtx, RoutePlan,
};
use switchyard_wire::ChatRequest;

/// The header that carries the priority tag.
pub const PRIORITY_HEADER: &str = "x-switchyard-priority";

/// Builds [`RouteFilter`].
#[derive(Debug, Default)]
pub struct RouteFactory;

/// The built filter: the route table of one config.
pub struct RouteFilter {
    config: Arc<Config>,
}

impl FilterFactory for RouteFactory {
    fn name(&self) -> &'static str {
        "route"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, String> {
        crate::no_settings(self.name(), settings)?;
        for (i, r) in env.config.routes.iter().enumerate() {
            if r.strategy != Strategy::Priority {
                return Err(format!(
                    "routes[{i}] (`{}`): strategy `{}` is not supported yet in this version; use `priority`",
                    r.name,
                    strategy_name(r.strategy)
                ));
            }
        }
        Ok(Arc::new(RouteFilter {
            config: env.config.clone(),
        }))
    }

    fn after(&self) -> &'static [&'static str] {
        &["auth"]
    }

    fn required(&self) -> bool {
        true
    }
}

fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Priority => "priority",
        Strategy::Weighted => "weighted",
        Strategy::LowestLatency => "lowest_latency",
        Strategy::LowestCost => "lowest_cost",
    }
}

fn when_matches(when: &When, priority: Option<&str>, cx: &RequestCtx) -> bool {
    if let Some(p) = &when.priority {
        if priority != Some(p.as_str()) {
            return false;
        }
    }
    when.headers
        .iter()
        .all(|(name, value)| cx.header(name) == Some(value.as_str()))
}

impl RouteFilter {
    /// The plan for `name`, or `ModelNotFound`.
    fn resolve(
        &self,
        name: &str,
        priority: Option<&str>,
        cx: &RequestCtx,
    ) -> Result<RoutePlan, GatewayError> {
        let cfg = &self.config;
        if let Some(indices) = cfg.index.routes_by_name.get(name) {
            let matched: Option<&Route> = indices.iter().map(|&i| &cfg.routes[i]).find(|r| {
                r.when
                    .as_ref()
                    .is_none_or(|w| when_matches(w, priority, cx))
            });
            if let Some(route) = matched {
                return Ok(RoutePlan {
                    name: route.name.clone(),
                    targets: route.targets.iter().map(|t| t.model).collect(),
                    strict_params: route.strict_params,
                });
            }
        }
        let model = cfg
            .index
            .models_by_id
            .get(name)
            .or_else(|| cfg.index.models_by_qualified.get(name));
        match model {
            Some(&m) => Ok(RoutePlan {
                name: name.to_string(),
                targets: vec![m],
                strict_params: false,
            }),
            None => Err(GatewayError::ModelNotFound {
                model: name.to_string(),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Filter for RouteFilter {
    async fn on_request(
        &self,
        cx: &mut RequestCtx,
        req: &mut ChatRequest,
    ) -> Result<Flow, GatewayError> {
        let priority = cx
            .header(PRIORITY_HEADER)
            .map(str::to_owned)
            .or_else(|| req.metadata_str("priority").map(str::to_owned));
        let plan = self.resolve(&req.model, priority.as_deref(), cx)?;
        req.remove_metadata("priority");
        cx.route = Some(plan);
        Ok(Flow::Continue)
    }
}
