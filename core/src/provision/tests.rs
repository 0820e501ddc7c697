extern crate std;
use std::format;

use super::*;
use crate::token_set::{CodecError, TokenSet};

/// A real token set's encoding (a Pinterest answer read at t = 1,000).
fn token_set_bytes() -> ([u8; 128], usize) {
    use crate::exchange::Token;
    use crate::json::pinterest::{self, Pinterest};
    let body = br#"{"access_token":"pina_1","refresh_token":"pinr_1","expires_in":60,"scope":"pins:read"}"#;
    let Ok(Pinterest::Token(t)) = pinterest::parse(body) else {
        panic!("fixture parses")
    };
    let set: TokenSet<64, 64> = TokenSet::from_token(&Token::Pinterest(t), 1_000).unwrap();
    let mut out = [0u8; 128];
    let n = set.encode(&mut out).unwrap();
    (out, n)
}

fn encoded(image: &Image<'_>) -> ([u8; 512], usize) {
    let mut out = [0u8; 512];
    let n = image.encode(&mut out).unwrap();
    (out, n)
}

fn sample<'a>(set: &'a [u8]) -> Image<'a> {
    Image {
        id: 0x0102_0304_0506_0708,
        client_id: "1234567",
        client_secret: Some(ClientSecret::new("pinterest-secret")),
        token_set: set,
    }
}

/// Rewrites the CRC after a test changed a byte, so the check under test is the
/// one that fails, not the checksum.
fn reseal(bytes: &mut [u8], len: usize) {
    let crc = layout::checksum(&bytes[..len - TRAILER_LEN]);
    bytes[len - TRAILER_LEN..len].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn round_trip_with_trailing_erased_flash() {
    let (set, n) = token_set_bytes();
    let image = sample(&set[..n]);
    let (mut out, len) = encoded(&image);
    assert_eq!(len, OVERHEAD + 7 + 16 + n);
    assert_eq!(&out[..4], b"PAPI");
    // A flash region: the image, then erased bytes.
    out[len..].fill(0xFF);
    let back = Image::parse(&out).unwrap();
    assert_eq!(back, image);
    let decoded: TokenSet<64, 64> = back.decode_token_set().unwrap();
    let mut again = [0u8; 128];
    let m = decoded.encode(&mut again).unwrap();
    assert_eq!(&again[..m], &set[..n], "bit for bit");
}

#[test]
fn public_client_has_no_secret() {
    let image = Image {
        client_secret: None,
        ..sample(b"\x01x")
    };
    let (out, len) = encoded(&image);
    let back = Image::parse(&out[..len]).unwrap();
    assert_eq!(back.client_secret, None);
}

#[test]
fn debug_shows_no_secret_and_no_token() {
    let (set, n) = token_set_bytes();
    let image = sample(&set[..n]);
    let s = format!("{image:?}");
    assert!(!s.contains("pinterest-secret"), "{s}");
    assert!(!s.contains("pina_1") && !s.contains("pinr_1"), "{s}");
    assert!(s.contains("1234567"), "{s}");
}

#[test]
fn short_output_is_untouched() {
    let image = sample(b"\x01x");
    let needed = image.encoded_len().unwrap();
    let mut out = [0xAAu8; 64];
    assert_eq!(
        image.encode(&mut out[..needed - 1]),
        Err(ImageEncodeError::BufferTooSmall { needed })
    );
    assert!(out.iter().all(|&b| b == 0xAA));
}

#[test]
fn bad_fields_are_refused_when_writing() {
    let empty_id = Image {
        client_id: "",
        ..sample(b"\x01x")
    };
    assert_eq!(empty_id.encoded_len(), Err(ImageEncodeError::Field));
    let big = [0u8; 65_536];
    let too_long = sample(&big);
    assert_eq!(too_long.encoded_len(), Err(ImageEncodeError::Field));
}

#[test]
fn erased_flash_is_blank() {
    assert_eq!(Image::parse(&[0xFF; 64]), Err(ImageError::Blank));
}

#[test]
fn bad_magic() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[0] = b'X';
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::BadMagic));
    assert_eq!(Image::parse(&[0u8; 64]), Err(ImageError::BadMagic));
}

#[test]
fn unknown_version() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[4] = 2;
    reseal(&mut out, len);
    assert_eq!(
        Image::parse(&out[..len]),
        Err(ImageError::UnsupportedVersion(2))
    );
}

#[test]
fn reserved_bytes_not_zero() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[6] = 1;
    reseal(&mut out, len);
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::Reserved));
}

#[test]
fn every_truncation_is_a_length_error() {
    let (out, len) = encoded(&sample(b"\x01x"));
    for cut in 0..len {
        assert_eq!(
            Image::parse(&out[..cut]),
            Err(ImageError::Length),
            "cut {cut}"
        );
    }
}

#[test]
fn body_length_past_the_region() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::Length));
}

#[test]
fn fields_that_do_not_fill_the_body() {
    // A field length running past the body.
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&500u16.to_le_bytes());
    reseal(&mut out, len);
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::Length));
    // A body one byte longer than its fields.
    let (mut out, len) = encoded(&sample(b"\x01x"));
    let body = u32::from_le_bytes(out[8..12].try_into().unwrap()) + 1;
    out[8..12].copy_from_slice(&body.to_le_bytes());
    let (signed, rest) = out.split_at_mut(len - TRAILER_LEN);
    rest.copy_within(0..TRAILER_LEN, 1);
    rest[0] = 0;
    let _ = signed;
    reseal(&mut out, len + 1);
    assert_eq!(Image::parse(&out[..len + 1]), Err(ImageError::Length));
}

#[test]
fn every_flipped_bit_is_a_checksum_error() {
    let (set, n) = token_set_bytes();
    let (out, len) = encoded(&sample(&set[..n]));
    // Every bit after the header fields the earlier checks read (magic, version,
    // reserved, length): the CRC catches any single-bit error.
    for byte in 12..len {
        for bit in 0..8 {
            let mut bad = out;
            bad[byte] ^= 1 << bit;
            assert_eq!(
                Image::parse(&bad[..len]),
                Err(ImageError::Checksum),
                "byte {byte} bit {bit}"
            );
        }
    }
}

#[test]
fn half_erased_image_is_a_checksum_error() {
    let (set, n) = token_set_bytes();
    let (mut out, len) = encoded(&sample(&set[..n]));
    out[len / 2..len].fill(0xFF);
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::Checksum));
}

#[test]
fn client_id_not_utf8_or_empty() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    out[HEADER_LEN + 2] = 0xFF;
    reseal(&mut out, len);
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::ClientId));

    // An empty client id, written by hand (the encoder refuses it).
    let mut raw = [0u8; 64];
    raw[..4].copy_from_slice(&MAGIC);
    raw[4] = FORMAT_VERSION;
    raw[8..12].copy_from_slice(&8u32.to_le_bytes());
    // client id "", secret "", token set "ab".
    raw[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&[2, 0, b'a', b'b']);
    let len = HEADER_LEN + 8 + TRAILER_LEN;
    reseal(&mut raw, len);
    assert_eq!(Image::parse(&raw[..len]), Err(ImageError::ClientId));
}

#[test]
fn client_secret_not_utf8() {
    let (mut out, len) = encoded(&sample(b"\x01x"));
    // client id "1234567" is 7 bytes: the secret starts after its length and bytes.
    out[HEADER_LEN + 2 + 7 + 2] = 0xC3;
    out[HEADER_LEN + 2 + 7 + 3] = 0x28;
    reseal(&mut out, len);
    assert_eq!(Image::parse(&out[..len]), Err(ImageError::ClientSecret));
}

#[test]
fn token_set_that_does_not_decode() {
    let (set, n) = token_set_bytes();
    // Unknown token-set version.
    let mut bad = set;
    bad[0] = 9;
    let (out, len) = encoded(&sample(&bad[..n]));
    let image = Image::parse(&out[..len]).unwrap();
    assert_eq!(
        image.decode_token_set::<64, 64>(),
        Err(ImageError::TokenSet(CodecError::UnknownVersion(9)))
    );
    // Truncated.
    let (out, len) = encoded(&sample(&set[..n - 1]));
    let image = Image::parse(&out[..len]).unwrap();
    assert_eq!(
        image.decode_token_set::<64, 64>(),
        Err(ImageError::TokenSet(CodecError::Malformed))
    );
    // A token over the firmware's capacity.
    let (out, len) = encoded(&sample(&set[..n]));
    let image = Image::parse(&out[..len]).unwrap();
    assert_eq!(
        image.decode_token_set::<4, 64>(),
        Err(ImageError::TokenSet(CodecError::Malformed))
    );
    // Empty.
    let (out, len) = encoded(&sample(&[]));
    let image = Image::parse(&out[..len]).unwrap();
    assert_eq!(
        image.decode_token_set::<64, 64>(),
        Err(ImageError::TokenSet(CodecError::Empty))
    );
}
