//! The error of every body parser.

use core::fmt;

/// Why a body could not be read as the expected token or error object.
///
/// Offsets count bytes from the start of the body. No variant carries body bytes.
/// Provider errors (`"error": "invalid_grant"`, Slack `ok:false`) are not a
/// `JsonError`: they are parsed into the provider's error view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JsonError {
    /// The body is empty or holds only whitespace.
    Empty,
    /// The body ends in the middle of a value.
    UnexpectedEnd {
        /// Where more input was needed (the body length).
        offset: usize,
    },
    /// A byte that cannot start or continue the expected token.
    UnexpectedByte {
        /// The byte's offset.
        offset: usize,
    },
    /// The body is not UTF-8.
    InvalidUtf8 {
        /// The offset of the first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    InvalidEscape {
        /// The offset of the backslash.
        offset: usize,
    },
    /// A `\uXXXX` escape of a UTF-16 surrogate without its other half.
    LoneSurrogate {
        /// The offset of the backslash.
        offset: usize,
    },
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter {
        /// The character's offset.
        offset: usize,
    },
    /// A number that does not follow the RFC 8259 grammar (`01`, `1.`, `-`, `1e`).
    InvalidNumber {
        /// The offset where the number starts.
        offset: usize,
    },
    /// Objects and arrays nest deeper than [`MAX_DEPTH`](crate::json::value::MAX_DEPTH).
    TooDeep {
        /// The offset of the bracket that went too deep.
        offset: usize,
    },
    /// Something other than whitespace follows the top-level value.
    TrailingData {
        /// The offset of the first such byte.
        offset: usize,
    },
    /// The top-level value is not an object.
    NotAnObject,
    /// A known member has the wrong JSON type (`"ok":"yes"`, `"token_type":123`).
    WrongType {
        /// The member's name.
        field: &'static str,
    },
    /// A known member appears twice in the same object.
    DuplicateField {
        /// The member's name.
        field: &'static str,
    },
    /// A required member is absent (or `null`).
    MissingField {
        /// The member's name.
        field: &'static str,
    },
    /// An integer member is negative, fractional, too large, or a string that is not
    /// all ASCII digits.
    InvalidInteger {
        /// The member's name.
        field: &'static str,
    },
}

impl JsonError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Empty => "empty body",
            Self::UnexpectedEnd { .. } => "unexpected end of JSON",
            Self::UnexpectedByte { .. } => "unexpected byte in JSON",
            Self::InvalidUtf8 { .. } => "body is not UTF-8",
            Self::InvalidEscape { .. } => "invalid escape in JSON string",
            Self::LoneSurrogate { .. } => "lone UTF-16 surrogate in JSON string",
            Self::ControlCharacter { .. } => "control character in JSON string",
            Self::InvalidNumber { .. } => "invalid JSON number",
            Self::TooDeep { .. } => "JSON nested too deeply",
            Self::TrailingData { .. } => "data after the JSON value",
            Self::NotAnObject => "JSON body is not an object",
            Self::WrongType { .. } => "member has the wrong type",
            Self::DuplicateField { .. } => "duplicated member",
            Self::MissingField { .. } => "required member missing",
            Self::InvalidInteger { .. } => "member is not a valid unsigned integer",
        }
    }

    /// The byte offset in the body, for syntax errors.
    pub const fn offset(&self) -> Option<usize> {
        match *self {
            Self::UnexpectedEnd { offset }
            | Self::UnexpectedByte { offset }
            | Self::InvalidUtf8 { offset }
            | Self::InvalidEscape { offset }
            | Self::LoneSurrogate { offset }
            | Self::ControlCharacter { offset }
            | Self::InvalidNumber { offset }
            | Self::TooDeep { offset }
            | Self::TrailingData { offset } => Some(offset),
            _ => None,
        }
    }

    /// The member's name, for errors about one member.
    pub const fn field(&self) -> Option<&'static str> {
        match *self {
            Self::WrongType { field }
            | Self::DuplicateField { field }
            | Self::MissingField { field }
            | Self::InvalidInteger { field } => Some(field),
            _ => None,
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if let Some(field) = self.field() {
            write!(f, ": `{field}`")?;
        }
        if let Some(offset) = self.offset() {
            write!(f, " at byte {offset}")?;
        }
        Ok(())
    }
}

impl core::error::Error for JsonError {}
