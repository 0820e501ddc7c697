//! One credential: an access token with its refresh token, absolute expiries, scope
//! and type.

use serde::{Deserialize, Serialize};

use super::error::{Field, TokenSetError};
use super::secret_text::{copy_json, SecretText};
use crate::json::{AccessToken, JsonStr, RefreshToken};

/// The capacity of `token_type` (`bearer`, `bot`, `user`, `DPoP`, …).
pub const TOKEN_TYPE_CAPACITY: usize = 32;

/// One access token and what belongs to it. Times are seconds on the caller's clock
/// (Unix time for anything stored), absolute: `expires_in` is added to the `now` the
/// answer was read at.
///
/// `T` is the capacity of each token in bytes, `S` that of the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential<const T: usize, const S: usize> {
    /// The access token.
    pub access_token: SecretText<T>,
    /// The refresh token, when there is one.
    pub refresh_token: Option<SecretText<T>>,
    /// When the access token expires; `None` when the provider gave no lifetime.
    pub access_expires_at: Option<u64>,
    /// When the refresh token expires, when the provider said (Pinterest).
    pub refresh_expires_at: Option<u64>,
    /// The granted scope, as the provider wrote it (empty when it sent none).
    pub scope: heapless::String<S>,
    /// `token_type` as the provider wrote it (empty when it sent none).
    pub token_type: heapless::String<TOKEN_TYPE_CAPACITY>,
}

/// The fields of one credential in a token body, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct Incoming<'b> {
    pub(crate) access_token: AccessToken<'b>,
    pub(crate) refresh_token: Option<RefreshToken<'b>>,
    pub(crate) expires_in: Option<u64>,
    pub(crate) refresh_expires_in: Option<u64>,
    pub(crate) refresh_expires_at: Option<u64>,
    pub(crate) scope: Option<JsonStr<'b>>,
    pub(crate) token_type: Option<JsonStr<'b>>,
}

impl<'b> Incoming<'b> {
    /// An access token with its scope and type, nothing about its expiry or a
    /// refresh token (set those fields on top).
    pub(crate) const fn new(
        access_token: AccessToken<'b>,
        scope: Option<JsonStr<'b>>,
        token_type: Option<JsonStr<'b>>,
    ) -> Self {
        Self {
            access_token,
            refresh_token: None,
            expires_in: None,
            refresh_expires_in: None,
            refresh_expires_at: None,
            scope,
            token_type,
        }
    }
}

impl<const T: usize, const S: usize> Credential<T, S> {
    /// Copies a credential out of a body read at `now`.
    pub(crate) fn from_incoming(i: &Incoming<'_>, now: u64) -> Result<Self, TokenSetError> {
        let refresh_token = match i.refresh_token {
            Some(r) => Some(SecretText::from_json(r.expose(), Field::RefreshToken)?),
            None => None,
        };
        let empty = JsonStr::from_validated("");
        Ok(Self {
            access_token: SecretText::from_json(i.access_token.expose(), Field::AccessToken)?,
            refresh_token,
            access_expires_at: i.expires_in.map(|s| now.saturating_add(s)),
            refresh_expires_at: i
                .refresh_expires_at
                .or_else(|| i.refresh_expires_in.map(|s| now.saturating_add(s))),
            scope: copy_json(i.scope.unwrap_or(empty), Field::Scope)?,
            token_type: copy_json(i.token_type.unwrap_or(empty), Field::TokenType)?,
        })
    }

    /// This credential updated by a newer one (a refresh answer): what the answer left
    /// out is kept — the refresh token (and its expiry), the scope, the type.
    pub(crate) fn updated_by(&self, mut new: Self) -> Self {
        if new.refresh_token.is_none() {
            new.refresh_token.clone_from(&self.refresh_token);
            new.refresh_expires_at = self.refresh_expires_at;
        }
        if new.scope.is_empty() {
            new.scope.clone_from(&self.scope);
        }
        if new.token_type.is_empty() {
            new.token_type.clone_from(&self.token_type);
        }
        new
    }

    /// Whether the access token is still good `leeway` seconds after `now` (always,
    /// when it has no known expiry).
    pub fn valid_for(&self, now: u64, leeway: u64) -> bool {
        self.access_expires_at
            .is_none_or(|at| now.saturating_add(leeway) < at)
    }

    /// Whether it should be refreshed now: it has a refresh token and its access token
    /// expires within `leeway` seconds of `now` (or has expired).
    pub fn needs_refresh(&self, now: u64, leeway: u64) -> bool {
        self.refresh_token.is_some() && !self.valid_for(now, leeway)
    }
}
