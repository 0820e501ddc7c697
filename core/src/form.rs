//! `application/x-www-form-urlencoded` (WHATWG URL Standard §5, RFC 6749 Appendix B).
//!
//! The encoder keeps `A–Z a–z 0–9 * - . _` as they are, writes a space as `+` (or as
//! `%20` inside HTTP Basic credentials, see [`Space`]) and every other byte of the
//! UTF-8 encoding as `%XX` with upper-case hex digits.
//!
//! The decoder is strict: a `%` not followed by two hex digits, or a result that is
//! not UTF-8, is an error rather than passed through.
//!
//! ```
//! use picoauth::form;
//! let mut buf = [0u8; 64];
//! let n = form::encode("https://client.example.com/cb?a=b c", &mut buf).unwrap();
//! assert_eq!(&buf[..n], b"https%3A%2F%2Fclient.example.com%2Fcb%3Fa%3Db+c");
//! let mut out = [0u8; 64];
//! assert_eq!(form::decode(&buf[..n], &mut out).unwrap(), "https://client.example.com/cb?a=b c");
//! ```

use core::fmt;

use crate::error::BufferTooSmall;
use crate::sink::{encode_with, Sink};

/// How a space is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// `+`: what `application/x-www-form-urlencoded` bodies and queries use.
    Plus,
    /// `%20`: used inside HTTP Basic credentials, because widely used servers
    /// (Authlib among them) percent-decode them without turning `+` into a space.
    Percent20,
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes written as they are, as a table: one load per byte on the hot path.
const UNRESERVED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
        i += 1;
    }
    t
};

const fn is_unreserved(b: u8) -> bool {
    UNRESERVED[b as usize]
}

/// The encoded length of `s`.
pub fn encoded_len(s: &str, space: Space) -> usize {
    s.bytes().fold(0usize, |n, b| {
        n.saturating_add(match b {
            b' ' if space == Space::Plus => 1,
            b if is_unreserved(b) => 1,
            _ => 3,
        })
    })
}

pub(crate) fn emit(sink: &mut dyn Sink, s: &str, space: Space) {
    // Copy runs of bytes that need no escaping in one call: most values (codes,
    // tokens, ids) are a single run.
    let bytes = s.as_bytes();
    let mut run = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        sink.put_slice(bytes.get(run..i).unwrap_or(&[]));
        run = i + 1;
        if b == b' ' && space == Space::Plus {
            sink.put(b'+');
        } else {
            sink.put_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
    }
    sink.put_slice(bytes.get(run..).unwrap_or(&[]));
}

/// The encoding of one byte: `[b, _, _]` when it stays as it is (or `+`), else
/// `[%, hi, lo]`.
pub(crate) const fn escape(b: u8, space: Space) -> [u8; 3] {
    if is_unreserved(b) {
        [b, 0, 0]
    } else if b == b' ' && matches!(space, Space::Plus) {
        [b'+', 0, 0]
    } else {
        [b'%', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]
    }
}

/// Form-encodes `s` (space as `+`) into `out`, returning the length written.
///
/// # Errors
/// [`BufferTooSmall`] with the needed length; `out` is then untouched.
pub fn encode(s: &str, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    encode_with(out, |sink| emit(sink, s, Space::Plus))
}

/// Why form-decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FormDecodeError {
    /// A `%` at `offset` is not followed by two hex digits.
    InvalidPercent {
        /// Byte offset of the `%` in the input.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8.
    InvalidUtf8,
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// The exact decoded length.
        needed: usize,
    },
}

impl fmt::Display for FormDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPercent { offset } => write!(f, "invalid percent-escape at byte {offset}"),
            Self::InvalidUtf8 => f.write_str("decoded value is not UTF-8"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for FormDecodeError {}

const fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes form-encoded bytes one at a time (`+` → space, `%XX` → byte).
fn decoded(input: &[u8]) -> impl Iterator<Item = Result<u8, FormDecodeError>> + '_ {
    let mut i = 0usize;
    core::iter::from_fn(move || {
        let b = *input.get(i)?;
        let at = i;
        i += 1;
        Some(match b {
            b'+' => Ok(b' '),
            b'%' => {
                let hi = input.get(at + 1).copied().and_then(hex_val);
                let lo = input.get(at + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        i = at + 3;
                        Ok(h << 4 | l)
                    }
                    _ => Err(FormDecodeError::InvalidPercent { offset: at }),
                }
            }
            b => Ok(b),
        })
    })
}

/// The decoded length of `input`, checking every escape.
///
/// # Errors
/// [`FormDecodeError::InvalidPercent`] for a bad escape.
pub fn decoded_len(input: &[u8]) -> Result<usize, FormDecodeError> {
    decoded(input).try_fold(0usize, |n, r| r.map(|_| n + 1))
}

/// Decodes `input` into `out` and returns the decoded text.
///
/// A value with nothing to decode needs no buffer at all: see [`decode_borrowed`].
///
/// # Errors
/// A bad escape, invalid UTF-8, or a short `out` (which is then left untouched).
pub fn decode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o str, FormDecodeError> {
    let needed = decoded_len(input)?;
    let dst = out
        .get_mut(..needed)
        .ok_or(FormDecodeError::BufferTooSmall { needed })?;
    for (slot, b) in dst.iter_mut().zip(decoded(input)) {
        *slot = b?;
    }
    core::str::from_utf8(dst).map_err(|_| FormDecodeError::InvalidUtf8)
}

/// Returns `input` as it is when it holds no `+` or `%` (nothing to decode), else `None`.
///
/// # Errors
/// [`FormDecodeError::InvalidUtf8`] when `input` is not UTF-8.
pub fn decode_borrowed(input: &[u8]) -> Result<Option<&str>, FormDecodeError> {
    if input.iter().any(|&b| b == b'+' || b == b'%') {
        return Ok(None);
    }
    core::str::from_utf8(input)
        .map(Some)
        .map_err(|_| FormDecodeError::InvalidUtf8)
}

/// Splits a form-encoded string (`a=1&b=2`) into raw, still-encoded `(name, value)`
/// pairs. Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` has an empty value.
///
/// ```
/// let mut it = picoauth::form::pairs(b"code=abc&state=x%20y&&flag");
/// assert_eq!(it.next(), Some((&b"code"[..], &b"abc"[..])));
/// assert_eq!(it.next(), Some((&b"state"[..], &b"x%20y"[..])));
/// assert_eq!(it.next(), Some((&b"flag"[..], &b""[..])));
/// assert_eq!(it.next(), None);
/// ```
pub fn pairs(input: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    input
        .split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|&b| b == b'=') {
            Some(eq) => (p.get(..eq).unwrap_or(&[]), p.get(eq + 1..).unwrap_or(&[])),
            None => (p, &[][..]),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str, space: Space) -> ([u8; 256], usize) {
        let mut buf = [0u8; 256];
        let mut w = crate::sink::Write::new(&mut buf);
        emit(&mut w, s, space);
        let n = w.pos;
        assert_eq!(n, encoded_len(s, space));
        (buf, n)
    }

    #[test]
    fn encodes_per_whatwg() {
        let (b, n) = enc("aaa/;&", Space::Plus);
        assert_eq!(&b[..n], b"aaa%2F%3B%26");
        let (b, n) = enc("read write", Space::Plus);
        assert_eq!(&b[..n], b"read+write");
        let (b, n) = enc("read write", Space::Percent20);
        assert_eq!(&b[..n], b"read%20write");
        let (b, n) = enc("*-._~!'()", Space::Plus);
        assert_eq!(&b[..n], b"*-._%7E%21%27%28%29");
        let (b, n) = enc("é", Space::Plus);
        assert_eq!(&b[..n], b"%C3%A9");
        let (b, n) = enc("urn:ietf:params:oauth:grant-type:device_code", Space::Plus);
        assert_eq!(
            &b[..n],
            b"urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        );
    }

    #[test]
    fn escape_matches_emit() {
        for s in ["", "a b", "1PpG/Q 1", "z/tZ9+=:%", "ünï"] {
            for space in [Space::Plus, Space::Percent20] {
                let (b, n) = enc(s, space);
                let mut one = [0u8; 256];
                let mut m = 0;
                for c in s.bytes() {
                    let e = escape(c, space);
                    let k = if e[0] == b'%' { 3 } else { 1 };
                    one[m..m + k].copy_from_slice(&e[..k]);
                    m += k;
                }
                assert_eq!(&one[..m], &b[..n]);
            }
        }
    }

    #[test]
    fn encode_reports_needed_and_leaves_buffer() {
        let mut small = [7u8; 4];
        assert_eq!(
            encode("a b/c", &mut small),
            Err(BufferTooSmall { needed: 7 })
        );
        assert_eq!(small, [7u8; 4]);
    }

    #[test]
    fn decodes_and_refuses_bad_escapes() {
        let mut out = [0u8; 64];
        assert_eq!(decode(b"a+b%20c%2f%C3%A9", &mut out).unwrap(), "a b c/é");
        // RFC 6749's own artwork escapes dots; they decode the same.
        assert_eq!(
            decode(b"https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb", &mut out).unwrap(),
            "https://client.example.com/cb"
        );
        assert_eq!(
            decode(b"a%2", &mut out),
            Err(FormDecodeError::InvalidPercent { offset: 1 })
        );
        assert_eq!(
            decode(b"%zz", &mut out),
            Err(FormDecodeError::InvalidPercent { offset: 0 })
        );
        assert_eq!(
            decode(b"%", &mut out),
            Err(FormDecodeError::InvalidPercent { offset: 0 })
        );
        assert_eq!(decode(b"%ff", &mut out), Err(FormDecodeError::InvalidUtf8));
        let mut tiny = [9u8; 2];
        assert_eq!(
            decode(b"abc", &mut tiny),
            Err(FormDecodeError::BufferTooSmall { needed: 3 })
        );
        assert_eq!(tiny, [9, 9]);
        assert_eq!(decode_borrowed(b"plain").unwrap(), Some("plain"));
        assert_eq!(decode_borrowed(b"a+b").unwrap(), None);
        assert_eq!(decode_borrowed(b"\xff"), Err(FormDecodeError::InvalidUtf8));
    }
}
