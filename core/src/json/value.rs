//! JSON values borrowed from a body, read by a strict RFC 8259 pull parser.
//!
//! [`parse_document`] validates the whole body once (UTF-8, grammar, escapes,
//! surrogate pairs, numbers, nesting depth, trailing bytes) and hands back a
//! [`Value`]. Objects and arrays are returned as validated, borrowed slices
//! ([`Object`], [`Array`]) that are lexed again, lazily, when their members are
//! iterated; nothing is stored and nothing is copied. Nesting is tracked with a bit
//! stack instead of recursion, so hostile input cannot overflow the stack.
//!
//! ```
//! use picoauth::json::value::{parse_document, Value};
//! let Ok(Value::Object(o)) = parse_document(br#"{"a": [1, {"b": null}], "c": "d"}"#) else { panic!() };
//! assert_eq!(o.members().count(), 2);
//! assert!(matches!(o.get("c"), Some(Value::String(s)) if s == "d"));
//! ```

use core::fmt;

use super::lexer::{Items, Lexer};
use super::{JsonError, JsonStr};

/// How deeply objects and arrays may nest; the top-level object counts as 1.
pub const MAX_DEPTH: usize = 32;

/// Validates `body` as exactly one JSON value surrounded by optional whitespace.
///
/// A UTF-8 byte order mark is rejected ([`JsonError::UnexpectedByte`] at offset 0):
/// RFC 8259 §8.1 says senders must not add one.
pub fn parse_document(body: &[u8]) -> Result<Value<'_>, JsonError> {
    let text = core::str::from_utf8(body).map_err(|e| JsonError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut lx = Lexer::new(text);
    lx.skip_ws();
    if lx.peek().is_none() {
        return Err(JsonError::Empty);
    }
    let value = lx.value()?;
    lx.skip_ws();
    if lx.peek().is_some() {
        return Err(JsonError::TrailingData { offset: lx.pos });
    }
    Ok(value)
}

/// A validated JSON value borrowed from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'b> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(Number<'b>),
    /// A string.
    String(JsonStr<'b>),
    /// An object.
    Object(Object<'b>),
    /// An array.
    Array(Array<'b>),
}

/// A validated JSON number, kept as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number<'b>(pub(super) &'b str);

impl<'b> Number<'b> {
    /// The number as written in the body.
    pub const fn as_str(&self) -> &'b str {
        self.0
    }

    /// The value, if it is written as a non-negative integer (no fraction, no
    /// exponent) that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        digits_u64(self.0)
    }

    /// The value, if it is written as an integer (no fraction, no exponent) that
    /// fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0.strip_prefix('-') {
            Some(digits) => digits.bytes().try_fold(0i64, |acc, b| {
                b.is_ascii_digit()
                    .then_some(())
                    .and_then(|()| acc.checked_mul(10)?.checked_sub(i64::from(b - b'0')))
            }),
            None => digits_u64(self.0).and_then(|v| i64::try_from(v).ok()),
        }
    }
}

/// A non-empty run of ASCII digits as a `u64`.
pub(crate) fn digits_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        b.is_ascii_digit()
            .then_some(())
            .and_then(|()| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
    })
}

/// A validated JSON object: the text from `{` to `}`.
///
/// Its `Debug` shows only the member count: an object may hold secrets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Object<'b>(pub(super) &'b str);

impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Object({} members)", self.members().count())
    }
}

impl Default for Object<'_> {
    /// The empty object `{}`.
    fn default() -> Self {
        Self("{}")
    }
}

impl<'b> Object<'b> {
    /// The object's text, from `{` to `}`.
    pub const fn raw(&self) -> &'b str {
        self.0
    }

    /// The members, in body order (duplicates included).
    pub fn members(&self) -> Members<'b> {
        Members {
            items: Items::new(self.0),
        }
    }

    /// The value of the first member named `name` (compared after decoding).
    pub fn get(&self, name: &str) -> Option<Value<'b>> {
        self.members().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// A validated JSON array: the text from `[` to `]`.
///
/// Its `Debug` shows only the element count: an array may hold secrets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Array<'b>(pub(super) &'b str);

impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Array({} elements)", self.elements().count())
    }
}

impl<'b> Array<'b> {
    /// The array's text, from `[` to `]`.
    pub const fn raw(&self) -> &'b str {
        self.0
    }

    /// The elements, in order.
    pub fn elements(&self) -> Elements<'b> {
        Elements {
            items: Items::new(self.0),
        }
    }
}

/// The members of an [`Object`]: `(name, value)` pairs.
/// Its `Debug` shows no text: it may hold secrets.
#[derive(Clone, Debug)]
pub struct Members<'b> {
    items: Items<'b>,
}

impl<'b> Iterator for Members<'b> {
    type Item = (JsonStr<'b>, Value<'b>);

    fn next(&mut self) -> Option<Self::Item> {
        self.items.next(b'{', b'}', |lx| {
            let key = lx.key()?;
            lx.skip_ws();
            Ok((key, lx.value()?))
        })
    }
}

/// The elements of an [`Array`].
/// Its `Debug` shows no text: it may hold secrets.
#[derive(Clone, Debug)]
pub struct Elements<'b> {
    items: Items<'b>,
}

impl<'b> Iterator for Elements<'b> {
    type Item = Value<'b>;

    fn next(&mut self) -> Option<Value<'b>> {
        self.items.next(b'[', b']', Lexer::value)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn integer_conversions() {
        let n = |s: &'static str| match parse_document(s.as_bytes()) {
            Ok(Value::Number(n)) => n,
            other => panic!("{other:?}"),
        };
        assert_eq!(n("3600").as_u64(), Some(3600));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1.0").as_u64(), None);
        assert_eq!(n("1e3").as_u64(), None);
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(n("9223372036854775808").as_i64(), None);
        assert_eq!(n("-9223372036854775809").as_i64(), None);
        assert_eq!(n("-0").as_i64(), Some(0));
    }

    #[test]
    fn iterators_show_no_text() {
        let Ok(Value::Object(o)) = parse_document(br#"{"access_token": ["xoxb-secret"]}"#) else {
            panic!()
        };
        let Some((_, Value::Array(a))) = o.members().next() else {
            panic!()
        };
        let shown = std::format!("{:?} {:?}", o.members(), a.elements());
        assert_eq!(
            shown,
            "Members { items: Items { .. } } Elements { items: Items { .. } }"
        );
    }

    #[test]
    fn members_and_elements() {
        let Ok(Value::Object(o)) =
            parse_document(br#"{"a": [1, "two", {"x": null}, []], "a\u0062": {"k": true}}"#)
        else {
            panic!()
        };
        let members: Vec<_> = o.members().collect();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].0, "a");
        assert_eq!(members[1].0, "ab");
        let Value::Array(a) = members[0].1 else {
            panic!()
        };
        let els: Vec<_> = a.elements().collect();
        assert_eq!(els.len(), 4);
        assert!(matches!(els[0], Value::Number(n) if n.as_u64() == Some(1)));
        assert!(matches!(els[1], Value::String(s) if s == "two"));
        let Value::Object(x) = els[2] else { panic!() };
        assert_eq!(x.get("x"), Some(Value::Null));
        assert!(matches!(els[3], Value::Array(e) if e.elements().next().is_none()));
        let Some(Value::Object(ab)) = o.get("ab") else {
            panic!()
        };
        assert_eq!(ab.get("k"), Some(Value::Bool(true)));
        assert_eq!(ab.get("missing"), None);
        let Ok(Value::Object(empty)) = parse_document(b"{ }") else {
            panic!()
        };
        assert_eq!(empty.members().count(), 0);
    }
}
