//! The blocking HTTPS client: `std::net::TcpStream` + rustls, driven by the core's
//! exchange driver through `embedded-io` adapters. It moves bytes, nothing more.

use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use embedded_io_adapters::std::FromStd;
use picoauth::exchange::{self, Answer, ExchangeError, Outcome};
use picoauth::provider::Endpoint;
use picoauth::request::TokenRequest;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::owned::OwnedOutcome;
use crate::pool::IdlePool;
use crate::proxy::Proxy;
use crate::tls::{TlsConfigError, Trust};
use crate::Error;

/// Honours `Retry-After` on HTTP 429 (and Slack's `ratelimited`), within limits.
///
/// Off by default: a token exchange that silently sleeps surprises callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (so 1 means no retry).
    pub max_attempts: u32,
    /// The longest the exchange may take, waits included; a `Retry-After` that would
    /// pass it is not waited for and the rate-limited outcome is returned.
    pub max_total: Duration,
    /// The wait when the provider sent no `Retry-After`.
    pub default_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_total: Duration::from_secs(30),
            default_wait: Duration::from_secs(1),
        }
    }
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    trust: Trust,
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
    retry: Option<RetryPolicy>,
    proxy: Option<Proxy>,
    max_idle_per_host: usize,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            trust: Trust::public(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(30),
            max_response_bytes: 64 * 1024,
            retry: None,
            proxy: None,
            max_idle_per_host: crate::DEFAULT_MAX_IDLE_PER_HOST,
        }
    }
}

impl ClientBuilder {
    /// Also trust the CA certificates in `pem` (a private endpoint's CA).
    ///
    /// # Errors
    /// When `pem` holds no certificate.
    pub fn add_ca_pem(mut self, pem: &[u8]) -> Result<Self, TlsConfigError> {
        self.trust.add_pem(pem)?;
        Ok(self)
    }

    /// Trust only the CA certificates in `pem`, not the bundled public roots.
    ///
    /// # Errors
    /// When `pem` holds no certificate.
    pub fn only_ca_pem(mut self, pem: &[u8]) -> Result<Self, TlsConfigError> {
        self.trust = Trust::only_pem(pem)?;
        Ok(self)
    }

    /// Also trust the operating system's certificate store (feature `native-roots`;
    /// without it, [`build`](Self::build) fails with
    /// [`TlsConfigError::NativeRootsUnavailable`]).
    pub fn native_roots(mut self) -> Self {
        self.trust.native_roots = true;
        self
    }

    /// Time allowed to establish the TCP connection (per address tried).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Time allowed for any one read or write.
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }

    /// Time allowed for a whole exchange (connect, TLS, request, response).
    pub fn total_timeout(mut self, t: Duration) -> Self {
        self.total_timeout = t;
        self
    }

    /// The largest response accepted, head included (default 64 KiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Tunnels HTTPS connections through `proxy` (HTTP `CONNECT`), except to the hosts
    /// its `NO_PROXY` list names. TLS still runs end to end with the provider, and the
    /// certificate is checked as without a proxy. Use [`Proxy::from_env`] for
    /// `HTTPS_PROXY` / `NO_PROXY`; without this call no proxy is used.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// The proxy set with [`proxy`](Self::proxy).
    pub fn proxy_setting(&self) -> Option<&Proxy> {
        self.proxy.as_ref()
    }

    /// Keeps at most `n` idle connections per host and port for reuse (default
    /// [`DEFAULT_MAX_IDLE_PER_HOST`](crate::DEFAULT_MAX_IDLE_PER_HOST); 0 closes
    /// every connection after its exchange). Exchanges running at the same time each
    /// need a connection of their own; kept ones save a TCP and TLS handshake each.
    pub fn max_idle_per_host(mut self, n: usize) -> Self {
        self.max_idle_per_host = n;
        self
    }

    /// Retries rate-limited exchanges per `policy`.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn into_parts(self) -> (Trust, Duration, Duration, usize, usize) {
        (
            self.trust,
            self.connect_timeout,
            self.total_timeout,
            self.max_response_bytes,
            self.max_idle_per_host,
        )
    }

    /// Builds the client.
    ///
    /// # Errors
    /// When the TLS configuration is refused.
    pub fn build(self) -> Result<Client, TlsConfigError> {
        Ok(Client {
            tls: self.trust.client_config()?,
            settings: Settings {
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                total_timeout: self.total_timeout,
                max_response_bytes: self.max_response_bytes,
                retry: self.retry,
            },
            proxy: self.proxy,
            pool: IdlePool::new(self.max_idle_per_host),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
    retry: Option<RetryPolicy>,
}

/// A blocking token-exchange client. Cheap to share across threads (`&Client`); it
/// keeps a few idle connections per host and port for reuse
/// ([`ClientBuilder::max_idle_per_host`]).
///
/// It never follows redirects, and certificate checks cannot be turned off.
pub struct Client {
    tls: Arc<ClientConfig>,
    settings: Settings,
    proxy: Option<Proxy>,
    pool: IdlePool<Conn>,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.settings)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the bundled public roots and default timeouts.
    ///
    /// # Errors
    /// When the TLS configuration is refused (never with the defaults).
    pub fn new() -> Result<Self, TlsConfigError> {
        ClientBuilder::default().build()
    }

    /// Settings for a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Exchanges `req` at its provider's token endpoint and returns an owned outcome.
    ///
    /// # Errors
    /// Transport, TLS, timeout or malformed-response failures. A provider's refusal
    /// is an `Ok` outcome, not an error.
    pub fn exchange(&self, req: &TokenRequest<'_>) -> Result<OwnedOutcome, Error> {
        self.exchange_full(req, OwnedOutcome::from_answer)
    }

    /// Exchanges `req` and hands the borrowed outcome to `f` (no copies).
    ///
    /// # Errors
    /// As [`exchange`](Self::exchange).
    pub fn exchange_with<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Outcome<'_>) -> R,
    ) -> Result<R, Error> {
        self.exchange_full(req, |a| f(&a.outcome))
    }

    /// As [`exchange_with`](Self::exchange_with), and `f` gets the whole [`Answer`]
    /// (the response's head fields beside the outcome).
    fn exchange_full<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Answer<'_>) -> R,
    ) -> Result<R, Error> {
        let trace = crate::trace::Exchange::begin(req);
        let r = self.exchange_traced(req, |a| {
            trace.outcome(&a.outcome);
            f(a)
        });
        if let Err(e) = &r {
            trace.failed(e);
        }
        r
    }

    fn exchange_traced<R>(
        &self,
        req: &TokenRequest<'_>,
        f: impl FnOnce(&Answer<'_>) -> R,
    ) -> Result<R, Error> {
        let start = Instant::now();
        let mut attempt = 1u32;
        // Wiped when dropped, on every path: it held the request and the tokens.
        let mut buf = zeroize::Zeroizing::new(vec![0u8; self.settings.max_response_bytes]);
        loop {
            let answer = self.exchange_once(req, &mut buf, start)?;
            // Decide on a retry without holding the borrow of `buf`.
            let wait = match (&answer.outcome, self.settings.retry) {
                (Outcome::RateLimited { retry_after, .. }, Some(policy))
                    if attempt < policy.max_attempts =>
                {
                    let wait = match retry_after {
                        Some(picoauth::http::response::RetryAfter::Seconds(s)) => {
                            Duration::from_secs(u64::from(*s))
                        }
                        _ => policy.default_wait,
                    };
                    (start.elapsed().saturating_add(wait) < policy.max_total).then_some(wait)
                }
                _ => None,
            };
            match wait {
                Some(w) => {
                    std::thread::sleep(w);
                    attempt += 1;
                }
                None => return Ok(f(&answer)),
            }
        }
    }

    /// One attempt; the connection goes back to the pool when the answer allows it.
    fn exchange_once<'b>(
        &self,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
        start: Instant,
    ) -> Result<Answer<'b>, Error> {
        let ep = req.provider().endpoint;
        let key = (ep.host_name().to_owned(), ep.port);
        let pooled = self.pool.take(&key, Conn::still_open);
        let deadline = deadline_after(start, self.settings.total_timeout);
        // A pooled connection the server has closed meanwhile is replaced before the
        // request is sent: a token request is never sent twice, since a code is
        // single-use and a replay would burn it.
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect(&ep, deadline)?,
        };
        conn.deadline = deadline;
        conn.sent = false;
        let result = run(&mut conn, req, buf);
        match result {
            Ok(answer) => {
                if answer.response.keep_alive {
                    self.pool.put(key, conn);
                }
                Ok(answer)
            }
            Err(e) => Err(map_sent_error(e, conn.sent)),
        }
    }

    fn connect(&self, ep: &Endpoint<'_>, deadline: Instant) -> Result<Conn, Error> {
        // Plain HTTP is loopback only (`Endpoint::parse`): never through a proxy.
        let via = self
            .proxy
            .as_ref()
            .filter(|p| ep.tls && p.applies_to(ep.host_name()));
        let target = via.map_or((ep.host_name(), ep.port), Proxy::addr);
        let addrs = target.to_socket_addrs().map_err(Error::Connect)?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
        let mut tcp = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            match TcpStream::connect_timeout(&addr, self.settings.connect_timeout.min(left)) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let tcp = match tcp {
            Some(t) => t,
            None if last.kind() == io::ErrorKind::TimedOut => return Err(Error::Timeout),
            None => return Err(Error::Connect(last)),
        };
        let mut tcp = tcp;
        tcp.set_nodelay(true).map_err(Error::Connect)?;
        if let Some(proxy) = via {
            proxy.tunnel(&mut tcp, ep.host_name(), ep.port, deadline)?;
        }
        let stream = if ep.tls {
            let name = ServerName::try_from(ep.host_name().to_owned())
                .map_err(|_| Error::InvalidHostName)?;
            let tls = ClientConnection::new(self.tls.clone(), name).map_err(Error::Tls)?;
            Stream::Tls(Box::new(StreamOwned::new(tls, tcp)))
        } else {
            // `Endpoint::parse` only allows plain HTTP for loopback hosts.
            Stream::Plain(tcp)
        };
        Ok(Conn {
            stream,
            read_timeout: self.settings.read_timeout,
            deadline,
            sent: false,
        })
    }
}

/// `start + d`, with `d` capped at a century: a caller's huge timeout
/// (`Duration::MAX`) means "no practical deadline", never the panic "overflow when
/// adding duration to instant". Both clients and the `picoauth` command use it.
pub fn deadline_after(start: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    start
        .checked_add(d.min(CENTURY))
        .or_else(|| start.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(start)
}

fn run<'b>(
    conn: &mut Conn,
    req: &TokenRequest<'_>,
    buf: &'b mut [u8],
) -> Result<Answer<'b>, ExchangeError<io::Error>> {
    let mut io = FromStd::new(conn);
    exchange::blocking::exchange(&mut io, req, buf)
}

pub(crate) fn map_error(e: ExchangeError<io::Error>) -> Error {
    match e {
        ExchangeError::Io(e) => map_io(e),
        other => Error::Exchange(other.map_io(|_| ())),
    }
}

/// Maps a failed exchange; when the request was `sent` (at least in part) and the
/// connection failed before a complete answer, the outcome is unknown.
pub(crate) fn map_sent_error(e: ExchangeError<io::Error>, sent: bool) -> Error {
    let unanswered = matches!(
        e,
        ExchangeError::Io(_)
            | ExchangeError::Response(picoauth::http::response::ResponseError::Truncated)
    );
    let e = map_error(e);
    if sent && unanswered {
        Error::OutcomeUnknown(Box::new(e))
    } else {
        e
    }
}

pub(crate) fn map_io(e: io::Error) -> Error {
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return Error::Timeout;
    }
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return Error::Tls(tls.clone());
    }
    Error::Io(e)
}

enum Stream {
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Plain(TcpStream),
}

/// A connection with per-read timeouts bounded by the exchange's deadline.
struct Conn {
    stream: Stream,
    read_timeout: Duration,
    deadline: Instant,
    /// Whether a byte of the current request may have left: set before the first write
    /// of request bytes (after the TLS handshake), never cleared during an exchange.
    sent: bool,
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Tls(s) => s.get_ref(),
            Stream::Plain(s) => s,
        }
    }

    /// Whether an idle pooled connection can still carry a request: the peer has not
    /// closed it and sent nothing unasked.
    fn still_open(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let mut probe = [0u8; 1];
        let open =
            matches!(tcp.peek(&mut probe), Err(ref e) if e.kind() == io::ErrorKind::WouldBlock);
        tcp.set_nonblocking(false).is_ok() && open
    }

    fn arm(&self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "exchange deadline passed",
            ));
        }
        let t = Some(self.read_timeout.min(left));
        self.tcp().set_read_timeout(t)?;
        self.tcp().set_write_timeout(t)
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        match &mut self.stream {
            Stream::Tls(s) => s.read(buf),
            Stream::Plain(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        match &mut self.stream {
            Stream::Tls(s) => {
                // Finish the handshake first, so that a TLS failure is known to have
                // sent no request byte.
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                self.sent |= !buf.is_empty();
                s.write(buf)
            }
            Stream::Plain(s) => {
                self.sent |= !buf.is_empty();
                s.write(buf)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.arm()?;
        match &mut self.stream {
            Stream::Tls(s) => s.flush(),
            Stream::Plain(s) => s.flush(),
        }
    }
}
