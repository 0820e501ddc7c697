//! A fixed-capacity owned secret string: `heapless::String` with a redacted `Debug`.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::error::{Field, TokenSetError};
use crate::json::JsonStr;
use crate::secret::fmt_redacted;

/// An owned token (access or refresh) of at most `N` bytes. `Debug` and `Display`
/// show at most a short prefix and `[redacted]`; [`expose`](Self::expose) is the one
/// way to the value. Its bytes are wiped when it is dropped (or replaced).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText<const N: usize>(heapless::String<N>);

impl<const N: usize> SecretText<N> {
    /// Copies `s`.
    ///
    /// # Errors
    /// [`TokenSetError::Capacity`] when `s` is longer than `N` bytes.
    pub fn new(s: &str, field: Field) -> Result<Self, TokenSetError> {
        let mut out = heapless::String::new();
        out.push_str(s).map_err(|_| TokenSetError::Capacity {
            field,
            len: s.len(),
            capacity: N,
        })?;
        Ok(Self(out))
    }

    /// Copies a string from a token body, escapes decoded.
    pub(crate) fn from_json(s: JsonStr<'_>, field: Field) -> Result<Self, TokenSetError> {
        copy_json(s, field).map(Self)
    }

    /// The secret itself. Call this only where the value must be used.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl<const N: usize> Drop for SecretText<N> {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.0.as_mut_str().zeroize();
    }
}

/// Copies a body string into a fixed-capacity string, escapes decoded.
pub(crate) fn copy_json<const N: usize>(
    s: JsonStr<'_>,
    field: Field,
) -> Result<heapless::String<N>, TokenSetError> {
    let mut out = heapless::String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            return Err(TokenSetError::Capacity {
                field,
                len: s.chars().map(char::len_utf8).sum(),
                capacity: N,
            });
        }
    }
    Ok(out)
}

impl<const N: usize> fmt::Debug for SecretText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(")?;
        fmt_redacted(f, self.0.chars())?;
        f.write_str(")")
    }
}

impl<const N: usize> fmt::Display for SecretText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_redacted(f, self.0.chars())
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for SecretText<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "SecretText([redacted])")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn redacted_and_bounded() {
        let s = SecretText::<64>::new("xoxe-1-My0xLTQ0NjQ2MTM1NDI1", Field::RefreshToken).unwrap();
        let shown = format!("{s:?} {s}");
        assert!(!shown.contains("My0x"), "{shown}");
        assert_eq!(s.expose(), "xoxe-1-My0xLTQ0NjQ2MTM1NDI1");
        assert_eq!(
            SecretText::<4>::new("12345", Field::AccessToken),
            Err(TokenSetError::Capacity {
                field: Field::AccessToken,
                len: 5,
                capacity: 4
            })
        );
        let esc = JsonStr::from_validated(r"\u0078ox");
        assert_eq!(
            SecretText::<8>::from_json(esc, Field::AccessToken)
                .unwrap()
                .expose(),
            "xox"
        );
        assert!(matches!(
            SecretText::<2>::from_json(esc, Field::AccessToken),
            Err(TokenSetError::Capacity {
                len: 3,
                capacity: 2,
                ..
            })
        ));
    }
}
