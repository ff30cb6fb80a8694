//! `providers:` and `models:`: upstream endpoints with their keys and deadlines, and the
//! deployments on them, with gaps filled from the model catalog.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::secrets::{self, Picked};
use super::{broken_ids, suggest, vertex, Ctx};
use crate::presets::{self, Preset};
use crate::raw::{Entry, RawModel, RawPricing, RawProvider, RawTimeouts};
use crate::units::parse_duration;
use crate::{
    Catalog, MaxTokensField, Model, Pricing, Provider, ProviderKind, Secret, SecretSource, Timeouts,
};

/// Every provider type, as spelled in YAML.
const KINDS: [ProviderKind; 7] = [
    ProviderKind::OpenAi,
    ProviderKind::OpenAiCompatible,
    ProviderKind::AzureOpenAi,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
    ProviderKind::Vertex,
    ProviderKind::Bedrock,
];

/// Default deadlines (see `Timeouts`).
pub(crate) const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    first_byte: Duration::from_secs(60),
    idle: Duration::from_secs(60),
    total: Duration::from_secs(600),
};

/// Checked providers, plus the ids of those that did not check (references to them are
/// not reported a second time).
pub(crate) struct Providers {
    pub list: Vec<Provider>,
    pub by_id: HashMap<String, usize>,
    pub broken: HashSet<String>,
}

/// Checked models, plus the ids of those that did not check.
pub(crate) struct Models {
    pub list: Vec<Model>,
    pub broken: HashSet<String>,
}

/// The vendor's own endpoint for the kinds that have one.
fn default_base_url(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
        ProviderKind::Anthropic => Some("https://api.anthropic.com"),
        ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
        ProviderKind::OpenAiCompatible
        | ProviderKind::AzureOpenAi
        | ProviderKind::Vertex
        | ProviderKind::Bedrock => None,
    }
}

/// An http(s) URL with a host, stored without a trailing slash in its path (a bare host
/// keeps the `/` that URLs always have).
pub(crate) fn parse_base_url(text: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(text.trim()).map_err(|e| {
        format!("`{text}` is not a URL ({e}); write e.g. https://api.example.com/v1")
    })?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(format!(
            "`{text}` must be an http:// or https:// URL with a host"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("`{text}` must not have a #fragment"));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

pub(super) fn check_providers(ctx: &mut Ctx<'_>, entries: &[Entry<RawProvider>]) -> Providers {
    let mut out = Providers {
        list: Vec::new(),
        by_id: HashMap::new(),
        broken: broken_ids(entries),
    };
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("providers[{i}]");
        let Some(raw) = ctx.entry(&path, entry) else {
            continue;
        };
        if raw.id.trim().is_empty() {
            ctx.error(&format!("{path}.id"), "is empty");
            continue;
        }
        if let Some(&j) = out.by_id.get(&raw.id) {
            let msg = format!(
                "duplicate provider id `{}` (first at providers[{j}])",
                raw.id
            );
            ctx.error(&format!("{path}.id"), msg);
            continue;
        }
        match check_provider(ctx, &path, raw) {
            Some(p) => {
                out.by_id.insert(p.id.clone(), out.list.len());
                out.list.push(p);
            }
            None => {
                out.broken.insert(raw.id.clone());
            }
        }
    }
    out
}

fn check_provider(ctx: &mut Ctx<'_>, path: &str, raw: &RawProvider) -> Option<Provider> {
    let preset = match raw.preset.as_deref() {
        None => None,
        Some(name) => match presets::preset(name) {
            Some(p) => Some(p),
            None => {
                let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
                let msg = format!(
                    "unknown preset `{name}`{}; `switchyard presets` lists them",
                    suggest::hint(name, &names)
                );
                ctx.error(&format!("{path}.preset"), msg);
                return None;
            }
        },
    };
    let kind = match (raw.kind.as_deref(), preset) {
        (Some(text), _) => KINDS.into_iter().find(|k| k.as_str() == text).or_else(|| {
            let valid: Vec<_> = KINDS.iter().map(|k| k.as_str()).collect();
            let msg = format!(
                "unknown provider type `{text}`; valid types: {}",
                valid.join(", ")
            );
            ctx.error(&format!("{path}.type"), msg);
            None
        })?,
        (None, Some(p)) => p.kind,
        (None, None) => {
            ctx.error(path, "missing `type` (or a `preset` that gives one)");
            return None;
        }
    };
    let vertex = if kind == ProviderKind::Vertex {
        Some(vertex::check_vertex(ctx, path, raw)?)
    } else {
        vertex::refuse_vertex_keys(ctx, path, raw);
        None
    };
    let aws = super::aws::check(ctx, path, kind, raw);
    let region_url = aws
        .as_ref()
        .and_then(|a| a.as_ref())
        .map(super::aws::default_base_url);
    let default_url = raw
        .base_url
        .clone()
        .or_else(|| {
            preset
                .filter(|p| p.kind == kind)
                .and_then(|p| p.base_url.map(str::to_owned))
        })
        .or_else(|| default_base_url(kind).map(str::to_owned))
        .or_else(|| vertex.as_ref().map(vertex::default_base_url))
        .or(region_url);
    let base_url = match default_url {
        Some(text) => parse_base_url(&text)
            .map_err(|m| ctx.error(&format!("{path}.base_url"), m))
            .ok(),
        None => {
            ctx.error(
                path,
                format!("provider type `{}` needs a base_url", kind.as_str()),
            );
            None
        }
    };
    let headers = check_headers(
        ctx,
        &format!("{path}.headers"),
        raw.headers.as_ref().map(|h| h.0.as_slice()),
    );
    let timeouts = check_timeouts(ctx, &format!("{path}.timeouts"), raw.timeouts.as_ref());
    let (api_key, api_key_source) = check_key(ctx, path, raw, kind, preset)?;
    let max_tokens_field = match raw.max_tokens_field.as_deref() {
        None => preset.map_or(
            if kind == ProviderKind::OpenAiCompatible {
                MaxTokensField::MaxTokens
            } else {
                MaxTokensField::MaxCompletionTokens
            },
            |p| p.max_tokens_field,
        ),
        Some("max_tokens") => MaxTokensField::MaxTokens,
        Some("max_completion_tokens") => MaxTokensField::MaxCompletionTokens,
        Some(other) => {
            ctx.error(
                &format!("{path}.max_tokens_field"),
                format!("`{other}`: write max_tokens or max_completion_tokens"),
            );
            return None;
        }
    };
    let unsupported_params = raw.unsupported_params.clone().unwrap_or_else(|| {
        preset
            .map(|p| {
                p.unsupported_params
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            })
            .unwrap_or_default()
    });
    Some(Provider {
        id: raw.id.clone(),
        kind,
        base_url: base_url?,
        api_key,
        api_key_source,
        timeouts: timeouts?,
        api_version: raw.api_version.clone(),
        headers: headers?,
        stream_usage: raw
            .stream_usage
            .unwrap_or_else(|| preset.is_none_or(|p| p.stream_usage)),
        preset: preset.map(|p| p.name.to_owned()),
        max_tokens_field,
        unsupported_params,
        vertex,
        aws: aws?,
    })
}

/// The provider key: what the provider says, else the preset's variable (when set in the
/// environment; local servers and Vertex need none).
fn check_key(
    ctx: &mut Ctx<'_>,
    path: &str,
    raw: &RawProvider,
    kind: ProviderKind,
    preset: Option<&Preset>,
) -> Option<(Option<Secret>, SecretSource)> {
    let sources = [
        ("api_key_env", raw.api_key_env.as_deref()),
        ("api_key_file", raw.api_key_file.as_deref()),
        ("api_key", raw.api_key.as_deref()),
    ];
    let keyless = match preset {
        Some(p) => p.local,
        None => kind == ProviderKind::OpenAiCompatible,
    };
    match secrets::pick(ctx, path, &sources) {
        Picked::Missing if matches!(kind, ProviderKind::Vertex | ProviderKind::Bedrock) => {
            Some((None, SecretSource::None))
        }
        Picked::One(k, _) if kind == ProviderKind::Bedrock => {
            ctx.error(&format!("{path}.{k}"), "a bedrock provider signs with AWS credentials: use `aws: { access_key_id_env, secret_access_key_env, session_token_env }` (default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)");
            None
        }
        Picked::Missing => match preset.and_then(|p| p.key_env) {
            Some(var) if !(keyless && ctx.env.var(var).is_none()) => {
                let p = format!("{path}.preset");
                secrets::resolve(ctx, &p, "api_key_env", var, true)
                    .map(|(secret, source)| (Some(secret), source))
            }
            _ if keyless => Some((None, SecretSource::None)),
            _ => {
                let msg = format!(
                    "provider type `{}` needs a key: api_key_env, api_key_file (or api_key)",
                    kind.as_str()
                );
                ctx.error(path, msg);
                None
            }
        },
        Picked::Conflict => None,
        Picked::One(k, v) => secrets::resolve(ctx, &format!("{path}.{k}"), k, v, true)
            .map(|(secret, source)| (Some(secret), source)),
    }
}

/// Header names are HTTP tokens; values carry no line breaks. Used for provider headers and
/// `when.headers`.
pub(super) fn check_headers(
    ctx: &mut Ctx<'_>,
    path: &str,
    raw: Option<&[(String, String)]>,
) -> Option<Vec<(String, String)>> {
    let mut ok = true;
    for (name, value) in raw.unwrap_or_default() {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            ctx.error(&format!("{path}.{name}"), "is not a valid header name");
            ok = false;
        } else if value.contains(['\r', '\n', '\0']) {
            ctx.error(&format!("{path}.{name}"), "header values must be one line");
            ok = false;
        }
    }
    ok.then(|| raw.unwrap_or_default().to_vec())
}

fn check_timeouts(ctx: &mut Ctx<'_>, path: &str, raw: Option<&RawTimeouts>) -> Option<Timeouts> {
    let mut t = DEFAULT_TIMEOUTS;
    let Some(raw) = raw else { return Some(t) };
    let mut ok = true;
    let fields = [
        ("connect", &raw.connect, &mut t.connect),
        ("first_byte", &raw.first_byte, &mut t.first_byte),
        ("idle", &raw.idle, &mut t.idle),
        ("total", &raw.total, &mut t.total),
    ];
    for (name, text, slot) in fields {
        let Some(text) = text else { continue };
        match parse_duration(&text.0) {
            Ok(d) if d.is_zero() => {
                ctx.error(&format!("{path}.{name}"), "must be greater than 0");
                ok = false;
            }
            Ok(d) => *slot = d,
            Err(m) => {
                ctx.error(&format!("{path}.{name}"), m);
                ok = false;
            }
        }
    }
    ok.then_some(t)
}

pub(super) fn check_models(
    ctx: &mut Ctx<'_>,
    entries: &[Entry<RawModel>],
    providers: &Providers,
) -> Models {
    let mut out = Models {
        list: Vec::new(),
        broken: broken_ids(entries),
    };
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("models[{i}]");
        let Some(raw) = ctx.entry(&path, entry) else {
            continue;
        };
        if raw.id.trim().is_empty() {
            ctx.error(&format!("{path}.id"), "is empty");
            continue;
        }
        if let Some(j) = first.get(&raw.id) {
            let msg = format!("duplicate model id `{}` (first at models[{j}])", raw.id);
            ctx.error(&format!("{path}.id"), msg);
            continue;
        }
        first.insert(raw.id.clone(), i);
        match check_model(ctx, &path, raw, providers) {
            Some(m) => out.list.push(m),
            None => {
                out.broken.insert(raw.id.clone());
            }
        }
    }
    out
}

fn check_model(
    ctx: &mut Ctx<'_>,
    path: &str,
    raw: &RawModel,
    providers: &Providers,
) -> Option<Model> {
    let provider = providers.by_id.get(&raw.provider).copied();
    if provider.is_none() && !providers.broken.contains(&raw.provider) {
        let known: Vec<&str> = providers.list.iter().map(|p| p.id.as_str()).collect();
        let msg = format!(
            "unknown provider `{}`{}",
            raw.provider,
            suggest::hint(&raw.provider, &known)
        );
        ctx.error(&format!("{path}.provider"), msg);
    }
    let upstream = raw.model.clone().unwrap_or_else(|| raw.id.clone());
    let mut ok = true;
    if upstream.trim().is_empty() {
        ctx.error(&format!("{path}.model"), "is empty");
        ok = false;
    }
    for (key, value) in [
        ("context_window", raw.context_window),
        ("max_output_tokens", raw.max_output_tokens),
    ] {
        if value == Some(0) {
            ctx.error(&format!("{path}.{key}"), "must be greater than 0");
            ok = false;
        }
    }
    if let (Some(cw), Some(mo)) = (raw.context_window, raw.max_output_tokens) {
        if mo > cw {
            ctx.error(
                &format!("{path}.max_output_tokens"),
                format!("is larger than context_window ({cw})"),
            );
            ok = false;
        }
    }
    let pricing = match &raw.pricing {
        Some(p) => Some(check_pricing(ctx, &format!("{path}.pricing"), p)?),
        None => None,
    };
    let provider = provider?;
    let mut model = Model {
        id: raw.id.clone(),
        provider,
        upstream_model: upstream,
        context_window: raw.context_window,
        max_output_tokens: raw.max_output_tokens,
        pricing,
        strict_params: raw.strict_params.unwrap_or(false),
    };
    if !ok {
        return None;
    }
    let p = &providers.list[provider];
    let vendor = p
        .preset
        .as_deref()
        .or_else(|| presets::vendor_of_kind(p.kind));
    fill_from_catalog(ctx, path, &mut model, vendor);
    if model.pricing.is_none()
        && p.preset
            .as_deref()
            .and_then(presets::preset)
            .is_some_and(|p| p.local)
    {
        model.pricing = Some(Pricing::FREE);
        ctx.notes.push(format!(
            "{path} ({}): pricing free (a local server); write pricing: to charge for it",
            model.id
        ));
    }
    if model.context_window.is_none() {
        ctx.warnings.push(format!(
            "{path} ({}): `{}` is not in the model catalog and has no context_window: prompts \
             to it are not checked against a window, and it has {}",
            model.id,
            model.upstream_model,
            if model.pricing.is_some() {
                "the configured price"
            } else {
                "no price"
            }
        ));
    }
    Some(model)
}

fn check_pricing(ctx: &mut Ctx<'_>, path: &str, raw: &RawPricing) -> Option<Pricing> {
    let raw = match raw {
        RawPricing::Free => return Some(Pricing::FREE),
        RawPricing::Prices(p) => p,
    };
    let mut ok = true;
    let fields = [
        ("input_per_mtok", Some(raw.input_per_mtok)),
        ("output_per_mtok", Some(raw.output_per_mtok)),
        ("cached_input_per_mtok", raw.cached_input_per_mtok),
        ("cache_write_per_mtok", raw.cache_write_per_mtok),
        ("cache_write_1h_per_mtok", raw.cache_write_1h_per_mtok),
    ];
    for (key, value) in fields {
        if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            ctx.error(
                &format!("{path}.{key}"),
                "must be a price of 0 or more (USD per million tokens)",
            );
            ok = false;
        }
    }
    ok.then_some(Pricing {
        input_per_mtok: raw.input_per_mtok,
        output_per_mtok: raw.output_per_mtok,
        cached_input_per_mtok: raw.cached_input_per_mtok,
        cache_write_per_mtok: raw.cache_write_per_mtok,
        cache_write_1h_per_mtok: raw.cache_write_1h_per_mtok,
    })
}

/// Fills what the config left out from the catalog; the config always wins. Each fill is a
/// debug note, not a warning: it is the documented behaviour.
fn fill_from_catalog(ctx: &mut Ctx<'_>, path: &str, model: &mut Model, vendor: Option<&str>) {
    let catalog: &Catalog = &ctx.catalog.clone();
    let Some(entry) = catalog.lookup(vendor, &model.upstream_model) else {
        return;
    };
    let mut filled = Vec::new();
    if model.context_window.is_none() {
        model.context_window = Some(entry.context_window);
        filled.push("context_window");
    }
    if model.max_output_tokens.is_none() {
        if let Some(mo) = entry
            .max_output_tokens
            .filter(|&mo| model.context_window.is_none_or(|cw| mo <= cw))
        {
            model.max_output_tokens = Some(mo);
            filled.push("max_output_tokens");
        }
    }
    if model.pricing.is_none() {
        model.pricing = Some(entry.pricing());
        filled.push("pricing");
    }
    if !filled.is_empty() {
        ctx.notes.push(format!(
            "{path} ({}): {} from the model catalog entry {}/{} ({})",
            model.id,
            filled.join(", "),
            entry.vendor,
            entry.model,
            entry.date
        ));
    }
}
