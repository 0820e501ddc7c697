//! In-place de-chunking of a `Transfer-Encoding: chunked` body (RFC 9112 §7.1).
//!
//! The raw chunked bytes arrive right behind the part of the body that is already
//! de-chunked. Every call moves the chunk data down over the framing it replaces, so the
//! body ends up as one contiguous slice and the free tail of the buffer stays as large as
//! possible for the next read.
//!
//! The chunk-size line is parsed by hand instead of with `httparse::parse_chunk_size`:
//! that function accepts an empty size (`"\r\n"` reads as a last chunk) and a bare LF
//! inside an extension, both of which let a peer smuggle framing past us.

use super::response::ResponseError;

/// Where the decoder is within the chunked framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Waiting for a complete `chunk-size [chunk-ext] CRLF` line.
    Size,
    /// Copying chunk data; this many bytes of the current chunk are still to come.
    Data(usize),
    /// Expecting the CR after the chunk data.
    Cr,
    /// Expecting the LF after the chunk data.
    Lf,
    /// The last chunk was seen; waiting for the whole trailer section.
    Trailers,
    /// The body is complete; later bytes are left alone.
    Done,
}

/// Trailer fields that fit the section; more is an error.
const MAX_TRAILERS: usize = 16;

/// The longest chunk size accepted, in hex digits (leading zeros included).
const MAX_SIZE_DIGITS: usize = 16;

/// A chunked-body decoder that works in place in the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dechunker {
    step: Step,
    /// End of the de-chunked body so far; raw, unprocessed bytes start here.
    body_end: usize,
}

impl Dechunker {
    /// A decoder whose body starts at `body_start` (the end of the response head).
    pub(super) const fn new(body_start: usize) -> Self {
        Self {
            step: Step::Size,
            body_end: body_start,
        }
    }

    /// The end of the de-chunked body in the buffer.
    pub(super) const fn body_end(&self) -> usize {
        self.body_end
    }

    /// Decodes the raw bytes in `buf[body_end..*filled]` as far as possible.
    ///
    /// On return the bytes not yet decoded (or, once done, the bytes after the response)
    /// sit right behind the body and `*filled` is updated to match. Returns `true` once the
    /// last chunk and the trailer section have been read.
    pub(super) fn decode(
        &mut self,
        buf: &mut [u8],
        filled: &mut usize,
    ) -> Result<bool, ResponseError> {
        let end = (*filled).min(buf.len());
        let mut pos = self.body_end.min(end);
        let result = loop {
            match self.step {
                Step::Size => {
                    let raw = buf.get(pos..end).unwrap_or(&[]);
                    match parse_size_line(raw) {
                        Ok(Some((len, 0))) => {
                            pos = pos.saturating_add(len);
                            self.step = Step::Trailers;
                        }
                        Ok(Some((len, size))) => {
                            // Fail fast: this chunk alone cannot fit behind the body.
                            if self
                                .body_end
                                .checked_add(size)
                                .is_none_or(|e| e > buf.len())
                            {
                                break Err(ResponseError::BodyTooLarge { needed: None });
                            }
                            pos = pos.saturating_add(len);
                            self.step = Step::Data(size);
                        }
                        Ok(None) => break Ok(()),
                        Err(e) => break Err(e),
                    }
                }
                Step::Data(remaining) => {
                    let take = remaining.min(end.saturating_sub(pos));
                    if take == 0 {
                        break Ok(());
                    }
                    let next = pos.saturating_add(take);
                    move_down(buf, pos, next, self.body_end);
                    self.body_end = self.body_end.saturating_add(take);
                    pos = next;
                    let left = remaining.saturating_sub(take);
                    self.step = if left == 0 {
                        Step::Cr
                    } else {
                        Step::Data(left)
                    };
                }
                Step::Cr | Step::Lf => {
                    let Some(&b) = buf.get(pos).filter(|_| pos < end) else {
                        break Ok(());
                    };
                    self.step = match (self.step, b) {
                        (Step::Cr, b'\r') => Step::Lf,
                        (Step::Lf, b'\n') => Step::Size,
                        _ => break Err(ResponseError::MissingChunkCrlf),
                    };
                    pos = pos.saturating_add(1);
                }
                Step::Done => break Ok(()),
                Step::Trailers => {
                    let raw = buf.get(pos..end).unwrap_or(&[]);
                    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILERS];
                    // Trailer fields are read and dropped: they are never merged into the head.
                    match httparse::parse_headers(raw, &mut fields) {
                        Ok(httparse::Status::Complete((len, _))) => {
                            pos = pos.saturating_add(len);
                            self.step = Step::Done;
                        }
                        Ok(httparse::Status::Partial) => break Ok(()),
                        Err(_) => break Err(ResponseError::InvalidTrailer),
                    }
                }
            }
        };
        // Close the gap between the body and the bytes still to decode (or the excess).
        move_down(buf, pos, end, self.body_end);
        *filled = self.body_end.saturating_add(end.saturating_sub(pos));
        result.map(|()| self.step == Step::Done)
    }
}

/// Moves `buf[from..to]` down to start at `dest` (`dest <= from`); does nothing if the
/// ranges are not inside `buf`, which the callers' invariants rule out.
fn move_down(buf: &mut [u8], from: usize, to: usize, dest: usize) {
    if dest < from && from <= to && to <= buf.len() {
        buf.copy_within(from..to, dest);
    }
}

/// Parses one `chunk-size [chunk-ext] CRLF` line at the start of `raw`.
///
/// Returns `Ok(None)` when the line is not complete yet, otherwise the length of the line
/// (CRLF included) and the chunk size. Extensions (`;name=value`, quoted strings included)
/// are skipped; any control character other than HTAB in them, a bare LF, an empty or
/// non-hex size, or a size longer than 16 digits or beyond `usize` is an error.
pub(super) fn parse_size_line(raw: &[u8]) -> Result<Option<(usize, usize)>, ResponseError> {
    let mut size: usize = 0;
    let mut digits = 0usize;
    let mut in_ext = false;
    let mut after_ws = false;
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\r' => {
                if digits == 0 {
                    return Err(ResponseError::InvalidChunkSize);
                }
                return match raw.get(i.saturating_add(1)) {
                    None => Ok(None),
                    Some(b'\n') => Ok(Some((i.saturating_add(2), size))),
                    Some(_) => Err(ResponseError::InvalidChunkSize),
                };
            }
            _ if in_ext => {
                if (b < 0x20 && b != b'\t') || b == 0x7f {
                    return Err(ResponseError::InvalidChunkSize);
                }
            }
            b';' if digits > 0 => in_ext = true,
            b' ' | b'\t' if digits > 0 => after_ws = true,
            _ => {
                let digit = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => return Err(ResponseError::InvalidChunkSize),
                };
                digits = digits.saturating_add(1);
                if after_ws || digits > MAX_SIZE_DIGITS {
                    return Err(ResponseError::InvalidChunkSize);
                }
                size = size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(usize::from(digit)))
                    .ok_or(ResponseError::InvalidChunkSize)?;
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_lines() {
        assert_eq!(parse_size_line(b"a\r\n"), Ok(Some((3, 10))));
        assert_eq!(parse_size_line(b"1F\r\nxx"), Ok(Some((4, 31))));
        assert_eq!(parse_size_line(b"0\r\n"), Ok(Some((3, 0))));
        assert_eq!(parse_size_line(b"4;name=value\r\n"), Ok(Some((14, 4))));
        assert_eq!(
            parse_size_line(b"4 ; a=\"q;\\\"x\"; b\r\n"),
            Ok(Some((18, 4)))
        );
        assert_eq!(parse_size_line(b"4 \r\n"), Ok(Some((4, 4))));
        assert_eq!(parse_size_line(b"0000000000000010\r\n"), Ok(Some((18, 16))));
    }

    #[test]
    fn size_line_prefixes_are_partial() {
        for line in [&b"1f;ext=\"v\"\r\n"[..], b"0\r\n", b"abc \t;x\r\n"] {
            for cut in 0..line.len() {
                assert_eq!(
                    parse_size_line(&line[..cut]),
                    Ok(None),
                    "{line:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn bad_size_lines() {
        for line in [
            &b"\r\n"[..],
            b";ext\r\n",
            b"g\r\n",
            b"-1\r\n",
            b"+1\r\n",
            b"0x10\r\n",
            b"1 2\r\n",
            b"a\n",
            b"a\rx",
            b"a;x\ny\r\n",
            b"a;x\x00\r\n",
            b"00000000000000001\r\n",
        ] {
            assert_eq!(
                parse_size_line(line),
                Err(ResponseError::InvalidChunkSize),
                "{:?}",
                core::str::from_utf8(line)
            );
        }
    }

    #[test]
    fn size_overflow_is_an_error_not_a_wrap() {
        // 16 digits fit a u64; on a 32-bit target anything past 8 must overflow cleanly.
        let r = parse_size_line(b"ffffffffffffffff\r\n");
        if usize::BITS == 64 {
            assert_eq!(r, Ok(Some((18, usize::MAX))));
        } else {
            assert_eq!(r, Err(ResponseError::InvalidChunkSize));
        }
    }

    #[test]
    fn decode_in_place_one_byte_at_a_time() {
        let raw = b"4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let mut buf = [0u8; 64];
        let mut filled = 0;
        let mut d = Dechunker::new(0);
        let mut done_at = None;
        for (i, &b) in raw.iter().enumerate() {
            buf[filled] = b;
            filled += 1;
            if d.decode(&mut buf, &mut filled).unwrap() && done_at.is_none() {
                done_at = Some(i);
            }
        }
        assert_eq!(done_at, Some(raw.len() - 5));
        assert_eq!(&buf[..d.body_end()], b"Wikipedia");
        assert_eq!(&buf[d.body_end()..filled], b"NEXT");
    }
}
