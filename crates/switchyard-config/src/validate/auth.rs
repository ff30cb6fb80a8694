//! `auth:`: gateway keys, stored only as SHA-256, with their model globs and limits; and the
//! rule that a gateway listening beyond loopback must say how clients authenticate.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::secrets::{self, Picked};
use super::Ctx;
use crate::raw::{Entry, RawAuth, RawBudget, RawKey, RawPeriod};
use crate::{AuthConfig, Budget, BudgetPeriod, GatewayKey, SecretSource};

/// `listen` is `None` when it did not parse (the loopback rule is then not checked).
pub(super) fn check_auth(
    ctx: &mut Ctx<'_>,
    raw: Option<&Entry<RawAuth>>,
    listen: Option<SocketAddr>,
) -> Option<AuthConfig> {
    let Some(entry) = raw else {
        if listen.is_some_and(|a| !a.ip().is_loopback()) {
            ctx.error(
                "auth",
                "auth is required when listening beyond loopback; add auth.keys or auth: {disabled: true}",
            );
        }
        return None;
    };
    let auth = ctx.entry("auth", entry)?;
    let entries = auth.keys.as_deref().unwrap_or_default();
    if auth.disabled {
        if !entries.is_empty() {
            ctx.error(
                "auth.disabled",
                "auth is disabled but keys are listed; keep one of the two",
            );
        }
        return None;
    }
    if entries.is_empty() {
        ctx.error(
            "auth",
            "list at least one key under auth.keys, or write auth: {disabled: true}",
        );
        return None;
    }
    let mut keys: Vec<GatewayKey> = Vec::new();
    let mut first_id: HashMap<String, usize> = HashMap::new();
    let mut first_hash: HashMap<[u8; 32], usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("auth.keys[{i}]");
        let Some(raw) = ctx.entry(&path, entry) else {
            continue;
        };
        if raw.id.trim().is_empty() {
            ctx.error(&format!("{path}.id"), "is empty");
        } else if let Some(j) = first_id.get(&raw.id) {
            let msg = format!("duplicate key id `{}` (first at auth.keys[{j}])", raw.id);
            ctx.error(&format!("{path}.id"), msg);
        } else {
            first_id.insert(raw.id.clone(), i);
        }
        let Some(key) = check_key(ctx, &path, raw) else {
            continue;
        };
        if let Some(j) = first_hash.get(&key.sha256) {
            ctx.error(
                &path,
                format!("the same key as auth.keys[{j}]; each client needs its own"),
            );
            continue;
        }
        first_hash.insert(key.sha256, i);
        keys.push(key);
    }
    Some(AuthConfig { keys })
}

fn check_key(ctx: &mut Ctx<'_>, path: &str, raw: &RawKey) -> Option<GatewayKey> {
    let sources = [
        ("key_env", raw.key_env.as_deref()),
        ("key_file", raw.key_file.as_deref()),
        ("key", raw.key.as_deref()),
        ("key_sha256", raw.key_sha256.as_deref()),
    ];
    let models = check_globs(ctx, path, raw.models.as_deref());
    let mut ok = check_limit(ctx, path, "rpm", raw.rpm) & check_limit(ctx, path, "tpm", raw.tpm);
    let budget = match &raw.budget {
        None => None,
        Some(b) => {
            let checked = check_budget(ctx, path, b);
            ok &= checked.is_some();
            checked
        }
    };
    let (sha256, source) = match secrets::pick(ctx, path, &sources) {
        Picked::Missing => {
            ctx.error(path, "needs one of key_env, key_file, key_sha256 (or key)");
            return None;
        }
        Picked::Conflict => return None,
        Picked::One("key_sha256", hex) => (parse_sha256(ctx, path, hex)?, SecretSource::Sha256),
        Picked::One(k, v) => {
            let (secret, source) = secrets::resolve(ctx, &format!("{path}.{k}"), k, v, true)?;
            (secrets::sha256_of(secret.expose()), source)
        }
    };
    let models = models.filter(|_| ok)?;
    Some(GatewayKey {
        id: raw.id.clone(),
        sha256,
        source,
        models,
        rpm: raw.rpm,
        tpm: raw.tpm,
        budget,
    })
}

fn parse_sha256(ctx: &mut Ctx<'_>, path: &str, hex_text: &str) -> Option<[u8; 32]> {
    let t = hex_text.trim();
    let t = t.strip_prefix("sha256:").unwrap_or(t);
    let mut out = [0u8; 32];
    if t.len() != 64 || hex::decode_to_slice(t, &mut out).is_err() {
        ctx.error(
            &format!("{path}.key_sha256"),
            "must be 64 hex digits (the SHA-256 of the key, e.g. from `sha256sum`)",
        );
        return None;
    }
    Some(out)
}

fn check_globs(ctx: &mut Ctx<'_>, path: &str, raw: Option<&[String]>) -> Option<Vec<String>> {
    let Some(list) = raw else {
        return Some(vec!["*".to_owned()]);
    };
    if list.is_empty() {
        ctx.error(
            &format!("{path}.models"),
            "is empty, so the key could use nothing; leave it out for [\"*\"]",
        );
        return None;
    }
    let mut ok = true;
    for (i, glob) in list.iter().enumerate() {
        if let Err(e) = globset::Glob::new(glob) {
            ctx.error(
                &format!("{path}.models[{i}]"),
                format!("bad glob `{glob}`: {}", e.kind()),
            );
            ok = false;
        }
    }
    ok.then(|| list.to_vec())
}

fn check_limit(ctx: &mut Ctx<'_>, path: &str, key: &str, value: Option<u64>) -> bool {
    if value == Some(0) {
        ctx.error(
            &format!("{path}.{key}"),
            "must be at least 1 (leave it out for no limit)",
        );
        return false;
    }
    true
}

fn check_budget(ctx: &mut Ctx<'_>, path: &str, raw: &RawBudget) -> Option<Budget> {
    if !(raw.usd.is_finite() && raw.usd > 0.0) {
        ctx.error(
            &format!("{path}.budget.usd"),
            "must be a positive amount of US dollars",
        );
        return None;
    }
    let period = match raw.period.unwrap_or(RawPeriod::Monthly) {
        RawPeriod::Daily => BudgetPeriod::Daily,
        RawPeriod::Weekly => BudgetPeriod::Weekly,
        RawPeriod::Monthly => BudgetPeriod::Monthly,
        RawPeriod::Total => BudgetPeriod::Total,
    };
    Some(Budget {
        usd: raw.usd,
        period,
    })
}
