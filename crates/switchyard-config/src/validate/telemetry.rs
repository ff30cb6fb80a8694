//! `telemetry:`: the OTLP trace exporter's settings, from the YAML and the standard `OTEL_*`
//! variables. What the YAML says wins, the variables fill what it leaves out, then the
//! OpenTelemetry specification's defaults apply. A bad variable is reported like a bad key,
//! in the same pass, naming the variable and never a header's value.

use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::secrets;
use super::Ctx;
use crate::raw::{Entry, RawOtlp, RawTelemetry};
use crate::{
    Batching, OtlpCertificate, OtlpCompression, OtlpConfig, OtlpProtocol, Sampler, Secret,
    TelemetryConfig,
};

const PATH: &str = "telemetry.otlp";

/// Headers the exporter writes itself; a configured one would corrupt the request.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "host",
    "te",
    "grpc-encoding",
    "grpc-timeout",
];

pub(super) fn check_telemetry(
    ctx: &mut Ctx<'_>,
    raw: Option<&Entry<RawTelemetry>>,
) -> TelemetryConfig {
    let Some(t) = raw.and_then(|e| ctx.entry("telemetry", e)) else {
        return TelemetryConfig::default();
    };
    let Some(otlp) = &t.otlp else {
        return TelemetryConfig::default();
    };
    TelemetryConfig {
        otlp: check_otlp(ctx, otlp),
    }
}

/// A variable that is set and not blank.
fn var(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    ctx.env.var(name).filter(|v| !v.trim().is_empty())
}

/// The first of `names` that is set, with its name (signal-specific names go first).
fn first_var(ctx: &Ctx<'_>, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| var(ctx, n).map(|v| (*n, v)))
}

fn check_otlp(ctx: &mut Ctx<'_>, raw: &RawOtlp) -> Option<OtlpConfig> {
    if var(ctx, "OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        ctx.warnings
            .push(format!("{PATH}: OTEL_SDK_DISABLED=true turns traces off"));
        return None;
    }
    match var(ctx, "OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase()) {
        Some(v) if v == "none" => {
            ctx.warnings
                .push(format!("{PATH}: OTEL_TRACES_EXPORTER=none turns traces off"));
            return None;
        }
        Some(v) if v != "otlp" => ctx.error(
            PATH,
            format!("OTEL_TRACES_EXPORTER is `{v}`; switchyard exports traces with `otlp` (or `none` for no traces)"),
        ),
        _ => {}
    }
    let protocol = protocol(ctx, raw);
    let endpoint = endpoint(ctx, raw, protocol);
    let (headers, header_sources) = headers(ctx, raw);
    let sampler = sampler(ctx, raw);
    let compression = match first_var(
        ctx,
        &[
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ],
    ) {
        None => OtlpCompression::None,
        Some((_, v)) if v.trim() == "gzip" => OtlpCompression::Gzip,
        Some((_, v)) if v.trim() == "none" => OtlpCompression::None,
        Some((name, v)) => {
            ctx.error(
                PATH,
                format!("{name} is `{}`; use `gzip` or `none`", v.trim()),
            );
            OtlpCompression::None
        }
    };
    let timeout = millis(
        ctx,
        &[
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ],
        10_000,
    );
    let export_timeout = millis(ctx, &["OTEL_BSP_EXPORT_TIMEOUT"], 30_000);
    let batching = Batching {
        max_queue_size: count(ctx, "OTEL_BSP_MAX_QUEUE_SIZE", 2048),
        max_export_batch_size: count(ctx, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512),
        schedule_delay: millis(ctx, &["OTEL_BSP_SCHEDULE_DELAY"], 5_000),
    };
    if batching.max_export_batch_size > batching.max_queue_size {
        ctx.error(
            PATH,
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not be larger than OTEL_BSP_MAX_QUEUE_SIZE",
        );
    }
    let (service_name, resource) = resource(ctx);
    let certificate = certificate(ctx, endpoint.as_ref());
    Some(OtlpConfig {
        endpoint: endpoint?,
        protocol,
        headers,
        header_sources,
        compression,
        timeout: timeout.min(export_timeout),
        sampler,
        service_name,
        resource,
        batching,
        certificate,
    })
}

/// `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, else `OTEL_EXPORTER_OTLP_CERTIFICATE`: a PEM file
/// of the CA certificates to trust for an `https://` collector, read (and every certificate
/// in it decoded) now, so a missing or garbled file is a config error like any other.
fn certificate(ctx: &mut Ctx<'_>, endpoint: Option<&url::Url>) -> Option<OtlpCertificate> {
    let (source, path) = first_var(
        ctx,
        &[
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ],
    )?;
    let path = path.trim().to_owned();
    if endpoint.is_some_and(|u| u.scheme() != "https") {
        ctx.warnings.push(format!(
            "{PATH}: {source} is set but the collector is not https://; the certificate is not used"
        ));
    }
    let text = match ctx.env.read_file(std::path::Path::new(&path)) {
        Ok(text) => text,
        Err(e) => {
            ctx.error(
                PATH,
                format!("{source}: cannot read `{path}`: {}", e.kind()),
            );
            return None;
        }
    };
    let mut der = Vec::new();
    for item in CertificateDer::pem_slice_iter(text.as_bytes()) {
        match item {
            Ok(cert) => der.push(cert.as_ref().to_vec()),
            Err(e) => {
                ctx.error(PATH, format!("{source}: `{path}` is not valid PEM: {e}"));
                return None;
            }
        }
    }
    if der.is_empty() {
        ctx.error(
            PATH,
            format!("{source}: `{path}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        );
        return None;
    }
    Some(OtlpCertificate { path, source, der })
}

fn parse_protocol(text: &str) -> Result<OtlpProtocol, String> {
    match text.trim() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http/protobuf" | "http" => Ok(OtlpProtocol::HttpProtobuf),
        "http/json" => Err("`http/json` is not supported; use `http/protobuf` or `grpc`".into()),
        other => Err(format!(
            "`{other}` is not an OTLP protocol; use `grpc` or `http/protobuf`"
        )),
    }
}

/// The YAML's, else `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, else `http/protobuf` (the
/// specification's default).
fn protocol(ctx: &mut Ctx<'_>, raw: &RawOtlp) -> OtlpProtocol {
    if let Some(p) = &raw.protocol {
        return parse_protocol(p).unwrap_or_else(|m| {
            ctx.error(&format!("{PATH}.protocol"), m);
            OtlpProtocol::HttpProtobuf
        });
    }
    let names = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ];
    match first_var(ctx, &names) {
        Some((name, v)) => parse_protocol(&v).unwrap_or_else(|m| {
            ctx.error(PATH, format!("{name}: {m}"));
            OtlpProtocol::HttpProtobuf
        }),
        None => OtlpProtocol::HttpProtobuf,
    }
}

/// The YAML's endpoint (for HTTP, `/v1/traces` is added when it has no path), else
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` (for HTTP
/// with `v1/traces` appended to its path), else localhost on the protocol's port.
fn endpoint(ctx: &mut Ctx<'_>, raw: &RawOtlp, protocol: OtlpProtocol) -> Option<url::Url> {
    let http = protocol == OtlpProtocol::HttpProtobuf;
    let (path, what, text, append) = if let Some(e) = &raw.endpoint {
        let path = format!("{PATH}.endpoint");
        (path, format!("`{}`", e.trim()), e.clone(), http)
    } else if let Some((name, v)) = first_var(ctx, &["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
        (PATH.to_owned(), name.to_owned(), v, false)
    } else if let Some((name, v)) = first_var(ctx, &["OTEL_EXPORTER_OTLP_ENDPOINT"]) {
        (PATH.to_owned(), name.to_owned(), v, http)
    } else if http {
        (
            "".into(),
            "".into(),
            "http://localhost:4318/v1/traces".into(),
            false,
        )
    } else {
        ("".into(), "".into(), "http://localhost:4317".into(), false)
    };
    let mut url = match url::Url::parse(text.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            ctx.error(
                &path,
                format!("{what} is not an http:// or https:// URL of a collector, e.g. http://otel-collector:4318"),
            );
            return None;
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        ctx.error(
            &path,
            format!("{what} carries credentials; put them in a header with headers_env"),
        );
        return None;
    }
    let from_base = raw.endpoint.is_none();
    if append && (from_base || url.path() == "/" || url.path().is_empty()) {
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/v1/traces"));
    }
    Some(url)
}

/// `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, then the variable
/// `headers_env` names; a later one replaces an earlier header of the same name.
fn headers(ctx: &mut Ctx<'_>, raw: &RawOtlp) -> (Vec<(String, Secret)>, Vec<String>) {
    let mut sets: Vec<(String, String, Secret)> = Vec::new();
    for name in [
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    ] {
        if let Some(v) = var(ctx, name) {
            sets.push((PATH.to_owned(), name.to_owned(), Secret::new(v)));
        }
    }
    if let Some(name) = &raw.headers_env {
        let path = format!("{PATH}.headers_env");
        if let Some((secret, _)) = secrets::resolve(ctx, &path, "headers_env", name, false) {
            sets.push((path, name.trim().to_owned(), secret));
        }
    }
    let mut out: Vec<(String, Secret)> = Vec::new();
    let mut sources = Vec::new();
    for (path, var_name, text) in sets {
        match parse_pairs(text.expose()) {
            Err(m) => ctx.error(&path, format!("{var_name}: {m}")),
            Ok(pairs) => {
                for (k, v) in pairs {
                    let k = k.to_ascii_lowercase();
                    if !k.bytes().all(is_token_char) {
                        ctx.error(&path, format!("{var_name}: `{k}` is not a header name"));
                    } else if RESERVED_HEADERS.contains(&k.as_str()) {
                        ctx.error(&path, format!("{var_name}: `{k}` is set by the exporter"));
                    } else if v.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                        ctx.error(
                            &path,
                            format!("{var_name}: the value of `{k}` has control characters"),
                        );
                    } else {
                        out.retain(|(n, _)| *n != k);
                        out.push((k, Secret::new(v)));
                    }
                }
                sources.push(var_name);
            }
        }
    }
    (out, sources)
}

/// An HTTP token character (RFC 9110), what a header name is made of.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `key1=value1,key2=value2` with %-encoded values, the format of the `OTEL_*_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES` variables. Messages never hold a value.
fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, item) in text.split(',').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!(
                "entry {} has no `=`; write name=value,name2=value2",
                i + 1
            ));
        };
        let k = percent_decode(k.trim()).map_err(|m| format!("entry {}: {m}", i + 1))?;
        let v = percent_decode(v.trim()).map_err(|m| format!("entry {}: {m}", i + 1))?;
        if k.is_empty() {
            return Err(format!("entry {} has an empty name", i + 1));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let digit = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
            let (Some(hi), Some(lo)) = (digit(i + 1), digit(i + 2)) else {
                return Err("has a bad %-escape".into());
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once %-decoded".into())
}

/// The YAML's `sample_ratio` (parent-based), else `OTEL_TRACES_SAMPLER` and
/// `OTEL_TRACES_SAMPLER_ARG`, else `parentbased_always_on`.
fn sampler(ctx: &mut Ctx<'_>, raw: &RawOtlp) -> Sampler {
    if let Some(r) = raw.sample_ratio {
        if !(0.0..=1.0).contains(&r) {
            ctx.error(
                &format!("{PATH}.sample_ratio"),
                format!("{r} is not between 0 and 1"),
            );
        }
        return Sampler {
            parent_based: true,
            ratio: r.clamp(0.0, 1.0),
        };
    }
    let arg = |ctx: &mut Ctx<'_>| match var(ctx, "OTEL_TRACES_SAMPLER_ARG") {
        None => 1.0,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                ctx.error(
                    PATH,
                    format!(
                        "OTEL_TRACES_SAMPLER_ARG is `{}`; a ratio between 0 and 1",
                        v.trim()
                    ),
                );
                1.0
            }
        },
    };
    let name = var(ctx, "OTEL_TRACES_SAMPLER").map(|v| v.trim().to_ascii_lowercase());
    let (parent_based, ratio) = match name.as_deref() {
        None | Some("parentbased_always_on") => (true, 1.0),
        Some("always_on") => (false, 1.0),
        Some("always_off") => (false, 0.0),
        Some("parentbased_always_off") => (true, 0.0),
        Some("traceidratio") => (false, arg(ctx)),
        Some("parentbased_traceidratio") => (true, arg(ctx)),
        Some(other) => {
            ctx.error(
                PATH,
                format!("OTEL_TRACES_SAMPLER is `{other}`; switchyard supports always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off and parentbased_traceidratio"),
            );
            (true, 1.0)
        }
    };
    Sampler {
        parent_based,
        ratio,
    }
}

/// Milliseconds from the first of `names` that is set, else `default`.
fn millis(ctx: &mut Ctx<'_>, names: &[&'static str], default: u64) -> Duration {
    let ms = match first_var(ctx, names) {
        None => default,
        Some((name, v)) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                ctx.error(
                    PATH,
                    format!("{name} is `{}`; a number of milliseconds above 0", v.trim()),
                );
                default
            }
        },
    };
    Duration::from_millis(ms)
}

/// A positive count from variable `name`, else `default`.
fn count(ctx: &mut Ctx<'_>, name: &'static str, default: usize) -> usize {
    match var(ctx, name) {
        None => default,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                ctx.error(
                    PATH,
                    format!("{name} is `{}`; a whole number above 0", v.trim()),
                );
                default
            }
        },
    }
}

/// `service.name` (`OTEL_SERVICE_NAME`, else `OTEL_RESOURCE_ATTRIBUTES`' `service.name`,
/// else `switchyard`) and the other resource attributes.
fn resource(ctx: &mut Ctx<'_>) -> (String, Vec<(String, String)>) {
    let mut attrs = match var(ctx, "OTEL_RESOURCE_ATTRIBUTES") {
        None => Vec::new(),
        Some(v) => parse_pairs(&v).unwrap_or_else(|m| {
            ctx.error(PATH, format!("OTEL_RESOURCE_ATTRIBUTES: {m}"));
            Vec::new()
        }),
    };
    let from_attrs = attrs
        .iter()
        .rposition(|(k, _)| k == "service.name")
        .map(|i| attrs.remove(i).1);
    attrs.retain(|(k, _)| k != "service.name");
    let name = var(ctx, "OTEL_SERVICE_NAME")
        .map(|v| v.trim().to_owned())
        .or(from_attrs)
        .unwrap_or_else(|| "switchyard".into());
    (name, attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_percent_decoded_and_values_never_echoed() {
        let p = parse_pairs("api-key=a%3Db%2Cc, x-team = core ,").unwrap();
        assert_eq!(
            p,
            [
                ("api-key".into(), "a=b,c".into()),
                ("x-team".into(), "core".into())
            ]
        );
        let e = parse_pairs("ok=1,secretvalue").unwrap_err();
        assert!(e.contains("entry 2") && !e.contains("secretvalue"), "{e}");
        assert!(parse_pairs("k=%zz").is_err());
        assert!(parse_pairs("=v").is_err());
    }
}
