//! Reading a provisioning image: every part checked, fields borrowed.

use super::error::ImageError;
use super::layout::{checksum, field, FORMAT_VERSION, HEADER_LEN, MAGIC, TRAILER_LEN};
use super::Image;
use crate::secret::ClientSecret;
use crate::token_set::TokenSet;

/// Takes a `u16`-length-prefixed field off the front of `body`.
fn take_field<'a>(body: &mut &'a [u8]) -> Result<&'a [u8], ImageError> {
    let (len, rest) = body.split_first_chunk::<2>().ok_or(ImageError::Length)?;
    let len = usize::from(u16::from_le_bytes(*len));
    let (value, rest) = rest.split_at_checked(len).ok_or(ImageError::Length)?;
    *body = rest;
    Ok(value)
}

fn le_u32(b: Option<&[u8]>) -> Option<u32> {
    Some(u32::from_le_bytes(b?.try_into().ok()?))
}

impl<'a> Image<'a> {
    /// The length of the image whose header starts `bytes` (at least
    /// [`HEADER_LEN`] bytes), after checking the magic, the version
    /// and the reserved bytes: how much to read from flash before [`parse`](Self::parse).
    ///
    /// # Errors
    /// As [`parse`](Self::parse) for those checks; [`ImageError::Length`] if `bytes`
    /// is shorter than a header or the length overflows.
    pub fn peek_len(bytes: &[u8]) -> Result<usize, ImageError> {
        let magic = bytes.get(field::MAGIC).ok_or(ImageError::Length)?;
        if magic == [0xFF; 4] {
            return Err(ImageError::Blank);
        }
        if magic != MAGIC {
            return Err(ImageError::BadMagic);
        }
        let header = bytes.get(..HEADER_LEN).ok_or(ImageError::Length)?;
        let version = header.get(field::VERSION).copied().unwrap_or(0);
        if version != FORMAT_VERSION {
            return Err(ImageError::UnsupportedVersion(version));
        }
        if header.get(field::RESERVED) != Some(&[0u8; 3][..]) {
            return Err(ImageError::Reserved);
        }
        let body_len = le_u32(header.get(field::BODY_LEN)).ok_or(ImageError::Length)?;
        usize::try_from(body_len)
            .ok()
            .and_then(|n| n.checked_add(HEADER_LEN + TRAILER_LEN))
            .ok_or(ImageError::Length)
    }

    /// Reads the image at the start of `bytes` (a flash region may hold more after
    /// it: erased flash, ignored). Checks, in order: erased flash, magic, version,
    /// reserved bytes, lengths, checksum, then the fields.
    ///
    /// # Errors
    /// [`ImageError`]: [`Blank`](ImageError::Blank) for erased flash, one variant for
    /// each other check.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ImageError> {
        let total = Self::peek_len(bytes)?;
        let signed_len = total - TRAILER_LEN;
        let header = bytes.get(..HEADER_LEN).ok_or(ImageError::Length)?;
        let signed = bytes.get(..signed_len).ok_or(ImageError::Length)?;
        let stored = le_u32(bytes.get(signed_len..signed_len.saturating_add(TRAILER_LEN)))
            .ok_or(ImageError::Length)?;
        if checksum(signed) != stored {
            return Err(ImageError::Checksum);
        }
        let id = header
            .get(field::ID)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes);
        let mut body = signed.get(HEADER_LEN..).unwrap_or(&[]);
        let client_id = take_field(&mut body)?;
        let client_secret = take_field(&mut body)?;
        let token_set = take_field(&mut body)?;
        if !body.is_empty() {
            return Err(ImageError::Length);
        }
        let client_id = core::str::from_utf8(client_id)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or(ImageError::ClientId)?;
        let client_secret =
            core::str::from_utf8(client_secret).map_err(|_| ImageError::ClientSecret)?;
        Ok(Self {
            id,
            client_id,
            client_secret: (!client_secret.is_empty()).then(|| ClientSecret::new(client_secret)),
            token_set,
        })
    }

    /// The token set, decoded with capacities `T` and `S`.
    ///
    /// # Errors
    /// [`ImageError::TokenSet`] if it does not decode (unknown version, corrupt, a
    /// string over capacity).
    pub fn decode_token_set<const T: usize, const S: usize>(
        &self,
    ) -> Result<TokenSet<T, S>, ImageError> {
        TokenSet::decode(self.token_set).map_err(ImageError::TokenSet)
    }
}
