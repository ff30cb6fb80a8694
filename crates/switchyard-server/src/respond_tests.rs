use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use switchyard_config::{Config, MapEnv};
use switchyard_filter::{Endpoint, NameValues, RequestCtx, RoutePlan};

use super::{head, millis, small_number};

fn config() -> Arc<Config> {
    let yaml = r#"version: 1
auth: { disabled: true }
providers:
  - { id: p, type: openai, base_url: "http://127.0.0.1:1/v1", api_key_env: K }
  - { id: q, type: openai, base_url: "http://127.0.0.1:2/v1", api_key_env: K }
models:
  - { id: a, provider: p }
  - { id: b, provider: q }
routes:
  - { name: chat, targets: [{ model: a }, { model: b }] }
"#;
    let env = MapEnv::new().with_var("K", "k");
    Arc::new(Config::from_yaml_str(yaml, &env).expect("config"))
}

/// A context that answered from model `b` of route `route` on its second attempt.
fn answered(config: &Arc<Config>, route: &str) -> RequestCtx {
    let mut cx = RequestCtx::new(
        "req-1".into(),
        config.clone(),
        Endpoint::ChatCompletions,
        http::HeaderMap::new(),
    );
    cx.route = Some(RoutePlan {
        name: route.into(),
        targets: vec![0, 1],
        ..RoutePlan::default()
    });
    cx.answer.model = Some(1);
    cx.answer.attempts = 2;
    cx.dropped_params = vec!["logit_bias".into(), "seed".into()];
    cx.response_headers.push((
        HeaderName::from_static("x-extra"),
        HeaderValue::from_static("1"),
    ));
    cx
}

/// The head's headers as text, but the overhead (a time).
fn headers(cx: &RequestCtx, status: u16) -> Vec<(String, String)> {
    let h = head(cx, status).expect("a head");
    assert_eq!(h.status.as_u16(), status);
    h.headers
        .iter()
        .filter(|(n, _)| *n != "x-switchyard-overhead-ms")
        .map(|(n, v)| (n.to_string(), v.to_str().expect("text").to_owned()))
        .collect()
}

#[test]
fn the_gateways_headers_name_the_route_model_provider_and_attempts() {
    let config = config();
    let mut cx = answered(&config, "chat");
    let want: Vec<(String, String)> = [
        ("x-request-id", "req-1"),
        ("x-switchyard-route", "chat"),
        ("x-switchyard-model", "b"),
        ("x-switchyard-provider", "q"),
        ("x-switchyard-attempts", "2"),
        ("x-switchyard-dropped-params", "logit_bias, seed"),
        ("x-extra", "1"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(headers(&cx, 200), want, "built per request");
    cx.names = Some(Arc::new(NameValues::of(&config)));
    assert_eq!(headers(&cx, 200), want, "prepared per config");
    let h = head(&cx, 502).expect("a head");
    let overhead = h.headers["x-switchyard-overhead-ms"]
        .to_str()
        .expect("text");
    assert!(
        overhead.parse::<f64>().is_ok_and(|ms| ms >= 0.0),
        "{overhead}"
    );
    assert_eq!(
        overhead.split('.').nth(1).map(str::len),
        Some(3),
        "{overhead}"
    );
}

#[test]
fn a_route_name_the_config_does_not_know_is_still_reported() {
    let config = config();
    let mut cx = answered(&config, "p/a");
    cx.names = Some(Arc::new(NameValues::of(&config)));
    cx.route = Some(RoutePlan {
        name: "made-up-by-a-filter".into(),
        ..RoutePlan::default()
    });
    let h = head(&cx, 200).expect("a head");
    assert_eq!(h.headers["x-switchyard-route"], "made-up-by-a-filter");
    cx.route = Some(RoutePlan {
        name: "bad\nname".into(),
        ..RoutePlan::default()
    });
    let h = head(&cx, 200).expect("a head");
    assert!(h.headers.get("x-switchyard-route").is_none());
}

#[test]
fn numbers_and_durations_are_written_as_before() {
    for n in [0, 1, 9, 10, 12, 4_000_000_000] {
        assert_eq!(small_number(n), n.to_string().as_str());
    }
    for d in [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_micros(1_234),
        Duration::from_micros(999_999_500),
        Duration::from_secs(86_400 * 365),
    ] {
        let want = format!("{:.3}", d.as_secs_f64() * 1000.0);
        assert_eq!(millis(d).expect("fits"), want.as_str(), "{d:?}");
    }
}

#[test]
fn a_status_outside_100_to_999_is_refused() {
    let config = config();
    let cx = answered(&config, "chat");
    assert!(head(&cx, 99).is_err());
    assert!(head(&cx, 1000).is_err());
    assert!(head(&cx, 999).is_ok());
}
