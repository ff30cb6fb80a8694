//! `type: bedrock`: the region and the AWS credentials SigV4 needs. Credentials come from
//! variables (the standard `AWS_*` ones unless `aws:` names others) and are resolved on every
//! load, so a reload or SIGHUP picks up rotated values like any other secret.

use super::secrets;
use super::Ctx;
use crate::raw::{RawAws, RawProvider};
use crate::{AwsAuth, ProviderKind, Secret};

/// The standard variables, as the AWS SDKs and CLI read them.
const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";

/// `https://bedrock-runtime.{region}.amazonaws.com`, the Bedrock Runtime endpoint.
pub(super) fn default_base_url(aws: &AwsAuth) -> String {
    format!("https://bedrock-runtime.{}.amazonaws.com", aws.region)
}

/// `Some(Some(auth))` for a good bedrock provider, `Some(None)` for any other type (which
/// must not set `region` or `aws`), `None` after reporting a problem.
pub(super) fn check(
    ctx: &mut Ctx<'_>,
    path: &str,
    kind: ProviderKind,
    raw: &RawProvider,
) -> Option<Option<AwsAuth>> {
    if kind != ProviderKind::Bedrock {
        let mut ok = true;
        for (key, set) in [("region", raw.region.is_some()), ("aws", raw.aws.is_some())] {
            if set {
                let msg = format!("`{key}` is only for `type: bedrock`");
                ctx.error(&format!("{path}.{key}"), msg);
                ok = false;
            }
        }
        return ok.then_some(None);
    }
    let region = region(ctx, path, raw.region.as_deref());
    let names = raw.aws.as_ref().map_or_else(RawAws::default, |a| RawAws {
        access_key_id_env: a.access_key_id_env.clone(),
        secret_access_key_env: a.secret_access_key_env.clone(),
        session_token_env: a.session_token_env.clone(),
    });
    let aws_path = format!("{path}.aws");
    let id_var = names.access_key_id_env.as_deref().unwrap_or(ACCESS_KEY_ID);
    let secret_var = names
        .secret_access_key_env
        .as_deref()
        .unwrap_or(SECRET_ACCESS_KEY);
    let id = required(ctx, &aws_path, "access_key_id_env", id_var);
    let secret = required(ctx, &aws_path, "secret_access_key_env", secret_var);
    let token = match names.session_token_env.as_deref() {
        // Named explicitly: it must be there.
        Some(var) => required(ctx, &aws_path, "session_token_env", var).map(Some),
        // The standard variable is optional: long-term keys have no token.
        None => Some(
            ctx.env
                .var(SESSION_TOKEN)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (Secret::new(v.trim()), SESSION_TOKEN.to_owned())),
        ),
    };
    let (region, (access_key_id, id_var), (secret_access_key, secret_var), token) =
        (region?, id?, secret?, token?);
    let mut sources = vec![id_var, secret_var];
    let session_token = token.map(|(t, var)| {
        sources.push(var);
        t
    });
    Some(Some(AwsAuth {
        region,
        access_key_id,
        secret_access_key,
        session_token,
        sources,
    }))
}

/// A region name as AWS spells them (`us-east-1`, `eu-central-2`, `us-gov-west-1`): it goes
/// into the host name and the signing scope, so anything else is refused.
fn region(ctx: &mut Ctx<'_>, path: &str, raw: Option<&str>) -> Option<String> {
    let Some(region) = raw.map(str::trim) else {
        ctx.error(
            path,
            "a bedrock provider needs `region` (e.g. us-east-1): it is part of the SigV4 signature",
        );
        return None;
    };
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !ok {
        let msg = format!("`{region}` is not an AWS region name (e.g. us-east-1)");
        ctx.error(&format!("{path}.region"), msg);
        return None;
    }
    Some(region.to_owned())
}

/// A credential from variable `var` (named by `aws.{key}`, or the default).
fn required(ctx: &mut Ctx<'_>, aws_path: &str, key: &str, var: &str) -> Option<(Secret, String)> {
    let (secret, _) = secrets::resolve(ctx, &format!("{aws_path}.{key}"), "_env", var, false)?;
    Some((Secret::new(secret.expose().trim()), var.trim().to_owned()))
}
