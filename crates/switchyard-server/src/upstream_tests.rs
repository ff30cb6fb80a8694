//! The upstream request as it goes on the wire.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

use super::*;

fn up(headers: &[(&'static str, &'static str)]) -> UpstreamRequest {
    let mut up = UpstreamRequest::new(0);
    up.path = "/chat/completions".into();
    up.body = Bytes::from_static(b"{\"model\":\"m\"}");
    up.headers = headers
        .iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect();
    up
}

#[test]
fn the_request_line_headers_and_body_go_out_together() {
    let wire = request_bytes(
        "api.example.com",
        "/v1",
        &up(&[("authorization", "Bearer k")]),
    )
    .unwrap();
    let text = String::from_utf8(wire).unwrap();
    assert_eq!(
        text,
        concat!(
            "POST /v1/chat/completions HTTP/1.1\r\n",
            "host: api.example.com\r\n",
            "content-type: application/json\r\n",
            "content-length: 13\r\n",
            "accept: application/json\r\n",
            "user-agent: switchyard/",
            env!("CARGO_PKG_VERSION"),
            "\r\n",
            "authorization: Bearer k\r\n",
            "\r\n",
            "{\"model\":\"m\"}"
        )
    );
}

#[test]
fn a_filters_header_replaces_the_default_and_the_last_of_a_name_wins() {
    let mut up = up(&[
        ("accept", "application/vnd.amazon.eventstream"),
        ("x-amz-date", "1"),
        ("x-amz-date", "2"),
    ]);
    up.stream = true;
    let text = String::from_utf8(request_bytes("h", "", &up).unwrap()).unwrap();
    assert_eq!(text.matches("accept:").count(), 1, "{text}");
    assert!(text.contains("accept: application/vnd.amazon.eventstream\r\n"));
    assert!(!text.contains("text/event-stream"));
    assert_eq!(text.matches("x-amz-date").count(), 1, "{text}");
    assert!(text.contains("x-amz-date: 2\r\n"));
    assert!(text.starts_with("POST /chat/completions HTTP/1.1\r\n"));
}

#[test]
fn a_path_that_would_break_the_request_line_is_refused() {
    for path in ["/a b", "/a\r\nx: y", "/a\n"] {
        let mut up = up(&[]);
        up.path = path.into();
        assert!(
            matches!(
                request_bytes("h", "/v1", &up),
                Err(AttemptError::Protocol(_))
            ),
            "{path:?}"
        );
    }
}
