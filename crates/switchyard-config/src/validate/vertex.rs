//! `type: vertex`: project, location and the service-account key file, read and checked at
//! every load (so a reload or SIGHUP picks up a rotated key).

use std::path::PathBuf;

use serde::Deserialize;

use super::Ctx;
use crate::raw::RawProvider;
use crate::{Secret, ServiceAccount, VertexSettings};

/// google-auth's default token endpoint, for key files without `token_uri`.
const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The variable google-auth reads a key file's path from.
const CREDENTIALS_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The fields of a service-account key file that Switchyard reads.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    token_uri: Option<String>,
}

pub(super) fn check_vertex(
    ctx: &mut Ctx<'_>,
    path: &str,
    raw: &RawProvider,
) -> Option<VertexSettings> {
    let mut ok = true;
    let mut required = |ctx: &mut Ctx<'_>, key: &str, value: Option<&str>| match value
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => v.to_owned(),
        None => {
            ctx.error(path, format!("type `vertex` needs `{key}`"));
            ok = false;
            String::new()
        }
    };
    let project = required(ctx, "project", raw.project.as_deref());
    let location = required(ctx, "location", raw.location.as_deref());
    if !location.is_empty()
        && !location
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        ctx.error(
            &format!("{path}.location"),
            format!("`{location}` is not a Vertex location (e.g. us-east5, europe-west1, us, eu, global)"),
        );
        ok = false;
    }
    if raw.api_key.is_some() || raw.api_key_env.is_some() || raw.api_key_file.is_some() {
        ctx.error(
            path,
            "type `vertex` authenticates with a service-account key: use credentials_file, not api_key*",
        );
        ok = false;
    }
    let (file, key_path) = match raw.credentials_file.as_deref() {
        Some(f) => (PathBuf::from(f.trim()), format!("{path}.credentials_file")),
        None => match ctx
            .env
            .var(CREDENTIALS_VAR)
            .filter(|v| !v.trim().is_empty())
        {
            Some(f) => (PathBuf::from(f.trim()), path.to_owned()),
            None => {
                ctx.error(
                    path,
                    format!("type `vertex` needs `credentials_file` (a service-account key), or {CREDENTIALS_VAR} set"),
                );
                return None;
            }
        },
    };
    let service_account = read_key_file(ctx, &key_path, file)?;
    ok.then_some(VertexSettings {
        project,
        location,
        service_account,
    })
}

fn read_key_file(ctx: &mut Ctx<'_>, path: &str, file: PathBuf) -> Option<ServiceAccount> {
    let shown = file.display().to_string();
    let text = match ctx.env.read_file(&file) {
        Ok(t) => t,
        Err(e) => {
            ctx.error(path, format!("cannot read `{shown}`: {}", e.kind()));
            return None;
        }
    };
    // The error never quotes the file: it holds a private key.
    let key: KeyFile = match serde_json::from_str(&text) {
        Ok(k) => k,
        Err(e) => {
            let at = format!("line {} column {}", e.line(), e.column());
            ctx.error(
                path,
                format!("`{shown}` is not a service-account key file (JSON error at {at})"),
            );
            return None;
        }
    };
    if key.kind.as_deref().is_some_and(|k| k != "service_account") {
        ctx.error(
            path,
            format!(
                "`{shown}` is a `{}` credential; Vertex needs a service-account key (type service_account)",
                key.kind.as_deref().unwrap_or_default()
            ),
        );
        return None;
    }
    let (Some(client_email), Some(private_key)) = (key.client_email, key.private_key) else {
        ctx.error(path, format!("`{shown}` lacks client_email or private_key"));
        return None;
    };
    if !private_key.contains("-----BEGIN PRIVATE KEY-----") {
        ctx.error(
            path,
            format!("`{shown}`: private_key is not a PKCS#8 PEM key"),
        );
        return None;
    }
    let token_uri = key.token_uri.unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned());
    if super::parse_base_url(&token_uri).is_err() {
        ctx.error(
            path,
            format!("`{shown}`: token_uri `{token_uri}` is not an http(s) URL"),
        );
        return None;
    }
    Some(ServiceAccount {
        client_email,
        private_key_id: key.private_key_id,
        private_key: Secret::new(private_key),
        token_uri,
        path: file,
    })
}

/// Vertex-only keys on another type are a mistake worth naming.
pub(super) fn refuse_vertex_keys(ctx: &mut Ctx<'_>, path: &str, raw: &RawProvider) {
    for (key, set) in [
        ("project", raw.project.is_some()),
        ("location", raw.location.is_some()),
        ("credentials_file", raw.credentials_file.is_some()),
    ] {
        if set {
            ctx.error(
                &format!("{path}.{key}"),
                "is only for providers of type `vertex`",
            );
        }
    }
}

/// Google's endpoint for a location: `global` and the `us`/`eu` multi-regions have their own
/// hosts; every other location is `{location}-aiplatform.googleapis.com`.
pub(super) fn default_base_url(v: &VertexSettings) -> String {
    match v.location.as_str() {
        "global" => "https://aiplatform.googleapis.com".to_owned(),
        multi @ ("us" | "eu") => format!("https://aiplatform.{multi}.rep.googleapis.com"),
        region => format!("https://{region}-aiplatform.googleapis.com"),
    }
}
