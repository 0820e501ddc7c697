//! The SQLite token store (feature `sqlite`): one file, safe for several processes on
//! one host. rusqlite with its bundled SQLite, WAL journal, `synchronous=FULL` (a
//! committed refresh survives a crash and a power cut), a 30 s busy timeout. Claims
//! and completions run in `BEGIN IMMEDIATE` transactions, so two processes never
//! both see a row unleased.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension as _, TransactionBehavior};

use super::installation::{Installation, InstallationKey};
use super::row::{self, Row};
use super::schema::{self, Types, COLUMNS};
use super::store::{
    backend, millis, now_ms, Claim, Committed, Completion, StoreError, Stored, TokenStore,
};

/// SQLite's names for the column types.
const TYPES: Types = Types {
    bytes: "BLOB",
    integer: "INTEGER",
};

/// A token store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    trips: Arc<AtomicU64>,
}

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Creates an empty file at `path`, mode 0600, unless something is there already (or
/// `path` names SQLite's in-memory or temporary database, or is a `file:` URI, whose
/// file is not at that path): SQLite would create it with mode 0644 less the umask,
/// readable by every local user, and gives its journal and WAL files the main file's
/// mode. A failure is left for SQLite's own open to report.
fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let name = path.as_os_str().as_bytes();
        if name.is_empty() || name == b":memory:" || name.starts_with(b"file:") {
            return;
        }
        let _created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and migrates its schema. A file
    /// it creates is readable and writable by its owner only (on Unix: it holds every
    /// token in clear); an existing file keeps its mode. A `file:` URI is passed to
    /// SQLite as is, and a file SQLite creates for it gets SQLite's mode (0644 less
    /// the umask): create it first to choose its mode.
    ///
    /// # Errors
    /// The file cannot be opened, or its schema is newer than this build.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        create_private(&path);
        let mut conn = Connection::open(&path).map_err(backend)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
            trips: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The schema version of the open file.
    ///
    /// # Errors
    /// On a database failure.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        version(&conn)
    }

    async fn run<T: Send + 'static>(
        &self,
        trips: u64,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.trips.fetch_add(trips, Ordering::Relaxed);
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(backend)?
    }
}

fn version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM picoauth_schema",
        [],
        |r| r.get(0),
    )
    .map_err(backend)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS picoauth_schema (version INTEGER NOT NULL)")
        .map_err(backend)?;
    for (v, sql) in schema::pending(version(&tx)?, TYPES)? {
        tx.execute_batch(&sql).map_err(backend)?;
        tx.execute("DELETE FROM picoauth_schema", [])
            .map_err(backend)?;
        tx.execute("INSERT INTO picoauth_schema (version) VALUES (?1)", [v])
            .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Stored, StoreError>> {
    let key: String = r.get(0)?;
    let provider: String = r.get(1)?;
    let info: String = r.get(2)?;
    let status: String = r.get(3)?;
    let tokens: Vec<u8> = r.get(5)?;
    Ok(row::decode(
        &key,
        &provider,
        &info,
        &status,
        r.get(4)?,
        &tokens,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

impl TokenStore for SqliteStore {
    async fn put(&self, i: &Installation, expires_ms: Option<i64>) -> Result<(), StoreError> {
        let row = Row::encode(i, expires_ms)?;
        self.run(1, move |c| {
            c.execute(
                "INSERT INTO picoauth_installations
                   (key, provider, info, status, reason, tokens, generation, expires_ms, due_ms,
                    updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9)
                 ON CONFLICT (key) DO UPDATE SET provider = ?2, info = ?3, status = ?4,
                   reason = ?5, tokens = ?6, generation = generation + 1, expires_ms = ?7,
                   due_ms = ?8, retry_at_ms = NULL, lease_owner = NULL, lease_until_ms = NULL,
                   updated_ms = ?9",
                params![
                    row.key,
                    row.provider,
                    row.info,
                    row.status,
                    row.reason,
                    row.tokens,
                    row.expires_ms,
                    row.due_ms,
                    now_ms()
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, key: &InstallationKey) -> Result<Option<Stored>, StoreError> {
        let key = key.store_key();
        self.run(1, move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM picoauth_installations WHERE key = ?1"),
                [key],
                read,
            )
            .optional()
            .map_err(backend)?
            .transpose()
        })
        .await
    }

    async fn list(&self) -> Result<Vec<Stored>, StoreError> {
        self.run(1, |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM picoauth_installations ORDER BY key"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([], read).map_err(backend)?;
            rows.map(|r| r.map_err(backend)?).collect()
        })
        .await
    }

    async fn due(&self, before_ms: i64, limit: usize) -> Result<Vec<InstallationKey>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(1, move |c| {
            let now = now_ms();
            let mut stmt = c
                .prepare_cached(
                    "SELECT key FROM picoauth_installations
                     WHERE status = 'active' AND due_ms < ?1
                       AND (lease_until_ms IS NULL OR lease_until_ms <= ?2)
                       AND (retry_at_ms IS NULL OR retry_at_ms <= ?2)
                     ORDER BY due_ms LIMIT ?3",
                )
                .map_err(backend)?;
            let keys = stmt
                .query_map(params![before_ms, now, limit], |r| r.get::<_, String>(0))
                .map_err(backend)?;
            keys.map(|k| row::key(&k.map_err(backend)?)).collect()
        })
        .await
    }

    async fn claim(
        &self,
        key: &InstallationKey,
        owner: &str,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let key = key.store_key();
        let owner = owner.to_owned();
        let lease_ms = millis(lease);
        self.run(1, move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_ms();
            let claimed = tx
                .query_row(
                    &format!(
                        "UPDATE picoauth_installations SET lease_owner = ?1, lease_until_ms = ?2
                         WHERE key = ?3 AND (lease_owner IS NULL OR lease_until_ms <= ?4)
                         RETURNING {COLUMNS}"
                    ),
                    params![owner, now.saturating_add(lease_ms), key, now],
                    read,
                )
                .optional()
                .map_err(backend)?;
            let out = match claimed {
                Some(stored) => Claim::Claimed(Box::new(stored?)),
                None => match tx
                    .query_row(
                        "SELECT lease_until_ms FROM picoauth_installations WHERE key = ?1",
                        [&key],
                        |r| r.get::<_, Option<i64>>(0),
                    )
                    .optional()
                    .map_err(backend)?
                {
                    Some(until) => Claim::Busy {
                        until_ms: until.unwrap_or(now),
                    },
                    None => Claim::Missing,
                },
            };
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
    }

    async fn complete(
        &self,
        key: &InstallationKey,
        owner: &str,
        generation: i64,
        completion: Completion,
    ) -> Result<Committed, StoreError> {
        let key = key.store_key();
        let owner = owner.to_owned();
        let encoded = match &completion {
            Completion::Refreshed {
                installation,
                expires_ms,
                ..
            } => Some(Row::encode(installation, *expires_ms)?),
            _ => None,
        };
        self.run(1, move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_ms();
            let changed = match (completion, encoded) {
                (
                    Completion::Refreshed {
                        expires_ms,
                        retry_at_ms,
                        ..
                    },
                    Some(row),
                ) => tx.execute(
                    "UPDATE picoauth_installations SET info = ?1, status = ?2, reason = ?3,
                       tokens = ?4, generation = generation + 1, expires_ms = ?5, due_ms = ?6,
                       retry_at_ms = ?7, lease_owner = NULL, lease_until_ms = NULL,
                       updated_ms = ?8
                     WHERE key = ?9 AND lease_owner = ?10 AND generation = ?11",
                    params![
                        row.info,
                        row.status,
                        row.reason,
                        row.tokens,
                        expires_ms,
                        row.due_ms,
                        retry_at_ms,
                        now,
                        key,
                        owner,
                        generation
                    ],
                ),
                (Completion::NeedsReauthorization { reason }, _) => tx.execute(
                    "UPDATE picoauth_installations SET status = 'needs_reauthorization',
                       reason = ?1, generation = generation + 1, lease_owner = NULL,
                       lease_until_ms = NULL, updated_ms = ?2
                     WHERE key = ?3 AND lease_owner = ?4 AND generation = ?5",
                    params![reason, now, key, owner, generation],
                ),
                (Completion::Release { retry_at_ms }, _) => tx.execute(
                    "UPDATE picoauth_installations SET retry_at_ms = ?1, lease_owner = NULL,
                       lease_until_ms = NULL
                     WHERE key = ?2 AND lease_owner = ?3 AND generation = ?4",
                    params![retry_at_ms, key, owner, generation],
                ),
                (Completion::Refreshed { .. }, None) => {
                    return Err(StoreError::Corrupt("unencoded completion".into()))
                }
            }
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(if changed == 1 {
                Committed::Yes
            } else {
                Committed::LeaseLost
            })
        })
        .await
    }

    fn round_trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_new_store_file_is_private_to_its_owner() {
        let dir = std::env::temp_dir().join(format!("picoauth-sqlite-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.db");
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::SCHEMA_VERSION
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{:?}: {mode:o}", entry.path());
        }
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A `file:` URI is SQLite's to resolve: nothing is created at the URI taken as a
    /// path (a relative one would leave a stray empty file in the working directory).
    #[test]
    fn a_file_uri_leaves_no_stray_file() {
        let name = format!("file:picoauth-uri-{}?mode=memory", std::process::id());
        let store = SqliteStore::open(&name).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::SCHEMA_VERSION
        );
        let stray = Path::new(&name).exists();
        let _ = std::fs::remove_file(&name);
        assert!(!stray, "{name} was created in the working directory");
    }
}
