//! The errors of the token-set model: one enum for building and applying, one for the
//! stored encoding.

use core::fmt;

/// A string field of a token set, named in a [`TokenSetError::Capacity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Field {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
    /// `scope`.
    Scope,
    /// `token_type`.
    TokenType,
}

impl Field {
    /// The JSON member name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::Scope => "scope",
            Self::TokenType => "token_type",
        }
    }
}

/// Why a token set could not be built, updated or refreshed. The token set is left
/// untouched on every error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenSetError {
    /// A string is longer than its fixed capacity.
    Capacity {
        /// Which field.
        field: Field,
        /// Its length in bytes (decoded).
        len: usize,
        /// The capacity in bytes.
        capacity: usize,
    },
    /// The answer carries no access token (Slack `ok:true` with nothing else).
    NoAccessToken,
    /// The outcome is not a token (a refusal, a rate limit, an HTTP error).
    NotAToken,
    /// The answer or the provider is of another kind than the token set.
    ProviderMismatch,
    /// The credential asked for has no refresh token.
    NoRefreshToken,
}

impl fmt::Display for TokenSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Capacity {
                field,
                len,
                capacity,
            } => write!(f, "{} is {len} bytes, capacity {capacity}", field.as_str()),
            Self::NoAccessToken => f.write_str("the answer carries no access token"),
            Self::NotAToken => f.write_str("the outcome is not a token"),
            Self::ProviderMismatch => f.write_str("the provider kind does not match"),
            Self::NoRefreshToken => f.write_str("no refresh token"),
        }
    }
}

impl core::error::Error for TokenSetError {}

/// Why a stored token set could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CodecError {
    /// The output buffer is too short; it was left untouched.
    BufferTooSmall {
        /// The bytes the encoding needs.
        needed: usize,
    },
    /// No bytes to decode.
    Empty,
    /// The version byte is not one this build reads.
    UnknownVersion(u8),
    /// The bytes are not a token set of this version (truncated, corrupt, trailing
    /// bytes, a string over its capacity, no credential).
    Malformed,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            Self::Empty => f.write_str("no bytes"),
            Self::UnknownVersion(v) => write!(f, "unknown token-set encoding version {v}"),
            Self::Malformed => f.write_str("malformed token-set encoding"),
        }
    }
}

impl core::error::Error for CodecError {}
