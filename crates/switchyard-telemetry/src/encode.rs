//! OTLP's `ExportTraceServiceRequest` in protobuf, written directly from [`SpanRecord`]s
//! (field numbers from opentelemetry-proto's `trace/v1/trace.proto`, `common/v1/common.proto`
//! and `resource/v1/resource.proto`), and the one field of the reply the exporter reads: how
//! many spans a collector rejected. Runs on the export thread, never on the request path.

use crate::span::{Attr, Event, SpanKind, SpanRecord, Status, Value};

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// `Span.flags` bit: whether the parent's remoteness is known…
const HAS_IS_REMOTE: u32 = 0x100;
/// …and that it is remote.
const IS_REMOTE: u32 = 0x200;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, LEN);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

fn fixed32(out: &mut Vec<u8>, field: u32, v: u32) {
    key(out, field, FIXED32);
    out.extend_from_slice(&v.to_le_bytes());
}

/// Writes a nested message at `field`, encoded on its own first for its length.
fn message(out: &mut Vec<u8>, field: u32, fill: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    fill(&mut inner);
    bytes(out, field, &inner);
}

/// `AnyValue` (a oneof: the chosen field is written even when it holds a default value).
fn any_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(t) => bytes(out, 1, t.as_str().as_bytes()),
        Value::Bool(b) => {
            key(out, 2, VARINT);
            varint(out, u64::from(*b));
        }
        Value::Int(n) => {
            key(out, 3, VARINT);
            varint(out, *n as u64);
        }
        Value::Float(f) => fixed64(out, 4, f.to_bits()),
        Value::Strs(items) => message(out, 5, |arr| {
            for s in items {
                message(arr, 1, |item| bytes(item, 1, s.as_bytes()));
            }
        }),
    }
}

/// `KeyValue { key = 1; value = 2 }` at `field`.
fn key_value(out: &mut Vec<u8>, field: u32, k: &str, v: &Value) {
    message(out, field, |kv| {
        bytes(kv, 1, k.as_bytes());
        message(kv, 2, |val| any_value(val, v));
    });
}

fn attrs(out: &mut Vec<u8>, field: u32, list: &[Attr]) {
    for a in list {
        key_value(out, field, a.key, &a.value);
    }
}

fn event(out: &mut Vec<u8>, e: &Event) {
    message(out, 11, |m| {
        fixed64(m, 1, e.time);
        bytes(m, 2, e.name.as_bytes());
        attrs(m, 3, &e.attrs);
    });
}

/// One `Span` (field 2 of `ScopeSpans`).
fn span(out: &mut Vec<u8>, s: &SpanRecord) {
    message(out, 2, |m| {
        bytes(m, 1, &s.trace_id.0);
        bytes(m, 2, &s.span_id.0);
        if let Some(ts) = &s.trace_state {
            bytes(m, 3, ts.as_bytes());
        }
        if let Some(p) = &s.parent {
            bytes(m, 4, &p.0);
        }
        bytes(m, 5, s.name.as_str().as_bytes());
        key(m, 6, VARINT);
        varint(
            m,
            match s.kind {
                SpanKind::Server => 2,
                SpanKind::Client => 3,
            },
        );
        fixed64(m, 7, s.start);
        fixed64(m, 8, s.end.max(s.start));
        attrs(m, 9, &s.attrs);
        for e in &s.events {
            event(m, e);
        }
        if let Status::Error(msg) = &s.status {
            message(m, 15, |st| {
                if !msg.is_empty() {
                    bytes(st, 2, msg.as_bytes());
                }
                key(st, 3, VARINT);
                varint(st, 2);
            });
        }
        let remote = if s.parent_remote { IS_REMOTE } else { 0 };
        fixed32(m, 16, u32::from(s.flags) | HAS_IS_REMOTE | remote);
    });
}

/// What every export of one configuration starts with: the `Resource` (service name, SDK
/// attributes, `OTEL_RESOURCE_ATTRIBUTES`) and the `InstrumentationScope`, encoded once.
#[derive(Debug, Clone)]
pub struct Preamble {
    resource: Vec<u8>,
    scope: Vec<u8>,
}

impl Preamble {
    /// The resource of service `service_name` with `extra` attributes.
    pub fn new(service_name: &str, extra: &[(String, String)]) -> Self {
        let version = env!("CARGO_PKG_VERSION");
        let mut resource = Vec::new();
        let fixed: [(&str, &str); 5] = [
            ("service.name", service_name),
            ("service.version", version),
            ("telemetry.sdk.name", "switchyard"),
            ("telemetry.sdk.language", "rust"),
            ("telemetry.sdk.version", version),
        ];
        for (k, v) in fixed {
            key_value(&mut resource, 1, k, &Value::from(v.to_owned()));
        }
        for (k, v) in extra {
            if !fixed.iter().any(|(f, _)| f == k) {
                key_value(&mut resource, 1, k, &Value::from(v.clone()));
            }
        }
        let mut scope = Vec::new();
        bytes(&mut scope, 1, b"switchyard");
        bytes(&mut scope, 2, version.as_bytes());
        Self { resource, scope }
    }
}

/// An `ExportTraceServiceRequest` carrying `spans`.
pub fn export_request(pre: &Preamble, spans: &[SpanRecord]) -> Vec<u8> {
    let mut scope_spans = Vec::with_capacity(256 * spans.len() + 64);
    bytes(&mut scope_spans, 1, &pre.scope);
    for s in spans {
        span(&mut scope_spans, s);
    }
    let mut resource_spans = Vec::with_capacity(scope_spans.len() + pre.resource.len() + 16);
    bytes(&mut resource_spans, 1, &pre.resource);
    bytes(&mut resource_spans, 2, &scope_spans);
    let mut out = Vec::with_capacity(resource_spans.len() + 8);
    bytes(&mut out, 1, &resource_spans);
    out
}

/// A protobuf field as read by [`fields`].
#[derive(Debug, PartialEq)]
pub(crate) enum Field<'a> {
    Varint(u64),
    Fixed(u64),
    Bytes(&'a [u8]),
}

fn read_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The top-level fields of a protobuf message, or `None` if it is malformed.
pub(crate) fn fields(b: &[u8]) -> Option<Vec<(u32, Field<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let k = read_varint(b, &mut pos)?;
        let field = u32::try_from(k >> 3).ok()?;
        let f = match k & 7 {
            0 => Field::Varint(read_varint(b, &mut pos)?),
            1 => {
                let v = u64::from_le_bytes(b.get(pos..pos + 8)?.try_into().ok()?);
                pos += 8;
                Field::Fixed(v)
            }
            2 => {
                let n = usize::try_from(read_varint(b, &mut pos)?).ok()?;
                let v = b.get(pos..pos.checked_add(n)?)?;
                pos += n;
                Field::Bytes(v)
            }
            5 => {
                let v = u32::from_le_bytes(b.get(pos..pos + 4)?.try_into().ok()?);
                pos += 4;
                Field::Fixed(u64::from(v))
            }
            _ => return None,
        };
        out.push((field, f));
    }
    Some(out)
}

/// From an `ExportTraceServiceResponse`: the spans its `partial_success` says were rejected,
/// and the collector's message. `None` when everything was accepted (or the body is empty).
pub fn rejected_spans(body: &[u8]) -> Option<(u64, String)> {
    let partial = fields(body)?.into_iter().find_map(|(n, f)| match (n, f) {
        (1, Field::Bytes(b)) => Some(b),
        _ => None,
    })?;
    let mut rejected = 0;
    let mut message = String::new();
    for (n, f) in fields(partial)? {
        match (n, f) {
            (1, Field::Varint(v)) => rejected = v,
            (2, Field::Bytes(b)) => message = String::from_utf8_lossy(b).into_owned(),
            _ => {}
        }
    }
    (rejected > 0 || !message.is_empty()).then_some((rejected, message))
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
