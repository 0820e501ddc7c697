//! The stored encoding of a token set: one version byte, then the `postcard`
//! encoding of the set. A reader refuses a version it does not know instead of
//! misreading it; a later version adds a decoder here and keeps this one.

use super::error::CodecError;
use super::TokenSet;

/// The encoding version [`TokenSet::encode`] writes.
pub const VERSION: u8 = 1;

impl<const T: usize, const S: usize> TokenSet<T, S> {
    /// The exact length [`encode`](Self::encode) writes.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if the serializer fails (it does not for a set
    /// built by this module).
    pub fn encoded_len(&self) -> Result<usize, CodecError> {
        let body = postcard::serialize_with_flavor(self, postcard::ser_flavors::Size::default())
            .map_err(|_| CodecError::Malformed)?;
        Ok(1 + body)
    }

    /// Writes the version byte and the encoding into `out`; returns the length.
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] (with `out` untouched) when `out` is short.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, CodecError> {
        let needed = self.encoded_len()?;
        let Some((version, body)) = out.get_mut(..needed).and_then(|o| o.split_first_mut()) else {
            return Err(CodecError::BufferTooSmall { needed });
        };
        *version = VERSION;
        postcard::to_slice(self, body).map_err(|_| CodecError::Malformed)?;
        Ok(needed)
    }

    /// Reads a token set written by [`encode`](Self::encode) (with the same or larger
    /// capacities).
    ///
    /// # Errors
    /// [`CodecError::Empty`], [`CodecError::UnknownVersion`], or
    /// [`CodecError::Malformed`] for truncated, corrupt or trailing bytes, a string over
    /// its capacity, or a set with no credential.
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
        if version != VERSION {
            return Err(CodecError::UnknownVersion(version));
        }
        let (set, rest): (Self, _) =
            postcard::take_from_bytes(body).map_err(|_| CodecError::Malformed)?;
        if !rest.is_empty() || set.credentials.iter().all(Option::is_none) {
            return Err(CodecError::Malformed);
        }
        Ok(set)
    }
}

/// `ProviderKind` as one stable byte (the core's enum carries no serde derive).
pub(super) mod kind {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::provider::ProviderKind;

    pub(crate) fn serialize<Z: Serializer>(k: &ProviderKind, s: Z) -> Result<Z::Ok, Z::Error> {
        s.serialize_u8(match k {
            ProviderKind::SlackV2 => 1,
            ProviderKind::SlackV1 => 2,
            ProviderKind::Pinterest => 3,
            ProviderKind::Rfc6749 => 4,
        })
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ProviderKind, D::Error> {
        match u8::deserialize(d)? {
            1 => Ok(ProviderKind::SlackV2),
            2 => Ok(ProviderKind::SlackV1),
            3 => Ok(ProviderKind::Pinterest),
            4 => Ok(ProviderKind::Rfc6749),
            _ => Err(serde::de::Error::custom("unknown provider kind")),
        }
    }
}
