//! Provisioning on first boot (feature `provision`): nothing secret is compiled into
//! the firmware image.
//!
//! The `picoauth` command writes a provisioning image
//! ([`picoauth::provision::Image`]: client id, client secret, token set; magic,
//! version, length, CRC-32) to a file that `probe-rs download` writes into a flash
//! region of its own (see the crate's README). At every boot [`provision`] looks at
//! that region:
//!
//! - erased: nothing to do ([`Provisioned::Nothing`]);
//! - a valid image: its token set goes into the [`TokenStore`] map (key
//!   [`TOKEN_SET_KEY`]), then its client id and secret (key [`CLIENT_KEY`], an image
//!   of the same format with an empty token set, tagged with the image's id), then
//!   the region is erased, last page first ([`Provisioned::Moved`]);
//! - a valid image whose id the map's client item already carries: the move was done
//!   and the erase did not finish (power cut); only the erase is redone
//!   ([`Provisioned::AlreadyMoved`]). The map's token set is left alone;
//! - an invalid image (a half-erased one reads as a bad checksum) while the map has
//!   a client item: left over by an interrupted erase (or a bad image over a
//!   provisioned device); erased ([`Provisioned::Discarded`]);
//! - an invalid image and no client item: a typed [`ProvisionError::Image`], flash
//!   untouched (the device cannot work; a person reflashes the image).
//!
//! Why every power cut is safe: the client item is written only after the token set,
//! and it is the "moved" mark. A cut before it is complete leaves the image valid and
//! unmarked, so the next boot moves the same set again (the same bytes: no refresh
//! can have run, since the client secret was not in the map yet). A cut after it
//! leaves the image marked (or half erased, or erased), and the next boot only
//! finishes the erase. The erase goes from the last page to the first, so the
//! header goes last; and an erased header with bytes left after it (a torn erase)
//! is found by a scan of the whole region and erased ([`Provisioned::Cleared`]).
//! Re-provisioning: an image with a new id replaces the map's token set and client.
//!
//! The caller's buffer holds the image and the map's work while this runs and is
//! wiped (`zeroize`) before [`provision`] returns, on every path, and when its future
//! is dropped part-way.

use core::fmt;
use core::ops::Range;

use embedded_storage_async::nor_flash::{NorFlash, NorFlashErrorKind};
use picoauth::provision::{Image, ImageError, HEADER_LEN};
use picoauth::token_set::TokenSet;
use picoauth::ClientSecret;

use crate::persist::{PersistError, TokenStore, WipeOnDrop, REFUSAL_KEY, TOKEN_SET_KEY};

/// The map key under which the client id and secret are stored.
pub const CLIENT_KEY: u8 = 3;

// One map, one key per item.
const _: () = assert!(CLIENT_KEY != TOKEN_SET_KEY && CLIENT_KEY != REFUSAL_KEY);

/// Bytes the map's working buffer needs beyond an item (key and word rounding, as in
/// [`persist::buffer_len`](crate::persist::buffer_len)).
const WORK_SLACK: usize = 32;

/// The buffer [`provision`] needs for an image of `image_len` bytes (the image as
/// read, the client item, the map's work area). 4 KiB covers a Slack or Pinterest
/// image with room to spare; the exact need is reported by
/// [`ProvisionError::BufferTooSmall`].
#[must_use]
pub const fn buffer_len(image_len: usize) -> usize {
    3 * image_len + 2 * WORK_SLACK
}

/// What [`provision`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Provisioned {
    /// The region is erased: nothing to provision.
    Nothing,
    /// The image's token set and client moved into the map, the region erased.
    Moved {
        /// The image's provisioning id.
        id: u64,
    },
    /// The image had been moved before a power cut; the region is now erased.
    AlreadyMoved {
        /// The image's provisioning id.
        id: u64,
    },
    /// An invalid image on a provisioned device (what an interrupted erase leaves),
    /// erased.
    Discarded(ImageError),
    /// An erased header with bytes left after it (a torn erase), erased.
    Cleared,
}

/// Why provisioning failed. Flash is as it was unless the variant says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The region holds no valid image and the device was never provisioned.
    Image(ImageError),
    /// The provisioning region's flash failed (reading or erasing).
    Region(NorFlashErrorKind),
    /// The range is empty, not page-aligned, or past the flash's end.
    Range,
    /// The buffer is too small (the image needs this many bytes).
    BufferTooSmall(usize),
    /// The map failed (see [`PersistError`]); a stored client item that does not
    /// parse is [`PersistError::Corrupted`].
    Persist(PersistError),
}

impl fmt::Display for ProvisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(e) => write!(f, "provisioning: {e}"),
            Self::Region(k) => write!(f, "provisioning region flash error: {k:?}"),
            Self::Range => f.write_str("provisioning region range not page-aligned"),
            Self::BufferTooSmall(n) => write!(f, "provisioning buffer too small: {n} bytes needed"),
            Self::Persist(e) => write!(f, "provisioning: {e}"),
        }
    }
}

impl core::error::Error for ProvisionError {}

// By hand: `embedded-storage`'s error kind has no `defmt::Format`.
#[cfg(feature = "defmt")]
impl defmt::Format for ProvisionError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Image(e) => defmt::write!(f, "Image({})", e),
            Self::Region(kind) => defmt::write!(f, "Region({})", defmt::Debug2Format(kind)),
            Self::Range => defmt::write!(f, "Range"),
            Self::BufferTooSmall(n) => defmt::write!(f, "BufferTooSmall({=usize})", n),
            Self::Persist(e) => defmt::write!(f, "Persist({})", e),
        }
    }
}

impl From<PersistError> for ProvisionError {
    fn from(e: PersistError) -> Self {
        Self::Persist(e)
    }
}

fn region_err<E: embedded_storage_async::nor_flash::NorFlashError>(e: E) -> ProvisionError {
    ProvisionError::Region(e.kind())
}

/// The client id and secret kept in the map, borrowed from the caller's buffer.
/// `Debug` redacts the secret.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Client<'b> {
    /// The provisioning id of the image they came from.
    pub id: u64,
    /// The client id.
    pub client_id: &'b str,
    /// The client secret (`None`: a public client).
    pub client_secret: Option<ClientSecret<'b>>,
}

/// Looks at the provisioning `range` of `region` and moves a new image into `store`
/// (see the [module docs](self) for every case and why a power cut at any point is
/// safe). The set is decoded with capacities `T` and `S` before anything is written,
/// so a set the firmware cannot hold is refused, not stored. `buf` (see
/// [`buffer_len`]) is wiped before this returns.
///
/// # Errors
/// [`ProvisionError`]; on [`ProvisionError::Image`] (an invalid image on a device
/// never provisioned, or a valid image whose set does not decode) nothing is erased.
pub async fn provision<P, F, const T: usize, const S: usize>(
    region: &mut P,
    range: Range<u32>,
    store: &mut TokenStore<F>,
    buf: &mut [u8],
) -> Result<Provisioned, ProvisionError>
where
    P: NorFlash,
    F: NorFlash,
{
    let wipe = WipeOnDrop(buf);
    let buf = &mut *wipe.0;
    let page = P::ERASE_SIZE as u32;
    if range.is_empty()
        || !range.start.is_multiple_of(page)
        || !range.end.is_multiple_of(page)
        || range.end as usize > region.capacity()
    {
        return Err(ProvisionError::Range);
    }
    let region_len = (range.end - range.start) as usize;
    let head_len = round_up(HEADER_LEN, P::READ_SIZE);
    let need = buffer_len(head_len);
    let Some(head) = buf.get_mut(..head_len) else {
        return Err(ProvisionError::BufferTooSmall(need));
    };
    region.read(range.start, head).await.map_err(region_err)?;
    let len = match Image::peek_len(head) {
        Ok(len) if len <= region_len => len,
        Ok(_) => return invalid(region, range, store, buf, ImageError::Length).await,
        Err(ImageError::Blank) => return blank(region, range, buf).await,
        Err(e) => return invalid(region, range, store, buf, e).await,
    };
    let read_len = round_up(len, P::READ_SIZE).min(region_len);
    let need = buffer_len(read_len);
    if buf.len() < need {
        return Err(ProvisionError::BufferTooSmall(need));
    }
    let (image_area, rest) = buf.split_at_mut(read_len);
    region
        .read(range.start, image_area)
        .await
        .map_err(region_err)?;
    let image = match Image::parse(image_area) {
        Ok(image) => image,
        Err(e) => return invalid(region, range, store, rest, e).await,
    };
    // Refused before anything is written: a set this firmware cannot hold.
    TokenSet::<T, S>::decode(image.token_set)
        .map_err(|e| ProvisionError::Image(ImageError::TokenSet(e)))?;
    let (client_area, work) = rest.split_at_mut(len);
    if stored_client_id(store, work).await? == Some(image.id) {
        erase(region, range).await?;
        return Ok(Provisioned::AlreadyMoved { id: image.id });
    }
    store
        .map
        .store_item(work, &TOKEN_SET_KEY, &image.token_set)
        .await
        .map_err(PersistError::from)?;
    let client = Image {
        token_set: &[],
        ..image
    };
    let n = client
        .encode(client_area)
        .map_err(|_| ProvisionError::BufferTooSmall(need))?;
    let client_item: &[u8] = client_area.get(..n).unwrap_or(&[]);
    store
        .map
        .store_item(work, &CLIENT_KEY, &client_item)
        .await
        .map_err(PersistError::from)?;
    erase(region, range).await?;
    Ok(Provisioned::Moved { id: image.id })
}

const fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// An invalid image: erased if the device is provisioned, an error otherwise.
async fn invalid<P: NorFlash, F: NorFlash>(
    region: &mut P,
    range: Range<u32>,
    store: &mut TokenStore<F>,
    work: &mut [u8],
    e: ImageError,
) -> Result<Provisioned, ProvisionError> {
    if stored_client_id(store, work).await?.is_some() {
        erase(region, range).await?;
        Ok(Provisioned::Discarded(e))
    } else {
        Err(ProvisionError::Image(e))
    }
}

/// An erased header: the rest of the region is scanned, and erased if any byte is
/// left (a torn erase).
async fn blank<P: NorFlash>(
    region: &mut P,
    range: Range<u32>,
    buf: &mut [u8],
) -> Result<Provisioned, ProvisionError> {
    let chunk = buf.len() / P::READ_SIZE * P::READ_SIZE;
    let Some(chunk_buf) = buf.get_mut(..chunk).filter(|c| !c.is_empty()) else {
        return Err(ProvisionError::BufferTooSmall(P::READ_SIZE));
    };
    let mut at = range.start;
    while at < range.end {
        let n = chunk.min((range.end - at) as usize);
        let part = chunk_buf.get_mut(..n).unwrap_or(&mut []);
        region.read(at, part).await.map_err(region_err)?;
        if !erased(part) {
            erase(region, range).await?;
            return Ok(Provisioned::Cleared);
        }
        at += n as u32;
    }
    Ok(Provisioned::Nothing)
}

/// Whether every byte is `0xFF`, a word at a time (the scan of an erased 64 KiB region
/// is most of a normal boot's flash reading).
fn erased(bytes: &[u8]) -> bool {
    let words = bytes.chunks_exact(4);
    let tail = words.remainder();
    words
        .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        .all(|w| w == u32::MAX)
        && tail.iter().all(|&b| b == 0xFF)
}

/// Erases the region one page at a time, last page first (the header goes last).
async fn erase<P: NorFlash>(region: &mut P, range: Range<u32>) -> Result<(), ProvisionError> {
    let page = P::ERASE_SIZE as u32;
    let mut end = range.end;
    while end > range.start {
        region.erase(end - page, end).await.map_err(region_err)?;
        end -= page;
    }
    Ok(())
}

/// The provisioning id of the map's client item, if there is one.
async fn stored_client_id<F: NorFlash>(
    store: &mut TokenStore<F>,
    work: &mut [u8],
) -> Result<Option<u64>, ProvisionError> {
    Ok(load_client(store, work).await?.map(|c| c.id))
}

/// The client id and secret moved into the map by [`provision`], read into `buf`
/// (the caller wipes it when done; [`buffer_len`] of the image is more than enough).
///
/// # Errors
/// [`ProvisionError::Persist`]: flash, a short buffer, or
/// [`PersistError::Corrupted`] for an item that does not parse.
pub async fn load_client<'b, F: NorFlash>(
    store: &mut TokenStore<F>,
    buf: &'b mut [u8],
) -> Result<Option<Client<'b>>, ProvisionError> {
    let item: Option<&[u8]> = store
        .map
        .fetch_item(buf, &CLIENT_KEY)
        .await
        .map_err(PersistError::from)?;
    let Some(item) = item else {
        return Ok(None);
    };
    let image = Image::parse(item).map_err(|_| PersistError::Corrupted)?;
    Ok(Some(Client {
        id: image.id,
        client_id: image.client_id,
        client_secret: image.client_secret,
    }))
}
