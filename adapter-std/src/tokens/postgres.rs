//! The PostgreSQL token store (feature `postgres`): for fleets, many processes on many
//! machines sharing one database. A claim is one `UPDATE … WHERE lease is free …
//! RETURNING` (the row lock makes it atomic; lease times come from the database's
//! clock, so machines' clocks need not agree); a completion is one `UPDATE` guarded by
//! owner and generation. Statements are prepared once per connection, so each is one
//! round trip. Migrations run under a transaction-scoped advisory lock, so processes
//! starting together migrate once.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::installation::{Installation, InstallationKey};
use super::row::{self, Row};
use super::schema::{self, Types, COLUMNS};
use super::store::{
    backend, millis, now_ms, Claim, Committed, Completion, StoreError, Stored, TokenStore,
};
use crate::tls::Trust;

/// PostgreSQL's names for the column types.
const TYPES: Types = Types {
    bytes: "BYTEA",
    integer: "BIGINT",
};
/// The database's clock in Unix ms.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
/// The advisory lock key migrations hold ("picoauth" in ASCII).
const MIGRATION_LOCK: i64 = 0x7069_636f_6175_7468;

struct Conn {
    client: Client,
    get: Statement,
    claim: Statement,
    lease_of: Statement,
    refreshed: Statement,
    reauth: Statement,
    release: Statement,
    due: Statement,
    put: Statement,
}

/// A token store in a PostgreSQL database, over a few connections.
///
/// TLS: a TCP host gets TLS, required (`sslmode=prefer`, the default, becomes
/// `require`, so a server or a man in the middle that answers "no TLS" is refused,
/// never a silent fall back to clear text) and verified by rustls against a
/// [`Trust`] (chain and host name; `hostaddr=` picks the address, `host=` the name
/// checked). `sslmode=disable` is accepted only for Unix sockets and loopback
/// addresses; a Unix socket has no TLS.
#[derive(Clone)]
pub struct PostgresStore {
    conns: Arc<Vec<Conn>>,
    next: Arc<AtomicUsize>,
    trips: Arc<AtomicU64>,
}

impl core::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

/// `config` parsed, with the TLS rules of [`PostgresStore`] applied.
fn secured(config: &str) -> Result<Config, StoreError> {
    let mut config: Config = config.parse().map_err(backend)?;
    match config.get_ssl_mode() {
        SslMode::Disable => {
            if let Some(host) = remote_host(&config) {
                return Err(StoreError::TlsRequired { host });
            }
        }
        SslMode::Require => {}
        // `prefer` (the default) would go on in clear text when the answer is "no TLS".
        _ => {
            if config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_))) {
                config.ssl_mode(SslMode::Require);
            }
        }
    }
    Ok(config)
}

/// The first host `config` connects to that is not local. The address connected to
/// decides: `hostaddr` when given, else the host names.
fn remote_host(config: &Config) -> Option<String> {
    if config.get_hostaddrs().is_empty() {
        config.get_hosts().iter().find_map(|h| match h {
            Host::Tcp(name) if !is_loopback_name(name) => Some(name.clone()),
            _ => None,
        })
    } else {
        config
            .get_hostaddrs()
            .iter()
            .find(|a| !a.is_loopback())
            .map(ToString::to_string)
    }
}

/// `localhost` or a loopback IP address.
fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<core::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// A connection under the store's TLS rules (see [`PostgresStore`]), for an
/// application's own tables beside the store's (the install app keeps its spent
/// `state` nonces so). The connection runs on a tokio task; it ends when the
/// [`Client`] is dropped.
///
/// # Errors
/// As [`PostgresStore::connect_with`], schema aside.
pub async fn connect_postgres(config: &str, trust: &Trust) -> Result<Client, StoreError> {
    let (config, tls) = prepared(config, trust)?;
    connect(&config, &tls).await
}

/// The parsed, secured `config` and a connector verifying against `trust`.
fn prepared(config: &str, trust: &Trust) -> Result<(Config, MakeRustlsConnect), StoreError> {
    let config = secured(config)?;
    let tls = trust.client_config().map_err(backend)?;
    Ok((config, MakeRustlsConnect::new(tls.as_ref().clone())))
}

async fn connect(config: &Config, tls: &MakeRustlsConnect) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(tls.clone()).await.map_err(backend)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS picoauth_schema (version BIGINT NOT NULL)")
        .await
        .map_err(backend)?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM picoauth_schema",
            &[],
        )
        .await
        .map_err(backend)?
        .get(0);
    for (v, sql) in schema::pending(current, TYPES)? {
        tx.batch_execute(&sql).await.map_err(backend)?;
        tx.execute("DELETE FROM picoauth_schema", &[])
            .await
            .map_err(backend)?;
        tx.execute("INSERT INTO picoauth_schema (version) VALUES ($1)", &[&v])
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

async fn prepare(client: Client) -> Result<Conn, StoreError> {
    let p = |sql: String| {
        let client = &client;
        async move { client.prepare(&sql).await.map_err(backend) }
    };
    Ok(Conn {
        get: p(format!(
            "SELECT {COLUMNS} FROM picoauth_installations WHERE key = $1"
        ))
        .await?,
        claim: p(format!(
            "UPDATE picoauth_installations SET lease_owner = $1, lease_until_ms = {DB_NOW} + $2
             WHERE key = $3 AND (lease_owner IS NULL OR lease_until_ms <= {DB_NOW})
             RETURNING {COLUMNS}"
        ))
        .await?,
        lease_of: p(format!(
            "SELECT lease_until_ms - {DB_NOW} FROM picoauth_installations WHERE key = $1"
        ))
        .await?,
        refreshed: p(format!(
            "UPDATE picoauth_installations SET info = $1, status = $2, reason = $3, tokens = $4,
               generation = generation + 1, expires_ms = $5, due_ms = $6, retry_at_ms = $7,
               lease_owner = NULL, lease_until_ms = NULL, updated_ms = {DB_NOW}
             WHERE key = $8 AND lease_owner = $9 AND generation = $10"
        ))
        .await?,
        reauth: p(format!(
            "UPDATE picoauth_installations SET status = 'needs_reauthorization', reason = $1,
               generation = generation + 1, lease_owner = NULL, lease_until_ms = NULL,
               updated_ms = {DB_NOW}
             WHERE key = $2 AND lease_owner = $3 AND generation = $4"
        ))
        .await?,
        release: p(
            "UPDATE picoauth_installations SET retry_at_ms = $1, lease_owner = NULL,
               lease_until_ms = NULL
             WHERE key = $2 AND lease_owner = $3 AND generation = $4"
                .to_owned(),
        )
        .await?,
        due: p(format!(
            "SELECT key FROM picoauth_installations
             WHERE status = 'active' AND due_ms < $1
               AND (lease_until_ms IS NULL OR lease_until_ms <= {DB_NOW})
               AND (retry_at_ms IS NULL OR retry_at_ms <= $2)
             ORDER BY due_ms LIMIT $3"
        ))
        .await?,
        put: p(format!(
            "INSERT INTO picoauth_installations
               (key, provider, info, status, reason, tokens, generation, expires_ms, due_ms,
                updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, {DB_NOW})
             ON CONFLICT (key) DO UPDATE SET provider = $2, info = $3, status = $4, reason = $5,
               tokens = $6, generation = picoauth_installations.generation + 1,
               expires_ms = $7, due_ms = $8, retry_at_ms = NULL, lease_owner = NULL,
               lease_until_ms = NULL, updated_ms = {DB_NOW}"
        ))
        .await?,
        client,
    })
}

impl PostgresStore {
    /// Connects `connections` times (at least 1) with `config` (a `postgres://` URL or
    /// `host=… user=… dbname=…`) and migrates the schema. A TCP host's certificate
    /// must chain to the bundled public roots: see [`connect_with`](Self::connect_with)
    /// for a private CA, and [`PostgresStore`] for the TLS rules.
    ///
    /// # Errors
    /// As [`connect_with`](Self::connect_with).
    pub async fn connect(config: &str, connections: usize) -> Result<Self, StoreError> {
        Self::connect_with(config, connections, &Trust::public()).await
    }

    /// [`connect`](Self::connect), with the server certificate checked against
    /// `trust` (a cloud provider's CA bundle, a private CA: [`Trust::only_pem`]).
    ///
    /// # Errors
    /// [`StoreError::TlsRequired`] for `sslmode=disable` to a host that is not local
    /// (before connecting); [`StoreError::Backend`] when the database cannot be
    /// reached, refuses TLS, or its certificate is refused; [`StoreError::SchemaTooNew`].
    pub async fn connect_with(
        config: &str,
        connections: usize,
        trust: &Trust,
    ) -> Result<Self, StoreError> {
        let (config, tls) = prepared(config, trust)?;
        let mut first = connect(&config, &tls).await?;
        migrate(&mut first).await?;
        let mut conns = vec![prepare(first).await?];
        for _ in 1..connections.max(1) {
            conns.push(prepare(connect(&config, &tls).await?).await?);
        }
        Ok(Self {
            conns: Arc::new(conns),
            next: Arc::new(AtomicUsize::new(0)),
            trips: Arc::new(AtomicU64::new(0)),
        })
    }

    fn conn(&self) -> &Conn {
        self.trips.fetch_add(1, Ordering::Relaxed);
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        &self.conns[i]
    }
}

fn read(r: &tokio_postgres::Row) -> Result<Stored, StoreError> {
    let tokens: Vec<u8> = r.try_get(5).map_err(backend)?;
    row::decode(
        r.try_get(0).map_err(backend)?,
        r.try_get(1).map_err(backend)?,
        r.try_get(2).map_err(backend)?,
        r.try_get(3).map_err(backend)?,
        r.try_get(4).map_err(backend)?,
        &tokens,
        r.try_get(6).map_err(backend)?,
        r.try_get(7).map_err(backend)?,
        r.try_get(8).map_err(backend)?,
    )
}

/// A statement parameter.
type Param<'a> = &'a (dyn ToSql + Sync);

/// `before`, then the columns a put and a refresh both write (in both statements'
/// order), then `after`.
fn with_contents<'a>(before: &[Param<'a>], row: &'a Row, after: &[Param<'a>]) -> Vec<Param<'a>> {
    let contents: [Param<'a>; 6] = [
        &row.info,
        &row.status,
        &row.reason,
        &row.tokens,
        &row.expires_ms,
        &row.due_ms,
    ];
    [before, &contents, after].concat()
}

impl TokenStore for PostgresStore {
    async fn put(&self, i: &Installation, expires_ms: Option<i64>) -> Result<(), StoreError> {
        let row = Row::encode(i, expires_ms)?;
        let c = self.conn();
        let params = with_contents(&[&row.key, &row.provider], &row, &[]);
        c.client.execute(&c.put, &params).await.map_err(backend)?;
        Ok(())
    }

    async fn get(&self, key: &InstallationKey) -> Result<Option<Stored>, StoreError> {
        let c = self.conn();
        let rows = c
            .client
            .query(&c.get, &[&key.store_key()])
            .await
            .map_err(backend)?;
        rows.first().map(read).transpose()
    }

    async fn list(&self) -> Result<Vec<Stored>, StoreError> {
        let c = self.conn();
        let rows = c
            .client
            .query(
                &format!("SELECT {COLUMNS} FROM picoauth_installations ORDER BY key"),
                &[],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(read).collect()
    }

    async fn due(&self, before_ms: i64, limit: usize) -> Result<Vec<InstallationKey>, StoreError> {
        let c = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = c
            .client
            .query(&c.due, &[&before_ms, &now_ms(), &limit])
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| row::key(r.try_get(0).map_err(backend)?))
            .collect()
    }

    async fn claim(
        &self,
        key: &InstallationKey,
        owner: &str,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let c = self.conn();
        let k = key.store_key();
        let lease_ms = millis(lease);
        let rows = c
            .client
            .query(&c.claim, &[&owner, &lease_ms, &k])
            .await
            .map_err(backend)?;
        if let Some(r) = rows.first() {
            return Ok(Claim::Claimed(Box::new(read(r)?)));
        }
        let c = self.conn();
        let rows = c.client.query(&c.lease_of, &[&k]).await.map_err(backend)?;
        Ok(match rows.first() {
            Some(r) => {
                let left: Option<i64> = r.try_get(0).map_err(backend)?;
                Claim::Busy {
                    until_ms: now_ms().saturating_add(left.unwrap_or(0).max(0)),
                }
            }
            None => Claim::Missing,
        })
    }

    async fn complete(
        &self,
        key: &InstallationKey,
        owner: &str,
        generation: i64,
        completion: Completion,
    ) -> Result<Committed, StoreError> {
        let c = self.conn();
        let k = key.store_key();
        let n = match completion {
            Completion::Refreshed {
                installation,
                expires_ms,
                retry_at_ms,
            } => {
                let row = Row::encode(&installation, expires_ms)?;
                let params = with_contents(&[], &row, &[&retry_at_ms, &k, &owner, &generation]);
                c.client.execute(&c.refreshed, &params).await
            }
            Completion::NeedsReauthorization { reason } => {
                c.client
                    .execute(&c.reauth, &[&reason, &k, &owner, &generation])
                    .await
            }
            Completion::Release { retry_at_ms } => {
                c.client
                    .execute(&c.release, &[&retry_at_ms, &k, &owner, &generation])
                    .await
            }
        }
        .map_err(backend)?;
        Ok(if n == 1 {
            Committed::Yes
        } else {
            Committed::LeaseLost
        })
    }

    fn round_trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(config: &str) -> SslMode {
        secured(config).unwrap().get_ssl_mode()
    }

    fn refused(config: &str) -> String {
        match secured(config) {
            Err(StoreError::TlsRequired { host }) => host,
            other => panic!("{config}: {other:?}"),
        }
    }

    #[test]
    fn tcp_hosts_require_tls() {
        for c in [
            "host=db.example.com user=u",
            "host=db.example.com sslmode=prefer",
            "postgres://u@db.example.com/x",
            // Loopback too: the default never falls back to clear text.
            "host=localhost",
            "host=127.0.0.1",
            "host=/run/postgresql,db.example.com",
        ] {
            assert!(matches!(mode(c), SslMode::Require), "{c}");
        }
        assert!(matches!(
            mode("host=db.example.com sslmode=require"),
            SslMode::Require
        ));
    }

    #[test]
    fn unix_sockets_keep_their_mode() {
        assert!(matches!(mode("host=/run/postgresql"), SslMode::Prefer));
        assert!(matches!(
            mode("host=/run/postgresql sslmode=disable"),
            SslMode::Disable
        ));
    }

    #[test]
    fn no_tls_only_to_local_hosts() {
        for c in [
            "host=localhost sslmode=disable",
            "host=LOCALHOST sslmode=disable",
            "host=127.0.0.1 sslmode=disable",
            "host=127.1.2.3 sslmode=disable",
            "host=::1 sslmode=disable",
            "postgres://u@[::1]:5432/x?sslmode=disable",
            // The address decides, not the name.
            "host=db.example.com hostaddr=127.0.0.1 sslmode=disable",
        ] {
            assert!(matches!(mode(c), SslMode::Disable), "{c}");
        }
        assert_eq!(
            refused("host=db.example.com sslmode=disable"),
            "db.example.com"
        );
        assert_eq!(
            refused("postgres://u@db.example.com/x?sslmode=disable"),
            "db.example.com"
        );
        assert_eq!(refused("host=10.0.0.5 sslmode=disable"), "10.0.0.5");
        assert_eq!(
            refused("host=localhost hostaddr=10.0.0.5 sslmode=disable"),
            "10.0.0.5"
        );
        assert_eq!(
            refused("host=/run/postgresql,db.example.com sslmode=disable"),
            "db.example.com"
        );
        let e = StoreError::TlsRequired {
            host: "db.example.com".into(),
        };
        assert!(e
            .to_string()
            .contains("sslmode=disable refused for db.example.com"));
    }

    #[test]
    fn a_bad_connection_string_is_a_typed_error() {
        assert!(matches!(
            secured("host=x sslmode=sometimes"),
            Err(StoreError::Backend(_))
        ));
    }
}
