//! Certificates (rcgen) and the rustls server configuration.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration as TimeDuration, OffsetDateTime};

use super::pki::{valid_window, TestCa};
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
    let ca = TestCa::new("picoauth local provider test CA")?;
    let (not_before, not_after) = match validity {
        LeafValidity::Valid => valid_window(now),
        LeafValidity::Expired => (now - TimeDuration::days(2), now - TimeDuration::days(1)),
        LeafValidity::NotYetValid => (now + TimeDuration::days(1), now + TimeDuration::days(30)),
    };
    let leaf = ca.leaf_valid(
        "picoauth local provider",
        names.to_vec(),
        not_before,
        not_after,
    )?;
    let leaf_spki_sha256_base64 = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&leaf.spki_der))
    };
    Ok(Certs {
        leaf_spki_sha256_base64,
        ca_pem: ca.pem,
        ca_der: ca.der,
        leaf_der: leaf.der,
        leaf_key_pkcs8: leaf.key_der,
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
