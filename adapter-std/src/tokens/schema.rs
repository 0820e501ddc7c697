//! The table both SQL stores keep, written once: its migrations (in each database's
//! names for the two column types that differ), the plan that brings a schema up to
//! [`SCHEMA_VERSION`], and the columns a row is read back from.

use super::store::{StoreError, SCHEMA_VERSION};

/// The columns [`super::row::decode`] takes, in its order.
pub(crate) const COLUMNS: &str =
    "key, provider, info, status, reason, tokens, generation, expires_ms, retry_at_ms";

/// A database's names for the column types the stores' dialects spell differently.
#[derive(Clone, Copy)]
pub(crate) struct Types {
    /// Bytes (the token set).
    pub(crate) bytes: &'static str,
    /// A 64-bit integer (the generation and the Unix-ms times).
    pub(crate) integer: &'static str,
}

/// The migrations, in order, in `types`; entry `n` takes the schema from version `n`
/// to `n + 1`.
fn migrations(types: Types) -> [String; 1] {
    let Types {
        bytes,
        integer: int,
    } = types;
    [format!(
        "CREATE TABLE picoauth_installations (
        key TEXT PRIMARY KEY NOT NULL,
        provider TEXT NOT NULL,
        info TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        tokens {bytes} NOT NULL,
        generation {int} NOT NULL,
        expires_ms {int},
        due_ms {int},
        retry_at_ms {int},
        lease_owner TEXT,
        lease_until_ms {int},
        updated_ms {int} NOT NULL
    );
    CREATE INDEX picoauth_installations_due ON picoauth_installations (status, due_ms);"
    )]
}

/// The migrations a schema at version `current` still needs, in `types`, each with
/// the version it leads to, in order.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] when `current` is newer than this build.
pub(crate) fn pending(current: i64, types: Types) -> Result<Vec<(i64, String)>, StoreError> {
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew(current));
    }
    Ok((1..)
        .zip(migrations(types))
        .skip(usize::try_from(current).unwrap_or(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: Types = Types {
        bytes: "BLOB",
        integer: "INTEGER",
    };

    #[test]
    fn one_migration_per_version() {
        assert_eq!(
            migrations(TYPES).len(),
            usize::try_from(SCHEMA_VERSION).unwrap()
        );
    }

    #[test]
    fn pending_starts_after_current() {
        let all = pending(0, TYPES).unwrap();
        assert_eq!(all.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [1]);
        assert!(all[0].1.contains("tokens BLOB NOT NULL"));
        assert!(pending(SCHEMA_VERSION, TYPES).unwrap().is_empty());
        assert!(matches!(
            pending(SCHEMA_VERSION + 1, TYPES),
            Err(StoreError::SchemaTooNew(v)) if v == SCHEMA_VERSION + 1
        ));
    }
}
