//! A built-in OAuth 2.0 provider on loopback: a real HTTPS server that answers like Slack,
//! Pinterest and a plain RFC 6749 authorization server.
//!
//! `picoauth demo` and the integration tests run real token exchanges against it, offline.
//! It is written on purpose **without** the `picoauth` core crate, so that the provider does
//! not share the client's reading of the specifications.
//!
//! # Shape
//!
//! [`LocalProvider::start`] binds `127.0.0.1:0` (or [`LocalProviderConfig::addr`]), generates a
//! fresh CA (ECDSA P-256) and a leaf certificate signed by it, and serves HTTP/1.1 over rustls
//! (TLS 1.2 and 1.3) on a background thread with its own tokio runtime, so blocking callers can
//! use it. Keep-alive is supported. Dropping the provider, or calling
//! [`LocalProvider::shutdown`], stops it: idle connections are closed, requests in flight get a
//! short grace period, and the thread is joined.
//!
//! Clients trust only [`LocalProvider::ca_cert_pem`] / [`LocalProvider::ca_cert_der`]. The leaf
//! is valid for `localhost`, `127.0.0.1` and `::1` unless [`LocalProviderConfig::leaf_names`] or
//! [`LocalProviderConfig::leaf_validity`] say otherwise (tests of certificate rejection).
//!
//! # Endpoints
//!
//! | path | provider | notes |
//! |---|---|---|
//! | `POST /api/oauth.v2.access` | Slack v2 | code exchange, `grant_type=refresh_token` rotation; errors are HTTP 200 `{"ok":false,"error":…}` |
//! | `POST /api/oauth.access` | Slack legacy v1 | code exchange; success has no `ok` member |
//! | `POST /v5/oauth/token` | Pinterest v5 | Basic only; `authorization_code`, `refresh_token` (`continuous_refresh`), `client_credentials`; always `Transfer-Encoding: chunked` |
//! | `POST /oauth/token` | RFC 6749 | `authorization_code` (+ PKCE S256), `refresh_token` (rotation), `client_credentials`; errors per §5.2 |
//! | `GET /authorize`, `GET /oauth/v2/authorize`, `GET /oauth/` | all | approve at once: `302` to `redirect_uri?code=…&state=…`; with [`LocalProviderConfig::consent_page`], an HTML page whose Allow / Deny buttons `POST` back to the same path |
//! | `POST /api/auth.test` | Slack shape, any token | whether an access token is live (see [`LocalProvider::access_token_is_live`]) |
//!
//! Token requests must be `POST` with `Content-Type: application/x-www-form-urlencoded`
//! (another method gives `405` with `Allow: POST` and a provider-shaped error body; another
//! content type gives the provider's error: Slack `invalid_post_type` / `missing_post_type`,
//! Pinterest `400`, RFC 6749 `400 invalid_request`).
//!
//! Client authentication: HTTP Basic, decoded per RFC 6749 §2.3.1 (base64, then each of id and
//! secret form-urlencoded-decoded, so both `+` and `%20` mean a space), or `client_id` and
//! `client_secret` in the body, or a public client (`client_id` only), which must use PKCE.
//! Basic and body credentials in the same request are rejected. Pinterest accepts Basic only.
//!
//! Codes ([`LocalProvider::issue_code`] or the authorize endpoints) are single-use and bound to
//! the client, the `redirect_uri` and the PKCE challenge they were issued with. Using a code a
//! second time fails and also revokes the refresh token issued for it (RFC 6749 §4.1.2).
//! Refresh tokens rotate: the old one stops working once a new one is issued (except Pinterest
//! without `continuous_refresh`, which keeps the old one and sends none).
//!
//! # Triggers and misbehaviour hooks
//!
//! For tests of the client's error paths:
//!
//! - **Slack rate limit**: a Slack request whose client id (Basic or body), `code` or
//!   `refresh_token` is [`RATELIMITED`] (`ratelimited`) gets `429` with `Retry-After: 1` and
//!   `{"ok":false,"error":"ratelimited"}`.
//! - `/test/silent`: reads the request and never answers (until shutdown, which closes the
//!   connection).
//! - `/test/oversized`: `200` with a valid JSON token body of about 1 MiB.
//! - `/test/truncated`: declares `Content-Length: 100`, sends 10 bytes of body, then closes
//!   the connection (with a TLS `close_notify`). Only on the first request of a connection: the
//!   server reads the request line before hyper does. Later requests on a kept-alive connection
//!   get `400`.
//! - `/test/truncated-abrupt`: the same, but the TCP connection is closed without a TLS
//!   `close_notify` (a truncation attack as the client sees it).
//! - `/test/slow-chunked`: `200` with a valid RFC 6749 token body, chunked in 8 pieces sent
//!   20 ms apart (so the client sees many partial reads).
//! - `/test/not-json`: `200` with `Content-Type: text/html` and an HTML page.
//! - `/test/empty-429`: `429` with an empty body and no `Retry-After`, like a recorded Slack answer.
//! - `/test/redirect`: `302` with `Location: /oauth/token` (a client must not follow it).
//!
//! Hooks answer any method and ignore the request body.
//!
//! # Default registrations
//!
//! [`LocalProviderConfig::default`] registers the clients in [`default_clients`]: see the
//! `*_CLIENT_ID` / `*_CLIENT_SECRET` constants. Each accepts the redirect URIs in
//! [`DEFAULT_REDIRECT_URIS`].

mod authorize;
mod lifecycle;
mod pinterest;
pub mod pki;
mod request;
mod rfc6749;
mod server;
mod slack;
mod state;
mod tls;

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::watch;

pub use lifecycle::RefreshRecord;
pub use state::ProviderKind;

/// Slack client id of the default registration (from python-slack-sdk's mock server).
pub const SLACK_CLIENT_ID: &str = "111.222";
/// Slack client secret of [`SLACK_CLIENT_ID`]. This client has token rotation off.
pub const SLACK_CLIENT_SECRET: &str = "secret";
/// A Slack client with token rotation on: code exchanges return `xoxe.xoxb-…` tokens with a
/// `refresh_token` and `expires_in`.
pub const SLACK_ROTATING_CLIENT_ID: &str = "111.333";
/// Slack client secret of [`SLACK_ROTATING_CLIENT_ID`].
pub const SLACK_ROTATING_CLIENT_SECRET: &str = "token_rotation_secret";
/// Pinterest app id (from pinterest/api-quickstart's tests).
pub const PINTEREST_CLIENT_ID: &str = "test-app-id";
/// Pinterest app secret of [`PINTEREST_CLIENT_ID`].
pub const PINTEREST_CLIENT_SECRET: &str = "test-app-secret";
/// RFC 6749 confidential client id (RFC 6749 §4.1.3).
pub const RFC6749_CLIENT_ID: &str = "s6BhdRkqt3";
/// RFC 6749 client secret of [`RFC6749_CLIENT_ID`].
pub const RFC6749_CLIENT_SECRET: &str = "gX1fBat3bV";
/// A client id holding every character RFC 6749 §2.3.1 encoding must take care of:
/// space, `:`, `%`, `+`, `/`, `=`.
pub const SPECIAL_CLIENT_ID: &str = "my app:1%+/=";
/// Client secret of [`SPECIAL_CLIENT_ID`], again with space, `:`, `%`, `+`, `/`, `=`.
pub const SPECIAL_CLIENT_SECRET: &str = "s3 cr:et%2B+/==";
/// The client id of the AppAuth-Android issue #337 vector (see `tests/fixtures/SOURCES.md`).
pub const APPAUTH_CLIENT_ID: &str = "1PpG/Q 1";
/// Client secret of [`APPAUTH_CLIENT_ID`].
pub const APPAUTH_CLIENT_SECRET: &str = "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=";
/// A public client (no secret): it must use PKCE (S256).
pub const PUBLIC_CLIENT_ID: &str = "public-pkce-client";
/// The client id (or code) that makes the Slack endpoints answer `429` (see the module docs).
pub const RATELIMITED: &str = "ratelimited";
/// Path of the Slack v2 token endpoint.
pub const SLACK_V2_TOKEN_PATH: &str = "/api/oauth.v2.access";
/// Path of the Slack legacy v1 token endpoint.
pub const SLACK_V1_TOKEN_PATH: &str = "/api/oauth.access";
/// Path of the Pinterest v5 token endpoint.
pub const PINTEREST_TOKEN_PATH: &str = "/v5/oauth/token";
/// Path of the RFC 6749 token endpoint.
pub const RFC6749_TOKEN_PATH: &str = "/oauth/token";
/// Path of the RFC 6749 authorize endpoint (Slack: `/oauth/v2/authorize`, Pinterest: `/oauth/`).
pub const AUTHORIZE_PATH: &str = "/authorize";

/// Redirect URIs every default registration accepts.
pub const DEFAULT_REDIRECT_URIS: &[&str] = &[
    "https://client.example.com/cb",
    "http://localhost:8085/",
    "http://127.0.0.1:8085/callback",
    "https://localhost/callback",
];

/// A registered client.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    /// The client id.
    pub client_id: String,
    /// The client secret; `None` for a public client, which must use PKCE.
    pub client_secret: Option<String>,
    /// Redirect URIs the authorize endpoints accept for this client. Empty: any.
    pub redirect_uris: Vec<String>,
    /// Slack token rotation: code exchanges at the Slack v2 endpoint return `xoxe.xoxb-…`
    /// access tokens with a refresh token and `expires_in`.
    pub slack_token_rotation: bool,
}

impl ClientRegistration {
    /// A confidential client accepting [`DEFAULT_REDIRECT_URIS`], without Slack rotation.
    pub fn confidential(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: Some(client_secret.to_owned()),
            redirect_uris: DEFAULT_REDIRECT_URIS
                .iter()
                .map(|u| (*u).to_owned())
                .collect(),
            slack_token_rotation: false,
        }
    }

    /// A public client (no secret, PKCE required) accepting [`DEFAULT_REDIRECT_URIS`].
    pub fn public(client_id: &str) -> Self {
        Self {
            client_secret: None,
            ..Self::confidential(client_id, "")
        }
    }
}

impl fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field("slack_token_rotation", &self.slack_token_rotation)
            .finish()
    }
}

/// The clients [`LocalProviderConfig::default`] registers: Slack (with and without rotation),
/// Pinterest, the RFC 6749 example client, [`SPECIAL_CLIENT_ID`], [`APPAUTH_CLIENT_ID`] and
/// [`PUBLIC_CLIENT_ID`].
pub fn default_clients() -> Vec<ClientRegistration> {
    vec![
        ClientRegistration::confidential(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET),
        ClientRegistration {
            slack_token_rotation: true,
            ..ClientRegistration::confidential(
                SLACK_ROTATING_CLIENT_ID,
                SLACK_ROTATING_CLIENT_SECRET,
            )
        },
        ClientRegistration::confidential(PINTEREST_CLIENT_ID, PINTEREST_CLIENT_SECRET),
        ClientRegistration::confidential(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET),
        ClientRegistration::confidential(SPECIAL_CLIENT_ID, SPECIAL_CLIENT_SECRET),
        ClientRegistration::confidential(APPAUTH_CLIENT_ID, APPAUTH_CLIENT_SECRET),
        ClientRegistration::public(PUBLIC_CLIENT_ID),
    ]
}

/// Validity period of the leaf certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeafValidity {
    /// Valid from yesterday for 30 days.
    #[default]
    Valid,
    /// Expired yesterday (valid for one day before that).
    Expired,
    /// Valid only from tomorrow on.
    NotYetValid,
}

/// TLS protocol versions the server offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersions {
    /// TLS 1.2 and TLS 1.3.
    #[default]
    Both,
    /// TLS 1.2 only.
    Tls12Only,
    /// TLS 1.3 only.
    Tls13Only,
}

/// Configuration of a [`LocalProvider`].
#[derive(Clone, Debug)]
pub struct LocalProviderConfig {
    /// Address to listen on. Default `127.0.0.1:0` (a free port).
    pub addr: SocketAddr,
    /// Subject alternative names of the leaf certificate (IP addresses become IP SANs).
    /// Default `localhost`, `127.0.0.1`, `::1`. Set another name (e.g. `wrong.invalid`) to test
    /// name-mismatch rejection.
    pub leaf_names: Vec<String>,
    /// Validity period of the leaf certificate (to test rejection of an expired one).
    pub leaf_validity: LeafValidity,
    /// TLS versions offered.
    pub tls_versions: TlsVersions,
    /// Registered clients.
    pub clients: Vec<ClientRegistration>,
    /// How long requests in flight may still run after shutdown was asked for.
    pub shutdown_grace: Duration,
    /// The authorize endpoints answer with a consent page (Allow / Deny, a form `POST`)
    /// instead of approving at once. Default `false`, so tests without a browser get the
    /// code straight away.
    pub consent_page: bool,
    /// Threads serving requests. Default 1 (one thread, as a test wants); a benchmark
    /// that loads the provider from many connections gives it more.
    pub worker_threads: usize,
}

impl Default for LocalProviderConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            leaf_names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            leaf_validity: LeafValidity::Valid,
            tls_versions: TlsVersions::Both,
            clients: default_clients(),
            shutdown_grace: Duration::from_secs(1),
            consent_page: false,
            worker_threads: 1,
        }
    }
}

impl LocalProviderConfig {
    /// The default configuration with an expired leaf certificate.
    pub fn with_expired_leaf() -> Self {
        Self {
            leaf_validity: LeafValidity::Expired,
            ..Self::default()
        }
    }

    /// The default configuration with a leaf valid only for `wrong.invalid`.
    pub fn with_wrong_leaf_name() -> Self {
        Self {
            leaf_names: vec!["wrong.invalid".into()],
            ..Self::default()
        }
    }
}

/// How a token request presented client credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// No credentials at all (no `Authorization`, no `client_id`).
    None,
    /// `Authorization: Basic …` only.
    Basic,
    /// `client_id` and `client_secret` in the body.
    Body,
    /// `client_id` in the body without a secret (public client).
    PublicClient,
    /// Basic and body credentials at once (rejected).
    Both,
}

/// One request the provider received, for tests to assert on.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// How client credentials were presented.
    pub auth: AuthMethod,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The request body (it may hold secrets: the `Debug` output redacts it).
    pub body: String,
}

impl fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestRecord")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("auth", &self.auth)
            .field("content_type", &self.content_type)
            .field("body", &"[redacted]")
            .finish()
    }
}

/// The running provider. Dropping it shuts it down.
pub struct LocalProvider {
    addr: SocketAddr,
    ca_pem: String,
    ca_der: Vec<u8>,
    leaf_spki: String,
    shared: Arc<server::Shared>,
    shutdown_tx: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for LocalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalProvider")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LocalProvider {
    /// Generates the certificates, binds the listener and starts serving on a background thread.
    ///
    /// # Errors
    /// Binding fails, the runtime cannot be built, or certificate generation fails (reported as
    /// [`std::io::ErrorKind::Other`]).
    pub fn start(config: LocalProviderConfig) -> std::io::Result<Self> {
        let certs = tls::generate(&config.leaf_names, config.leaf_validity)
            .map_err(std::io::Error::other)?;
        let tls_config = tls::server_config(&certs, config.tls_versions)?;
        let listener = std::net::TcpListener::bind(config.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(server::Shared {
            state: Mutex::new({
                let mut s = state::State::new(config.clients);
                s.consent_page = config.consent_page;
                s
            }),
            log: Mutex::new(Vec::new()),
            served: core::sync::atomic::AtomicU64::new(0),
            accepted: core::sync::atomic::AtomicU64::new(0),
            shutdown: shutdown_rx,
        });
        let thread_shared = Arc::clone(&shared);
        let grace = config.shutdown_grace;
        let workers = config.worker_threads;
        // The runtime is built, used and dropped on the server thread only, so that starting or
        // dropping the provider from inside another tokio runtime is fine.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("picoauth-local-provider-{}", addr.port()))
            .spawn(move || {
                let runtime = if workers > 1 {
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(workers)
                        .enable_all()
                        .build()
                } else {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                };
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                server::run(
                    runtime,
                    listener,
                    tls_config,
                    thread_shared,
                    grace,
                    ready_tx,
                );
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(std::io::Error::other("local provider thread ended early"));
            }
        }
        Ok(Self {
            addr,
            ca_pem: certs.ca_pem,
            ca_der: certs.ca_der,
            leaf_spki: certs.leaf_spki_sha256_base64.clone(),
            shared,
            shutdown_tx,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://localhost:PORT` (the default leaf is valid for `localhost`).
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// `https://127.0.0.1:PORT` (the default leaf has an IP SAN for it).
    pub fn base_url_ip(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// [`Self::base_url`] followed by `path` (e.g. [`SLACK_V2_TOKEN_PATH`]).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The CA certificate (PEM) that signed the server's leaf: the one trust anchor clients need.
    pub fn ca_cert_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The CA certificate (DER).
    pub fn ca_cert_der(&self) -> Vec<u8> {
        self.ca_der.clone()
    }

    /// Issues a single-use authorization code for `client_id`, bound to `redirect_uri` and to the
    /// PKCE S256 `code_challenge` if given, granting `scope` (a provider default if `None`).
    ///
    /// This is a test back door: unlike the authorize endpoints it does not check that the client
    /// is registered or that the redirect URI is one of the client's.
    pub fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
        code_challenge: Option<&str>,
        scope: Option<&str>,
    ) -> String {
        self.with_state(|s| s.issue_code(client_id, redirect_uri, code_challenge, scope))
    }

    /// Issues a refresh token usable at `provider`'s endpoint by `client_id`, granting `scope`
    /// (a provider default if `None`).
    pub fn issue_refresh_token(
        &self,
        provider: ProviderKind,
        client_id: &str,
        scope: Option<&str>,
    ) -> String {
        self.with_state(|s| s.issue_refresh_token(provider, client_id, scope))
    }

    /// Whether `refresh_token` is currently valid (not rotated away or revoked).
    pub fn refresh_token_is_live(&self, refresh_token: &str) -> bool {
        self.with_state(|s| s.refresh_token_is_live(refresh_token))
    }

    /// Turns the consent page of the authorize endpoints on or off (see
    /// [`LocalProviderConfig::consent_page`]).
    pub fn set_consent_page(&self, on: bool) {
        self.with_state(|s| s.consent_page = on);
    }

    /// Base64 of the SHA-256 of the leaf certificate's SubjectPublicKeyInfo: what
    /// Chromium's `--ignore-certificate-errors-spki-list` takes, so a test browser
    /// trusts this one server without trusting anything else.
    pub fn leaf_spki_sha256_base64(&self) -> String {
        self.leaf_spki.clone()
    }

    /// Number of HTTP requests answered (or taken by a hook) so far.
    pub fn requests_served(&self) -> u64 {
        self.shared
            .served
            .load(core::sync::atomic::Ordering::SeqCst)
    }

    /// Number of TCP connections accepted so far (a client that reuses connections
    /// makes fewer than it sends requests).
    pub fn connections_accepted(&self) -> u64 {
        self.shared
            .accepted
            .load(core::sync::atomic::Ordering::SeqCst)
    }

    /// The requests received so far, oldest first.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the server and waits for its thread (bounded by the configured grace period).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // Receivers may all be gone already if the thread ended; nothing to do then.
        let _ = self.shutdown_tx.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut state::State) -> T) -> T {
        let mut guard = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        self.stop();
    }
}
