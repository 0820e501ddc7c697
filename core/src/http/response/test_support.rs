//! Test support: a response read whole, one byte at a time and in 7-byte pieces.

use core::fmt;

use super::{Response, ResponseError, ResponseReader, Status};

/// Reads `wire` into a `cap`-byte buffer whole, one byte at a time and in 7-byte
/// pieces through `advance`, checks the three agree, and hands the result to `check`.
/// `close` calls `finish()` after the last byte (the peer closed).
pub(super) fn read(
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

pub(super) use res;

/// A fixed buffer to format into (the crate has no `std`).
pub(super) struct Buf(pub(super) [u8; 512], pub(super) usize);
impl fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let dst = self.0.get_mut(self.1..self.1 + s.len()).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.1 += s.len();
        Ok(())
    }
}
