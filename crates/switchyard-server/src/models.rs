//! `GET /v1/models`: the routes and models the caller's key may use, in OpenAI's list shape,
//! or Anthropic's when the request carries `anthropic-version` (as the Anthropic SDK's does).
//! A key with a budget also gets a top-level `budget` object (cap, spent, reserved, remaining,
//! period), which SDKs ignore and dashboards and scripts can read.

use std::collections::BTreeSet;

use bytes::Bytes;
use pingora_core::protocols::http::ServerSession;
use serde_json::{json, Value};
use switchyard_filter::{GatewayError, RequestCtx};
use switchyard_filters::rate_limit::LimitsHandle;
use switchyard_wire::Dialect;

use crate::respond::{self, ClientGone};
use crate::snapshot::Snapshot;

/// Every name a client may put in `model`: route names, model ids and `provider/model`.
fn names(snapshot: &Snapshot) -> BTreeSet<&str> {
    let cfg = &snapshot.config;
    let mut out: BTreeSet<&str> = cfg.routes.iter().map(|r| r.name.as_str()).collect();
    out.extend(cfg.models.iter().map(|m| m.id.as_str()));
    out
}

fn owner(snapshot: &Snapshot, name: &str) -> String {
    let cfg = &snapshot.config;
    match cfg.index.models_by_id.get(name) {
        Some(&m) => cfg.providers[cfg.models[m].provider].id.clone(),
        None => "switchyard".to_owned(),
    }
}

/// The listing body for the names `key` allows.
fn body(snapshot: &Snapshot, allowed: &[&str], dialect: Dialect) -> Value {
    match dialect {
        Dialect::Anthropic => {
            let data: Vec<Value> = allowed
                .iter()
                .map(|n| json!({"type": "model", "id": n, "display_name": n, "created_at": "1970-01-01T00:00:00Z"}))
                .collect();
            json!({
                "data": data,
                "has_more": false,
                "first_id": allowed.first(),
                "last_id": allowed.last(),
            })
        }
        Dialect::OpenAi | Dialect::Gemini | Dialect::OpenAiResponses | Dialect::Bedrock => {
            let data: Vec<Value> = allowed
                .iter()
                .map(|n| json!({"id": n, "object": "model", "created": 0, "owned_by": owner(snapshot, n)}))
                .collect();
            json!({"object": "list", "data": data})
        }
    }
}

/// Answers `GET /v1/models` for the key in `cx.headers`.
pub async fn list(
    session: &mut ServerSession,
    snapshot: &Snapshot,
    cx: &mut RequestCtx,
    limits: &LimitsHandle,
) -> Result<u16, ClientGone> {
    if cx.headers.contains_key("anthropic-version") {
        cx.client_dialect = Dialect::Anthropic;
    }
    let all = names(snapshot);
    let allowed: Vec<&str> = match &snapshot.keys {
        None => all.into_iter().collect(),
        Some(keys) => match keys.authenticate(&cx.headers) {
            Ok(key) => {
                cx.key_id = Some(key.shared_id());
                all.into_iter().filter(|n| key.allows(n)).collect()
            }
            Err(e) => return error(session, cx, &e).await,
        },
    };
    let mut listing = body(snapshot, &allowed, cx.client_dialect);
    if let Some(key_id) = &cx.key_id {
        if let Some(status) = limits.budget(&snapshot.config, key_id).await {
            if let (Some(obj), Ok(b)) = (listing.as_object_mut(), serde_json::to_value(status)) {
                obj.insert("budget".to_owned(), b);
            }
        }
    }
    let body = serde_json::to_vec(&listing).map_err(|_| ClientGone)?;
    let mut h = respond::head(cx, 200)?;
    let _ = h.insert_header("content-type", "application/json");
    respond::whole(session, h, Bytes::from(body)).await?;
    Ok(200)
}

async fn error(
    session: &mut ServerSession,
    cx: &RequestCtx,
    e: &GatewayError,
) -> Result<u16, ClientGone> {
    respond::error(session, cx, e).await?;
    Ok(e.status())
}
