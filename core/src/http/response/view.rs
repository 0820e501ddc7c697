//! A complete response, borrowed from the reader's buffer: status, the head fields
//! the core acts on, every header field, and the body.

use core::fmt;

use super::date::RetryAfter;
use super::head::trim_ows;

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
    pub(super) head: &'a [u8],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::test_support::{read, res, Buf};
    use crate::http::response::{ResponseReader, Status};
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
}
