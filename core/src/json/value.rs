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

use super::fields::{lookup, Field};
use super::string::hex4;
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
pub struct Number<'b>(&'b str);

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
pub struct Object<'b>(&'b str);

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
            lx: Lexer::new(self.0),
            started: false,
            done: false,
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
pub struct Array<'b>(&'b str);

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
            lx: Lexer::new(self.0),
            started: false,
            done: false,
        }
    }
}

/// The members of an [`Object`]: `(name, value)` pairs.
#[derive(Clone)]
pub struct Members<'b> {
    lx: Lexer<'b>,
    started: bool,
    done: bool,
}

impl fmt::Debug for Members<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text may hold secrets.
        f.debug_struct("Members").finish_non_exhaustive()
    }
}

impl<'b> Iterator for Members<'b> {
    type Item = (JsonStr<'b>, Value<'b>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The text was validated when the object was produced, so the errors below
        // cannot happen; if they did, iteration would simply stop.
        let item = self.step().ok().flatten();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

impl<'b> Members<'b> {
    fn step(&mut self) -> Result<Option<(JsonStr<'b>, Value<'b>)>, JsonError> {
        let lx = &mut self.lx;
        lx.skip_ws();
        if !self.started {
            self.started = true;
            lx.expect(b'{')?;
            lx.skip_ws();
            if lx.eat(b'}') {
                return Ok(None);
            }
        } else if lx.eat(b'}') {
            return Ok(None);
        } else {
            lx.expect(b',')?;
            lx.skip_ws();
        }
        let key = lx.key()?;
        lx.skip_ws();
        let value = lx.value()?;
        Ok(Some((key, value)))
    }
}

/// The elements of an [`Array`].
#[derive(Clone)]
pub struct Elements<'b> {
    lx: Lexer<'b>,
    started: bool,
    done: bool,
}

impl fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text may hold secrets.
        f.debug_struct("Elements").finish_non_exhaustive()
    }
}

impl<'b> Iterator for Elements<'b> {
    type Item = Value<'b>;

    fn next(&mut self) -> Option<Value<'b>> {
        if self.done {
            return None;
        }
        let item = self.step().ok().flatten();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

impl<'b> Elements<'b> {
    fn step(&mut self) -> Result<Option<Value<'b>>, JsonError> {
        let lx = &mut self.lx;
        lx.skip_ws();
        if !self.started {
            self.started = true;
            lx.expect(b'[')?;
            lx.skip_ws();
            if lx.eat(b']') {
                return Ok(None);
            }
        } else if lx.eat(b']') {
            return Ok(None);
        } else {
            lx.expect(b',')?;
            lx.skip_ws();
        }
        lx.value().map(Some)
    }
}

/// The byte-level lexer. `text` is already known to be UTF-8. No `Debug`: the
/// text may hold secrets.
#[derive(Clone)]
struct Lexer<'b> {
    text: &'b str,
    pos: usize,
}

impl<'b> Lexer<'b> {
    const fn new(text: &'b str) -> Self {
        Self { text, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text
            .as_bytes()
            .get(self.pos.checked_add(ahead)?)
            .copied()
    }

    fn bump(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.text.len());
    }

    fn skip_ws(&mut self) {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        let n = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        self.bump(n);
    }

    /// The error for the byte at the current position.
    fn unexpected(&self) -> JsonError {
        self.unexpected_at(self.pos)
    }

    fn unexpected_at(&self, at: usize) -> JsonError {
        if at >= self.text.len() {
            JsonError::UnexpectedEnd {
                offset: self.text.len(),
            }
        } else {
            JsonError::UnexpectedByte { offset: at }
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump(1);
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// An object key followed by optional whitespace and `:`.
    fn key(&mut self) -> Result<JsonStr<'b>, JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        let key = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        Ok(key)
    }

    /// One value at the current (non-whitespace) position.
    fn value(&mut self) -> Result<Value<'b>, JsonError> {
        self.value_at(0)
    }

    /// One value at the current (non-whitespace) position, inside `base` open
    /// containers (for the depth limit).
    fn value_at(&mut self, base: usize) -> Result<Value<'b>, JsonError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'{') => {
                let start = self.pos;
                self.skip_container(base)?;
                Ok(Value::Object(Object(self.slice(start))))
            }
            Some(b'[') => {
                let start = self.pos;
                self.skip_container(base)?;
                Ok(Value::Array(Array(self.slice(start))))
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b't') => self.literal(b"true").map(|()| Value::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Value::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Value::Null),
            _ => Err(self.unexpected()),
        }
    }

    fn slice(&self, start: usize) -> &'b str {
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        if rest.starts_with(word) {
            self.bump(word.len());
            return Ok(());
        }
        // The first byte that differs, or the end of input if the rest is a prefix.
        let same = rest.iter().zip(word).take_while(|(a, b)| a == b).count();
        Err(self.unexpected_at(self.pos.saturating_add(same)))
    }

    /// A number following RFC 8259 §6:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Number<'b>, JsonError> {
        let start = self.pos;
        // Truncation is `UnexpectedEnd`; a wrong byte is `InvalidNumber`.
        let bad = |lx: &Self| match lx.peek() {
            None => lx.unexpected(),
            Some(_) => JsonError::InvalidNumber { offset: start },
        };
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => {
                self.bump(1);
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(bad(self));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(bad(self)),
        }
        if self.eat(b'.') {
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(bad(self));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump(1);
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump(1);
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(bad(self));
            }
            self.digits();
        }
        Ok(Number(self.slice(start)))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump(1);
        }
    }

    /// A string at the current `"`.
    fn string(&mut self) -> Result<JsonStr<'b>, JsonError> {
        self.string_flagged().map(|(s, _)| s)
    }

    /// A string at the current `"`, and whether it holds an escape (found while
    /// scanning, so that callers need not scan it again).
    fn string_flagged(&mut self) -> Result<(JsonStr<'b>, bool), JsonError> {
        self.bump(1);
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Jump to the next byte that needs a decision; everything else is
            // string content (UTF-8 was validated up front).
            let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
            let run = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            self.bump(run);
            let at = self.pos;
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(_) => return Err(JsonError::ControlCharacter { offset: at }),
            }
        }
        let raw = self.slice(start);
        self.bump(1);
        Ok((JsonStr::from_validated(raw), escaped))
    }

    /// One escape at the current `\`.
    fn escape(&mut self) -> Result<(), JsonError> {
        let at = self.pos;
        match self.peek_at(1) {
            None => Err(self.unexpected_at(self.text.len())),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.bump(2);
                Ok(())
            }
            Some(b'u') => {
                let bytes = self.text.as_bytes();
                let hi = self.hex4_at(at.saturating_add(2))?;
                match hi {
                    0xD800..=0xDBFF => {
                        let low_at = at.saturating_add(6);
                        match bytes.get(low_at..low_at.saturating_add(2)) {
                            Some(b"\\u") => {}
                            Some(_) => return Err(JsonError::LoneSurrogate { offset: at }),
                            None if bytes.get(low_at..).is_some_and(|r| b"\\u".starts_with(r)) => {
                                return Err(self.unexpected_at(self.text.len()))
                            }
                            None => return Err(JsonError::LoneSurrogate { offset: at }),
                        }
                        let lo = self.hex4_at(low_at.saturating_add(2))?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(JsonError::LoneSurrogate { offset: at });
                        }
                        self.bump(12);
                    }
                    0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate { offset: at }),
                    _ => self.bump(6),
                }
                Ok(())
            }
            Some(_) => Err(JsonError::InvalidEscape { offset: at }),
        }
    }

    /// Four hex digits at `at`; truncation is `UnexpectedEnd`, anything else that
    /// is not hex is `InvalidEscape` at the backslash.
    fn hex4_at(&self, at: usize) -> Result<u16, JsonError> {
        let bytes = self.text.as_bytes();
        if let Some(v) = hex4(bytes, at) {
            return Ok(v);
        }
        let avail = bytes.get(at..).unwrap_or(&[]);
        let escape_start = at.saturating_sub(2);
        if avail.len() < 4 && avail.iter().all(|b| b.is_ascii_hexdigit()) {
            Err(self.unexpected_at(self.text.len()))
        } else {
            Err(JsonError::InvalidEscape {
                offset: escape_start,
            })
        }
    }

    /// Validates and skips an object or array at the current `{` or `[`, inside
    /// `base` already open containers, without recursion: a bit stack (1 = object,
    /// 0 = array) records the open containers.
    fn skip_container(&mut self, base: usize) -> Result<(), JsonError> {
        let mut stack: u64 = 0;
        let mut depth: usize = 0;
        // `true` when a value is expected next, `false` after a complete value.
        let mut want_value = true;
        loop {
            if want_value {
                self.skip_ws();
                match self.peek() {
                    Some(open @ (b'{' | b'[')) => {
                        if depth.saturating_add(base) >= MAX_DEPTH {
                            return Err(JsonError::TooDeep { offset: self.pos });
                        }
                        let is_object = open == b'{';
                        stack = (stack << 1) | u64::from(is_object);
                        depth = depth.saturating_add(1);
                        self.bump(1);
                        self.skip_ws();
                        let close = if is_object { b'}' } else { b']' };
                        if self.eat(close) {
                            stack >>= 1;
                            depth = depth.saturating_sub(1);
                            want_value = false;
                        } else if is_object {
                            self.key()?;
                        }
                    }
                    _ => {
                        self.value()?;
                        want_value = false;
                    }
                }
            } else {
                if depth == 0 {
                    return Ok(());
                }
                self.skip_ws();
                let in_object = stack & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.bump(1);
                        if in_object {
                            self.skip_ws();
                            self.key()?;
                        }
                        want_value = true;
                    }
                    Some(b'}') if in_object => {
                        self.bump(1);
                        stack >>= 1;
                        depth = depth.saturating_sub(1);
                    }
                    Some(b']') if !in_object => {
                        self.bump(1);
                        stack >>= 1;
                        depth = depth.saturating_sub(1);
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
    }
}

/// Whether `e` is about the meaning of a well-formed body (a member's type, a
/// duplicate, an integer's range) rather than its syntax.
const fn is_semantic(e: &JsonError) -> bool {
    matches!(
        e,
        JsonError::WrongType { .. }
            | JsonError::DuplicateField { .. }
            | JsonError::MissingField { .. }
            | JsonError::InvalidInteger { .. }
    )
}

/// A single-pass reader of a body's objects for the provider parsers: it validates
/// while it reads, descends into the nested objects a parser knows as it meets them,
/// and skips (validating) everything else.
///
/// So that the errors are those of a validate-first parser, the first semantic
/// error (wrong type, duplicate, bad integer) is kept aside while the rest of the
/// body is still checked: any syntax error wins, and the semantic error is
/// reported only for an otherwise valid body.
pub(crate) struct Reader<'b> {
    lx: Lexer<'b>,
    /// Open objects and arrays around the current position.
    depth: usize,
    /// The first semantic error met.
    deferred: Option<JsonError>,
}

impl<'b> Reader<'b> {
    /// Reads the body's top-level object with `each` (see [`Self::members`]) and
    /// checks that only whitespace follows; gives the object's text.
    pub(crate) fn root<F: Field>(
        body: &'b [u8],
        each: impl FnMut(F, &mut Self) -> Result<(), JsonError>,
    ) -> Result<Object<'b>, JsonError> {
        let text = core::str::from_utf8(body).map_err(|e| JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut r = Self {
            lx: Lexer::new(text),
            depth: 0,
            deferred: None,
        };
        r.lx.skip_ws();
        if r.lx.peek() != Some(b'{') {
            // Not an object: the validating parser gives the syntax error, if any.
            parse_document(body)?;
            return Err(JsonError::NotAnObject);
        }
        let start = r.lx.pos;
        r.members(each)?;
        let object = Object(r.lx.slice(start));
        r.lx.skip_ws();
        if r.lx.peek().is_some() {
            return Err(JsonError::TrailingData { offset: r.lx.pos });
        }
        match r.deferred {
            Some(e) => Err(e),
            None => Ok(object),
        }
    }

    /// Reads the object at the current `{`: `each` is called for every known member
    /// with the reader at its value, and must read exactly that value (the
    /// `fields::opt_*` helpers do, even when they fail). Unknown members are skipped
    /// and validated; a second occurrence of a known member is a
    /// [`JsonError::DuplicateField`].
    pub(crate) fn members<F: Field>(
        &mut self,
        mut each: impl FnMut(F, &mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        // Only the conversion to `F` and the call are generic; the loop is shared
        // (code size).
        self.members_dyn(F::NAMES, &mut |r, index| match F::from_index(index) {
            Some(field) => each(field, r),
            None => r.value().map(drop),
        })
    }

    /// The loop of [`Self::members`]: `each` gets the reader at the value of the
    /// known member `names[index]`, and reads it.
    fn members_dyn(
        &mut self,
        names: &'static [&'static str],
        each: &mut dyn FnMut(&mut Self, usize) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep {
                offset: self.lx.pos,
            });
        }
        self.lx.bump(1);
        self.depth = self.depth.saturating_add(1);
        let mut seen = 0u64;
        self.lx.skip_ws();
        if !self.lx.eat(b'}') {
            loop {
                if self.lx.peek() != Some(b'"') {
                    return Err(self.lx.unexpected());
                }
                let (key, escaped) = self.lx.string_flagged()?;
                self.lx.skip_ws();
                self.lx.expect(b':')?;
                self.lx.skip_ws();
                let result = match lookup(names, key, escaped) {
                    None => self.lx.value_at(self.depth).map(drop),
                    Some(index) => {
                        let mask = u32::try_from(index)
                            .ok()
                            .and_then(|i| 1u64.checked_shl(i))
                            .unwrap_or(0);
                        if seen & mask != 0 {
                            self.lx.value_at(self.depth)?;
                            Err(JsonError::DuplicateField {
                                field: names.get(index).copied().unwrap_or(""),
                            })
                        } else {
                            seen |= mask;
                            each(self, index)
                        }
                    }
                };
                match result {
                    Ok(()) => {}
                    Err(e) if is_semantic(&e) => {
                        self.deferred.get_or_insert(e);
                    }
                    Err(e) => return Err(e),
                }
                self.lx.skip_ws();
                match self.lx.peek() {
                    Some(b',') => {
                        self.lx.bump(1);
                        self.lx.skip_ws();
                    }
                    Some(b'}') => {
                        self.lx.bump(1);
                        break;
                    }
                    _ => return Err(self.lx.unexpected()),
                }
            }
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }

    /// The first byte of the value at the current position.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.lx.peek()
    }

    /// Reads (and validates) the value at the current position.
    pub(crate) fn value(&mut self) -> Result<Value<'b>, JsonError> {
        self.lx.value_at(self.depth)
    }

    /// Reads the array at the current `[`, calling `each` for every element (which
    /// is read first); the array's text. An `Err` from `each` is kept as the
    /// answer while the rest of the array is still read and validated.
    pub(crate) fn array(
        &mut self,
        mut each: impl FnMut(Value<'b>) -> Result<(), JsonError>,
    ) -> Result<Result<Array<'b>, JsonError>, JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep {
                offset: self.lx.pos,
            });
        }
        let start = self.lx.pos;
        self.lx.bump(1);
        self.depth = self.depth.saturating_add(1);
        let mut verdict = Ok(());
        self.lx.skip_ws();
        if !self.lx.eat(b']') {
            loop {
                let v = self.lx.value_at(self.depth)?;
                if verdict.is_ok() {
                    verdict = each(v);
                }
                self.lx.skip_ws();
                match self.lx.peek() {
                    Some(b',') => {
                        self.lx.bump(1);
                        self.lx.skip_ws();
                    }
                    Some(b']') => {
                        self.lx.bump(1);
                        break;
                    }
                    _ => return Err(self.lx.unexpected()),
                }
            }
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(verdict.map(|()| Array(self.lx.slice(start))))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, string::String, vec, vec::Vec};

    fn err(body: &[u8]) -> JsonError {
        match parse_document(body) {
            Ok(v) => panic!("accepted {:?}: {v:?}", String::from_utf8_lossy(body)),
            Err(e) => e,
        }
    }

    fn string(body: &[u8]) -> String {
        match parse_document(body) {
            Ok(Value::String(s)) => format!("{s}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_escape() {
        assert_eq!(string(br#""\"""#), "\"");
        assert_eq!(string(br#""\\""#), "\\");
        assert_eq!(string(br#""\/""#), "/");
        assert_eq!(string(br#""\b""#), "\u{8}");
        assert_eq!(string(br#""\f""#), "\u{c}");
        assert_eq!(string(br#""\n""#), "\n");
        assert_eq!(string(br#""\r""#), "\r");
        assert_eq!(string(br#""\t""#), "\t");
        assert_eq!(string(br#""\u0000""#), "\0");
        assert_eq!(string(br#""\u00E9\u00e9""#), "éé");
        assert_eq!(string(br#""\uFFFF""#), "\u{FFFF}");
        assert_eq!(string("\"é€😀\"".as_bytes()), "é€😀");
    }

    #[test]
    fn bad_escapes() {
        assert_eq!(err(br#""\x""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(err(br#""\U0041""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(err(br#""\u00g1""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(err(br#""\u+041""#), JsonError::InvalidEscape { offset: 1 });
        assert_eq!(err(br#""a\'""#), JsonError::InvalidEscape { offset: 2 });
    }

    #[test]
    fn surrogate_pairs() {
        assert_eq!(string(br#""\ud83d\ude00""#), "😀");
        assert_eq!(string(br#""\uD834\uDD1E""#), "𝄞");
        assert_eq!(string(br#""\udbff\udfff""#), "\u{10FFFF}");
        assert_eq!(string(br#""\ud800\udc00""#), "\u{10000}");
    }

    #[test]
    fn lone_surrogates() {
        assert_eq!(err(br#""\ud83d""#), JsonError::LoneSurrogate { offset: 1 });
        assert_eq!(err(br#""\ude00""#), JsonError::LoneSurrogate { offset: 1 });
        assert_eq!(err(br#""\ud83dx""#), JsonError::LoneSurrogate { offset: 1 });
        assert_eq!(
            err(br#""\ud83d\n""#),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert_eq!(
            err(br#""\ud83d\u0041""#),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert_eq!(
            err(br#""\ud83d\ud83d""#),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert_eq!(
            err(br#""\ude00\ud83d""#),
            JsonError::LoneSurrogate { offset: 1 }
        );
    }

    #[test]
    fn control_characters() {
        for c in 0u8..0x20 {
            let body = [b'"', b'a', c, b'"'];
            assert_eq!(err(&body), JsonError::ControlCharacter { offset: 2 }, "{c}");
        }
        // DEL and U+0080.. are allowed raw.
        assert_eq!(string(b"\"\x7f\""), "\u{7f}");
        assert_eq!(string("\"\u{85}\"".as_bytes()), "\u{85}");
    }

    #[test]
    fn numbers() {
        for ok in [
            "0",
            "-0",
            "1",
            "-1",
            "10",
            "1.5",
            "-0.0",
            "1e5",
            "1E+5",
            "1e-5",
            "0.5e10",
            "18446744073709551616",
            "123456789.000001",
        ] {
            assert!(
                matches!(parse_document(ok.as_bytes()), Ok(Value::Number(n)) if n.as_str() == ok),
                "{ok}"
            );
        }
        for bad in [
            "-", "01", "-01", "1.", ".5", "1e", "1e+", "+1", "1.e5", "-a", "00",
        ] {
            let e = err(bad.as_bytes());
            assert!(
                matches!(
                    e,
                    JsonError::InvalidNumber { offset: 0 }
                        | JsonError::UnexpectedByte { .. }
                        | JsonError::UnexpectedEnd { .. }
                ),
                "{bad}: {e:?}"
            );
        }
        assert_eq!(err(b"01"), JsonError::InvalidNumber { offset: 0 });
        assert_eq!(err(b"[1.]"), JsonError::InvalidNumber { offset: 1 });
        assert_eq!(err(b"[-x]"), JsonError::InvalidNumber { offset: 1 });
        assert_eq!(err(b"[1e+]"), JsonError::InvalidNumber { offset: 1 });
        assert_eq!(err(b"1e+"), JsonError::UnexpectedEnd { offset: 3 });
        assert_eq!(err(b"1.5.5"), JsonError::TrailingData { offset: 3 });
        assert_eq!(err(b"[1 2]"), JsonError::UnexpectedByte { offset: 3 });
        assert_eq!(err(b"NaN"), JsonError::UnexpectedByte { offset: 0 });
        assert_eq!(err(b"Infinity"), JsonError::UnexpectedByte { offset: 0 });
    }

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
    fn literals_and_whitespace() {
        assert_eq!(parse_document(b" \t\r\ntrue \n"), Ok(Value::Bool(true)));
        assert_eq!(parse_document(b"false"), Ok(Value::Bool(false)));
        assert_eq!(parse_document(b"null"), Ok(Value::Null));
        assert_eq!(
            err(br#"{"x": tru}"#),
            JsonError::UnexpectedByte { offset: 9 }
        );
        assert_eq!(err(b"tru"), JsonError::UnexpectedEnd { offset: 3 });
        assert_eq!(err(b"True"), JsonError::UnexpectedByte { offset: 0 });
        assert_eq!(err(b"nul1"), JsonError::UnexpectedByte { offset: 3 });
        assert_eq!(err(b"truex"), JsonError::TrailingData { offset: 4 });
        // Only the four JSON whitespace bytes count.
        assert_eq!(err(b"\x0b{}"), JsonError::UnexpectedByte { offset: 0 });
        assert_eq!(
            err("\u{a0}{}".as_bytes()),
            JsonError::UnexpectedByte { offset: 0 }
        );
    }

    #[test]
    fn empty_and_bom() {
        assert_eq!(err(b""), JsonError::Empty);
        assert_eq!(err(b" \r\n\t"), JsonError::Empty);
        assert_eq!(
            err(b"\xEF\xBB\xBF{}"),
            JsonError::UnexpectedByte { offset: 0 }
        );
    }

    #[test]
    fn trailing_garbage() {
        assert_eq!(err(b"{} x"), JsonError::TrailingData { offset: 3 });
        assert_eq!(err(b"{}{}"), JsonError::TrailingData { offset: 2 });
        assert_eq!(err(b"{}\0"), JsonError::TrailingData { offset: 2 });
        assert_eq!(err(b"broken json"), JsonError::UnexpectedByte { offset: 0 });
    }

    #[test]
    fn structural_errors() {
        assert_eq!(err(b"{,}"), JsonError::UnexpectedByte { offset: 1 });
        assert_eq!(err(br#"{"a":1,}"#), JsonError::UnexpectedByte { offset: 7 });
        assert_eq!(err(b"[1,]"), JsonError::UnexpectedByte { offset: 3 });
        assert_eq!(err(b"[,1]"), JsonError::UnexpectedByte { offset: 1 });
        assert_eq!(err(br#"{"a" 1}"#), JsonError::UnexpectedByte { offset: 5 });
        assert_eq!(err(br#"{a:1}"#), JsonError::UnexpectedByte { offset: 1 });
        assert_eq!(err(br#"{'a':1}"#), JsonError::UnexpectedByte { offset: 1 });
        assert_eq!(err(br#"{"a":1]"#), JsonError::UnexpectedByte { offset: 6 });
        assert_eq!(err(br#"[1}"#), JsonError::UnexpectedByte { offset: 2 });
        assert_eq!(err(br#"{"a":}"#), JsonError::UnexpectedByte { offset: 5 });
        assert_eq!(err(br#"{1:2}"#), JsonError::UnexpectedByte { offset: 1 });
        assert_eq!(err(b"]"), JsonError::UnexpectedByte { offset: 0 });
        // Unknown nested values are validated, not just skipped.
        assert_eq!(
            err(br#"{"ok":true,"x":{"y":[1,{"z":"\q"}]}}"#),
            JsonError::InvalidEscape { offset: 29 }
        );
    }

    #[test]
    fn invalid_utf8() {
        assert_eq!(err(b"\"\xff\""), JsonError::InvalidUtf8 { offset: 1 });
        assert_eq!(
            err(b"{\"a\":\"\xc3\"}"),
            JsonError::InvalidUtf8 { offset: 6 }
        );
        // Overlong encoding and an encoded surrogate.
        assert_eq!(err(b"\"\xc0\xaf\""), JsonError::InvalidUtf8 { offset: 1 });
        assert_eq!(
            err(b"\"\xed\xa0\x80\""),
            JsonError::InvalidUtf8 { offset: 1 }
        );
    }

    #[test]
    fn depth_limit() {
        let deep = |n: usize| {
            let mut v = vec![b'['; n];
            v.extend(core::iter::repeat_n(b']', n));
            v
        };
        assert!(parse_document(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            err(&deep(MAX_DEPTH + 1)),
            JsonError::TooDeep { offset: MAX_DEPTH }
        );
        // Far deeper than any stack would allow for a recursive parser.
        assert_eq!(
            err(&deep(1_000_000)),
            JsonError::TooDeep { offset: MAX_DEPTH }
        );
        let mut objs = Vec::new();
        for _ in 0..MAX_DEPTH {
            objs.extend_from_slice(br#"{"a":"#);
        }
        objs.push(b'1');
        objs.extend(core::iter::repeat_n(b'}', MAX_DEPTH));
        assert!(parse_document(&objs).is_ok());
        objs.splice(0..0, br#"{"a":"#.iter().copied());
        objs.push(b'}');
        assert!(matches!(err(&objs), JsonError::TooDeep { .. }));
    }

    #[test]
    fn every_prefix_of_a_valid_body_is_an_error() {
        let body = br#" {"ok" : true, "a":[1, -2.5e+3, null, false, {"b": "\ud83d\ude00\u00e9\n"}], "c":{}, "d":[], "e":"x"} "#;
        assert!(parse_document(body).is_ok());
        let complete = body.len() - 1;
        for n in 0..complete {
            let e = err(&body[..n]);
            assert!(
                matches!(e, JsonError::Empty | JsonError::UnexpectedEnd { .. }),
                "prefix {n}: {e:?}"
            );
        }
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
