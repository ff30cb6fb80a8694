//! Signing checked against AWS's SigV4 test suite (`aws-signing-test-suite/v4`, shipped with
//! the AWS SDK's signer and taken from aws-c-auth): the vectors' own credentials, time,
//! region and service, and their expected `Authorization` values.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use switchyard_filter::UpstreamRequest;

use super::{sign_request, Target};

/// 2015-08-30T12:36:00Z, the suite's `timestamp`.
fn suite_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn identity(token: Option<&str>) -> Identity {
    Identity::from(Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token.map(str::to_owned),
        None,
        "test",
    ))
}

fn header<'a>(up: &'a UpstreamRequest, name: &str) -> Option<&'a str> {
    up.headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.to_str().ok())
}

/// Signs a request the way `sign_request` does, but with the suite's service name, and
/// without the `content-type` header our requests always carry (the vectors have none).
fn sign_vector(token: Option<&str>, path: &str, body: &'static [u8]) -> UpstreamRequest {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    let identity = identity(token);
    let params: aws_sigv4::http_request::SigningParams<'_> =
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("service")
            .time(suite_time())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
    let uri = format!("https://example.amazonaws.com{path}");
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        [("host", "example.amazonaws.com")].into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut up = UpstreamRequest::new(0);
    for h in instructions.into_parts().0 {
        up.headers.push((
            HeaderName::from_static(h.name()),
            HeaderValue::from_str(h.value()).unwrap(),
        ));
    }
    up
}

#[test]
fn post_vanilla_matches_the_aws_vector() {
    let up = sign_vector(None, "/", b"");
    assert_eq!(header(&up, "x-amz-date"), Some("20150830T123600Z"));
    assert_eq!(
        header(&up, "authorization"),
        Some("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    );
}

#[test]
fn session_token_is_sent_and_signed() {
    // get-vanilla-with-session-token, as a POST with an empty body: same canonical headers.
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    let up = sign_vector(Some(token), "/", b"");
    assert_eq!(header(&up, "x-amz-security-token"), Some(token));
    let auth = header(&up, "authorization").unwrap();
    assert!(
        auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"),
        "{auth}"
    );
}

#[test]
fn bedrock_requests_sign_every_header_and_keep_secrets_sensitive() {
    let mut up = UpstreamRequest::new(0);
    up.path = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse".into();
    up.body = Bytes::from_static(b"{\"messages\":[]}");
    up.headers.push((
        HeaderName::from_static("accept"),
        HeaderValue::from_static("application/json"),
    ));
    let target = Target {
        authority: "bedrock-runtime.us-east-1.amazonaws.com".into(),
        uri: format!("https://bedrock-runtime.us-east-1.amazonaws.com{}", up.path),
    };
    sign_request(
        &identity(Some("tok")),
        "us-east-1",
        &target,
        &mut up,
        suite_time(),
    )
    .unwrap();
    let auth = header(&up, "authorization").unwrap();
    assert!(auth.starts_with(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature="
    ), "{auth}");
    for (name, value) in &up.headers {
        if name == "authorization" || name == "x-amz-security-token" {
            assert!(value.is_sensitive(), "{name} must be marked sensitive");
        }
    }
    assert!(
        !auth.contains("wJalrXUtnFEMI"),
        "the secret key never travels"
    );
}
