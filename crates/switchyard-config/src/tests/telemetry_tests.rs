//! `telemetry.otlp`: off unless written, defaults from the OpenTelemetry specification, the
//! standard `OTEL_*` variables filling what the YAML leaves out, and every mistake (keys,
//! values, variables) reported in one pass without a header's value.

use std::time::Duration;

use super::{issues, parse};
use crate::{MapEnv, OtlpCompression, OtlpProtocol, Sampler};

const BASE: &str = "version: 1\nauth: { disabled: true }\n";

fn with(tail: &str) -> String {
    format!("{BASE}{tail}")
}

#[test]
fn traces_are_off_unless_the_file_asks() {
    let c = parse(
        BASE,
        &MapEnv::new().with_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
    )
    .unwrap();
    assert!(c.telemetry.otlp.is_none());
    let c = parse(&with("telemetry: {}\n"), &MapEnv::new()).unwrap();
    assert!(c.telemetry.otlp.is_none());
}

#[test]
fn a_bare_otlp_key_takes_the_specifications_defaults() {
    for yaml in ["telemetry:\n  otlp:\n", "telemetry: { otlp: {} }\n"] {
        let c = parse(&with(yaml), &MapEnv::new()).unwrap();
        let o = c.telemetry.otlp.expect("on");
        assert_eq!(o.endpoint.as_str(), "http://localhost:4318/v1/traces");
        assert_eq!(o.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            o.sampler,
            Sampler {
                parent_based: true,
                ratio: 1.0
            }
        );
        assert_eq!(o.service_name, "switchyard");
        assert_eq!(o.timeout, Duration::from_secs(10));
        assert_eq!(o.compression, OtlpCompression::None);
        assert_eq!(o.batching.max_queue_size, 2048);
        assert_eq!(o.batching.max_export_batch_size, 512);
        assert_eq!(o.batching.schedule_delay, Duration::from_secs(5));
        assert!(o.headers.is_empty());
    }
    let c = parse(
        &with("telemetry: { otlp: { protocol: grpc } }\n"),
        &MapEnv::new(),
    )
    .unwrap();
    assert_eq!(
        c.telemetry.otlp.unwrap().endpoint.as_str(),
        "http://localhost:4317/"
    );
}

#[test]
fn endpoints_follow_the_yaml_then_the_variables() {
    let ep = |yaml: &str, env: MapEnv| {
        parse(&with(yaml), &env)
            .unwrap()
            .telemetry
            .otlp
            .unwrap()
            .endpoint
            .to_string()
    };
    let env = || {
        MapEnv::new().with_var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://c.example:4318/base/",
        )
    };
    let bare = "telemetry:\n  otlp: {}\n";
    assert_eq!(ep(bare, env()), "https://c.example:4318/base/v1/traces");
    assert_eq!(
        ep(
            bare,
            env().with_var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom")
        ),
        "http://t:1/custom"
    );
    let yaml = "telemetry:\n  otlp: { endpoint: 'http://collector:4318' }\n";
    assert_eq!(ep(yaml, env()), "http://collector:4318/v1/traces");
    let yaml = "telemetry:\n  otlp: { endpoint: 'http://collector:4318/otlp/v1/traces' }\n";
    assert_eq!(ep(yaml, env()), "http://collector:4318/otlp/v1/traces");
    let grpc = MapEnv::new()
        .with_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .with_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317");
    let c = parse(&with(bare), &grpc).unwrap().telemetry.otlp.unwrap();
    assert_eq!(
        (c.protocol, c.endpoint.as_str()),
        (OtlpProtocol::Grpc, "http://c:4317/")
    );
    // The YAML's protocol wins over the variable.
    let yaml = "telemetry:\n  otlp: { protocol: http }\n";
    let c = parse(&with(yaml), &grpc).unwrap().telemetry.otlp.unwrap();
    assert_eq!(
        (c.protocol, c.endpoint.as_str()),
        (OtlpProtocol::HttpProtobuf, "http://c:4317/v1/traces")
    );
}

#[test]
fn headers_and_settings_come_from_the_standard_variables() {
    let env = MapEnv::new()
        .with_var("OTEL_EXPORTER_OTLP_HEADERS", "x-team=core,api-key=from-env")
        .with_var("HONEYCOMB", "api-key=hc%20SECRET-42")
        .with_var("OTEL_SERVICE_NAME", "edge-gw")
        .with_var(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod,service.name=ignored",
        )
        .with_var("OTEL_TRACES_SAMPLER", "traceidratio")
        .with_var("OTEL_TRACES_SAMPLER_ARG", "0.25")
        .with_var("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .with_var("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
        .with_var("OTEL_BSP_MAX_QUEUE_SIZE", "100")
        .with_var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10")
        .with_var("OTEL_BSP_SCHEDULE_DELAY", "250");
    let yaml = "telemetry:\n  otlp:\n    headers_env: HONEYCOMB\n";
    let c = parse(&with(yaml), &env).unwrap();
    let o = c.telemetry.otlp.as_ref().unwrap();
    let headers: Vec<_> = o
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("x-team", "core"), ("api-key", "hc SECRET-42")]);
    assert_eq!(
        o.header_sources,
        ["OTEL_EXPORTER_OTLP_HEADERS", "HONEYCOMB"]
    );
    assert_eq!(o.service_name, "edge-gw");
    assert_eq!(
        o.resource,
        [("deployment.environment".to_owned(), "prod".to_owned())]
    );
    assert_eq!(
        o.sampler,
        Sampler {
            parent_based: false,
            ratio: 0.25
        }
    );
    assert_eq!(o.compression, OtlpCompression::Gzip);
    assert_eq!(o.timeout, Duration::from_millis(2500));
    assert_eq!(o.batching.max_queue_size, 100);
    assert_eq!(o.batching.max_export_batch_size, 10);
    assert_eq!(o.batching.schedule_delay, Duration::from_millis(250));
    // The YAML's ratio wins, parent-based.
    let yaml = "telemetry:\n  otlp: { sample_ratio: 0.5 }\n";
    let o = parse(&with(yaml), &env).unwrap().telemetry.otlp.unwrap();
    assert_eq!(
        o.sampler,
        Sampler {
            parent_based: true,
            ratio: 0.5
        }
    );
    // Header values are secrets: redacted in /config and in Debug.
    let shown = format!("{} {:?}", c.redacted_json(), c);
    assert!(
        !shown.contains("SECRET-42") && !shown.contains("from-env"),
        "{shown}"
    );
    assert!(shown.contains("\"api-key\":\"<redacted>\""), "{shown}");
}

#[test]
fn sdk_disabled_or_exporter_none_turns_traces_off_with_a_warning() {
    let yaml = with("telemetry:\n  otlp: {}\n");
    for (k, v) in [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_TRACES_EXPORTER", "none"),
    ] {
        let c = parse(&yaml, &MapEnv::new().with_var(k, v)).unwrap();
        assert!(c.telemetry.otlp.is_none());
        assert!(c.warnings.iter().any(|w| w.contains(k)), "{:?}", c.warnings);
    }
}

#[test]
fn every_telemetry_mistake_is_reported_in_one_pass() {
    let yaml = with(
        "telemetry:\n  otlp:\n    endpont: http://c:4318\n    protocol: http/json\n    sample_ratio: 1.5\n    headers_env: BAD_HEADERS\nmodels: []\n",
    );
    let env = MapEnv::new()
        .with_var("BAD_HEADERS", "authorization=Bearer hush-SECRET,novalue")
        .with_var("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")
        .with_var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")
        .with_var("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd");
    let found = issues(&yaml, &env);
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    let all = text.join("\n");
    for fragment in [
        "telemetry.otlp.endpont (line 5): unknown field `endpont`",
        "telemetry.otlp.protocol (line 6): `http/json` is not supported",
        "telemetry.otlp.sample_ratio (line 7): 1.5 is not between 0 and 1",
        "telemetry.otlp.headers_env (line 8): BAD_HEADERS: entry 2 has no `=`",
        "OTEL_EXPORTER_OTLP_TIMEOUT is `10s`",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not be larger",
        "OTEL_EXPORTER_OTLP_COMPRESSION is `zstd`",
    ] {
        assert!(all.contains(fragment), "missing {fragment:?} in\n{all}");
    }
    assert!(!all.contains("hush-SECRET"), "{all}");
    let env = MapEnv::new()
        .with_var("OTEL_TRACES_SAMPLER", "jaeger_remote")
        .with_var("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift");
    let found = issues(&with("telemetry:\n  otlp: {}\n"), &env);
    let all: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all[0].contains("OTEL_EXPORTER_OTLP_PROTOCOL: `thrift` is not an OTLP protocol"),
        "{all:?}"
    );
    assert!(
        all[1].contains("OTEL_TRACES_SAMPLER is `jaeger_remote`"),
        "{all:?}"
    );
    let env = MapEnv::new()
        .with_var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
        .with_var("OTEL_TRACES_SAMPLER_ARG", "lots");
    let found = issues(&with("telemetry:\n  otlp: {}\n"), &env);
    assert!(
        found[0]
            .message
            .contains("OTEL_TRACES_SAMPLER_ARG is `lots`"),
        "{found:?}"
    );
    let env = MapEnv::new();
    let found = issues(
        &with("telemetry:\n  otlp: { headers_env: NOT_SET }\n"),
        &env,
    );
    assert!(
        found[0].message.contains("`NOT_SET` is not set"),
        "{found:?}"
    );
    let found = issues(&with("telemetry:\n  otlp: { endpoint: 'ftp://c' }\n"), &env);
    assert!(
        found[0].message.contains("not an http:// or https:// URL"),
        "{found:?}"
    );
    let found = issues(
        &with("telemetry:\n  otlp: { endpoint: 'http://u:p@c:4318' }\n"),
        &env,
    );
    assert!(
        found[0].message.contains("carries credentials"),
        "{found:?}"
    );
    let env = MapEnv::new().with_var("H", "content-type=text/plain");
    let found = issues(&with("telemetry:\n  otlp: { headers_env: H }\n"), &env);
    assert!(
        found[0].message.contains("set by the exporter"),
        "{found:?}"
    );
}

#[test]
fn the_certificate_variables_name_a_pem_file_read_at_load() {
    let yaml = with("telemetry: { otlp: { endpoint: \"https://collector:4318\" } }\n");
    let pem = "junk before\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n\
               -----BEGIN CERTIFICATE-----\nAwQF\n-----END CERTIFICATE-----\n";
    let env = MapEnv::new()
        .with_var("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca/general.pem")
        .with_var(
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            " /etc/ca/traces.pem ",
        )
        .with_file("/etc/ca/traces.pem", pem);
    let o = parse(&yaml, &env).unwrap().telemetry.otlp.unwrap();
    let cert = o.certificate.expect("a certificate");
    assert_eq!(cert.source, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE");
    assert_eq!(cert.path, "/etc/ca/traces.pem");
    assert_eq!(cert.der, [vec![0, 1, 2], vec![3, 4, 5]]);

    let o = parse(&yaml, &MapEnv::new())
        .unwrap()
        .telemetry
        .otlp
        .unwrap();
    assert!(o.certificate.is_none(), "the system's roots by default");

    // Missing, empty of certificates, or garbled: an error naming the variable and the file.
    for (contents, needle) in [
        (None, "cannot read `/ca.pem`"),
        (Some("no pem here\n"), "holds no PEM certificate"),
        (
            Some("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
            "is not valid PEM",
        ),
    ] {
        let mut env = MapEnv::new().with_var("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem");
        if let Some(c) = contents {
            env = env.with_file("/ca.pem", c);
        }
        let found = issues(&yaml, &env);
        assert!(
            found.iter().any(|i| i.path == "telemetry.otlp"
                && i.message.contains("OTEL_EXPORTER_OTLP_CERTIFICATE")
                && i.message.contains(needle)),
            "{needle}: {found:?}"
        );
    }

    // Over plain http the file is read all the same, and a warning says it is not used.
    let env = MapEnv::new()
        .with_var("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem")
        .with_file("/ca.pem", pem);
    let c = parse(
        &with("telemetry: { otlp: { endpoint: \"http://collector:4318\" } }\n"),
        &env,
    )
    .unwrap();
    assert!(
        c.warnings.iter().any(|w| w.contains("not https")),
        "{:?}",
        c.warnings
    );
}
