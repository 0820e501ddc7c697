//! The async client: tokio + tokio-rustls, driven by the core's async exchange
//! driver through `embedded-io-async` adapters.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::collections::HashMap;
use std::io;
use std::time::Instant;

use embedded_io_adapters::tokio_1::FromTokio;
use picoauth::exchange::{self, ExchangeError, Outcome};
use picoauth::provider::Endpoint;
use picoauth::request::TokenRequest;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::client::{map_error, ClientBuilder};
use crate::owned::OwnedOutcome;
use crate::tls::TlsConfigError;
use crate::Error;

/// An async token-exchange client (tokio). Shareable (`&Client`) across tasks; keeps
/// one idle connection per host and port for reuse.
pub struct Client {
    tls: TlsConnector,
    connect_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
    pool: Mutex<HashMap<(String, u16), Stream>>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("asynch::Client")
            .field("connect_timeout", &self.connect_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Builds an async client with these settings (the retry policy is not used).
    ///
    /// # Errors
    /// When the TLS configuration is refused.
    pub fn build_async(self) -> Result<Client, TlsConfigError> {
        let (trust, connect_timeout, total_timeout, max_response_bytes) = self.into_parts();
        Ok(Client {
            tls: TlsConnector::from(trust.client_config()?),
            connect_timeout,
            total_timeout,
            max_response_bytes,
            pool: Mutex::new(HashMap::new()),
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
        self.exchange_full(req, |o, www| {
            OwnedOutcome::from_outcome(o, req.provider().kind).with_www_authenticate(www)
        })
        .await
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
        self.exchange_full(req, |o, _| f(o)).await
    }

    /// As [`exchange_with`](Self::exchange_with), and `f` also gets the response's
    /// `WWW-Authenticate` value; the whole exchange is bounded by the total timeout.
    async fn exchange_full<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Outcome<'_>, Option<&str>) -> R,
    ) -> Result<R, Error> {
        let deadline = Instant::now() + self.total_timeout;
        match tokio::time::timeout_at(deadline.into(), self.exchange_inner(req, f)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout),
        }
    }

    /// One exchange; `f` gets the outcome and the response's `WWW-Authenticate`.
    async fn exchange_inner<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Outcome<'_>, Option<&str>) -> R,
    ) -> Result<R, Error> {
        let ep = req.provider().endpoint;
        let key = (ep.host_name().to_owned(), ep.port);
        let pooled = self.pool.lock().await.remove(&key);
        let mut buf = vec![0u8; self.max_response_bytes];
        let (mut stream, reused) = match pooled {
            Some(s) => (s, true),
            None => (self.connect(&ep).await?, false),
        };
        let first = run(&mut stream, req, &mut buf).await;
        let stale = reused && matches!(&first, Err(e) if is_stale(e));
        let result = if stale {
            drop(first);
            stream = self.connect(&ep).await?;
            run(&mut stream, req, &mut buf).await
        } else {
            first
        };
        match result {
            Ok((outcome, keep_alive, www)) => {
                let r = f(&outcome, www.as_deref());
                if keep_alive {
                    self.pool.lock().await.insert(key, stream);
                }
                Ok(r)
            }
            Err(e) => Err(map_error(e)),
        }
    }

    async fn connect(&self, ep: &Endpoint<'_>) -> Result<Stream, Error> {
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((ep.host_name(), ep.port)),
        )
        .await
        .map_err(|_| Error::Timeout)?
        .map_err(Error::Connect)?;
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
) -> Result<crate::client::Answer<'b>, ExchangeError<io::Error>> {
    let mut io = FromTokio::new(stream);
    let reading = exchange::asynch::read_response(&mut io, req, buf).await?;
    crate::client::answer(reading)
}

fn is_stale(e: &ExchangeError<io::Error>) -> bool {
    match e {
        ExchangeError::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
        ),
        ExchangeError::Response(picoauth::http::response::ResponseError::Truncated) => true,
        _ => false,
    }
}

enum Stream {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
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
