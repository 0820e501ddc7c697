//! One encoder routine serves both `encoded_len()` and `encode()`: it writes into a
//! [`Sink`], which either counts bytes or stores them. The caller checks the count
//! against the buffer first, so a short buffer is never touched.

use crate::error::BufferTooSmall;

/// A place encoded bytes go.
pub(crate) trait Sink {
    /// Appends one byte.
    fn put(&mut self, b: u8);
    /// Appends bytes.
    fn put_slice(&mut self, s: &[u8]) {
        for &b in s {
            self.put(b);
        }
    }
    /// Appends a string.
    fn put_str(&mut self, s: &str) {
        self.put_slice(s.as_bytes());
    }
    /// Appends an HTTP Basic credentials value (`Basic …`). Counting uses the
    /// value's exact length without running base64.
    fn put_basic(&mut self, b: &crate::basic::BasicAuth<'_>);
    /// Appends `n` in decimal. `usize`, not `u64`: on 32-bit targets a 64-bit
    /// division would pull in a kilobyte of compiler-builtins.
    fn put_decimal(&mut self, n: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n;
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        self.put_slice(digits.get(i..).unwrap_or(&[]));
    }
}

/// Counts bytes without storing them.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn put_basic(&mut self, b: &crate::basic::BasicAuth<'_>) {
        self.0 = self.0.saturating_add(b.encoded_len());
    }
    fn put(&mut self, _b: u8) {
        self.0 = self.0.saturating_add(1);
    }
    fn put_slice(&mut self, s: &[u8]) {
        self.0 = self.0.saturating_add(s.len());
    }
}

/// Stores bytes into a buffer the caller has already checked is large enough.
/// Excess bytes are dropped rather than panicking, and `pos` still counts them.
pub(crate) struct Write<'o> {
    out: &'o mut [u8],
    pub(crate) pos: usize,
}

impl<'o> Write<'o> {
    pub(crate) fn new(out: &'o mut [u8]) -> Self {
        Self { out, pos: 0 }
    }
}

impl Sink for Write<'_> {
    fn put_basic(&mut self, b: &crate::basic::BasicAuth<'_>) {
        b.emit(self);
    }
    fn put(&mut self, b: u8) {
        if let Some(slot) = self.out.get_mut(self.pos) {
            *slot = b;
        }
        self.pos = self.pos.saturating_add(1);
    }
    fn put_slice(&mut self, s: &[u8]) {
        let end = self.pos.saturating_add(s.len());
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(s);
        }
        self.pos = end;
    }
}

/// The number of bytes `emit` writes, counted without storing them.
pub(crate) fn count_with(emit: impl FnOnce(&mut dyn Sink)) -> usize {
    let mut count = Count::default();
    emit(&mut count);
    count.0
}

/// Runs `emit` once to count, then, if `out` is large enough, once to write.
pub(crate) fn encode_with(
    out: &mut [u8],
    emit: impl Fn(&mut dyn Sink),
) -> Result<usize, BufferTooSmall> {
    let needed = count_with(&emit);
    if out.len() < needed {
        return Err(BufferTooSmall { needed });
    }
    let mut w = Write::new(out);
    emit(&mut w);
    Ok(w.pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        for (n, s) in [
            (0usize, "0"),
            (7, "7"),
            (10, "10"),
            (4096, "4096"),
            (u32::MAX as usize, "4294967295"),
        ] {
            let mut buf = [0u8; 24];
            let mut w = Write::new(&mut buf);
            w.put_decimal(n);
            let len = w.pos;
            assert_eq!(&buf[..len], s.as_bytes());
        }
    }

    #[test]
    fn write_never_overruns() {
        let mut buf = [0u8; 2];
        let mut w = Write::new(&mut buf);
        w.put_slice(b"abc");
        w.put(b'd');
        assert_eq!(w.pos, 4);
        assert_eq!(buf, [0, 0]);
    }
}
