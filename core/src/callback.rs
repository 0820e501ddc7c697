//! The authorization response (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 `iss`): the
//! redirect back to the client, parsed into a code or a refusal.
//!
//! [`Callback::parse`] takes the redirect's query (`code=…&state=…`), the whole
//! request target (`/cb?code=…&state=…`) or a full URL. Values with nothing to
//! decode are borrowed from the input; the others are decoded into the caller's
//! `scratch` buffer (at most the length of the input is ever needed, so a scratch as
//! long as the input always suffices).
//!
//! The parser is strict: a bad `%`-escape, a value that is not UTF-8, a parameter
//! given twice, both `code` and `error`, or neither, is an error. Parameter names are
//! matched as written (not decoded); parameters picoauth does not know are ignored,
//! but their escapes are still checked.
//!
//! The `state` is not checked by parsing: call [`Callback::check_state`] (the state
//! sent, compared in constant time) or [`Callback::verify_signed_state`] before
//! using the code, on success and on refusal alike.
//!
//! ```
//! use picoauth::callback::{Callback, AuthorizationErrorCode};
//! let mut scratch = [0u8; 64];
//! let cb = Callback::parse(b"/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz", &mut scratch).unwrap();
//! assert_eq!(cb.code().map(|c| c.expose()), Some("SplxlOBeZQQYbYS6WxSbIA"));
//! assert!(cb.check_state("xyz").is_ok());
//!
//! let mut scratch = [0u8; 64];
//! let cb = Callback::parse(b"https://client.example.com/cb?error=access_denied&error_description=User+said+no&state=xyz", &mut scratch).unwrap();
//! assert_eq!(cb.error(), Some(AuthorizationErrorCode::AccessDenied));
//! assert_eq!(cb.error_description(), Some("User said no"));
//! ```

use core::fmt;

use crate::codes::codes;
use crate::form::{self, FormDecodeError};
use crate::secret::SecretStr;
use crate::state::{self, StateError, StateKey, VerifiedState};

codes! {
    /// An authorization error code (RFC 6749 §4.1.2.1), the redirect's `error`
    /// parameter; unknown codes are kept verbatim (decoded).
    AuthorizationErrorCode(Other: &'b str, |s| s) {
        /// `invalid_request`.
        InvalidRequest = "invalid_request",
        /// `unauthorized_client`.
        UnauthorizedClient = "unauthorized_client",
        /// `access_denied`: the user (or the server) refused.
        AccessDenied = "access_denied",
        /// `unsupported_response_type`.
        UnsupportedResponseType = "unsupported_response_type",
        /// `invalid_scope`.
        InvalidScope = "invalid_scope",
        /// `server_error`.
        ServerError = "server_error",
        /// `temporarily_unavailable`.
        TemporarilyUnavailable = "temporarily_unavailable",
    }
}

/// Why a callback could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CallbackError {
    /// A `%` not followed by two hex digits.
    InvalidPercent,
    /// A decoded value is not UTF-8.
    InvalidUtf8,
    /// A parameter appears more than once (RFC 6749 §3.1 forbids it).
    Duplicate {
        /// The parameter's name.
        name: &'static str,
    },
    /// Neither `code` nor `error` (or an empty one).
    MissingCode,
    /// Both `code` and `error`.
    CodeAndError,
    /// `scratch` is too small for the values that need decoding.
    ScratchTooSmall {
        /// The scratch length needed.
        needed: usize,
    },
}

impl CallbackError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidPercent => "invalid percent-escape in the redirect",
            Self::InvalidUtf8 => "redirect parameter is not UTF-8",
            Self::Duplicate { .. } => "redirect parameter repeated",
            Self::MissingCode => "OAuth redirect has neither an auth code nor an error",
            Self::CodeAndError => "OAuth redirect has both a code and an error",
            Self::ScratchTooSmall { .. } => "scratch buffer too small",
        }
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate { name } => write!(f, "redirect parameter {name} repeated"),
            Self::ScratchTooSmall { needed } => {
                write!(f, "scratch buffer too small: {needed} bytes needed")
            }
            other => f.write_str(other.as_str()),
        }
    }
}

impl core::error::Error for CallbackError {}

impl From<FormDecodeError> for CallbackError {
    fn from(e: FormDecodeError) -> Self {
        match e {
            FormDecodeError::InvalidUtf8 => Self::InvalidUtf8,
            FormDecodeError::BufferTooSmall { needed } => Self::ScratchTooSmall { needed },
            _ => Self::InvalidPercent,
        }
    }
}

/// A parsed redirect: a code, or the authorization server's refusal.
///
/// `Debug` redacts the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback<'a> {
    /// Approved (§4.1.2).
    Code {
        /// The authorization code.
        code: SecretStr<'a>,
        /// `state`, if present.
        state: Option<&'a str>,
        /// `iss` (RFC 9207), if present.
        iss: Option<&'a str>,
    },
    /// Refused (§4.1.2.1).
    Error {
        /// `error`.
        error: AuthorizationErrorCode<'a>,
        /// `error_description`, if present.
        error_description: Option<&'a str>,
        /// `error_uri`, if present.
        error_uri: Option<&'a str>,
        /// `state`, if present.
        state: Option<&'a str>,
        /// `iss` (RFC 9207), if present.
        iss: Option<&'a str>,
    },
}

const NAMES: [&str; 6] = [
    "code",
    "state",
    "error",
    "error_description",
    "error_uri",
    "iss",
];
const CODE: usize = 0;
const STATE: usize = 1;
const ERROR: usize = 2;
const DESCRIPTION: usize = 3;
const URI: usize = 4;
const ISS: usize = 5;

/// The query part of a query, a request target or a full URL, without any fragment.
fn query_of(target: &[u8]) -> &[u8] {
    let q = match target.iter().position(|&b| b == b'?') {
        Some(i) => target.get(i + 1..).unwrap_or(&[]),
        // A path or URL without a query has no parameters; anything else is a query.
        None if target.first() == Some(&b'/') || target.windows(3).any(|w| w == b"://") => &[],
        None => target,
    };
    match q.iter().position(|&b| b == b'#') {
        Some(i) => q.get(..i).unwrap_or(&[]),
        None => q,
    }
}

impl<'a> Callback<'a> {
    /// Parses the redirect in `target` (a query, a request target or a full URL),
    /// decoding values that need it into `scratch`.
    ///
    /// # Errors
    /// See [`CallbackError`]. `scratch` may hold partial output on error.
    pub fn parse(target: &'a [u8], scratch: &'a mut [u8]) -> Result<Self, CallbackError> {
        let query = query_of(target);
        let mut raw: [Option<&'a [u8]>; 6] = [None; 6];
        let mut needed = 0usize;
        for (name, value) in form::pairs(query) {
            let len = form::decoded_len(value)?;
            let Some(slot) = NAMES.iter().position(|n| n.as_bytes() == name) else {
                continue;
            };
            let (Some(entry), Some(&static_name)) = (raw.get_mut(slot), NAMES.get(slot)) else {
                continue;
            };
            if entry.is_some() {
                return Err(CallbackError::Duplicate { name: static_name });
            }
            *entry = Some(value);
            if form::decode_borrowed(value)?.is_none() {
                needed = needed.saturating_add(len);
            }
        }
        let present = |i: usize| raw.get(i).copied().flatten().is_some_and(|v| !v.is_empty());
        match (present(CODE), present(ERROR)) {
            (true, true) => return Err(CallbackError::CodeAndError),
            (false, false) => return Err(CallbackError::MissingCode),
            _ => {}
        }
        if scratch.len() < needed {
            return Err(CallbackError::ScratchTooSmall { needed });
        }
        let mut rest: &'a mut [u8] = scratch;
        let mut value = |i: usize| -> Result<Option<&'a str>, CallbackError> {
            let Some(v) = raw.get(i).copied().flatten() else {
                return Ok(None);
            };
            if let Some(s) = form::decode_borrowed(v)? {
                return Ok(Some(s));
            }
            let n = form::decoded_len(v)?;
            let (dst, tail) = core::mem::take(&mut rest)
                .split_at_mut_checked(n)
                .ok_or(CallbackError::ScratchTooSmall { needed })?;
            rest = tail;
            Ok(Some(form::decode(v, dst)?))
        };
        let state = value(STATE)?;
        let iss = value(ISS)?;
        if present(CODE) {
            let code = value(CODE)?.unwrap_or("");
            return Ok(Self::Code {
                code: SecretStr::new(code),
                state,
                iss,
            });
        }
        let error = AuthorizationErrorCode::from_wire(value(ERROR)?.unwrap_or(""));
        Ok(Self::Error {
            error,
            error_description: value(DESCRIPTION)?,
            error_uri: value(URI)?,
            state,
            iss,
        })
    }

    /// The code, when approved.
    pub const fn code(&self) -> Option<SecretStr<'a>> {
        match self {
            Self::Code { code, .. } => Some(*code),
            Self::Error { .. } => None,
        }
    }

    /// The error code, when refused.
    pub const fn error(&self) -> Option<AuthorizationErrorCode<'a>> {
        match self {
            Self::Error { error, .. } => Some(*error),
            Self::Code { .. } => None,
        }
    }

    /// `error_description`, when refused and present.
    pub const fn error_description(&self) -> Option<&'a str> {
        match self {
            Self::Error {
                error_description, ..
            } => *error_description,
            Self::Code { .. } => None,
        }
    }

    /// `state`, if present.
    pub const fn state(&self) -> Option<&'a str> {
        match self {
            Self::Code { state, .. } | Self::Error { state, .. } => *state,
        }
    }

    /// `iss` (RFC 9207), if present.
    pub const fn iss(&self) -> Option<&'a str> {
        match self {
            Self::Code { iss, .. } | Self::Error { iss, .. } => *iss,
        }
    }

    /// Compares the `state` with the one sent, in constant time.
    ///
    /// # Errors
    /// [`StateError::Missing`] or [`StateError::Mismatch`].
    pub fn check_state(&self, sent: &str) -> Result<(), StateError> {
        state::check_plain(sent, self.state())
    }

    /// Checks a signed `state` (see [`crate::state`]) for a callback that arrived on
    /// `redirect_uri` at `now` (unix seconds).
    ///
    /// # Errors
    /// [`StateError::Missing`] or what [`state::verify`] refuses.
    pub fn verify_signed_state(
        &self,
        key: &StateKey<'_>,
        redirect_uri: &str,
        now: u64,
    ) -> Result<VerifiedState, StateError> {
        let s = self.state().ok_or(StateError::Missing)?;
        state::verify(key, s, redirect_uri, now)
    }

    /// RFC 9207: whether `iss` names `expected`. An absent `iss` passes unless
    /// `required` (set it when the server advertises
    /// `authorization_response_iss_parameter_supported`).
    pub fn issuer_matches(&self, expected: &str, required: bool) -> bool {
        match self.iss() {
            Some(iss) => iss == expected,
            None => !required,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    fn parse(t: &[u8]) -> Result<Callback<'_>, CallbackError> {
        // Leaked so the borrowed result outlives the helper; test-only.
        let scratch = std::vec![0u8; t.len()].leak();
        Callback::parse(t, scratch)
    }

    #[test]
    fn shapes_of_input() {
        for t in [
            &b"code=abc&state=xyz"[..],
            b"?code=abc&state=xyz",
            b"/cb?code=abc&state=xyz",
            b"https://client.example.com/cb?code=abc&state=xyz#frag",
            b"/cb?code=abc&state=xyz&unknown=1",
        ] {
            let cb = parse(t).unwrap();
            assert_eq!(cb.code().map(|c| c.expose()), Some("abc"), "{t:?}");
            assert_eq!(cb.state(), Some("xyz"));
        }
        assert_eq!(parse(b"/cb"), Err(CallbackError::MissingCode));
        assert_eq!(
            parse(b"https://client.example.com/cb"),
            Err(CallbackError::MissingCode)
        );
    }

    #[test]
    fn decodes_into_scratch_and_borrows_otherwise() {
        let target = b"/cb?code=a%2Fb&state=plain&iss=https%3A%2F%2Fas.example";
        let mut scratch = [0u8; 40];
        let cb = Callback::parse(target, &mut scratch).unwrap();
        assert_eq!(cb.code().unwrap().expose(), "a/b");
        assert_eq!(cb.iss(), Some("https://as.example"));
        let state = cb.state().unwrap();
        assert!(core::ptr::eq(state.as_ptr(), target[21..].as_ptr()));
        assert!(cb.issuer_matches("https://as.example", true));
        assert!(!cb.issuer_matches("https://other.example", false));
        let mut small = [0u8; 20];
        assert_eq!(
            Callback::parse(target, &mut small),
            Err(CallbackError::ScratchTooSmall { needed: 21 })
        );
        // Nothing to decode: no scratch needed at all.
        assert!(Callback::parse(b"code=abc", &mut []).is_ok());
    }

    #[test]
    fn code_is_redacted() {
        let cb = parse(b"code=SplxlOBeZQQYbYS6WxSbIA&state=xyz").unwrap();
        let d = format!("{cb:?}");
        assert!(!d.contains("SplxlOBeZQQYbYS6WxSbIA"), "{d}");
    }

    #[test]
    fn error_codes_round_trip() {
        for c in [
            "invalid_request",
            "unauthorized_client",
            "access_denied",
            "unsupported_response_type",
            "invalid_scope",
            "server_error",
            "temporarily_unavailable",
            "consent_required",
        ] {
            assert_eq!(AuthorizationErrorCode::from_wire(c).as_str(), c);
        }
        assert_eq!(
            AuthorizationErrorCode::from_wire("x"),
            AuthorizationErrorCode::Other("x")
        );
    }
}
