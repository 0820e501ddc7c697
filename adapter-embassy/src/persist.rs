//! The token set kept on NOR flash (feature `persist`), so that no power cut can lose
//! an installation.
//!
//! With rotating refresh tokens, a provider's refresh answer kills the old refresh
//! token: the answer must be durable before anything else happens. [`TokenStore`]
//! enforces the order by its shape: [`TokenStore::apply_refresh`] applies the answer
//! to a copy of the token set, writes the copy to flash, and only once the write has
//! returned does it replace the caller's token set and hand out the new access
//! token. There is no way to get the new access token without the write.
//!
//! The map is `sequential-storage`'s (a well-kept crate built for power loss): a new
//! value is appended after the old one, whose item stays readable until the new
//! one's CRC is complete; pages are erased only after their live items have been
//! moved. So the old token set is superseded, never erased first. The power-loss
//! test (`tests/power_loss.rs`) cuts power at every word write and erase of
//! several refreshes and checks that a reboot reads the complete old or the
//! complete new set.
//!
//! A `NorFlash` write is durable when its future returns (there is no write cache to
//! flush in the `embedded-storage` model); a flash with one must flush inside
//! `write`.

use core::fmt;

use embedded_storage_async::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind};
use picoauth::exchange::Token;
use picoauth::token_set::{CodecError, Credential, Slot, TokenSet, TokenSetError};
use sequential_storage::cache::{Cache, Uncached};
use sequential_storage::map::{MapConfig, MapStorage};
use zeroize::Zeroize as _;

/// The map key under which the token set is stored.
pub const TOKEN_SET_KEY: u8 = 1;

/// The map key under which the refresh loop remembers a refusal that needs a person
/// (see [`RefreshLoop`](crate::RefreshLoop)): the reason and a fingerprint of the
/// refused refresh token, so a reboot does not present it again.
pub const REFUSAL_KEY: u8 = 2;

/// Bytes the map's working buffer needs beyond the value: the key and rounding up
/// to a flash word (32 bytes covers words up to 16 bytes).
const WORK_SLACK: usize = 32;

/// The working buffer [`TokenStore`] needs for a set whose encoding is `encoded_len`
/// bytes long (see [`TokenSet::encoded_len`]).
#[must_use]
pub const fn buffer_len(encoded_len: usize) -> usize {
    2 * encoded_len + WORK_SLACK
}

/// The map's cache: none (every lookup reads flash; the map is tiny).
pub(crate) type NoCache = Cache<Uncached, Uncached, Uncached, u8>;

/// Why the token set could not be read from or written to flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// The flash driver failed (or power was lost during an operation).
    Flash(NorFlashErrorKind),
    /// The map's region is full even after garbage collection: it is too small for
    /// the token set (give it more pages).
    Full,
    /// The map found flash it could not repair.
    Corrupted,
    /// The working buffer is too small (the encoded set and the item header need
    /// this many bytes).
    BufferTooSmall(usize),
    /// The token set could not be encoded, or the stored bytes not decoded.
    Codec(CodecError),
    /// The refresh answer does not fit the token set (wrong provider, a string over
    /// capacity, not a token).
    TokenSet(TokenSetError),
    /// `sequential-storage` reported an error this crate does not know.
    Storage,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flash(kind) => write!(f, "flash error: {kind:?}"),
            Self::Full => f.write_str("token-set flash region full"),
            Self::Corrupted => f.write_str("token-set flash region corrupted"),
            Self::BufferTooSmall(n) => write!(f, "persist buffer too small: {n} bytes needed"),
            Self::Codec(e) => write!(f, "token-set encoding: {e}"),
            Self::TokenSet(e) => write!(f, "refresh answer: {e}"),
            Self::Storage => f.write_str("flash map error"),
        }
    }
}

impl core::error::Error for PersistError {}

// By hand: `embedded-storage`'s error kind has no `defmt::Format`.
#[cfg(feature = "defmt")]
impl defmt::Format for PersistError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Flash(kind) => defmt::write!(f, "Flash({})", defmt::Debug2Format(kind)),
            Self::Full => defmt::write!(f, "Full"),
            Self::Corrupted => defmt::write!(f, "Corrupted"),
            Self::BufferTooSmall(n) => defmt::write!(f, "BufferTooSmall({=usize})", n),
            Self::Codec(e) => defmt::write!(f, "Codec({})", defmt::Debug2Format(e)),
            Self::TokenSet(e) => defmt::write!(f, "TokenSet({})", defmt::Debug2Format(e)),
            Self::Storage => defmt::write!(f, "Storage"),
        }
    }
}

impl<E: NorFlashError> From<sequential_storage::Error<E>> for PersistError {
    fn from(e: sequential_storage::Error<E>) -> Self {
        match e {
            sequential_storage::Error::Storage { value, .. } => Self::Flash(value.kind()),
            sequential_storage::Error::FullStorage | sequential_storage::Error::ItemTooBig => {
                Self::Full
            }
            sequential_storage::Error::Corrupted { .. } => Self::Corrupted,
            sequential_storage::Error::BufferTooSmall(n) => Self::BufferTooSmall(n),
            _ => Self::Storage,
        }
    }
}

/// The token set on NOR flash: a `sequential-storage` map over `flash` in `range`
/// (at least two erase pages, page-aligned), read and written through a caller's
/// working buffer of at least the encoded set's length plus a few words.
pub struct TokenStore<F: NorFlash> {
    pub(crate) map: MapStorage<u8, F, NoCache>,
}

impl<F: NorFlash> TokenStore<F> {
    /// The store over `flash` in `range`. Opening does not touch flash; a map
    /// interrupted by a power cut is repaired on the first read or write.
    ///
    /// # Errors
    /// [`PersistError::Storage`] if `range` is not page-aligned or shorter than two
    /// pages.
    pub fn new(flash: F, range: core::ops::Range<u32>) -> Result<Self, PersistError> {
        let config = MapConfig::<F>::try_new(range).map_err(|_| PersistError::Storage)?;
        Ok(Self {
            map: MapStorage::new(flash, config, Cache::new_uncached()),
        })
    }

    /// The flash back (the store keeps no state beside it).
    pub fn into_flash(self) -> F {
        self.map.destroy().0
    }

    /// The stored token set, or `None` if none was ever stored. `buf` (the map's
    /// working buffer) holds the encoded set while this runs, and is wiped after it.
    ///
    /// # Errors
    /// [`PersistError`] if flash fails or the stored bytes do not decode.
    pub async fn load<const T: usize, const S: usize>(
        &mut self,
        buf: &mut [u8],
    ) -> Result<Option<TokenSet<T, S>>, PersistError> {
        let wipe = WipeOnDrop(buf);
        let bytes: Option<&[u8]> = self.map.fetch_item(&mut *wipe.0, &TOKEN_SET_KEY).await?;
        bytes
            .map(|b| TokenSet::decode(b).map_err(PersistError::Codec))
            .transpose()
    }

    /// Stores `set` (provisioning, or moving a set from elsewhere into the map).
    /// When this returns `Ok`, the set is on flash; the one before stays readable
    /// until then. `buf` holds the encoded set while this runs, and is wiped after it.
    ///
    /// # Errors
    /// [`PersistError`] if the set does not encode in `buf` or flash fails.
    pub async fn save<const T: usize, const S: usize>(
        &mut self,
        set: &TokenSet<T, S>,
        buf: &mut [u8],
    ) -> Result<(), PersistError> {
        let wipe = WipeOnDrop(buf);
        let buf = &mut *wipe.0;
        let len = set.encoded_len().map_err(PersistError::Codec)?;
        // sequential-storage serializes key and value into its working buffer, so
        // the encoding cannot live there too: it goes in the tail of `buf`, the
        // rest (key, value and word rounding) is the map's.
        let needed = buffer_len(len);
        if buf.len() < needed {
            return Err(PersistError::BufferTooSmall(needed));
        }
        let (work, tail) = buf.split_at_mut(buf.len() - len);
        let n = set.encode(tail).map_err(PersistError::Codec)?;
        let encoded: &[u8] = &tail[..n];
        self.map.store_item(work, &TOKEN_SET_KEY, &encoded).await?;
        Ok(())
    }

    /// Applies a refresh answer read at `now` to `set` and persists it, in that
    /// order of effect: the answer is applied to a copy, the copy written to flash,
    /// and only then is `set` replaced and the new credential of `slot` returned.
    /// On any error `set` is unchanged, and flash holds the old set (or, if the
    /// write completed before the error, the new one).
    ///
    /// # Errors
    /// [`PersistError::TokenSet`] if the answer does not fit `set`; otherwise as
    /// [`save`](Self::save).
    pub async fn apply_refresh<'s, const T: usize, const S: usize>(
        &mut self,
        set: &'s mut TokenSet<T, S>,
        answer: &Token<'_>,
        now: u64,
        slot: Slot,
        buf: &mut [u8],
    ) -> Result<&'s Credential<T, S>, PersistError> {
        let mut next = set.clone();
        next.apply(answer, now).map_err(PersistError::TokenSet)?;
        self.save(&next, buf).await?;
        *set = next;
        set.credential(slot)
            .ok_or(PersistError::TokenSet(TokenSetError::NotAToken))
    }
}

impl<F: NorFlash> TokenStore<F> {
    /// Stores the refusal record (a few bytes, see [`REFUSAL_KEY`]).
    pub(crate) async fn store_refusal(
        &mut self,
        record: &[u8],
        buf: &mut [u8],
    ) -> Result<(), PersistError> {
        let needed = buffer_len(record.len());
        if buf.len() < needed {
            return Err(PersistError::BufferTooSmall(needed));
        }
        self.map.store_item(buf, &REFUSAL_KEY, &record).await?;
        Ok(())
    }

    /// The refusal record, copied into `out`; its length, or `None` if none was stored
    /// (or it is longer than `out`, which a record of this crate never is).
    pub(crate) async fn load_refusal(
        &mut self,
        out: &mut [u8],
        buf: &mut [u8],
    ) -> Result<Option<usize>, PersistError> {
        let bytes: Option<&[u8]> = self.map.fetch_item(buf, &REFUSAL_KEY).await?;
        Ok(bytes.and_then(|b| {
            let dst = out.get_mut(..b.len())?;
            dst.copy_from_slice(b);
            Some(b.len())
        }))
    }
}

/// A caller's buffer that held tokens, wiped (`zeroize`) when dropped: on every return
/// path, and when the future holding it is dropped part-way.
pub(crate) struct WipeOnDrop<'b>(pub(crate) &'b mut [u8]);

impl Drop for WipeOnDrop<'_> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<F: NorFlash> fmt::Debug for TokenStore<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore").finish_non_exhaustive()
    }
}
