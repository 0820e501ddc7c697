//! The signature algorithms against ring, which signs: every RSA size and hash with
//! PKCS#1 v1.5 and PSS, ECDSA P-256 and P-384; and what must not verify (another
//! message, a flipped byte, the other padding, a short or long signature, a 1024-bit
//! key, a key of the other curve).

mod chains;

use chains::{key, KeyKind};
use picoauth_embassy::rsa::PublicKey;
use picoauth_embassy::signature::{
    ECDSA_P256_SHA256, ECDSA_P256_SHA384, ECDSA_P384_SHA256, ECDSA_P384_SHA384, RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use ring::rand::SystemRandom;
use ring::signature::{self as rs, KeyPair as _};

const MSG: &[u8] = b"TLS 1.3, server CertificateVerify\x00 and a transcript hash";

fn rsa_pair(name: &'static str) -> rs::RsaKeyPair {
    rs::RsaKeyPair::from_pkcs8(&key(KeyKind::Rsa(name)).serialize_der()).expect("ring loads it")
}

#[test]
fn rsa_signatures_from_ring_verify_and_tampered_ones_do_not() {
    let rng = SystemRandom::new();
    let mut checked = 0;
    for name in ["2048-a", "3072", "4096-a"] {
        let pair = rsa_pair(name);
        let public = pair.public().as_ref();
        let bits = PublicKey::from_pkcs1_der(public)
            .expect("our parser")
            .modulus_bits();
        assert_eq!(bits, pair.public().modulus_len() * 8);
        let cases: [(&'static dyn rs::RsaEncoding, _, _); 6] = [
            (&rs::RSA_PKCS1_SHA256, RSA_PKCS1_SHA256, RSA_PSS_SHA256),
            (&rs::RSA_PKCS1_SHA384, RSA_PKCS1_SHA384, RSA_PSS_SHA384),
            (&rs::RSA_PKCS1_SHA512, RSA_PKCS1_SHA512, RSA_PSS_SHA512),
            (&rs::RSA_PSS_SHA256, RSA_PSS_SHA256, RSA_PKCS1_SHA256),
            (&rs::RSA_PSS_SHA384, RSA_PSS_SHA384, RSA_PKCS1_SHA384),
            (&rs::RSA_PSS_SHA512, RSA_PSS_SHA512, RSA_PKCS1_SHA512),
        ];
        for (encoding, ours, other_padding) in cases {
            let mut sig = vec![0u8; pair.public().modulus_len()];
            pair.sign(encoding, &rng, MSG, &mut sig)
                .expect("ring signs");
            assert!(
                ours.verify_signature(public, MSG, &sig).is_ok(),
                "{name} {ours:?}"
            );
            assert!(ours
                .verify_signature(public, b"another message", &sig)
                .is_err());
            assert!(other_padding.verify_signature(public, MSG, &sig).is_err());
            assert!(ours.verify_signature(public, MSG, &sig[1..]).is_err());
            let mut longer = vec![0u8];
            longer.extend_from_slice(&sig);
            assert!(ours.verify_signature(public, MSG, &longer).is_err());
            for i in (0..sig.len()).step_by(37).chain([sig.len() - 1]) {
                let mut bad = sig.clone();
                bad[i] ^= 0x40;
                assert!(
                    ours.verify_signature(public, MSG, &bad).is_err(),
                    "{name} {ours:?} byte {i}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

#[test]
fn rsa_keys_below_2048_bits_are_refused() {
    let path = format!(
        "{}/tests/fixtures/rsa/rsa-1024-public.der",
        env!("CARGO_MANIFEST_DIR")
    );
    let der = std::fs::read(path).expect("fixture");
    assert!(PublicKey::from_pkcs1_der(&der).is_err());
    let sig = [0x55u8; 128];
    assert!(RSA_PKCS1_SHA256.verify_signature(&der, MSG, &sig).is_err());
    assert!(RSA_PSS_SHA256.verify_signature(&der, MSG, &sig).is_err());
}

#[test]
fn ecdsa_signatures_from_ring_verify_on_their_curve_only() {
    let rng = SystemRandom::new();
    // ring signs only the matched pairs; the mixed ones (P-256 with SHA-384, P-384 with
    // SHA-256) must refuse these signatures, since the hash differs.
    let cases: [(&'static rs::EcdsaSigningAlgorithm, _, _, _); 2] = [
        (
            &rs::ECDSA_P256_SHA256_ASN1_SIGNING,
            ECDSA_P256_SHA256,
            ECDSA_P384_SHA256,
            ECDSA_P256_SHA384,
        ),
        (
            &rs::ECDSA_P384_SHA384_ASN1_SIGNING,
            ECDSA_P384_SHA384,
            ECDSA_P256_SHA384,
            ECDSA_P384_SHA256,
        ),
    ];
    for (alg, ours, other_curve, other_hash) in cases {
        let pkcs8 = rs::EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("key");
        let pair = rs::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("key");
        let public = pair.public_key().as_ref();
        for _ in 0..8 {
            let sig = pair.sign(&rng, MSG).expect("sign");
            let sig = sig.as_ref();
            assert!(ours.verify_signature(public, MSG, sig).is_ok(), "{ours:?}");
            assert!(ours.verify_signature(public, b"other", sig).is_err());
            assert!(other_curve.verify_signature(public, MSG, sig).is_err());
            assert!(other_hash.verify_signature(public, MSG, sig).is_err());
            let mut bad = sig.to_vec();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(ours.verify_signature(public, MSG, &bad).is_err());
            // A compressed point is refused, as ring refuses it.
            let mut compressed = vec![0x02 | (public[public.len() - 1] & 1)];
            compressed.extend_from_slice(&public[1..=(public.len() - 1) / 2]);
            assert!(ours.verify_signature(&compressed, MSG, sig).is_err());
        }
    }
}
