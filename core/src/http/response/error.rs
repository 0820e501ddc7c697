//! Why a response could not be read.

use core::fmt;

/// What was wrong with the bytes of the status line or a header field, as
/// [`httparse`] reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeadErrorKind {
    /// An invalid byte in a header field name.
    HeaderName,
    /// An invalid byte in a header field value.
    HeaderValue,
    /// An invalid line ending.
    NewLine,
    /// An invalid status code (not three digits, or below 100).
    Status,
    /// An invalid byte where a token is required.
    Token,
    /// An invalid HTTP version (only `HTTP/1.0` and `HTTP/1.1` are accepted).
    Version,
}

impl HeadErrorKind {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::HeaderName => "invalid header name",
            Self::HeaderValue => "invalid header value",
            Self::NewLine => "invalid line ending",
            Self::Status => "invalid status code",
            Self::Token => "invalid token",
            Self::Version => "invalid HTTP version",
        }
    }
}

impl fmt::Display for HeadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a response could not be read. None of them carries response bytes.
///
/// Errors are sticky: once one is returned, every later call returns it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseError {
    /// The status line and header fields do not fit the buffer.
    HeadTooLarge,
    /// The body does not fit the buffer.
    BodyTooLarge {
        /// The buffer length that would have held the whole response (head and body),
        /// when `Content-Length` tells it; `None` for chunked and close-delimited bodies.
        needed: Option<usize>,
    },
    /// The status line or a header field is malformed.
    InvalidHead(HeadErrorKind),
    /// The head has more than [`MAX_HEADERS`](super::MAX_HEADERS) header fields.
    TooManyHeaders,
    /// A header line starts with whitespace: obsolete line folding (RFC 9112 §5.2), or
    /// whitespace between the status line and the first field.
    ObsoleteLineFolding,
    /// `Content-Length` appears on more than one header line, even with equal values.
    DuplicateContentLength,
    /// One `Content-Length` line lists different values (`5, 6`); a list of one value
    /// repeated (`5, 5`) is accepted as RFC 9110 §8.6 allows.
    ConflictingContentLength,
    /// `Content-Length` is not a decimal number that fits `usize` (sign, other
    /// characters, empty, overflow).
    InvalidContentLength,
    /// Both `Content-Length` and `Transfer-Encoding` are present: refused, as the
    /// disagreement is the stuff of request smuggling.
    ContentLengthWithChunked,
    /// `Transfer-Encoding` appears on more than one header line.
    DuplicateTransferEncoding,
    /// `Transfer-Encoding` is something other than exactly `chunked` (`gzip`,
    /// `gzip, chunked`, `identity`, …).
    UnsupportedTransferCoding,
    /// A chunk-size line is malformed: empty or non-hex size, more than 16 digits, a size
    /// beyond `usize`, a control character in an extension, or a bare LF.
    InvalidChunkSize,
    /// Chunk data is not followed by CRLF.
    MissingChunkCrlf,
    /// The trailer section after the last chunk is malformed or has too many fields.
    InvalidTrailer,
    /// A `101 Switching Protocols`, which picoauth never asks for.
    UnexpectedUpgrade,
    /// More than [`MAX_INTERIM_RESPONSES`](super::MAX_INTERIM_RESPONSES) interim `1xx` responses.
    TooManyInterimResponses,
    /// The connection closed before the response was complete.
    Truncated,
}

impl ResponseError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::HeadTooLarge => "response head larger than the buffer",
            Self::BodyTooLarge { .. } => "response body larger than the buffer",
            Self::InvalidHead(kind) => kind.as_str(),
            Self::TooManyHeaders => "too many header fields",
            Self::ObsoleteLineFolding => {
                "header line starts with whitespace (obsolete line folding)"
            }
            Self::DuplicateContentLength => "Content-Length header repeated",
            Self::ConflictingContentLength => "Content-Length lists different values",
            Self::InvalidContentLength => "invalid Content-Length",
            Self::ContentLengthWithChunked => "both Content-Length and Transfer-Encoding",
            Self::DuplicateTransferEncoding => "Transfer-Encoding header repeated",
            Self::UnsupportedTransferCoding => "unsupported transfer coding",
            Self::InvalidChunkSize => "invalid chunk-size line",
            Self::MissingChunkCrlf => "chunk data not followed by CRLF",
            Self::InvalidTrailer => "invalid trailer section",
            Self::UnexpectedUpgrade => "unexpected 101 Switching Protocols",
            Self::TooManyInterimResponses => "too many interim 1xx responses",
            Self::Truncated => "connection closed before the response was complete",
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyTooLarge { needed: Some(n) } => {
                write!(f, "response body larger than the buffer: {n} bytes needed")
            }
            Self::InvalidHead(kind) => write!(f, "invalid response head: {kind}"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl core::error::Error for ResponseError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::test_support::Buf;
    #[test]
    fn error_messages() {
        let e = ResponseError::BodyTooLarge { needed: Some(70) };
        let mut out = Buf([0; 512], 0);
        fmt::write(
            &mut out,
            format_args!(
                "{e} / {}",
                ResponseError::InvalidHead(HeadErrorKind::Version)
            ),
        )
        .unwrap();
        assert_eq!(
            core::str::from_utf8(&out.0[..out.1]).unwrap(),
            "response body larger than the buffer: 70 bytes needed / invalid response head: invalid HTTP version"
        );
        assert_eq!(
            ResponseError::Truncated.as_str(),
            "connection closed before the response was complete"
        );
    }
}
