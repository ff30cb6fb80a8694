//! `telemetry:` as checked: where traces go and how they are sampled, with the standard
//! `OTEL_*` variables folded in (what the YAML says wins; the variables fill what it leaves
//! out; then the OpenTelemetry defaults).

use std::time::Duration;

use crate::Secret;

/// `telemetry:`. Everything is off unless the file turns it on.
#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    /// `telemetry.otlp`: OpenTelemetry traces over OTLP; `None` when off.
    pub otlp: Option<OtlpConfig>,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// gRPC (HTTP/2) to `TraceService/Export`, port 4317 by convention.
    Grpc,
    /// Protobuf over HTTP POST to `/v1/traces`, port 4318 by convention: the specification's
    /// default.
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The name `OTEL_EXPORTER_OTLP_PROTOCOL` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Body compression of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpCompression {
    /// As is (the default).
    None,
    /// gzip.
    Gzip,
}

/// Which traces are recorded: the OpenTelemetry samplers `traceidratio` and
/// `parentbased_traceidratio` (`always_on` and `always_off` are ratios 1 and 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    /// A request that carries a `traceparent` follows its caller's sampled flag.
    pub parent_based: bool,
    /// Share of new traces recorded, 0 to 1.
    pub ratio: f64,
}

/// The batching of spans on their way out (the `OTEL_BSP_*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Spans waiting to be exported at most; more are dropped and counted. Default 2048.
    pub max_queue_size: usize,
    /// Spans per export at most. Default 512.
    pub max_export_batch_size: usize,
    /// Longest wait before a partial batch is sent. Default 5 s.
    pub schedule_delay: Duration,
}

/// `telemetry.otlp`, resolved.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// Where spans go: for HTTP the full URL (`…/v1/traces`); for gRPC the collector's URL,
    /// the service path is appended to it.
    pub endpoint: url::Url,
    /// The transport.
    pub protocol: OtlpProtocol,
    /// Extra request headers (typically a hosted backend's API key): names as given,
    /// values secret.
    pub headers: Vec<(String, Secret)>,
    /// Where the headers came from (variable names), for `/config`.
    pub header_sources: Vec<String>,
    /// Body compression.
    pub compression: OtlpCompression,
    /// One export's deadline. Default 10 s.
    pub timeout: Duration,
    /// Which requests are traced.
    pub sampler: Sampler,
    /// `service.name` of the resource. Default `switchyard`.
    pub service_name: String,
    /// Other resource attributes (`OTEL_RESOURCE_ATTRIBUTES`), in order.
    pub resource: Vec<(String, String)>,
    /// Queue and batch sizes.
    pub batching: Batching,
    /// The CA certificates an `https://` collector is verified against instead of the
    /// system's; `None` for the system's.
    pub certificate: Option<OtlpCertificate>,
}

/// A PEM file of CA certificates (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE` or
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`), read when the config is loaded.
#[derive(Debug, Clone)]
pub struct OtlpCertificate {
    /// The file, as the variable names it.
    pub path: String,
    /// The variable that names it.
    pub source: &'static str,
    /// Its certificates, DER-encoded, in file order (at least one).
    pub der: Vec<Vec<u8>>,
}
