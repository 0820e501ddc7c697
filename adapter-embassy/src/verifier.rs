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
//!   ([`for_tls13_scheme`](crate::signature::for_tls13_scheme())) for that key type.
//! - Messages out of order, a second `Certificate`, and a handshake that ends without
//!   both messages are refused: the adapter checks that the server authenticated before any
//!   application data is sent.

use core::marker::PhantomData;
use core::time::Duration;

use embedded_tls::{CertificateEntryRef, CertificateRef, CertificateVerifyRef};
use embedded_tls::{SignatureScheme, TlsCipherSuite, TlsError, TlsVerifier};
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

/// The algorithm identifier and the key bytes of a SubjectPublicKeyInfo's contents.
fn spki_parts(spki: &[u8]) -> Result<(&[u8], &[u8]), CertificateError> {
    let mut r = Reader::new(spki);
    let alg_id = r
        .read(tag::SEQUENCE)
        .map_err(|_| CertificateError::Malformed)?;
    let key = r
        .read_last(tag::BIT_STRING)
        .and_then(der::bit_string_bytes)
        .map_err(|_| CertificateError::Malformed)?;
    Ok((alg_id, key))
}

/// Whether the leaf's key is one a TLS 1.3 CertificateVerify can be checked with:
/// P-256, P-384 (feature `p384`; uncompressed points), or RSA of 2048..=4096 bits. Checked on the
/// `Certificate` message, so that a leaf with a weak key is refused before the server
/// signs anything.
fn check_leaf_key(spki: &[u8]) -> Result<(), CertificateError> {
    let (alg_id, key) = spki_parts(spki)?;
    let ok = if alg_id == pki_types::alg_id::RSA_ENCRYPTION.as_ref() {
        crate::rsa::PublicKey::from_pkcs1_der(key).is_ok()
    } else if alg_id == pki_types::alg_id::ECDSA_P256.as_ref() {
        key.len() == 65 && key[0] == 0x04
    } else if alg_id == pki_types::alg_id::ECDSA_P384.as_ref() {
        cfg!(feature = "p384") && key.len() == 97 && key[0] == 0x04
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

/// The check of a TLS 1.3 server CertificateVerify, as the verifier runs it: `signature`
/// over `content` (64 spaces, the context string and the transcript hash) with the key
/// of the DER certificate `leaf` and the scheme the server chose.
///
/// Public for measurements and host tests; the handshake runs the same steps on the
/// key it kept from the `Certificate` message.
///
/// # Errors
/// The leaf is malformed or its key unsupported, the scheme is not a TLS 1.3 one for
/// that key, or the signature does not verify.
pub fn verify_certificate_verify(
    leaf: &[u8],
    scheme: SignatureScheme,
    content: &[u8],
    signature: &[u8],
) -> Result<(), CertificateError> {
    let spki = leaf_spki(leaf).map_err(|_| CertificateError::Malformed)?;
    check_leaf_key(spki)?;
    let alg = for_tls13_scheme(scheme).ok_or(CertificateError::WrongSignatureScheme)?;
    verify_with_spki(alg, spki, content, signature)
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
    let (alg_id, key) = spki_parts(spki)?;
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

#[cfg(test)]
mod tests {
    extern crate std;

    use embedded_tls::Aes128GcmSha256;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
    use sha2::Sha256;

    use super::*;

    struct Clock;
    impl UnixClock for Clock {
        fn now() -> u64 {
            1_800_000_000
        }
    }

    type V<'a> = Verifier<'a, Aes128GcmSha256, Clock>;

    /// A verifier as it stands after an accepted `Certificate` whose leaf has a fresh
    /// P-256 key; the key pair is returned to sign a CertificateVerify.
    fn after_certificate() -> (V<'static>, EcdsaKeyPair) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let alg = pki_types::alg_id::ECDSA_P256;
        let mut spki = std::vec![0x30, u8::try_from(alg.as_ref().len()).unwrap()];
        spki.extend_from_slice(alg.as_ref());
        spki.extend_from_slice(&[0x03, 66, 0x00]);
        spki.extend_from_slice(pair.public_key().as_ref());
        assert_eq!(check_leaf_key(&spki), Ok(()));
        let mut v = V::new(&[], "auth.test");
        v.state = State::AwaitingCertificateVerify;
        v.transcript = Some(Sha256::new());
        v.spki.extend_from_slice(&spki).unwrap();
        (v, pair)
    }

    /// Feeds `v` a Certificate message that holds no certificate, checks that it is
    /// refused, and returns the reason `v` recorded.
    fn refusal_of_empty_certificate(v: &mut V<'_>) -> Option<CertificateError> {
        let r =
            TlsVerifier::verify_certificate(v, &Sha256::new(), CertificateRef::with_context(&[]));
        assert!(r.is_err());
        v.refusal()
    }

    fn signed_content() -> std::vec::Vec<u8> {
        let mut m = std::vec![0x20u8; 64];
        m.extend_from_slice(SERVER_CONTEXT);
        m.extend_from_slice(&Sha256::digest(b""));
        m
    }

    #[test]
    fn a_certificate_verify_from_the_leaf_key_authenticates_the_server() {
        let (mut v, pair) = after_certificate();
        let sig = pair.sign(&SystemRandom::new(), &signed_content()).unwrap();
        let cv = CertificateVerifyRef {
            signature_scheme: SignatureScheme::EcdsaSecp256r1Sha256,
            signature: sig.as_ref(),
        };
        assert!(TlsVerifier::verify_signature(&mut v, cv).is_ok());
        assert!(v.authenticated());
        // A second Certificate after that is refused.
        assert_eq!(
            refusal_of_empty_certificate(&mut v),
            Some(CertificateError::UnexpectedMessage)
        );
        assert!(!v.authenticated());
    }

    #[test]
    fn a_certificate_verify_over_other_bytes_or_with_another_scheme_is_refused() {
        let (mut v, pair) = after_certificate();
        let sig = pair.sign(&SystemRandom::new(), b"something else").unwrap();
        let cv = CertificateVerifyRef {
            signature_scheme: SignatureScheme::EcdsaSecp256r1Sha256,
            signature: sig.as_ref(),
        };
        assert_eq!(
            TlsVerifier::verify_signature(&mut v, cv).map_err(|_| ()),
            Err(())
        );
        assert_eq!(v.refusal(), Some(CertificateError::BadCertificateVerify));

        // The P-384 scheme for a P-256 key, and PKCS#1 v1.5 (forbidden in TLS 1.3).
        for (scheme, why) in [
            (
                SignatureScheme::EcdsaSecp384r1Sha384,
                CertificateError::WrongSignatureScheme,
            ),
            (
                SignatureScheme::RsaPkcs1Sha256,
                CertificateError::WrongSignatureScheme,
            ),
            (
                SignatureScheme::Ed25519,
                CertificateError::WrongSignatureScheme,
            ),
        ] {
            let (mut v, pair) = after_certificate();
            let sig = pair.sign(&SystemRandom::new(), &signed_content()).unwrap();
            let cv = CertificateVerifyRef {
                signature_scheme: scheme,
                signature: sig.as_ref(),
            };
            assert!(
                TlsVerifier::verify_signature(&mut v, cv).is_err(),
                "{scheme:?}"
            );
            assert_eq!(v.refusal(), Some(why), "{scheme:?}");
            assert!(!v.authenticated());
        }
    }

    #[test]
    fn certificate_verify_before_any_certificate_is_refused() {
        let mut v = V::new(&[], "auth.test");
        assert!(!v.authenticated());
        let cv = CertificateVerifyRef {
            signature_scheme: SignatureScheme::EcdsaSecp256r1Sha256,
            signature: &[0x30, 0x00],
        };
        assert!(TlsVerifier::verify_signature(&mut v, cv).is_err());
        assert_eq!(v.refusal(), Some(CertificateError::UnexpectedMessage));
    }

    #[test]
    fn an_empty_certificate_message_and_a_different_sni_are_refused() {
        let mut v = V::new(&[], "auth.test");
        assert_eq!(
            refusal_of_empty_certificate(&mut v),
            Some(CertificateError::Malformed)
        );

        let mut v = V::new(&[], "auth.test");
        assert!(TlsVerifier::set_hostname_verification(&mut v, "auth.test").is_ok());
        assert!(TlsVerifier::set_hostname_verification(&mut v, "evil.test").is_err());
    }

    #[test]
    fn leaf_keys_outside_the_supported_set_are_refused() {
        // An Ed25519 SPKI and a compressed P-256 point.
        let ed = [
            0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9,
            10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
            32,
        ];
        assert_eq!(check_leaf_key(&ed), Err(CertificateError::UnsupportedKey));
        let alg = pki_types::alg_id::ECDSA_P256;
        let mut spki = std::vec![0x30, u8::try_from(alg.as_ref().len()).unwrap()];
        spki.extend_from_slice(alg.as_ref());
        spki.extend_from_slice(&[0x03, 34, 0x00, 0x02]);
        spki.extend_from_slice(&[7u8; 32]);
        assert_eq!(check_leaf_key(&spki), Err(CertificateError::UnsupportedKey));
        assert_eq!(check_leaf_key(&[0x30]), Err(CertificateError::Malformed));
    }
}
