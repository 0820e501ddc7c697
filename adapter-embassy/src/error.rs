//! The errors of an exchange over embassy-net.

use core::fmt;

use embedded_tls::TlsError;
use picoauth::exchange::ExchangeError;

/// Which step of an exchange ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Stage {
    /// The DNS lookup of the provider's host.
    Dns,
    /// The TCP connect.
    Connect,
    /// The TLS 1.3 handshake, certificate checks included.
    Handshake,
    /// One read or write of the token exchange.
    Read,
    /// The whole exchange ([`Timeouts::total`](crate::Timeouts::total)): DNS lookup to
    /// the last byte of the response.
    Exchange,
}

impl Stage {
    /// A short lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "DNS lookup",
            Self::Connect => "TCP connect",
            Self::Handshake => "TLS handshake",
            Self::Read => "read",
            Self::Exchange => "exchange deadline",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the server's certificate chain or its proof of the key was refused.
///
/// The path checks are rustls-webpki's; the names follow its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CertificateError {
    /// No path from the leaf to a trust anchor: an unknown CA, or an issuer whose name
    /// matches no certificate the server sent.
    UnknownIssuer,
    /// A certificate of the path has expired (by the caller's clock).
    Expired,
    /// A certificate of the path is not valid yet (by the caller's clock).
    NotValidYet,
    /// The leaf does not name the endpoint's host in any of its SANs.
    NotValidForName,
    /// A certificate was signed by a certificate that is not a CA (CA:FALSE, or no
    /// basicConstraints at all).
    IssuerNotCa,
    /// The leaf is a CA certificate.
    LeafIsCa,
    /// An intermediate sits deeper than an issuer's pathLenConstraint allows.
    PathTooLong,
    /// The leaf's extendedKeyUsage does not allow TLS server authentication.
    NotForServerAuth,
    /// A name constraint of an issuer excludes the leaf's names.
    NameConstraintViolation,
    /// A signature in the chain does not verify (or its key is refused, e.g. RSA below
    /// 2048 bits).
    BadSignature,
    /// A certificate is signed with an algorithm this crate does not accept.
    UnsupportedSignatureAlgorithm,
    /// The leaf's key is of a type or size this crate does not accept.
    UnsupportedKey,
    /// The server's CertificateVerify signature does not verify with the leaf's key.
    BadCertificateVerify,
    /// The CertificateVerify scheme is not one TLS 1.3 allows for the leaf's key (e.g.
    /// RSA PKCS#1 v1.5, or a P-384 scheme for a P-256 key).
    WrongSignatureScheme,
    /// The handshake messages came out of order or twice, or the server finished the
    /// handshake without a certificate and a CertificateVerify.
    UnexpectedMessage,
    /// A certificate could not be parsed.
    Malformed,
    /// Any other refusal of the path validator.
    Other,
}

impl CertificateError {
    /// A short lowercase description.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownIssuer => "unknown issuer",
            Self::Expired => "certificate expired",
            Self::NotValidYet => "certificate not valid yet",
            Self::NotValidForName => "certificate not valid for the host name",
            Self::IssuerNotCa => "issuer is not a CA",
            Self::LeafIsCa => "leaf is a CA certificate",
            Self::PathTooLong => "path length constraint violated",
            Self::NotForServerAuth => "extended key usage does not allow server authentication",
            Self::NameConstraintViolation => "name constraint violated",
            Self::BadSignature => "certificate signature does not verify",
            Self::UnsupportedSignatureAlgorithm => "unsupported certificate signature algorithm",
            Self::UnsupportedKey => "unsupported server key",
            Self::BadCertificateVerify => "CertificateVerify signature does not verify",
            Self::WrongSignatureScheme => "CertificateVerify scheme not allowed for the key",
            Self::UnexpectedMessage => "certificate messages missing or out of order",
            Self::Malformed => "malformed certificate",
            Self::Other => "certificate refused",
        }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for CertificateError {}

impl From<webpki::Error> for CertificateError {
    fn from(e: webpki::Error) -> Self {
        use webpki::Error as W;
        match e {
            W::UnknownIssuer => Self::UnknownIssuer,
            W::CertExpired { .. } => Self::Expired,
            W::CertNotValidYet { .. } => Self::NotValidYet,
            W::CertNotValidForName(_) => Self::NotValidForName,
            W::EndEntityUsedAsCa => Self::IssuerNotCa,
            W::CaUsedAsEndEntity => Self::LeafIsCa,
            W::PathLenConstraintViolated => Self::PathTooLong,
            W::RequiredEkuNotFoundContext(_) => Self::NotForServerAuth,
            W::NameConstraintViolation => Self::NameConstraintViolation,
            W::InvalidSignatureForPublicKey => Self::BadSignature,
            W::UnsupportedSignatureAlgorithmContext(_)
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Self::UnsupportedSignatureAlgorithm
            }
            W::BadDer
            | W::BadDerTime
            | W::TrailingData(_)
            | W::UnsupportedCertVersion
            | W::ExtensionValueInvalid
            | W::UnsupportedCriticalExtension
            | W::InvalidCertValidity => Self::Malformed,
            _ => Self::Other,
        }
    }
}

/// A transport failure after the handshake, as seen by the core's exchange driver.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum IoError {
    /// The TLS connection failed (an alert, a bad record, the socket closed or reset).
    Tls(TlsError),
    /// No byte came (or could be sent) within [`Timeouts::read`](crate::Timeouts::read).
    TimedOut,
    /// A transport other than the TLS connection (see [`Stream`](crate::Stream)) failed.
    Io(embedded_io_async::ErrorKind),
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tls(e) => write!(f, "TLS error: {e:?}"),
            Self::TimedOut => f.write_str("timed out"),
            Self::Io(kind) => write!(f, "I/O error: {kind:?}"),
        }
    }
}

impl core::error::Error for IoError {}

impl embedded_io_async::Error for IoError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        match self {
            Self::Tls(TlsError::Io(kind)) => *kind,
            Self::Tls(TlsError::ConnectionClosed) => embedded_io_async::ErrorKind::ConnectionReset,
            Self::Tls(_) => embedded_io_async::ErrorKind::Other,
            Self::TimedOut => embedded_io_async::ErrorKind::TimedOut,
            Self::Io(kind) => *kind,
        }
    }
}

/// Why an exchange over embassy-net failed.
///
/// A provider's refusal (`invalid_code`, a 429…) is not an error: it is an
/// [`Outcome`](picoauth::exchange::Outcome). No variant carries request or response bytes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint is `http://`: this adapter speaks only TLS.
    NotHttps,
    /// The endpoint's host is an IP address: the certificate check needs a DNS name.
    HostNotDnsName,
    /// The DNS lookup failed.
    Dns(embassy_net::dns::Error),
    /// The DNS answer held no IPv4 address.
    NoAddress,
    /// The TCP connect failed.
    Connect(embassy_net::tcp::ConnectError),
    /// The TLS handshake failed for a reason other than the server's certificate.
    Handshake(TlsError),
    /// The server's certificate chain, host name, dates or CertificateVerify were
    /// refused: nothing was sent to it.
    Certificate(CertificateError),
    /// A step ran out of time.
    Timeout(Stage),
    /// The token exchange over the TLS connection failed: transport, HTTP or JSON.
    Exchange(ExchangeError<IoError>),
}

impl Error {
    /// Whether the server's certificate was refused (unknown CA, wrong name, expired,
    /// bad signature).
    pub const fn is_certificate_error(&self) -> bool {
        matches!(self, Self::Certificate(_))
    }
}

impl From<ExchangeError<IoError>> for Error {
    fn from(e: ExchangeError<IoError>) -> Self {
        match e {
            ExchangeError::Io(IoError::TimedOut) => Self::Timeout(Stage::Read),
            other => Self::Exchange(other),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHttps => f.write_str("the token endpoint is not https"),
            Self::HostNotDnsName => {
                f.write_str("the token endpoint's host is an IP address, not a DNS name")
            }
            Self::Dns(e) => write!(f, "DNS lookup failed: {e:?}"),
            Self::NoAddress => f.write_str("DNS answer has no IPv4 address"),
            Self::Connect(e) => write!(f, "TCP connect failed: {e:?}"),
            Self::Handshake(e) => write!(f, "TLS handshake failed: {e:?}"),
            Self::Certificate(e) => write!(f, "server certificate refused: {e}"),
            Self::Timeout(stage) => write!(f, "{stage} timed out"),
            Self::Exchange(e) => write!(f, "token exchange failed: {e}"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::NotHttps => defmt::write!(f, "NotHttps"),
            Self::HostNotDnsName => defmt::write!(f, "HostNotDnsName"),
            Self::Dns(e) => defmt::write!(f, "Dns({})", e),
            Self::NoAddress => defmt::write!(f, "NoAddress"),
            Self::Connect(e) => defmt::write!(f, "Connect({})", e),
            Self::Handshake(e) => defmt::write!(f, "Handshake({})", e),
            Self::Certificate(e) => defmt::write!(f, "Certificate({})", e),
            Self::Timeout(s) => defmt::write!(f, "Timeout({})", s),
            // The core's ExchangeError carries no body bytes, so its Debug is safe to log.
            Self::Exchange(e) => defmt::write!(f, "Exchange({})", defmt::Debug2Format(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_timeouts_are_timeouts_and_certificate_errors_are_recognised() {
        let e = Error::from(ExchangeError::Io(IoError::TimedOut));
        assert!(matches!(e, Error::Timeout(Stage::Read)));
        assert!(Error::Certificate(CertificateError::UnknownIssuer).is_certificate_error());
        assert!(!Error::Handshake(TlsError::InvalidRecord).is_certificate_error());
        assert!(!Error::Timeout(Stage::Handshake).is_certificate_error());
        assert!(!Error::Exchange(ExchangeError::Response(
            picoauth::http::response::ResponseError::Truncated
        ))
        .is_certificate_error());
    }

    #[test]
    fn io_error_kinds() {
        use embedded_io_async::{Error as _, ErrorKind};
        assert_eq!(IoError::TimedOut.kind(), ErrorKind::TimedOut);
        assert_eq!(
            IoError::Tls(TlsError::ConnectionClosed).kind(),
            ErrorKind::ConnectionReset
        );
        assert_eq!(
            IoError::Tls(TlsError::Io(ErrorKind::BrokenPipe)).kind(),
            ErrorKind::BrokenPipe
        );
    }
}
