//! The signature algorithms the verifier accepts, as rustls-webpki
//! [`SignatureVerificationAlgorithm`]s with no heap: ECDSA on P-256 and P-384 (RustCrypto
//! `p256`, `p384`; P-384 with the default feature `p384`), RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 for 2048- to
//! 4096-bit keys (this crate's `rsa` module, on `crypto-bigint`).
//!
//! [`CERTIFICATE_ALGORITHMS`] is what a certificate's issuer may sign with: the set
//! rustls's own ring provider accepts, without Ed25519 and without RSA keys over 4096
//! bits. [`for_tls13_scheme`] maps the scheme a TLS 1.3 server chose for its
//! CertificateVerify onto one algorithm, refusing what TLS 1.3 forbids there
//! (PKCS#1 v1.5, SHA-1) and what this crate does not implement.

use core::fmt;
use core::ops::Add;

use ecdsa::elliptic_curve::generic_array::typenum::Unsigned as _;
use ecdsa::elliptic_curve::generic_array::ArrayLength;
use ecdsa::elliptic_curve::sec1::{self, FromEncodedPoint};
use ecdsa::elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize};
use ecdsa::hazmat::VerifyPrimitive;
use ecdsa::{der, EncodedPoint, PrimeCurve, SignatureSize};
use embedded_tls::SignatureScheme;
use pki_types::alg_id;
use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

use crate::rsa::{Hash, PublicKey};

/// A signature algorithm: how the signature is made, its hash, and the key's and
/// the signature's AlgorithmIdentifiers that webpki matches a certificate against.
struct Algorithm {
    scheme: Scheme,
    hash: Hash,
    public_key_alg_id: AlgorithmIdentifier,
    signature_alg_id: AlgorithmIdentifier,
}

/// How the signature is made.
#[derive(Clone, Copy)]
enum Scheme {
    /// ECDSA on a curve; the signature is DER `ECDSA-Sig-Value`.
    Ecdsa(Curve),
    /// RSA with a padding, for `rsaEncryption` keys of 2048..=4096 bits.
    Rsa(Padding),
}

/// The curves.
#[derive(Debug, Clone, Copy)]
enum Curve {
    P256,
    #[cfg(feature = "p384")]
    P384,
}

/// How an RSA signature is padded.
#[derive(Debug, Clone, Copy)]
enum Padding {
    Pkcs1,
    Pss,
}

impl Algorithm {
    /// `Some` when `signature` is this algorithm's signature over `message` by
    /// `public_key`.
    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Option<()> {
        match self.scheme {
            Scheme::Ecdsa(curve) => {
                let mut digest = [0u8; 64];
                let n = self.hash.digest(&[message], &mut digest);
                let digest = &digest[..n];
                match curve {
                    Curve::P256 => {
                        verify_prehashed::<p256::NistP256>(public_key, digest, signature)
                    }
                    #[cfg(feature = "p384")]
                    Curve::P384 => {
                        verify_prehashed::<p384::NistP384>(public_key, digest, signature)
                    }
                }
            }
            Scheme::Rsa(padding) => {
                let key = PublicKey::from_pkcs1_der(public_key).ok()?;
                match padding {
                    Padding::Pkcs1 => key.verify_pkcs1(self.hash, message, signature),
                    Padding::Pss => key.verify_pss(self.hash, message, signature),
                }
                .ok()
            }
        }
    }
}

/// Verifies the DER `signature` over the prehashed `digest` with `public_key`, an
/// uncompressed SEC1 point on curve `C` (uncompressed points only, as ring requires).
fn verify_prehashed<C>(public_key: &[u8], digest: &[u8], signature: &[u8]) -> Option<()>
where
    C: PrimeCurve + CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + VerifyPrimitive<C>,
    FieldBytesSize<C>: sec1::ModulusSize,
    SignatureSize<C>: ArrayLength<u8>,
    der::MaxSize<C>: ArrayLength<u8>,
    <FieldBytesSize<C> as Add>::Output: Add<der::MaxOverhead> + ArrayLength<u8>,
{
    if public_key.len() != 1 + 2 * FieldBytesSize::<C>::USIZE || public_key.first() != Some(&0x04) {
        return None;
    }
    let point = EncodedPoint::<C>::from_bytes(public_key).ok()?;
    let key = Option::<AffinePoint<C>>::from(AffinePoint::<C>::from_encoded_point(&point))?;
    let sig = ecdsa::Signature::<C>::from_der(signature).ok()?;
    key.verify_prehashed(&ecdsa::hazmat::bits2field::<C>(digest).ok()?, &sig)
        .ok()
}

impl SignatureVerificationAlgorithm for Algorithm {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.verify(public_key, message, signature)
            .ok_or(InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.public_key_alg_id
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }
}

impl fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme {
            Scheme::Ecdsa(curve) => write!(f, "ECDSA {:?} {:?}", curve, self.hash),
            Scheme::Rsa(padding) => write!(f, "RSA {:?} {:?}", padding, self.hash),
        }
    }
}

/// Declares each `$name` as a `pub static` ECDSA algorithm: curve, hash, the key's
/// and the signature's AlgorithmIdentifier.
macro_rules! ecdsa {
    ($($(#[$attr:meta])* $name:ident = $curve:ident, $hash:ident, $key:ident, $sig:ident;)*) => {$(
        $(#[$attr])*
        pub static $name: &dyn SignatureVerificationAlgorithm = &Algorithm {
            scheme: Scheme::Ecdsa(Curve::$curve),
            hash: Hash::$hash,
            public_key_alg_id: alg_id::$key,
            signature_alg_id: alg_id::$sig,
        };
    )*};
}

/// Declares each `$name` as a `pub static` RSA algorithm on an `rsaEncryption` key:
/// padding, hash and the signature's AlgorithmIdentifier.
macro_rules! rsa {
    ($($(#[$attr:meta])* $name:ident = $padding:ident, $hash:ident, $sig:expr;)*) => {$(
        $(#[$attr])*
        pub static $name: &dyn SignatureVerificationAlgorithm = &Algorithm {
            scheme: Scheme::Rsa(Padding::$padding),
            hash: Hash::$hash,
            public_key_alg_id: alg_id::RSA_ENCRYPTION,
            signature_alg_id: $sig,
        };
    )*};
}

ecdsa! {
    /// ECDSA, P-256 key, SHA-256.
    ECDSA_P256_SHA256 = P256, Sha256, ECDSA_P256, ECDSA_SHA256;
    /// ECDSA, P-256 key, SHA-384.
    ECDSA_P256_SHA384 = P256, Sha384, ECDSA_P256, ECDSA_SHA384;
    /// ECDSA, P-384 key, SHA-256 (feature `p384`).
    #[cfg(feature = "p384")]
    ECDSA_P384_SHA256 = P384, Sha256, ECDSA_P384, ECDSA_SHA256;
    /// ECDSA, P-384 key, SHA-384 (feature `p384`).
    #[cfg(feature = "p384")]
    ECDSA_P384_SHA384 = P384, Sha384, ECDSA_P384, ECDSA_SHA384;
}

rsa! {
    /// RSA PKCS#1 v1.5 with SHA-256, 2048..=4096-bit keys.
    RSA_PKCS1_SHA256 = Pkcs1, Sha256, alg_id::RSA_PKCS1_SHA256;
    /// RSA PKCS#1 v1.5 with SHA-384, 2048..=4096-bit keys.
    RSA_PKCS1_SHA384 = Pkcs1, Sha384, alg_id::RSA_PKCS1_SHA384;
    /// RSA PKCS#1 v1.5 with SHA-512, 2048..=4096-bit keys.
    RSA_PKCS1_SHA512 = Pkcs1, Sha512, alg_id::RSA_PKCS1_SHA512;
    /// RSA PKCS#1 v1.5 with SHA-256, signature AlgorithmIdentifier without the NULL
    /// parameters (some certificates encode it so).
    RSA_PKCS1_SHA256_ABSENT_PARAMS = Pkcs1, Sha256, AlgorithmIdentifier::from_slice(&[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
    ]);
    /// RSA PKCS#1 v1.5 with SHA-384, without the NULL parameters.
    RSA_PKCS1_SHA384_ABSENT_PARAMS = Pkcs1, Sha384, AlgorithmIdentifier::from_slice(&[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c
    ]);
    /// RSA PKCS#1 v1.5 with SHA-512, without the NULL parameters.
    RSA_PKCS1_SHA512_ABSENT_PARAMS = Pkcs1, Sha512, AlgorithmIdentifier::from_slice(&[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d
    ]);
    /// RSA-PSS (MGF1, salt = 32 bytes) with SHA-256 on an `rsaEncryption` key.
    RSA_PSS_SHA256 = Pss, Sha256, alg_id::RSA_PSS_SHA256;
    /// RSA-PSS (MGF1, salt = 48 bytes) with SHA-384 on an `rsaEncryption` key.
    RSA_PSS_SHA384 = Pss, Sha384, alg_id::RSA_PSS_SHA384;
    /// RSA-PSS (MGF1, salt = 64 bytes) with SHA-512 on an `rsaEncryption` key.
    RSA_PSS_SHA512 = Pss, Sha512, alg_id::RSA_PSS_SHA512;
}

/// The algorithms a certificate in the server's chain may be signed with.
pub static CERTIFICATE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    ECDSA_P256_SHA256,
    ECDSA_P256_SHA384,
    #[cfg(feature = "p384")]
    ECDSA_P384_SHA256,
    #[cfg(feature = "p384")]
    ECDSA_P384_SHA384,
    RSA_PSS_SHA256,
    RSA_PSS_SHA384,
    RSA_PSS_SHA512,
    RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512,
    RSA_PKCS1_SHA256_ABSENT_PARAMS,
    RSA_PKCS1_SHA384_ABSENT_PARAMS,
    RSA_PKCS1_SHA512_ABSENT_PARAMS,
];

/// The algorithm for a TLS 1.3 CertificateVerify signed with `scheme` (RFC 8446
/// §4.4.3), or `None` for a scheme TLS 1.3 forbids there (RSA PKCS#1 v1.5, SHA-1,
/// SHA-224) or that this crate does not implement (Ed25519, P-521, RSA-PSS keys).
///
/// In TLS 1.3 an ECDSA scheme names its curve, so the P-256 scheme needs a P-256 key.
pub fn for_tls13_scheme(
    scheme: SignatureScheme,
) -> Option<&'static dyn SignatureVerificationAlgorithm> {
    match scheme {
        SignatureScheme::EcdsaSecp256r1Sha256 => Some(ECDSA_P256_SHA256),
        #[cfg(feature = "p384")]
        SignatureScheme::EcdsaSecp384r1Sha384 => Some(ECDSA_P384_SHA384),
        SignatureScheme::RsaPssRsaeSha256 => Some(RSA_PSS_SHA256),
        SignatureScheme::RsaPssRsaeSha384 => Some(RSA_PSS_SHA384),
        SignatureScheme::RsaPssRsaeSha512 => Some(RSA_PSS_SHA512),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs1_is_never_a_tls13_certificate_verify_scheme() {
        for s in [
            SignatureScheme::RsaPkcs1Sha256,
            SignatureScheme::RsaPkcs1Sha384,
            SignatureScheme::RsaPkcs1Sha512,
            SignatureScheme::RsaPkcs1Sha1,
            SignatureScheme::EcdsaSha1,
            SignatureScheme::Ed25519,
            SignatureScheme::RsaPssPssSha256,
        ] {
            assert!(for_tls13_scheme(s).is_none(), "{s:?}");
        }
        assert!(for_tls13_scheme(SignatureScheme::RsaPssRsaeSha256).is_some());
    }
}
