//! `route`: resolves the `model` a client asked for to a route — a named route (matching its
//! `when` conditions first), a model id, or `provider/model` — and orders its targets by the
//! route's strategy (`priority`, `weighted`, `lowest_latency`, `lowest_cost`). Measures each
//! deployment's time to first token for `lowest_latency`. Removes the gateway's own tags
//! (`metadata.priority`) before the request goes upstream.

mod latency;
mod order;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use switchyard_config::{Config, Route, Strategy, When};
use switchyard_filter::{
    AttemptFlow, AttemptResult, BuildEnv, BuildError, Filter, FilterFactory, Flow, GatewayError,
    RequestCtx, ResponseHead, RoutePlan, Step, UpstreamRequest,
};
use switchyard_wire::ChatRequest;

pub use latency::{LatencyBook, LatencyCell, ALPHA, FAILURE_PENALTY};
pub use order::{EXPECTED_OUTPUT_TOKENS, EXPLORATION};

/// The header that carries the priority tag.
pub const PRIORITY_HEADER: &str = "x-switchyard-priority";

/// Builds [`RouteFilter`]; keeps the latency averages across reloads.
#[derive(Debug, Default)]
pub struct RouteFactory {
    latency: LatencyBook,
}

/// The built filter: the route table of one config.
pub struct RouteFilter {
    config: Arc<Config>,
    /// Latency cells indexed like `config.models`.
    latency: Vec<Arc<LatencyCell>>,
    /// Route names indexed like `config.routes`, and model ids like `config.models`: what a
    /// plan's name shares.
    route_names: Vec<Arc<str>>,
    model_ids: Vec<Arc<str>>,
}

/// When the current attempt started, to measure its time to first token.
struct Clock {
    model: usize,
    started: Instant,
    ok: bool,
    measured: bool,
}

impl FilterFactory for RouteFactory {
    fn name(&self) -> &'static str {
        "route"
    }

    fn build(
        &self,
        settings: &serde_yaml::Value,
        env: &BuildEnv<'_>,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        self.check_settings(settings)?;
        let latency = self
            .latency
            .cells_for(env.config.models.iter().map(|m| m.id.as_str()));
        Ok(Arc::new(RouteFilter::new(env.config.clone(), latency)))
    }

    fn after(&self) -> &'static [&'static str] {
        &["auth"]
    }

    fn required(&self) -> bool {
        true
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
    /// The route table of `config`, with `latency` cells indexed like its models.
    fn new(config: Arc<Config>, latency: Vec<Arc<LatencyCell>>) -> Self {
        Self {
            route_names: config
                .routes
                .iter()
                .map(|r| r.name.as_str().into())
                .collect(),
            model_ids: config.models.iter().map(|m| m.id.as_str().into()).collect(),
            config,
            latency,
        }
    }

    /// The targets of `route` in the order its strategy gives for this request.
    fn order(&self, route: &Route, req: &ChatRequest) -> Vec<usize> {
        let mut rng = fastrand::Rng::new();
        match route.strategy {
            _ if route.targets.len() < 2 => route.targets.iter().map(|t| t.model).collect(),
            Strategy::Priority => route.targets.iter().map(|t| t.model).collect(),
            Strategy::Weighted => order::weighted(&route.targets, &mut rng),
            Strategy::LowestLatency => {
                order::lowest_latency(&route.targets, &self.latency, &mut rng)
            }
            Strategy::LowestCost => order::lowest_cost(
                &route.targets,
                &self.config.models,
                crate::tokens::quick_estimate(req),
                req.max_output_tokens,
            ),
        }
    }

    /// The plan for `name`, or `ModelNotFound`.
    fn resolve(
        &self,
        name: &str,
        priority: Option<&str>,
        cx: &RequestCtx,
        req: &ChatRequest,
    ) -> Result<RoutePlan, GatewayError> {
        let cfg = &self.config;
        if let Some(indices) = cfg.index.routes_by_name.get(name) {
            let matched = indices.iter().copied().find(|&i| {
                cfg.routes[i]
                    .when
                    .as_ref()
                    .is_none_or(|w| when_matches(w, priority, cx))
            });
            if let Some(i) = matched {
                let route: &Route = &cfg.routes[i];
                return Ok(RoutePlan {
                    name: self.route_names[i].clone(),
                    targets: self.order(route, req),
                    strict_params: route.strict_params,
                    pruned: Vec::new(),
                    tried: 0,
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
                name: match self.model_ids.get(m) {
                    Some(id) if **id == *name => id.clone(),
                    _ => name.into(),
                },
                targets: vec![m],
                strict_params: false,
                pruned: Vec::new(),
                tried: 0,
            }),
            None => Err(GatewayError::ModelNotFound {
                model: name.to_string(),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Filter for RouteFilter {
    fn describe_target(&self, model: usize, out: &mut serde_json::Map<String, serde_json::Value>) {
        let avg = self.latency.get(model).and_then(|c| c.get());
        out.insert(
            "latency_ms_avg".into(),
            avg.map_or(serde_json::Value::Null, |s| (s * 1000.0).into()),
        );
    }

    fn on_request<'a>(&'a self, cx: &'a mut RequestCtx, req: &'a mut ChatRequest) -> Step<'a> {
        let priority = cx
            .header(PRIORITY_HEADER)
            .map(str::to_owned)
            .or_else(|| req.metadata_str("priority").map(str::to_owned));
        let plan = match self.resolve(&req.model, priority.as_deref(), cx, req) {
            Ok(plan) => plan,
            Err(e) => return Step::Done(Err(e)),
        };
        req.remove_metadata("priority");
        cx.route = Some(plan);
        Step::Done(Ok(Flow::Continue))
    }

    fn on_upstream_request(
        &self,
        cx: &mut RequestCtx,
        _req: &ChatRequest,
        up: &mut UpstreamRequest,
    ) -> Result<AttemptFlow, GatewayError> {
        cx.slots.insert(Clock {
            model: up.model,
            started: Instant::now(),
            ok: false,
            measured: false,
        });
        Ok(AttemptFlow::Send)
    }

    fn on_response_head(
        &self,
        cx: &mut RequestCtx,
        head: &mut ResponseHead,
    ) -> Result<(), GatewayError> {
        if let Some(clock) = cx.slots.get_mut::<Clock>() {
            clock.ok = (200..300).contains(&head.status);
        }
        Ok(())
    }

    /// The first bytes of a good answer on their way to the client: the time to first token.
    fn on_response_chunk(
        &self,
        cx: &mut RequestCtx,
        chunk: &mut Bytes,
        end: bool,
    ) -> Result<(), GatewayError> {
        if let Some(clock) = cx.slots.get_mut::<Clock>() {
            if clock.ok && !clock.measured && (!chunk.is_empty() || end) {
                clock.measured = true;
                if let Some(cell) = self.latency.get(clock.model) {
                    cell.record(clock.started.elapsed());
                }
            }
        }
        Ok(())
    }

    fn on_attempt_end(&self, cx: &mut RequestCtx, up: &UpstreamRequest, res: &AttemptResult) {
        if !res.is_retryable() {
            return;
        }
        let Some(clock) = cx.slots.get::<Clock>().filter(|c| c.model == up.model) else {
            return;
        };
        if let Some(cell) = self.latency.get(up.model) {
            cell.record(clock.started.elapsed() + FAILURE_PENALTY);
        }
    }
}

#[cfg(test)]
mod tests {
    use switchyard_config::MapEnv;
    use switchyard_filter::Endpoint;
    use switchyard_wire::Dialect;

    use super::*;

    #[test]
    fn plans_share_the_names_of_routes_and_models_and_keep_what_the_client_asked() {
        let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
models:
  - { id: a, provider: p, model: up-a }
routes:
  - { name: chat, targets: [{ model: a }] }
"#;
        let env = MapEnv::new().with_var("K", "k");
        let config = Arc::new(Config::from_yaml_str(yaml, &env).expect("config"));
        let f = RouteFilter::new(config.clone(), Vec::new());
        let cx = RequestCtx::new(
            "r".into(),
            config,
            Endpoint::ChatCompletions,
            Default::default(),
        );
        let req = ChatRequest::parse(Dialect::OpenAi, br#"{"model":"x","messages":[]}"#)
            .expect("request");
        let plan = |name: &str| f.resolve(name, None, &cx, &req).expect("a plan");
        let chat = plan("chat");
        assert_eq!(&*chat.name, "chat");
        assert!(Arc::ptr_eq(&chat.name, &f.route_names[0]));
        let model = plan("a");
        assert_eq!((&*model.name, model.targets.as_slice()), ("a", &[0][..]));
        assert!(Arc::ptr_eq(&model.name, &f.model_ids[0]));
        for qualified in ["p/a", "p/up-a"] {
            assert_eq!(&*plan(qualified).name, qualified);
        }
        assert!(f.resolve("nope", None, &cx, &req).is_err());
    }
}
