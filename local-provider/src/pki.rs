//! Test certificates (rcgen): a CA and the server certificates it signs. The provider
//! serves one such pair; tests that run a TLS peer of their own (the Node interop
//! peer, a replaying server, a PostgreSQL cluster) make theirs here too.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData as _,
};
use time::{Duration, OffsetDateTime};

/// A CA (ECDSA P-256, path length 0, valid from two days ago for a year) that signs
/// server certificates.
pub struct TestCa {
    /// The CA certificate, PEM: what a client under test trusts.
    pub pem: String,
    /// The CA certificate, DER.
    pub der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and its key.
pub struct Leaf {
    /// The leaf, then the CA, PEM.
    pub chain_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The leaf, DER.
    pub der: Vec<u8>,
    /// The leaf's private key, PKCS#8 DER.
    pub key_der: Vec<u8>,
    /// The leaf's SubjectPublicKeyInfo, DER.
    pub spki_der: Vec<u8>,
}

/// A valid leaf's dates around `now`: from a day ago for 30 days.
pub(crate) fn valid_window(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    (now - Duration::days(1), now + Duration::days(30))
}

impl TestCa {
    /// A new CA named `name`.
    ///
    /// # Errors
    /// rcgen fails.
    pub fn new(name: &str) -> Result<Self, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - Duration::days(2);
        params.not_after = now + Duration::days(365);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid from a day
    /// ago for 30 days.
    ///
    /// # Errors
    /// rcgen fails (a name it cannot encode).
    pub fn leaf(&self, names: &[&str]) -> Result<Leaf, rcgen::Error> {
        let (not_before, not_after) = valid_window(OffsetDateTime::now_utc());
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        self.leaf_valid("picoauth test server", names, not_before, not_after)
    }

    /// A server certificate named `common_name` for `names`, valid from `not_before`
    /// to `not_after`.
    ///
    /// # Errors
    /// rcgen fails (a name it cannot encode).
    pub fn leaf_valid(
        &self,
        common_name: &str,
        names: Vec<String>,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Leaf, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf {
            chain_pem: format!("{}{}", cert.pem(), self.pem),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key_der: key.serialize_der(),
            spki_der: key.subject_public_key_info(),
        })
    }
}
