//! A finished span as the exporter takes it: ids, timing, attributes, events, status. Keys
//! are the conventions' static names; values borrow the config's strings through `Arc`s
//! where they can, so building a span allocates little.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{SpanId, TraceId};

/// Text that is static, shared with the config, or owned by the span.
#[derive(Debug, Clone)]
pub enum Text {
    /// A constant.
    Static(&'static str),
    /// A config string (model id, provider name…).
    Shared(Arc<str>),
    /// Per request.
    Owned(String),
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Shared(s) => s,
            Text::Owned(s) => s,
        }
    }
}

/// An attribute value (the OTLP `AnyValue` kinds the gateway uses).
#[derive(Debug, Clone)]
pub enum Value {
    /// A string.
    Str(Text),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A floating-point number.
    Float(f64),
    /// An array of strings (finish reasons).
    Strs(Vec<String>),
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Self {
        Value::Str(Text::Static(s))
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Self {
        Value::Str(Text::Shared(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Text::Owned(s))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

/// One attribute.
#[derive(Debug, Clone)]
pub struct Attr {
    /// The semantic convention's name, e.g. `gen_ai.request.model`.
    pub key: &'static str,
    /// Its value.
    pub value: Value,
}

impl Attr {
    /// `key` = `value`.
    pub fn new(key: &'static str, value: impl Into<Value>) -> Self {
        Self {
            key,
            value: value.into(),
        }
    }
}

/// The OTLP span kinds the gateway emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Handling a client's request.
    Server,
    /// A request to an upstream.
    Client,
}

/// A span's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not an error (the convention leaves successful spans unset).
    Unset,
    /// Failed, with a short description.
    Error(String),
}

/// Something that happened at a point in a span (a target passed over).
#[derive(Debug, Clone)]
pub struct Event {
    /// Unix time in nanoseconds.
    pub time: u64,
    /// Event name.
    pub name: &'static str,
    /// Its attributes.
    pub attrs: Vec<Attr>,
}

/// A finished span.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// Its trace.
    pub trace_id: TraceId,
    /// Its id.
    pub span_id: SpanId,
    /// The parent, if any.
    pub parent: Option<SpanId>,
    /// Whether the parent is another process's (a caller's `traceparent`).
    pub parent_remote: bool,
    /// The caller's `tracestate`, if any.
    pub trace_state: Option<Arc<str>>,
    /// W3C trace flags (sampled).
    pub flags: u8,
    /// Span name.
    pub name: Text,
    /// Kind.
    pub kind: SpanKind,
    /// Start, Unix nanoseconds.
    pub start: u64,
    /// End, Unix nanoseconds.
    pub end: u64,
    /// Attributes.
    pub attrs: Vec<Attr>,
    /// Events.
    pub events: Vec<Event>,
    /// Status.
    pub status: Status,
}

/// Nanoseconds since the Unix epoch of `t` (0 before it).
pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
