//! The `TokenStore` trait: where installations live, and the claim that lets one
//! process at a time refresh an installation.
//!
//! A claim is a lease on the row (`lease_owner`, `lease_until`): taken atomically
//! only when the row has no live lease, so at most one refresh per installation is
//! in flight across every process sharing the store; a crashed refresher's lease
//! simply expires. [`TokenStore::complete`] writes the provider's answer and drops
//! the lease in one atomic step, and only if the lease is still the caller's and the
//! row's generation is the one it claimed.

use core::fmt;
use core::future::Future;
use core::time::Duration;

use super::installation::{Installation, InstallationKey};

/// The schema version the stores create and migrate to.
pub const SCHEMA_VERSION: i64 = 1;

/// An installation as stored, with the row's generation (bumped by every write of
/// its tokens or status) and the precise expiry of the token handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The installation.
    pub installation: Installation,
    /// The row's generation.
    pub generation: i64,
    /// When the access token handed out expires, in Unix milliseconds (`None`: no
    /// known expiry).
    pub expires_ms: Option<i64>,
    /// Not before this time (Unix ms) may it be refreshed again (a 429's
    /// `Retry-After`).
    pub retry_at_ms: Option<i64>,
}

/// The result of a claim.
#[derive(Clone, Debug)]
pub enum Claim {
    /// The caller holds the lease; the row as it is now.
    Claimed(Box<Stored>),
    /// Another owner holds a live lease until this time (Unix ms).
    Busy {
        /// When that lease ends.
        until_ms: i64,
    },
    /// No such installation.
    Missing,
}

/// What ends a claim.
#[derive(Clone, Debug)]
pub enum Completion {
    /// The provider answered with tokens: the new installation (its token set, status
    /// active) and the precise expiry of the access token handed out.
    Refreshed {
        /// The updated installation.
        installation: Box<Installation>,
        /// See [`Stored::expires_ms`].
        expires_ms: Option<i64>,
        /// Not before (Unix ms): a later token of the set was rate limited after this
        /// one was refreshed, and its refresh waits for the provider's `Retry-After`.
        retry_at_ms: Option<i64>,
    },
    /// The provider refused the refresh token: the installation needs a person.
    NeedsReauthorization {
        /// The provider's code.
        reason: String,
    },
    /// Nothing changed (a transport failure, a rate limit): the lease is dropped;
    /// `retry_at_ms` defers the next refresh.
    Release {
        /// Not before (Unix ms).
        retry_at_ms: Option<i64>,
    },
}

/// Whether a completion was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Committed {
    /// Written, lease dropped.
    Yes,
    /// The lease was no longer the caller's (it expired and another owner took it, or
    /// the row changed): nothing written.
    LeaseLost,
}

/// A store failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    Backend(Box<dyn core::error::Error + Send + Sync>),
    /// A row could not be read back (a corrupt token set or key).
    Corrupt(String),
    /// The database's schema is newer than this build knows.
    SchemaTooNew(i64),
    /// The connection string asks for no TLS (`sslmode=disable`) to a host that is
    /// neither a Unix socket nor a loopback address: refused before connecting, as
    /// the tokens and the database password would cross the network in clear text.
    TlsRequired {
        /// The host (or `hostaddr`) that is not local.
        host: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backend(e) => {
                // The causes too: "error performing TLS handshake" alone does not say
                // which certificate was refused, or why.
                write!(f, "token store: {e}")?;
                let mut cause = e.source();
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                Ok(())
            }
            Self::Corrupt(what) => write!(f, "token store: corrupt row: {what}"),
            Self::SchemaTooNew(v) => write!(
                f,
                "token store: schema version {v} is newer than this build's {SCHEMA_VERSION}"
            ),
            Self::TlsRequired { host } => write!(
                f,
                "token store: sslmode=disable refused for {host}: TLS is required for a \
                 PostgreSQL host other than a Unix socket or loopback"
            ),
        }
    }
}

impl core::error::Error for StoreError {}

/// A database failure as a [`StoreError`].
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn backend(e: impl core::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Where installations live. Implemented by the SQLite store (feature `sqlite`) and
/// the PostgreSQL store (feature `postgres`).
///
/// Secrets are stored as given (the core's token-set encoding in a binary column),
/// not sealed: protect the database file or server as you protect the client secret.
pub trait TokenStore: Send + Sync + 'static {
    /// Inserts or replaces an installation (a new install or a re-install): status,
    /// tokens and facts are written, the generation bumped, any lease dropped.
    fn put(
        &self,
        installation: &Installation,
        expires_ms: Option<i64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The installation under `key`.
    fn get(
        &self,
        key: &InstallationKey,
    ) -> impl Future<Output = Result<Option<Stored>, StoreError>> + Send;

    /// Every installation, ordered by key.
    fn list(&self) -> impl Future<Output = Result<Vec<Stored>, StoreError>> + Send;

    /// Up to `limit` active installations whose handed-out token expires before
    /// `before_ms` (Unix ms), not leased and not deferred, soonest first.
    fn due(
        &self,
        before_ms: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<InstallationKey>, StoreError>> + Send;

    /// Takes the lease on `key` for `lease` if no live lease is held (by anyone: the
    /// same owner's second claim is refused too, so it cannot refresh twice at once).
    fn claim(
        &self,
        key: &InstallationKey,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Ends the caller's claim on `key` taken at `generation`: writes `completion` and
    /// drops the lease in one atomic step.
    fn complete(
        &self,
        key: &InstallationKey,
        owner: &str,
        generation: i64,
        completion: Completion,
    ) -> impl Future<Output = Result<Committed, StoreError>> + Send;

    /// Database round trips made so far (for the benchmark).
    fn round_trips(&self) -> u64;
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// `d` in whole milliseconds, as the stores keep times (`i64::MAX` past that).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Unix seconds (a token set's expiry) in Unix milliseconds, `i64::MAX` past that: a
/// provider's huge `expires_in` saturates rather than overflowing.
pub(crate) fn secs_to_ms(s: u64) -> i64 {
    millis(Duration::from_secs(s))
}
