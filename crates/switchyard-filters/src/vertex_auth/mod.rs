//! Google OAuth access tokens for `type: vertex` providers, from a service-account key: an
//! RS256-signed JWT (iss = the account, scope cloud-platform, aud = the key's `token_uri`)
//! exchanged at `token_uri` for a bearer token, as google-auth's service-account credentials
//! do. The token is cached and refreshed [`REFRESH_MARGIN`] before it expires; concurrent
//! requests share one exchange. A new config load builds a new source (the key file is
//! re-read then), so a reload or SIGHUP picks up a rotated key. The token is a [`Secret`]:
//! it never reaches a log line, a metric or a client.

mod exchange;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use switchyard_config::{Secret, ServiceAccount, Timeouts};

pub use exchange::ExchangeError;

/// The OAuth scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A token is refreshed when less than this is left (google-auth refreshes 3m45s early).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Lifetime asked for in the JWT: Google's maximum, one hour.
const ASSERTION_LIFETIME: u64 = 3600;

/// A cached access token.
#[derive(Debug)]
struct Token {
    value: Secret,
    expires: Instant,
}

/// One service account's tokens.
pub struct TokenSource {
    account: ServiceAccount,
    key: EncodingKey,
    timeouts: Timeouts,
    cached: ArcSwapOption<Token>,
    /// Held while an exchange runs, so concurrent callers wait for it instead of starting
    /// their own.
    refresh: tokio::sync::Mutex<()>,
    exchanges: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("client_email", &self.account.client_email)
            .field("token_uri", &self.account.token_uri)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl TokenSource {
    /// A source for `account`; the exchange uses `timeouts` (connect, first byte).
    ///
    /// # Errors
    /// The private key is not an RSA key in PEM.
    pub fn new(account: ServiceAccount, timeouts: Timeouts) -> Result<TokenSource, String> {
        let key =
            EncodingKey::from_rsa_pem(account.private_key.expose().as_bytes()).map_err(|e| {
                format!(
                    "the private_key in `{}` is not a usable RSA key ({e})",
                    account.path.display()
                )
            })?;
        Ok(TokenSource {
            account,
            key,
            timeouts,
            cached: ArcSwapOption::empty(),
            refresh: tokio::sync::Mutex::new(()),
            exchanges: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// A valid access token: the cached one while it has more than [`REFRESH_MARGIN`] left,
    /// else a new one from one exchange shared by every caller waiting meanwhile.
    ///
    /// # Errors
    /// The exchange failed and no unexpired token is cached.
    pub async fn token(&self) -> Result<Secret, ExchangeError> {
        if let Some(t) = self.fresh(Instant::now()) {
            return Ok(t);
        }
        let _guard = self.refresh.lock().await;
        let now = Instant::now();
        if let Some(t) = self.fresh(now) {
            return Ok(t);
        }
        match self.exchange().await {
            Ok(token) => {
                let value = token.value.clone();
                self.cached.store(Some(Arc::new(token)));
                Ok(value)
            }
            Err(e) => match self.cached.load_full() {
                // Still valid, only inside the margin: use it and try again next time.
                Some(t) if t.expires > Instant::now() => {
                    tracing::warn!(account = %self.account.client_email, error = %e, "vertex token refresh failed; using the current token until it expires");
                    Ok(t.value.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// How many exchanges this source has made (tests and the status page).
    pub fn exchanges(&self) -> u64 {
        self.exchanges.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn fresh(&self, now: Instant) -> Option<Secret> {
        let guard = self.cached.load();
        let t = guard.as_ref()?;
        (t.expires.saturating_duration_since(now) > REFRESH_MARGIN).then(|| t.value.clone())
    }

    /// The signed JWT-bearer assertion.
    fn assertion(&self) -> Result<String, ExchangeError> {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&self.account.private_key_id);
        let claims = Claims {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: &self.account.token_uri,
            iat,
            exp: iat + ASSERTION_LIFETIME,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| ExchangeError::Sign(e.to_string()))
    }

    async fn exchange(&self) -> Result<Token, ExchangeError> {
        self.exchanges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let assertion = self.assertion()?;
        let reply =
            exchange::jwt_bearer(&self.account.token_uri, &assertion, &self.timeouts).await?;
        tracing::debug!(account = %self.account.client_email, expires_in = reply.expires_in, "vertex access token obtained");
        Ok(Token {
            value: Secret::new(reply.access_token),
            expires: started + Duration::from_secs(reply.expires_in),
        })
    }
}

/// The token sources of one config's Vertex providers, by provider index.
#[derive(Debug, Default)]
pub struct VertexTokens {
    sources: Vec<(usize, Arc<TokenSource>)>,
}

/// Tokens fetched for one request before its attempts: provider index → token or why not.
#[derive(Debug, Default)]
pub struct Prefetched(Vec<(usize, Result<Secret, ExchangeError>)>);

impl Prefetched {
    /// The token for provider `index`, or why there is none.
    pub fn get(&self, index: usize) -> Option<&Result<Secret, ExchangeError>> {
        self.0.iter().find(|(i, _)| *i == index).map(|(_, t)| t)
    }
}

impl VertexTokens {
    /// A token source for every `type: vertex` provider of `config`.
    ///
    /// # Errors
    /// A provider's private key is unusable.
    pub fn for_config(config: &switchyard_config::Config) -> Result<VertexTokens, String> {
        let mut sources = Vec::new();
        for (i, p) in config.providers.iter().enumerate() {
            if let Some(v) = &p.vertex {
                let source = TokenSource::new(v.service_account.clone(), p.timeouts)
                    .map_err(|e| format!("provider `{}`: {e}", p.id))?;
                sources.push((i, Arc::new(source)));
            }
        }
        Ok(VertexTokens { sources })
    }

    /// The source of provider `index`.
    pub fn source(&self, index: usize) -> Option<&Arc<TokenSource>> {
        self.sources
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, s)| s)
    }

    /// Whether any provider needs tokens.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Tokens for the Vertex providers among `targets` (model indices), each fetched once.
    pub async fn prefetch(
        &self,
        config: &switchyard_config::Config,
        targets: &[usize],
    ) -> Prefetched {
        let mut out: Vec<(usize, Result<Secret, ExchangeError>)> = Vec::new();
        for &m in targets {
            let Some(provider) = config.models.get(m).map(|m| m.provider) else {
                continue;
            };
            if out.iter().any(|(p, _)| *p == provider) {
                continue;
            }
            if let Some(source) = self.source(provider) {
                let token = source.token().await;
                if let Err(e) = &token {
                    tracing::warn!(provider = %config.providers[provider].id, error = %e, "no vertex access token");
                }
                out.push((provider, token));
            }
        }
        Prefetched(out)
    }
}
