//! An independent SigV4 verifier for the Bedrock mock, written from AWS's published
//! algorithm (canonical request → string to sign → derived key → HMAC), not from the
//! gateway's signer: HMAC-SHA256 and SHA-256 come from the RustCrypto crates, everything else
//! is here. It is itself checked against AWS's SigV4 test-suite vectors (see the tests).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Received;

/// The credentials and scope a request must be signed with.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token, which must then be sent as `x-amz-security-token` and signed.
    pub session_token: Option<&'a str>,
    /// Region of the scope.
    pub region: &'a str,
    /// Service of the scope (`bedrock`).
    pub service: &'a str,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// RFC 3986 encoding of every byte but the unreserved ones, as SigV4 specifies.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical request for a request as received (path still in its sent, encoded form):
/// every service but S3 encodes each path segment a second time.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    signed: &[&str],
    body: &[u8],
) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path: Vec<String> = path.split('/').map(uri_encode).collect();
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut canon_headers = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canon_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{method}\n{}\n{}\n{canon_headers}\n{}\n{}",
        path.join("/"),
        query.join("&"),
        signed.join(";"),
        sha256_hex(body)
    )
}

/// The signature over `canonical` at `amz_date` (`YYYYMMDDTHHMMSSZ`).
pub fn signature(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    canonical: &str,
) -> String {
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    hex::encode(hmac(&k, to_sign.as_bytes()))
}

/// Checks `r`'s `Authorization` header as AWS would; `Err` says what is wrong (the mock then
/// answers 403 like AWS). `now` is the Unix time the `x-amz-date` must be within 5 minutes of.
pub fn verify(r: &Received, want: &Expected<'_>, now: u64) -> Result<(), String> {
    let auth = r.header("authorization").ok_or("no authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut credential = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or("malformed authorization")?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(format!("unknown authorization part {k}")),
        }
    }
    let (credential, signed, sig) = (
        credential.ok_or("no Credential")?,
        signed.ok_or("no SignedHeaders")?,
        sig.ok_or("no Signature")?,
    );
    let amz_date = r.header("x-amz-date").ok_or("no x-amz-date")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let expected_scope = [
        want.access_key_id,
        amz_date.get(..8).ok_or("bad x-amz-date")?,
        want.region,
        want.service,
        "aws4_request",
    ];
    if scope != expected_scope {
        return Err(format!(
            "credential scope {credential} is not {}",
            expected_scope.join("/")
        ));
    }
    let signed: Vec<&str> = signed.split(';').collect();
    let mut required = vec!["host", "x-amz-date"];
    if let Some(token) = want.session_token {
        if r.header("x-amz-security-token") != Some(token) {
            return Err("x-amz-security-token missing or wrong".into());
        }
        required.push("x-amz-security-token");
    }
    if let Some(missing) = required.iter().find(|h| !signed.contains(h)) {
        return Err(format!("{missing} is not signed"));
    }
    let when = unix_of(amz_date).ok_or("bad x-amz-date")?;
    if when.abs_diff(now) > 300 {
        return Err(format!("x-amz-date {amz_date} is not within 5 minutes"));
    }
    let canonical = canonical_request(&r.method, &r.path, &r.headers, &signed, &r.body);
    let expected = signature(
        want.secret_access_key,
        amz_date,
        want.region,
        want.service,
        &canonical,
    );
    if expected != sig {
        return Err(format!(
            "signature mismatch; canonical request was:\n{canonical}"
        ));
    }
    Ok(())
}

/// `YYYYMMDDTHHMMSSZ` → Unix seconds (proleptic Gregorian, UTC).
fn unix_of(amz: &str) -> Option<u64> {
    let n = |r: std::ops::Range<usize>| amz.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

#[cfg(test)]
mod tests {
    //! AWS's SigV4 test suite (aws-c-auth `aws-signing-test-suite/v4`): credentials
    //! AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1,
    //! service `service`.
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn post_vanilla() {
        let headers = h(&[("host", "example.amazonaws.com"), ("x-amz-date", DATE)]);
        let c = canonical_request("POST", "/", &headers, &["host", "x-amz-date"], b"");
        assert_eq!(
            signature(SECRET, DATE, "us-east-1", "service", &c),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn get_vanilla_with_session_token() {
        let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
        let headers = h(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", DATE),
            ("x-amz-security-token", token),
        ]);
        let c = canonical_request(
            "GET",
            "/",
            &headers,
            &["host", "x-amz-date", "x-amz-security-token"],
            b"",
        );
        assert_eq!(
            signature(SECRET, DATE, "us-east-1", "service", &c),
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        );
    }

    #[test]
    fn double_encode_path_canonical_request() {
        // double-encode-path/header-canonical-request.txt
        let headers = h(&[
            ("host", "tj9n5r0m12.execute-api.us-east-1.amazonaws.com"),
            ("x-amz-date", "20210511T154045Z"),
        ]);
        let c = canonical_request(
            "POST",
            "/test/@connections/JBDvjfGEIAMCERw%3D",
            &headers,
            &["host", "x-amz-date"],
            b"",
        );
        assert_eq!(
            c,
            "POST\n/test/%40connections/JBDvjfGEIAMCERw%253D\n\nhost:tj9n5r0m12.execute-api.us-east-1.amazonaws.com\nx-amz-date:20210511T154045Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn amz_dates_read_as_unix_time() {
        assert_eq!(unix_of(DATE), Some(1_440_938_160));
        assert_eq!(unix_of("19700101T000000Z"), Some(0));
    }
}
