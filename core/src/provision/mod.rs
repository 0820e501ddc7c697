//! The provisioning image (feature `provision`): what a device needs to keep an
//! installation alive, written once into a flash region by the `picoauth` command and
//! read by the firmware on first boot, so that nothing secret is compiled into the
//! firmware image.
//!
//! An [`Image`] carries the client id, the client secret (none for a public client)
//! and a token set in its stored encoding ([`TokenSet::encode`]), behind a header
//! with a magic, a format version, the body length and a random provisioning id,
//! and followed by a CRC-32 of everything before it. [`Image::parse`] checks every
//! part and borrows the fields from the bytes; [`Image::encode`] writes the same
//! layout. The layout, all integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `PAPI` |
//! | 4 | 1 | format version, [`FORMAT_VERSION`] |
//! | 5 | 3 | reserved, zero |
//! | 8 | 4 | body length `N` |
//! | 12 | 8 | provisioning id (random; tells one provisioning from the next) |
//! | 20 | `N` | body: client id, client secret, token set, each a `u16` length and its bytes |
//! | 20 + `N` | 4 | CRC-32 (ISO-HDLC, the zip and Ethernet one) of bytes `0..20 + N` |
//!
//! An erased region (the magic reads `FF FF FF FF`) is [`ImageError::Blank`]: there
//! is nothing to provision.
//!
//! ```
//! use picoauth::provision::Image;
//! use picoauth::ClientSecret;
//!
//! let image = Image {
//!     id: 7,
//!     client_id: "111.222",
//!     client_secret: Some(ClientSecret::new("s3cr3t")),
//!     token_set: &[1, 2, 3],
//! };
//! let mut out = [0u8; 64];
//! let n = image.encode(&mut out).unwrap();
//! assert_eq!(n, image.encoded_len().unwrap());
//! let back = Image::parse(&out).unwrap();
//! assert_eq!(back.client_id, "111.222");
//! assert_eq!(back.client_secret.unwrap().expose(), "s3cr3t");
//! assert_eq!(back.token_set, &[1, 2, 3]);
//! ```
//!
//! [`TokenSet::encode`]: crate::token_set::TokenSet::encode

use core::fmt;

mod encode;
mod error;
mod layout;
mod parse;

pub use error::{ImageEncodeError, ImageError};
pub use layout::{FORMAT_VERSION, HEADER_LEN, MAGIC, OVERHEAD, TRAILER_LEN};

use crate::secret::ClientSecret;

/// A provisioning image: parsed from bytes ([`Image::parse`], borrowing them) or to be
/// written ([`Image::encode`]). `Debug` shows neither the secret nor the tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Image<'a> {
    /// The provisioning id: random for each image, so that a device can tell the
    /// image it has already moved into its store from a new one.
    pub id: u64,
    /// The client id (non-empty UTF-8).
    pub client_id: &'a str,
    /// The client secret; `None` for a public client (stored as length 0).
    pub client_secret: Option<ClientSecret<'a>>,
    /// The token set in its stored encoding (`TokenSet::encode`); decode it with the
    /// firmware's capacities (`TokenSet::<T, S>::decode`).
    pub token_set: &'a [u8],
}

impl fmt::Debug for Image<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_set_len", &self.token_set.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
