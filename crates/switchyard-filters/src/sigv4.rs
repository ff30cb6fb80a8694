//! AWS Signature Version 4 for `type: bedrock` providers, with the AWS SDK's own signer
//! (`aws-sigv4`): service `bedrock`, the provider's region, the body's SHA-256, and the path
//! exactly as sent (percent-encoded model id), canonicalised as AWS does for every service but
//! S3 (each segment encoded again, so `%3A` is signed as `%253A`).
//!
//! Credentials are resolved with the config (so a reload or SIGHUP re-reads them) and turned
//! into a signing identity once per config, not per request. Secrets never leave this module
//! except inside the `authorization` and `x-amz-security-token` headers, which are marked
//! sensitive.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderName, HeaderValue};
use switchyard_config::{Config, Provider};
use switchyard_filter::{GatewayError, UpstreamRequest};

/// The signing name in botocore's bedrock-runtime model (`signingName`).
pub const SERVICE: &str = "bedrock";

/// Signing identities of a config's bedrock providers, by provider index.
pub struct Signers {
    identities: Vec<Option<Identity>>,
}

impl Signers {
    /// One identity per bedrock provider of `config`.
    pub fn new(config: &Config) -> Self {
        let identities = config
            .providers
            .iter()
            .map(|p| {
                p.aws.as_ref().map(|aws| {
                    Identity::from(Credentials::new(
                        aws.access_key_id.expose(),
                        aws.secret_access_key.expose(),
                        aws.session_token.as_ref().map(|t| t.expose().to_owned()),
                        None,
                        "switchyard-config",
                    ))
                })
            })
            .collect();
        Signers { identities }
    }

    /// Signs `up` for provider `index` at `time`: adds `x-amz-date`, `authorization` and, with
    /// temporary credentials, `x-amz-security-token`. Call after every other header is set:
    /// all of them (with `host` and `content-type`, which the transport adds) are signed.
    ///
    /// # Errors
    /// `Internal` when the provider has no credentials or the request can't be signed.
    pub fn sign(
        &self,
        index: usize,
        provider: &Provider,
        up: &mut UpstreamRequest,
        time: SystemTime,
    ) -> Result<(), GatewayError> {
        let (Some(Some(identity)), Some(aws)) = (self.identities.get(index), &provider.aws) else {
            return Err(GatewayError::Internal(format!(
                "provider `{}` has no AWS credentials to sign with",
                provider.id
            )));
        };
        let target = Target::of(provider, &up.path);
        sign_request(identity, &aws.region, &target, up, time)
    }
}

/// Where a request goes, as the signature must see it.
pub(crate) struct Target {
    /// `Host` header value: host, plus `:port` when the base URL names one.
    pub authority: String,
    /// `scheme://authority/base-path/path` as sent.
    pub uri: String,
}

impl Target {
    /// The same authority and path the transport sends (see the server's upstream module).
    pub(crate) fn of(provider: &Provider, path: &str) -> Self {
        let url = &provider.base_url;
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let base = url.path().trim_end_matches('/');
        let uri = format!("{}://{authority}{base}{path}", url.scheme());
        Target { authority, uri }
    }
}

pub(crate) fn sign_request(
    identity: &Identity,
    region: &str,
    target: &Target,
    up: &mut UpstreamRequest,
    time: SystemTime,
) -> Result<(), GatewayError> {
    let failed =
        |e: &dyn std::fmt::Display| GatewayError::Internal(format!("SigV4 signing failed: {e}"));
    let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(up.headers.len() + 2);
    headers.push(("host", &target.authority));
    headers.push(("content-type", "application/json"));
    for (name, value) in &up.headers {
        let value = value
            .to_str()
            .map_err(|_| GatewayError::Internal(format!("header `{name}` is not text")))?;
        headers.push((name.as_str(), value));
    }
    let signable = SignableRequest::new(
        "POST",
        target.uri.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&up.body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    let (new_headers, _query) = instructions.into_parts();
    for h in new_headers {
        let name = HeaderName::from_static(h.name());
        let mut value = HeaderValue::from_str(h.value()).map_err(|_| {
            GatewayError::Internal(format!("signed header `{}` is not valid", h.name()))
        })?;
        value.set_sensitive(h.sensitive() || name == http::header::AUTHORIZATION);
        up.headers.push((name, value));
    }
    Ok(())
}

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;
