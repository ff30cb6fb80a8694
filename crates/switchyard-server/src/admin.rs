//! The admin listener: `/healthz` (process up), `/readyz` (config loaded, not draining),
//! `/metrics` (Prometheus text format), `/config` (the config in force, secrets redacted),
//! `/budgets` (each key's budget: cap, spend, reservations, remaining, period end), and the
//! status page: `/` (HTML) and `/status` (its data as JSON).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::apps::{HttpPersistentSettings, HttpServerApp, ReusedHttpStream};
use pingora_core::protocols::http::ServerSession;
use pingora_core::server::ShutdownWatch;
use pingora_http::ResponseHeader;
use prometheus::{Encoder, TextEncoder};
use switchyard_filters::rate_limit::LimitsHandle;

use crate::drain::Drain;
use crate::snapshot::Store;
use crate::status::{ErrorWindow, StatusSource};

/// Process-wide readiness: ready once the reload watch is armed (so a SIGHUP can't kill a
/// process that looks ready), unready from SIGTERM on (the drain).
pub struct Readiness {
    armed: AtomicBool,
    drain: Arc<Drain>,
}

impl Readiness {
    /// `armed`: whether nothing needs arming (no config file to watch).
    pub fn new(armed: bool, drain: Arc<Drain>) -> Self {
        Self {
            armed: AtomicBool::new(armed),
            drain,
        }
    }
    /// The reload watch and SIGHUP handler are in place.
    pub fn set_armed(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
    /// Whether `/readyz` should answer 200.
    pub fn ready(&self) -> bool {
        self.armed.load(Ordering::SeqCst) && !self.drain.draining()
    }
}

/// The admin application.
pub struct Admin {
    store: Arc<Store>,
    registry: prometheus::Registry,
    readiness: Arc<Readiness>,
    limits: LimitsHandle,
    window: ErrorWindow,
    started: SystemTime,
}

impl Admin {
    /// Serves `store`'s config and `registry`'s metrics.
    pub fn new(
        store: Arc<Store>,
        registry: prometheus::Registry,
        readiness: Arc<Readiness>,
        limits: LimitsHandle,
    ) -> Self {
        Self {
            store,
            registry,
            readiness,
            limits,
            window: ErrorWindow::new(std::time::Instant::now()),
            started: SystemTime::now(),
        }
    }

    async fn status(&self) -> serde_json::Value {
        crate::status::collect(&StatusSource {
            store: &self.store,
            registry: &self.registry,
            limits: &self.limits,
            window: &self.window,
            started: self.started,
        })
        .await
    }

    async fn budgets_json(&self) -> Bytes {
        let config = self.store.current().config.clone();
        let budgets = self.limits.budgets(&config).await;
        let body = serde_json::json!({ "budgets": budgets });
        Bytes::from(serde_json::to_vec_pretty(&body).unwrap_or_default())
    }

    fn config_json(&self) -> Bytes {
        let snap = self.store.current();
        let loaded_at = snap
            .loaded_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let body = serde_json::json!({
            "sha256": snap.sha256,
            "generation": snap.generation,
            "loaded_at": humantime::format_rfc3339_seconds(snap.loaded_at).to_string(),
            "loaded_at_unix": loaded_at,
            "filters": snap.chain.names().collect::<Vec<_>>(),
            "config": snap.config.redacted_json(),
        });
        Bytes::from(serde_json::to_vec_pretty(&body).unwrap_or_default())
    }

    /// Whether the request may read `/config` and `/budgets`: always, unless
    /// `server.admin_token_env` names a token, which must then come as a bearer token.
    fn authorized(&self, session: &ServerSession) -> bool {
        let snap = self.store.current();
        let Some(token) = &snap.config.server.admin_token else {
            return true;
        };
        let given = session
            .get_header("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        use sha2::{Digest, Sha256};
        // Compared as digests, so the time taken says nothing about the token.
        Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.expose().as_bytes())
    }

    fn metrics_text(&self) -> Bytes {
        let mut buf = Vec::with_capacity(16 * 1024);
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        Bytes::from(buf)
    }
}

#[async_trait]
impl HttpServerApp for Admin {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        match session.read_request().await {
            Ok(true) => {}
            _ => return None,
        }
        let path = session.req_header().uri.path().to_string();
        let ready = self.readiness.ready() && !*shutdown.borrow();
        let (status, ctype, body) = match path.as_str() {
            "/healthz" => (200, "text/plain", Bytes::from_static(b"ok\n")),
            "/readyz" if !ready => (503, "text/plain", Bytes::from_static(b"not ready\n")),
            "/readyz" => (200, "text/plain", Bytes::from_static(b"ready\n")),
            "/metrics" => (200, "text/plain; version=0.0.4", self.metrics_text()),
            "/config" | "/budgets" if !self.authorized(&session) => (
                401,
                "text/plain",
                Bytes::from_static(b"admin token required (authorization: Bearer ...)\n"),
            ),
            "/config" => (200, "application/json", self.config_json()),
            "/budgets" => (200, "application/json", self.budgets_json().await),
            "/status" => {
                let body = serde_json::to_vec_pretty(&self.status().await).unwrap_or_default();
                (200, "application/json", Bytes::from(body))
            }
            "/" => {
                let html = crate::status::render_html(&self.status().await);
                (200, "text/html; charset=utf-8", Bytes::from(html))
            }
            _ => (404, "text/plain", Bytes::from_static(b"not found\n")),
        };
        let mut h = ResponseHeader::build(status, Some(3)).ok()?;
        h.insert_header("content-type", ctype).ok()?;
        h.insert_header("content-length", body.len()).ok()?;
        let _ = session.drain_request_body().await;
        session.write_response_header(Box::new(h)).await.ok()?;
        session.write_response_body(body, true).await.ok()?;
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(Some(s)) => Some(ReusedHttpStream::from_reusable_stream(s, settings)),
            _ => None,
        }
    }
}
