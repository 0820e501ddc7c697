//! The `codes!` macro: a public error-code enum whose known codes are a table and
//! whose unknown ones are kept verbatim, shared by the token endpoint's JSON error
//! bodies and Slack's warnings ([`json`](crate::json)) and the authorization
//! redirect's `error` parameter ([`callback`](crate::callback)).

use crate::json::JsonStr;

/// The text a code is read from: a [`JsonStr`] (escapes intact) or a decoded `&str`.
pub(crate) trait CodeText: Copy {
    /// The value of the first `(value, wire)` entry whose wire text this is.
    fn find<T: Copy>(self, table: &[(T, &str)]) -> Option<T>;
}

impl CodeText for JsonStr<'_> {
    fn find<T: Copy>(self, table: &[(T, &str)]) -> Option<T> {
        // Scanned for escapes once; an escape-free code is compared as bytes.
        let plain = self.as_plain();
        table
            .iter()
            .find(|(_, wire)| match plain {
                Some(p) => p == *wire,
                None => self == *wire,
            })
            .map(|(v, _)| *v)
    }
}

impl CodeText for &str {
    fn find<T: Copy>(self, table: &[(T, &str)]) -> Option<T> {
        table
            .iter()
            .find(|(_, wire)| self == *wire)
            .map(|(v, _)| *v)
    }
}

/// Declares a public error-code enum with an `Other(text)` catch-all, plus
/// `from_wire`, `as_str` and `Display`. `Other` holds `$text`, and `|s| raw` says
/// how `as_str` gets the wire text back out of it.
macro_rules! codes {
    (
        $(#[$meta:meta])*
        $name:ident(Other: $text:ty, |$s:ident| $raw:expr) {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name<'b> {
            $($(#[$vmeta])* $variant,)*
            /// A code this version does not know, verbatim.
            Other($text),
        }
        impl<'b> $name<'b> {
            /// The variant for a code as sent on the wire.
            pub fn from_wire(code: $text) -> Self {
                $crate::codes::CodeText::find(code, &[$((Self::$variant, $wire),)*])
                    .unwrap_or(Self::Other(code))
            }
            /// The code as sent on the wire.
            pub const fn as_str(&self) -> &'b str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other($s) => $raw,
                }
            }
        }
        impl core::fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    Self::Other(s) => core::fmt::Display::fmt(s, f),
                    other => f.write_str(other.as_str()),
                }
            }
        }
    };
}
pub(crate) use codes;
