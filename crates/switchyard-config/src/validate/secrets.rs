//! Resolving secrets from `*_env` / `*_file` / literal keys. Messages name the variable or
//! file, never the value.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Ctx;
use crate::env::trim_newline;
use crate::{Secret, SecretSource};

/// SHA-256 of a gateway key's UTF-8 bytes: how keys are stored and compared.
pub fn sha256_of(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Which of several mutually exclusive source keys was set.
pub(super) enum Picked<'a> {
    /// None of them.
    Missing,
    /// Exactly one: its key name and value.
    One(&'static str, &'a str),
    /// More than one (already reported).
    Conflict,
}

/// Finds the one source key set among `sources`; two or more is an error at `base`.
pub(super) fn pick<'a>(
    ctx: &mut Ctx<'_>,
    base: &str,
    sources: &[(&'static str, Option<&'a str>)],
) -> Picked<'a> {
    let set: Vec<_> = sources
        .iter()
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect();
    match set.as_slice() {
        [] => Picked::Missing,
        [(k, v)] => Picked::One(k, v),
        many => {
            let names: Vec<_> = many.iter().map(|(k, _)| format!("`{k}`")).collect();
            ctx.error(base, format!("set only one of {}", names.join(", ")));
            Picked::Conflict
        }
    }
}

/// Resolves the secret named by source key `key` (`*_env`, `*_file`, or a literal) at
/// `path`. A literal is warned about when `warn_literal`.
pub(super) fn resolve(
    ctx: &mut Ctx<'_>,
    path: &str,
    key: &str,
    value: &str,
    warn_literal: bool,
) -> Option<(Secret, SecretSource)> {
    if key.ends_with("_env") {
        let name = value.trim();
        if name.is_empty() {
            ctx.error(path, "names no environment variable");
            return None;
        }
        return match ctx.env.var(name) {
            None => {
                ctx.error(path, format!("environment variable `{name}` is not set"));
                None
            }
            Some(v) if v.trim().is_empty() => {
                ctx.error(path, format!("environment variable `{name}` is empty"));
                None
            }
            Some(v) => Some((Secret::new(v), SecretSource::Env(name.to_owned()))),
        };
    }
    if key.ends_with("_file") {
        let file = PathBuf::from(value.trim());
        return match ctx.env.read_file(&file) {
            Err(e) => {
                ctx.error(path, format!("cannot read `{}`: {}", show(&file), e.kind()));
                None
            }
            Ok(text) if trim_newline(&text).trim().is_empty() => {
                ctx.error(path, format!("`{}` is empty", show(&file)));
                None
            }
            Ok(text) => Some((Secret::new(trim_newline(&text)), SecretSource::File(file))),
        };
    }
    if value.is_empty() {
        ctx.error(path, "is empty");
        return None;
    }
    if warn_literal {
        let stem = key.trim_end_matches("key").trim_end_matches('_');
        let alt = if stem.is_empty() {
            "key_env or key_file".to_owned()
        } else {
            format!("{stem}_key_env or {stem}_key_file")
        };
        ctx.warnings.push(format!(
            "{path}: a key written in the YAML is for local experiments only; use {alt}"
        ));
    }
    Some((Secret::new(value), SecretSource::Literal))
}

fn show(path: &Path) -> String {
    path.display().to_string()
}
