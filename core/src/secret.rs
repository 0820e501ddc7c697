//! Secret values that never print themselves.
//!
//! Every secret newtype in picoauth formats as a short prefix followed by
//! `…[redacted]` in `Debug` and `Display`; the value itself is reached only through
//! an explicit `expose()`.

use core::fmt;

/// How many leading characters of a secret may be shown at most.
///
/// Provider tokens start with a type tag (`xoxb-`, `xoxp-`, `pina_`), which is the
/// useful part when debugging; the shown prefix never exceeds a quarter of the
/// secret so short secrets reveal next to nothing.
pub const SHOWN_PREFIX: usize = 4;

/// Writes `chars` redacted: at most [`SHOWN_PREFIX`] characters (and never more than
/// a quarter of the value), then `…[redacted]`.
///
/// ```
/// use core::fmt::Write;
/// struct S(String);
/// impl core::fmt::Display for S {
///     fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
///         picoauth::secret::fmt_redacted(f, self.0.chars())
///     }
/// }
/// assert_eq!(S("xoxb-17653672481-19874698323".into()).to_string(), "xoxb…[redacted]");
/// assert_eq!(S("abc".into()).to_string(), "[redacted]");
/// ```
pub fn fmt_redacted<I>(f: &mut fmt::Formatter<'_>, chars: I) -> fmt::Result
where
    I: Iterator<Item = char> + Clone,
{
    let len = chars.clone().count();
    let shown = SHOWN_PREFIX.min(len / 4);
    for c in chars.take(shown) {
        fmt::Write::write_char(f, c)?;
    }
    if shown > 0 {
        f.write_str("…")?;
    }
    f.write_str("[redacted]")
}

/// Declares a `Copy` secret newtype over `$inner` (a borrowed `&str`, or a
/// [`JsonStr`](crate::json::JsonStr) from a body): `new` (with the given
/// visibility), `expose`, and `Debug`, `Display` and `defmt::Format` redacted with
/// [`fmt_redacted`].
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $new_vis:vis $name:ident<$lt:lifetime>($inner:ty)) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name<$lt>($inner);

        impl<$lt> $name<$lt> {
            /// Wraps a secret.
            $new_vis const fn new(secret: $inner) -> Self {
                Self(secret)
            }

            /// The secret itself. Call this only where the value must be used.
            pub const fn expose(&self) -> $inner {
                self.0
            }
        }

        impl core::fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                $crate::secret::fmt_redacted(f, self.0.chars())?;
                f.write_str(")")
            }
        }

        impl core::fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::secret::fmt_redacted(f, self.0.chars())
            }
        }

        #[cfg(feature = "defmt")]
        impl defmt::Format for $name<'_> {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{=str}([redacted])", stringify!($name))
            }
        }
    };
}
pub(crate) use secret_newtype;

secret_newtype! {
    /// A client secret, borrowed from the caller.
    ///
    /// ```
    /// use picoauth::ClientSecret;
    /// let s = ClientSecret::new("33fea0113f5b1");
    /// assert_eq!(format!("{s:?}"), "ClientSecret(33f…[redacted])");
    /// assert_eq!(s.expose(), "33fea0113f5b1");
    /// ```
    pub ClientSecret<'a>(&'a str)
}

impl<'a> From<&'a str> for ClientSecret<'a> {
    fn from(s: &'a str) -> Self {
        Self(s)
    }
}

secret_newtype! {
    /// A secret borrowed from the caller that is sent in a request: a refresh token, a
    /// PKCE code verifier or an authorization code.
    pub SecretStr<'a>(&'a str)
}

impl<'a> From<&'a str> for SecretStr<'a> {
    fn from(s: &'a str) -> Self {
        Self(s)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let s = ClientSecret::new("33fea0113f5b1-very-secret");
        let d = format!("{s:?} {s}");
        assert!(!d.contains("very-secret"), "{d}");
        assert!(!d.contains("0113"), "{d}");
        assert_eq!(format!("{s}"), "33fe…[redacted]");
        let r = SecretStr::new("xoxe-1-abcdefghijkl");
        assert_eq!(format!("{r:?}"), "SecretStr(xoxe…[redacted])");
    }

    #[test]
    fn short_secrets_show_nothing() {
        assert_eq!(format!("{}", ClientSecret::new("abc")), "[redacted]");
        assert_eq!(format!("{}", ClientSecret::new("")), "[redacted]");
        assert_eq!(
            format!("{}", ClientSecret::new("abcdefgh")),
            "ab…[redacted]"
        );
    }
}
