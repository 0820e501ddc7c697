//! One installation as a database row, shared by the SQLite and PostgreSQL stores.

use picoauth::provider::ProviderKind;

use super::installation::{Installation, InstallationInfo, InstallationKey, Status};
use super::store::{secs_to_ms, StoreError, Stored};
use super::StoredTokenSet;

/// The columns of an installation, encoded.
pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) provider: &'static str,
    pub(crate) info: String,
    pub(crate) status: &'static str,
    pub(crate) reason: Option<String>,
    pub(crate) tokens: Vec<u8>,
    /// When the access token handed out expires (Unix ms).
    pub(crate) expires_ms: Option<i64>,
    /// The earliest expiry (Unix ms) of a refreshable credential, for `due`.
    pub(crate) due_ms: Option<i64>,
}

/// The earliest expiry of a refreshable credential, in Unix ms: the precise expiry
/// of the token handed out when known, else the token set's own (seconds).
pub(crate) fn due_ms(i: &Installation, expires_ms: Option<i64>) -> Option<i64> {
    let secs = i.tokens.next_refresh_due().map(secs_to_ms);
    match (secs, expires_ms) {
        (Some(s), Some(e)) => Some(e.min(s.saturating_add(999))),
        (s, e) => s.or(e),
    }
}

impl Row {
    pub(crate) fn encode(i: &Installation, expires_ms: Option<i64>) -> Result<Self, StoreError> {
        let mut tokens = vec![0u8; i.tokens.encoded_len().map_err(corrupt)?];
        i.tokens.encode(&mut tokens).map_err(corrupt)?;
        let reason = match &i.status {
            Status::NeedsReauthorization { reason } => Some(reason.clone()),
            _ => None,
        };
        Ok(Self {
            key: i.key.store_key(),
            provider: i.provider.name(),
            info: serde_json::to_string(&i.info).map_err(corrupt)?,
            status: i.status.as_str(),
            reason,
            tokens,
            expires_ms,
            due_ms: due_ms(i, expires_ms),
        })
    }
}

fn corrupt(e: impl core::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// An installation key as stored.
pub(crate) fn key(stored: &str) -> Result<InstallationKey, StoreError> {
    InstallationKey::parse(stored).map_err(corrupt)
}

/// The provider kind from its stored name.
pub(crate) fn provider(name: &str) -> Result<ProviderKind, StoreError> {
    [
        ProviderKind::SlackV2,
        ProviderKind::SlackV1,
        ProviderKind::Pinterest,
        ProviderKind::Rfc6749,
    ]
    .into_iter()
    .find(|k| k.name() == name)
    .ok_or_else(|| StoreError::Corrupt(format!("provider {name:?}")))
}

/// The stored columns read back.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode(
    key: &str,
    provider_name: &str,
    info: &str,
    status: &str,
    reason: Option<String>,
    tokens: &[u8],
    generation: i64,
    expires_ms: Option<i64>,
    retry_at_ms: Option<i64>,
) -> Result<Stored, StoreError> {
    let key = self::key(key)?;
    let info: InstallationInfo = serde_json::from_str(info).map_err(corrupt)?;
    let status = match status {
        "active" => Status::Active,
        "needs_reauthorization" => Status::NeedsReauthorization {
            reason: reason.unwrap_or_default(),
        },
        other => return Err(StoreError::Corrupt(format!("status {other:?}"))),
    };
    let tokens = StoredTokenSet::decode(tokens).map_err(corrupt)?;
    Ok(Stored {
        installation: Installation {
            key,
            provider: provider(provider_name)?,
            info,
            status,
            tokens,
        },
        generation,
        expires_ms,
        retry_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::installation::tests::rfc6749_installation;

    #[test]
    fn a_huge_expires_in_saturates_the_due_time() {
        // 10^17 s fits the token set's seconds and `i64`, not `i64` milliseconds.
        let i = rfc6749_installation(100_000_000_000_000_000, 1_700_000_000);
        assert_eq!(due_ms(&i, None), Some(i64::MAX));
        assert_eq!(due_ms(&i, Some(5)), Some(5));
        let normal = rfc6749_installation(60, 1_700_000_000);
        assert_eq!(due_ms(&normal, None), Some(1_700_000_060_000));
        assert_eq!(due_ms(&normal, Some(i64::MAX)), Some(1_700_000_060_999));
    }
}
