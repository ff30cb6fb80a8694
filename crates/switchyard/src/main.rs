//! The `switchyard` binary: parses the command line, sets up logging, and runs the server or
//! checks a config.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchyard_config::LogFormat;
use tracing_subscriber::EnvFilter;

mod listing;

/// mimalloc: glibc's malloc showed up as ~12% of the data path's CPU under load, much of it
/// arena lock contention between worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Switchyard: one OpenAI-compatible endpoint in front of many LLM providers.
#[derive(Parser)]
#[command(name = "switchyard", version, about)]
struct Cli {
    /// The YAML config file. Without one, a built-in config serves every provider whose
    /// standard key variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) is set, on 127.0.0.1:8080.
    #[arg(long, short = 'c', env = "SWITCHYARD_CONFIG", global = true)]
    config: Option<PathBuf>,

    /// Log as JSON lines (overrides `server.log_format`).
    #[arg(long, global = true)]
    log_json: bool,

    /// Once both listeners accept connections, write their bound addresses here as JSON
    /// (`{"listen": "127.0.0.1:PORT", "admin_listen": …, "pid": …}`); with port 0 in
    /// `server.listen` this is how a supervisor or a test learns the ports.
    #[arg(long, env = "SWITCHYARD_READY_FILE", value_name = "FILE")]
    ready_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a config file: exit 0, or 1 with every error (path and line).
    Check,
    /// List the named provider presets (type, base URL, key variable, quirks).
    Presets {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the model catalog (context window, max output, prices, date).
    Catalog {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// Extend it with this catalog file first (a config's `catalog_file:`).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

fn check(path: Option<PathBuf>) -> ExitCode {
    let Some(path) = path else {
        eprintln!("switchyard check: give the file with --config FILE (or SWITCHYARD_CONFIG)");
        return ExitCode::from(2);
    };
    match switchyard_server::check(&path) {
        Ok(report) => {
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            eprintln!(
                "{}: ok ({} providers, {} models, {} routes)\nfilter chain: {}",
                path.display(),
                report.providers,
                report.models,
                report.routes,
                report.filters.join(" -> ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: invalid config\n{e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check) => return check(cli.config),
        Some(Command::Presets { json }) => {
            return match listing::presets(json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("switchyard presets: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Catalog { json, file }) => {
            return match listing::catalog(json, file.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("switchyard catalog: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        None => {}
    }
    let prepared = match switchyard_server::prepare(cli.config.clone()) {
        Ok(p) => p,
        Err(e) => {
            init_logging(cli.log_json);
            tracing::error!("cannot start: {e}");
            eprintln!("switchyard: cannot start:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.log_json || prepared.config().server.log_format == LogFormat::Json;
    init_logging(json);
    match prepared.ready_file(cli.ready_file).run() {
        Ok(never) => match never {},
        Err(e) => {
            tracing::error!("cannot start: {e}");
            eprintln!("switchyard: cannot start:\n{e}");
            ExitCode::FAILURE
        }
    }
}
