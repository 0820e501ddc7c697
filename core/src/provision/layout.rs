//! Where each field of a provisioning image sits, and its checksum.

/// The first four bytes of an image.
pub const MAGIC: [u8; 4] = *b"PAPI";

/// The format version [`Image::encode`](super::Image::encode) writes and
/// [`Image::parse`](super::Image::parse) reads; a later version adds a parser and keeps
/// this one.
pub const FORMAT_VERSION: u8 = 1;

/// Bytes before the body.
pub const HEADER_LEN: usize = 20;

/// Bytes after the body (the CRC-32).
pub const TRAILER_LEN: usize = 4;

/// Bytes of an image beyond its three fields' contents: header, three `u16` lengths,
/// trailer.
pub const OVERHEAD: usize = HEADER_LEN + 3 * 2 + TRAILER_LEN;

/// Header field offsets.
pub(super) mod field {
    use core::ops::Range;

    pub(crate) const MAGIC: Range<usize> = 0..4;
    pub(crate) const VERSION: usize = 4;
    pub(crate) const RESERVED: Range<usize> = 5..8;
    pub(crate) const BODY_LEN: Range<usize> = 8..12;
    pub(crate) const ID: Range<usize> = 12..20;
}

/// CRC-32/ISO-HDLC without a lookup table: an image is a few hundred bytes read
/// once per boot, and the table would cost a kilobyte of flash.
const CRC: crc::Crc<u32, crc::NoTable> = crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// The checksum of `bytes`.
pub(super) fn checksum(bytes: &[u8]) -> u32 {
    CRC.checksum(bytes)
}
