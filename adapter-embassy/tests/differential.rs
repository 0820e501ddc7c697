//! Differential test of the path validation: generated chains (mutated CA flags, path
//! lengths, key usages, EKUs, dates, names and name constraints, key types and sizes,
//! hashes, issuer names, chain order, anchors, corrupted signatures and TBS bytes) are
//! judged by picoauth-embassy's [`verify_chain`] (webpki + this crate's no-heap
//! signature code) and by rustls's own `WebPkiServerVerifier` (webpki + ring). They must
//! agree on every chain.
//!
//! `PICOAUTH_DIFFERENTIAL_CHAINS` sets the count (500 by default; `.ci/embassy` runs
//! 10,000) and `PICOAUTH_DIFFERENTIAL_SEED` the seed (printed, so any run replays).
//!
//! Not generated, because rcgen (ring) cannot sign them: RSA-PSS certificate signatures
//! and certificates signed by an RSA-1024 key (an RSA-1024 key does appear as a leaf's
//! key, which path validation does not judge in either verifier). Ed25519 is left out:
//! this crate refuses it by design, rustls accepts it.

mod chains;

use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;

use chains::{ca_params, key, leaf_params, this_year, KeyKind, Rsa1024Public};
use picoauth_embassy::verifier::verify_chain;
use picoauth_embassy::{anchor_from_trusted_cert, CertificateDer};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, PKCS_RSA_SHA256,
    PKCS_RSA_SHA384, PKCS_RSA_SHA512,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::RootCertStore;

/// SplitMix64: a seeded, dependency-free generator, so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A pool of signing keys: loading or generating once, signing thousands of times.
struct Keys {
    /// (name, key) for each key and RSA hash.
    signers: &'static [(String, KeyPair)],
    /// Roots made once, one per signer: (params, key, DER).
    roots: Vec<(CertificateParams, &'static KeyPair, Vec<u8>)>,
}

impl Keys {
    fn load() -> Self {
        let mut signers = Vec::new();
        for i in 0..3 {
            signers.push((format!("p256-{i}"), key(KeyKind::P256)));
            signers.push((format!("p384-{i}"), key(KeyKind::P384)));
        }
        for name in ["2048-a", "2048-b", "2048-c", "3072", "4096-a", "4096-b"] {
            let path = format!(
                "{}/tests/fixtures/rsa/rsa-{name}.pem",
                env!("CARGO_MANIFEST_DIR")
            );
            let pem = std::fs::read_to_string(path).expect("fixture");
            for alg in [&PKCS_RSA_SHA256, &PKCS_RSA_SHA384, &PKCS_RSA_SHA512] {
                let k = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, alg).expect("RSA key");
                signers.push((format!("rsa-{name}-{alg:?}"), k));
            }
        }
        let signers: &'static [(String, KeyPair)] = signers.leak();
        let roots = signers
            .iter()
            .map(|(_, k)| {
                let p = ca_params("Diff Root", None);
                let d = p.self_signed(k).expect("root").der().to_vec();
                (p, k, d)
            })
            .collect();
        Self { signers, roots }
    }

    /// A signing key: half the time ECDSA, else RSA (a third of those 4096-bit).
    fn pick(&self, rng: &mut Rng) -> &'static KeyPair {
        let (ec, rsa): (Vec<_>, Vec<_>) =
            self.signers.iter().partition(|(n, _)| n.starts_with('p'));
        let pool = if rng.pct(50) { ec } else { rsa };
        &rng.pick(&pool).1
    }
}

const HOSTS: &[&str] = &[
    "auth.test",
    "a.auth.test",
    "b.a.auth.test",
    "other.test",
    "x.example",
];
const SANS: &[&str] = &[
    "auth.test",
    "a.auth.test",
    "*.auth.test",
    "*.test",
    "other.test",
    "x.example",
    "*.a.auth.test",
];

fn mutate_dates(p: &mut CertificateParams, rng: &mut Rng) {
    let y = this_year();
    match rng.below(40) {
        0 => {
            p.not_before = date_time_ymd(y - 3, 1, 1);
            p.not_after = date_time_ymd(y - 1, 1, 1);
        }
        1 => {
            p.not_before = date_time_ymd(y + 1, 1, 1);
            p.not_after = date_time_ymd(y + 3, 1, 1);
        }
        2 => {
            p.not_before = date_time_ymd(y + 1, 1, 1);
            p.not_after = date_time_ymd(y - 1, 1, 1);
        }
        _ => {}
    }
}

fn mutate_ca(p: &mut CertificateParams, rng: &mut Rng) {
    p.is_ca = match rng.below(30) {
        0 => IsCa::ExplicitNoCa,
        1 => IsCa::NoCa,
        2 | 3 => IsCa::Ca(BasicConstraints::Constrained(0)),
        4 => IsCa::Ca(BasicConstraints::Constrained(1)),
        _ => IsCa::Ca(BasicConstraints::Unconstrained),
    };
    p.key_usages = match rng.below(20) {
        0 => vec![KeyUsagePurpose::DigitalSignature],
        1 => vec![],
        _ => vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
    };
    p.extended_key_usages = match rng.below(20) {
        0 => vec![ExtendedKeyUsagePurpose::ServerAuth],
        1 => vec![ExtendedKeyUsagePurpose::ClientAuth],
        _ => vec![],
    };
    if rng.pct(8) {
        let permitted = (*rng.pick(&["auth.test", "other.test", "example"])).to_owned();
        p.name_constraints = Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName(permitted)],
            excluded_subtrees: if rng.pct(30) {
                vec![GeneralSubtree::DnsName("a.auth.test".into())]
            } else {
                vec![]
            },
        });
    }
    mutate_dates(p, rng);
}

/// Flips one byte of `der`: in the last 16 bytes (the signature) or anywhere.
fn corrupt(der: &mut [u8], rng: &mut Rng) {
    let i = if rng.pct(70) {
        der.len() - 1 - rng.below(16.min(der.len()))
    } else {
        rng.below(der.len())
    };
    der[i] ^= 1 << rng.below(8);
}

/// One generated case: the chain the server sends, the anchor certificate, the host.
struct Case {
    chain: Vec<Vec<u8>>,
    anchor: Vec<u8>,
    host: &'static str,
}

fn generate(keys: &Keys, rng: &mut Rng) -> Case {
    // Root: mostly one of the pool made once (its self-signature is what costs), else a
    // fresh one with mutated flags.
    let (root_params, root_key, root_der) = if rng.pct(80) {
        let (p, k, d) = rng.pick(&keys.roots);
        (p.clone(), *k, d.clone())
    } else {
        let k = keys.pick(rng);
        let mut p = ca_params("Diff Root", if rng.pct(20) { Some(0) } else { None });
        mutate_ca(&mut p, rng);
        let d = p.self_signed(k).expect("root").der().to_vec();
        (p, k, d)
    };
    let mut issuer = Issuer::new(root_params, root_key);

    // 0..=2 intermediates.
    let depth = rng.below(3);
    let mut ints = Vec::new();
    for i in 0..depth {
        let k = keys.pick(rng);
        let cn = if rng.pct(5) {
            "Diff Root".to_owned()
        } else {
            format!("Diff CA {i}")
        };
        let mut p = ca_params(&cn, None);
        mutate_ca(&mut p, rng);
        let cert = p.signed_by(k, &issuer).expect("intermediate");
        ints.push(cert.der().to_vec());
        // Sometimes the next certificate names another issuer than the one that signs.
        let mut next_params = p;
        if rng.pct(4) {
            next_params.distinguished_name = rcgen::DistinguishedName::new();
            next_params
                .distinguished_name
                .push(DnType::CommonName, "Someone Else");
        }
        issuer = Issuer::new(next_params, k);
    }

    // Leaf.
    let n = 1 + rng.below(3);
    let names: Vec<&str> = (0..n).map(|_| *rng.pick(SANS)).collect();
    let mut lp = leaf_params(&names);
    match rng.below(20) {
        0 => lp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth],
        1 => lp.extended_key_usages = vec![],
        2 => {
            lp.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ClientAuth,
                ExtendedKeyUsagePurpose::ServerAuth,
            ];
        }
        3 => lp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained),
        4 => lp.is_ca = IsCa::NoCa,
        5 => lp.key_usages = vec![KeyUsagePurpose::KeyCertSign],
        _ => {}
    }
    mutate_dates(&mut lp, rng);
    let leaf_der = match rng.below(20) {
        0 => lp
            .signed_by(&Rsa1024Public::load(), &issuer)
            .expect("leaf")
            .der()
            .to_vec(),
        _ => lp
            .signed_by(&keys.pick(rng), &issuer)
            .expect("leaf")
            .der()
            .to_vec(),
    };

    let mut chain = vec![leaf_der];
    chain.extend(ints.into_iter().rev());
    // Chain order and content.
    match rng.below(25) {
        0 if chain.len() > 2 => chain[1..].reverse(),
        1 if chain.len() > 1 => {
            chain.remove(1 + rng.below(chain.len() - 1));
        }
        2 => chain.push(root_der.clone()),
        3 if chain.len() > 1 => {
            let c = chain[1].clone();
            chain.push(c);
        }
        _ => {}
    }
    // Corruption of one certificate.
    if rng.pct(6) {
        let i = rng.below(chain.len());
        corrupt(&mut chain[i], rng);
    }
    // The anchor: the root, mostly.
    let anchor = match rng.below(25) {
        0 => ca_params("Diff Root", None)
            .self_signed(keys.pick(rng))
            .expect("unrelated root")
            .der()
            .to_vec(),
        1 if chain.len() > 1 => chain[chain.len() - 1].clone(),
        _ => root_der,
    };
    // The host: mostly one the leaf names (a wildcard's label filled in).
    let host = if rng.pct(60) {
        match names[0] {
            "*.auth.test" => "x.auth.test",
            "*.test" => "x.test",
            "*.a.auth.test" => "b.a.auth.test",
            n => n,
        }
    } else {
        *rng.pick(HOSTS)
    };
    Case {
        chain,
        anchor,
        host,
    }
}

#[test]
fn picoauth_embassy_and_rustls_agree_on_generated_chains() {
    let count: usize = std::env::var("PICOAUTH_DIFFERENTIAL_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("PICOAUTH_DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        });
    println!(
        "differential: {count} chains, seed {seed} (PICOAUTH_DIFFERENTIAL_SEED={seed} replays)"
    );
    let keys = Keys::load();
    let mut rng = Rng(seed);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(now_secs));
    let started = Instant::now();
    let (mut accepted, mut refused, mut bad_anchor) = (0usize, 0usize, 0usize);
    let mut ours_time = Duration::ZERO;
    let mut disagreements = Vec::new();
    for n in 0..count {
        let case = generate(&keys, &mut rng);
        let anchor_der = CertificateDer::from(case.anchor.as_slice());
        let Ok(anchor) = anchor_from_trusted_cert(&anchor_der) else {
            // A corrupted anchor is refused by both as an anchor; nothing to compare.
            bad_anchor += 1;
            continue;
        };
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(case.anchor.clone()))
            .expect("rustls takes the anchor");
        let theirs =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .expect("verifier");
        let certs: Vec<CertificateDer<'_>> = case
            .chain
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let name = ServerName::try_from(case.host).expect("host");
        let r_theirs = theirs.verify_server_cert(&certs[0], &certs[1..], &name, &[], now);
        let t = Instant::now();
        let r_ours = verify_chain(&[anchor], &certs[0], &certs[1..], case.host, now_secs);
        ours_time += t.elapsed();
        if r_ours.is_ok() != r_theirs.is_ok() {
            disagreements.push(format!("chain #{n}: ours {r_ours:?}, rustls {r_theirs:?}"));
        } else if r_ours.is_ok() {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    let judged = accepted + refused + disagreements.len();
    println!(
        "differential: {judged} chains judged by both ({accepted} accepted, {refused} refused), \
         {bad_anchor} with a corrupted anchor skipped, {} disagreements; \
         {:.1?} in all, {:.1?} in picoauth-embassy's verifier",
        disagreements.len(),
        started.elapsed(),
        ours_time
    );
    assert!(disagreements.is_empty(), "seed {seed}: {disagreements:#?}");
    // Both outcomes are well represented, or the mutations are too strong or too weak.
    assert!(
        accepted * 10 >= judged && refused * 10 >= judged,
        "{accepted} / {refused}"
    );
    assert!(judged + bad_anchor == count);
}
