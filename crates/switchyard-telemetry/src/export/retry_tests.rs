use std::time::{Duration, SystemTime};

use base64::Engine;
use http::{HeaderMap, HeaderValue};

use super::*;

const S: Duration = Duration::from_secs(1);

#[test]
fn only_the_failures_the_specification_names_are_retried() {
    let retried = [
        SendError::Status(429, None),
        SendError::Status(502, None),
        SendError::Status(503, None),
        SendError::Status(504, None),
        SendError::Grpc(14, "unavailable".into(), None),
        SendError::Grpc(1, String::new(), None),
        SendError::Grpc(4, String::new(), None),
        SendError::Grpc(10, String::new(), None),
        SendError::Grpc(11, String::new(), None),
        SendError::Grpc(15, String::new(), None),
        SendError::Connect(
            "c:4318".into(),
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ),
        SendError::Http("connection reset".into()),
    ];
    for e in &retried {
        assert_eq!(e.retry(), Retry::Backoff, "{e}");
    }
    let dropped = [
        SendError::Status(400, None),
        SendError::Status(401, Some(S)),
        SendError::Status(500, None),
        SendError::Status(501, None),
        SendError::Grpc(3, "invalid".into(), None),
        SendError::Grpc(16, "unauthenticated".into(), Some(S)),
        // RESOURCE_EXHAUSTED without RetryInfo: the collector cannot say it will recover.
        SendError::Grpc(8, "quota".into(), None),
        SendError::Tls(
            "c".into(),
            std::io::Error::from(std::io::ErrorKind::InvalidData),
        ),
    ];
    for e in &dropped {
        assert_eq!(e.retry(), Retry::No, "{e}");
    }
    assert_eq!(
        SendError::Status(503, Some(7 * S)).retry(),
        Retry::After(7 * S)
    );
    assert_eq!(
        SendError::Grpc(8, "quota".into(), Some(2 * S)).retry(),
        Retry::After(2 * S)
    );
}

#[test]
fn the_backoff_grows_to_five_seconds_with_jitter_taking_off_at_most_half() {
    assert_eq!(backoff(2, 0.0), S);
    assert_eq!(backoff(3, 0.0), Duration::from_millis(1500));
    assert_eq!(backoff(4, 0.0), Duration::from_millis(2250));
    assert_eq!(backoff(9, 0.0), 5 * S);
    assert_eq!(backoff(2, 1.0), S / 2);
    for i in 0..=10 {
        let d = backoff(5, f64::from(i) / 10.0);
        assert!(d >= Duration::from_secs_f64(3.375 / 2.0) && d <= Duration::from_secs_f64(3.375));
    }
}

#[test]
fn a_retry_never_passes_the_deadline_nor_the_attempt_bound_and_honours_the_asked_delay() {
    let busy = SendError::Status(503, None);
    assert_eq!(next_delay(&busy, 1, 10 * S, 0.0), Some(S));
    assert_eq!(next_delay(&busy, 1, S / 2, 0.0), None, "past the deadline");
    assert_eq!(next_delay(&busy, MAX_ATTEMPTS, 60 * S, 0.0), None);
    let asked = SendError::Status(429, Some(3 * S));
    assert_eq!(
        next_delay(&asked, 1, 10 * S, 1.0),
        Some(3 * S),
        "never sooner"
    );
    assert_eq!(next_delay(&asked, 1, 2 * S, 0.0), None, "too late to wait");
    assert_eq!(
        next_delay(&SendError::Status(400, None), 1, 60 * S, 0.0),
        None
    );
}

#[test]
fn retry_after_takes_seconds_or_an_http_date() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert("retry-after", HeaderValue::from_static(" 3 "));
    assert_eq!(retry_after(&h), Some(3 * S));
    let at = httpdate::fmt_http_date(SystemTime::now() + 120 * S);
    h.insert("retry-after", HeaderValue::try_from(at).unwrap());
    let d = retry_after(&h).unwrap();
    assert!(d > 110 * S && d <= 120 * S, "{d:?}");
    h.insert(
        "retry-after",
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date past is now");
    h.insert("retry-after", HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&h), None);
}

/// Protobuf encoding by hand, as the wire format specifies it.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u64, value: &[u8], out: &mut Vec<u8>) {
    varint((field << 3) | 2, out);
    varint(value.len() as u64, out);
    out.extend_from_slice(value);
}

fn varint_field(field: u64, value: u64, out: &mut Vec<u8>) {
    varint(field << 3, out);
    varint(value, out);
}

/// A `google.rpc.Status` with `details` of the given `(type_url, value)`.
fn status(details: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    varint_field(1, 14, &mut out);
    bytes_field(2, b"busy", &mut out);
    for (url, value) in details {
        let mut any = Vec::new();
        bytes_field(1, url.as_bytes(), &mut any);
        bytes_field(2, value, &mut any);
        bytes_field(3, &any, &mut out);
    }
    out
}

fn retry_info(secs: u64, nanos: u64) -> Vec<u8> {
    let mut duration = Vec::new();
    varint_field(1, secs, &mut duration);
    varint_field(2, nanos, &mut duration);
    let mut info = Vec::new();
    bytes_field(1, &duration, &mut info);
    info
}

#[test]
fn retry_info_is_read_from_the_status_details_padded_or_not() {
    let details = status(&[
        (
            "type.googleapis.com/google.rpc.ErrorInfo",
            vec![0x0a, 0x01, b'x'],
        ),
        (
            "type.googleapis.com/google.rpc.RetryInfo",
            retry_info(2, 500_000_000),
        ),
    ]);
    for engine in [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ] {
        let mut h = HeaderMap::new();
        let b64 = engine.encode(&details);
        h.insert(
            "grpc-status-details-bin",
            HeaderValue::try_from(b64).unwrap(),
        );
        assert_eq!(grpc_retry_info(&h), Some(Duration::from_millis(2500)));
    }
    let mut h = HeaderMap::new();
    assert_eq!(grpc_retry_info(&h), None);
    let other = status(&[("type.googleapis.com/google.rpc.ErrorInfo", retry_info(2, 0))]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(other);
    h.insert(
        "grpc-status-details-bin",
        HeaderValue::try_from(b64).unwrap(),
    );
    assert_eq!(grpc_retry_info(&h), None, "only RetryInfo is a delay");
    h.insert("grpc-status-details-bin", HeaderValue::from_static("%%%"));
    assert_eq!(grpc_retry_info(&h), None);
}
