//! PKCE (RFC 7636) with the `S256` method: a code verifier and its challenge, in
//! fixed-size buffers.
//!
//! The core has no random number generator: the caller hands in 32 bytes of entropy
//! (from the platform RNG, a TRNG peripheral, …), which become a 43-character
//! base64url verifier (RFC 7636 §4.1 recommends exactly this).
//!
//! ```
//! use picoauth::pkce::CodeVerifier;
//! // RFC 7636 Appendix B.
//! let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
//! assert_eq!(v.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
//!
//! let v = CodeVerifier::from_entropy(&[7u8; 32]);
//! assert_eq!(v.expose().len(), 43);
//! assert!(!format!("{v:?}").contains(v.expose()));
//! ```

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::secret::fmt_redacted;

/// The shortest verifier RFC 7636 §4.1 allows.
pub const MIN_VERIFIER_LEN: usize = 43;
/// The longest verifier RFC 7636 §4.1 allows.
pub const MAX_VERIFIER_LEN: usize = 128;
/// The length of an `S256` challenge: base64url of 32 bytes, without padding.
pub const CHALLENGE_LEN: usize = 43;
/// The `code_challenge_method` value picoauth sends.
pub const METHOD_S256: &str = "S256";

/// Why a code verifier was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PkceError {
    /// Shorter than 43 or longer than 128 characters.
    InvalidLength {
        /// The length given.
        len: usize,
    },
    /// A character outside `A–Z a–z 0–9 - . _ ~` at byte `offset`.
    InvalidChar {
        /// Byte offset of the first bad character.
        offset: usize,
    },
}

impl fmt::Display for PkceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLength { len } => {
                write!(
                    f,
                    "code verifier has {len} characters, RFC 7636 needs 43 to 128"
                )
            }
            Self::InvalidChar { offset } => {
                write!(
                    f,
                    "code verifier has a character outside [A-Za-z0-9-._~] at byte {offset}"
                )
            }
        }
    }
}

impl core::error::Error for PkceError {}

const fn is_verifier_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Checks that `verifier` is 43 to 128 characters of `A–Z a–z 0–9 - . _ ~`.
///
/// # Errors
/// [`PkceError::InvalidLength`] or [`PkceError::InvalidChar`].
pub fn validate_verifier(verifier: &str) -> Result<(), PkceError> {
    let len = verifier.len();
    if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&len) {
        return Err(PkceError::InvalidLength { len });
    }
    match verifier.bytes().position(|b| !is_verifier_char(b)) {
        Some(offset) => Err(PkceError::InvalidChar { offset }),
        None => Ok(()),
    }
}

/// A PKCE code verifier (a secret until the token request), held inline.
///
/// `Debug` and `Display` are redacted; [`expose`](Self::expose) gives the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeVerifier {
    buf: [u8; MAX_VERIFIER_LEN],
    len: u8,
}

impl CodeVerifier {
    /// A 43-character verifier: the base64url encoding of 32 bytes of caller-supplied
    /// entropy. The entropy must come from a cryptographically secure source.
    pub fn from_entropy(entropy: &[u8; 32]) -> Self {
        let mut buf = [0u8; MAX_VERIFIER_LEN];
        // 32 bytes always encode to 43 characters, which fit; a failure is impossible
        // and would only leave an empty verifier, which `expose` then shows as "".
        let len = URL_SAFE_NO_PAD.encode_slice(entropy, &mut buf).unwrap_or(0);
        Self {
            buf,
            len: u8::try_from(len).unwrap_or(0),
        }
    }

    /// A verifier the caller already has (e.g. kept across the redirect).
    ///
    /// # Errors
    /// When it is not 43 to 128 characters of `A–Z a–z 0–9 - . _ ~`.
    pub fn parse(verifier: &str) -> Result<Self, PkceError> {
        validate_verifier(verifier)?;
        let mut buf = [0u8; MAX_VERIFIER_LEN];
        let src = verifier.as_bytes();
        if let Some(dst) = buf.get_mut(..src.len()) {
            dst.copy_from_slice(src);
        }
        Ok(Self {
            buf,
            len: u8::try_from(src.len())
                .map_err(|_| PkceError::InvalidLength { len: src.len() })?,
        })
    }

    /// The verifier, for the token request's `code_verifier`.
    pub fn expose(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or(&[]);
        // Only ASCII is ever stored.
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// The `S256` challenge of this verifier.
    pub fn challenge(&self) -> CodeChallenge {
        CodeChallenge::s256(self.expose())
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(")?;
        fmt_redacted(f, self.expose().chars())?;
        f.write_str(")")
    }
}

impl fmt::Display for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_redacted(f, self.expose().chars())
    }
}

/// An `S256` code challenge: `BASE64URL(SHA256(ASCII(code_verifier)))`, 43 characters.
///
/// Not a secret: it travels in the authorize URL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeChallenge([u8; CHALLENGE_LEN]);

impl CodeChallenge {
    /// The `S256` challenge of `verifier`. The verifier is not validated here: see
    /// [`CodeVerifier::parse`] or [`validate_verifier`].
    pub fn s256(verifier: &str) -> Self {
        let digest = Sha256::digest(verifier.as_bytes());
        let mut out = [0u8; CHALLENGE_LEN];
        // 32 bytes encode to exactly 43 characters; the result cannot fail.
        let _ = URL_SAFE_NO_PAD.encode_slice(digest, &mut out);
        Self(out)
    }

    /// The challenge text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The method, always `S256`.
    pub const fn method(&self) -> &'static str {
        METHOD_S256
    }

    /// Whether `verifier` matches this challenge (constant time in the challenge).
    pub fn matches(&self, verifier: &str) -> bool {
        crate::state::ct_eq(&Self::s256(verifier).0, &self.0)
    }
}

impl fmt::Debug for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CodeChallenge")
            .field(&self.as_str())
            .finish()
    }
}

impl fmt::Display for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn rfc7636_appendix_b() {
        // The verifier of Appendix B is the base64url of these 32 octets.
        let entropy = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let v = CodeVerifier::from_entropy(&entropy);
        assert_eq!(v.expose(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let c = v.challenge();
        assert_eq!(c.as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(c.method(), "S256");
        assert!(c.matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!c.matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"));
    }

    #[test]
    fn verifier_rules() {
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(42)),
            Err(PkceError::InvalidLength { len: 42 })
        );
        assert_eq!(
            CodeVerifier::parse(&"a".repeat(129)),
            Err(PkceError::InvalidLength { len: 129 })
        );
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        let long = "~._-".repeat(32);
        assert_eq!(CodeVerifier::parse(&long).unwrap().expose(), long);
        let mut bad = "a".repeat(50);
        bad.replace_range(10..11, "+");
        assert_eq!(
            CodeVerifier::parse(&bad),
            Err(PkceError::InvalidChar { offset: 10 })
        );
        let bad = format!("{}é", "a".repeat(44));
        assert_eq!(
            CodeVerifier::parse(&bad),
            Err(PkceError::InvalidChar { offset: 44 })
        );
    }

    #[test]
    fn verifier_is_redacted() {
        let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let d = format!("{v:?} {v}");
        assert!(!d.contains("CVP-mB92"), "{d}");
        assert_eq!(format!("{v:?}"), "CodeVerifier(dBjf…[redacted])");
    }
}
