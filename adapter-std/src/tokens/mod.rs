//! Keeping installations alive on servers (feature `tokens`): installations keyed as
//! Slack keys them or by a caller's key, a [`TokenStore`] (SQLite with feature
//! `sqlite`, PostgreSQL with feature `postgres`), and a [`TokenManager`] that hands
//! out access tokens valid for at least a leeway with at most one refresh per
//! installation in flight across every process sharing the store.
//!
//! Secrets are stored as given (not sealed by a key): the token set is the core's
//! versioned encoding ([`picoauth::token_set`]) in a binary column.

mod counters;
mod installation;
mod manager;
#[cfg(feature = "postgres")]
mod postgres;
mod refusal;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod row;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use counters::CounterSnapshot;
pub use installation::{
    InstallError, Installation, InstallationInfo, InstallationKey, KeyError, Status, MAX_CALLER_KEY,
};
pub use manager::{ManagerConfig, ManagerError, ProviderSettings, TokenManager};
#[cfg(feature = "postgres")]
pub use postgres::{connect_postgres, PostgresStore};
pub use refusal::{classify, Refusal, REAUTHORIZATION_CODES};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::{
    now_ms, Claim, Committed, Completion, StoreError, Stored, TokenStore, SCHEMA_VERSION,
};

/// The token set as servers store it: 1 KiB per token (room for JWT access tokens),
/// 1 KiB of scope.
pub type StoredTokenSet = picoauth::token_set::TokenSet<1024, 1024>;
