//! The owned token-set model shared by servers and firmware (feature `token-set`).
//!
//! A [`TokenSet`] is what an installation keeps between exchanges: up to two
//! [`Credential`]s (Slack's bot and user tokens are kept apart, see [`Slot`]), each
//! with absolute expiries, built from an answer read at a given time
//! ([`TokenSet::from_outcome`]), updated by a refresh answer ([`TokenSet::apply`]),
//! asked whether it needs a refresh ([`TokenSet::needs_refresh`]), and able to make
//! the refresh request ([`TokenSet::refresh_request`]). Strings are fixed-capacity
//! (`heapless`), so it needs no heap; a string over its capacity is a typed
//! [`TokenSetError::Capacity`]. [`TokenSet::encode`] / [`TokenSet::decode`] give a
//! versioned binary encoding (`serde` + `postcard`) for a file, a database row or
//! flash. `Debug` never shows a token.
//!
//! ```
//! use picoauth::exchange::Token;
//! use picoauth::json::pinterest::{self, Pinterest};
//! use picoauth::token_set::{Slot, TokenSet};
//!
//! let code = br#"{"access_token":"pina_1","refresh_token":"pinr_1","expires_in":60,"scope":"pins:read"}"#;
//! let Pinterest::Token(t) = pinterest::parse(code).unwrap() else { panic!() };
//! let mut set: TokenSet = TokenSet::from_token(&Token::Pinterest(t), 1_000).unwrap();
//! assert_eq!(set.needs_refresh(1_000, 30), None);
//! assert_eq!(set.needs_refresh(1_031, 30), Some(Slot::Main));
//! // A refresh answer without `refresh_token`: the old one stays.
//! let Pinterest::Token(t) = pinterest::parse(br#"{"access_token":"pina_2","expires_in":60}"#).unwrap() else { panic!() };
//! set.apply(&Token::Pinterest(t), 1_040).unwrap();
//! let main = set.credential(Slot::Main).unwrap();
//! assert_eq!(main.access_token.expose(), "pina_2");
//! assert_eq!(main.refresh_token.as_ref().unwrap().expose(), "pinr_1");
//! assert_eq!(main.scope, "pins:read");
//! ```

use core::fmt;

use serde::{Deserialize, Serialize};

mod answer;
mod codec;
mod credential;
mod error;
mod secret_text;

pub use codec::VERSION;
pub use credential::{Credential, TOKEN_TYPE_CAPACITY};
pub use error::{CodecError, Field, TokenSetError};
pub use secret_text::SecretText;

use crate::exchange::{Outcome, Token};
use crate::provider::{Provider, ProviderKind};
use crate::request::{ClientAuth, Grant, TokenRequest};

/// The default capacity of each token, in bytes (Slack and Pinterest tokens are a
/// few hundred bytes at most; a large JWT access token needs a bigger `T`).
pub const DEFAULT_TOKEN_CAPACITY: usize = 512;

/// The default capacity of the scope, in bytes.
pub const DEFAULT_SCOPE_CAPACITY: usize = 512;

/// Which credential of a token set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Slot {
    /// The token of a Pinterest or RFC 6749 answer; Slack's top-level (bot) token.
    Main,
    /// Slack's user token: `authed_user`, or a top-level token whose `token_type` is
    /// `user`.
    User,
}

impl Slot {
    /// Both slots, in order.
    pub const ALL: [Self; 2] = [Self::Main, Self::User];

    const fn index(self) -> usize {
        match self {
            Self::Main => 0,
            Self::User => 1,
        }
    }

    /// `main` or `user`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::User => "user",
        }
    }
}

/// An installation's tokens, owned, with fixed capacities: `T` bytes per token, `S`
/// bytes of scope per credential. Never empty: at least one credential is present.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet<
    const T: usize = DEFAULT_TOKEN_CAPACITY,
    const S: usize = DEFAULT_SCOPE_CAPACITY,
> {
    #[serde(with = "codec::kind")]
    provider: ProviderKind,
    credentials: [Option<Credential<T, S>>; 2],
}

impl<const T: usize, const S: usize> TokenSet<T, S> {
    /// The token set in a provider's answer read at `now` (seconds).
    ///
    /// # Errors
    /// [`TokenSetError::NotAToken`] for a refusal, a rate limit or an HTTP error;
    /// as [`from_token`](Self::from_token) otherwise.
    pub fn from_outcome(outcome: &Outcome<'_>, now: u64) -> Result<Self, TokenSetError> {
        match outcome {
            Outcome::Token { token, .. } => Self::from_token(token, now),
            _ => Err(TokenSetError::NotAToken),
        }
    }

    /// The token set in a token body read at `now` (seconds).
    ///
    /// # Errors
    /// [`TokenSetError::NoAccessToken`] when it carries no access token;
    /// [`TokenSetError::Capacity`] when a string does not fit.
    pub fn from_token(token: &Token<'_>, now: u64) -> Result<Self, TokenSetError> {
        let mut credentials = [None, None];
        for (slot, incoming) in credentials.iter_mut().zip(answer::credentials(token)) {
            if let Some(i) = incoming {
                *slot = Some(Credential::from_incoming(&i, now)?);
            }
        }
        if credentials.iter().all(Option::is_none) {
            return Err(TokenSetError::NoAccessToken);
        }
        Ok(Self {
            provider: kind_of(token),
            credentials,
        })
    }

    /// Applies a refresh answer read at `now`: each credential it carries replaces the
    /// one in its slot, keeping the old refresh token (and its expiry), scope and type
    /// where the answer has none; the other slot is untouched. On error the set is
    /// unchanged.
    ///
    /// # Errors
    /// [`TokenSetError::ProviderMismatch`] for an answer of another provider kind; as
    /// [`from_token`](Self::from_token) otherwise.
    pub fn apply(&mut self, token: &Token<'_>, now: u64) -> Result<(), TokenSetError> {
        if kind_of(token) != self.provider {
            return Err(TokenSetError::ProviderMismatch);
        }
        let incoming = Self::from_token(token, now)?;
        for (old, new) in self.credentials.iter_mut().zip(incoming.credentials) {
            if let Some(new) = new {
                *old = Some(match old {
                    Some(o) => o.updated_by(new),
                    None => new,
                });
            }
        }
        Ok(())
    }

    /// The provider kind whose answer this came from.
    pub const fn provider(&self) -> ProviderKind {
        self.provider
    }

    /// The credential in `slot`.
    pub fn credential(&self, slot: Slot) -> Option<&Credential<T, S>> {
        self.credentials[slot.index()].as_ref()
    }

    /// The first credential that should be refreshed at `now`: it has a refresh token
    /// and its access token expires within `leeway` seconds (or has expired).
    pub fn needs_refresh(&self, now: u64, leeway: u64) -> Option<Slot> {
        Slot::ALL.into_iter().find(|&s| {
            self.credential(s)
                .is_some_and(|c| c.needs_refresh(now, leeway))
        })
    }

    /// The earliest access-token expiry among the credentials that can be refreshed.
    pub fn next_refresh_due(&self) -> Option<u64> {
        self.credentials
            .iter()
            .flatten()
            .filter(|c| c.refresh_token.is_some())
            .filter_map(|c| c.access_expires_at)
            .min()
    }

    /// The refresh request for the credential in `slot`, at `provider` with `auth`.
    ///
    /// # Errors
    /// [`TokenSetError::ProviderMismatch`] when `provider` is of another kind;
    /// [`TokenSetError::NoRefreshToken`] when the slot is empty or has no refresh
    /// token.
    pub fn refresh_request<'a>(
        &'a self,
        slot: Slot,
        provider: &Provider<'a>,
        auth: ClientAuth<'a>,
    ) -> Result<TokenRequest<'a>, TokenSetError> {
        if provider.kind != self.provider {
            return Err(TokenSetError::ProviderMismatch);
        }
        let refresh = self
            .credential(slot)
            .and_then(|c| c.refresh_token.as_ref())
            .ok_or(TokenSetError::NoRefreshToken)?;
        Ok(TokenRequest::new(
            provider,
            auth,
            Grant::refresh_token(refresh.expose()),
        ))
    }
}

fn kind_of(token: &Token<'_>) -> ProviderKind {
    match token {
        Token::SlackV2(_) => ProviderKind::SlackV2,
        Token::SlackV1(_) => ProviderKind::SlackV1,
        Token::Pinterest(_) => ProviderKind::Pinterest,
        Token::Rfc6749(_) => ProviderKind::Rfc6749,
    }
}

impl<const T: usize, const S: usize> fmt::Debug for TokenSet<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("provider", &self.provider)
            .field("main", &self.credentials[0])
            .field("user", &self.credentials[1])
            .finish()
    }
}

#[cfg(test)]
mod tests;
