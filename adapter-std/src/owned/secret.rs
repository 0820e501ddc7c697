//! [`Secret`]: an owned secret string that never shows itself in `Debug` or `Display`.

use zeroize::Zeroize as _;

/// An owned secret: `Debug` and `Display` show at most a short prefix, and
/// [`expose`](Self::expose) reads it. Its bytes are wiped when it is dropped.
///
/// With the `serde` feature, `Serialize` writes the value itself (for the caller's own
/// storage) and `Deserialize` reads it back. A deserializer may hold the value in
/// buffers of its own (serde_json does, for a string with escapes); those are not
/// wiped by this type.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(")?;
        picoauth::secret::fmt_redacted(f, self.0.chars())?;
        f.write_str(")")
    }
}

impl core::fmt::Display for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        picoauth::secret::fmt_redacted(f, self.0.chars())
    }
}

/// `s` redacted as the core redacts secrets.
pub fn redacted(s: &str) -> String {
    Secret::new(s).to_string()
}
