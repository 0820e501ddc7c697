//! Shared plumbing of the provider parsers: known-member tables, duplicate
//! detection and typed reads of [`Value`]s.

use super::lexer::{self, digits_u64, Array, Object, Value};
use super::{JsonError, JsonStr};

/// A set of known member names of one object.
pub(crate) trait Field: Copy {
    /// The member for a (decoded) key, if it is a known one.
    fn lookup(key: JsonStr<'_>) -> Option<Self>;
    /// The member's name on the wire.
    fn wire(self) -> &'static str;
    /// A distinct bit index below 64.
    fn bit(self) -> u32;
}

/// Declares a private enum of known member names implementing [`Field`].
macro_rules! fields {
    ($name:ident { $($variant:ident = $wire:literal,)* }) => {
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        enum $name { $($variant,)* }
        impl $crate::json::fields::Field for $name {
            fn lookup(key: $crate::json::JsonStr<'_>) -> Option<Self> {
                [$(Self::$variant,)*].into_iter().find(|f| key == f.wire())
            }
            fn wire(self) -> &'static str {
                match self { $(Self::$variant => $wire,)* }
            }
            fn bit(self) -> u32 {
                self as u32
            }
        }
    };
}
pub(crate) use fields;

/// Declares a public error-code enum with an `Other(JsonStr)` catch-all, plus
/// `from_wire`, `as_str` and `Display`.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name<'b> {
            $($(#[$vmeta])* $variant,)*
            /// A code this version does not know, verbatim.
            Other($crate::json::JsonStr<'b>),
        }
        impl<'b> $name<'b> {
            /// The variant for a code as sent on the wire.
            pub fn from_wire(code: $crate::json::JsonStr<'b>) -> Self {
                $(if code == $wire { return Self::$variant; })*
                Self::Other(code)
            }
            /// The code as sent on the wire (for [`Other`](Self::Other) holding
            /// escapes, the raw escaped text; its `Display` decodes).
            pub const fn as_str(&self) -> &'b str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s.raw(),
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

/// The body's top-level object.
pub(crate) fn root_object(body: &[u8]) -> Result<Object<'_>, JsonError> {
    match lexer::parse_document(body)? {
        Value::Object(o) => Ok(o),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Calls `each` for every known member of `obj`, rejecting duplicates of known
/// members; unknown members are skipped (they were validated by the lexer).
pub(crate) fn visit<'b, F: Field>(
    obj: Object<'b>,
    mut each: impl FnMut(F, Value<'b>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let mut seen = 0u64;
    for (key, value) in obj.members() {
        let Some(field) = F::lookup(key) else {
            continue;
        };
        let mask = 1u64.checked_shl(field.bit()).unwrap_or(0);
        if seen & mask != 0 {
            return Err(JsonError::DuplicateField {
                field: field.wire(),
            });
        }
        seen |= mask;
        each(field, value)?;
    }
    Ok(())
}

/// A string, `null` or absent.
pub(crate) fn opt_str<'b>(
    v: Value<'b>,
    field: &'static str,
) -> Result<Option<JsonStr<'b>>, JsonError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// A boolean or `null`.
pub(crate) fn opt_bool(v: Value<'_>, field: &'static str) -> Result<Option<bool>, JsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An unsigned integer written as a number or as a string of ASCII digits, or `null`.
pub(crate) fn opt_u64(v: Value<'_>, field: &'static str) -> Result<Option<u64>, JsonError> {
    let bad = JsonError::InvalidInteger { field };
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or(bad),
        Value::String(s) => {
            // A digit string never needs an escape; one that has any is rejected.
            let digits = s.as_plain().ok_or(bad)?;
            digits_u64(digits).map(Some).ok_or(bad)
        }
        _ => Err(JsonError::WrongType { field }),
    }
}

/// A signed integer written as a JSON number, or `null`.
pub(crate) fn opt_i64(v: Value<'_>, field: &'static str) -> Result<Option<i64>, JsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or(JsonError::InvalidInteger { field }),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An object or `null`.
pub(crate) fn opt_object<'b>(
    v: Value<'b>,
    field: &'static str,
) -> Result<Option<Object<'b>>, JsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(o) => Ok(Some(o)),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An array whose elements are all strings, or `null`.
pub(crate) fn opt_str_array<'b>(
    v: Value<'b>,
    field: &'static str,
) -> Result<Option<Array<'b>>, JsonError> {
    match v {
        Value::Null => Ok(None),
        Value::Array(a) => {
            if a.elements().all(|e| matches!(e, Value::String(_))) {
                Ok(Some(a))
            } else {
                Err(JsonError::WrongType { field })
            }
        }
        _ => Err(JsonError::WrongType { field }),
    }
}
