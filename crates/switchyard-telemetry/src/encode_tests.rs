use std::sync::Arc;

use super::*;
use crate::span::Text;
use crate::{SpanId, TraceId};

fn sample_span() -> SpanRecord {
    SpanRecord {
        trace_id: TraceId([7; 16]),
        span_id: SpanId([9; 8]),
        parent: Some(SpanId([3; 8])),
        parent_remote: true,
        trace_state: Some(Arc::from("rojo=00f067aa0ba902b7")),
        flags: 1,
        name: Text::Static("chat gpt-4o"),
        kind: SpanKind::Client,
        start: 1_700_000_000_000_000_000,
        end: 1_700_000_000_500_000_000,
        attrs: vec![
            Attr::new("gen_ai.request.model", Arc::<str>::from("gpt-4o")),
            Attr::new("gen_ai.usage.input_tokens", 12u64),
            Attr::new("switchyard.attempt", -1i64),
            Attr::new("switchyard.stream", true),
            Attr::new("gen_ai.request.temperature", 0.5),
            Attr::new(
                "gen_ai.response.finish_reasons",
                Value::Strs(vec!["stop".into(), String::new()]),
            ),
        ],
        events: vec![Event {
            time: 1_700_000_000_100_000_000,
            name: "switchyard.target_skipped",
            attrs: vec![Attr::new("switchyard.skip_reason", "circuit open")],
        }],
        status: Status::Error("503".into()),
    }
}

fn only<'b, 'a>(fs: &'b [(u32, Field<'a>)], n: u32) -> &'b Field<'a> {
    let found: Vec<_> = fs.iter().filter(|(k, _)| *k == n).collect();
    assert_eq!(found.len(), 1, "field {n} once in {fs:?}");
    &found[0].1
}

fn msg<'a>(f: &Field<'a>) -> Vec<(u32, Field<'a>)> {
    match f {
        Field::Bytes(b) => fields(b).expect("a nested message"),
        other => panic!("not a message: {other:?}"),
    }
}

/// Walks request → resource_spans → scope_spans → span and reads every field back.
#[test]
fn a_span_is_written_with_the_otlp_field_numbers() {
    let pre = Preamble::new("gw", &[("deployment.environment".into(), "test".into())]);
    let body = export_request(&pre, &[sample_span()]);
    let top = fields(&body).unwrap();
    let rs = msg(only(&top, 1));
    let resource = msg(only(&rs, 1));
    let names: Vec<String> = resource
        .iter()
        .map(|(_, kv)| match &msg(kv)[0].1 {
            Field::Bytes(b) => String::from_utf8(b.to_vec()).unwrap(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "service.name",
            "service.version",
            "telemetry.sdk.name",
            "telemetry.sdk.language",
            "telemetry.sdk.version",
            "deployment.environment"
        ]
    );
    let ss = msg(only(&rs, 2));
    let scope = msg(only(&ss, 1));
    assert_eq!(scope[0], (1, Field::Bytes(b"switchyard")));
    let span = msg(only(&ss, 2));
    assert_eq!(*only(&span, 1), Field::Bytes(&[7; 16]));
    assert_eq!(*only(&span, 2), Field::Bytes(&[9; 8]));
    assert_eq!(*only(&span, 3), Field::Bytes(b"rojo=00f067aa0ba902b7"));
    assert_eq!(*only(&span, 4), Field::Bytes(&[3; 8]));
    assert_eq!(*only(&span, 5), Field::Bytes(b"chat gpt-4o"));
    assert_eq!(*only(&span, 6), Field::Varint(3));
    assert_eq!(*only(&span, 7), Field::Fixed(1_700_000_000_000_000_000));
    assert_eq!(*only(&span, 8), Field::Fixed(1_700_000_000_500_000_000));
    assert_eq!(*only(&span, 16), Field::Fixed(0x301));
    let attrs: Vec<_> = span.iter().filter(|(k, _)| *k == 9).collect();
    assert_eq!(attrs.len(), 6);
    let value = |i: usize| msg(&msg(&attrs[i].1)[1].1);
    assert_eq!(value(0), [(1, Field::Bytes(b"gpt-4o"))]);
    assert_eq!(value(1), [(3, Field::Varint(12))]);
    assert_eq!(value(2), [(3, Field::Varint(u64::MAX))]);
    assert_eq!(value(3), [(2, Field::Varint(1))]);
    assert_eq!(value(4), [(4, Field::Fixed(0.5f64.to_bits()))]);
    let arr = value(5);
    let items = msg(&arr[0].1);
    assert_eq!(items.len(), 2);
    assert_eq!(msg(&items[1].1), [(1, Field::Bytes(b""))]);
    let ev = msg(only(&span, 11));
    assert_eq!(ev[0], (1, Field::Fixed(1_700_000_000_100_000_000)));
    assert_eq!(ev[1], (2, Field::Bytes(b"switchyard.target_skipped")));
    let status = msg(only(&span, 15));
    assert_eq!(status, [(2, Field::Bytes(b"503")), (3, Field::Varint(2))]);
}

#[test]
fn a_root_span_has_no_parent_field_and_a_local_flag() {
    let mut s = sample_span();
    s.parent = None;
    s.parent_remote = false;
    s.trace_state = None;
    s.status = Status::Unset;
    let body = export_request(&Preamble::new("gw", &[]), &[s]);
    let top = fields(&body).unwrap();
    let ss = msg(only(&msg(only(&top, 1)), 2));
    let span = msg(only(&ss, 2));
    assert!(span.iter().all(|(k, _)| ![3, 4, 15].contains(k)));
    assert_eq!(*only(&span, 16), Field::Fixed(0x101));
}

#[test]
fn partial_success_is_read_from_the_reply() {
    assert_eq!(rejected_spans(&[]), None);
    let mut partial = Vec::new();
    key(&mut partial, 1, VARINT);
    varint(&mut partial, 3);
    bytes(&mut partial, 2, b"too old");
    let mut reply = Vec::new();
    bytes(&mut reply, 1, &partial);
    assert_eq!(rejected_spans(&reply), Some((3, "too old".into())));
    assert_eq!(rejected_spans(&[0xff]), None);
}
