//! `Config::from_yaml_str`: YAML text → `RawConfig` → checked `Config`, collecting every
//! problem with its path and line instead of stopping at the first.

mod auth;
mod aws;
mod budget;
mod providers;
mod routes;
mod secrets;
mod server;
mod suggest;
mod telemetry;
mod vertex;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde_yaml::Value;

use crate::raw::{Entry, RawConfig, RawFilter};
use crate::{
    defaults, index, lines, Catalog, Config, ConfigError, ConfigIssue, Env, FilterCheck,
    FilterSpec, LineIndex,
};

pub(crate) use providers::{parse_base_url, DEFAULT_TIMEOUTS};
pub use secrets::sha256_of;
pub(crate) use server::default_server;

impl Config {
    /// Parses and checks a config file's text. Secrets named by `*_env` / `*_file` are
    /// resolved through `env`; nothing else is read.
    ///
    /// # Errors
    /// Every syntax, type and meaning problem found, each with its YAML path and line.
    pub fn from_yaml_str(text: &str, env: &dyn Env) -> Result<Config, ConfigError> {
        Self::load(text, env, None)
    }

    /// [`Config::from_yaml_str`], with the `filters:` list checked by `filters` (the filter
    /// registry) in the same pass, so its problems are reported together with the rest.
    ///
    /// # Errors
    /// Every problem found, the filter list's included, each with its YAML path and line.
    pub fn from_yaml_str_with_filters(
        text: &str,
        env: &dyn Env,
        filters: &dyn FilterCheck,
    ) -> Result<Config, ConfigError> {
        Self::load(text, env, Some(filters))
    }

    fn load(
        text: &str,
        env: &dyn Env,
        filters: Option<&dyn FilterCheck>,
    ) -> Result<Config, ConfigError> {
        let lines = lines::index(text);
        let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
            ConfigError::new(vec![ConfigIssue {
                path: "config".into(),
                line: e.location().map(|l| l.line()),
                message: format!("not valid YAML: {e}"),
            }])
        })?;
        if value.is_null() {
            return Err(ConfigError::new(vec![ConfigIssue {
                path: "config".into(),
                line: None,
                message: "the file is empty; start with `version: 1`".into(),
            }]));
        }
        value.apply_merge().map_err(|e| {
            ConfigError::new(vec![ConfigIssue {
                path: "config".into(),
                line: None,
                message: format!("bad merge key (<<): {e}"),
            }])
        })?;
        // An unknown key is reported and taken out, then the rest is read again, so one run
        // reports every unknown key together with the type, name and secret problems.
        let mut early = Vec::new();
        let raw: RawConfig = loop {
            let e = match serde_path_to_error::deserialize(value.clone()) {
                Ok(raw) => break raw,
                Err(e) => e,
            };
            let message = e.inner().to_string();
            let removed = message
                .strip_prefix("unknown field `")
                .and_then(|r| r.split('`').next())
                .is_some_and(|key| crate::raw::remove_key(&mut value, e.path(), key));
            let path = at_unknown_key(&lines, crate::raw::render_path(e.path()), &message);
            let path = if path.is_empty() {
                "config".into()
            } else {
                path
            };
            early.push(ConfigIssue {
                line: lines.line_of(&path),
                path,
                message,
            });
            if !removed || early.len() > 100 {
                return Err(ConfigError::new(early));
            }
        };
        let mut ctx = Ctx::new(env, &lines);
        ctx.issues = early;
        ctx.filter_check = filters;
        let config = build(&mut ctx, raw);
        if ctx.issues.is_empty() {
            let mut config = config;
            config.lines = lines;
            Ok(config)
        } else {
            Err(ConfigError::new(ctx.issues))
        }
    }
}

/// What checking accumulates: problems, warnings (logged by the loader) and debug notes.
pub(crate) struct Ctx<'a> {
    pub env: &'a dyn Env,
    lines: &'a LineIndex,
    pub issues: Vec<ConfigIssue>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// The catalog gaps are filled from: built-in, extended by `catalog_file:`.
    pub catalog: Arc<Catalog>,
    /// Checks `filters:` entries (the filter registry), when the caller has one.
    filter_check: Option<&'a dyn FilterCheck>,
}

impl<'a> Ctx<'a> {
    fn new(env: &'a dyn Env, lines: &'a LineIndex) -> Self {
        Self {
            env,
            lines,
            issues: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
            catalog: Catalog::builtin().clone(),
            filter_check: None,
        }
    }

    /// Records a problem at `path`, located through the line index.
    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.issues.push(ConfigIssue {
            path: path.to_owned(),
            line: self.lines.line_of(path),
            message: message.into(),
        });
    }

    /// The parsed entry, or `None` after reporting its type error under `base`. Unknown keys
    /// in an entry are reported too, and the rest of it is checked all the same.
    pub fn entry<'e, T>(&mut self, base: &str, entry: &'e Entry<T>) -> Option<&'e T> {
        for err in entry.unknown_keys() {
            self.entry_error(base, err);
        }
        match entry {
            Entry::Valid(v, _) => Some(v),
            Entry::Invalid(err, _) => {
                self.entry_error(base, err);
                None
            }
        }
    }

    fn entry_error(&mut self, base: &str, err: &crate::raw::EntryError) {
        let path = if err.path.is_empty() {
            base.to_owned()
        } else if err.path.starts_with('[') {
            format!("{base}{}", err.path)
        } else {
            format!("{base}.{}", err.path)
        };
        let path = at_unknown_key(self.lines, path, &err.message);
        self.error(&path, err.message.clone());
    }
}

/// serde reports an unknown key at its parent; point at the key itself when the line index
/// knows it, so the line is the offending one.
fn at_unknown_key(lines: &LineIndex, path: String, message: &str) -> String {
    let Some(key) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    else {
        return path;
    };
    let full = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    if lines.by_path.contains_key(&full) {
        full
    } else {
        path
    }
}

/// Ids of entries that failed to parse: references to them are not reported again.
pub(crate) fn broken_ids<T>(entries: &[Entry<T>]) -> HashSet<String> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Invalid(err, _) => err.id.clone(),
            Entry::Valid(..) => None,
        })
        .collect()
}

fn build(ctx: &mut Ctx<'_>, raw: RawConfig) -> Config {
    let version = check_version(ctx, raw.version.as_ref());
    let server = server::check_server(ctx, raw.server.as_ref());
    let auth = auth::check_auth(
        ctx,
        raw.auth.as_ref(),
        server.listen_ok.then_some(server.config.listen),
    );
    if let Some(file) = raw.catalog_file.as_deref() {
        load_catalog_file(ctx, file);
    }
    let providers = providers::check_providers(ctx, raw.providers.as_deref().unwrap_or_default());
    let models =
        providers::check_models(ctx, raw.models.as_deref().unwrap_or_default(), &providers);
    let mut index = index::models_index(&providers.list, &models.list);
    let routes = routes::check_routes(
        ctx,
        raw.routes.as_deref().unwrap_or_default(),
        &models,
        &index,
    );
    index.routes_by_name = index::routes_index(&routes);
    budget::check_unpriced(ctx, auth.as_ref(), &providers.list, &models.list, &routes);
    let state = server::check_state(ctx, raw.state.as_ref());
    let (filters, filters_explicit) = check_filters(ctx, raw.filters.as_deref());
    if let Some(check) = ctx.filter_check {
        let found = check.check_filters(&filters, filters_explicit, ctx.lines);
        ctx.issues.extend(found);
    }
    let telemetry = telemetry::check_telemetry(ctx, raw.telemetry.as_ref());
    Config {
        version,
        server: server.config,
        auth,
        providers: providers.list,
        models: models.list,
        routes,
        state,
        filters,
        filters_explicit,
        telemetry,
        warnings: std::mem::take(&mut ctx.warnings),
        notes: std::mem::take(&mut ctx.notes),
        index,
        lines: LineIndex::default(),
        catalog: ctx.catalog.clone(),
    }
}

/// `catalog_file:` extends (or overrides entries of) the built-in catalog; read at every load.
fn load_catalog_file(ctx: &mut Ctx<'_>, file: &str) {
    let text = match ctx.env.read_file(Path::new(file.trim())) {
        Ok(t) => t,
        Err(e) => {
            ctx.error(
                "catalog_file",
                format!("cannot read `{file}`: {}", e.kind()),
            );
            return;
        }
    };
    match Catalog::parse(&text) {
        Ok(extra) => {
            ctx.notes.push(format!(
                "catalog_file `{file}`: {} entries dated {}",
                extra.models.len(),
                extra.date
            ));
            ctx.catalog = Arc::new(Catalog::builtin().extended(extra));
        }
        Err(e) => ctx.error("catalog_file", format!("`{file}`: {e}")),
    }
}

fn check_version(ctx: &mut Ctx<'_>, raw: Option<&Entry<u32>>) -> u32 {
    match raw {
        None => ctx.error("version", "missing `version: 1` at the top of the file"),
        Some(entry) => match ctx.entry("version", entry) {
            Some(1) | None => {}
            Some(v) => ctx.error(
                "version",
                format!("unsupported version {v}; this switchyard reads version 1"),
            ),
        },
    }
    1
}

/// `filters:` as written (names and settings are checked by the filter registry), or the
/// default chain when the key is absent.
fn check_filters(ctx: &mut Ctx<'_>, raw: Option<&[Entry<RawFilter>]>) -> (Vec<FilterSpec>, bool) {
    let Some(entries) = raw else {
        return (defaults::default_filters(), false);
    };
    let mut specs = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("filters[{i}]");
        let Some(f) = ctx.entry(&path, entry) else {
            continue;
        };
        specs.push(FilterSpec {
            name: f.name.clone(),
            settings: f.settings.clone(),
            line: ctx.lines.line_of(&path),
            path,
        });
    }
    (specs, true)
}
