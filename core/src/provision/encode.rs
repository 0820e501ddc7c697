//! Writing a provisioning image.

use super::error::ImageEncodeError;
use super::layout::{checksum, FORMAT_VERSION, HEADER_LEN, MAGIC, OVERHEAD};
use super::Image;

/// Appends to a buffer already checked to be long enough; writes past its end are
/// dropped rather than panicking (the core never panics).
struct Cursor<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

impl Image<'_> {
    /// The three body fields, in order.
    fn fields(&self) -> [&[u8]; 3] {
        [
            self.client_id.as_bytes(),
            self.client_secret
                .map_or(&[][..], |s| s.expose().as_bytes()),
            self.token_set,
        ]
    }

    /// The exact length [`encode`](Self::encode) writes.
    ///
    /// # Errors
    /// [`ImageEncodeError::Field`] for an empty client id or a field over 65,535 bytes.
    pub fn encoded_len(&self) -> Result<usize, ImageEncodeError> {
        if self.client_id.is_empty() {
            return Err(ImageEncodeError::Field);
        }
        let mut len = OVERHEAD;
        for f in self.fields() {
            if u16::try_from(f.len()).is_err() {
                return Err(ImageEncodeError::Field);
            }
            len += f.len();
        }
        Ok(len)
    }

    /// Writes the image into `out`; returns its length.
    ///
    /// # Errors
    /// [`ImageEncodeError::BufferTooSmall`] (with `out` untouched) when `out` is short;
    /// as [`encoded_len`](Self::encoded_len) otherwise.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, ImageEncodeError> {
        let needed = self.encoded_len()?;
        let Some(out) = out.get_mut(..needed) else {
            return Err(ImageEncodeError::BufferTooSmall { needed });
        };
        let body_len = needed - OVERHEAD + 6;
        let mut c = Cursor { out, at: 0 };
        c.put(&MAGIC);
        c.put(&[FORMAT_VERSION, 0, 0, 0]);
        // `encoded_len` bounded each field by u16::MAX, so these casts are exact.
        c.put(&(body_len as u32).to_le_bytes());
        c.put(&self.id.to_le_bytes());
        for f in self.fields() {
            c.put(&(f.len() as u16).to_le_bytes());
            c.put(f);
        }
        let crc = checksum(c.out.get(..HEADER_LEN + body_len).unwrap_or(&[]));
        c.put(&crc.to_le_bytes());
        Ok(needed)
    }
}
