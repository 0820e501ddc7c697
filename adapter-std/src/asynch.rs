//! The async client: tokio + tokio-rustls, driven by the core's async exchange
//! driver through `embedded-io-async` adapters.

use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::time::Instant;

use embedded_io_adapters::tokio_1::FromTokio;
use picoauth::exchange::{self, Answer, ExchangeError, Outcome};
use picoauth::provider::Endpoint;
use picoauth::request::TokenRequest;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::client::{map_sent_error, ClientBuilder};
use crate::owned::OwnedOutcome;
use crate::pool::IdlePool;
use crate::proxy::Proxy;
use crate::tls::TlsConfigError;
use crate::Error;

/// An async token-exchange client (tokio). Shareable (`&Client`) across tasks; keeps
/// a few idle connections per host and port for reuse
/// ([`ClientBuilder::max_idle_per_host`]).
pub struct Client {
    tls: TlsConnector,
    connect_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
    proxy: Option<Proxy>,
    pool: IdlePool<Stream>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("asynch::Client")
            .field("connect_timeout", &self.connect_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Builds an async client with these settings (the retry policy is not used).
    ///
    /// # Errors
    /// When the TLS configuration is refused.
    pub fn build_async(self) -> Result<Client, TlsConfigError> {
        let proxy = self.proxy_setting().cloned();
        let (trust, connect_timeout, total_timeout, max_response_bytes, max_idle) =
            self.into_parts();
        Ok(Client {
            tls: TlsConnector::from(trust.client_config()?),
            connect_timeout,
            total_timeout,
            max_response_bytes,
            proxy,
            pool: IdlePool::new(max_idle),
        })
    }
}

impl Client {
    /// Exchanges `req` at its provider's token endpoint.
    ///
    /// # Errors
    /// Transport, TLS, timeout or malformed-response failures; a provider's refusal is
    /// an `Ok` outcome.
    pub async fn exchange(&self, req: &TokenRequest<'_>) -> Result<OwnedOutcome, Error> {
        self.exchange_full(req, OwnedOutcome::from_answer).await
    }

    /// Exchanges `req` and hands the borrowed outcome to `f`.
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange).
    pub async fn exchange_with<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Outcome<'_>) -> R,
    ) -> Result<R, Error> {
        self.exchange_full(req, |a| f(&a.outcome)).await
    }

    /// As [`exchange_with`](Self::exchange_with), and `f` gets the whole [`Answer`]
    /// (the response's head fields beside the outcome); the whole exchange is
    /// bounded by the total timeout.
    async fn exchange_full<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Answer<'_>) -> R,
    ) -> Result<R, Error> {
        let trace = crate::trace::Exchange::begin(req);
        let r = self
            .exchange_traced(req, |a| {
                trace.outcome(&a.outcome);
                f(a)
            })
            .await;
        if let Err(e) = &r {
            trace.failed(e);
        }
        r
    }

    async fn exchange_traced<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Answer<'_>) -> R,
    ) -> Result<R, Error> {
        let deadline = crate::client::deadline_after(Instant::now(), self.total_timeout);
        let sent = AtomicBool::new(false);
        match tokio::time::timeout_at(deadline.into(), self.exchange_inner(req, &sent, f)).await {
            Ok(r) => r,
            Err(_) if sent.load(Ordering::Relaxed) => {
                Err(Error::OutcomeUnknown(Box::new(Error::Timeout)))
            }
            Err(_) => Err(Error::Timeout),
        }
    }

    /// One exchange; `f` gets the answer.
    /// `sent` is set once a byte of the request may have left.
    ///
    /// The request is sent once: a pooled connection the server has closed meanwhile is
    /// replaced before the request is written, and a connection that fails after it is
    /// never retried (the provider may have processed a single-use code).
    async fn exchange_inner<R>(
        &self,
        req: &TokenRequest<'_>,
        sent: &AtomicBool,
        f: impl FnOnce(&Answer<'_>) -> R,
    ) -> Result<R, Error> {
        let ep = req.provider().endpoint;
        let key = (ep.host_name().to_owned(), ep.port);
        let pooled = self.pool.take(&key, Stream::still_open);
        // Wiped when dropped, on every path: it held the request and the tokens.
        let mut buf = zeroize::Zeroizing::new(vec![0u8; self.max_response_bytes]);
        let mut stream = match pooled {
            Some(s) => s,
            None => self.connect(&ep).await?,
        };
        let result = run(&mut stream, req, &mut buf, sent).await;
        match result {
            Ok(answer) => {
                let r = f(&answer);
                if answer.response.keep_alive {
                    self.pool.put(key, stream);
                }
                Ok(r)
            }
            Err(e) => Err(map_sent_error(e, sent.load(Ordering::Relaxed))),
        }
    }

    async fn connect(&self, ep: &Endpoint<'_>) -> Result<Stream, Error> {
        // Plain HTTP is loopback only (`Endpoint::parse`): never through a proxy.
        let via = self
            .proxy
            .as_ref()
            .filter(|p| ep.tls && p.applies_to(ep.host_name()));
        let target = via.map_or((ep.host_name(), ep.port), Proxy::addr);
        let tcp = tokio::time::timeout(self.connect_timeout, async {
            let mut tcp = TcpStream::connect(target).await.map_err(Error::Connect)?;
            if let Some(proxy) = via {
                proxy
                    .tunnel_async(&mut tcp, ep.host_name(), ep.port)
                    .await?;
            }
            Ok::<_, Error>(tcp)
        })
        .await
        .map_err(|_| Error::Timeout)??;
        tcp.set_nodelay(true).map_err(Error::Connect)?;
        if !ep.tls {
            return Ok(Stream::Plain(tcp));
        }
        let name =
            ServerName::try_from(ep.host_name().to_owned()).map_err(|_| Error::InvalidHostName)?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(crate::client::map_io)?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

async fn run<'b>(
    stream: &mut Stream,
    req: &TokenRequest<'_>,
    buf: &'b mut [u8],
    sent: &AtomicBool,
) -> Result<Answer<'b>, ExchangeError<io::Error>> {
    let mut io = FromTokio::new(Tracked { stream, sent });
    exchange::asynch::exchange(&mut io, req, buf).await
}

/// The stream with a flag raised before the first request byte is written (the TLS
/// handshake is complete by then: `TlsConnector::connect` finishes it).
struct Tracked<'a> {
    stream: &'a mut Stream,
    sent: &'a AtomicBool,
}

impl AsyncRead for Tracked<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tracked<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !buf.is_empty() {
            this.sent.store(true, Ordering::Relaxed);
        }
        Pin::new(&mut *this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_shutdown(cx)
    }
}

enum Stream {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
}

impl Stream {
    /// Whether an idle pooled connection can still carry a request: the peer has not
    /// closed it and sent nothing unasked (a pending read means open and idle).
    fn still_open(&self) -> bool {
        let tcp = match self {
            Self::Tls(s) => s.get_ref().0,
            Self::Plain(s) => s,
        };
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        let mut cx = Context::from_waker(core::task::Waker::noop());
        tcp.poll_peek(&mut cx, &mut probe).is_pending()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
