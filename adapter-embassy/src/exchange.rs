//! DNS → TCP → TLS 1.3 (certificate-verified) → the core's async exchange driver.

use core::future::Future;
use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_net::{IpAddress, Stack};
use embassy_time::{with_deadline, Duration, Instant};
use embedded_io_async::{ErrorType, Read, Write};
use embedded_tls::{
    Aes128GcmSha256, CryptoProvider, CryptoRngCore, TlsConfig, TlsConnection, TlsContext, TlsError,
    TlsVerifier,
};
use picoauth::exchange::{asynch, Answer, ExchangeError};
use picoauth::provider::Endpoint;
use picoauth::request::TokenRequest;

use crate::config::{Buffers, Config, UnixClock};
use crate::error::{CertificateError, Error, IoError, Stage};
use crate::fmt::{debug, warning};
use crate::transport::{EmbassyNet, Transport};
use crate::verifier::Verifier;
use zeroize::Zeroize as _;

/// Runs one token exchange with the provider of `req`: DNS lookup of its host, a TCP
/// connection from `buffers`, a TLS 1.3 handshake that verifies the server against
/// `config` (trust anchors, host name, dates), then the core's
/// [`asynch::read_response`](picoauth::exchange::asynch::read_response) over the TLS
/// connection.
///
/// `buf` holds the HTTP request and then the whole response; the returned [`Answer`]
/// (the [`Outcome`](picoauth::exchange::Outcome) and the response: status,
/// `Retry-After`, `WWW-Authenticate`) borrows it (size it with
/// [`EXCHANGE_BUF_LEN`](crate::EXCHANGE_BUF_LEN)). `rng` seeds the TLS key exchange:
/// use a hardware RNG.
///
/// Every step has its own timeout, and [`Timeouts::total`](crate::Timeouts::total)
/// bounds the whole exchange up to the last byte of the response
/// ([`Stage::Exchange`]): a server that drips bytes or sends endless `1xx` answers
/// cannot hold the caller.
///
/// The socket is closed on every path: after an answer with TLS `close_notify` and a
/// TCP FIN, after a failure with a TCP RST, each bounded by [`Timeouts::close`](crate::Timeouts::close).
/// Dropping the future part-way (a caller's own timeout) frees the socket without
/// telling the peer.
///
/// To act on the answer while the connection is still open (an [`OnAnswer`], as the
/// refresh loop does), use [`EmbassyNet`] through [`Transport::exchange`]: this
/// function is that, with [`Ignore`].
///
/// # Errors
/// See [`Error`]. A provider's refusal is an `Ok` [`Answer`], not an error.
pub async fn exchange<'b, C: UnixClock, R: CryptoRngCore>(
    stack: Stack<'_>,
    req: &TokenRequest<'_>,
    config: &Config<'_, C>,
    buffers: Buffers<'_>,
    rng: R,
    buf: &'b mut [u8],
) -> Result<Answer<'b>, Error> {
    let mut net = EmbassyNet {
        stack,
        config,
        buffers,
        rng,
    };
    net.exchange(req, buf, &mut Ignore)
        .await
        .map(|(answer, ())| answer)
}

/// What to do with a provider's answer while its connection is still open.
///
/// Every [`Transport`] ([`EmbassyNet`] on a device) calls
/// [`on_answer`](Self::on_answer) as soon as the response is complete and parsed, before
/// `close_notify`, the TCP FIN or anything else: the refresh loop writes a rotated
/// refresh token to flash here. No timeout runs while it does.
pub trait OnAnswer {
    /// What handling the answer gives back.
    type Output;

    /// Handles the complete answer.
    #[allow(async_fn_in_trait)] // embassy tasks are single-threaded: no Send bound wanted
    async fn on_answer(&mut self, answer: &Answer<'_>) -> Self::Output;
}

/// An [`OnAnswer`] that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ignore;

impl OnAnswer for Ignore {
    type Output = ();

    async fn on_answer(&mut self, _answer: &Answer<'_>) {}
}

/// What runs over the verified TLS connection: a token exchange, or an API call.
pub(crate) trait Work {
    type Output;

    /// Runs over `io` (every read and write under its own timeout); the response must
    /// be complete by `deadline`.
    async fn run<T: Read + Write<Error = IoError>>(
        self,
        io: &mut T,
        deadline: Instant,
    ) -> Result<Self::Output, Error>;
}

/// The token exchange as [`Work`]: `req` sent, its answer read into `buf` and handed to
/// `on_answer`.
pub(crate) struct TokenWork<'r, 'q, 'b, 'a, A> {
    pub(crate) req: &'r TokenRequest<'q>,
    pub(crate) buf: &'b mut [u8],
    pub(crate) on_answer: &'a mut A,
}

impl<'b, A: OnAnswer> Work for TokenWork<'_, '_, 'b, '_, A> {
    type Output = (Answer<'b>, A::Output);

    async fn run<T: Read + Write<Error = IoError>>(
        self,
        io: &mut T,
        deadline: Instant,
    ) -> Result<Self::Output, Error> {
        request_over(io, self.req, self.buf, deadline, self.on_answer).await
    }
}

/// DNS lookup of `endpoint`'s host, a TCP connection from `buffers`, a verified TLS
/// 1.3 handshake, then `work`, then the close; all but the close and what `work` does
/// after the response under [`Timeouts::total`](crate::Timeouts::total).
pub(crate) async fn over_tls<C: UnixClock, R: CryptoRngCore, W: Work>(
    stack: Stack<'_>,
    endpoint: &Endpoint<'_>,
    config: &Config<'_, C>,
    buffers: Buffers<'_>,
    rng: R,
    work: W,
) -> Result<W::Output, Error> {
    if !endpoint.tls {
        return Err(Error::NotHttps);
    }
    let host = endpoint.host_name();
    if host.parse::<core::net::IpAddr>().is_ok() {
        return Err(Error::HostNotDnsName);
    }
    let t = config.timeouts;
    let deadline = after(t.total);

    debug!("picoauth: resolving {}", host);
    let addrs = step(
        deadline,
        t.dns,
        Stage::Dns,
        stack.dns_query(host, DnsQueryType::A),
    )
    .await?
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
        config,
        deadline,
        (&mut *tls_read, &mut *tls_write),
        rng,
        work,
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
    let _ = with_deadline(after(t.close), socket.flush()).await;
    result
}

/// `timeout` from now; a timeout too large for the clock means no limit (no overflow
/// panic on a caller's `Duration::MAX`).
pub(crate) fn after(timeout: Duration) -> Instant {
    Instant::now().checked_add(timeout).unwrap_or(Instant::MAX)
}

/// Runs `fut` within its step timeout and the exchange's deadline, whichever comes
/// first; the error names the overall deadline when that was the one hit.
async fn step<F: Future>(
    deadline: Instant,
    timeout: Duration,
    stage: Stage,
    fut: F,
) -> Result<F::Output, Error> {
    let step_end = after(timeout);
    let end = if step_end < deadline {
        step_end
    } else {
        deadline
    };
    with_deadline(end, fut).await.map_err(|_| {
        Error::Timeout(if Instant::now() >= deadline {
            Stage::Exchange
        } else {
            stage
        })
    })
}

/// Writes the request over `io`, reads the whole response by `deadline`, interprets
/// it, and hands it to `on_answer` (with no timeout), in that order.
pub(crate) async fn request_over<'b, T, A>(
    io: &mut T,
    req: &TokenRequest<'_>,
    buf: &'b mut [u8],
    deadline: Instant,
    on_answer: &mut A,
) -> Result<(Answer<'b>, A::Output), Error>
where
    T: Read + Write<Error = IoError>,
    A: OnAnswer,
{
    let reading = with_deadline(deadline, asynch::read_response(io, req, buf))
        .await
        .map_err(|_| Error::Timeout(Stage::Exchange))??;
    // One exchange per connection: the answer's keep-alive is not used.
    let answer = reading
        .into_answer()
        .map_err(ExchangeError::into_io::<IoError>)?;
    // The answer is in hand: handle it before anything else (closing included).
    let handled = on_answer.on_answer(&answer).await;
    Ok((answer, handled))
}

#[allow(clippy::too_many_arguments)] // private: one call site, each argument distinct
async fn over_socket<C: UnixClock, R: CryptoRngCore, W: Work>(
    socket: &mut TcpSocket<'_>,
    remote: (IpAddress, u16),
    host: &str,
    config: &Config<'_, C>,
    deadline: Instant,
    (tls_read, tls_write): (&mut [u8], &mut [u8]),
    rng: R,
    work: W,
) -> Result<W::Output, Error> {
    let t = config.timeouts;
    debug!("picoauth: connecting to {}:{}", remote.0, remote.1);
    step(deadline, t.connect, Stage::Connect, socket.connect(remote))
        .await?
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
    let opened = step(
        deadline,
        t.handshake,
        Stage::Handshake,
        tls.open(TlsContext::new(&tls_config, &mut crypto)),
    )
    .await?;
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
    let out = work.run(&mut io, deadline).await?;
    debug!("picoauth: answer from {}", host);
    // close_notify, so the server sees a clean end; the answer is in hand already.
    let _ = with_deadline(after(t.close), io.tls.close()).await;
    Ok(out)
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
        match with_deadline(after(self.timeout), self.tls.read(buf)).await {
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
        match with_deadline(after(self.timeout), self.tls.write(buf)).await {
            Ok(r) => r.map_err(IoError::Tls),
            Err(_) => Err(IoError::TimedOut),
        }
    }

    async fn flush(&mut self) -> Result<(), IoError> {
        match with_deadline(after(self.timeout), self.tls.flush()).await {
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
