//! Wycheproof's RSA verification vectors against this crate's RSA code.
//!
//! PKCS#1 v1.5 (SHA-256/384/512, 2048..=8192-bit keys) and PSS (MGF1, all salt lengths).
//! Within what this crate implements (2048..=4096 bits; PSS with MGF1 over the same hash
//! and salt length = hash length), "valid" vectors must verify and "invalid" ones must
//! not; "acceptable" ones are counted. Outside it (8192-bit keys, other salt lengths or
//! MGF hashes), every vector valid under its own parameters must be refused: the key
//! size and the PSS parameters are checked strictly. (An "invalid" vector there may be
//! valid under this crate's parameters, e.g. a salt of 32 bytes in a salt-0 group.)

use picoauth_embassy::signature::{
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512,
};
use rustls::pki_types::SignatureVerificationAlgorithm;
use wycheproof::{HashFunction, TestResult};

#[derive(Default, Debug)]
struct Tally {
    valid_verified: usize,
    invalid_refused: usize,
    acceptable: usize,
    out_of_scope_refused: usize,
    out_of_scope_other: usize,
}

#[allow(clippy::too_many_arguments)] // a test helper: one call per vector
fn check(
    alg: &dyn SignatureVerificationAlgorithm,
    in_scope: bool,
    key: &[u8],
    msg: &[u8],
    sig: &[u8],
    result: TestResult,
    what: &str,
    t: &mut Tally,
) {
    let ok = alg.verify_signature(key, msg, sig).is_ok();
    if !in_scope {
        if result == TestResult::Valid {
            assert!(!ok, "{what}: verified outside what the crate implements");
            t.out_of_scope_refused += 1;
        } else {
            t.out_of_scope_other += 1;
        }
        return;
    }
    match result {
        TestResult::Valid => {
            assert!(ok, "{what}: valid vector refused");
            t.valid_verified += 1;
        }
        TestResult::Invalid => {
            assert!(!ok, "{what}: invalid vector verified");
            t.invalid_refused += 1;
        }
        TestResult::Acceptable => t.acceptable += 1,
    }
}

#[test]
fn wycheproof_rsa_pkcs1_v1_5() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let mut t = Tally::default();
    for name in TestName::all() {
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let alg: &dyn SignatureVerificationAlgorithm = match g.hash {
                HashFunction::Sha2_256 => RSA_PKCS1_SHA256,
                HashFunction::Sha2_384 => RSA_PKCS1_SHA384,
                HashFunction::Sha2_512 => RSA_PKCS1_SHA512,
                _ => continue,
            };
            let in_scope = (2048..=4096).contains(&g.key_size);
            for v in &g.tests {
                let what = format!("{name:?} #{} ({})", v.tc_id, v.comment);
                check(
                    alg, in_scope, &g.asn_key, &v.msg, &v.sig, v.result, &what, &mut t,
                );
            }
        }
    }
    println!("wycheproof PKCS#1 v1.5: {t:?}");
    assert!(t.valid_verified > 10 && t.invalid_refused > 100, "{t:?}");
}

#[test]
fn wycheproof_rsa_pss() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    let mut t = Tally::default();
    for name in TestName::all() {
        let set = TestSet::load(name).expect("vectors");
        for g in &set.test_groups {
            let (alg, h_len): (&dyn SignatureVerificationAlgorithm, usize) = match g.hash {
                HashFunction::Sha2_256 => (RSA_PSS_SHA256, 32),
                HashFunction::Sha2_384 => (RSA_PSS_SHA384, 48),
                HashFunction::Sha2_512 => (RSA_PSS_SHA512, 64),
                _ => continue,
            };
            let in_scope = (2048..=4096).contains(&g.key_size)
                && g.mgf_hash == Some(g.hash)
                && g.salt_size == h_len;
            for v in &g.tests {
                let what = format!("{name:?} #{} ({})", v.tc_id, v.comment);
                check(
                    alg, in_scope, &g.asn_key, &v.msg, &v.sig, v.result, &what, &mut t,
                );
            }
        }
    }
    println!("wycheproof PSS: {t:?}");
    assert!(
        t.valid_verified > 10 && t.invalid_refused > 10 && t.out_of_scope_refused > 10,
        "{t:?}"
    );
}
