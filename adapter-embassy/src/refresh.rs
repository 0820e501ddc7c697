//! The refresh loop (feature `persist`): an access token that is always good for the
//! leeway, refreshed ahead of expiry, with every rotated refresh token on flash before
//! the new access token is used.
//!
//! [`RefreshLoop::access_token`] returns the stored access token while it is valid for
//! at least the leeway; otherwise it refreshes first, over any [`Transport`]
//! ([`EmbassyNet`](crate::EmbassyNet) on a device). The order of a refresh is fixed by
//! [`OnAnswer`]: as soon as the provider's answer is complete and parsed, and before
//! `close_notify`, the TCP FIN or anything else, [`TokenStore::apply_refresh`] writes
//! the new token set to flash; only after that write has returned is the new access
//! token handed out.
//!
//! # The window
//!
//! One interval cannot be closed by the device alone: from the moment the last byte
//! of the refresh request has left (the provider may now rotate, killing the old
//! refresh token) until the flash write of the answer has returned. It lasts one
//! network round trip plus the provider's processing, the TLS decryption and parsing
//! of the answer (microseconds to milliseconds), and one flash write of the token set
//! (a few hundred bytes: a few ms of word programming, more if a page must be erased
//! first). Nothing else (no close, no logging of the answer) runs inside it. A device
//! that loses power there comes back with the old refresh token, which the provider
//! refuses (`invalid_refresh_token` / `invalid_grant`): the loop then reports
//! [`RefreshError::NeedsReauthorization`] on that first refresh, remembers it on flash,
//! and never presents that token again.
//!
//! # Refusals
//!
//! - A refusal that needs a person ([`Reauthorization`]: `invalid_grant`,
//!   `invalid_refresh_token`, `token_revoked`, `token_expired`, `invalid_auth`,
//!   `account_inactive`, `app_uninstalled`, Pinterest's 400 about the refresh token)
//!   makes the loop [`State::NeedsReauthorization`]: every later call returns the same
//!   error without touching the network. It is stored on flash ([`REFUSAL_KEY`]) with a
//!   fingerprint (SHA-256 prefix) of the refused refresh token, so it survives a
//!   reboot; a newly provisioned token set (another refresh token) is not affected.
//! - HTTP 429 (or Slack's `ratelimited`) gives [`RefreshError::RateLimited`] with the
//!   provider's `Retry-After` (or [`DEFAULT_RETRY_AFTER_SECS`] without one); calls
//!   before that time return the remaining wait without touching the network. The
//!   wait is kept in RAM only: after a reboot one request may go out early.
//! - A failed flash write of a refresh answer: the provider has rotated already, so
//!   the answer is kept in RAM ([`RefreshLoop::has_unsaved_answer`]) and nothing is
//!   handed out; every later call writes it first (no new exchange) and hands it out
//!   once that write succeeds. A power cut before then loses the installation. A
//!   working buffer too small for the answer's encoding is such a failed write
//!   ([`PersistError::BufferTooSmall`] with the size needed): the set is there to copy
//!   out of [`RefreshLoop::token_set`] and save with a larger buffer.
//! - A provider of another kind than the token set's is refused before the refresh
//!   token is sent: its answer could not be applied.
//! - Transport failures (timeouts included: every exchange is bounded by
//!   [`Timeouts::total`](crate::Timeouts::total)) and other refusals are returned as
//!   they are; the caller waits before trying again.
//!
//! [`TokenStore::apply_refresh`]: crate::persist::TokenStore::apply_refresh
//! [`REFUSAL_KEY`]: crate::persist::REFUSAL_KEY

use core::fmt;
use core::marker::PhantomData;

use embedded_storage_async::nor_flash::NorFlash;
use picoauth::exchange::{Answer, Outcome, ProviderError};
use picoauth::json::rfc6749::Rfc6749ErrorCode;
use picoauth::json::slack::SlackErrorCode;
use picoauth::json::JsonStr;
use picoauth::provider::Provider;
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::token_set::{Credential, SecretText, Slot, TokenSet, TokenSetError};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroize as _;

use crate::config::{UnixClock, EARLIEST_CLOCK_TIME};
use crate::error::Error;
use crate::exchange::OnAnswer;
use crate::persist::{PersistError, TokenStore};
use crate::transport::Transport;

/// The wait after a 429 that named no `Retry-After`, in seconds.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

/// Bytes of the refused refresh token's SHA-256 kept in the refusal record.
const FINGERPRINT_LEN: usize = 16;
/// The refusal record: version, reason, fingerprint.
const RECORD_LEN: usize = 2 + FINGERPRINT_LEN;
const RECORD_VERSION: u8 = 1;

/// Why the installation needs a person to authorize the app again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Reauthorization {
    /// `invalid_grant` (RFC 6749; Slack's RFC-shaped refresh error): the refresh
    /// token is unknown, used, expired or revoked.
    InvalidGrant,
    /// Slack `invalid_refresh_token`: used or unknown (with rotation, a token
    /// presented twice).
    InvalidRefreshToken,
    /// Slack `token_revoked`.
    TokenRevoked,
    /// Slack `token_expired`.
    TokenExpired,
    /// Slack `invalid_auth`.
    InvalidAuth,
    /// Slack `account_inactive`.
    AccountInactive,
    /// Slack `app_uninstalled`.
    AppUninstalled,
    /// Pinterest's 400 whose message is about the refresh token.
    RefreshTokenRefused,
    /// The access token expired and the token set holds no refresh token.
    NoRefreshToken,
}

impl Reauthorization {
    const ALL: [Self; 9] = [
        Self::InvalidGrant,
        Self::InvalidRefreshToken,
        Self::TokenRevoked,
        Self::TokenExpired,
        Self::InvalidAuth,
        Self::AccountInactive,
        Self::AppUninstalled,
        Self::RefreshTokenRefused,
        Self::NoRefreshToken,
    ];

    /// The provider's code (or a short description).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::TokenRevoked => "token_revoked",
            Self::TokenExpired => "token_expired",
            Self::InvalidAuth => "invalid_auth",
            Self::AccountInactive => "account_inactive",
            Self::AppUninstalled => "app_uninstalled",
            Self::RefreshTokenRefused => "refresh token refused",
            Self::NoRefreshToken => "no refresh token",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The reason a provider's error code that the core does not list names (Slack's
    /// and RFC 6749's `Other` codes); never [`Self::RefreshTokenRefused`], which is
    /// Pinterest's message, not a code.
    fn from_other_code(code: JsonStr<'_>) -> Option<Self> {
        code.as_plain()
            .and_then(Self::from_code)
            .filter(|r| *r != Self::RefreshTokenRefused)
    }

    const fn to_byte(self) -> u8 {
        self as u8 + 1
    }

    fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.to_byte() == b)
    }
}

impl fmt::Display for Reauthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a refresh answer that is not a token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refusal {
    /// A person must authorize the app again; retrying cannot help.
    NeedsReauthorization(Reauthorization),
    /// HTTP 429 or Slack `ratelimited`: wait this many seconds.
    RateLimited {
        /// The provider's `Retry-After`, or [`DEFAULT_RETRY_AFTER_SECS`].
        retry_after_secs: u64,
    },
    /// Anything else (a client misconfiguration, a 5xx): try again later.
    Other {
        /// The HTTP status.
        status: u16,
    },
}

/// Classifies a refresh answer read at `now` (Unix seconds); `None` for a token.
///
/// Uses the core's typed codes: [`SlackErrorCode`], RFC 6749's [`Rfc6749ErrorCode`], and
/// for Pinterest (which names no code for a dead refresh token) a 400 whose message
/// names the refresh token.
pub fn classify(outcome: &Outcome<'_>, now: u64) -> Option<Refusal> {
    match outcome {
        Outcome::Token { .. } => None,
        Outcome::RateLimited { retry_after, .. } => Some(Refusal::RateLimited {
            retry_after_secs: retry_after.map_or(DEFAULT_RETRY_AFTER_SECS, |r| r.delay_secs(now)),
        }),
        Outcome::Error { status, error } => {
            let reason = match error {
                ProviderError::Slack(e) => match e.code {
                    SlackErrorCode::InvalidRefreshToken => {
                        Some(Reauthorization::InvalidRefreshToken)
                    }
                    SlackErrorCode::InvalidGrant => Some(Reauthorization::InvalidGrant),
                    SlackErrorCode::InvalidAuth => Some(Reauthorization::InvalidAuth),
                    SlackErrorCode::Other(code) => Reauthorization::from_other_code(code),
                    _ => None,
                },
                ProviderError::Rfc6749(e) => match e.code {
                    Rfc6749ErrorCode::InvalidGrant => Some(Reauthorization::InvalidGrant),
                    Rfc6749ErrorCode::Other(code) => Reauthorization::from_other_code(code),
                    _ => None,
                },
                ProviderError::Pinterest(e) => (*status == 400
                    && contains_ignore_case(e.message.raw(), "refresh token"))
                .then_some(Reauthorization::RefreshTokenRefused),
                _ => None,
            };
            Some(reason.map_or(Refusal::Other { status: *status }, |r| {
                Refusal::NeedsReauthorization(r)
            }))
        }
        other => Some(Refusal::Other {
            status: other.status(),
        }),
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Where the loop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum State {
    /// Tokens are refreshed when needed.
    Active,
    /// The provider asked to wait until this Unix time before the next refresh.
    RateLimited {
        /// Unix seconds.
        until: u64,
    },
    /// A person must authorize the app again (sticky, also across reboots).
    NeedsReauthorization(Reauthorization),
}

/// Why no access token could be returned.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum RefreshError {
    /// The provider refused the refresh token for good (now, or before a reboot):
    /// nothing will be sent until a new token set is provisioned.
    NeedsReauthorization(Reauthorization),
    /// Rate limited: nothing will be sent for this many seconds.
    RateLimited {
        /// Seconds left to wait.
        retry_after_secs: u64,
    },
    /// The provider refused the refresh for another reason (see [`Refusal::Other`]).
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// The exchange failed (DNS, TCP, TLS, a timeout or the overall deadline, a
    /// malformed answer).
    Transport(Error),
    /// Flash failed, or the answer does not fit the token set: the new tokens were
    /// not stored, and not handed out. Also a provider of another kind than the token
    /// set's (`TokenSet(ProviderMismatch)`), refused before anything is sent.
    Persist(PersistError),
    /// The slot asked for holds no credential.
    NoCredential(Slot),
    /// Flash holds no token set: provision one first.
    NoTokenSet,
    /// The wall clock reads before [`EARLIEST_CLOCK_TIME`]: it is not set yet (no
    /// SNTP answer, an RTC without its battery). Nothing is handed out or sent until
    /// it is; expiry cannot be judged without it.
    ClockNotSet {
        /// What the clock read, in Unix seconds.
        now: u64,
    },
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NeedsReauthorization(r) => write!(f, "installation needs reauthorization ({r})"),
            Self::RateLimited { retry_after_secs } => {
                write!(f, "rate limited: retry after {retry_after_secs} s")
            }
            Self::Refused { status } => write!(f, "refresh refused (HTTP {status})"),
            Self::Transport(e) => write!(f, "refresh exchange failed: {e}"),
            Self::Persist(e) => write!(f, "refresh answer not persisted: {e}"),
            Self::NoCredential(slot) => write!(f, "no {} credential", slot.as_str()),
            Self::NoTokenSet => f.write_str("no token set on flash"),
            Self::ClockNotSet { now } => {
                write!(f, "wall clock not set (reads {now} s since 1970)")
            }
        }
    }
}

impl core::error::Error for RefreshError {}

impl From<PersistError> for RefreshError {
    fn from(e: PersistError) -> Self {
        Self::Persist(e)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for RefreshError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::NeedsReauthorization(r) => defmt::write!(f, "NeedsReauthorization({})", r),
            Self::RateLimited { retry_after_secs } => {
                defmt::write!(f, "RateLimited({=u64} s)", retry_after_secs)
            }
            Self::Refused { status } => defmt::write!(f, "Refused({=u16})", status),
            Self::Transport(e) => defmt::write!(f, "Transport({})", e),
            Self::Persist(e) => defmt::write!(f, "Persist({})", e),
            Self::NoCredential(s) => defmt::write!(f, "NoCredential({})", s),
            Self::NoTokenSet => defmt::write!(f, "NoTokenSet"),
            Self::ClockNotSet { now } => defmt::write!(f, "ClockNotSet({=u64} s)", now),
        }
    }
}

/// The refresh loop over a [`TokenStore`]: see the [module docs](self).
///
/// `C` is the wall clock (token expiries are Unix seconds); `T` and `S` the token
/// set's capacities. `work` is the flash map's working buffer
/// ([`persist::buffer_len`](crate::persist::buffer_len) of the encoded set; size it for
/// the longest tokens and scope a refresh may bring, up to `T` and `S`).
pub struct RefreshLoop<'a, F: NorFlash, C: UnixClock, const T: usize, const S: usize> {
    store: &'a mut TokenStore<F>,
    set: TokenSet<T, S>,
    provider: &'a Provider<'a>,
    auth: ClientAuth<'a>,
    leeway: u64,
    work: &'a mut [u8],
    state: State,
    /// The set in RAM holds a refresh answer that could not be written to flash.
    unsaved: bool,
    clock: PhantomData<fn() -> C>,
}

impl<F: NorFlash, C: UnixClock, const T: usize, const S: usize> fmt::Debug
    for RefreshLoop<'_, F, C, T, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshLoop")
            .field("set", &self.set)
            .field("leeway", &self.leeway)
            .field("state", &self.state)
            .field("unsaved", &self.unsaved)
            .finish_non_exhaustive()
    }
}

impl<'a, F: NorFlash, C: UnixClock, const T: usize, const S: usize> RefreshLoop<'a, F, C, T, S> {
    /// Boots the loop: reads the token set from `store`, and the refusal record, so an
    /// installation refused before a reboot stays [`State::NeedsReauthorization`].
    /// Refreshes go to `provider` with `auth`; an access token is refreshed once it
    /// expires within `leeway` seconds.
    ///
    /// # Errors
    /// [`RefreshError::NoTokenSet`] when flash holds none (provision first);
    /// [`RefreshError::Persist`] when flash fails or does not decode.
    pub async fn open(
        store: &'a mut TokenStore<F>,
        provider: &'a Provider<'a>,
        auth: ClientAuth<'a>,
        leeway: u64,
        work: &'a mut [u8],
    ) -> Result<Self, RefreshError> {
        let set: TokenSet<T, S> = store.load(work).await?.ok_or(RefreshError::NoTokenSet)?;
        let mut record = [0u8; RECORD_LEN];
        let state = match store.load_refusal(&mut record, work).await? {
            Some(RECORD_LEN) if record[0] == RECORD_VERSION => {
                let refused = Slot::ALL.into_iter().any(|slot| {
                    set.credential(slot)
                        .and_then(|c| c.refresh_token.as_ref())
                        .is_some_and(|r| fingerprint(r.expose()) == record[2..])
                });
                match Reauthorization::from_byte(record[1]) {
                    Some(reason) if refused => State::NeedsReauthorization(reason),
                    _ => State::Active,
                }
            }
            _ => State::Active,
        };
        Ok(Self {
            store,
            set,
            provider,
            auth,
            leeway,
            work,
            state,
            unsaved: false,
            clock: PhantomData,
        })
    }

    /// Where the loop stands.
    pub const fn state(&self) -> State {
        self.state
    }

    /// The token set as on flash.
    pub const fn token_set(&self) -> &TokenSet<T, S> {
        &self.set
    }

    /// Whether the set in RAM holds a refresh answer whose flash write failed. The
    /// provider has already rotated: the answer exists only in RAM, and nothing is
    /// handed out until a later call has written it (each call tries first, with no
    /// new exchange). A power cut before that loses the installation.
    pub const fn has_unsaved_answer(&self) -> bool {
        self.unsaved
    }

    /// The leeway in seconds.
    pub const fn leeway(&self) -> u64 {
        self.leeway
    }

    /// The Unix time at which [`access_token`](Self::access_token) will next need the
    /// network: the earliest refreshable expiry minus the leeway, or the end of a rate
    /// limit. `None` when nothing will ever be refreshed (no expiry, or the
    /// installation needs reauthorization). Sleep until then, by a wall clock that is
    /// set: before [`EARLIEST_CLOCK_TIME`] the loop answers
    /// [`RefreshError::ClockNotSet`].
    pub fn refresh_due_at(&self) -> Option<u64> {
        match self.state {
            State::NeedsReauthorization(_) => None,
            State::RateLimited { until } => Some(until),
            State::Active => self
                .set
                .next_refresh_due()
                .map(|at| at.saturating_sub(self.leeway)),
        }
    }

    /// The main slot's access token ([`Slot::Main`]), valid for at least the leeway:
    /// see [`credential`](Self::credential).
    ///
    /// # Errors
    /// As [`credential`](Self::credential).
    pub async fn access_token<X: Transport>(
        &mut self,
        transport: &mut X,
        buf: &mut [u8],
    ) -> Result<&SecretText<T>, RefreshError> {
        self.credential(Slot::Main, transport, buf)
            .await
            .map(|c| &c.access_token)
    }

    /// The credential of `slot`, its access token valid for at least the leeway: the
    /// stored one if it is, otherwise a refreshed one, returned only once it is on
    /// flash. `buf` holds the refresh exchange (request, then the answer) and is wiped
    /// after it.
    ///
    /// # Errors
    /// [`RefreshError`]; after `NeedsReauthorization`, within a rate limit or while the
    /// clock is not set ([`RefreshError::ClockNotSet`]), without touching the network.
    pub async fn credential<X: Transport>(
        &mut self,
        slot: Slot,
        transport: &mut X,
        buf: &mut [u8],
    ) -> Result<&Credential<T, S>, RefreshError> {
        self.ready()?;
        self.save_unsaved().await?;
        let now = wall_clock::<C>()?;
        let cred = self
            .set
            .credential(slot)
            .ok_or(RefreshError::NoCredential(slot))?;
        if !cred.valid_for(now, self.leeway) {
            if cred.refresh_token.is_none() {
                self.state = State::NeedsReauthorization(Reauthorization::NoRefreshToken);
                return Err(RefreshError::NeedsReauthorization(
                    Reauthorization::NoRefreshToken,
                ));
            }
            self.refresh(slot, transport, buf).await?;
        }
        self.set
            .credential(slot)
            .ok_or(RefreshError::NoCredential(slot))
    }

    /// Refreshes `slot` now, whether or not it is due, and persists the answer.
    ///
    /// # Errors
    /// As [`credential`](Self::credential).
    pub async fn refresh<X: Transport>(
        &mut self,
        slot: Slot,
        transport: &mut X,
        buf: &mut [u8],
    ) -> Result<(), RefreshError> {
        self.ready()?;
        self.save_unsaved().await?;
        // The answer's expiry is reckoned from the clock.
        wall_clock::<C>()?;
        // An answer of another kind could never be applied to the set: the provider
        // would rotate the refresh token and the answer would be lost.
        if self.provider.kind != self.set.provider() {
            return Err(RefreshError::Persist(PersistError::TokenSet(
                TokenSetError::ProviderMismatch,
            )));
        }
        let refresh_token: SecretText<T> = self
            .set
            .credential(slot)
            .and_then(|c| c.refresh_token.clone())
            .ok_or(RefreshError::NeedsReauthorization(
                Reauthorization::NoRefreshToken,
            ))?;
        let req = TokenRequest::new(
            self.provider,
            self.auth,
            Grant::refresh_token(refresh_token.expose()),
        );
        let mut sink = PersistAnswer::<F, C, T, S> {
            store: self.store,
            set: &mut self.set,
            unsaved: &mut self.unsaved,
            slot,
            work: self.work,
            clock: PhantomData,
        };
        let exchanged = transport.exchange(&req, buf, &mut sink).await;
        let result = match exchanged {
            Err(e) => Err(RefreshError::Transport(e)),
            Ok((_, Some(persisted))) => persisted.map_err(RefreshError::Persist),
            Ok((answer, None)) => Err(self.refused(&answer.outcome, &refresh_token).await),
        };
        buf.zeroize();
        result
    }

    /// Records a refusal (on flash when it needs a person) and returns its error.
    async fn refused(
        &mut self,
        outcome: &Outcome<'_>,
        refresh_token: &SecretText<T>,
    ) -> RefreshError {
        let now = C::now();
        match classify(outcome, now) {
            Some(Refusal::NeedsReauthorization(reason)) => {
                self.state = State::NeedsReauthorization(reason);
                let mut record = [0u8; RECORD_LEN];
                record[0] = RECORD_VERSION;
                record[1] = reason.to_byte();
                record[2..].copy_from_slice(&fingerprint(refresh_token.expose()));
                // Remembered in RAM whatever happens; a failed write only means the
                // next boot presents the dead token once more and is refused again.
                let _ = self.store.store_refusal(&record, self.work).await;
                RefreshError::NeedsReauthorization(reason)
            }
            Some(Refusal::RateLimited { retry_after_secs }) => {
                self.state = State::RateLimited {
                    until: now.saturating_add(retry_after_secs),
                };
                RefreshError::RateLimited { retry_after_secs }
            }
            Some(Refusal::Other { status }) => RefreshError::Refused { status },
            // The sink saw a token whenever there was one.
            None => RefreshError::Persist(PersistError::TokenSet(TokenSetError::NotAToken)),
        }
    }

    /// Writes a refresh answer whose earlier write failed.
    async fn save_unsaved(&mut self) -> Result<(), RefreshError> {
        if self.unsaved {
            self.store.save(&self.set, self.work).await?;
            self.unsaved = false;
        }
        Ok(())
    }

    /// The error of a sticky state, or `Ok` when the network may be used.
    fn ready(&mut self) -> Result<(), RefreshError> {
        match self.state {
            State::NeedsReauthorization(r) => Err(RefreshError::NeedsReauthorization(r)),
            State::RateLimited { until } => {
                let now = wall_clock::<C>()?;
                if now < until {
                    Err(RefreshError::RateLimited {
                        retry_after_secs: until - now,
                    })
                } else {
                    self.state = State::Active;
                    Ok(())
                }
            }
            State::Active => Ok(()),
        }
    }
}

/// The wall clock's reading, or [`RefreshError::ClockNotSet`] before
/// [`EARLIEST_CLOCK_TIME`].
fn wall_clock<C: UnixClock>() -> Result<u64, RefreshError> {
    let now = C::now();
    if now < EARLIEST_CLOCK_TIME {
        return Err(RefreshError::ClockNotSet { now });
    }
    Ok(now)
}

/// The first bytes of the SHA-256 of a refresh token.
fn fingerprint(refresh_token: &str) -> [u8; FINGERPRINT_LEN] {
    let digest = Sha256::digest(refresh_token.as_bytes());
    let mut out = [0u8; FINGERPRINT_LEN];
    out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
    out
}

/// Persists a token answer while the connection is still open.
struct PersistAnswer<'s, F: NorFlash, C, const T: usize, const S: usize> {
    store: &'s mut TokenStore<F>,
    set: &'s mut TokenSet<T, S>,
    unsaved: &'s mut bool,
    slot: Slot,
    work: &'s mut [u8],
    clock: PhantomData<fn() -> C>,
}

impl<F: NorFlash, C: UnixClock, const T: usize, const S: usize> OnAnswer
    for PersistAnswer<'_, F, C, T, S>
{
    /// `None` when the answer is not a token.
    type Output = Option<Result<(), PersistError>>;

    async fn on_answer(&mut self, answer: &Answer<'_>) -> Self::Output {
        let Outcome::Token { token, .. } = &answer.outcome else {
            return None;
        };
        let now = C::now();
        let r = self
            .store
            .apply_refresh(self.set, token, now, self.slot, self.work)
            .await
            .map(|_| ());
        // Every failure but an answer that does not fit the set is a failed write
        // (flash, a full region, or a working buffer sized for a smaller set).
        if r.as_ref()
            .is_err_and(|e| !matches!(e, PersistError::TokenSet(_)))
        {
            // The provider has rotated; the answer exists only here now. Keep it in
            // RAM (handed out only once a later write succeeds) rather than lose it.
            let mut next = self.set.clone();
            if next.apply(token, now).is_ok() {
                *self.set = next;
                *self.unsaved = true;
            }
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_survives_its_flash_byte_and_unknown_bytes_are_refused() {
        for r in Reauthorization::ALL {
            assert_eq!(Reauthorization::from_byte(r.to_byte()), Some(r));
            assert_eq!(Reauthorization::from_code(r.as_str()), Some(r));
        }
        assert_eq!(Reauthorization::from_byte(0), None);
        assert_eq!(Reauthorization::from_byte(200), None);
        assert_ne!(fingerprint("xoxe-1-a"), fingerprint("xoxe-1-b"));
    }
}
