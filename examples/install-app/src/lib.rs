//! An example web app that installs a Slack app and connects a Pinterest account with
//! picoauth, and keeps their tokens alive: the starting point of a real app.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | installations: team or account, token expiries, status, a live check; no secret |
//! | `GET /slack/install`, `GET /pinterest/install` | the page with the button, leading to the provider's authorize URL with a signed, expiring `state`; sets the browser-binding cookie |
//! | `GET /slack/oauth_redirect`, `GET /pinterest/oauth_redirect` | checks state and cookie, exchanges the code, saves the installation, redirects to `/installed` |
//! | `GET /installed` | the success page |
//!
//! # The `state` and the cookie
//!
//! The install page mints 16 random bytes (the nonce) and signs them with an expiry and
//! the redirect URI into a [`picoauth::state::SignedState`]; the same nonce goes into a
//! `SameSite=Lax; HttpOnly` cookie (`Secure` when the public URL is HTTPS). The redirect
//! is accepted only if the state verifies **and** the cookie holds its nonce: a state
//! minted in one browser is refused from another (login CSRF, RFC 6749 §10.12). The
//! nonce is then recorded as spent ([`UsedStates`]) until the state expires, so a
//! replayed redirect is refused even in the browser that started it.
//!
//! A denial (`error=access_denied`), a bad or replayed state, a missing cookie or a
//! refused code each give a page that says so in words; nothing is stored then.

mod config;
mod flow;
mod home;
mod html;
mod introspect;
pub mod launcher;
pub mod local;
mod used_states;

use std::sync::Arc;

use picoauth::provider::AuthMethod;
use picoauth_std::asynch::Client;
use picoauth_std::tokens::{ProviderSettings, TokenManager, TokenStore};
use zeroize::Zeroizing;

pub use config::{Config, ConfigError, ProviderConfig, ProviderId};
pub use used_states::{UsedStates, UsedStatesError};

/// The app's shared state.
pub struct App<S> {
    config: Config,
    /// Signs the OAuth state; wiped when the app is dropped.
    state_key: Zeroizing<Vec<u8>>,
    manager: TokenManager<S>,
    client: Arc<Client>,
    used: UsedStates,
}

impl<S> core::fmt::Debug for App<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why the app could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The TLS trust configuration was refused (a bad `PICOAUTH_CA_PEM`).
    Tls(String),
    /// The store could not be opened.
    Store(String),
    /// The random source failed.
    Random,
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tls(e) => write!(f, "TLS configuration: {e}"),
            Self::Store(e) => write!(f, "store: {e}"),
            Self::Random => f.write_str("the system random source failed"),
        }
    }
}

impl core::error::Error for StartError {}

/// Fills `buf` from the system's random source.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), StartError> {
    use ring::rand::SecureRandom as _;
    ring::rand::SystemRandom::new()
        .fill(buf)
        .map_err(|_| StartError::Random)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn client(config: &Config) -> Result<Client, StartError> {
    let mut builder =
        picoauth_std::Client::builder().total_timeout(config.manager.exchange_timeout);
    if let Some(pem) = &config.extra_ca_pem {
        builder = builder
            .add_ca_pem(pem.as_bytes())
            .map_err(|e| StartError::Tls(e.to_string()))?;
    }
    builder
        .build_async()
        .map_err(|e| StartError::Tls(e.to_string()))
}

impl<S: TokenStore> App<S> {
    /// The app over `store` and `used` (see [`open_sqlite`] / [`open_postgres`]).
    ///
    /// # Errors
    /// [`StartError`].
    pub fn new(config: Config, store: S, used: UsedStates) -> Result<Arc<Self>, StartError> {
        let state_key = match &config.state_key {
            Some(k) => Zeroizing::new(k.expose().as_bytes().to_vec()),
            None => {
                let mut k = Zeroizing::new(vec![0u8; 32]);
                random(&mut k)?;
                k
            }
        };
        let settings = config.providers.iter().map(|p| ProviderSettings {
            kind: p.id.kind(),
            token_url: p.token_url.clone(),
            client_id: p.client_id.clone(),
            client_secret: Some(p.client_secret.clone()),
            auth: AuthMethod::Basic,
            continuous_refresh: p.id == ProviderId::Pinterest,
        });
        let manager = TokenManager::new(store, client(&config)?, settings, config.manager);
        Ok(Arc::new(Self {
            client: Arc::new(client(&config)?),
            config,
            state_key,
            manager,
            used,
        }))
    }

    /// The token manager (its store holds the installations).
    pub fn manager(&self) -> &TokenManager<S> {
        &self.manager
    }

    /// The spent-state table.
    pub fn used_states(&self) -> &UsedStates {
        &self.used
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The routes.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        use axum::routing::get;
        axum::Router::new()
            .route("/", get(home::home::<S>))
            .route("/installed", get(home::installed))
            .route("/{provider}/install", get(flow::install::<S>))
            .route("/{provider}/oauth_redirect", get(flow::oauth_redirect::<S>))
            .with_state(Arc::clone(self))
    }

    /// Serves on `listener` with the background refresher running, until `shutdown`
    /// resolves.
    ///
    /// # Errors
    /// The listener fails.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl core::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let refresher = self.manager.spawn_refresher();
        let result = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        refresher.abort();
        result
    }
}

/// Opens the SQLite token store and spent-state table at `path`.
///
/// # Errors
/// [`StartError::Store`].
pub fn open_sqlite(
    path: &str,
) -> Result<(picoauth_std::tokens::SqliteStore, UsedStates), StartError> {
    let store = picoauth_std::tokens::SqliteStore::open(path)
        .map_err(|e| StartError::Store(e.to_string()))?;
    let used = UsedStates::open_sqlite(path).map_err(|e| StartError::Store(e.to_string()))?;
    Ok((store, used))
}

/// Connects the PostgreSQL token store and spent-state table at `url`, over TLS
/// verified against the web PKI roots and `ca_pem` (see
/// [`PostgresStore`](picoauth_std::tokens::PostgresStore) for when TLS is required).
///
/// # Errors
/// [`StartError::Store`].
pub async fn open_postgres(
    url: &str,
    ca_pem: Option<&str>,
) -> Result<(picoauth_std::tokens::PostgresStore, UsedStates), StartError> {
    let mut trust = picoauth_std::Trust::public();
    if let Some(pem) = ca_pem {
        trust
            .add_pem(pem.as_bytes())
            .map_err(|e| StartError::Store(format!("PICOAUTH_STORE_CA_PEM: {e}")))?;
    }
    let store = picoauth_std::tokens::PostgresStore::connect_with(url, 4, &trust)
        .await
        .map_err(|e| StartError::Store(e.to_string()))?;
    let used = UsedStates::connect_postgres(url, &trust)
        .await
        .map_err(|e| StartError::Store(e.to_string()))?;
    Ok((store, used))
}
