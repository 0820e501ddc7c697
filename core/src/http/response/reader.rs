//! The reader: one HTTP/1.1 response into a caller-supplied buffer as bytes arrive.

use core::fmt;

use super::date::RetryAfter;
use super::error::{HeadErrorKind, ResponseError};
use super::head::{head_error, Fields};
use super::view::Response;
use crate::http::chunked::Dechunker;

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
/// See the [module docs](super) for the flow and the buffer size.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::test_support::{read, res};
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
}
