//! The byte-level lexer of the strict RFC 8259 pull parser: whitespace, literals,
//! numbers, strings with their escapes, and validated skipping of whole objects and
//! arrays with a bit stack instead of recursion.

use core::fmt;

use super::string::hex4;
use super::value::{Array, Number, Object, Value, MAX_DEPTH};
use super::{JsonError, JsonStr};

/// The byte-level lexer. `text` is already known to be UTF-8. No `Debug`: the
/// text may hold secrets.
#[derive(Clone)]
pub(super) struct Lexer<'b> {
    text: &'b str,
    pub(super) pos: usize,
}

impl<'b> Lexer<'b> {
    pub(super) const fn new(text: &'b str) -> Self {
        Self { text, pos: 0 }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text
            .as_bytes()
            .get(self.pos.checked_add(ahead)?)
            .copied()
    }

    pub(super) fn bump(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.text.len());
    }

    pub(super) fn skip_ws(&mut self) {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or(&[]);
        let n = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        self.bump(n);
    }

    /// The error for the byte at the current position.
    pub(super) fn unexpected(&self) -> JsonError {
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

    pub(super) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.bump(1);
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// An object key followed by optional whitespace and `:`.
    /// After a member or an element: `true` past a `,` (another one follows, at the
    /// next non-whitespace byte), `false` past `close` (the container ended).
    pub(super) fn more(&mut self, close: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.bump(1);
                self.skip_ws();
                Ok(true)
            }
            Some(b) if b == close => {
                self.bump(1);
                Ok(false)
            }
            _ => Err(self.unexpected()),
        }
    }

    pub(super) fn key(&mut self) -> Result<JsonStr<'b>, JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        let key = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        Ok(key)
    }

    /// One value at the current (non-whitespace) position.
    pub(super) fn value(&mut self) -> Result<Value<'b>, JsonError> {
        self.value_at(0)
    }

    /// One value at the current (non-whitespace) position, inside `base` open
    /// containers (for the depth limit).
    pub(super) fn value_at(&mut self, base: usize) -> Result<Value<'b>, JsonError> {
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

    pub(super) fn slice(&self, start: usize) -> &'b str {
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
    pub(super) fn string_flagged(&mut self) -> Result<(JsonStr<'b>, bool), JsonError> {
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
                    Some(b) if b == if in_object { b'}' } else { b']' } => {
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

/// Iteration over the members or elements of an object or array the lexer has
/// validated.
#[derive(Clone)]
pub(super) struct Items<'b> {
    lx: Lexer<'b>,
    started: bool,
    done: bool,
}

/// Shows no text: it may hold secrets.
impl fmt::Debug for Items<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items").finish_non_exhaustive()
    }
}

impl<'b> Items<'b> {
    /// The items of the container whose text (from its opening to its closing
    /// byte) is `text`.
    pub(super) const fn new(text: &'b str) -> Self {
        Self {
            lx: Lexer::new(text),
            started: false,
            done: false,
        }
    }

    /// The next item, read by `read` at its first byte: past the opening `open` the
    /// first time, past a `,` after that; `None` past `close`. The text was
    /// validated when the container was produced, so no error can happen; if one
    /// did, iteration would simply stop.
    pub(super) fn next<T>(
        &mut self,
        open: u8,
        close: u8,
        read: impl FnOnce(&mut Lexer<'b>) -> Result<T, JsonError>,
    ) -> Option<T> {
        if self.done {
            return None;
        }
        let lx = &mut self.lx;
        lx.skip_ws();
        let more = if self.started {
            !lx.eat(close) && lx.expect(b',').is_ok()
        } else {
            self.started = true;
            lx.expect(open).is_ok() && {
                lx.skip_ws();
                !lx.eat(close)
            }
        };
        let item = if more {
            lx.skip_ws();
            read(lx).ok()
        } else {
            None
        };
        self.done = item.is_none();
        item
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::json::value::parse_document;
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
}
