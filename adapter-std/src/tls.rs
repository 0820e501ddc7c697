//! TLS client configuration: webpki-roots bundled, optional extra CAs, and
//! certificate checks that cannot be switched off (there is no option, feature or
//! `danger_…` call that skips them; tests trust their own CA with
//! [`Trust::add_pem`] or [`Trust::only_pem`] instead).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// Why a trust configuration could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The PEM text held no certificate, or a malformed one.
    BadPem,
    /// rustls refused a certificate or the configuration.
    Rustls(rustls::Error),
    /// The operating system's trust store was asked for, but this build has no
    /// feature `native-roots`.
    NativeRootsUnavailable,
    /// The operating system's trust store gave no usable certificate.
    NoNativeRoots,
}

impl core::fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadPem => f.write_str("no usable certificate in PEM input"),
            Self::Rustls(e) => write!(f, "TLS configuration: {e}"),
            Self::NativeRootsUnavailable => {
                f.write_str("the OS trust store needs picoauth-std's feature native-roots")
            }
            Self::NoNativeRoots => f.write_str("the OS trust store holds no usable certificate"),
        }
    }
}

impl core::error::Error for TlsConfigError {}

/// Which certificates the client trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Leave out the Mozilla roots bundled with webpki-roots. `false` (the default, for
    /// public providers) trusts them; `true` trusts only [`extra_cas`](Self::extra_cas).
    pub no_public_roots: bool,
    /// Extra CA certificates (DER), e.g. a private endpoint's or the local provider's.
    pub extra_cas: Vec<CertificateDer<'static>>,
    /// Also trust the operating system's store (feature `native-roots`, through
    /// rustls-native-certs: `/etc/ssl/certs` and friends, `SSL_CERT_FILE` /
    /// `SSL_CERT_DIR` honoured), read each time a client is built.
    pub native_roots: bool,
}

impl Trust {
    /// The bundled public roots only.
    pub fn public() -> Self {
        Self::default()
    }

    /// Only the CAs in `pem` (no public roots): for a private endpoint or a test server.
    ///
    /// # Errors
    /// [`TlsConfigError::BadPem`] when `pem` holds no certificate.
    pub fn only_pem(pem: &[u8]) -> Result<Self, TlsConfigError> {
        let mut t = Self {
            no_public_roots: true,
            extra_cas: Vec::new(),
            native_roots: false,
        };
        t.add_pem(pem)?;
        Ok(t)
    }

    /// Adds the CA certificates in `pem`.
    ///
    /// # Errors
    /// [`TlsConfigError::BadPem`] when `pem` holds no certificate.
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<(), TlsConfigError> {
        let before = self.extra_cas.len();
        for c in CertificateDer::pem_slice_iter(pem) {
            self.extra_cas.push(c.map_err(|_| TlsConfigError::BadPem)?);
        }
        if self.extra_cas.len() == before {
            return Err(TlsConfigError::BadPem);
        }
        Ok(())
    }

    /// A rustls client configuration (TLS 1.2 and 1.3, ring) that verifies
    /// certificates against these roots.
    ///
    /// # Errors
    /// [`TlsConfigError::Rustls`] when a CA certificate is refused.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsConfigError> {
        let mut roots = RootCertStore::empty();
        if !self.no_public_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            add_native_roots(&mut roots)?;
        }
        for ca in &self.extra_cas {
            roots.add(ca.clone()).map_err(TlsConfigError::Rustls)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TlsConfigError::Rustls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

#[cfg(feature = "native-roots")]
fn add_native_roots(roots: &mut RootCertStore) -> Result<(), TlsConfigError> {
    // Certificates the store holds but cannot be parsed are skipped, as rustls's own
    // examples do; an empty result is an error, never a silent "trust nothing more".
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(TlsConfigError::NoNativeRoots);
    }
    Ok(())
}

#[cfg(not(feature = "native-roots"))]
fn add_native_roots(_roots: &mut RootCertStore) -> Result<(), TlsConfigError> {
    Err(TlsConfigError::NativeRootsUnavailable)
}
