//! `switchyard presets` and `switchyard catalog`: what the binary knows about providers and
//! models, as a table or as JSON.

use std::io::{self, Write};
use std::path::Path;

use switchyard_config::{Catalog, PRESETS};

/// Prints the presets.
pub fn presets(json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, PRESETS)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{:<11} {:<18} {:<58} {:<32} QUIRKS",
        "PRESET", "TYPE", "BASE_URL", "KEY"
    )?;
    for p in PRESETS {
        let mut quirks = vec![p.max_tokens_field.as_str().to_owned()];
        if !p.stream_usage {
            quirks.push("no stream_options".into());
        }
        if !p.unsupported_params.is_empty() {
            quirks.push(format!("drops {}", p.unsupported_params.join(",")));
        }
        if p.local {
            quirks.push("free".into());
        }
        writeln!(
            out,
            "{:<11} {:<18} {:<58} {:<32} {}",
            p.name,
            p.kind.as_str(),
            p.base_url.unwrap_or("(from the provider's settings)"),
            p.key_env.unwrap_or("-"),
            quirks.join("; ")
        )?;
    }
    Ok(())
}

/// Prints the built-in catalog, extended by `file` when given.
pub fn catalog(json: bool, file: Option<&Path>) -> Result<(), String> {
    let catalog = match file {
        None => Catalog::builtin().as_ref().clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let extra = Catalog::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Catalog::builtin().extended(extra)
        }
    };
    let mut out = io::stdout().lock();
    let io_err = |e: io::Error| e.to_string();
    if json {
        serde_json::to_writer_pretty(&mut out, &catalog).map_err(|e| e.to_string())?;
        return writeln!(out).map_err(io_err);
    }
    let price = |p: Option<f64>| p.map_or_else(|| "-".to_owned(), |p| format!("{p}"));
    writeln!(
        out,
        "{:<10} {:<52} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  DATE\n(prices: USD per million tokens; cache read, cache write 5m, cache write 1h)",
        "VENDOR", "MODEL", "CONTEXT", "MAXOUT", "INPUT", "OUTPUT", "CREAD", "CWRITE", "CW1H"
    )
    .map_err(io_err)?;
    for e in &catalog.models {
        writeln!(
            out,
            "{:<10} {:<52} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}  {}",
            e.vendor,
            e.model,
            e.context_window,
            e.max_output_tokens
                .map_or_else(|| "-".to_owned(), |m| m.to_string()),
            e.input_per_mtok,
            e.output_per_mtok,
            price(e.cache_read_per_mtok),
            price(e.cache_write_per_mtok),
            price(e.cache_write_1h_per_mtok),
            e.date
        )
        .map_err(io_err)?;
    }
    writeln!(
        out,
        "{} models, catalog dated {}",
        catalog.models.len(),
        catalog.date
    )
    .map_err(io_err)
}
