//! Certificate chains for the verifier's tests, made with rcgen: the shapes of the real
//! providers' chains, and chains that a strict X.509 validator refuses. RSA keys are the
//! committed fixtures in `tests/fixtures/rsa/` (rcgen with ring signs with RSA keys but
//! cannot make them); ECDSA keys are generated.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use picoauth_embassy::CertificateError;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384, PKCS_RSA_SHA256,
};

/// A key type of the fixtures or generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    P256,
    P384,
    /// A committed RSA key: `rsa-<name>.pem`.
    Rsa(&'static str),
}

/// A key for `kind`: RSA from the fixtures, ECDSA fresh.
pub(crate) fn key(kind: KeyKind) -> KeyPair {
    match kind {
        KeyKind::P256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key"),
        KeyKind::P384 => KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).expect("P-384 key"),
        KeyKind::Rsa(name) => {
            let path = format!(
                "{}/tests/fixtures/rsa/rsa-{name}.pem",
                env!("CARGO_MANIFEST_DIR")
            );
            let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).expect("RSA key")
        }
    }
}

/// The committed RSA-1024 public key (ring will not load its private half).
pub(crate) struct Rsa1024Public(Vec<u8>);

impl Rsa1024Public {
    pub(crate) fn load() -> Self {
        let path = format!(
            "{}/tests/fixtures/rsa/rsa-1024-public.der",
            env!("CARGO_MANIFEST_DIR")
        );
        Self(std::fs::read(path).expect("rsa-1024-public.der"))
    }
}

impl PublicKeyData for Rsa1024Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_RSA_SHA256
    }
}

/// This year by the system clock.
pub(crate) fn this_year() -> i32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    1970 + i32::try_from(secs / 31_556_952).unwrap_or(0)
}

/// CA parameters: `cn`, basicConstraints CA with `path_len`, keyCertSign, from last
/// year to in two years.
pub(crate) fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let y = this_year();
    p.not_before = date_time_ymd(y - 1, 1, 1);
    p.not_after = date_time_ymd(y + 2, 1, 1);
    p
}

/// Leaf parameters: `names` as SANs, CA:FALSE, digitalSignature, serverAuth.
pub(crate) fn leaf_params(names: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        .expect("leaf params");
    p.distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let y = this_year();
    p.not_before = date_time_ymd(y - 1, 1, 1);
    p.not_after = date_time_ymd(y + 2, 1, 1);
    p
}

/// What the client must do with a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Complete the exchange.
    Accept,
    /// Refuse the server, for this reason, before sending anything.
    Refuse(CertificateError),
}

/// A server chain, its key, the anchors the client trusts and the host it asks for.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    /// DER certificates, leaf first, as the server sends them.
    pub(crate) chain: Vec<Vec<u8>>,
    /// The server's PKCS#8 key (DER); for the RSA-1024 leaf, a key that does not match
    /// (the client must refuse before any signature).
    pub(crate) key: Vec<u8>,
    /// DER CA certificates the client trusts.
    pub(crate) anchors: Vec<Vec<u8>>,
    pub(crate) host: &'static str,
    pub(crate) expect: Expect,
}

/// A self-signed root and its issuer handle.
fn root(cn: &str, kind: KeyKind, path_len: Option<u8>) -> (Vec<u8>, Issuer<'static, KeyPair>) {
    let key = key(kind);
    let params = ca_params(cn, path_len);
    let cert = params.self_signed(&key).expect("root");
    (cert.der().to_vec(), Issuer::new(params, key))
}

/// An intermediate CA signed by `by`.
fn intermediate(
    cn: &str,
    kind: KeyKind,
    params: CertificateParams,
    by: &Issuer<'_, KeyPair>,
) -> (Vec<u8>, Issuer<'static, KeyPair>) {
    let _ = cn;
    let key = key(kind);
    let cert = params.signed_by(&key, by).expect("intermediate");
    (cert.der().to_vec(), Issuer::new(params, key))
}

/// A leaf for `names` signed by `by`, with its key (PKCS#8 DER).
fn leaf(params: CertificateParams, kind: KeyKind, by: &Issuer<'_, KeyPair>) -> (Vec<u8>, Vec<u8>) {
    let key = key(kind);
    let cert = params.signed_by(&key, by).expect("leaf");
    (cert.der().to_vec(), key.serialize_der())
}

pub(crate) const HOST: &str = "auth.test";

/// Every scenario the netns test runs: the accepted shapes first, then the refusals.
pub(crate) fn scenarios() -> Vec<Scenario> {
    use CertificateError as E;
    let mut out = Vec::new();

    // Slack: RSA-2048 leaf <- RSA-2048 "YR1" <- "Root YR" (RSA-4096) cross-signed by
    // the RSA-4096 anchor "ISRG Root X1"; the server sends leaf, YR1, cross-signed YR.
    {
        let (x1_der, x1) = root("Test ISRG Root X1", KeyKind::Rsa("4096-a"), None);
        let yr_key = key(KeyKind::Rsa("4096-b"));
        let yr_params = ca_params("Test Root YR", None);
        let yr_cross = yr_params
            .signed_by(&yr_key, &x1)
            .expect("cross-signed Root YR");
        let yr = Issuer::new(yr_params, yr_key);
        let (yr1_der, yr1) = intermediate(
            "Test YR1",
            KeyKind::Rsa("2048-a"),
            ca_params("Test YR1", Some(0)),
            &yr,
        );
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::Rsa("2048-b"), &yr1);
        out.push(Scenario {
            name: "slack shape: RSA-2048 <- RSA-2048 <- cross-signed RSA-4096 root <- RSA-4096 anchor",
            chain: vec![leaf_der, yr1_der, yr_cross.der().to_vec()],
            key,
            anchors: vec![x1_der],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // Pinterest: RSA-2048 leaf <- RSA-2048 intermediate <- RSA-2048 anchor.
    {
        let (g2_der, g2) = root("Test Global Root G2", KeyKind::Rsa("2048-c"), None);
        let (ca1_der, ca1) = intermediate(
            "Test G2 TLS RSA CA1",
            KeyKind::Rsa("2048-a"),
            ca_params("Test G2 TLS RSA CA1", Some(0)),
            &g2,
        );
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::Rsa("2048-b"), &ca1);
        out.push(Scenario {
            name: "pinterest shape: RSA-2048 <- RSA-2048 <- RSA-2048 anchor",
            chain: vec![leaf_der, ca1_der],
            key,
            anchors: vec![g2_der],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // ECDSA P-256 throughout.
    let (p256_root_der, p256_root) = root("Test P-256 root", KeyKind::P256, None);
    let (p256_int_der, p256_int) = intermediate(
        "Test P-256 CA",
        KeyKind::P256,
        ca_params("Test P-256 CA", None),
        &p256_root,
    );
    {
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &p256_int);
        out.push(Scenario {
            name: "ECDSA P-256 throughout",
            chain: vec![leaf_der, p256_int_der.clone()],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // A P-384 intermediate (and root) above a P-256 leaf.
    {
        let (root_der, r) = root("Test P-384 root", KeyKind::P384, None);
        let (int_der, int) = intermediate(
            "Test P-384 CA",
            KeyKind::P384,
            ca_params("Test P-384 CA", Some(0)),
            &r,
        );
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &int);
        out.push(Scenario {
            name: "P-384 intermediate",
            chain: vec![leaf_der, int_der],
            key,
            anchors: vec![root_der],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // The host in the fifth SAN.
    {
        let (leaf_der, key) = leaf(
            leaf_params(&["a.test", "b.test", "c.test", "d.test", HOST]),
            KeyKind::P256,
            &p256_int,
        );
        out.push(Scenario {
            name: "host name in the 5th SAN",
            chain: vec![leaf_der, p256_int_der.clone()],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // A wildcard covers one label. (webpki, like browsers, refuses a wildcard directly
    // under a top-level label: `*.test` matches nothing, not even `a.test`.)
    {
        let (leaf_der, key) = leaf(leaf_params(&["*.auth.test"]), KeyKind::P256, &p256_int);
        let (tld_der, tld_key) = leaf(leaf_params(&["*.test"]), KeyKind::P256, &p256_int);
        for (name, der, key, host, expect) in [
            (
                "wildcard *.auth.test for a.auth.test",
                &leaf_der,
                &key,
                "a.auth.test",
                Expect::Accept,
            ),
            (
                "wildcard *.auth.test refused for a.b.auth.test",
                &leaf_der,
                &key,
                "a.b.auth.test",
                Expect::Refuse(E::NotValidForName),
            ),
            (
                "wildcard *.test refused for a.test (no wildcard under a top-level label)",
                &tld_der,
                &tld_key,
                "a.test",
                Expect::Refuse(E::NotValidForName),
            ),
        ] {
            out.push(Scenario {
                name,
                chain: vec![der.clone(), p256_int_der.clone()],
                key: key.clone(),
                anchors: vec![p256_root_der.clone()],
                host,
                expect,
            });
        }
    }

    // --- Refusals ---
    // A leaf for auth.test signed with an ordinary leaf's key (evil.test, CA:FALSE).
    {
        let evil_key = key(KeyKind::P256);
        let evil_params = leaf_params(&["evil.test"]);
        let evil = evil_params
            .signed_by(&evil_key, &p256_int)
            .expect("evil leaf");
        let evil_issuer = Issuer::new(evil_params, evil_key);
        let (forged, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &evil_issuer);
        for (name, with_ca) in [
            ("forged leaf signed by an ordinary leaf (CA:FALSE)", false),
            (
                "forged leaf signed by an ordinary leaf (CA:FALSE), CA appended",
                true,
            ),
        ] {
            let mut chain = vec![forged.clone(), evil.der().to_vec()];
            if with_ca {
                chain.push(p256_int_der.clone());
            }
            out.push(Scenario {
                name,
                chain,
                key: key.clone(),
                anchors: vec![p256_root_der.clone()],
                host: HOST,
                expect: Expect::Refuse(E::IssuerNotCa),
            });
        }
    }
    // A leaf signed by a certificate with no basicConstraints at all.
    {
        let mut params = ca_params("Test signer without basicConstraints", None);
        params.is_ca = IsCa::NoCa;
        let (no_bc_der, no_bc) = intermediate("", KeyKind::P256, params, &p256_root);
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &no_bc);
        out.push(Scenario {
            name: "leaf signed by a certificate with no basicConstraints",
            chain: vec![leaf_der, no_bc_der],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Refuse(E::IssuerNotCa),
        });
    }
    // A leaf whose extendedKeyUsage is clientAuth only.
    {
        let mut params = leaf_params(&[HOST]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let (leaf_der, key) = leaf(params, KeyKind::P256, &p256_int);
        out.push(Scenario {
            name: "leaf with extendedKeyUsage clientAuth only",
            chain: vec![leaf_der, p256_int_der.clone()],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Refuse(E::NotForServerAuth),
        });
    }
    // An intermediate CA under a CA with pathLenConstraint 0. The constraint is
    // enforced on the certificates the server sends; an anchor is a name and a key
    // (RFC 5280 §6.1.1), so a pathLen in the anchor's own certificate is not (the same
    // in rustls): that case is accepted, and pinned here so that it stays known.
    {
        let (int1_der, int1) = intermediate(
            "",
            KeyKind::P256,
            ca_params("Test CA pathLen 0", Some(0)),
            &p256_root,
        );
        let (int2_der, int2) = intermediate(
            "",
            KeyKind::P256,
            ca_params("Test CA under pathLen 0", None),
            &int1,
        );
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &int2);
        out.push(Scenario {
            name: "intermediate CA under an intermediate with pathLenConstraint 0",
            chain: vec![leaf_der, int2_der, int1_der],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Refuse(E::PathTooLong),
        });
        let (root_der, r) = root("Test root pathLen 0", KeyKind::P256, Some(0));
        let (int_der, int) = intermediate(
            "",
            KeyKind::P256,
            ca_params("Test CA under a pathLen 0 root", None),
            &r,
        );
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &int);
        out.push(Scenario {
            name: "intermediate CA under an anchor whose certificate says pathLen 0 (anchors carry no constraints)",
            chain: vec![leaf_der, int_der],
            key,
            anchors: vec![root_der],
            host: HOST,
            expect: Expect::Accept,
        });
    }
    // An expired intermediate.
    {
        let mut params = ca_params("Test expired CA", None);
        let y = this_year();
        params.not_before = date_time_ymd(y - 3, 1, 1);
        params.not_after = date_time_ymd(y - 1, 1, 1);
        let (int_der, int) = intermediate("", KeyKind::P256, params, &p256_root);
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &int);
        out.push(Scenario {
            name: "expired intermediate",
            chain: vec![leaf_der, int_der],
            key,
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Refuse(E::Expired),
        });
    }
    // An RSA-1024 leaf (the server holds another key: the client must stop at the
    // certificate, before any signature).
    {
        let cert = leaf_params(&[HOST])
            .signed_by(&Rsa1024Public::load(), &p256_int)
            .expect("RSA-1024 leaf");
        out.push(Scenario {
            name: "RSA-1024 leaf",
            chain: vec![cert.der().to_vec(), p256_int_der.clone()],
            key: key(KeyKind::P256).serialize_der(),
            anchors: vec![p256_root_der.clone()],
            host: HOST,
            expect: Expect::Refuse(E::UnsupportedKey),
        });
    }
    // One byte of the leaf's (RSA) signature flipped.
    {
        let (rsa_root_der, rsa_root) = root("Test RSA root", KeyKind::Rsa("2048-c"), None);
        let (mut leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::Rsa("2048-b"), &rsa_root);
        let last = leaf_der.len() - 1;
        leaf_der[last] ^= 0x01;
        out.push(Scenario {
            name: "leaf signature with one byte flipped",
            chain: vec![leaf_der],
            key,
            anchors: vec![rsa_root_der],
            host: HOST,
            expect: Expect::Refuse(E::BadSignature),
        });
    }
    // The wrong host name, and an unknown CA.
    {
        let (leaf_der, key) = leaf(leaf_params(&[HOST]), KeyKind::P256, &p256_int);
        let (other_root, _) = root("Test other root", KeyKind::P256, None);
        out.push(Scenario {
            name: "wrong host name",
            chain: vec![leaf_der.clone(), p256_int_der.clone()],
            key: key.clone(),
            anchors: vec![p256_root_der.clone()],
            host: "wrong.test",
            expect: Expect::Refuse(E::NotValidForName),
        });
        out.push(Scenario {
            name: "unknown CA",
            chain: vec![leaf_der, p256_int_der.clone()],
            key,
            anchors: vec![other_root],
            host: HOST,
            expect: Expect::Refuse(E::UnknownIssuer),
        });
    }
    out
}
