//! The single-pass reader of a body's objects that the provider parsers use.

use super::fields::{lookup, Field};
use super::lexer::Lexer;
use super::value::{parse_document, Array, Object, Value, MAX_DEPTH};
use super::JsonError;

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
        self.open()?;
        let mut seen = 0u64;
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
                if !self.lx.more(b'}')? {
                    break;
                }
            }
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }

    /// Steps into the object or array at the current `{` or `[`, one level deeper,
    /// to its first member or element (or its end).
    fn open(&mut self) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep {
                offset: self.lx.pos,
            });
        }
        self.lx.bump(1);
        self.depth = self.depth.saturating_add(1);
        self.lx.skip_ws();
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
        let start = self.lx.pos;
        self.open()?;
        let mut verdict = Ok(());
        if !self.lx.eat(b']') {
            loop {
                let v = self.lx.value_at(self.depth)?;
                if verdict.is_ok() {
                    verdict = each(v);
                }
                if !self.lx.more(b']')? {
                    break;
                }
            }
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(verdict.map(|()| Array(self.lx.slice(start))))
    }
}
