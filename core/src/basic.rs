//! HTTP Basic client authentication per RFC 6749 §2.3.1.
//!
//! The client id and secret are each form-urlencoded *before* they are joined with
//! `:` and base64-encoded, so an id or secret holding `:` survives. A space is written
//! as `%20` rather than `+`: servers that form-decode the credentials read both, but
//! widely used ones (Authlib among them) percent-decode them, where `+` stays `+`.
//!
//! The value is streamed straight into the caller's buffer: the encoded credentials
//! pass through a 48-byte stack block into base64, never a full temporary copy.
//!
//! ```
//! use picoauth::basic::BasicAuth;
//! let auth = BasicAuth::new("s6BhdRkqt3", "gX1fBat3bV".into());
//! let mut buf = [0u8; 64];
//! let n = auth.encode(&mut buf).unwrap();
//! assert_eq!(&buf[..n], b"Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW");
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroize as _;

use crate::error::BufferTooSmall;
use crate::form::{self, Space};
use crate::sink::{encode_with, Sink};
use crate::ClientSecret;

/// The `Authorization: Basic …` credentials of a confidential client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicAuth<'a> {
    client_id: &'a str,
    client_secret: ClientSecret<'a>,
}

/// Input bytes per base64 block: a multiple of 3, so blocks join without padding.
const BLOCK: usize = 48;

impl<'a> BasicAuth<'a> {
    /// Credentials from a client id and secret.
    pub const fn new(client_id: &'a str, client_secret: ClientSecret<'a>) -> Self {
        Self {
            client_id,
            client_secret,
        }
    }

    fn credentials_len(&self) -> usize {
        form::encoded_len(self.client_id, Space::Percent20)
            .saturating_add(1)
            .saturating_add(form::encoded_len(
                self.client_secret.expose(),
                Space::Percent20,
            ))
    }

    /// The exact length of the header value, `Basic ` included.
    pub fn encoded_len(&self) -> usize {
        let n = self.credentials_len();
        6usize.saturating_add(n.div_ceil(3).saturating_mul(4))
    }

    pub(crate) fn emit(&self, sink: &mut dyn Sink) {
        sink.put_str("Basic ");
        // Form-encoded bytes gather in a block; whole 48-byte blocks go through
        // base64 (48 is a multiple of 3, so blocks join without padding). At most
        // two bytes spill over into the next block.
        let mut block = [0u8; BLOCK + 2];
        let mut filled = 0usize;
        let mut out = [0u8; BLOCK / 3 * 4];
        let mut push = |bytes: &[u8],
                        block: &mut [u8; BLOCK + 2],
                        filled: &mut usize,
                        sink: &mut dyn Sink| {
            for &b in bytes {
                if let Some(slot) = block.get_mut(*filled) {
                    *slot = b;
                    *filled += 1;
                }
            }
            if *filled >= BLOCK {
                if let Ok(n) = STANDARD.encode_slice(block.get(..BLOCK).unwrap_or(&[]), &mut out) {
                    sink.put_slice(out.get(..n).unwrap_or(&[]));
                }
                // At most two bytes spill over; moved by hand (no memmove in firmware).
                let spill = *filled - BLOCK;
                for i in 0..spill {
                    block[i] = block[BLOCK + i];
                }
                *filled = spill;
            }
        };
        let parts = [self.client_id, ":", self.client_secret.expose()];
        for (i, part) in parts.iter().enumerate() {
            for &b in part.as_bytes() {
                let enc = if i == 1 {
                    [b, 0, 0]
                } else {
                    form::escape(b, Space::Percent20)
                };
                let n = if enc[0] == b'%' { 3 } else { 1 };
                push(enc.get(..n).unwrap_or(&[]), &mut block, &mut filled, sink);
            }
        }
        if filled > 0 {
            let mut tail = [0u8; BLOCK / 3 * 4];
            if let Ok(n) = STANDARD.encode_slice(block.get(..filled).unwrap_or(&[]), &mut tail) {
                sink.put_slice(tail.get(..n).unwrap_or(&[]));
            }
            tail.zeroize();
        }
        // The blocks held the secret, plain and in base64: wiped, not left on the stack.
        block.zeroize();
        out.zeroize();
    }

    /// Writes `Basic <base64>` into `out` and returns its length.
    ///
    /// # Errors
    /// [`BufferTooSmall`]; `out` is then untouched.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        encode_with(out, |sink| self.emit(sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(id: &str, secret: &str) -> ([u8; 512], usize) {
        let a = BasicAuth::new(id, ClientSecret::new(secret));
        let mut buf = [0u8; 512];
        let n = a.encode(&mut buf).unwrap();
        assert_eq!(n, a.encoded_len());
        (buf, n)
    }

    // Vectors from ../shared/fixtures/SOURCES.md, "Request expectations".
    #[test]
    fn known_vectors() {
        let cases: &[(&str, &str, &str)] = &[
            ("s6BhdRkqt3", "gX1fBat3bV", "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"),
            ("aaa", "bbb", "Basic YWFhOmJiYg=="),
            ("aaa/;&", "bbb/;&", "Basic YWFhJTJGJTNCJTI2OmJiYiUyRiUzQiUyNg=="),
            (
                "1PpG/Q 1",
                "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=",
                "Basic MVBwRyUyRlElMjAxOnolMkZ0WjlWd0ZacUFwbUlRJTJCWkgxSTVwTGslMkZ1QjR1ZCUzQVgyJTJGOGJMJTJCd2ZGVHQxckZ3JTNE",
            ),
            ("111.222", "secret", "Basic MTExLjIyMjpzZWNyZXQ="),
            ("111.222", "token_rotation_secret", "Basic MTExLjIyMjp0b2tlbl9yb3RhdGlvbl9zZWNyZXQ="),
            ("test-app-id", "test-app-secret", "Basic dGVzdC1hcHAtaWQ6dGVzdC1hcHAtc2VjcmV0"),
            ("123", "456", "Basic MTIzOjQ1Ng=="),
        ];
        for &(id, secret, want) in cases {
            let (b, n) = value(id, secret);
            assert_eq!(
                core::str::from_utf8(&b[..n]).unwrap(),
                want,
                "{id}:{secret}"
            );
        }
    }

    #[test]
    fn long_credentials_cross_block_boundaries() {
        extern crate std;
        // Every block path: empty, partial, exact and multiple 48-byte blocks.
        for len in [0usize, 1, 2, 3, 46, 47, 48, 49, 95, 96, 97, 200] {
            let id = "x".repeat(len);
            let (b, n) = value(&id, "");
            let raw = std::format!("{id}:");
            assert_eq!(&b[6..n], STANDARD.encode(raw).as_bytes());
        }
    }

    #[test]
    fn short_buffer_is_untouched() {
        let a = BasicAuth::new("aaa", ClientSecret::new("bbb"));
        let mut buf = [1u8; 10];
        assert_eq!(a.encode(&mut buf), Err(BufferTooSmall { needed: 18 }));
        assert_eq!(buf, [1u8; 10]);
    }
}
