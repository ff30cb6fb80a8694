//! OpenTelemetry traces for Switchyard: span records built on the request path, the W3C trace
//! context (`traceparent`) they continue and propagate, the samplers the specification names,
//! and an OTLP exporter (HTTP/protobuf or gRPC) that batches spans on its own thread behind a
//! bounded queue, so exporting never slows or fails a request: what does not fit is dropped
//! and counted. Failures the OTLP specification calls retryable are retried with backoff
//! within the export's deadline; an `https://` collector is verified against the system's
//! roots or the CA file of `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE`.
//!
//! The OTLP messages are written by hand ([`encode`]): the gateway emits one fixed shape of
//! span, and the protobuf encoding of that shape is a few hundred lines, where the
//! opentelemetry-rust SDK would bring prost, tonic and a second `rand` into a build that
//! already has hyper, h2 and rustls.
#![warn(missing_docs)]

pub mod context;
pub mod encode;
mod export;
mod ids;
pub mod sampler;
mod span;

pub use export::{check_certificate, ExportMetrics, Exporter};
pub use ids::{SpanId, TraceId};
pub use span::{unix_nanos, Attr, Event, SpanKind, SpanRecord, Status, Text, Value};
