//! Switchyard's server: the only crate that imports pingora. It runs the API listener (the data
//! path: body, filter chain, forwarding loop, streaming), the upstream connection pool, the
//! admin listener and the config watcher.

mod admin;
mod bound;
mod chain_hooks;
mod conn;
mod cork;
mod drain;
mod fd_limit;
mod forward;
mod gateway;
mod models;
mod pingora_log;
mod pool;
mod process_metrics;
mod reload;
mod respond;
mod snapshot;
mod status;
mod timer;
mod transport;
mod upstream;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pingora_core::server::configuration::ServerConf;
use pingora_core::server::{RunArgs, Server};
use pingora_core::services::background::background_service;
use pingora_core::services::listening::Service;
use switchyard_config::{embedded_default, Config, SystemEnv};
use switchyard_filter::Registry;
use switchyard_filters::rate_limit::LimitsHandle;

pub use snapshot::{LoadError, Snapshot};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config file could not be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The config did not load.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// A port-0 listener could not get its port.
    #[error("cannot reserve a port for {addr}: {error}")]
    Reserve {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// A loaded config, ready to serve.
pub struct Prepared {
    path: Option<PathBuf>,
    store: Arc<Store>,
    registry: Arc<Registry>,
    metrics: prometheus::Registry,
    limits: LimitsHandle,
    process: process_metrics::ProcessMetrics,
    ready_file: Option<PathBuf>,
}

use snapshot::Store;

fn read(path: &Path) -> Result<String, StartError> {
    std::fs::read_to_string(path).map_err(|error| StartError::Read {
        path: path.to_path_buf(),
        error,
    })
}

/// Loads the config (a file, or the embedded default when `path` is `None`) and builds the
/// filter registry, without starting anything.
pub fn prepare(path: Option<PathBuf>) -> Result<Prepared, StartError> {
    let metrics = prometheus::Registry::new();
    let (registry, limits) = switchyard_filters::register_all_with_limits(&metrics)?;
    let process = process_metrics::ProcessMetrics::register(&metrics)?;
    let registry = Arc::new(registry);
    let first = match &path {
        Some(p) => Snapshot::from_yaml(&read(p)?, &SystemEnv, &registry, 1)?,
        None => Snapshot::build(embedded_default(&SystemEnv), &registry, 1, String::new())?,
    };
    Ok(Prepared {
        path,
        store: Arc::new(Store::new(first)),
        registry,
        metrics,
        limits,
        process,
        ready_file: None,
    })
}

/// What `switchyard check` reports for a valid config.
#[derive(Debug)]
pub struct CheckReport {
    /// The filter chain in force, in order.
    pub filters: Vec<&'static str>,
    /// Warnings (literal keys…).
    pub warnings: Vec<String>,
    /// Counts for the summary line.
    pub providers: usize,
    /// Deployments.
    pub models: usize,
    /// Routes.
    pub routes: usize,
}

/// Validates a config file in full (parse, check, build the chain) without serving it.
pub fn check(path: &Path) -> Result<CheckReport, StartError> {
    let metrics = prometheus::Registry::new();
    let registry = switchyard_filters::register_all(&metrics)?;
    let snap = Snapshot::from_yaml(&read(path)?, &SystemEnv, &registry, 1)?;
    Ok(CheckReport {
        filters: snap.chain.names().collect(),
        warnings: snap.config.warnings.clone(),
        providers: snap.config.providers.len(),
        models: snap.config.models.len(),
        routes: snap.config.routes.len(),
    })
}

impl Prepared {
    /// Reads remaining budgets (for `/v1/models`).
    pub fn limits(&self) -> LimitsHandle {
        self.limits.clone()
    }

    /// The config that will serve first.
    pub fn config(&self) -> Arc<Config> {
        self.store.current().config.clone()
    }

    /// Once both listeners accept connections, writes their bound addresses to `path` as JSON
    /// (`{"listen": "127.0.0.1:PORT", "admin_listen": …, "pid": …}`): how a supervisor or a
    /// test learns the ports of a config that listens on port 0.
    pub fn ready_file(mut self, path: Option<PathBuf>) -> Self {
        self.ready_file = path;
        self
    }

    /// Runs the server until a signal ends the process, or returns the error that kept it
    /// from starting.
    pub fn run(self) -> Result<std::convert::Infallible, StartError> {
        let snap = self.store.current();
        let config = snap.config.clone();
        let reserve =
            |addr| bound::Bound::new(addr).map_err(|error| StartError::Reserve { addr, error });
        let (api_addr, admin_addr) = (
            reserve(config.server.listen)?,
            reserve(config.server.admin_listen)?,
        );
        for w in &config.warnings {
            tracing::warn!(warning = %w, "config");
        }
        let conf = ServerConf {
            threads: config.server.threads.max(1),
            work_stealing: config.server.work_stealing,
            // The drain (drain.rs) runs the grace period itself and ends early once nothing is
            // in flight; pingora gets no grace of its own to sleep through.
            grace_period_seconds: Some(0),
            graceful_shutdown_timeout_seconds: Some(1),
            upstream_keepalive_pool_size: 1024,
            ..ServerConf::default()
        };
        let mut server = Server::new_with_opt_and_conf(None, conf);
        server.bootstrap();

        let drain = drain::Drain::new();
        let readiness = Arc::new(admin::Readiness::new(self.path.is_none(), drain.clone()));
        let nofile = fd_limit::raise();
        let cap = fd_limit::connection_cap(config.server.max_connections, nofile);
        if cap < config.server.max_connections {
            tracing::warn!(
                max_connections = config.server.max_connections,
                open_file_limit = ?nofile,
                cap,
                "server.max_connections is more than the open-file limit leaves room for; client connections are capped lower (raise the limit: LimitNOFILE, ulimit -n)"
            );
        }
        let conns = match conn::Connections::register(cap, &self.metrics)
            .and_then(|c| pingora_log::install(&self.metrics).map(|()| c))
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot register connection metrics");
                std::process::exit(1);
            }
        };
        let mut api = Service::new(
            "switchyard api".to_string(),
            gateway::Gateway::new(
                self.store.clone(),
                self.limits.clone(),
                self.process.requests_in_flight.clone(),
                conns,
                drain.clone(),
            ),
        );
        api_addr.add_to(&mut api);
        server.add_service(drain.own_shutdown(api));

        if let Some(path) = self.path.clone() {
            match reload::ReloadMetrics::register(&self.metrics) {
                Ok(m) => {
                    let reloader = reload::Reloader::new(
                        path,
                        self.store.clone(),
                        self.registry.clone(),
                        m,
                        readiness.clone(),
                    );
                    server.add_service(background_service("config reload", reloader));
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot register reload metrics; hot reload is off");
                    readiness.set_armed();
                }
            }
        }

        server.add_service(background_service(
            "state check",
            PersistenceCheck(self.limits.clone()),
        ));

        if !config.server.admin_listen.ip().is_loopback() {
            if config.server.admin_token.is_none() {
                tracing::warn!(admin = %config.server.admin_listen, "the admin listener is bound beyond loopback with no token: /config and /budgets are open to anyone who can reach it; set server.admin_token_env or bind it to 127.0.0.1");
            } else {
                tracing::warn!(admin = %config.server.admin_listen, "the admin listener is bound beyond loopback; /config and /budgets need the admin token");
            }
        }
        let mut admin = Service::new(
            "switchyard admin".to_string(),
            admin::Admin::new(
                self.store.clone(),
                self.metrics.clone(),
                readiness,
                self.limits.clone(),
            ),
        );
        admin.threads = Some(1);
        admin_addr.add_to(&mut admin);
        server.add_service(admin);

        server.add_service(background_service(
            "listening",
            bound::Announce::new(api_addr, admin_addr, self.ready_file),
        ));

        tracing::info!(
            listen = %config.server.listen,
            admin = %config.server.admin_listen,
            filters = ?snap.chain.names().collect::<Vec<_>>(),
            providers = config.providers.len(),
            models = config.models.len(),
            routes = config.routes.len(),
            "switchyard started"
        );
        drop(snap);
        let on_term =
            drain::DrainOnTerm::new(drain, self.store.clone(), config.server.shutdown_grace);
        server.run(RunArgs {
            shutdown_signal: Box::new(on_term),
        });
        tracing::info!("switchyard exited");
        std::process::exit(0)
    }
}

/// At start: warns when the Redis server in force would lose budgets on a restart.
struct PersistenceCheck(LimitsHandle);

#[async_trait::async_trait]
impl pingora_core::services::background::BackgroundService for PersistenceCheck {
    async fn start(&self, _shutdown: pingora_core::server::ShutdownWatch) {
        self.0.check_persistence().await;
    }
}
