//! `picoauth tokens list|show|refresh|watch --store …` and `picoauth login --store`
//! (features `sqlite` / `postgres`): the token store from the command line. Secrets
//! are redacted unless `--show-secrets` is given.

use core::time::Duration;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use picoauth::exchange::Outcome;
use picoauth::provider::{AuthMethod, ProviderKind};
use picoauth::token_set::Slot;

use zeroize::Zeroizing;

use crate::{EXIT_FAILURE, EXIT_USAGE};
use picoauth_std::owned::{redacted, Secret};
use picoauth_std::tokens::{
    now_ms, Installation, InstallationKey, ManagerConfig, ManagerError, ProviderSettings, Stored,
    TokenManager, TokenStore,
};

/// `tokens` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// One line per installation: key, provider, status, access-token expiry.
    List(StoreArg),
    /// One installation as JSON (tokens redacted unless `--show-secrets`).
    Show {
        #[command(flatten)]
        store: StoreArg,
        /// The installation key (as `list` prints it).
        key: String,
        /// Print secrets instead of redacting them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Refresh one installation now (claiming it like any other process would).
    Refresh {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        client: ClientArgs,
        /// The installation key.
        key: String,
    },
    /// Write one installation's token set for a device: `--save-token-set` (the
    /// firmware's encoding) and/or `--provisioning-image` (with the client id and
    /// secret). The server must then stop refreshing that installation: with rotating
    /// refresh tokens, the device's first refresh kills the server's copy.
    Export {
        #[command(flatten)]
        store: StoreArg,
        /// The installation key.
        key: String,
        /// The client id (for `--provisioning-image`).
        #[arg(long)]
        client_id: Option<String>,
        /// The environment variable holding the client secret (for
        /// `--provisioning-image`; none: a public client).
        #[arg(long)]
        client_secret_env: Option<String>,
        #[command(flatten)]
        outputs: crate::provision::Outputs,
    },
    /// Run the background refresher, printing its counters every interval.
    Watch {
        #[command(flatten)]
        store: StoreArg,
        #[command(flatten)]
        client: ClientArgs,
        /// Seconds between reports.
        #[arg(long, default_value_t = 10)]
        interval: u64,
        /// Stop after this many seconds (default: run until killed).
        #[arg(long = "for")]
        duration: Option<u64>,
    },
}

/// `--store sqlite:PATH`, `--store postgres://…` or `--store env:NAME`.
#[derive(Debug, Args)]
pub(crate) struct StoreArg {
    /// The token store: `sqlite:PATH`, a `postgres://` URL without a password, or
    /// `env:NAME`, the environment variable holding either (a URL with a password is
    /// refused on the command line, where `ps` shows it to every local user).
    #[arg(long)]
    store: String,
    /// Also trust this CA certificate (PEM) for the PostgreSQL server's certificate
    /// (TLS is required to any database host but a Unix socket or loopback).
    #[arg(long)]
    store_ca_cert: Option<PathBuf>,
}

impl StoreArg {
    async fn open(&self) -> Result<AnyStore, Fail> {
        open(&self.store, self.store_ca_cert.as_deref()).await
    }
}

/// The client that refreshes.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// The provider of the installations refreshed.
    #[arg(long, value_enum)]
    provider: crate::ProviderArg,
    /// The client id.
    #[arg(long)]
    client_id: String,
    /// The environment variable holding the client secret.
    #[arg(long)]
    client_secret_env: Option<String>,
    /// The token endpoint URL (default: the provider's).
    #[arg(long)]
    token_url: Option<String>,
    /// Also trust this CA certificate (PEM).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
}

struct Fail(u8, String);

enum AnyStore {
    #[cfg(feature = "sqlite")]
    Sqlite(picoauth_std::tokens::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(picoauth_std::tokens::PostgresStore),
}

/// Whether a PostgreSQL URL carries a password: `user:password@` or a `password`
/// parameter.
fn has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let in_userinfo = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    in_userinfo
        || query.split('&').any(|p| {
            p.split_once('=')
                .map_or(p, |(k, _)| k)
                .eq_ignore_ascii_case("password")
        })
}

/// Opens the store `spec` names: `env:NAME` reads the spec from the environment
/// variable `NAME`; a PostgreSQL URL with a password is taken from there only, never
/// from the command line.
async fn open(spec: &str, ca_cert: Option<&std::path::Path>) -> Result<AnyStore, Fail> {
    let from_env;
    let spec = match spec.strip_prefix("env:") {
        Some(var) => {
            from_env =
                Zeroizing::new(std::env::var(var).map_err(|_| {
                    Fail(EXIT_USAGE, format!("environment variable {var} is not set"))
                })?);
            from_env.as_str()
        }
        None if has_password(spec) => {
            return Err(Fail(
                EXIT_USAGE,
                "--store: a password on the command line is shown by `ps` to every local \
                 user; put the URL in an environment variable and give --store env:NAME"
                    .into(),
            ))
        }
        None => spec,
    };
    if let Some(path) = spec.strip_prefix("sqlite:") {
        #[cfg(feature = "sqlite")]
        return picoauth_std::tokens::SqliteStore::open(path)
            .map(AnyStore::Sqlite)
            .map_err(|e| Fail(EXIT_FAILURE, e.to_string()));
        #[cfg(not(feature = "sqlite"))]
        return Err(Fail(EXIT_USAGE, format!("built without SQLite: {path}")));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return {
            let mut trust = picoauth_std::Trust::public();
            if let Some(p) = ca_cert {
                let pem = std::fs::read(p).map_err(|e| {
                    Fail(EXIT_USAGE, format!("--store-ca-cert {}: {e}", p.display()))
                })?;
                trust
                    .add_pem(&pem)
                    .map_err(|e| Fail(EXIT_USAGE, format!("--store-ca-cert: {e}")))?;
            }
            picoauth_std::tokens::PostgresStore::connect_with(spec, 1, &trust).await
        }
        .map(AnyStore::Postgres)
        .map_err(|e| Fail(EXIT_FAILURE, e.to_string()));
        #[cfg(not(feature = "postgres"))]
        return Err(Fail(EXIT_USAGE, "built without PostgreSQL".into()));
    }
    Err(Fail(
        EXIT_USAGE,
        "--store must be sqlite:PATH or a postgres:// URL".into(),
    ))
}

/// Runs `f` on the opened store.
macro_rules! with_store {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($s) => $body,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $body,
        }
    };
}

fn runtime() -> Result<tokio::runtime::Runtime, Fail> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fail(EXIT_FAILURE, e.to_string()))
}

/// Runs a `tokens` subcommand.
pub(crate) fn run(cmd: TokensCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let r = runtime().and_then(|rt| rt.block_on(dispatch(cmd, out, &mut *err)));
    match r {
        Ok(code) => code,
        Err(Fail(code, msg)) => {
            let _ = writeln!(err, "picoauth: {msg}");
            code
        }
    }
}

async fn dispatch(
    cmd: TokensCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Fail> {
    match cmd {
        TokensCommand::List(s) => {
            let store = s.open().await?;
            with_store!(store, st => list(&st, out).await)
        }
        TokensCommand::Show {
            store,
            key,
            show_secrets,
        } => {
            let store = store.open().await?;
            with_store!(store, st => show(&st, &key, show_secrets, out).await)
        }
        TokensCommand::Refresh { store, client, key } => {
            let store = store.open().await?;
            with_store!(store, st => refresh(st, &client, &key, out).await)
        }
        TokensCommand::Export {
            store,
            key,
            client_id,
            client_secret_env,
            outputs,
        } => {
            let secret = match &client_secret_env {
                Some(var) => Some(Zeroizing::new(std::env::var(var).map_err(|_| {
                    Fail(EXIT_USAGE, format!("environment variable {var} is not set"))
                })?)),
                None => None,
            };
            let store = store.open().await?;
            with_store!(store, st => export(&st, &key, client_id.as_deref(), secret.as_deref().map(String::as_str), &outputs, err).await)
        }
        TokensCommand::Watch {
            store,
            client,
            interval,
            duration,
        } => {
            let store = store.open().await?;
            with_store!(store, st => watch(st, &client, interval, duration, out).await)
        }
    }
}

fn store_err(e: impl core::fmt::Display) -> Fail {
    Fail(EXIT_FAILURE, e.to_string())
}

fn key(s: &str) -> Result<InstallationKey, Fail> {
    InstallationKey::parse(s).map_err(|e| Fail(EXIT_USAGE, format!("{s}: {e}")))
}

fn expiry(s: &Stored) -> String {
    match s.expires_ms {
        // Saturating: the row's expiry is store data, any `i64`.
        Some(ms) => format!("{:+.0}s", ms.saturating_sub(now_ms()) as f64 / 1000.0),
        None => "-".into(),
    }
}

async fn list<S: TokenStore>(store: &S, out: &mut dyn Write) -> Result<u8, Fail> {
    for s in store.list().await.map_err(store_err)? {
        let i = &s.installation;
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}",
            i.key,
            i.provider.name(),
            i.status.as_str(),
            expiry(&s)
        );
    }
    Ok(0)
}

fn credential_json(i: &Installation, slot: Slot, show: bool) -> serde_json::Value {
    let Some(c) = i.tokens.credential(slot) else {
        return serde_json::Value::Null;
    };
    let secret = |s: &str| {
        if show {
            s.to_owned()
        } else {
            redacted(s)
        }
    };
    serde_json::json!({
        "access_token": secret(c.access_token.expose()),
        "refresh_token": c.refresh_token.as_ref().map(|r| secret(r.expose())),
        "access_expires_at": c.access_expires_at,
        "refresh_expires_at": c.refresh_expires_at,
        "scope": c.scope.as_str(),
        "token_type": c.token_type.as_str(),
    })
}

async fn show<S: TokenStore>(
    store: &S,
    k: &str,
    show: bool,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let Some(s) = store.get(&key(k)?).await.map_err(store_err)? else {
        return Err(Fail(EXIT_FAILURE, format!("no installation {k}")));
    };
    let i = &s.installation;
    let reason = match &i.status {
        picoauth_std::tokens::Status::NeedsReauthorization { reason } => Some(reason.as_str()),
        _ => None,
    };
    let json = serde_json::json!({
        "key": i.key.store_key(),
        "provider": i.provider.name(),
        "status": i.status.as_str(),
        "reason": reason,
        "generation": s.generation,
        "expires_ms": s.expires_ms,
        "info": i.info,
        "main": credential_json(i, Slot::Main, show),
        "user": credential_json(i, Slot::User, show),
    });
    let _ = writeln!(out, "{json}");
    Ok(0)
}

fn settings(c: &ClientArgs) -> Result<(ProviderSettings, picoauth_std::asynch::Client), Fail> {
    let kind = c.provider.kind();
    let secret = match &c.client_secret_env {
        Some(var) => Some(Secret::new(std::env::var(var).map_err(|_| {
            Fail(EXIT_USAGE, format!("environment variable {var} is not set"))
        })?)),
        None => None,
    };
    let token_url = match (&c.token_url, kind) {
        (Some(u), _) => u.clone(),
        (None, ProviderKind::SlackV2) => "https://slack.com/api/oauth.v2.access".into(),
        (None, ProviderKind::Pinterest) => "https://api.pinterest.com/v5/oauth/token".into(),
        (None, _) => return Err(Fail(EXIT_USAGE, "--token-url is required".into())),
    };
    let mut b = picoauth_std::Client::builder().total_timeout(Duration::from_secs(20));
    if let Some(p) = &c.ca_cert {
        let pem = std::fs::read(p)
            .map_err(|e| Fail(EXIT_USAGE, format!("--ca-cert {}: {e}", p.display())))?;
        b = b
            .add_ca_pem(&pem)
            .map_err(|e| Fail(EXIT_USAGE, format!("--ca-cert: {e}")))?;
    }
    let client = b.build_async().map_err(store_err)?;
    let auth = if secret.is_some() {
        AuthMethod::Basic
    } else {
        AuthMethod::None
    };
    Ok((
        ProviderSettings {
            kind,
            token_url,
            client_id: c.client_id.clone(),
            client_secret: secret,
            auth,
            continuous_refresh: kind == ProviderKind::Pinterest,
        },
        client,
    ))
}

async fn refresh<S: TokenStore>(
    store: S,
    c: &ClientArgs,
    k: &str,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let (settings, client) = settings(c)?;
    let m = TokenManager::new(store, client, [settings], ManagerConfig::default());
    // A window of ten years: refresh whatever the expiry.
    match m
        .refresh_if_due(&key(k)?, Duration::from_secs(10 * 365 * 86_400))
        .await
    {
        Ok(_) => {
            let c = m.counters();
            let _ = writeln!(
                out,
                "{}",
                serde_json::json!({"key": k, "refreshed": c.refreshes})
            );
            Ok(0)
        }
        Err(ManagerError::NeedsReauthorization { reason }) => Err(Fail(
            crate::EXIT_PROVIDER_ERROR,
            format!("{k} needs reauthorization ({reason})"),
        )),
        Err(e) => Err(Fail(EXIT_FAILURE, e.to_string())),
    }
}

async fn watch<S: TokenStore>(
    store: S,
    c: &ClientArgs,
    interval: u64,
    duration: Option<u64>,
    out: &mut dyn Write,
) -> Result<u8, Fail> {
    let (settings, client) = settings(c)?;
    let m = TokenManager::new(store, client, [settings], ManagerConfig::default());
    let bg = m.spawn_refresher();
    let start = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(interval.max(1))).await;
        let c = m.counters();
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({
                "refreshes": c.refreshes, "failures": c.failures,
                "reauthorizations": c.reauthorizations, "rate_limited": c.rate_limited,
            })
        );
        let _ = out.flush();
        if duration.is_some_and(|d| start.elapsed() >= Duration::from_secs(d)) {
            break;
        }
    }
    bg.abort();
    m.idle().await;
    Ok(0)
}

async fn export<S: TokenStore>(
    store: &S,
    k: &str,
    client_id: Option<&str>,
    client_secret: Option<&str>,
    outputs: &crate::provision::Outputs,
    err: &mut dyn Write,
) -> Result<u8, Fail> {
    if !outputs.wanted() {
        return Err(Fail(
            EXIT_USAGE,
            "give --save-token-set FILE and/or --provisioning-image FILE".into(),
        ));
    }
    let client_id = match (client_id, &outputs.provisioning_image) {
        (Some(c), _) => c,
        (None, Some(_)) => {
            return Err(Fail(
                EXIT_USAGE,
                "--provisioning-image needs --client-id".into(),
            ))
        }
        (None, None) => "-",
    };
    let Some(s) = store.get(&key(k)?).await.map_err(store_err)? else {
        return Err(Fail(EXIT_FAILURE, format!("no installation {k}")));
    };
    // The server's token set has the command's capacities: written as stored.
    let set: &crate::provision::CliTokenSet = &s.installation.tokens;
    let id = crate::provision::random_id().map_err(|e| Fail(EXIT_FAILURE, e))?;
    let lines = outputs
        .write(set, client_id, client_secret, id)
        .map_err(|e| Fail(EXIT_FAILURE, e))?;
    for line in lines {
        let _ = writeln!(err, "picoauth: {line}");
    }
    Ok(0)
}

/// `picoauth login --store`: saves a token answer as an installation (Slack keys
/// itself; other providers need `--key`). Returns the key saved.
pub(crate) fn save(
    spec: &str,
    ca_cert: Option<&std::path::Path>,
    outcome: &Outcome<'_>,
    key: Option<&str>,
) -> Result<String, String> {
    let key = match key {
        Some(k) => Some(InstallationKey::caller(k).map_err(|e| e.to_string())?),
        None => None,
    };
    let now = u64::try_from(now_ms() / 1000).unwrap_or(0);
    let i = Installation::from_outcome(outcome, key, now).map_err(|e| e.to_string())?;
    let rt = runtime().map_err(|Fail(_, m)| m)?;
    rt.block_on(async {
        let store = open(spec, ca_cert).await.map_err(|Fail(_, m)| m)?;
        with_store!(store, st => st.put(&i, None).await.map_err(|e| e.to_string()))
    })?;
    Ok(i.key.store_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_store_url_is_refused_unless_from_the_environment() {
        let rt = runtime().ok().unwrap();
        for url in [
            "postgres://app:db-pw-hunter2@db.internal/app",
            "postgresql://app@db.internal/app?sslmode=disable&password=db-pw-hunter2",
        ] {
            let Err(Fail(code, msg)) = rt.block_on(open(url, None)) else {
                panic!("{url} opened");
            };
            assert_eq!(code, EXIT_USAGE);
            assert!(
                msg.contains("env:NAME") && !msg.contains("hunter2"),
                "{msg}"
            );
        }
        for url in [
            "postgres://app@db.internal/app",
            "postgres:///app?host=/run/postgresql",
        ] {
            assert!(!has_password(url), "{url}");
        }
        let Err(Fail(code, msg)) = rt.block_on(open("env:PICOAUTH_TEST_UNSET_STORE_URL", None))
        else {
            panic!("opened");
        };
        assert_eq!(code, EXIT_USAGE);
        assert!(msg.contains("PICOAUTH_TEST_UNSET_STORE_URL"), "{msg}");
        #[cfg(feature = "sqlite")]
        {
            let db = std::env::temp_dir().join(format!("picoauth-cli-{}.db", std::process::id()));
            std::env::set_var(
                "PICOAUTH_TEST_STORE_URL",
                format!("sqlite:{}", db.display()),
            );
            assert!(rt
                .block_on(open("env:PICOAUTH_TEST_STORE_URL", None))
                .is_ok());
            let _ = std::fs::remove_file(&db);
        }
    }

    #[test]
    fn expiry_of_any_stored_time() {
        let body = br#"{"access_token":"a","token_type":"Bearer"}"#;
        let Ok(picoauth::json::rfc6749::Rfc6749::Token(t)) = picoauth::json::rfc6749::parse(body)
        else {
            panic!("body")
        };
        let o = Outcome::Token {
            status: 200,
            token: picoauth::exchange::Token::Rfc6749(t),
        };
        let key = InstallationKey::caller("k").ok();
        let mut s = Stored {
            installation: Installation::from_outcome(&o, key, 0).unwrap(),
            generation: 1,
            expires_ms: Some(i64::MIN),
            retry_at_ms: None,
        };
        assert!(expiry(&s).starts_with('-'), "{}", expiry(&s));
        s.expires_ms = Some(i64::MAX);
        assert!(expiry(&s).starts_with('+'), "{}", expiry(&s));
    }
}
