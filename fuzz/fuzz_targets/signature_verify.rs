//! picoauth-embassy's signature code (RSA PKCS#1 v1.5 and PSS on fixed-width integers,
//! ECDSA P-256/P-384) on arbitrary keys, messages and signatures: no panic, and nothing
//! verifies that should not. Raw key bytes exercise the DER and key checks; a modulus
//! built from the input (odd, 2048..=4096 bits, any exponent) exercises the modular
//! arithmetic and the padding checks with whatever the fuzzer finds.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use picoauth_embassy::rsa::PublicKey;
use picoauth_embassy::signature::{
    CERTIFICATE_ALGORITHMS, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
    RSA_PSS_SHA384, RSA_PSS_SHA512,
};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// Used as a whole subjectPublicKey, for every algorithm.
    raw_key: &'a [u8],
    /// The modulus of a well-formed RSAPublicKey (padded or cut to 256..=512 bytes).
    modulus: &'a [u8],
    exponent: u32,
    msg: &'a [u8],
    sig: &'a [u8],
}

/// DER length bytes for `len` (below 2^16).
fn der_len(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
}

fn der_uint(be: &[u8], out: &mut Vec<u8>) {
    let be = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => &[0][..],
    };
    let pad = be[0] & 0x80 != 0;
    out.push(0x02);
    der_len(be.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(be);
}

/// An RSAPublicKey DER with a modulus of 2048..=4096 bits from `seed`.
fn rsa_key(seed: &[u8], e: u32) -> Vec<u8> {
    let len = 256 + seed.first().map_or(0, |&b| usize::from(b)) % 257;
    let mut n: Vec<u8> = seed.iter().copied().cycle().take(len).collect();
    n.resize(len, 0xa5);
    n[0] |= 0x80;
    n[len - 1] |= 1;
    let mut body = Vec::new();
    der_uint(&n, &mut body);
    der_uint(&e.to_be_bytes(), &mut body);
    let mut out = vec![0x30];
    der_len(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

fuzz_target!(|input: Input<'_>| {
    for alg in CERTIFICATE_ALGORITHMS {
        let _ = alg.verify_signature(input.raw_key, input.msg, input.sig);
    }
    let _ = PublicKey::from_pkcs1_der(input.raw_key);

    let key = rsa_key(input.modulus, input.exponent);
    let parsed = PublicKey::from_pkcs1_der(&key);
    if let Ok(k) = parsed {
        assert!((2048..=4096).contains(&k.modulus_bits()));
    }
    // A signature of the modulus length, so the arithmetic runs.
    let k_len = key.len().saturating_sub(20).max(256);
    let mut sig: Vec<u8> = input.sig.iter().copied().cycle().take(k_len).collect();
    sig.resize(k_len, 0);
    for alg in [
        RSA_PKCS1_SHA256,
        RSA_PKCS1_SHA384,
        RSA_PKCS1_SHA512,
        RSA_PSS_SHA256,
        RSA_PSS_SHA384,
        RSA_PSS_SHA512,
    ] {
        let verified = alg.verify_signature(&key, input.msg, &sig).is_ok();
        // A key the parser refuses verifies nothing.
        assert!(!(verified && parsed.is_err()));
        let _ = alg.verify_signature(&key, input.msg, input.sig);
    }
});
