//! [`JsonStr`]: a validated JSON string, borrowed from the body and decoded lazily.

use core::fmt;

use crate::error::BufferTooSmall;

/// A JSON string value: the raw text between the quotes, escapes intact.
///
/// The text was validated by the [lexer](crate::json::value) (escapes, surrogate
/// pairs, no raw control characters), so decoding never fails. Comparisons with
/// `str`, `Display` and `Debug` use the decoded value.
///
/// ```
/// use picoauth::json::value::{parse_document, Value};
/// let Ok(Value::String(s)) = parse_document(br#""https:\/\/hooks.slack.com""#) else { panic!() };
/// assert_eq!(s.raw(), r"https:\/\/hooks.slack.com");
/// assert_eq!(s, "https://hooks.slack.com");
/// assert_eq!(s.as_plain(), None);
/// let mut buf = [0u8; 64];
/// assert_eq!(s.decode_into(&mut buf), Ok("https://hooks.slack.com"));
/// ```
#[derive(Clone, Copy)]
pub struct JsonStr<'b> {
    // Only the slice is kept (16 bytes, and `Option<JsonStr>` is 16 bytes too): views
    // are returned by value on small stacks, so whether it holds an escape is found
    // by scanning the (short) text again instead of being stored.
    raw: &'b str,
}

impl<'b> JsonStr<'b> {
    /// Wraps text that the lexer validated (or that holds no backslash).
    pub(crate) fn from_validated(raw: &'b str) -> Self {
        Self { raw }
    }

    /// The empty string.
    pub(crate) const EMPTY: JsonStr<'static> = JsonStr { raw: "" };

    /// The raw text between the quotes, escapes intact.
    pub const fn raw(&self) -> &'b str {
        self.raw
    }

    /// Whether the raw text holds at least one backslash escape.
    pub fn has_escapes(&self) -> bool {
        self.raw.as_bytes().contains(&b'\\')
    }

    /// The value itself, without copying, when it holds no escape.
    pub fn as_plain(&self) -> Option<&'b str> {
        if self.has_escapes() {
            None
        } else {
            Some(self.raw)
        }
    }

    /// Whether the decoded value is empty.
    pub const fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The decoded characters.
    pub fn chars(&self) -> Chars<'b> {
        Chars { rest: self.raw }
    }

    /// The length in bytes of the decoded value as UTF-8.
    pub fn decoded_len(&self) -> usize {
        match self.as_plain() {
            Some(s) => s.len(),
            None => {
                let mut n = 0usize;
                pieces(self.raw, |piece| n = n.saturating_add(piece.len()));
                n
            }
        }
    }

    /// Writes the decoded value into `out` and returns it as a `&str`.
    ///
    /// On [`BufferTooSmall`] `out` is left untouched.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, BufferTooSmall> {
        let plain = self.as_plain();
        let needed = match plain {
            Some(s) => s.len(),
            None => self.decoded_len(),
        };
        let Some(dst) = out.get_mut(..needed) else {
            return Err(BufferTooSmall { needed });
        };
        if let Some(s) = plain {
            dst.copy_from_slice(s.as_bytes());
        } else {
            // Runs without escapes are copied whole, escapes one character at a time.
            let mut at = 0usize;
            pieces(self.raw, |piece| {
                let end = at.saturating_add(piece.len());
                if let Some(slot) = dst.get_mut(at..end) {
                    slot.copy_from_slice(piece.as_bytes());
                }
                at = end;
            });
        }
        // Whole characters were written, so this is always UTF-8.
        Ok(core::str::from_utf8(dst).unwrap_or(""))
    }

    /// Whether the decoded value equals `other`, ignoring ASCII case.
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        match self.as_plain() {
            Some(s) => s.eq_ignore_ascii_case(other),
            None => {
                let mut theirs = other.chars();
                self.chars()
                    .all(|c| theirs.next().is_some_and(|o| c.eq_ignore_ascii_case(&o)))
                    && theirs.next().is_none()
            }
        }
    }

    /// Splits the value on commas and spaces (the scope separators used by Slack,
    /// Pinterest and RFC 6749), skipping empty pieces.
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes { rest: self.raw }
    }
}

impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_plain(), other.as_plain()) {
            (Some(a), Some(b)) => a == b,
            _ => self.chars().eq(other.chars()),
        }
    }
}

impl Eq for JsonStr<'_> {}

impl PartialEq<str> for JsonStr<'_> {
    fn eq(&self, other: &str) -> bool {
        match self.as_plain() {
            Some(s) => s == other,
            None => self.chars().eq(other.chars()),
        }
    }
}

impl PartialEq<&str> for JsonStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<JsonStr<'_>> for str {
    fn eq(&self, other: &JsonStr<'_>) -> bool {
        *other == *self
    }
}

impl PartialEq<JsonStr<'_>> for &str {
    fn eq(&self, other: &JsonStr<'_>) -> bool {
        *other == **self
    }
}

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_plain() {
            Some(s) => f.write_str(s),
            None => self.chars().try_for_each(|c| fmt::Write::write_char(f, c)),
        }
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.as_plain() {
            return fmt::Debug::fmt(s, f);
        }
        // The same escaping as `str`'s Debug, which leaves `'` alone.
        f.write_str("\"")?;
        for c in self.chars() {
            if c == '\'' {
                fmt::Write::write_char(f, c)?;
            } else {
                for e in c.escape_debug() {
                    fmt::Write::write_char(f, e)?;
                }
            }
        }
        f.write_str("\"")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for JsonStr<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.raw)
    }
}

/// The decoded characters of a [`JsonStr`].
#[derive(Debug, Clone)]
pub struct Chars<'b> {
    rest: &'b str,
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let (c, len) = next_raw(self.rest)?;
        self.rest = self.rest.get(len..).unwrap_or("");
        Some(c)
    }
}

impl core::iter::FusedIterator for Chars<'_> {}

/// The value of an ASCII hex digit.
pub(crate) const fn hex_val(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u16),
        b'a'..=b'f' => Some((b - b'a' + 10) as u16),
        b'A'..=b'F' => Some((b - b'A' + 10) as u16),
        _ => None,
    }
}

/// The four hex digits at `s[at..at + 4]`.
pub(crate) fn hex4(s: &[u8], at: usize) -> Option<u16> {
    let digits = s.get(at..at.checked_add(4)?)?;
    digits
        .iter()
        .try_fold(0u16, |acc, &b| Some((acc << 4) | hex_val(b)?))
}

/// Calls `each` with the decoded value of validated raw text in pieces: each run
/// without a backslash as it is, and each escape decoded.
fn pieces(raw: &str, mut each: impl FnMut(&str)) {
    let mut rest = raw;
    while !rest.is_empty() {
        let run = rest
            .as_bytes()
            .iter()
            .position(|&b| b == b'\\')
            .unwrap_or(rest.len());
        // `\` is ASCII, so `run` is a character boundary.
        let (text, tail) = rest.split_at_checked(run).unwrap_or((rest, ""));
        if !text.is_empty() {
            each(text);
        }
        rest = tail;
        if let Some((c, len)) = next_raw(rest) {
            let mut tmp = [0u8; 4];
            each(c.encode_utf8(&mut tmp));
            rest = rest.get(len..).unwrap_or("");
        }
    }
}

/// Decodes one character from validated raw text: the character and how many raw
/// bytes it took. Malformed text (never produced by the lexer) yields U+FFFD and
/// still makes progress.
fn next_raw(rest: &str) -> Option<(char, usize)> {
    let c = rest.chars().next()?;
    if c != '\\' {
        return Some((c, c.len_utf8()));
    }
    let bytes = rest.as_bytes();
    let simple = match bytes.get(1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return Some(unicode_escape(bytes)),
        _ => return Some((char::REPLACEMENT_CHARACTER, 1)),
    };
    Some((simple, 2))
}

/// Decodes `\uXXXX` (and a following low surrogate) at the start of `bytes`.
fn unicode_escape(bytes: &[u8]) -> (char, usize) {
    const BAD: (char, usize) = (char::REPLACEMENT_CHARACTER, 1);
    let Some(hi) = hex4(bytes, 2) else { return BAD };
    match hi {
        0xD800..=0xDBFF => {
            if bytes.get(6..8) != Some(b"\\u") {
                return BAD;
            }
            let Some(lo @ 0xDC00..=0xDFFF) = hex4(bytes, 8) else {
                return BAD;
            };
            let cp = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
            char::from_u32(cp).map_or(BAD, |c| (c, 12))
        }
        _ => char::from_u32(u32::from(hi)).map_or(BAD, |c| (c, 6)),
    }
}

/// The pieces of a scope (or warning) list, split on commas and spaces.
///
/// Splitting happens on decoded characters (an escaped `\u002c` separates too) and
/// each piece is a sub-slice of the raw text, so nothing is copied; use
/// [`JsonStr::as_plain`] on a piece to get a `&str` when it holds no escape.
///
/// ```
/// use picoauth::json::value::{parse_document, Value};
/// let Ok(Value::String(s)) = parse_document(br#""chat:write,commands read ""#) else { panic!() };
/// let mut it = s.scopes();
/// assert_eq!(it.next().unwrap(), "chat:write");
/// assert_eq!(it.next().unwrap(), "commands");
/// assert_eq!(it.next().unwrap(), "read");
/// assert!(it.next().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Scopes<'b> {
    rest: &'b str,
}

impl<'b> Scopes<'b> {
    /// The pieces of an optional list; none when it is absent. Every token model's
    /// `scopes()` (and Slack's comma-separated `warning`) reads its list through this.
    pub(crate) fn of(list: Option<JsonStr<'b>>) -> Self {
        Self {
            rest: list.map_or("", |s| s.raw),
        }
    }

    /// Whether the scope list is a (possibly empty) set containing `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.clone().any(|s| s == scope)
    }
}

impl<'b> Iterator for Scopes<'b> {
    type Item = JsonStr<'b>;

    fn next(&mut self) -> Option<JsonStr<'b>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let mut at = 0usize;
            let mut sep_len = 0usize;
            while let Some((c, len)) = self.rest.get(at..).and_then(next_raw) {
                if c == ',' || c == ' ' {
                    sep_len = len;
                    break;
                }
                at = at.saturating_add(len);
            }
            let piece = self.rest.get(..at).unwrap_or("");
            self.rest = self.rest.get(at.saturating_add(sep_len)..).unwrap_or("");
            if !piece.is_empty() {
                return Some(JsonStr::from_validated(piece));
            }
        }
    }
}

impl core::iter::FusedIterator for Scopes<'_> {}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, string::String, vec::Vec};

    fn s(raw: &str) -> JsonStr<'_> {
        JsonStr::from_validated(raw)
    }

    #[test]
    fn decodes_every_escape() {
        let v = s(r#"a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20AC\ud83d\ude00"#);
        let d: String = v.chars().collect();
        assert_eq!(d, "a\"b\\c/d\u{8}e\u{c}f\ng\rh\tiAé€😀");
        assert_eq!(v.decoded_len(), d.len());
        assert!(v.has_escapes());
        assert_eq!(v, d.as_str());
        assert_eq!(format!("{v}"), d);
        assert_eq!(format!("{v:?}"), format!("{d:?}"));
    }

    #[test]
    fn plain_is_zero_copy() {
        let raw = "xoxb-1";
        let v = s(raw);
        assert_eq!(v.as_plain().map(str::as_ptr), Some(raw.as_ptr()));
        assert_eq!(v.raw(), "xoxb-1");
        assert!(!v.has_escapes());
    }

    #[test]
    fn decode_into_reports_size_and_leaves_buffer() {
        let v = s(r"caf\u00e9");
        let mut small = [7u8; 4];
        assert_eq!(v.decode_into(&mut small), Err(BufferTooSmall { needed: 5 }));
        assert_eq!(small, [7u8; 4]);
        let mut exact = [0u8; 5];
        assert_eq!(v.decode_into(&mut exact), Ok("café"));
    }

    #[test]
    fn equality_is_on_decoded_values() {
        assert_eq!(s(r"a\/b"), s("a/b"));
        assert_ne!(s(r"a\/b"), s("a/c"));
        assert_ne!(s("ab"), "abc");
        assert_ne!(s(r"a\u0062c"), "ab");
        assert!("a/b" == s(r"a\/b"));
        assert!(s(r"B\u0045arer").eq_ignore_ascii_case("bearer"));
        assert!(!s(r"B\u0045arer").eq_ignore_ascii_case("bearers"));
    }

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        let v = s(r"a,b c,,  d\u002ce\/f,");
        let got: Vec<String> = v.scopes().map(|p| format!("{p}")).collect();
        assert_eq!(got, ["a", "b", "c", "d", "e/f"]);
        assert_eq!(s("").scopes().count(), 0);
        assert_eq!(s(" , ").scopes().count(), 0);
        assert!(s("read write").scopes().contains("write"));
        assert!(!s("read write").scopes().contains("wri"));
    }
}
