//! Where a token exchange runs: embassy-net with TLS ([`EmbassyNet`]), or any
//! `embedded-io-async` stream the caller already holds ([`Stream`]). The refresh loop
//! ([`RefreshLoop`](crate::RefreshLoop)) takes either through [`Transport`].

use embassy_net::Stack;
use embassy_time::{with_deadline, Duration};
use embedded_io_async::{ErrorType, Read, Write};
use embedded_tls::CryptoRngCore;
use picoauth::exchange::Answer;
use picoauth::request::TokenRequest;

use crate::config::{Buffers, Config, UnixClock};
use crate::error::{Error, IoError};
use crate::exchange::{over_tls, request_over, OnAnswer, TokenWork};

/// Runs one token exchange and hands the answer to an [`OnAnswer`] before the
/// connection is closed.
pub trait Transport {
    /// Sends `req`, reads the answer into `buf`, runs `on_answer` on it, then closes.
    ///
    /// # Errors
    /// See [`Error`]; a provider's refusal is an `Ok` [`Answer`].
    #[allow(async_fn_in_trait)] // embassy tasks are single-threaded: no Send bound wanted
    async fn exchange<'b, A: OnAnswer>(
        &mut self,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
        on_answer: &mut A,
    ) -> Result<(Answer<'b>, A::Output), Error>;
}

/// Exchanges over embassy-net and certificate-verified TLS 1.3 (DNS, TCP, handshake,
/// timeouts and close as [`exchange`](crate::exchange) describes), one connection per
/// exchange, on the caller's buffers.
pub struct EmbassyNet<'a, C: UnixClock, R> {
    /// The network stack.
    pub stack: Stack<'a>,
    /// Trust anchors, clock and timeouts.
    pub config: &'a Config<'a, C>,
    /// The connection's buffers, reused by every exchange.
    pub buffers: Buffers<'a>,
    /// Seeds each TLS key exchange: a hardware RNG on firmware.
    pub rng: R,
}

impl<C: UnixClock, R> core::fmt::Debug for EmbassyNet<'_, C, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EmbassyNet")
            .field("timeouts", &self.config.timeouts)
            .finish_non_exhaustive()
    }
}

impl<C: UnixClock, R: CryptoRngCore> Transport for EmbassyNet<'_, C, R> {
    async fn exchange<'b, A: OnAnswer>(
        &mut self,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
        on_answer: &mut A,
    ) -> Result<(Answer<'b>, A::Output), Error> {
        let work = TokenWork {
            req,
            buf,
            on_answer,
        };
        over_tls(
            self.stack,
            &req.provider().endpoint,
            self.config,
            self.buffers.reborrow(),
            &mut self.rng,
            work,
        )
        .await
    }
}

/// Exchanges over a stream the caller connected (a TLS session of its own, or an
/// in-memory peer in tests), with the same bounds as [`EmbassyNet`]: `read` for each
/// read and write, `total` for the whole exchange.
#[derive(Debug)]
pub struct Stream<S> {
    /// The connected stream.
    pub io: S,
    /// Each read, write and flush.
    pub read: Duration,
    /// The whole exchange, to the last byte of the response.
    pub total: Duration,
}

impl<S: Read + Write> Transport for Stream<S> {
    async fn exchange<'b, A: OnAnswer>(
        &mut self,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
        on_answer: &mut A,
    ) -> Result<(Answer<'b>, A::Output), Error> {
        let deadline = crate::exchange::after(self.total);
        let mut io = TimedStream {
            io: &mut self.io,
            timeout: self.read,
        };
        request_over(&mut io, req, buf, deadline, on_answer).await
    }
}

/// A stream with a timeout on every read, write and flush, its errors as [`IoError`].
struct TimedStream<'a, S> {
    io: &'a mut S,
    timeout: Duration,
}

impl<S: ErrorType> ErrorType for TimedStream<'_, S> {
    type Error = IoError;
}

fn io_error<E: embedded_io_async::Error>(
    r: Result<Result<usize, E>, embassy_time::TimeoutError>,
) -> Result<usize, IoError> {
    match r {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(IoError::Io(e.kind())),
        Err(_) => Err(IoError::TimedOut),
    }
}

impl<S: Read> Read for TimedStream<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        io_error(with_deadline(crate::exchange::after(self.timeout), self.io.read(buf)).await)
    }
}

impl<S: Write> Write for TimedStream<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        io_error(with_deadline(crate::exchange::after(self.timeout), self.io.write(buf)).await)
    }

    async fn flush(&mut self) -> Result<(), IoError> {
        io_error(
            with_deadline(crate::exchange::after(self.timeout), self.io.flush())
                .await
                .map(|r| r.map(|()| 0)),
        )
        .map(|_| ())
    }
}
