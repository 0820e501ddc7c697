//! DNS → TCP → TLS 1.3 (certificate-verified) → the core's async exchange driver.

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_net::{IpAddress, Stack};
use embassy_time::{with_timeout, Duration};
use embedded_io_async::{ErrorType, Read, Write};
use embedded_tls::{
    Aes128GcmSha256, CryptoProvider, CryptoRngCore, TlsConfig, TlsConnection, TlsContext, TlsError,
    TlsVerifier,
};
use picoauth::exchange::{asynch, Outcome};
use picoauth::request::TokenRequest;

use crate::config::{Buffers, Config, UnixClock};
use crate::error::{CertificateError, Error, IoError, Stage};
use crate::fmt::{debug, warning};
use crate::verifier::Verifier;
use zeroize::Zeroize as _;

/// Runs one token exchange with the provider of `req`: DNS lookup of its host, a TCP
/// connection from `buffers`, a TLS 1.3 handshake that verifies the server against
/// `config` (trust anchors, host name, dates), then the core's
/// [`asynch::exchange`](picoauth::exchange::asynch::exchange) over the TLS connection.
///
/// `buf` holds the HTTP request and then the whole response; the returned [`Outcome`]
/// borrows it (size it with [`EXCHANGE_BUF_LEN`](crate::EXCHANGE_BUF_LEN)). `rng` seeds
/// the TLS key exchange: use a hardware RNG.
///
/// The socket is closed on every path: after an answer with TLS `close_notify` and a
/// TCP FIN, after a failure with a TCP RST, each bounded by [`Timeouts::close`](crate::Timeouts::close).
/// Dropping the future part-way (a caller's own timeout) frees the socket without
/// telling the peer.
///
/// # Errors
/// See [`Error`]. A provider's refusal is an `Ok` [`Outcome`], not an error.
pub async fn exchange<'b, C: UnixClock, R: CryptoRngCore>(
    stack: Stack<'_>,
    req: &TokenRequest<'_>,
    config: &Config<'_, C>,
    buffers: Buffers<'_>,
    rng: R,
    buf: &'b mut [u8],
) -> Result<Outcome<'b>, Error> {
    let endpoint = req.provider().endpoint;
    if !endpoint.tls {
        return Err(Error::NotHttps);
    }
    let host = endpoint.host_name();
    if host.parse::<core::net::IpAddr>().is_ok() {
        return Err(Error::HostNotDnsName);
    }
    let t = config.timeouts;

    debug!("picoauth: resolving {}", host);
    let addrs = with_timeout(t.dns, stack.dns_query(host, DnsQueryType::A))
        .await
        .map_err(|_| Error::Timeout(Stage::Dns))?
        .map_err(Error::Dns)?;
    let addr = *addrs.first().ok_or(Error::NoAddress)?;

    let Buffers {
        tcp_rx,
        tcp_tx,
        tls_read,
        tls_write,
    } = buffers;
    let mut socket = TcpSocket::new(stack, tcp_rx, tcp_tx);
    let result = over_socket(
        &mut socket,
        (addr, endpoint.port),
        host,
        req,
        config,
        (&mut *tls_read, &mut *tls_write),
        rng,
        buf,
    )
    .await;
    // The TLS buffers held the request in plaintext (client credentials, code,
    // verifier, refresh token) and the decrypted response (tokens): wipe them.
    tls_read.zeroize();
    tls_write.zeroize();
    match &result {
        Ok(_) => socket.close(),
        Err(_e) => {
            warning!("picoauth: exchange with {} failed: {}", host, _e);
            socket.abort();
        }
    }
    // Lets the FIN or RST go out; the answer (or error) stands whatever happens here.
    let _ = with_timeout(t.close, socket.flush()).await;
    result
}

#[allow(clippy::too_many_arguments)] // private: one call site, each argument distinct
async fn over_socket<'b, C: UnixClock, R: CryptoRngCore>(
    socket: &mut TcpSocket<'_>,
    remote: (IpAddress, u16),
    host: &str,
    req: &TokenRequest<'_>,
    config: &Config<'_, C>,
    (tls_read, tls_write): (&mut [u8], &mut [u8]),
    rng: R,
    buf: &'b mut [u8],
) -> Result<Outcome<'b>, Error> {
    let t = config.timeouts;
    debug!("picoauth: connecting to {}:{}", remote.0, remote.1);
    with_timeout(t.connect, socket.connect(remote))
        .await
        .map_err(|_| Error::Timeout(Stage::Connect))?
        .map_err(Error::Connect)?;

    // The RSA-PSS schemes next to ECDSA: slack.com and api.pinterest.com have RSA keys.
    let mut tls_config = TlsConfig::new()
        .with_server_name(host)
        .enable_rsa_signatures();
    if let Some(mfl) = config.max_fragment_length {
        tls_config = tls_config.with_max_fragment_length(mfl);
    }
    let mut crypto = Crypto::<R, C> {
        rng,
        verifier: Verifier::new(config.trust_anchors, host),
    };
    let mut tls: TlsConnection<'_, _, Aes128GcmSha256> =
        TlsConnection::new(&mut *socket, tls_read, tls_write);
    let opened = with_timeout(
        t.handshake,
        tls.open(TlsContext::new(&tls_config, &mut crypto)),
    )
    .await
    .map_err(|_| Error::Timeout(Stage::Handshake))?;
    if let Some(reason) = crypto.verifier.refusal() {
        return Err(Error::Certificate(reason));
    }
    opened.map_err(Error::Handshake)?;
    // embedded-tls accepts a Finished with no Certificate before it: without both
    // messages checked, the server proved nothing, and gets nothing.
    if !crypto.verifier.authenticated() {
        return Err(Error::Certificate(CertificateError::UnexpectedMessage));
    }
    debug!("picoauth: TLS 1.3 session with {} verified", host);

    let mut io = Timed {
        tls,
        timeout: t.read,
    };
    let (outcome, _keep_alive) = asynch::exchange(&mut io, req, buf).await?;
    debug!("picoauth: HTTP {} from {}", outcome.status(), host);
    // close_notify, so the server sees a clean end; the answer is in hand already.
    let _ = with_timeout(t.close, io.tls.close()).await;
    Ok(outcome)
}

/// The TLS connection with a timeout on every read, write and flush.
struct Timed<'a, S: Read + Write> {
    tls: TlsConnection<'a, S, Aes128GcmSha256>,
    timeout: Duration,
}

impl<S: Read + Write> ErrorType for Timed<'_, S> {
    type Error = IoError;
}

impl<S: Read + Write> Read for Timed<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        match with_timeout(self.timeout, self.tls.read(buf)).await {
            Ok(Ok(n)) => Ok(n),
            // A peer that closes after the response is the end of the stream, which the
            // core's reader judges (complete or truncated).
            Ok(Err(TlsError::ConnectionClosed)) => Ok(0),
            Ok(Err(e)) => Err(IoError::Tls(e)),
            Err(_) => Err(IoError::TimedOut),
        }
    }
}

impl<S: Read + Write> Write for Timed<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        match with_timeout(self.timeout, self.tls.write(buf)).await {
            Ok(r) => r.map_err(IoError::Tls),
            Err(_) => Err(IoError::TimedOut),
        }
    }

    async fn flush(&mut self) -> Result<(), IoError> {
        match with_timeout(self.timeout, self.tls.flush()).await {
            Ok(r) => r.map_err(IoError::Tls),
            Err(_) => Err(IoError::TimedOut),
        }
    }
}

/// embedded-tls's crypto provider with this crate's certificate verifier.
struct Crypto<'a, R, C: UnixClock> {
    rng: R,
    verifier: Verifier<'a, Aes128GcmSha256, C>,
}

impl<R: CryptoRngCore, C: UnixClock> CryptoProvider for Crypto<'_, R, C> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate, so nothing is ever signed.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}
