//! `telemetry:`: where traces are exported (OTLP), off unless written.

use serde::{Deserialize, Deserializer, Serialize};

/// `telemetry:`
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelemetry {
    /// OpenTelemetry traces over OTLP; off when absent, on with defaults when written as
    /// a bare `otlp:`.
    #[serde(
        default,
        deserialize_with = "present_even_if_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub otlp: Option<RawOtlp>,
}

/// A key that is present is `Some` even when its value is empty (`otlp:`).
fn present_even_if_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawOtlp>, D::Error> {
    Ok(Some(Option::<RawOtlp>::deserialize(d)?.unwrap_or_default()))
}

/// `telemetry.otlp:` (an empty map turns traces on with everything from `OTEL_*` variables
/// or the defaults).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOtlp {
    /// Collector URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `grpc | http/protobuf` (`http` for short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Variable holding extra headers as `name=value,name2=value2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers_env: Option<String>,
    /// Share of new traces recorded, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_ratio: Option<f64>,
}
