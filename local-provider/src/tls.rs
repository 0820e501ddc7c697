//! Certificates (rcgen) and the rustls server configuration.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration as TimeDuration, OffsetDateTime};

use super::{LeafValidity, TlsVersions};

/// A fresh CA and a leaf it signed.
pub(super) struct Certs {
    pub(super) ca_pem: String,
    pub(super) ca_der: Vec<u8>,
    /// Base64 of SHA-256 of the leaf's SubjectPublicKeyInfo (Chromium's SPKI pin form).
    pub(super) leaf_spki_sha256_base64: String,
    leaf_der: Vec<u8>,
    leaf_key_pkcs8: Vec<u8>,
}

/// Generates a CA (ECDSA P-256, the rcgen default key) and a leaf for `names`.
pub(super) fn generate(names: &[String], validity: LeafValidity) -> Result<Certs, rcgen::Error> {
    let now = OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "picoauth local provider test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - TimeDuration::days(2);
    ca_params.not_after = now + TimeDuration::days(365);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut leaf_params = CertificateParams::new(names.to_vec())?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "picoauth local provider");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let (not_before, not_after) = match validity {
        LeafValidity::Valid => (now - TimeDuration::days(1), now + TimeDuration::days(30)),
        LeafValidity::Expired => (now - TimeDuration::days(2), now - TimeDuration::days(1)),
        LeafValidity::NotYetValid => (now + TimeDuration::days(1), now + TimeDuration::days(30)),
    };
    leaf_params.not_before = not_before;
    leaf_params.not_after = not_after;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;

    let leaf_spki_sha256_base64 = {
        use base64::Engine as _;
        use rcgen::PublicKeyData as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(leaf_key.subject_public_key_info()))
    };
    Ok(Certs {
        leaf_spki_sha256_base64,
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        leaf_der: leaf_cert.der().to_vec(),
        leaf_key_pkcs8: leaf_key.serialize_der(),
    })
}

/// A rustls server configuration (ring provider) serving the leaf plus the CA as its chain.
pub(super) fn server_config(
    certs: &Certs,
    versions: TlsVersions,
) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match versions {
        TlsVersions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
    };
    let chain = vec![
        CertificateDer::from(certs.leaf_der.clone()),
        CertificateDer::from(certs.ca_der.clone()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.leaf_key_pkcs8.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .map_err(std::io::Error::other)?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
