//! The sans-IO token exchange: encode → write → read until complete → parse.
//!
//! One buffer serves the whole exchange: the request is encoded into it, written,
//! and the response is read back into the same bytes. The finished [`Answer`] (the
//! [`Outcome`] and the [`Response`] it came in) borrows it.
//!
//! [`Exchange`] is the state machine; [`blocking::exchange`] and
//! [`asynch::exchange`] are the two thin drivers over `embedded-io` and
//! `embedded-io-async` that every adapter uses.
//!
//! ```
//! use picoauth::exchange::{Exchange, Outcome, Token};
//! use picoauth::provider::SLACK_V2;
//! use picoauth::request::{ClientAuth, Grant, TokenRequest};
//!
//! let req = TokenRequest::new(&SLACK_V2, ClientAuth::basic("111.222", "secret".into()), Grant::authorization_code("c0de"));
//! let mut buf = [0u8; 1024];
//! let ex = Exchange::new(&req, &mut buf).unwrap();
//! assert!(ex.request().starts_with(b"POST /api/oauth.v2.access"));
//! // … write ex.request() to the connection, then read the answer:
//! let mut reading = ex.into_reading();
//! let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"ok\":true,\"access_token\":\"xoxb-1-abcd\"}";
//! let spare = reading.spare();
//! spare[..answer.len()].copy_from_slice(answer);
//! assert_eq!(reading.advance(answer.len()).unwrap(), picoauth::http::response::Status::Complete);
//! let answer = reading.into_answer().unwrap();
//! assert!(answer.response.keep_alive);
//! match answer.outcome {
//!     Outcome::Token { token: Token::SlackV2(t), .. } => assert!(t.access_token.unwrap().expose() == "xoxb-1-abcd"),
//!     other => panic!("{other:?}"),
//! }
//! ```

use core::convert::Infallible;
use core::fmt;

use crate::http::response::{Response, ResponseError, ResponseReader, RetryAfter, Status};
use crate::json::{self, JsonError};
use crate::provider::ProviderKind;
use crate::request::TokenRequest;
use crate::EncodeError;

/// A token set, in the provider's own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Token<'b> {
    /// Slack `oauth.v2.access`.
    SlackV2(json::slack::SlackV2Token<'b>),
    /// Slack legacy `oauth.access`.
    SlackV1(json::slack::SlackV1Token<'b>),
    /// Pinterest v5.
    Pinterest(json::pinterest::PinterestToken<'b>),
    /// RFC 6749 §5.1.
    Rfc6749(json::rfc6749::TokenResponse<'b>),
}

/// An error the provider answered with, in its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderError<'b> {
    /// Slack `{"ok":false,"error":…}` (or Slack's RFC-shaped refresh error).
    Slack(json::slack::SlackError<'b>),
    /// Pinterest `{"code":…,"message":…}`.
    Pinterest(json::pinterest::PinterestError<'b>),
    /// RFC 6749 §5.2 `{"error":…}`.
    Rfc6749(json::rfc6749::ErrorResponse<'b>),
}

/// What a token endpoint answered. Provider errors are data, not failures.
///
/// The token variant is large (Slack's model has some 25 borrowed fields, about
/// 400 bytes on 64-bit targets, half that on 32-bit): it lives on the stack for the
/// length of one exchange, and boxing is not available without `alloc`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<'b> {
    /// Tokens.
    Token {
        /// The HTTP status (2xx).
        status: u16,
        /// The tokens.
        token: Token<'b>,
    },
    /// The provider refused, with a documented error body. Slack sends these with
    /// HTTP 200, so check this, not the status.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error.
        error: ProviderError<'b>,
    },
    /// HTTP 429 (or Slack's `ratelimited`): wait and try again.
    RateLimited {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, when the provider sent one.
        retry_after: Option<RetryAfter>,
        /// The error body, when there was one.
        error: Option<ProviderError<'b>>,
    },
    /// A status the provider does not document for its token endpoint, with a body
    /// that is not one of its error shapes (an HTML 502 from a proxy, say).
    HttpError {
        /// The HTTP status.
        status: u16,
    },
}

impl Outcome<'_> {
    /// The HTTP status of the answer.
    pub const fn status(&self) -> u16 {
        match self {
            Self::Token { status, .. }
            | Self::Error { status, .. }
            | Self::RateLimited { status, .. }
            | Self::HttpError { status } => *status,
        }
    }
}

/// A finished exchange: what the provider said, and the response it said it in.
///
/// Both borrow the exchange's buffer. The response carries what the head said
/// beside the body: [`Response::status`], [`Response::content_type`],
/// [`Response::retry_after`], [`Response::www_authenticate`] (the challenge of a
/// 401) and [`Response::keep_alive`] (whether the connection may carry another
/// request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer<'b> {
    /// The interpreted body: tokens, a provider error, a rate limit or an HTTP error.
    pub outcome: Outcome<'b>,
    /// The complete response.
    pub response: Response<'b>,
}

/// Why a complete response could not be interpreted ([`interpret`]).
///
/// Only a success status can fail: any other status whose body is not one of the
/// provider's error shapes is [`Outcome::HttpError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InterpretError {
    /// A success status with a body that is not JSON; the status is kept.
    NotJson {
        /// The HTTP status.
        status: u16,
    },
    /// The body claimed to be JSON but was not, or not in the provider's shape.
    Json {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        error: JsonError,
    },
}

impl fmt::Display for InterpretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson { status } => write!(f, "HTTP {status} answer is not JSON"),
            Self::Json { status, error } => {
                write!(f, "HTTP {status} answer has a bad JSON body: {error}")
            }
        }
    }
}

impl core::error::Error for InterpretError {}

/// Why an exchange failed (as opposed to the provider answering with an error): one
/// variant per step of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ExchangeError<E> {
    /// The transport failed.
    Io(E),
    /// The request could not be encoded.
    Encode(EncodeError),
    /// The HTTP response was malformed, truncated or too large.
    Response(ResponseError),
    /// The complete response could not be interpreted.
    Interpret(InterpretError),
}

impl<E> From<EncodeError> for ExchangeError<E> {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl<E> From<ResponseError> for ExchangeError<E> {
    fn from(e: ResponseError) -> Self {
        Self::Response(e)
    }
}

impl<E> From<InterpretError> for ExchangeError<E> {
    fn from(e: InterpretError) -> Self {
        Self::Interpret(e)
    }
}

impl<E> ExchangeError<E> {
    /// The same error with the transport error mapped.
    pub fn map_io<F>(self, f: impl FnOnce(E) -> F) -> ExchangeError<F> {
        match self {
            Self::Io(e) => ExchangeError::Io(f(e)),
            Self::Encode(e) => ExchangeError::Encode(e),
            Self::Response(e) => ExchangeError::Response(e),
            Self::Interpret(e) => ExchangeError::Interpret(e),
        }
    }
}

impl ExchangeError<Infallible> {
    /// The same error as one of a transport whose error type is `E` (there is no
    /// transport error to map).
    pub fn into_io<E>(self) -> ExchangeError<E> {
        self.map_io(|never| match never {})
    }
}

impl<E: fmt::Debug> fmt::Display for ExchangeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e:?}"),
            Self::Encode(e) => write!(f, "cannot encode request: {e}"),
            Self::Response(e) => write!(f, "malformed HTTP response: {e}"),
            Self::Interpret(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for ExchangeError<E> {}

/// An exchange whose request is encoded and waiting to be written.
///
/// The request bytes hold the client's credentials, the code, the PKCE verifier or
/// the refresh token: `Debug` shows only lengths, and the request bytes are wiped
/// (with [`zeroize`]) when the exchange moves on to reading or is dropped.
pub struct Exchange<'buf> {
    kind: ProviderKind,
    buf: &'buf mut [u8],
    request_len: usize,
}

impl fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("kind", &self.kind)
            .field("request_len", &self.request_len)
            .field("capacity", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Exchange<'_> {
    fn drop(&mut self) {
        wipe(self.buf, self.request_len);
    }
}

/// Overwrites the first `len` bytes of `buf` with zeros (volatile writes, so the
/// compiler cannot skip them).
fn wipe(buf: &mut [u8], len: usize) {
    use zeroize::Zeroize as _;
    let len = len.min(buf.len());
    if let Some(head) = buf.get_mut(..len) {
        head.zeroize();
    }
}

impl<'buf> Exchange<'buf> {
    /// Encodes `req` into `buf`.
    ///
    /// `buf` must hold the request, and later the whole response: size it for the
    /// larger (2 KiB is ample for Slack's largest documented answer).
    ///
    /// # Errors
    /// [`EncodeError`], including `BufferTooSmall { needed }`.
    pub fn new(req: &TokenRequest<'_>, buf: &'buf mut [u8]) -> Result<Self, EncodeError> {
        let request_len = req.encode(buf)?;
        Ok(Self {
            kind: req.provider().kind,
            buf,
            request_len,
        })
    }

    /// The request bytes to write, all of them, before reading.
    pub fn request(&self) -> &[u8] {
        self.buf.get(..self.request_len).unwrap_or(&[])
    }

    /// The request is written: read the response into the same buffer. The request
    /// bytes are wiped first, so no credential outlives its sending.
    pub fn into_reading(mut self) -> Reading<'buf> {
        let buf = core::mem::take(&mut self.buf);
        wipe(buf, self.request_len);
        Reading {
            kind: self.kind,
            reader: ResponseReader::new(buf),
        }
    }
}

/// An exchange reading its response.
#[derive(Debug)]
pub struct Reading<'buf> {
    kind: ProviderKind,
    reader: ResponseReader<'buf>,
}

impl Reading<'_> {
    /// Where to read the next bytes into. Empty when the buffer is full, in which
    /// case [`advance`](Self::advance) reports the response as too large.
    pub fn spare(&mut self) -> &mut [u8] {
        self.reader.spare()
    }

    /// `n` bytes were read into [`spare`](Self::spare).
    ///
    /// # Errors
    /// A malformed or oversized response.
    pub fn advance(&mut self, n: usize) -> Result<Status, ResponseError> {
        self.reader.advance(n)
    }

    /// The connection was closed by the peer (a read returned 0).
    ///
    /// # Errors
    /// [`ResponseError`] when the response is incomplete.
    pub fn finish(&mut self) -> Result<Status, ResponseError> {
        self.reader.finish()
    }

    /// The complete response (status, head fields such as `WWW-Authenticate`, body),
    /// once reading has returned [`Status::Complete`]; `None` before.
    pub fn response(&self) -> Option<Response<'_>> {
        self.reader.response()
    }
}

/// Interprets a complete response with `kind`'s rules.
///
/// - 429 is [`Outcome::RateLimited`], whatever the body (Slack's recorded 429 has none).
/// - A JSON body in the provider's error shape is [`Outcome::Error`] with any status
///   (Slack: `ok:false` at HTTP 200).
/// - A 2xx body must be JSON (a missing `Content-Type` is tried as JSON) and parse as
///   the provider's token or error.
/// - Any other status whose body is not an error shape is [`Outcome::HttpError`].
///
/// # Errors
/// [`InterpretError::NotJson`] and [`InterpretError::Json`], for success statuses only.
pub fn interpret<'b>(
    kind: ProviderKind,
    response: &Response<'b>,
) -> Result<Outcome<'b>, InterpretError> {
    let Response {
        status,
        content_type,
        retry_after,
        body,
        ..
    } = *response;
    let success = (200..300).contains(&status);
    let json_ok = content_type.is_none_or(crate::http::response::is_json_media_type);
    let parsed = if json_ok && !body.is_empty() {
        Some(parse_body(kind, body))
    } else {
        None
    };
    if status == 429 {
        let error = match parsed {
            Some(Ok(Parsed::Error(e))) => Some(e),
            _ => None,
        };
        return Ok(Outcome::RateLimited {
            status,
            retry_after,
            error,
        });
    }
    match parsed {
        Some(Ok(Parsed::Error(error))) => {
            if is_rate_limit(&error) {
                return Ok(Outcome::RateLimited {
                    status,
                    retry_after,
                    error: Some(error),
                });
            }
            Ok(Outcome::Error { status, error })
        }
        Some(Ok(Parsed::Token(token))) if success => Ok(Outcome::Token { status, token }),
        Some(Err(error)) if success => Err(InterpretError::Json { status, error }),
        None if success && json_ok => Err(InterpretError::Json {
            status,
            error: JsonError::Empty,
        }),
        None if success => Err(InterpretError::NotJson { status }),
        _ => Ok(Outcome::HttpError { status }),
    }
}

fn is_rate_limit(e: &ProviderError<'_>) -> bool {
    match e {
        ProviderError::Slack(s) => s.code.as_str() == "ratelimited",
        _ => false,
    }
}

#[allow(clippy::large_enum_variant)] // Transient; see `Outcome`.
enum Parsed<'b> {
    Token(Token<'b>),
    Error(ProviderError<'b>),
}

fn parse_body(kind: ProviderKind, body: &[u8]) -> Result<Parsed<'_>, JsonError> {
    use json::{pinterest, rfc6749, slack};
    Ok(match kind {
        ProviderKind::SlackV2 => match slack::parse_v2(body)? {
            slack::SlackV2::Token(t) => Parsed::Token(Token::SlackV2(t)),
            slack::SlackV2::Error(e) => Parsed::Error(ProviderError::Slack(e)),
        },
        ProviderKind::SlackV1 => match slack::parse_v1(body)? {
            slack::SlackV1::Token(t) => Parsed::Token(Token::SlackV1(t)),
            slack::SlackV1::Error(e) => Parsed::Error(ProviderError::Slack(e)),
        },
        ProviderKind::Pinterest => match pinterest::parse(body)? {
            pinterest::Pinterest::Token(t) => Parsed::Token(Token::Pinterest(t)),
            pinterest::Pinterest::Error(e) => Parsed::Error(ProviderError::Pinterest(e)),
        },
        ProviderKind::Rfc6749 => match rfc6749::parse(body)? {
            rfc6749::Rfc6749::Token(t) => Parsed::Token(Token::Rfc6749(t)),
            rfc6749::Rfc6749::Error(e) => Parsed::Error(ProviderError::Rfc6749(e)),
        },
    })
}

/// The blocking driver over `embedded-io`.
pub mod blocking {
    use embedded_io::{Read, Write};

    use super::{Answer, Exchange, ExchangeError, Reading};
    use crate::http::response::Status;
    use crate::request::TokenRequest;

    /// Runs one exchange over `io`: writes the request, reads until the response is
    /// complete (or the peer closes), and interprets it. `buf` holds the request and
    /// then the response; the [`Answer`] borrows it.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub fn exchange<'b, T: Read + Write>(
        io: &mut T,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
    ) -> Result<Answer<'b>, ExchangeError<T::Error>> {
        read_response(io, req, buf)?
            .into_answer()
            .map_err(ExchangeError::into_io)
    }

    /// Writes the request and reads the whole response, without interpreting it: the
    /// returned [`Reading`] shows the response ([`Reading::response`]) before
    /// [`Reading::into_answer`] interprets the body.
    /// [`exchange`] is this followed by the interpretation.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub fn read_response<'b, T: Read + Write>(
        io: &mut T,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
    ) -> Result<Reading<'b>, ExchangeError<T::Error>> {
        let ex = Exchange::new(req, buf)?;
        io.write_all(ex.request()).map_err(ExchangeError::Io)?;
        io.flush().map_err(ExchangeError::Io)?;
        let mut reading = ex.into_reading();
        // The reader fails as soon as a response cannot fit, so `spare()` is never
        // empty while it needs more. On failure the partial response is wiped.
        loop {
            let step = match io.read(reading.spare()) {
                Ok(n) => reading.read_done(n).map_err(ExchangeError::from),
                Err(e) => Err(ExchangeError::Io(e)),
            };
            match step {
                Ok(Status::Complete) => return Ok(reading),
                Ok(Status::NeedMore) => {}
                Err(e) => {
                    reading.wipe();
                    return Err(e);
                }
            }
        }
    }
}

/// The async driver over `embedded-io-async`.
pub mod asynch {
    use embedded_io_async::{Read, Write};

    use super::{Answer, Exchange, ExchangeError, Reading};
    use crate::http::response::{ResponseReader, Status};
    use crate::request::TokenRequest;

    /// Runs one exchange over `io`; see [`blocking::exchange`](super::blocking::exchange).
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn exchange<'b, T: Read + Write>(
        io: &mut T,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
    ) -> Result<Answer<'b>, ExchangeError<T::Error>> {
        read_response(io, req, buf)
            .await?
            .into_answer()
            .map_err(ExchangeError::into_io)
    }

    /// Writes the request and reads the whole response without interpreting it; see
    /// [`blocking::read_response`](super::blocking::read_response). A future dropped
    /// part-way (a caller's timeout) leaves nothing behind in `buf`: the request and
    /// the part of the response read so far are wiped.
    ///
    /// # Errors
    /// See [`ExchangeError`].
    pub async fn read_response<'b, T: Read + Write>(
        io: &mut T,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
    ) -> Result<Reading<'b>, ExchangeError<T::Error>> {
        let ex = Exchange::new(req, buf)?;
        io.write_all(ex.request())
            .await
            .map_err(ExchangeError::Io)?;
        io.flush().await.map_err(ExchangeError::Io)?;
        // Wiped on failure, and when this future is dropped part-way (a caller's
        // timeout): the partial response may hold tokens.
        let mut reading = WipeOnDrop(ex.into_reading());
        loop {
            let step = match io.read(reading.0.spare()).await {
                Ok(n) => reading.0.read_done(n).map_err(ExchangeError::from),
                Err(e) => Err(ExchangeError::Io(e)),
            };
            match step {
                Ok(Status::Complete) => return Ok(reading.keep()),
                Ok(Status::NeedMore) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// A reading that is wiped when dropped, unless [`keep`](Self::keep) hands it out.
    struct WipeOnDrop<'b>(Reading<'b>);

    impl<'b> WipeOnDrop<'b> {
        fn keep(mut self) -> Reading<'b> {
            let empty = Reading {
                kind: self.0.kind,
                reader: ResponseReader::new(&mut []),
            };
            core::mem::replace(&mut self.0, empty)
        }
    }

    impl Drop for WipeOnDrop<'_> {
        fn drop(&mut self) {
            self.0.wipe();
        }
    }
}

impl<'buf> Reading<'buf> {
    /// Overwrites the whole buffer (request and response so far) with zeros: for a
    /// response that is no longer needed, or an exchange that failed half-way.
    pub fn wipe(&mut self) {
        self.reader.wipe();
    }

    /// Records one read of `n` bytes into [`spare`](Self::spare); `0` means the peer
    /// closed the connection.
    ///
    /// # Errors
    /// A malformed, oversized or (on close) incomplete response.
    pub fn read_done(&mut self, n: usize) -> Result<Status, ResponseError> {
        if n == 0 {
            self.reader.finish()
        } else {
            self.reader.advance(n)
        }
    }

    /// Interprets the complete response, consuming the reader so the [`Answer`] can
    /// borrow the buffer for `'buf`.
    ///
    /// # Errors
    /// [`ExchangeError::Response`] (`Truncated`) when the response is not complete
    /// yet; [`ExchangeError::Interpret`] for a success status whose body is not the
    /// provider's JSON. There is no transport here, so no [`ExchangeError::Io`]
    /// ([`ExchangeError::into_io`] gives the error a transport's type).
    pub fn into_answer(self) -> Result<Answer<'buf>, ExchangeError<Infallible>> {
        let kind = self.kind;
        let response = self
            .reader
            .into_response()
            .ok_or(ResponseError::Truncated)?;
        let outcome = interpret(kind, &response)?;
        Ok(Answer { outcome, response })
    }
}
