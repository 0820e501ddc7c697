//! Errors of the request side.

use core::fmt;

use crate::provider::EndpointError;

/// The output buffer is too small: the one way an encoder with nothing to validate
/// ([`BasicAuth::encode`](crate::basic::BasicAuth::encode),
/// [`form::encode`](crate::form::encode)) can fail. The output is left untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// The exact number of bytes the encoding needs.
    pub needed: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "output buffer too small: {} bytes needed", self.needed)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Why a token request could not be encoded.
///
/// On every error the output buffer is left untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The output buffer is too small; `needed` bytes would have been written.
    BufferTooSmall {
        /// The exact number of bytes the encoding needs.
        needed: usize,
    },
    /// The provider's endpoint is refused: a bad host or path, or plain `http://`
    /// to a host that is not loopback.
    Endpoint(EndpointError),
    /// A header value (the `User-Agent`) holds CR, LF, NUL or another control character.
    InvalidHeaderValue,
    /// A required value is empty; `what` names it (`"code"`, `"client_id"`, …).
    Empty {
        /// The parameter's name.
        what: &'static str,
    },
    /// A parameter name or value is longer than [`MAX_VALUE_LEN`](crate::request::MAX_VALUE_LEN).
    ValueTooLong {
        /// The parameter's name.
        what: &'static str,
    },
    /// An extra parameter has an empty name or repeats one picoauth already sends.
    InvalidExtraParam,
    /// The grant is not one the provider supports (Slack has no client credentials).
    UnsupportedGrant,
    /// The provider requires client authentication (Basic or Post) and the request is
    /// from a public client ([`Provider::client_auth_required`](crate::provider::Provider::client_auth_required)).
    ClientAuthRequired,
    /// The PKCE `code_verifier` is not 43 to 128 characters of `A–Z a–z 0–9 - . _ ~`
    /// (RFC 7636 §4.1).
    InvalidCodeVerifier,
}

impl EncodeError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "output buffer too small",
            Self::Endpoint(e) => e.as_str(),
            Self::InvalidHeaderValue => "control character in header value",
            Self::Empty { .. } => "required value is empty",
            Self::ValueTooLong { .. } => "value too long",
            Self::InvalidExtraParam => "extra parameter is empty or repeats a standard one",
            Self::UnsupportedGrant => "grant not supported by this provider",
            Self::ClientAuthRequired => {
                "this provider requires client authentication (a client secret)"
            }
            Self::InvalidCodeVerifier => "code_verifier is not 43 to 128 unreserved characters",
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::Empty { what } => write!(f, "{what} is empty"),
            Self::ValueTooLong { what } => write!(f, "{what} is too long"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl core::error::Error for EncodeError {}

impl From<BufferTooSmall> for EncodeError {
    fn from(BufferTooSmall { needed }: BufferTooSmall) -> Self {
        Self::BufferTooSmall { needed }
    }
}

impl From<EndpointError> for EncodeError {
    fn from(e: EndpointError) -> Self {
        Self::Endpoint(e)
    }
}
