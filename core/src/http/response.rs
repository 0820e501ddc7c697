//! Incremental HTTP/1.1 response reading into one fixed buffer.
//!
//! A [`ResponseReader`] owns nothing: it borrows one caller-supplied buffer, and the
//! transport reads straight into [`ResponseReader::spare`] and reports how many bytes it
//! got with [`ResponseReader::advance`] (or copies with [`ResponseReader::feed`]). Bytes may
//! arrive in any split, down to one at a time; the outcome does not depend on the split,
//! and any prefix of a valid response gives [`Status::NeedMore`], never an error.
//!
//! The head (status line and header fields) is parsed by [`httparse`]. The body is framed
//! by `Content-Length`, by `Transfer-Encoding: chunked` (de-chunked in place, so
//! [`Response::body`] is one contiguous slice), or by the peer closing the connection
//! ([`ResponseReader::finish`]). Interim `1xx` responses are skipped; `204` and `304`
//! have no body.
//!
//! ```
//! use picoauth::http::response::{ResponseReader, Status};
//!
//! let mut buf = [0u8; 256];
//! let mut reader = ResponseReader::new(&mut buf);
//! let wire = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
//! // A transport would read into `reader.spare()` and call `reader.advance(n)`.
//! let (used, status) = reader.feed(wire).unwrap();
//! assert_eq!((used, status), (wire.len(), Status::Complete));
//! let response = reader.response().unwrap();
//! assert_eq!(response.status, 200);
//! assert!(response.is_json());
//! assert_eq!(response.body, b"{\"ok\":true}");
//! ```
//!
//! ## Buffer size
//!
//! The buffer must hold the whole head and the whole body at once (the body is handed
//! out as one slice). A chunked body also needs room for its framing in flight: a few
//! bytes beyond the body for the last chunk line and the trailer section. A body framed
//! by connection close must leave at least one byte free: a full buffer is reported as
//! [`ResponseError::BodyTooLarge`] rather than a possibly cut-off body.

use core::fmt;

use super::chunked::Dechunker;

/// The most header fields a response head may have.
pub const MAX_HEADERS: usize = 32;

/// The most interim `1xx` responses accepted before the final one (a server sends one
/// `100 Continue` or a few `103 Early Hints`; an endless stream is refused with
/// [`ResponseError::TooManyInterimResponses`]).
pub const MAX_INTERIM_RESPONSES: u8 = 16;

/// Progress of a [`ResponseReader`]. Needing more bytes is not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// The response is not complete; read more bytes into [`ResponseReader::spare`]
    /// (or call [`ResponseReader::finish`] if the peer closed the connection).
    NeedMore,
    /// The whole response has been read; [`ResponseReader::response`] returns it.
    Complete,
}

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
    /// The head has more than [`MAX_HEADERS`] header fields.
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
    /// More than [`MAX_INTERIM_RESPONSES`] interim `1xx` responses.
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

/// A parsed `Retry-After` value (RFC 9110 §10.2.3).
///
/// Only the two forms a sender may generate are recognised: delay-seconds and the
/// IMF-fixdate form of HTTP-date. Anything else (the obsolete RFC 850 and asctime date
/// forms, negative or fractional numbers, garbage) is ignored: [`Response::retry_after`]
/// is `None`, and the raw value is still there through [`Response::header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RetryAfter {
    /// Retry after this many seconds (saturating at `u32::MAX`).
    Seconds(u32),
    /// Retry at or after this time.
    Date(HttpDate),
}

impl RetryAfter {
    /// The delay in seconds, measured from `now` (Unix seconds) for the date form.
    /// A date in the past gives zero.
    pub const fn delay_secs(&self, now_unix: u64) -> u64 {
        match self {
            Self::Seconds(s) => *s as u64,
            Self::Date(d) => d.unix_secs().saturating_sub(now_unix),
        }
    }
}

/// A point in time from an HTTP-date, as whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HttpDate(u64);

impl HttpDate {
    /// Seconds since 1970-01-01T00:00:00Z; dates before the epoch read as zero.
    pub const fn unix_secs(&self) -> u64 {
        self.0
    }

    /// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    ///
    /// Written by hand (a few lines) rather than pulling in a date crate for one header.
    /// The day name is checked for being one, not for matching the date; a leap second
    /// (`:60`) is accepted.
    pub fn parse_imf_fixdate(text: &[u8]) -> Option<Self> {
        const DAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let t: &[u8; 29] = text.try_into().ok()?;
        let [d0, d1, d2, b',', b' ', dd0, dd1, b' ', m0, m1, m2, b' ', y0, y1, y2, y3, b' ', h0, h1, b':', mi0, mi1, b':', s0, s1, b' ', b'G', b'M', b'T'] =
            *t
        else {
            return None;
        };
        if !DAYS.contains(&&[d0, d1, d2]) {
            return None;
        }
        let month = MONTHS.iter().position(|m| **m == [m0, m1, m2])?;
        let day = digits(&[dd0, dd1])?;
        let year = digits(&[y0, y1, y2, y3])?;
        let (hour, minute, second) = (digits(&[h0, h1])?, digits(&[mi0, mi1])?, digits(&[s0, s1])?);
        let month = u32::try_from(month).ok()?.saturating_add(1);
        if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Some(Self(u64::try_from(secs).unwrap_or(0)))
    }
}

/// The value of 1 to 4 ASCII digits.
fn digits(d: &[u8]) -> Option<u32> {
    d.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). `year` is at most 9999, so nothing here can overflow.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether a `Content-Type` value names JSON: `application/json` or
/// `application/<something>+json`, compared case-insensitively, parameters allowed.
///
/// ```
/// use picoauth::http::response::is_json_media_type as json;
/// assert!(json("APPLICATION/jSoN; charset=utf-8"));
/// assert!(json("application/problem+json"));
/// assert!(!json("text/plain") && !json("application/+json") && !json(""));
/// ```
pub fn is_json_media_type(content_type: &str) -> bool {
    // Byte-wise: `;`, `/`, space and tab are ASCII, so every split is at a
    // character boundary and the answer is that of a split on characters.
    let value = content_type.as_bytes();
    let media = value
        .iter()
        .position(|&b| b == b';')
        .and_then(|end| value.get(..end))
        .unwrap_or(value);
    let media = trim_ows(media);
    let Some(slash) = media.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (Some(ty), Some(sub)) = (media.get(..slash), media.get(slash.saturating_add(1)..)) else {
        return false;
    };
    let plus_json = sub.len() > 5
        && sub
            .get(sub.len().saturating_sub(5)..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(b"+json"));
    ty.eq_ignore_ascii_case(b"application") && (sub.eq_ignore_ascii_case(b"json") || plus_json)
}

/// A complete response, borrowed from the reader's buffer.
///
/// `Debug` leaves out the body and the header fields, which may hold tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// The status code of the final (non-1xx) response.
    pub status: u16,
    /// The `Content-Type` value, if present and valid UTF-8 (the first one if repeated).
    pub content_type: Option<&'a str>,
    /// The parsed `Retry-After` value; `None` if absent or not understood.
    pub retry_after: Option<RetryAfter>,
    /// The `WWW-Authenticate` value, if present and valid UTF-8 (the first one if repeated).
    pub www_authenticate: Option<&'a str>,
    /// The body, de-chunked; empty for `204`, `304` and `Content-Length: 0`.
    pub body: &'a [u8],
    /// Whether the connection may carry another request: `false` for HTTP/1.0, for
    /// `Connection: close`, and for a body delimited by connection close.
    pub keep_alive: bool,
    /// The head as received (status line and header fields).
    head: &'a [u8],
}

impl<'a> Response<'a> {
    /// A response with `status` and `body` and no header fields: for a body that came
    /// by other means (another HTTP client, a saved body), to hand to
    /// [`interpret`](crate::exchange::interpret). Set the public fields the head would
    /// have given (`content_type`, `retry_after`, …) before that; [`headers`](Self::headers)
    /// is empty.
    ///
    /// ```
    /// use picoauth::exchange::{interpret, Outcome};
    /// use picoauth::http::response::Response;
    /// use picoauth::provider::ProviderKind;
    /// let mut response = Response::new(400, br#"{"error":"invalid_grant"}"#);
    /// response.content_type = Some("application/json");
    /// let outcome = interpret(ProviderKind::Rfc6749, &response).unwrap();
    /// assert!(matches!(outcome, Outcome::Error { status: 400, .. }));
    /// ```
    pub const fn new(status: u16, body: &'a [u8]) -> Self {
        Self {
            status,
            content_type: None,
            retry_after: None,
            www_authenticate: None,
            body,
            keep_alive: false,
            head: &[],
        }
    }

    /// Whether the media type is `application/json` or `application/<something>+json`,
    /// compared case-insensitively, with any parameters (`; charset=utf-8`) allowed.
    pub fn is_json(&self) -> bool {
        self.content_type.is_some_and(is_json_media_type)
    }

    /// The value of the first header field called `name` (compared case-insensitively),
    /// with surrounding whitespace removed.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header field of the final response head, in order, as `(name, value)`.
    pub fn headers(&self) -> Headers<'a> {
        Headers::new(self.head)
    }
}

impl fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("retry_after", &self.retry_after)
            .field("www_authenticate", &self.www_authenticate)
            .field("body_len", &self.body.len())
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

/// The header fields of a response head, from [`Response::headers`].
///
/// It walks a head that [`httparse`] has already accepted, so splitting lines at LF and
/// fields at the first `:` gives the same fields httparse saw.
#[derive(Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Headers<'a> {
    fn new(head: &'a [u8]) -> Self {
        let mut it = Self { rest: head };
        // Skip the empty lines httparse tolerates before the status line, then the status line.
        while let Some(line) = it.next_line() {
            if !line.is_empty() {
                break;
            }
        }
        it
    }

    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (self.rest.get(..i)?, self.rest.get(i.saturating_add(1)..)?),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.next_line()?;
            if line.is_empty() {
                self.rest = &[];
                return None;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (Some(name), Some(value)) =
                (line.get(..colon), line.get(colon.saturating_add(1)..))
            else {
                continue;
            };
            let Ok(name) = core::str::from_utf8(name) else {
                continue;
            };
            return Some((name, trim_ows(value)));
        }
    }
}

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headers").finish_non_exhaustive()
    }
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !ows(b))
        .map_or(start, |i| i.saturating_add(1));
    v.get(start..end).unwrap_or(&[])
}

/// What the head says about the response, kept while the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    /// Length of the head; the body starts here.
    len: usize,
    keep_alive: bool,
    retry_after: Option<RetryAfter>,
    /// Where the first `Content-Type` value lies in the buffer (kept from the one
    /// head parse, so that [`ResponseReader::response`] does not walk the head again).
    content_type: Option<(usize, usize)>,
    /// Where the first `WWW-Authenticate` value lies in the buffer.
    www_authenticate: Option<(usize, usize)>,
}

/// How the body is delimited, and how far reading it has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the head.
    Head,
    /// A `Content-Length` body that ends at this buffer offset.
    Length { end: usize },
    /// A chunked body.
    Chunked(Dechunker),
    /// A body that ends when the peer closes the connection.
    Close,
    /// Done; the body ends at this buffer offset, anything after it is excess.
    Complete { body_end: usize },
    /// Failed for good.
    Failed(ResponseError),
}

/// Reads one HTTP/1.1 response into a caller-supplied buffer as bytes arrive.
///
/// See the [module docs](self) for the flow and the buffer size.
pub struct ResponseReader<'buf> {
    buf: &'buf mut [u8],
    /// Bytes of `buf` in use (head, body so far, bytes not yet decoded).
    filled: usize,
    head: Head,
    state: State,
    /// Interim `1xx` responses skipped so far.
    interim: u8,
}

impl fmt::Debug for ResponseReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseReader")
            .field("capacity", &self.buf.len())
            .field("filled", &self.filled)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<'buf> ResponseReader<'buf> {
    /// A reader that keeps the whole response in `buf`.
    pub fn new(buf: &'buf mut [u8]) -> Self {
        Self {
            buf,
            filled: 0,
            head: Head {
                status: 0,
                len: 0,
                keep_alive: false,
                retry_after: None,
                content_type: None,
                www_authenticate: None,
            },
            state: State::Head,
            interim: 0,
        }
    }

    /// The free tail of the buffer, for the transport to read the next bytes into.
    ///
    /// Empty once the reader has failed (a read into it returns 0; stop then).
    pub fn spare(&mut self) -> &mut [u8] {
        if matches!(self.state, State::Failed(_)) {
            return &mut [];
        }
        self.buf.get_mut(self.filled..).unwrap_or(&mut [])
    }

    /// Reports that `n` bytes were written at the start of [`spare`](Self::spare), and
    /// parses as far as possible. An `n` larger than the spare space is clamped to it.
    ///
    /// When the buffer is full and the response still incomplete, this returns
    /// [`ResponseError::HeadTooLarge`] or [`ResponseError::BodyTooLarge`] at once, so
    /// `spare()` is never empty while more is needed.
    ///
    /// Bytes after the end of the response (there should be none from a token endpoint)
    /// stay in the buffer, are not parsed, and do not change the result: the status stays
    /// [`Status::Complete`]. [`excess`](Self::excess) shows them.
    pub fn advance(&mut self, n: usize) -> Result<Status, ResponseError> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        self.filled = self.filled.saturating_add(n).min(self.buf.len());
        let result = self.process();
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    /// Copies as much of `data` as fits into the buffer and parses it; repeats while the
    /// parse frees room (chunk framing removed). Returns how many bytes of `data` were
    /// consumed and the status. Bytes past the end of the response are not consumed.
    pub fn feed(&mut self, data: &[u8]) -> Result<(usize, Status), ResponseError> {
        let mut used = 0usize;
        loop {
            match self.state {
                State::Failed(e) => return Err(e),
                State::Complete { .. } => return Ok((used, Status::Complete)),
                _ => {}
            }
            let rest = data.get(used..).unwrap_or(&[]);
            let spare = self.spare();
            let n = rest.len().min(spare.len());
            if let (Some(dst), Some(src)) = (spare.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            let status = self.advance(n)?;
            used = used.saturating_add(n);
            match status {
                Status::Complete => {
                    // Give back what lies past the end of the response.
                    if let State::Complete { body_end } = self.state {
                        let excess = self.filled.saturating_sub(body_end);
                        used = used.saturating_sub(excess.min(n));
                        self.filled = self.filled.saturating_sub(excess.min(n));
                    }
                    return Ok((used, Status::Complete));
                }
                Status::NeedMore if n == 0 || used >= data.len() => {
                    return Ok((used, Status::NeedMore))
                }
                Status::NeedMore => {}
            }
        }
    }

    /// Reports that the peer closed the connection (a read returned 0).
    ///
    /// Completes a body delimited by connection close; any other incomplete response is
    /// [`ResponseError::Truncated`]. A complete response stays complete.
    pub fn finish(&mut self) -> Result<Status, ResponseError> {
        let result = match self.state {
            State::Failed(e) => Err(e),
            State::Complete { .. } => Ok(Status::Complete),
            State::Close => {
                self.state = State::Complete {
                    body_end: self.filled,
                };
                Ok(Status::Complete)
            }
            // Only a zero-length buffer can be full here: a full one fails in `advance`.
            State::Head if self.filled >= self.buf.len() => Err(ResponseError::HeadTooLarge),
            State::Head | State::Length { .. } | State::Chunked(_) => Err(ResponseError::Truncated),
        };
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    /// The response, once [`Status::Complete`] was returned.
    pub fn response(&self) -> Option<Response<'_>> {
        build(&self.head, self.state, self.buf)
    }

    /// The response, borrowing the buffer for `'buf` (the reader is used up), once
    /// [`Status::Complete`] was returned.
    pub fn into_response(self) -> Option<Response<'buf>> {
        build(&self.head, self.state, self.buf)
    }

    /// Bytes received after the end of the response (pipelined data or garbage; a token
    /// endpoint sends none). Empty until the response is complete. Non-empty means the
    /// connection should not be reused.
    pub fn excess(&self) -> &[u8] {
        match self.state {
            State::Complete { body_end } => self.buf.get(body_end..self.filled).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Overwrites the whole buffer with zeros (volatile writes) and starts over: for a
    /// response that may hold tokens and is no longer needed.
    pub fn wipe(&mut self) {
        use zeroize::Zeroize as _;
        self.buf.zeroize();
        self.filled = 0;
        self.state = State::Head;
        self.interim = 0;
    }

    fn process(&mut self) -> Result<Status, ResponseError> {
        loop {
            match self.state {
                State::Head => {
                    if !self.parse_head()? {
                        return if self.filled >= self.buf.len() {
                            Err(ResponseError::HeadTooLarge)
                        } else {
                            Ok(Status::NeedMore)
                        };
                    }
                }
                State::Length { end } => {
                    if self.filled >= end {
                        self.state = State::Complete { body_end: end };
                    } else {
                        return self.need_more();
                    }
                }
                State::Chunked(mut d) => {
                    let done = d.decode(self.buf, &mut self.filled)?;
                    self.state = if done {
                        State::Complete {
                            body_end: d.body_end(),
                        }
                    } else {
                        State::Chunked(d)
                    };
                    if !done {
                        return self.need_more();
                    }
                }
                State::Close => return self.need_more(),
                State::Complete { .. } => return Ok(Status::Complete),
                State::Failed(e) => return Err(e),
            }
        }
    }

    /// `NeedMore` with room left to read into, otherwise the body does not fit.
    fn need_more(&self) -> Result<Status, ResponseError> {
        if self.filled >= self.buf.len() {
            Err(ResponseError::BodyTooLarge { needed: None })
        } else {
            Ok(Status::NeedMore)
        }
    }

    /// Parses the head if it is complete; `Ok(false)` means more bytes are needed.
    ///
    /// Interim 1xx responses are skipped in place: each is parsed where it lies, and
    /// what follows the last one is moved to the start of the buffer once per call, so
    /// the work is linear in the input. More than [`MAX_INTERIM_RESPONSES`] of them is
    /// [`ResponseError::TooManyInterimResponses`].
    fn parse_head(&mut self) -> Result<bool, ResponseError> {
        let mut start = 0usize;
        let result = loop {
            let data = self.buf.get(start..self.filled).unwrap_or(&[]);
            let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut fields);
            let len = match parsed.parse(data) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) => break Ok(None),
                Err(e) => return Err(head_error(e, data)),
            };
            let version = parsed.version.unwrap_or(0);
            let status = parsed.code.unwrap_or(0);
            if status < 100 {
                return Err(ResponseError::InvalidHead(HeadErrorKind::Status));
            }
            // Offsets in `fields` are relative to `data`, which starts at `start`.
            let fields = Fields::read(parsed.headers, data)?;
            if (100..200).contains(&status) {
                if status == 101 {
                    return Err(ResponseError::UnexpectedUpgrade);
                }
                self.interim = self.interim.saturating_add(1);
                if self.interim > MAX_INTERIM_RESPONSES {
                    return Err(ResponseError::TooManyInterimResponses);
                }
                start = start.saturating_add(len);
                continue;
            }
            break Ok(Some((len, version, status, fields)));
        };
        // Drop the interim responses: one move of what follows them.
        if start > 0 {
            if start < self.filled && self.filled <= self.buf.len() {
                self.buf.copy_within(start..self.filled, 0);
            }
            self.filled = self.filled.saturating_sub(start);
        }
        let Some((len, version, status, fields)) = result? else {
            return Ok(false);
        };

        let mut keep_alive = version == 1 && !fields.close;
        self.state = if status == 204 || status == 304 {
            State::Complete { body_end: len }
        } else if fields.chunked {
            State::Chunked(Dechunker::new(len))
        } else if let Some(cl) = fields.content_length {
            match len.checked_add(cl) {
                Some(end) if end <= self.buf.len() => State::Length { end },
                needed => return Err(ResponseError::BodyTooLarge { needed }),
            }
        } else {
            keep_alive = false;
            State::Close
        };
        self.head = Head {
            status,
            len,
            keep_alive,
            retry_after: fields.retry_after,
            content_type: fields.content_type,
            www_authenticate: fields.www_authenticate,
        };
        Ok(true)
    }
}

/// The response view over `buf` once `state` is complete.
fn build<'a>(head: &Head, state: State, buf: &'a [u8]) -> Option<Response<'a>> {
    let State::Complete { body_end } = state else {
        return None;
    };
    let text = |range: Option<(usize, usize)>| {
        let (start, end) = range?;
        core::str::from_utf8(buf.get(start..end)?).ok()
    };
    Some(Response {
        status: head.status,
        content_type: text(head.content_type),
        retry_after: head.retry_after,
        www_authenticate: text(head.www_authenticate),
        body: buf.get(head.len..body_end)?,
        keep_alive: head.keep_alive,
        head: buf.get(..head.len)?,
    })
}

/// Maps an httparse error, telling obsolete line folding apart from other bad names.
fn head_error(e: httparse::Error, data: &[u8]) -> ResponseError {
    let kind = match e {
        httparse::Error::TooManyHeaders => return ResponseError::TooManyHeaders,
        httparse::Error::HeaderName => {
            if folds_first(data) {
                return ResponseError::ObsoleteLineFolding;
            }
            HeadErrorKind::HeaderName
        }
        httparse::Error::HeaderValue => HeadErrorKind::HeaderValue,
        httparse::Error::NewLine => HeadErrorKind::NewLine,
        httparse::Error::Status => HeadErrorKind::Status,
        httparse::Error::Token => HeadErrorKind::Token,
        httparse::Error::Version => HeadErrorKind::Version,
    };
    ResponseError::InvalidHead(kind)
}

/// Whether the first header-name error in `data` is a line that starts with whitespace:
/// the head up to that line must parse cleanly (as incomplete).
fn folds_first(data: &[u8]) -> bool {
    let Some(at) = data
        .windows(2)
        .position(|w| matches!(w, [b'\n', b' ' | b'\t']))
        .map(|i| i.saturating_add(1))
    else {
        return false;
    };
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let before = data.get(..at).unwrap_or(&[]);
    // Only a status line and complete fields before `at`; a lone empty line would end the head.
    !before.starts_with(b"\n")
        && !before.starts_with(b"\r\n")
        && matches!(
            httparse::Response::new(&mut fields).parse(before),
            Ok(httparse::Status::Partial)
        )
}

/// The names of the header fields the reader acts on.
#[derive(Clone, Copy)]
enum Known {
    ContentLength,
    TransferEncoding,
    Connection,
    RetryAfter,
    ContentType,
    WwwAuthenticate,
}

/// The header fields the reader acts on.
#[derive(Debug, Default)]
struct Fields {
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
    retry_after: Option<RetryAfter>,
    content_type: Option<(usize, usize)>,
    www_authenticate: Option<(usize, usize)>,
}

impl Fields {
    /// Reads the fields httparse found in `data`.
    fn read(headers: &[httparse::Header<'_>], data: &[u8]) -> Result<Self, ResponseError> {
        let mut f = Self::default();
        let mut transfer_encoding = false;
        let mut retry_after_seen = false;
        for h in headers {
            // One case-insensitive comparison per field: the length and first letter
            // pick the only name it can be.
            let name = h.name.as_bytes();
            let (known, candidate) = match (name.len(), name.first().map(u8::to_ascii_lowercase)) {
                (14, Some(b'c')) => (Known::ContentLength, "content-length"),
                (17, Some(b't')) => (Known::TransferEncoding, "transfer-encoding"),
                (10, Some(b'c')) => (Known::Connection, "connection"),
                (11, Some(b'r')) => (Known::RetryAfter, "retry-after"),
                (12, Some(b'c')) => (Known::ContentType, "content-type"),
                (16, Some(b'w')) => (Known::WwwAuthenticate, "www-authenticate"),
                _ => continue,
            };
            // `candidate` is lower case: only the name's bytes need folding.
            if !name
                .iter()
                .zip(candidate.as_bytes())
                .all(|(n, c)| n.to_ascii_lowercase() == *c)
            {
                continue;
            }
            match known {
                Known::ContentLength => {
                    if f.content_length.is_some() {
                        return Err(ResponseError::DuplicateContentLength);
                    }
                    f.content_length = Some(content_length(h.value)?);
                }
                Known::TransferEncoding => {
                    if transfer_encoding {
                        return Err(ResponseError::DuplicateTransferEncoding);
                    }
                    transfer_encoding = true;
                    if !h.value.eq_ignore_ascii_case(b"chunked") {
                        return Err(ResponseError::UnsupportedTransferCoding);
                    }
                    f.chunked = true;
                }
                Known::Connection => {
                    f.close |= h
                        .value
                        .split(|&b| b == b',')
                        .any(|t| trim_ows(t).eq_ignore_ascii_case(b"close"));
                }
                Known::RetryAfter if !retry_after_seen => {
                    retry_after_seen = true;
                    f.retry_after = retry_after(h.value);
                }
                Known::ContentType if f.content_type.is_none() => {
                    f.content_type = Some(range_in(data, trim_ows(h.value)));
                }
                Known::WwwAuthenticate if f.www_authenticate.is_none() => {
                    f.www_authenticate = Some(range_in(data, trim_ows(h.value)));
                }
                _ => {}
            }
        }
        if f.content_length.is_some() && transfer_encoding {
            return Err(ResponseError::ContentLengthWithChunked);
        }
        Ok(f)
    }
}

/// Where `part`, a sub-slice of `data`, lies in it (an empty range if it is not one).
///
/// httparse hands out header values as slices of the head rather than offsets; the
/// offset is recovered from the addresses (safe: no pointer is dereferenced) and
/// checked, so that the response view can be rebuilt from the buffer later.
fn range_in(data: &[u8], part: &[u8]) -> (usize, usize) {
    let start = (part.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end)
            if data
                .get(start..end)
                .is_some_and(|s| s.as_ptr() == part.as_ptr()) =>
        {
            (start, end)
        }
        _ => (0, 0),
    }
}

/// `Content-Length = 1*DIGIT`, or a comma list of one value repeated.
fn content_length(value: &[u8]) -> Result<usize, ResponseError> {
    let mut result = None;
    for item in value.split(|&b| b == b',') {
        let item = trim_ows(item);
        if item.is_empty() || !item.iter().all(u8::is_ascii_digit) {
            return Err(ResponseError::InvalidContentLength);
        }
        let n = item
            .iter()
            .try_fold(0usize, |acc, &b| {
                acc.checked_mul(10)?.checked_add(usize::from(b - b'0'))
            })
            .ok_or(ResponseError::InvalidContentLength)?;
        match result {
            Some(prev) if prev != n => return Err(ResponseError::ConflictingContentLength),
            _ => result = Some(n),
        }
    }
    result.ok_or(ResponseError::InvalidContentLength)
}

/// delay-seconds (saturating) or an IMF-fixdate; anything else is `None`.
fn retry_after(value: &[u8]) -> Option<RetryAfter> {
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        let secs = value.iter().fold(0u32, |acc, &b| {
            acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
        });
        return Some(RetryAfter::Seconds(secs));
    }
    HttpDate::parse_imf_fixdate(value).map(RetryAfter::Date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `wire` into a `cap`-byte buffer whole, one byte at a time and in 7-byte
    /// pieces through `advance`, checks the three agree, and hands the result to `check`.
    /// `close` calls `finish()` after the last byte (the peer closed).
    fn read(
        wire: &[u8],
        cap: usize,
        close: bool,
        check: impl Fn(Result<Response<'_>, ResponseError>),
    ) {
        let mut outcomes = [None, None, None];
        for (mode, outcome) in outcomes.iter_mut().enumerate() {
            let mut buf = [0u8; 1024];
            let mut r = ResponseReader::new(&mut buf[..cap]);
            let step = [wire.len().max(1), 1, 7][mode];
            let mut result = Ok(Status::NeedMore);
            for piece in wire.chunks(step) {
                result = if mode == 2 {
                    // A transport reads at most what `spare()` offers, then reads again.
                    let mut rest = piece;
                    loop {
                        let spare = r.spare();
                        let n = rest.len().min(spare.len());
                        spare[..n].copy_from_slice(&rest[..n]);
                        rest = &rest[n..];
                        let res = r.advance(n);
                        if rest.is_empty() || n == 0 || res != Ok(Status::NeedMore) {
                            break res;
                        }
                    }
                } else {
                    r.feed(piece).map(|(_, s)| s)
                };
                if result.is_err() {
                    break;
                }
            }
            if close && result == Ok(Status::NeedMore) {
                result = r.finish();
            }
            let result = result.map(|s| {
                assert_eq!(s, Status::Complete, "mode {mode}");
                r.response().unwrap()
            });
            check(result);
            // Compare the parts that do not borrow the buffer.
            *outcome = Some(result.map(|resp| {
                let mut body = [0u8; 1024];
                body[..resp.body.len()].copy_from_slice(resp.body);
                (
                    resp.status,
                    resp.keep_alive,
                    resp.retry_after,
                    resp.body.len(),
                    body,
                )
            }));
        }
        assert_eq!(outcomes[0], outcomes[1], "whole vs one byte at a time");
        assert_eq!(outcomes[0], outcomes[2], "whole vs 7-byte advance");
    }

    /// `res!(wire, |r| { ... })` reads a complete response into 512 bytes;
    /// `res!(wire, close, |r| ...)` lets the peer close after it;
    /// `res!(wire, err Error)` expects that error.
    macro_rules! res {
        ($wire:expr, |$r:ident| $body:expr) => {
            read($wire, 512, false, |r| {
                let $r = r.expect("complete response");
                $body
            })
        };
        ($wire:expr, close, |$r:ident| $body:expr) => {
            read($wire, 512, true, |r| {
                let $r = r.expect("complete response");
                $body
            })
        };
        ($wire:expr, err $err:expr) => {
            read($wire, 512, true, |r| assert_eq!(r.err(), Some($err)))
        };
        ($wire:expr, cap $cap:expr, err $err:expr) => {
            read($wire, $cap, true, |r| assert_eq!(r.err(), Some($err)))
        };
    }

    #[test]
    fn content_length_body() {
        res!(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 17\r\n\r\n{\"ok\":true,\"a\":1}",
            |r| {
                assert_eq!(r.status, 200);
                assert_eq!(r.body, b"{\"ok\":true,\"a\":1}");
                assert_eq!(r.content_type, Some("application/json; charset=utf-8"));
                assert!(r.is_json());
                assert!(r.keep_alive);
                assert_eq!(r.retry_after, None);
                assert_eq!(r.www_authenticate, None);
            }
        );
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        res!(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\
              4;name=value\r\n{\"ok\r\n9 ; q=\"a;b\"\r\n\":false,\"\r\n0000a\r\nerror\":\"x\"\r\n\
              0;last\r\nServer-Timing: total;dur=3\r\nX-Check: 1\r\n\r\n",
            |r| {
                assert_eq!(r.body, b"{\"ok\":false,\"error\":\"x\"");
                assert!(r.is_json());
                assert!(r.keep_alive);
                // Trailers are skipped, not merged into the head.
                assert_eq!(r.header("x-check"), None);
                assert_eq!(r.header("transfer-encoding"), Some(&b"chunked"[..]));
            }
        );
        res!(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
            |r| {
                assert_eq!(r.body, b"");
            }
        );
    }

    #[test]
    fn close_delimited_body() {
        res!(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
            close,
            |r| {
                assert_eq!(r.body, b"until the end");
                assert!(!r.keep_alive);
                assert!(!r.is_json());
            }
        );
        res!(b"HTTP/1.0 200 OK\r\n\r\n", close, |r| {
            assert_eq!(r.body, b"");
            assert!(!r.keep_alive);
        });
    }

    #[test]
    fn interim_responses_are_skipped() {
        res!(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
              HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno",
            |r| {
                assert_eq!(r.status, 400);
                assert_eq!(r.body, b"no");
                assert_eq!(r.header("link"), None);
            }
        );
        res!(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", err ResponseError::UnexpectedUpgrade);
    }

    #[test]
    fn no_body_statuses() {
        // A 204 with Content-Length is still body-less; the next bytes are excess.
        res!(
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            |r| {
                assert_eq!((r.status, r.body), (204, &b""[..]));
            }
        );
        res!(b"HTTP/1.1 304 Not Modified\r\n\r\n", |r| {
            assert_eq!((r.status, r.body, r.keep_alive), (304, &b""[..], true));
        });
    }

    #[test]
    fn slack_recorded_429_with_empty_body() {
        res!(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert_eq!(r.status, 429);
                assert_eq!(r.retry_after, Some(RetryAfter::Seconds(1)));
                assert_eq!(r.retry_after.unwrap().delay_secs(12345), 1);
                assert_eq!(r.body, b"");
            }
        );
    }

    #[test]
    fn retry_after_forms() {
        let cases: &[(&[u8], Option<RetryAfter>)] = &[
            (b"120", Some(RetryAfter::Seconds(120))),
            (b"0", Some(RetryAfter::Seconds(0))),
            (b"99999999999999999999", Some(RetryAfter::Seconds(u32::MAX))),
            (
                b"Sun, 06 Nov 1994 08:49:37 GMT",
                Some(RetryAfter::Date(HttpDate(784_111_777))),
            ),
            (
                b"Thu, 01 Jan 1970 00:00:00 GMT",
                Some(RetryAfter::Date(HttpDate(0))),
            ),
            (
                b"Thu, 29 Feb 2024 23:59:60 GMT",
                Some(RetryAfter::Date(HttpDate(1_709_251_200))),
            ),
            (
                b"Wed, 31 Dec 1969 23:59:59 GMT",
                Some(RetryAfter::Date(HttpDate(0))),
            ),
            (b"Wed, 29 Feb 2023 00:00:00 GMT", None),
            (b"Sunday, 06-Nov-94 08:49:37 GMT", None),
            (b"Sun Nov  6 08:49:37 1994", None),
            (b"Sun, 06 Nov 1994 08:49:37 UTC", None),
            (b"Xyz, 06 Nov 1994 08:49:37 GMT", None),
            (b"Sun, 06 Nov 1994 24:00:00 GMT", None),
            (b"-1", None),
            (b"1.5", None),
            (b"soon", None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                retry_after(value),
                *expected,
                "{:?}",
                core::str::from_utf8(value)
            );
        }
        res!(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n", |r| {
            let ra = r.retry_after.unwrap();
            assert_eq!(ra, RetryAfter::Date(HttpDate(784_111_777)));
            assert_eq!(ra.delay_secs(784_111_700), 77);
            assert_eq!(ra.delay_secs(784_111_800), 0);
        });
        res!(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: later\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert_eq!(r.retry_after, None);
                assert_eq!(r.header("Retry-After"), Some(&b"later"[..]));
            }
        );
    }

    #[test]
    fn content_types() {
        let cases: &[(&[u8], Option<&str>, bool)] = &[
            (
                b"Content-Type: application/json; charset=utf-8\r\n",
                Some("application/json; charset=utf-8"),
                true,
            ),
            (
                b"Content-Type: APPLICATION/jSoN\r\n",
                Some("APPLICATION/jSoN"),
                true,
            ),
            (
                b"content-type:application/problem+json\r\n",
                Some("application/problem+json"),
                true,
            ),
            (
                b"Content-Type: application/vnd.api+JSON ; x=y\r\n",
                Some("application/vnd.api+JSON ; x=y"),
                true,
            ),
            (b"Content-Type: text/plain\r\n", Some("text/plain"), false),
            (b"Content-Type: text/json\r\n", Some("text/json"), false),
            (
                b"Content-Type: application/+json\r\n",
                Some("application/+json"),
                false,
            ),
            (
                b"Content-Type: application/jsonx\r\n",
                Some("application/jsonx"),
                false,
            ),
            (b"", None, false),
        ];
        for (line, ct, json) in cases {
            let mut wire = [0u8; 256];
            let mut n = 0;
            for part in [
                &b"HTTP/1.1 200 OK\r\n"[..],
                line,
                b"Content-Length: 0\r\n\r\n",
            ] {
                wire[n..n + part.len()].copy_from_slice(part);
                n += part.len();
            }
            res!(&wire[..n], |r| {
                assert_eq!(r.content_type, *ct);
                assert_eq!(r.is_json(), *json, "{ct:?}");
            });
        }
    }

    #[test]
    fn header_lookup_and_www_authenticate() {
        res!(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"invalid_token\"\r\nX-Empty:\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert_eq!(r.www_authenticate, Some("Bearer error=\"invalid_token\""));
                assert_eq!(r.header("X-EMPTY"), Some(&b""[..]));
                assert_eq!(r.header("x-dup"), Some(&b"1"[..]));
                assert_eq!(r.header("missing"), None);
                let names = ["WWW-Authenticate", "X-Empty", "X-Dup", "x-dup", "Content-Length"];
                assert!(r.headers().map(|(n, _)| n).eq(names));
            }
        );
        // Leading empty lines and bare-LF line ends, both of which httparse accepts.
        res!(
            b"\r\n\nHTTP/1.1 200 OK\nA:  b \t\nContent-Length: 1\n\nx",
            |r| {
                assert_eq!(r.header("a"), Some(&b"b"[..]));
                assert_eq!(r.body, b"x");
            }
        );
    }

    #[test]
    fn keep_alive() {
        res!(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert!(!r.keep_alive);
            }
        );
        res!(
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert!(r.keep_alive);
            }
        );
        res!(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            |r| {
                assert!(!r.keep_alive);
            }
        );
    }

    #[test]
    fn head_errors() {
        use HeadErrorKind as K;
        use ResponseError as E;
        res!(b"HTTP/2.0 200 OK\r\n\r\n", err E::InvalidHead(K::Version));
        res!(b"HTTP/1.1 20 OK\r\n\r\n", err E::InvalidHead(K::Status));
        res!(b"HTTP/1.1 099 Odd\r\n\r\n", err E::InvalidHead(K::Status));
        res!(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", err E::InvalidHead(K::HeaderName));
        res!(b"HTTP/1.1 200 OK\r\nA: x\x01y\r\n\r\n", err E::InvalidHead(K::HeaderValue));
        res!(b"HTTP/1.1 200 OK\r\nA: b\r\n continued\r\nContent-Length: 0\r\n\r\n", err E::ObsoleteLineFolding);
        res!(b"HTTP/1.1 200 OK\r\nA: b\r\n\tcontinued\r\n\r\n", err E::ObsoleteLineFolding);
        res!(b"HTTP/1.1 200 OK\r\n Leading: ws\r\n\r\n", err E::ObsoleteLineFolding);
        // The bad name comes before the folded line.
        res!(b"HTTP/1.1 200 OK\r\nB@d: b\r\n c\r\n\r\n", err E::InvalidHead(K::HeaderName));
        let mut many = [0u8; 512];
        let mut n = 0;
        for part in
            core::iter::once(&b"HTTP/1.1 200 OK\r\n"[..]).chain([&b"A: b\r\n"[..]; MAX_HEADERS + 1])
        {
            many[n..n + part.len()].copy_from_slice(part);
            n += part.len();
        }
        many[n..n + 2].copy_from_slice(b"\r\n");
        res!(&many[..n + 2], err E::TooManyHeaders);
    }

    #[test]
    fn framing_errors() {
        use ResponseError as E;
        res!(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", err E::DuplicateContentLength);
        res!(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", err E::ConflictingContentLength);
        for bad in [
            &b"-1"[..],
            b"+1",
            b"0x1",
            b"1 1",
            b"",
            b"1,",
            b"99999999999999999999999",
        ] {
            let mut wire = [0u8; 128];
            let head = b"HTTP/1.1 200 OK\r\nContent-Length: ";
            wire[..head.len()].copy_from_slice(head);
            wire[head.len()..head.len() + bad.len()].copy_from_slice(bad);
            let n = head.len() + bad.len();
            wire[n..n + 4].copy_from_slice(b"\r\n\r\n");
            res!(&wire[..n + 4], err E::InvalidContentLength);
        }
        res!(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            err E::ContentLengthWithChunked
        );
        res!(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            err E::DuplicateTransferEncoding
        );
        for te in [
            &b"gzip"[..],
            b"gzip, chunked",
            b"identity",
            b"chunked, chunked",
        ] {
            let mut wire = [0u8; 128];
            let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: ";
            wire[..head.len()].copy_from_slice(head);
            wire[head.len()..head.len() + te.len()].copy_from_slice(te);
            let n = head.len() + te.len();
            wire[n..n + 4].copy_from_slice(b"\r\n\r\n");
            res!(&wire[..n + 4], err E::UnsupportedTransferCoding);
        }
    }

    #[test]
    fn chunk_errors() {
        use ResponseError as E;
        let te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let cases: &[(&str, E)] = &[
            ("\r\n\r\n", E::InvalidChunkSize),
            ("z\r\n", E::InvalidChunkSize),
            ("-1\r\n", E::InvalidChunkSize),
            ("1\nx\r\n0\r\n\r\n", E::InvalidChunkSize),
            ("11111111111111111\r\n", E::InvalidChunkSize),
            ("2\r\nabc\r\n0\r\n\r\n", E::MissingChunkCrlf),
            ("2\r\nab\n0\r\n\r\n", E::MissingChunkCrlf),
            ("0\r\nBad Trailer\r\n\r\n", E::InvalidTrailer),
        ];
        for (body, err) in cases {
            let mut wire = [0u8; 256];
            wire[..te.len()].copy_from_slice(te.as_bytes());
            wire[te.len()..te.len() + body.len()].copy_from_slice(body.as_bytes());
            res!(&wire[..te.len() + body.len()], err * err);
        }
    }

    #[test]
    fn truncation() {
        use ResponseError as E;
        res!(b"", err E::Truncated);
        res!(b"HTTP/1.1 200 OK\r\nContent-Le", err E::Truncated);
        res!(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", err E::Truncated);
        res!(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n", err E::Truncated);
        res!(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n", err E::Truncated);
    }

    #[test]
    fn buffer_limits() {
        use ResponseError as E;
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        res!(head, cap 20, err E::HeadTooLarge);
        res!(head, cap 0, err E::HeadTooLarge);
        // The head is 39 bytes.
        res!(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", cap 48, err E::BodyTooLarge { needed: Some(49) });
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\n";
        res!(huge, err E::BodyTooLarge { needed: Some(99_999_999_999_999_999 + huge.len()) });
        // Exactly enough room.
        read(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
            49,
            false,
            |r| {
                assert_eq!(r.unwrap().body, b"0123456789");
            },
        );
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n";
        // The head is 47 bytes; the 10-byte chunk must fit behind it.
        res!(chunked, cap 56, err E::BodyTooLarge { needed: None });
        // Room for the body plus the 3-byte last-chunk line in flight.
        read(chunked, 60, false, |r| {
            assert_eq!(r.unwrap().body, b"0123456789")
        });
        res!(chunked, cap 59, err E::BodyTooLarge { needed: None });
        // A close-delimited body that fills the buffer might be cut off: refused.
        res!(b"HTTP/1.1 200 OK\r\n\r\n0123456789", cap 29, err E::BodyTooLarge { needed: None });
        read(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 30, true, |r| {
            assert_eq!(r.unwrap().body, b"0123456789");
        });
    }

    #[test]
    fn excess_bytes() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200";
        let mut buf = [0u8; 128];
        let mut r = ResponseReader::new(&mut buf);
        assert_eq!(r.feed(wire), Ok((wire.len() - 12, Status::Complete)));
        assert_eq!(r.excess(), b"");
        assert_eq!(r.feed(b"more"), Ok((0, Status::Complete)));
        assert_eq!(r.response().unwrap().body, b"ok");

        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nNEXT";
        let mut buf = [0u8; 128];
        let mut r = ResponseReader::new(&mut buf);
        assert_eq!(r.feed(wire), Ok((wire.len() - 4, Status::Complete)));

        // Through `advance`, excess stays in the buffer and is shown.
        let mut buf = [0u8; 128];
        let mut r = ResponseReader::new(&mut buf);
        r.spare()[..wire.len()].copy_from_slice(wire);
        assert_eq!(r.advance(wire.len()), Ok(Status::Complete));
        assert_eq!(r.excess(), b"NEXT");
        r.spare()[..2].copy_from_slice(b"!!");
        assert_eq!(r.advance(2), Ok(Status::Complete));
        assert_eq!(r.excess(), b"NEXT!!");
        let resp = r.response().unwrap();
        assert_eq!(resp.body, b"ok");
        assert_eq!(resp.header("transfer-encoding"), Some(&b"chunked"[..]));
    }

    #[test]
    fn into_response_borrows_the_buffer() {
        let mut buf = [0u8; 128];
        let resp = {
            let mut r = ResponseReader::new(&mut buf);
            let wire =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
            assert_eq!(r.feed(wire), Ok((wire.len(), Status::Complete)));
            r.into_response().unwrap()
        };
        assert_eq!(
            (resp.status, resp.body, resp.is_json()),
            (200, &b"{}"[..], true)
        );
        let mut buf = [0u8; 8];
        assert!(ResponseReader::new(&mut buf).into_response().is_none());
    }

    #[test]
    fn errors_are_sticky_and_advance_is_clamped() {
        let mut buf = [0u8; 16];
        let mut r = ResponseReader::new(&mut buf);
        r.spare().copy_from_slice(b"HTTP/1.1 200 OK\r");
        assert_eq!(r.advance(1000), Err(ResponseError::HeadTooLarge));
        assert!(r.spare().is_empty());
        assert_eq!(r.advance(0), Err(ResponseError::HeadTooLarge));
        assert_eq!(
            r.feed(b"HTTP/1.1 200 OK\r\n"),
            Err(ResponseError::HeadTooLarge)
        );
        assert_eq!(r.finish(), Err(ResponseError::HeadTooLarge));
        assert!(r.response().is_none());

        let mut buf = [0u8; 64];
        let mut r = ResponseReader::new(&mut buf);
        assert_eq!(
            r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na"),
            Ok((39, Status::NeedMore))
        );
        assert!(r.response().is_none());
        assert_eq!(r.finish(), Err(ResponseError::Truncated));
        assert_eq!(r.feed(b"bc"), Err(ResponseError::Truncated));
    }

    #[test]
    fn debug_hides_body_and_headers() {
        let mut buf = [0u8; 128];
        let mut r = ResponseReader::new(&mut buf);
        let wire = b"HTTP/1.1 200 OK\r\nSet-Cookie: s=SECRETCOOKIE\r\nContent-Length: 20\r\n\r\n{\"access_token\":\"T\"}";
        assert_eq!(r.feed(wire), Ok((wire.len(), Status::Complete)));
        let resp = r.response().unwrap();
        let mut out = Buf([0; 512], 0);
        fmt::write(
            &mut out,
            format_args!("{resp:?} {:?} {r:?}", resp.headers()),
        )
        .unwrap();
        let text = core::str::from_utf8(&out.0[..out.1]).unwrap();
        assert!(text.contains("body_len: 20"), "{text}");
        assert!(
            !text.contains("access_token") && !text.contains("SECRETCOOKIE"),
            "{text}"
        );
    }

    struct Buf([u8; 512], usize);
    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let dst = self.0.get_mut(self.1..self.1 + s.len()).ok_or(fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.1 += s.len();
            Ok(())
        }
    }

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
