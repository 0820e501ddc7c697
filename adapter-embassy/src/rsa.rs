//! RSA signature verification with no heap: PKCS#1 v1.5 (certificate signatures) and
//! PSS with MGF1 and salt length = hash length (TLS 1.3 `rsa_pss_rsae_*`), for 2048- to
//! 4096-bit moduli, on RustCrypto `crypto-bigint`'s fixed-width integers.
//!
//! Written here because no existing crate fits: the `rsa` crate keeps its integers on
//! the heap (it needs `alloc` and a global allocator), and ring / aws-lc are C and
//! assembly that do not build for every Cortex-M. Verification needs only the public
//! operation `s^e mod n` with a public `e`, which is a square-and-multiply over
//! Montgomery products that `crypto-bigint` provides (`mul_wide`,
//! `montgomery_reduction`), plus the two padding checks below, done byte for byte.
//!
//! Nothing here is secret (keys, signatures and messages are public), so nothing needs
//! to run in constant time. The largest buffer is one 512-byte block on the stack.

use crypto_bigint::modular::montgomery_reduction;
use crypto_bigint::{Limb, Uint, Word, U2048, U3072, U4096};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::der::{self, tag, Reader};

/// The smallest modulus accepted, in bits (smaller keys are refused).
pub const MIN_MODULUS_BITS: usize = 2048;
/// The largest modulus accepted, in bits.
pub const MAX_MODULUS_BITS: usize = 4096;
const MAX_LEN: usize = MAX_MODULUS_BITS / 8;
/// The largest public exponent accepted has 33 bits, as ring allows.
const MAX_EXPONENT_BITS: u32 = 33;

/// The hash of a signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The digest length in bytes.
    pub(crate) const fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes the concatenation of `parts` into `out[..self.len()]`.
    pub(crate) fn digest(self, parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
        fn run<D: Digest>(parts: &[&[u8]], out: &mut [u8]) {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            out.copy_from_slice(&d.finalize());
        }
        let n = self.len();
        match self {
            Self::Sha256 => run::<Sha256>(parts, &mut out[..n]),
            Self::Sha384 => run::<Sha384>(parts, &mut out[..n]),
            Self::Sha512 => run::<Sha512>(parts, &mut out[..n]),
        }
        n
    }

    /// The DER `DigestInfo` prefix of EMSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1), with the
    /// NULL parameters.
    const fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            Self::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            Self::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// The signature does not verify, or the key or signature is malformed or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

impl From<der::BadDer> for Invalid {
    fn from(_: der::BadDer) -> Self {
        Self
    }
}

/// An RSA public key borrowed from its PKCS#1 `RSAPublicKey` DER.
#[derive(Debug, Clone, Copy)]
pub struct PublicKey<'a> {
    /// The modulus, big-endian, first byte non-zero.
    n: &'a [u8],
    e: u64,
}

impl<'a> PublicKey<'a> {
    /// Parses `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
    /// (the `subjectPublicKey` of an `rsaEncryption` SPKI).
    ///
    /// # Errors
    /// Malformed DER; a modulus that is even or outside 2048..=4096 bits; a public
    /// exponent that is even, below 3 or above 33 bits.
    pub fn from_pkcs1_der(der: &'a [u8]) -> Result<Self, Invalid> {
        let mut seq = Reader::new(Reader::new(der).read_last(tag::SEQUENCE)?);
        let n = der::positive_integer(seq.read(tag::INTEGER)?)?;
        let e = der::positive_integer(seq.read_last(tag::INTEGER)?)?;
        let bits = bit_len(n);
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) || n[n.len() - 1] & 1 == 0 {
            return Err(Invalid);
        }
        if e.len() > 5 {
            return Err(Invalid);
        }
        let e = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if e < 3 || e & 1 == 0 || 64 - e.leading_zeros() > MAX_EXPONENT_BITS {
            return Err(Invalid);
        }
        Ok(Self { n, e })
    }

    /// The modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        bit_len(self.n)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 signature of `msg` (RFC 8017 §8.2.2): the whole
    /// encoded message is compared with the expected one, byte for byte.
    pub(crate) fn verify_pkcs1(&self, hash: Hash, msg: &[u8], sig: &[u8]) -> Result<(), Invalid> {
        let mut em_buf = [0u8; MAX_LEN];
        let em = self.public_op(sig, &mut em_buf)?;
        let mut digest = [0u8; 64];
        let h_len = hash.digest(&[msg], &mut digest);
        let prefix = hash.digest_info_prefix();
        let t_len = prefix.len() + h_len;
        // k >= 256, so the padding string is always longer than the 8 bytes required.
        let ps_len = em.len() - t_len - 3;
        let (head, rest) = em.split_at(2);
        let (ps, rest) = rest.split_at(ps_len);
        let (sep, t) = rest.split_at(1);
        let ok = head == [0x00, 0x01]
            && ps.iter().all(|&b| b == 0xff)
            && sep == [0x00]
            && t[..prefix.len()] == *prefix
            && t[prefix.len()..] == digest[..h_len];
        if ok {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Verifies an RSASSA-PSS signature of `msg` with MGF1 over the same hash and a salt
    /// as long as the hash (RFC 8017 §9.1.2; RFC 8446 §4.2.3).
    pub(crate) fn verify_pss(&self, hash: Hash, msg: &[u8], sig: &[u8]) -> Result<(), Invalid> {
        let mut m_buf = [0u8; MAX_LEN];
        let m = self.public_op(sig, &mut m_buf)?;
        let em_bits = self.modulus_bits() - 1;
        let em_len = em_bits.div_ceil(8);
        // The encoded message fills emLen bytes; a leading byte beyond it must be zero.
        let em = if em_len < m.len() {
            if m[0] != 0 {
                return Err(Invalid);
            }
            &mut m[1..]
        } else {
            m
        };
        let h_len = hash.len();
        let s_len = h_len;
        if em_len < h_len + s_len + 2 || em[em_len - 1] != 0xbc {
            return Err(Invalid);
        }
        let db_len = em_len - h_len - 1;
        let (db, rest) = em.split_at_mut(db_len);
        let h = &rest[..h_len];
        let top_bits = 8 * em_len - em_bits;
        if db[0] & !(0xffu8 >> top_bits) != 0 {
            return Err(Invalid);
        }
        // DB = maskedDB xor MGF1(H, db_len), in place.
        let mut block = [0u8; 64];
        for (counter, chunk) in (0u32..).zip(db.chunks_mut(h_len)) {
            hash.digest(&[h, &counter.to_be_bytes()], &mut block);
            for (d, m) in chunk.iter_mut().zip(&block) {
                *d ^= m;
            }
        }
        db[0] &= 0xff >> top_bits;
        let ps_len = db_len - s_len - 1;
        if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 0x01 {
            return Err(Invalid);
        }
        let salt = &db[ps_len + 1..];
        let mut m_hash = [0u8; 64];
        hash.digest(&[msg], &mut m_hash);
        let mut h2 = [0u8; 64];
        hash.digest(&[&[0u8; 8], &m_hash[..h_len], salt], &mut h2);
        if h2[..h_len] == *h {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// RSAVP1: `sig^e mod n` as `k` big-endian bytes in `out`, where `k` is the modulus
    /// length. The signature must be exactly `k` bytes and below `n`.
    fn public_op<'o>(
        &self,
        sig: &[u8],
        out: &'o mut [u8; MAX_LEN],
    ) -> Result<&'o mut [u8], Invalid> {
        let k = self.n.len();
        if sig.len() != k {
            return Err(Invalid);
        }
        let out = &mut out[..k];
        // The narrowest width that holds the modulus: a 2048-bit key costs a quarter of
        // a 4096-bit one.
        if k <= U2048::BYTES {
            public_op::<{ U2048::LIMBS }>(self.n, self.e, sig, out)?;
        } else if k <= U3072::BYTES {
            public_op::<{ U3072::LIMBS }>(self.n, self.e, sig, out)?;
        } else {
            public_op::<{ U4096::LIMBS }>(self.n, self.e, sig, out)?;
        }
        Ok(out)
    }
}

/// The bit length of a big-endian integer whose first byte is non-zero.
fn bit_len(be: &[u8]) -> usize {
    match be.first() {
        Some(&b) => (be.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
        None => 0,
    }
}

/// A big-endian integer of at most `Uint::<L>::BYTES` bytes as a `Uint`.
fn uint_from_be<const L: usize>(be: &[u8]) -> Uint<L> {
    let mut buf = [0u8; MAX_LEN];
    buf[MAX_LEN - be.len()..].copy_from_slice(be);
    Uint::from_be_slice(&buf[MAX_LEN - Uint::<L>::BYTES..])
}

/// Montgomery arithmetic modulo an odd `n`, with `R = 2^(Uint::<L>::BITS)`.
struct Montgomery<const L: usize> {
    n: Uint<L>,
    /// `-n^-1 mod 2^Word::BITS`.
    n_neg_inv: Limb,
}

impl<const L: usize> Montgomery<L> {
    /// `a * b * R^-1 mod n`, for `a, b < n`.
    fn mul(&self, a: &Uint<L>, b: &Uint<L>) -> Uint<L> {
        montgomery_reduction(&a.mul_wide(b), &self.n, self.n_neg_inv)
    }

    /// `R^2 mod n` without a wide division: `2^(b-1)` (below `n`, whose top bit is bit
    /// `b-1`) doubled modulo `n` up to `2^(BITS + BITS/32) = R * 2^(BITS/32)`, then five
    /// Montgomery squarings, each of which doubles the exponent of 2 above `R`.
    fn r_squared(&self) -> Uint<L> {
        let bits = Uint::<L>::BITS;
        let b = self.n.bits_vartime();
        let mut t = Uint::<L>::ONE.shl_vartime(b - 1);
        for _ in 0..(bits - (b - 1) + bits / 32) {
            t = t.add_mod(&t, &self.n);
        }
        for _ in 0..5 {
            t = self.mul(&t, &t);
        }
        t
    }
}

/// `sig^e mod n` into `out` (big-endian, `out.len()` bytes, which is `n`'s length).
fn public_op<const L: usize>(n: &[u8], e: u64, sig: &[u8], out: &mut [u8]) -> Result<(), Invalid> {
    let n = uint_from_be::<L>(n);
    let s = uint_from_be::<L>(sig);
    if s >= n {
        return Err(Invalid);
    }
    let low = Uint::<1>::from_word(n.as_words()[0]);
    let inv = low.inv_mod2k_vartime(Word::BITS as usize).as_words()[0];
    let m = Montgomery {
        n,
        n_neg_inv: Limb(inv.wrapping_neg()),
    };
    let s_mont = m.mul(&s, &m.r_squared());
    let mut acc = s_mont;
    let e_bits = 64 - e.leading_zeros();
    for i in (0..e_bits - 1).rev() {
        acc = m.mul(&acc, &acc);
        if (e >> i) & 1 == 1 {
            acc = m.mul(&acc, &s_mont);
        }
    }
    // Out of the Montgomery domain: multiply by 1.
    let result = montgomery_reduction(&(acc, Uint::ZERO), &m.n, m.n_neg_inv);
    // Little-endian words to big-endian bytes; the bytes above n's length are zero.
    let mut be = [0u8; MAX_LEN];
    let words = result.as_words();
    let wb = core::mem::size_of::<Word>();
    for (i, w) in words.iter().enumerate() {
        let end = MAX_LEN - i * wb;
        be[end - wb..end].copy_from_slice(&w.to_be_bytes());
    }
    out.copy_from_slice(&be[MAX_LEN - out.len()..]);
    Ok(())
}
