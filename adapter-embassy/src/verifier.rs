//! The server's certificate, checked by rustls-webpki: embedded-tls's [`TlsVerifier`]
//! for this crate, replacing embedded-tls's `rustpki` (which checks signatures, dates
//! and three SAN names, but not basicConstraints, pathLen, key usage, EKU or name
//! chaining, so that any leaf under a trusted root could sign for any host).
//!
//! - `Certificate`: [`EndEntityCert::verify_for_usage`] with server-auth usage, the
//!   caller's trust anchors, the intermediates the server sent and the caller's clock,
//!   then the host against every SAN ([`EndEntityCert::verify_is_valid_for_subject_name`]).
//!   Only the leaf's subjectPublicKeyInfo (at most [`MAX_SPKI_LEN`] bytes) and the
//!   transcript hash are kept for the next message.
//! - `CertificateVerify`: the signature over the transcript, with the leaf's key and
//!   the scheme the server chose, which must be a TLS 1.3 one
//!   ([`for_tls13_scheme`](crate::signature::for_tls13_scheme)) for that key type.
//! - Messages out of order, a second `Certificate`, and a handshake that ends without
//!   both messages are refused: [`Verifier::authenticated`] is checked before any
//!   application data is sent.

use core::marker::PhantomData;
use core::time::Duration;

use embedded_tls::{CertificateEntryRef, CertificateRef, CertificateVerifyRef};
use embedded_tls::{TlsCipherSuite, TlsError, TlsVerifier};
use pki_types::{
    CertificateDer, ServerName, SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
};
use sha2::Digest;
use webpki::{EndEntityCert, KeyUsage};

use crate::config::UnixClock;
use crate::der::{self, tag, Reader};
use crate::error::CertificateError;
use crate::signature::{for_tls13_scheme, CERTIFICATE_ALGORITHMS};

/// The largest leaf subjectPublicKeyInfo kept between `Certificate` and
/// `CertificateVerify`: an RSA-4096 key with a 33-bit exponent is 550 bytes.
pub const MAX_SPKI_LEN: usize = 560;

/// The most certificates the server may send (embedded-tls's own limit is 16).
const MAX_INTERMEDIATES: usize = 15;

/// The TLS 1.3 server CertificateVerify context string (RFC 8446 §4.4.3).
const SERVER_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\x00";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingCertificate,
    AwaitingCertificateVerify,
    Authenticated,
    Refused(CertificateError),
}

/// Checks the server's chain and CertificateVerify for one handshake.
pub(crate) struct Verifier<'a, CS: TlsCipherSuite, C: UnixClock> {
    anchors: &'a [TrustAnchor<'a>],
    host: &'a str,
    state: State,
    transcript: Option<CS::Hash>,
    spki: heapless::Vec<u8, MAX_SPKI_LEN>,
    clock: PhantomData<fn() -> C>,
}

impl<'a, CS: TlsCipherSuite, C: UnixClock> Verifier<'a, CS, C> {
    /// A verifier for `host` trusting `anchors`.
    pub(crate) fn new(anchors: &'a [TrustAnchor<'a>], host: &'a str) -> Self {
        Self {
            anchors,
            host,
            state: State::AwaitingCertificate,
            transcript: None,
            spki: heapless::Vec::new(),
            clock: PhantomData,
        }
    }

    /// Whether the server proved it holds the key of a certificate chain that is valid
    /// for the host (both `Certificate` and `CertificateVerify` checked).
    pub(crate) fn authenticated(&self) -> bool {
        self.state == State::Authenticated
    }

    /// Why the server was refused, if it was.
    pub(crate) fn refusal(&self) -> Option<CertificateError> {
        match self.state {
            State::Refused(e) => Some(e),
            _ => None,
        }
    }

    fn refuse(&mut self, e: CertificateError) -> TlsError {
        self.state = State::Refused(e);
        self.transcript = None;
        self.spki.clear();
        match e {
            CertificateError::BadCertificateVerify | CertificateError::WrongSignatureScheme => {
                TlsError::InvalidSignature
            }
            _ => TlsError::InvalidCertificate,
        }
    }

    fn check_chain(&mut self, cert: &CertificateRef<'_>) -> Result<(), CertificateError> {
        let mut entries = cert.entries.iter().map(|e| match e {
            CertificateEntryRef::X509(der) => Ok(CertificateDer::from(*der)),
            CertificateEntryRef::RawPublicKey(_) => Err(CertificateError::Malformed),
        });
        let leaf = entries.next().ok_or(CertificateError::Malformed)??;
        let mut intermediates = heapless::Vec::<CertificateDer<'_>, MAX_INTERMEDIATES>::new();
        for c in entries {
            intermediates
                .push(c?)
                .map_err(|_| CertificateError::Malformed)?;
        }
        verify_chain(self.anchors, &leaf, &intermediates, self.host, C::now())?;
        let spki = leaf_spki(&leaf).map_err(|_| CertificateError::Malformed)?;
        check_leaf_key(spki)?;
        self.spki.clear();
        self.spki
            .extend_from_slice(spki)
            .map_err(|_| CertificateError::UnsupportedKey)?;
        Ok(())
    }
}

/// The path checks alone, as the verifier runs them on the server's `Certificate`:
/// rustls-webpki's [`EndEntityCert::verify_for_usage`] (server auth, `anchors`,
/// `intermediates`, the time `now_unix`) with [`CERTIFICATE_ALGORITHMS`], then the
/// leaf's SANs against `host`.
///
/// Public for host-side tests (the differential test runs it next to rustls's own
/// verifier); the handshake also checks that the leaf's key is one this crate can use
/// for CertificateVerify.
///
/// # Errors
/// Why the chain is refused.
pub fn verify_chain(
    anchors: &[TrustAnchor<'_>],
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    host: &str,
    now_unix: u64,
) -> Result<(), CertificateError> {
    let ee = EndEntityCert::try_from(leaf).map_err(CertificateError::from)?;
    let now = UnixTime::since_unix_epoch(Duration::from_secs(now_unix));
    ee.verify_for_usage(
        CERTIFICATE_ALGORITHMS,
        anchors,
        intermediates,
        now,
        KeyUsage::server_auth(),
        None,
        None,
    )?;
    let name = ServerName::try_from(host).map_err(|_| CertificateError::NotValidForName)?;
    ee.verify_is_valid_for_subject_name(&name)?;
    Ok(())
}

/// Whether the leaf's key is one a TLS 1.3 CertificateVerify can be checked with:
/// P-256, P-384 (uncompressed points), or RSA of 2048..=4096 bits. Checked on the
/// `Certificate` message, so that a leaf with a weak key is refused before the server
/// signs anything.
fn check_leaf_key(spki: &[u8]) -> Result<(), CertificateError> {
    let mut r = Reader::new(spki);
    let alg_id = r
        .read(tag::SEQUENCE)
        .map_err(|_| CertificateError::Malformed)?;
    let key = r
        .read_last(tag::BIT_STRING)
        .and_then(der::bit_string_bytes)
        .map_err(|_| CertificateError::Malformed)?;
    let ok = if alg_id == pki_types::alg_id::RSA_ENCRYPTION.as_ref() {
        crate::rsa::PublicKey::from_pkcs1_der(key).is_ok()
    } else if alg_id == pki_types::alg_id::ECDSA_P256.as_ref() {
        key.len() == 65 && key[0] == 0x04
    } else if alg_id == pki_types::alg_id::ECDSA_P384.as_ref() {
        key.len() == 97 && key[0] == 0x04
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(CertificateError::UnsupportedKey)
    }
}

impl<CS: TlsCipherSuite, C: UnixClock> TlsVerifier<CS> for Verifier<'_, CS, C> {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
        // The verifier was built for the endpoint's host; the SNI must be that host.
        if hostname == self.host {
            Ok(())
        } else {
            Err(self.refuse(CertificateError::NotValidForName))
        }
    }

    fn verify_certificate(
        &mut self,
        transcript: &CS::Hash,
        cert: CertificateRef<'_>,
    ) -> Result<(), TlsError> {
        if self.state != State::AwaitingCertificate {
            return Err(self.refuse(CertificateError::UnexpectedMessage));
        }
        match self.check_chain(&cert) {
            Ok(()) => {
                self.transcript = Some(transcript.clone());
                self.state = State::AwaitingCertificateVerify;
                Ok(())
            }
            Err(e) => Err(self.refuse(e)),
        }
    }

    fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
        let (State::AwaitingCertificateVerify, Some(transcript)) =
            (self.state, self.transcript.take())
        else {
            return Err(self.refuse(CertificateError::UnexpectedMessage));
        };
        let Some(alg) = for_tls13_scheme(verify.signature_scheme) else {
            return Err(self.refuse(CertificateError::WrongSignatureScheme));
        };
        // 64 spaces, the context string, the transcript hash (RFC 8446 §4.4.3).
        let mut msg = [0x20u8; 64 + SERVER_CONTEXT.len() + 64];
        let hash = transcript.finalize();
        let end = 64 + SERVER_CONTEXT.len() + hash.len();
        let Some(tail) = msg.get_mut(64..end) else {
            return Err(self.refuse(CertificateError::UnsupportedKey));
        };
        tail[..SERVER_CONTEXT.len()].copy_from_slice(SERVER_CONTEXT);
        tail[SERVER_CONTEXT.len()..].copy_from_slice(&hash);
        match verify_with_spki(alg, &self.spki, &msg[..end], verify.signature) {
            Ok(()) => {
                self.state = State::Authenticated;
                Ok(())
            }
            Err(e) => Err(self.refuse(e)),
        }
    }
}

/// Verifies `signature` over `msg` with the key in `spki` (the contents of a
/// SubjectPublicKeyInfo SEQUENCE), which must be of `alg`'s key type: what webpki's
/// `EndEntityCert::verify_signature` does, on the kept SPKI instead of the whole leaf.
pub(crate) fn verify_with_spki(
    alg: &dyn SignatureVerificationAlgorithm,
    spki: &[u8],
    msg: &[u8],
    signature: &[u8],
) -> Result<(), CertificateError> {
    let mut r = Reader::new(spki);
    let alg_id = r
        .read(tag::SEQUENCE)
        .map_err(|_| CertificateError::Malformed)?;
    let key = r
        .read_last(tag::BIT_STRING)
        .and_then(der::bit_string_bytes)
        .map_err(|_| CertificateError::Malformed)?;
    if alg_id != alg.public_key_alg_id().as_ref() {
        return Err(CertificateError::WrongSignatureScheme);
    }
    alg.verify_signature(key, msg, signature)
        .map_err(|_| CertificateError::BadCertificateVerify)
}

/// The contents of the leaf's subjectPublicKeyInfo SEQUENCE (webpki has parsed the
/// certificate already; this walks the same bytes to the seventh field of the TBS).
fn leaf_spki(leaf: &[u8]) -> Result<&[u8], der::BadDer> {
    let cert = Reader::new(leaf).read_last(tag::SEQUENCE)?;
    let mut tbs = Reader::new(Reader::new(cert).read(tag::SEQUENCE)?);
    if tbs.peek_tag() == Some(tag::CONTEXT_0) {
        tbs.read(tag::CONTEXT_0)?;
    }
    tbs.read(tag::INTEGER)?; // serialNumber
    tbs.read(tag::SEQUENCE)?; // signature
    tbs.read(tag::SEQUENCE)?; // issuer
    tbs.read(tag::SEQUENCE)?; // validity
    tbs.read(tag::SEQUENCE)?; // subject
    tbs.read(tag::SEQUENCE) // subjectPublicKeyInfo
}
