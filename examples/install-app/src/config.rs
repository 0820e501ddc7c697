//! Configuration from environment variables. Secrets come from the environment only:
//! never from the command line, where `ps` would show them.

use core::fmt;
use core::net::SocketAddr;

use picoauth_std::Secret;

/// Which provider an install flow is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderId {
    /// Slack (`oauth.v2.access`, token rotation on).
    Slack,
    /// Pinterest v5 (continuous refresh).
    Pinterest,
}

impl ProviderId {
    /// Both, in page order.
    pub const ALL: [Self; 2] = [Self::Slack, Self::Pinterest];

    /// `slack` or `pinterest`: the path segment and cookie suffix.
    pub const fn slug(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Pinterest => "pinterest",
        }
    }

    /// `Slack` or `Pinterest`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Pinterest => "Pinterest",
        }
    }

    /// The wire format the core speaks for it.
    pub const fn kind(self) -> picoauth::provider::ProviderKind {
        match self {
            Self::Slack => picoauth::provider::ProviderKind::SlackV2,
            Self::Pinterest => picoauth::provider::ProviderKind::Pinterest,
        }
    }

    /// The environment variable prefix: `SLACK` or `PINTEREST`.
    const fn env_prefix(self) -> &'static str {
        match self {
            Self::Slack => "SLACK",
            Self::Pinterest => "PINTEREST",
        }
    }

    /// The real provider's authorize URL.
    pub const fn default_authorize_url(self) -> &'static str {
        match self {
            Self::Slack => picoauth::authorize::SLACK_V2_AUTHORIZE_URL,
            Self::Pinterest => picoauth::authorize::PINTEREST_AUTHORIZE_URL,
        }
    }

    /// The real provider's token URL.
    pub const fn default_token_url(self) -> &'static str {
        match self {
            Self::Slack => "https://slack.com/api/oauth.v2.access",
            Self::Pinterest => "https://api.pinterest.com/v5/oauth/token",
        }
    }

    /// Scopes asked for when none are configured.
    pub const fn default_scopes(self) -> &'static str {
        match self {
            Self::Slack => "commands,chat:write",
            Self::Pinterest => "boards:read,pins:read,user_accounts:read",
        }
    }
}

/// One provider's registration.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// Which provider.
    pub id: ProviderId,
    /// The client (app) id.
    pub client_id: String,
    /// The client secret (`Debug` redacts it).
    pub client_secret: Secret,
    /// Scopes, comma-separated (the core joins them with the provider's separator).
    pub scopes: String,
    /// The authorize URL the install button leads to.
    pub authorize_url: String,
    /// The token endpoint for the code exchange and refreshes.
    pub token_url: String,
}

/// The app's configuration (`Debug` shows the store URL by its scheme only, and
/// redacts the secrets).
#[derive(Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The public base URL (no trailing slash): redirect URIs are
    /// `{base}/slack/oauth_redirect` and `{base}/pinterest/oauth_redirect`. With
    /// `https://` the state cookie is `Secure`.
    pub base_url: String,
    /// `sqlite:PATH` or `postgres://…`.
    pub store_url: String,
    /// An extra trust anchor (PEM) for the PostgreSQL server's certificate, besides the
    /// web PKI roots (a private or cloud database CA). TLS is required to any database
    /// host but a Unix socket or loopback.
    pub store_ca_pem: Option<String>,
    /// The key that signs `state` (at least 16 bytes). `None`: a random key per
    /// process (installs in flight across a restart are then refused).
    pub state_key: Option<Secret>,
    /// How long an install link (its `state` and cookie) stays valid, in seconds.
    pub state_lifetime_secs: u64,
    /// Registered providers.
    pub providers: Vec<ProviderConfig>,
    /// An extra trust anchor (PEM) for the providers' TLS: the built-in provider's CA.
    pub extra_ca_pem: Option<String>,
    /// An `auth.test`-style endpoint (Slack's shape: `POST`, the token in the body,
    /// `{"ok":true}` while it is live) called once per installation on the home page.
    pub introspect_url: Option<String>,
    /// Seconds between automatic reloads of the home page (0: none).
    pub page_refresh_secs: u32,
    /// Token-manager timing (tests use seconds-long tokens).
    pub manager: picoauth_std::tokens::ManagerConfig,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("base_url", &self.base_url)
            .field("store_url", &shown_store_url(&self.store_url))
            .field("store_ca_pem", &self.store_ca_pem.is_some())
            .field("state_key", &self.state_key)
            .field("state_lifetime_secs", &self.state_lifetime_secs)
            .field("providers", &self.providers)
            .field("extra_ca_pem", &self.extra_ca_pem)
            .field("introspect_url", &self.introspect_url)
            .field("page_refresh_secs", &self.page_refresh_secs)
            .field("manager", &self.manager)
            .finish()
    }
}

/// A store URL as it may be shown: `sqlite:PATH` as it is, anything else by its
/// scheme only (a PostgreSQL URL may hold a password, in its user part or a
/// `password=` parameter).
pub(crate) fn shown_store_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        return url.to_owned();
    }
    match url.split_once("://") {
        Some((scheme, _)) if scheme.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            format!("{scheme}://[redacted]")
        }
        _ => "[redacted]".to_owned(),
    }
}

/// A configuration error: which variable and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.problem)
    }
}

impl core::error::Error for ConfigError {}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The text of the PEM file that variable `name` names, if set.
fn pem_file(name: &'static str) -> Result<Option<String>, ConfigError> {
    var(name)
        .map(|path| {
            std::fs::read_to_string(&path).map_err(|e| ConfigError {
                var: name,
                problem: format!("cannot read {path}: {e}"),
            })
        })
        .transpose()
}

impl Config {
    /// Reads the configuration from the environment:
    ///
    /// | variable | default |
    /// |---|---|
    /// | `PICOAUTH_APP_LISTEN` | `127.0.0.1:3000` |
    /// | `PICOAUTH_APP_BASE_URL` | `http://` + the listen address |
    /// | `PICOAUTH_STORE_URL` | `sqlite:picoauth-install-app.db` |
    /// | `PICOAUTH_STORE_CA_PEM` | none (a PEM file trusted besides the web PKI roots for the database) |
    /// | `PICOAUTH_STATE_KEY` | random per process |
    /// | `SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET` | Slack off |
    /// | `SLACK_SCOPES`, `SLACK_AUTHORIZE_URL`, `SLACK_TOKEN_URL` | Slack's own |
    /// | `PINTEREST_CLIENT_ID`, `PINTEREST_CLIENT_SECRET` | Pinterest off |
    /// | `PINTEREST_SCOPES`, `PINTEREST_AUTHORIZE_URL`, `PINTEREST_TOKEN_URL` | Pinterest's own |
    /// | `PICOAUTH_CA_PEM` | none (a PEM file trusted besides the web PKI roots) |
    /// | `PICOAUTH_INTROSPECT_URL` | none |
    ///
    /// # Errors
    /// A malformed value, or a client id without its secret.
    pub fn from_env() -> Result<Self, ConfigError> {
        let listen_s = var("PICOAUTH_APP_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen: SocketAddr = listen_s.parse().map_err(|_| ConfigError {
            var: "PICOAUTH_APP_LISTEN",
            problem: format!("not an address:port: {listen_s:?}"),
        })?;
        let base_url = var("PICOAUTH_APP_BASE_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError {
                var: "PICOAUTH_APP_BASE_URL",
                problem: "must start with http:// or https://".into(),
            });
        }
        let store_url =
            var("PICOAUTH_STORE_URL").unwrap_or_else(|| "sqlite:picoauth-install-app.db".into());
        let state_key = var("PICOAUTH_STATE_KEY").map(Secret::new);
        if state_key
            .as_ref()
            .is_some_and(|k| k.expose().len() < picoauth::state::MIN_KEY_LEN)
        {
            return Err(ConfigError {
                var: "PICOAUTH_STATE_KEY",
                problem: format!("at least {} bytes are needed", picoauth::state::MIN_KEY_LEN),
            });
        }
        let extra_ca_pem = pem_file("PICOAUTH_CA_PEM")?;
        let store_ca_pem = pem_file("PICOAUTH_STORE_CA_PEM")?;
        let mut providers = Vec::new();
        for id in ProviderId::ALL {
            let p = id.env_prefix();
            let id_var: &'static str = if id == ProviderId::Slack {
                "SLACK_CLIENT_ID"
            } else {
                "PINTEREST_CLIENT_ID"
            };
            let secret_var: &'static str = if id == ProviderId::Slack {
                "SLACK_CLIENT_SECRET"
            } else {
                "PINTEREST_CLIENT_SECRET"
            };
            let Some(client_id) = var(id_var) else {
                continue;
            };
            let client_secret = var(secret_var).ok_or(ConfigError {
                var: secret_var,
                problem: format!("{id_var} is set, so its secret is needed"),
            })?;
            providers.push(ProviderConfig {
                id,
                client_id,
                client_secret: Secret::new(client_secret),
                scopes: var(&format!("{p}_SCOPES")).unwrap_or_else(|| id.default_scopes().into()),
                authorize_url: var(&format!("{p}_AUTHORIZE_URL"))
                    .unwrap_or_else(|| id.default_authorize_url().into()),
                token_url: var(&format!("{p}_TOKEN_URL"))
                    .unwrap_or_else(|| id.default_token_url().into()),
            });
        }
        Ok(Self {
            listen,
            base_url,
            store_url,
            store_ca_pem,
            state_key,
            state_lifetime_secs: 600,
            providers,
            extra_ca_pem,
            introspect_url: var("PICOAUTH_INTROSPECT_URL"),
            page_refresh_secs: 5,
            manager: picoauth_std::tokens::ManagerConfig::default(),
        })
    }

    /// The redirect URI of `id`'s install flow.
    pub fn redirect_uri(&self, id: ProviderId) -> String {
        format!("{}/{}/oauth_redirect", self.base_url, id.slug())
    }

    /// The registration of `id`, if configured.
    pub fn provider(&self, id: ProviderId) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Whether the state cookie gets `Secure` (the public URL is HTTPS).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A configuration with `store_url` and nothing else of note.
    pub(crate) fn with_store_url(store_url: &str) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: "http://127.0.0.1:3000".into(),
            store_url: store_url.into(),
            store_ca_pem: None,
            state_key: Some(Secret::new("state-key-0123456789")),
            state_lifetime_secs: 600,
            providers: Vec::new(),
            extra_ca_pem: None,
            introspect_url: None,
            page_refresh_secs: 5,
            manager: picoauth_std::tokens::ManagerConfig::default(),
        }
    }

    #[test]
    fn debug_hides_the_database_password() {
        for url in [
            "postgres://app:db-pw-hunter2@db.internal/app",
            "postgresql://db.internal/app?user=app&password=db-pw-hunter2",
            "host=db user=app password=db-pw-hunter2",
        ] {
            let d = format!("{:?}", with_store_url(url));
            assert!(!d.contains("hunter2") && !d.contains("state-key"), "{d}");
        }
        let d = format!("{:?}", with_store_url("sqlite:/var/lib/app.db"));
        assert!(d.contains("sqlite:/var/lib/app.db"), "{d}");
        assert!(format!("{:?}", with_store_url("postgres://x")).contains("postgres://[redacted]"));
    }
}
