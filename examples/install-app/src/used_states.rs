//! Spent `state` nonces: a signed state is stateless and so could be presented twice
//! within its lifetime; its nonce is kept here from its first use until it expires,
//! and a second use is refused. Kept in the token store's own database (a table of
//! its own, beside the token store's) so every app process sharing the store agrees.

use std::sync::{Arc, Mutex, PoisonError};

use picoauth_std::Trust;

/// Where spent nonces live.
#[derive(Clone)]
pub enum UsedStates {
    /// A SQLite database file (its own connection to the token store's file).
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A PostgreSQL database.
    Postgres(Arc<tokio_postgres::Client>),
}

impl core::fmt::Debug for UsedStates {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "UsedStates::Sqlite",
            Self::Postgres(_) => "UsedStates::Postgres",
        })
    }
}

/// A database failure (the message only: no secret is ever in it).
#[derive(Debug)]
pub struct UsedStatesError(pub String);

impl core::fmt::Display for UsedStatesError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "used-state table: {}", self.0)
    }
}

impl core::error::Error for UsedStatesError {}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS picoauth_used_states \
    (nonce TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)";

impl UsedStates {
    /// Opens (and creates) the table in the SQLite file at `path`.
    ///
    /// # Errors
    /// The database cannot be opened or written.
    pub fn open_sqlite(path: &str) -> Result<Self, UsedStatesError> {
        let err = |e: rusqlite::Error| UsedStatesError(e.to_string());
        let conn = rusqlite::Connection::open(path).map_err(err)?;
        conn.busy_timeout(core::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute(CREATE, []).map_err(err)?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Connects to PostgreSQL at `url` under the token store's TLS rules (required and
    /// verified against `trust` for any host but a Unix socket or loopback) and
    /// creates the table.
    ///
    /// # Errors
    /// The connection or the statement fails.
    pub async fn connect_postgres(url: &str, trust: &Trust) -> Result<Self, UsedStatesError> {
        let client = picoauth_std::tokens::connect_postgres(url, trust)
            .await
            .map_err(|e| UsedStatesError(e.to_string()))?;
        client
            .batch_execute(CREATE)
            .await
            .map_err(|e| UsedStatesError(e.to_string()))?;
        Ok(Self::Postgres(Arc::new(client)))
    }

    /// Records `nonce` (hex) as spent until `expires_at` (Unix seconds). `true` on its
    /// first use, `false` if it was spent before. Expired entries are dropped first.
    ///
    /// # Errors
    /// The database fails.
    pub async fn consume(&self, nonce: &str, expires_at: u64) -> Result<bool, UsedStatesError> {
        let now = picoauth_std::tokens::now_ms() / 1000;
        let expires = i64::try_from(expires_at).unwrap_or(i64::MAX);
        match self {
            Self::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                let nonce = nonce.to_owned();
                tokio::task::spawn_blocking(move || {
                    let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                    let err = |e: rusqlite::Error| UsedStatesError(e.to_string());
                    conn.execute(
                        "DELETE FROM picoauth_used_states WHERE expires_at <= ?1",
                        [now],
                    )
                    .map_err(err)?;
                    let n = conn
                        .execute(
                            "INSERT OR IGNORE INTO picoauth_used_states (nonce, expires_at) VALUES (?1, ?2)",
                            rusqlite::params![nonce, expires],
                        )
                        .map_err(err)?;
                    Ok(n == 1)
                })
                .await
                .map_err(|e| UsedStatesError(e.to_string()))?
            }
            Self::Postgres(client) => {
                let err = |e: tokio_postgres::Error| UsedStatesError(e.to_string());
                client
                    .execute(
                        "DELETE FROM picoauth_used_states WHERE expires_at <= $1",
                        &[&now],
                    )
                    .await
                    .map_err(err)?;
                let n = client
                    .execute(
                        "INSERT INTO picoauth_used_states (nonce, expires_at) VALUES ($1, $2) \
                         ON CONFLICT (nonce) DO NOTHING",
                        &[&nonce, &expires],
                    )
                    .await
                    .map_err(err)?;
                Ok(n == 1)
            }
        }
    }

    /// How many spent nonces are kept.
    ///
    /// # Errors
    /// The database fails.
    pub async fn count(&self) -> Result<u64, UsedStatesError> {
        match self {
            Self::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                conn.query_row("SELECT COUNT(*) FROM picoauth_used_states", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| UsedStatesError(e.to_string()))
            }
            Self::Postgres(client) => client
                .query_one("SELECT COUNT(*) FROM picoauth_used_states", &[])
                .await
                .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
                .map_err(|e| UsedStatesError(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_nonce_is_spent_once_and_forgotten_after_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let u = UsedStates::open_sqlite(path.to_str().unwrap()).unwrap();
        let later = u64::try_from(picoauth_std::tokens::now_ms() / 1000).unwrap() + 600;
        assert!(u.consume("aa", later).await.unwrap());
        assert!(!u.consume("aa", later).await.unwrap());
        assert!(u.consume("bb", later).await.unwrap());
        // An expired entry is dropped on the next use, so the table does not grow.
        assert!(u.consume("cc", 1).await.unwrap());
        assert!(u.consume("dd", later).await.unwrap());
        assert_eq!(u.count().await.unwrap(), 3);
        // A second process (connection) sees the spent nonce.
        let other = UsedStates::open_sqlite(path.to_str().unwrap()).unwrap();
        assert!(!other.consume("aa", later).await.unwrap());
    }
}
