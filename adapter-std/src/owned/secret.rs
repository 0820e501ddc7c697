//! [`Secret`]: an owned secret string that never shows itself in `Debug` or `Display`.

use serde::Serialize;

/// An owned secret: `Debug` and `Display` show at most a short prefix; `Serialize`
/// writes the value itself (for storage), and [`expose`](Self::expose) reads it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

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
