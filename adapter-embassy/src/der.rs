//! A minimal DER reader: tag, definite length, contents.
//!
//! Hand-written because the verifier needs only three reads (the leaf's
//! subjectPublicKeyInfo, an RSA public key, a BIT STRING), always on input that is
//! either already parsed by webpki or refused on the first odd byte; a general ASN.1
//! crate (`der`) would add code for nothing. Non-minimal lengths, the indefinite form
//! and lengths over 2^24 are refused.

/// DER tags this crate reads.
pub(crate) mod tag {
    /// INTEGER.
    pub(crate) const INTEGER: u8 = 0x02;
    /// BIT STRING.
    pub(crate) const BIT_STRING: u8 = 0x03;
    /// SEQUENCE (constructed).
    pub(crate) const SEQUENCE: u8 = 0x30;
    /// `[0]` EXPLICIT (constructed, context-specific 0): a certificate's version.
    pub(crate) const CONTEXT_0: u8 = 0xa0;
}

/// Malformed DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadDer;

/// Reads TLVs one after the other from a byte slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub(crate) const fn new(input: &'a [u8]) -> Self {
        Self(input)
    }

    /// Whether every byte has been read.
    pub(crate) const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tag of the next TLV, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// Reads one TLV with tag `tag` and returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], BadDer> {
        let (&t, rest) = self.0.split_first().ok_or(BadDer)?;
        if t != tag {
            return Err(BadDer);
        }
        let (&first, mut rest) = rest.split_first().ok_or(BadDer)?;
        let len = match first {
            0..=0x7f => usize::from(first),
            0x81..=0x83 => {
                let n = usize::from(first & 0x7f);
                if rest.len() < n {
                    return Err(BadDer);
                }
                let (bytes, after) = rest.split_at(n);
                rest = after;
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                // Minimal: the short form below 128, no leading zero byte.
                if len < 0x80 || bytes[0] == 0 {
                    return Err(BadDer);
                }
                len
            }
            _ => return Err(BadDer),
        };
        if rest.len() < len {
            return Err(BadDer);
        }
        let (contents, after) = rest.split_at(len);
        self.0 = after;
        Ok(contents)
    }

    /// Reads `tag`'s TLV and requires it to be the last one.
    pub(crate) fn read_last(mut self, tag: u8) -> Result<&'a [u8], BadDer> {
        let v = self.read(tag)?;
        if self.is_empty() {
            Ok(v)
        } else {
            Err(BadDer)
        }
    }
}

/// The contents of a positive DER INTEGER without its sign byte: non-empty, minimal,
/// first byte non-zero. Zero and negative integers are refused.
pub(crate) fn positive_integer(contents: &[u8]) -> Result<&[u8], BadDer> {
    match contents {
        [] | [0] => Err(BadDer),
        [0, next, ..] if next & 0x80 == 0 => Err(BadDer),
        [0, rest @ ..] => Ok(rest),
        [first, ..] if first & 0x80 != 0 => Err(BadDer),
        _ => Ok(contents),
    }
}

/// The value of a BIT STRING whose unused-bit count is zero.
pub(crate) fn bit_string_bytes(contents: &[u8]) -> Result<&[u8], BadDer> {
    match contents {
        [0, rest @ ..] => Ok(rest),
        _ => Err(BadDer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut r = Reader::new(&[0x02, 0x01, 0x05, 0x30, 0x81, 0x80]);
        assert_eq!(r.read(tag::INTEGER), Ok(&[5u8][..]));
        // Long form announcing 128 bytes that are not there.
        assert_eq!(r.clone().read(tag::SEQUENCE), Err(BadDer));
        let mut long = [0u8; 131];
        long[..3].copy_from_slice(&[0x30, 0x81, 0x80]);
        assert_eq!(
            Reader::new(&long).read_last(tag::SEQUENCE).map(<[u8]>::len),
            Ok(128)
        );
    }

    #[test]
    fn refuses_non_minimal_and_indefinite_lengths_and_wrong_tags() {
        for bad in [
            &[0x30, 0x81, 0x05, 0, 0, 0, 0, 0][..],
            &[0x30, 0x82, 0x00, 0x80],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x30, 0x84, 0, 0, 0, 1, 0],
            &[0x31, 0x00],
            &[0x30],
            &[],
        ] {
            assert_eq!(
                Reader::new(bad).read(tag::SEQUENCE),
                Err(BadDer),
                "{bad:02x?}"
            );
        }
        assert_eq!(
            Reader::new(&[0x30, 0, 0]).read_last(tag::SEQUENCE),
            Err(BadDer)
        );
    }

    #[test]
    fn integers_are_positive_and_minimal() {
        assert_eq!(positive_integer(&[0x00, 0x80]), Ok(&[0x80u8][..]));
        assert_eq!(positive_integer(&[0x7f]), Ok(&[0x7fu8][..]));
        assert_eq!(positive_integer(&[0x00, 0x7f]), Err(BadDer));
        assert_eq!(positive_integer(&[0x80]), Err(BadDer));
        assert_eq!(positive_integer(&[0x00]), Err(BadDer));
        assert_eq!(positive_integer(&[]), Err(BadDer));
        assert_eq!(bit_string_bytes(&[0, 1, 2]), Ok(&[1u8, 2][..]));
        assert_eq!(bit_string_bytes(&[1, 1]), Err(BadDer));
        assert_eq!(bit_string_bytes(&[]), Err(BadDer));
    }
}
