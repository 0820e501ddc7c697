//! The `state` parameter (RFC 6749 §10.12): constant-time comparison, and a
//! stateless signed state that any server of a fleet can check without a shared
//! session store.
//!
//! # Signed state
//!
//! [`SignedState::new`] packs a caller-supplied nonce, an expiry time and a tag of the
//! redirect URI, and signs them with HMAC-SHA256 under the caller's key. The result is
//! [`SIGNED_STATE_LEN`] base64url characters (URL-safe, no padding), held inline.
//!
//! Layout before base64url: `version (1) ‖ expires_at (8, big-endian) ‖ nonce (16) ‖
//! redirect tag (8) ‖ HMAC-SHA256 (32)`. The redirect tag is the first 8 bytes of
//! SHA-256 of the redirect URI: it is carried so a state sent back on another redirect
//! is told apart from a forged one; the MAC covers it with everything else, under a
//! domain-separation label.
//!
//! [`verify`] checks, in this order: the encoding, the MAC (constant time), the
//! redirect, the expiry. A state is refused as [`StateError::Expired`] once
//! `now >= expires_at`.
//!
//! The signature makes the state unforgeable and bound to one redirect URI and one time
//! window; it does not make it single-use. A server that must refuse a second use
//! within the window keeps the [`VerifiedState::nonce`]s it has seen until they expire.
//!
//! ```
//! use picoauth::state::{verify, SignedState, StateError, StateKey};
//! let key = StateKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
//! let redirect = "https://app.example.com/cb";
//! let s = SignedState::new(&key, &[9u8; 16], 1_700_000_600, redirect);
//! let ok = verify(&key, s.as_str(), redirect, 1_700_000_000).unwrap();
//! assert_eq!(ok.expires_at, 1_700_000_600);
//! assert_eq!(verify(&key, s.as_str(), redirect, 1_700_000_600), Err(StateError::Expired { expired_at: 1_700_000_600 }));
//! assert_eq!(verify(&key, s.as_str(), "https://evil.example/cb", 1_700_000_000), Err(StateError::WrongRedirect));
//! ```

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `a` and `b` are equal, in time that depends on their lengths only, never
/// on where they differ. Use it to compare a received `state` with the one sent.
///
/// ```
/// assert!(picoauth::state::ct_eq(b"test-secret", b"test-secret"));
/// assert!(!picoauth::state::ct_eq(b"test-secret", b"wrong-test-secret"));
/// ```
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    // `subtle` returns early on a length mismatch, which reveals only the length.
    bool::from(a.ct_eq(b))
}

/// Compares the `state` received on the callback with the one sent, in constant time.
///
/// # Errors
/// [`StateError::Missing`] when nothing was received; [`StateError::Mismatch`] when
/// they differ or when `sent` is empty (an empty state protects nothing).
pub fn check_plain(sent: &str, received: Option<&str>) -> Result<(), StateError> {
    match received {
        Some(r) if !sent.is_empty() && ct_eq(sent.as_bytes(), r.as_bytes()) => Ok(()),
        Some(_) => Err(StateError::Mismatch),
        None => Err(StateError::Missing),
    }
}

/// The shortest key [`StateKey::new`] accepts, in bytes. 32 random bytes are best.
pub const MIN_KEY_LEN: usize = 16;
/// The nonce length.
pub const NONCE_LEN: usize = 16;
const VERSION: u8 = 1;
const TAG_LEN: usize = 8;
const MAC_LEN: usize = 32;
const RAW_LEN: usize = 1 + 8 + NONCE_LEN + TAG_LEN + MAC_LEN;
const SIGNED_LEN: usize = 1 + 8 + NONCE_LEN + TAG_LEN;
/// The length of a signed state: base64url of 65 bytes, without padding.
pub const SIGNED_STATE_LEN: usize = (RAW_LEN * 4).div_ceil(3);
const LABEL: &[u8] = b"picoauth signed state v1\0";

/// The key that signs states, borrowed from the caller. `Debug` is redacted.
#[derive(Clone, Copy)]
pub struct StateKey<'k>(&'k [u8]);

impl<'k> StateKey<'k> {
    /// Wraps a key of at least [`MIN_KEY_LEN`] bytes; `None` when shorter.
    pub const fn new(key: &'k [u8]) -> Option<Self> {
        if key.len() < MIN_KEY_LEN {
            None
        } else {
            Some(Self(key))
        }
    }

    fn mac(&self) -> Option<Hmac<Sha256>> {
        // HMAC takes keys of any length; this never fails.
        let mut m = <Hmac<Sha256> as hmac::Mac>::new_from_slice(self.0).ok()?;
        m.update(LABEL);
        Some(m)
    }
}

impl fmt::Debug for StateKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey([redacted])")
    }
}

fn redirect_tag(redirect_uri: &str) -> [u8; TAG_LEN] {
    let d = Sha256::digest(redirect_uri.as_bytes());
    let mut tag = [0u8; TAG_LEN];
    if let Some(src) = d.get(..TAG_LEN) {
        tag.copy_from_slice(src);
    }
    tag
}

/// A signed, URL-safe `state` value, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignedState([u8; SIGNED_STATE_LEN]);

impl SignedState {
    /// Signs `nonce` (fresh random bytes from the caller), `expires_at` (unix seconds)
    /// and `redirect_uri` under `key`.
    pub fn new(
        key: &StateKey<'_>,
        nonce: &[u8; NONCE_LEN],
        expires_at: u64,
        redirect_uri: &str,
    ) -> Self {
        let mut raw = [0u8; RAW_LEN];
        let (signed, mac_out) = raw.split_at_mut(SIGNED_LEN);
        let parts: [&[u8]; 4] = [
            &[VERSION],
            &expires_at.to_be_bytes(),
            nonce,
            &redirect_tag(redirect_uri),
        ];
        let mut at = 0usize;
        for p in parts {
            let end = at.saturating_add(p.len());
            if let Some(dst) = signed.get_mut(at..end) {
                dst.copy_from_slice(p);
            }
            at = end;
        }
        if let Some(mut m) = key.mac() {
            m.update(signed);
            mac_out.copy_from_slice(&m.finalize().into_bytes());
        }
        let mut out = [0u8; SIGNED_STATE_LEN];
        // 65 bytes encode to exactly SIGNED_STATE_LEN characters; this cannot fail.
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut out);
        Self(out)
    }

    /// The state, for the authorize URL.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The exact length of [`as_str`](Self::as_str): [`SIGNED_STATE_LEN`].
    pub const fn encoded_len(&self) -> usize {
        SIGNED_STATE_LEN
    }
}

impl fmt::Debug for SignedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SignedState").field(&self.as_str()).finish()
    }
}

impl fmt::Display for SignedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a valid signed state carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VerifiedState {
    /// The nonce it was made with (keep it to refuse a second use, if needed).
    pub nonce: [u8; NONCE_LEN],
    /// When it expires, unix seconds.
    pub expires_at: u64,
}

/// Why a `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StateError {
    /// The callback carried no `state`.
    Missing,
    /// The `state` received differs from the one sent.
    Mismatch,
    /// Not a signed state: wrong length, not base64url, or an unknown version.
    Malformed,
    /// The signature does not match: altered, forged, or signed with another key.
    BadSignature,
    /// Genuine, but made for another redirect URI.
    WrongRedirect,
    /// Genuine, but expired.
    Expired {
        /// When it expired, unix seconds.
        expired_at: u64,
    },
}

impl StateError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Missing => "OAuth redirect has no state",
            Self::Mismatch => "received OAuth state does not match sent state",
            Self::Malformed => "OAuth state is malformed",
            Self::BadSignature => "OAuth state signature is invalid",
            Self::WrongRedirect => "OAuth state was made for another redirect",
            Self::Expired { .. } => "OAuth state has expired",
        }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired { expired_at } => write!(f, "OAuth state expired at {expired_at}"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl core::error::Error for StateError {}

/// Checks a signed `state` received on the callback to `redirect_uri` at time `now`
/// (unix seconds).
///
/// # Errors
/// [`StateError::Malformed`], [`StateError::BadSignature`],
/// [`StateError::WrongRedirect`] or [`StateError::Expired`], checked in that order.
pub fn verify(
    key: &StateKey<'_>,
    state: &str,
    redirect_uri: &str,
    now: u64,
) -> Result<VerifiedState, StateError> {
    if state.len() != SIGNED_STATE_LEN {
        return Err(StateError::Malformed);
    }
    let mut raw = [0u8; RAW_LEN];
    // Strict decoding: non-canonical trailing bits are refused, so every character
    // string maps to at most one byte string.
    match URL_SAFE_NO_PAD.decode_slice(state.as_bytes(), &mut raw) {
        Ok(RAW_LEN) => {}
        _ => return Err(StateError::Malformed),
    }
    let (signed, mac) = raw.split_at(SIGNED_LEN);
    let mut m = key.mac().ok_or(StateError::BadSignature)?;
    m.update(signed);
    m.verify_slice(mac).map_err(|_| StateError::BadSignature)?;
    // Only authenticated bytes are read from here on.
    let version = signed.first().copied();
    let expiry = signed.get(1..9).and_then(|b| <[u8; 8]>::try_from(b).ok());
    let nonce = signed
        .get(9..9 + NONCE_LEN)
        .and_then(|b| <[u8; NONCE_LEN]>::try_from(b).ok());
    let tag = signed.get(9 + NONCE_LEN..SIGNED_LEN);
    let (Some(VERSION), Some(expiry), Some(nonce), Some(tag)) = (version, expiry, nonce, tag)
    else {
        return Err(StateError::Malformed);
    };
    if !ct_eq(tag, &redirect_tag(redirect_uri)) {
        return Err(StateError::WrongRedirect);
    }
    let expires_at = u64::from_be_bytes(expiry);
    if now >= expires_at {
        return Err(StateError::Expired {
            expired_at: expires_at,
        });
    }
    Ok(VerifiedState { nonce, expires_at })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    const KEY: &[u8] = b"an example key of thirty-two b..";

    #[test]
    fn round_trip_and_refusals() {
        let key = StateKey::new(KEY).unwrap();
        let s = SignedState::new(&key, &[1u8; 16], 1000, "http://127.0.0.1:8085/callback");
        assert_eq!(s.as_str().len(), SIGNED_STATE_LEN);
        assert_eq!(SIGNED_STATE_LEN, 87);
        assert!(s
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let v = verify(&key, s.as_str(), "http://127.0.0.1:8085/callback", 999).unwrap();
        assert_eq!(
            v,
            VerifiedState {
                nonce: [1u8; 16],
                expires_at: 1000
            }
        );
        assert_eq!(
            verify(&key, s.as_str(), "http://127.0.0.1:8085/callback", 1000),
            Err(StateError::Expired { expired_at: 1000 })
        );
        assert_eq!(
            verify(&key, s.as_str(), "http://127.0.0.1:8085/callbacK", 0),
            Err(StateError::WrongRedirect)
        );
        let other = StateKey::new(b"another key, sixteen+ bytes").unwrap();
        assert_eq!(
            verify(&other, s.as_str(), "http://127.0.0.1:8085/callback", 0),
            Err(StateError::BadSignature)
        );
        assert_eq!(verify(&key, "short", "x", 0), Err(StateError::Malformed));
        let mut bad = std::string::String::from(s.as_str());
        bad.replace_range(0..1, "+");
        assert_eq!(verify(&key, &bad, "x", 0), Err(StateError::Malformed));
    }

    #[test]
    fn keys_are_checked_and_redacted() {
        assert!(StateKey::new(b"too short").is_none());
        let k = StateKey::new(KEY).unwrap();
        assert_eq!(format!("{k:?}"), "StateKey([redacted])");
    }

    #[test]
    fn plain_comparison() {
        assert_eq!(check_plain("test-secret", Some("test-secret")), Ok(()));
        assert_eq!(
            check_plain("test-secret", Some("wrong-test-secret")),
            Err(StateError::Mismatch)
        );
        assert_eq!(check_plain("test-secret", None), Err(StateError::Missing));
        assert_eq!(check_plain("", Some("")), Err(StateError::Mismatch));
    }
}
