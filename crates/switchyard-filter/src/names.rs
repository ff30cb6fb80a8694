//! A config's names as response header values (`x-switchyard-route`, `-model`, `-provider`),
//! built once per config so that an answer copies none of them per request.

use std::collections::HashMap;

use http::HeaderValue;
use switchyard_config::Config;

/// Header values of the names a request's answer reports: model and provider ids by index,
/// and every name a route plan can carry (route names, model ids, `provider/model`). A name
/// that is not a valid header value has none, and its header is left out, as before.
#[derive(Debug, Default)]
pub struct NameValues {
    models: Vec<Option<HeaderValue>>,
    providers: Vec<Option<HeaderValue>>,
    routes: HashMap<String, HeaderValue>,
}

impl NameValues {
    /// The names of `config`.
    pub fn of(config: &Config) -> Self {
        let value = |name: &str| HeaderValue::from_str(name).ok();
        let mut routes = HashMap::new();
        let plan_names = config
            .routes
            .iter()
            .map(|r| &r.name)
            .chain(config.index.models_by_id.keys())
            .chain(config.index.models_by_qualified.keys());
        for name in plan_names {
            if let Some(v) = value(name) {
                routes.insert(name.clone(), v);
            }
        }
        Self {
            models: config.models.iter().map(|m| value(&m.id)).collect(),
            providers: config.providers.iter().map(|p| value(&p.id)).collect(),
            routes,
        }
    }

    /// The id of model `index` (into `Config::models`).
    pub fn model(&self, index: usize) -> Option<&HeaderValue> {
        self.models.get(index)?.as_ref()
    }

    /// The id of provider `index` (into `Config::providers`).
    pub fn provider(&self, index: usize) -> Option<&HeaderValue> {
        self.providers.get(index)?.as_ref()
    }

    /// A route plan's name.
    pub fn route(&self, name: &str) -> Option<&HeaderValue> {
        self.routes.get(name)
    }
}

#[cfg(test)]
mod tests {
    use switchyard_config::MapEnv;

    use super::*;

    #[test]
    fn every_name_a_plan_or_answer_reports_is_prepared() {
        let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
  - { id: q, type: openai, base_url: "http://127.0.0.1:2/v1", api_key_env: K }
models:
  - { id: a, provider: p, model: gpt-up }
  - { id: b, provider: q }
routes:
  - { name: chat, targets: [{ model: a }, { model: b }] }
"#;
        let env = MapEnv::new().with_var("K", "k");
        let config = Config::from_yaml_str(yaml, &env).expect("config");
        let names = NameValues::of(&config);
        assert_eq!(names.model(0).expect("a"), "a");
        assert_eq!(names.model(1).expect("b"), "b");
        assert!(names.model(2).is_none());
        assert_eq!(names.provider(0).expect("p"), "p");
        assert_eq!(names.provider(1).expect("q"), "q");
        for name in ["chat", "a", "b", "p/a", "p/gpt-up", "q/b"] {
            assert_eq!(names.route(name).expect(name), name);
        }
        assert!(names.route("unknown").is_none());
    }
}
