//! The header fields the reader acts on (`Content-Length`, `Transfer-Encoding`,
//! `Connection`, `Retry-After`, `Content-Type`, `WWW-Authenticate`) and the mapping
//! of [`httparse`]'s errors.

use super::date::{retry_after, RetryAfter};
use super::error::{HeadErrorKind, ResponseError};
use super::reader::MAX_HEADERS;

/// `v` without the spaces and tabs (HTTP's optional whitespace) around it.
pub(super) fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !ows(b))
        .map_or(start, |i| i.saturating_add(1));
    v.get(start..end).unwrap_or(&[])
}

/// Maps an httparse error, telling obsolete line folding apart from other bad names.
pub(super) fn head_error(e: httparse::Error, data: &[u8]) -> ResponseError {
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
pub(super) struct Fields {
    pub(super) content_length: Option<usize>,
    pub(super) chunked: bool,
    pub(super) close: bool,
    pub(super) retry_after: Option<RetryAfter>,
    pub(super) content_type: Option<(usize, usize)>,
    pub(super) www_authenticate: Option<(usize, usize)>,
}

impl Fields {
    /// Reads the fields httparse found in `data`.
    pub(super) fn read(
        headers: &[httparse::Header<'_>],
        data: &[u8],
    ) -> Result<Self, ResponseError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::test_support::{read, res};

    /// `HTTP/1.1 200 OK` with the one header `name: value` and no body, and its length.
    fn one_header(name: &[u8], value: &[u8]) -> ([u8; 128], usize) {
        let mut wire = [0u8; 128];
        let mut n = 0;
        for part in [&b"HTTP/1.1 200 OK\r\n"[..], name, b": ", value, b"\r\n\r\n"] {
            wire[n..n + part.len()].copy_from_slice(part);
            n += part.len();
        }
        (wire, n)
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
            let (wire, n) = one_header(b"Content-Length", bad);
            res!(&wire[..n], err E::InvalidContentLength);
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
            let (wire, n) = one_header(b"Transfer-Encoding", te);
            res!(&wire[..n], err E::UnsupportedTransferCoding);
        }
    }
}
