//! Shared plumbing of the provider parsers: known-member tables, duplicate
//! detection and typed reads of [`Value`]s.

use super::reader::Reader;
use super::value::{digits_u64, Array, Object, Value};
use super::{JsonError, JsonStr};

/// A set of known member names of one object.
pub(crate) trait Field: Copy {
    /// The members' names on the wire, in variant order.
    const NAMES: &'static [&'static str];
    /// The member at `index` in [`NAMES`](Self::NAMES).
    fn from_index(index: usize) -> Option<Self>;
    /// The member's name on the wire.
    fn wire(self) -> &'static str;
}

/// The index in `names` of a key; `escaped` says whether the key's raw text holds
/// an escape. An escape-free key is its own text and is compared as bytes (length
/// first); only a key with an escape is compared decoded. Not generic, so that
/// every object shares it (code size).
pub(crate) fn lookup(names: &[&str], key: JsonStr<'_>, escaped: bool) -> Option<usize> {
    names.iter().position(|name| {
        if escaped {
            key == *name
        } else {
            key.raw() == *name
        }
    })
}

/// Declares a private enum of known member names implementing [`Field`].
macro_rules! fields {
    ($name:ident { $($variant:ident = $wire:literal,)* }) => {
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        enum $name { $($variant,)* }
        impl $crate::json::fields::Field for $name {
            const NAMES: &'static [&'static str] = &[$($wire,)*];
            fn from_index(index: usize) -> Option<Self> {
                [$(Self::$variant,)*].get(index).copied()
            }
            fn wire(self) -> &'static str {
                Self::NAMES.get(self as usize).copied().unwrap_or("")
            }
        }
    };
}
pub(crate) use fields;

/// Reads the body's top-level object with `each`; see [`Reader::members`].
pub(crate) fn root<'b, F: Field>(
    body: &'b [u8],
    each: impl FnMut(F, &mut Reader<'b>) -> Result<(), JsonError>,
) -> Result<Object<'b>, JsonError> {
    Reader::root(body, each)
}

/// A string, `null` or absent.
pub(crate) fn opt_str<'b>(
    r: &mut Reader<'b>,
    field: &'static str,
) -> Result<Option<JsonStr<'b>>, JsonError> {
    match r.value()? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// A boolean or `null`.
pub(crate) fn opt_bool(r: &mut Reader<'_>, field: &'static str) -> Result<Option<bool>, JsonError> {
    match r.value()? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An unsigned integer written as a number or as a string of ASCII digits, or `null`.
pub(crate) fn opt_u64(r: &mut Reader<'_>, field: &'static str) -> Result<Option<u64>, JsonError> {
    let bad = JsonError::InvalidInteger { field };
    match r.value()? {
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
pub(crate) fn opt_i64(r: &mut Reader<'_>, field: &'static str) -> Result<Option<i64>, JsonError> {
    match r.value()? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or(JsonError::InvalidInteger { field }),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An object read with `each` (see [`Reader::members`]), or `null`: whether it
/// was an object.
pub(crate) fn opt_object<'b, F: Field>(
    r: &mut Reader<'b>,
    field: &'static str,
    each: impl FnMut(F, &mut Reader<'b>) -> Result<(), JsonError>,
) -> Result<bool, JsonError> {
    if r.peek() == Some(b'{') {
        r.members(each)?;
        return Ok(true);
    }
    match r.value()? {
        Value::Null => Ok(false),
        _ => Err(JsonError::WrongType { field }),
    }
}

/// An array whose elements are all strings, or `null`.
pub(crate) fn opt_str_array<'b>(
    r: &mut Reader<'b>,
    field: &'static str,
) -> Result<Option<Array<'b>>, JsonError> {
    if r.peek() == Some(b'[') {
        return r
            .array(|e| match e {
                Value::String(_) => Ok(()),
                _ => Err(JsonError::WrongType { field }),
            })?
            .map(Some);
    }
    match r.value()? {
        Value::Null => Ok(None),
        _ => Err(JsonError::WrongType { field }),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::super::value::{parse_document, MAX_DEPTH};
    use super::super::{pinterest, rfc6749, slack, JsonError};
    use std::{string::String, vec, vec::Vec};

    /// The error of each provider parser, in the order slack v2, slack v1,
    /// pinterest, rfc6749.
    fn errors(body: &[u8]) -> [Option<JsonError>; 4] {
        [
            slack::parse_v2(body).err(),
            slack::parse_v1(body).err(),
            pinterest::parse(body).err(),
            rfc6749::parse(body).err(),
        ]
    }

    #[test]
    fn syntax_errors_win_over_semantic_ones_wherever_they_are() {
        let mut deep = String::from(r#"{"ok":true,"team":{"id":"#);
        deep.extend(core::iter::repeat_n('[', MAX_DEPTH));
        deep.extend(core::iter::repeat_n(']', MAX_DEPTH));
        deep.push_str("}}");
        let bodies: Vec<&[u8]> = vec![
            br#"{"ok":1,"access_token":2,"x":tru}"#,
            br#"{"ok":true,"ok":false,"x":[1,]}"#,
            br#"{"team":{"id":5,"id":6},"response_metadata":{"warnings":[1,{"a":"\q"}]}}"#,
            br#"{"authed_user":{"id":"U1","id":"U2"},"bot":7} x"#,
            br#"{"expires_in":"-1","code":"x","token_type":{"a":[}}"#,
            br#"{"incoming_webhook":{"url":1},"scope":"a""#,
            b"{\"error\":\"x\",\"error_description\":\"\x01\"}",
            deep.as_bytes(),
        ];
        for body in bodies {
            let want = parse_document(body).expect_err("the body is invalid JSON");
            assert_eq!(
                errors(body),
                [Some(want); 4],
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_first_semantic_error_in_body_order_is_reported() {
        assert_eq!(
            slack::parse_v2(br#"{"ok":"x","ok":true,"team":5}"#),
            Err(JsonError::WrongType { field: "ok" })
        );
        assert_eq!(
            slack::parse_v2(br#"{"ok":true,"team":{"id":1,"id":"T"},"ok":true}"#),
            Err(JsonError::WrongType { field: "id" })
        );
        assert_eq!(
            slack::parse_v2(br#"{"ok":true,"team":{"id":"T","id":"T"},"ok":true}"#),
            Err(JsonError::DuplicateField { field: "id" })
        );
        assert_eq!(
            slack::parse_v2(br#"{"response_metadata":{"warnings":["a",2,"b"]},"ok":1}"#),
            Err(JsonError::WrongType { field: "warnings" })
        );
        assert_eq!(
            pinterest::parse(br#"{"expires_in":1.5,"code":"x"}"#),
            Err(JsonError::InvalidInteger {
                field: "expires_in"
            })
        );
        // Keys are compared decoded, escaped or not.
        assert_eq!(
            rfc6749::parse(br#"{"access_token":"a","access\u005ftoken":"b","token_type":"x"}"#),
            Err(JsonError::DuplicateField {
                field: "access_token"
            })
        );
    }

    #[test]
    fn nested_known_objects_obey_the_depth_limit_like_the_validator() {
        // The known `team` object is one level; an unknown value inside it may
        // take the rest and no more.
        let body = |extra: usize| {
            let mut b = String::from(r#"{"ok":true,"team":{"x":"#);
            let n = MAX_DEPTH - 2 + extra;
            b.extend(core::iter::repeat_n('[', n));
            b.extend(core::iter::repeat_n(']', n));
            b.push_str("}}");
            b
        };
        assert!(parse_document(body(0).as_bytes()).is_ok());
        assert!(slack::parse_v2(body(0).as_bytes()).is_ok());
        let too_deep = body(1);
        let want = parse_document(too_deep.as_bytes()).expect_err("too deep");
        assert!(matches!(want, JsonError::TooDeep { .. }));
        assert_eq!(errors(too_deep.as_bytes()), [Some(want); 4]);
    }
}
