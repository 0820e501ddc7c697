//! The errors of reading and writing a provisioning image.

use core::fmt;

use crate::token_set::CodecError;

/// Why bytes are not a provisioning image this version can read. No variant carries
/// bytes of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ImageError {
    /// The region is erased (the magic reads `FF FF FF FF`): nothing to provision.
    Blank,
    /// The first four bytes are neither the magic nor erased flash.
    BadMagic,
    /// The format version is not one this version reads.
    UnsupportedVersion(u8),
    /// The reserved header bytes are not zero.
    Reserved,
    /// The bytes end before the header, the body or the checksum; or the body's
    /// fields do not fill it exactly.
    Length,
    /// The CRC-32 does not match: the image is corrupt (or half erased).
    Checksum,
    /// The client id is empty or not UTF-8.
    ClientId,
    /// The client secret is not UTF-8.
    ClientSecret,
    /// The token set does not decode (see [`CodecError`]).
    TokenSet(CodecError),
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Blank => f.write_str("no provisioning image (erased flash)"),
            Self::BadMagic => f.write_str("not a provisioning image (bad magic)"),
            Self::UnsupportedVersion(v) => {
                write!(f, "provisioning image format version {v} is not supported")
            }
            Self::Reserved => f.write_str("provisioning image: reserved header bytes not zero"),
            Self::Length => f.write_str("provisioning image: lengths do not match"),
            Self::Checksum => f.write_str("provisioning image: checksum mismatch"),
            Self::ClientId => f.write_str("provisioning image: client id empty or not UTF-8"),
            Self::ClientSecret => f.write_str("provisioning image: client secret not UTF-8"),
            Self::TokenSet(e) => write!(f, "provisioning image: token set: {e}"),
        }
    }
}

impl core::error::Error for ImageError {}

/// Why an image could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ImageEncodeError {
    /// The output is shorter than the image (which needs this many bytes); it is
    /// left untouched.
    BufferTooSmall {
        /// The image's length.
        needed: usize,
    },
    /// The client id is empty, or a field is longer than 65,535 bytes.
    Field,
}

impl fmt::Display for ImageEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "provisioning image needs {needed} bytes")
            }
            Self::Field => f.write_str("client id empty, or a field over 65,535 bytes"),
        }
    }
}

impl core::error::Error for ImageEncodeError {}
