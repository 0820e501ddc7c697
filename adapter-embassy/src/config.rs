//! What an exchange needs from the caller: trust anchors, a clock, timeouts and buffers.

use core::marker::PhantomData;

use embassy_time::Duration;
use embedded_tls::MaxFragmentLength;
use pki_types::TrustAnchor;
use zeroize::Zeroize as _;

/// The size of embedded-tls's read buffer for full TLS records: 2^14 bytes of plaintext
/// plus 256 bytes of record overhead. A server that does not honour
/// `max_fragment_length` may send records this large, so this is the safe size.
pub const TLS_READ_BUF_LEN: usize = 16_640;

/// A write buffer that holds the ClientHello and a whole token request in one record.
///
/// embedded-tls splits larger writes into several records, and encodes the handshake
/// in the larger of the two TLS buffers.
pub const TLS_WRITE_BUF_LEN: usize = 2048;

/// The TCP receive buffer (the receive window) of the socket.
pub const TCP_RX_BUF_LEN: usize = 4096;

/// The TCP transmit buffer of the socket.
pub const TCP_TX_BUF_LEN: usize = 2048;

/// The buffer that holds the HTTP request, then the whole HTTP response, which the
/// returned [`Outcome`](picoauth::exchange::Outcome) borrows.
/// Slack's largest documented answer fits in 2 KiB.
pub const EXCHANGE_BUF_LEN: usize = 4096;

/// Wall-clock time for certificate validity checks.
///
/// embedded-tls asks for the time through a function without a receiver, so the clock
/// is a type: on firmware, read the RTC (or an SNTP-synchronised counter) here.
/// There is no way to skip the date check: a device without a clock must get the time
/// from somewhere first (SNTP, an RTC kept by a battery). A clock that answers 0 (not
/// set) makes every chain "not valid yet", so the handshake is refused, never run
/// without dates.
pub trait UnixClock {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now() -> u64;
}

/// 2025-01-01T00:00:00Z. A [`UnixClock`] reading before it is taken as not set yet:
/// the refresh loop (feature `persist`) then refuses to judge token expiry with it
/// (`RefreshError::ClockNotSet`) instead of handing out a stored token that may have
/// expired long ago, or waiting decades for a refresh.
pub const EARLIEST_CLOCK_TIME: u64 = 1_735_689_600;

/// Timeouts for each step of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// The DNS lookup.
    pub dns: Duration,
    /// The TCP connect.
    pub connect: Duration,
    /// The whole TLS handshake (ECDSA verification on a Cortex-M4 takes a few hundred ms).
    pub handshake: Duration,
    /// Each read of the response, and each write of the request.
    pub read: Duration,
    /// Sending `close_notify` and the TCP FIN (or RST) at the end; never an error.
    pub close: Duration,
    /// The whole exchange, from the DNS lookup to the last byte of the response: a
    /// server that drips one byte per read timeout, or sends interim `1xx` answers
    /// without end, is cut off here ([`Stage::Exchange`](crate::Stage::Exchange)).
    /// Whatever is done with the answer afterwards (a flash write) is not bounded by it.
    pub total: Duration,
}

impl Timeouts {
    /// 10 s for DNS and connect, 20 s for the handshake, 10 s per read, 2 s to close,
    /// 45 s for the whole exchange.
    pub const DEFAULT: Self = Self {
        dns: Duration::from_secs(10),
        connect: Duration::from_secs(10),
        handshake: Duration::from_secs(20),
        read: Duration::from_secs(10),
        close: Duration::from_secs(2),
        total: Duration::from_secs(45),
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How to reach and trust the token endpoint.
///
/// Certificate verification is always on: the server's chain must lead to one of
/// `trust_anchors` under rustls-webpki's path rules, its leaf must name the endpoint's
/// host, and every certificate must be within its dates according to the clock `C`.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a, C: UnixClock> {
    /// The CAs the server's chain may end at, e.g. [`anchors::SLACK_AND_PINTEREST`](crate::anchors::SLACK_AND_PINTEREST).
    pub trust_anchors: &'a [TrustAnchor<'a>],
    /// Step timeouts.
    pub timeouts: Timeouts,
    /// Asks the server for smaller TLS records (RFC 6066). Only a server that honours it
    /// lets the read buffer shrink from [`TLS_READ_BUF_LEN`] to the fragment length plus
    /// 256 bytes; most large providers ignore it.
    pub max_fragment_length: Option<MaxFragmentLength>,
    clock: PhantomData<fn() -> C>,
}

impl<'a, C: UnixClock> Config<'a, C> {
    /// Trusts `trust_anchors` and checks dates with `clock`'s type.
    pub const fn new(trust_anchors: &'a [TrustAnchor<'a>], clock: C) -> Self {
        // The clock is a type; the value only names it.
        core::mem::forget(clock);
        Self {
            trust_anchors,
            timeouts: Timeouts::DEFAULT,
            max_fragment_length: None,
            clock: PhantomData,
        }
    }

    /// Replaces the timeouts.
    #[must_use]
    pub const fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Asks for a maximum fragment length.
    #[must_use]
    pub const fn with_max_fragment_length(mut self, mfl: MaxFragmentLength) -> Self {
        self.max_fragment_length = Some(mfl);
        self
    }
}

/// The buffers of one connection, owned by the caller (on firmware: in a `static`).
///
/// See the crate docs for the sizes; [`Storage`] holds a set of the recommended sizes.
///
/// `Debug` shows only the sizes: during an exchange the buffers hold the request (client
/// secret, code, refresh token) and the tokens of the answer.
pub struct Buffers<'a> {
    /// TCP receive buffer ([`TCP_RX_BUF_LEN`]).
    pub tcp_rx: &'a mut [u8],
    /// TCP transmit buffer ([`TCP_TX_BUF_LEN`]).
    pub tcp_tx: &'a mut [u8],
    /// TLS record read buffer ([`TLS_READ_BUF_LEN`], or less with `max_fragment_length`).
    pub tls_read: &'a mut [u8],
    /// TLS record write buffer ([`TLS_WRITE_BUF_LEN`]).
    pub tls_write: &'a mut [u8],
}

impl core::fmt::Debug for Buffers<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        debug_sizes(
            f,
            "Buffers",
            &[self.tcp_rx, self.tcp_tx, self.tls_read, self.tls_write],
        )
    }
}

/// `Debug` of connection buffers (and the exchange buffer, when there is a sixth name):
/// each one's length, never its bytes.
fn debug_sizes(f: &mut core::fmt::Formatter<'_>, name: &str, bufs: &[&[u8]]) -> core::fmt::Result {
    let names = ["tcp_rx", "tcp_tx", "tls_read", "tls_write", "exchange"];
    let mut d = f.debug_struct(name);
    for (field, buf) in names.iter().zip(bufs) {
        d.field(field, &buf.len());
    }
    d.finish()
}

impl Buffers<'_> {
    /// The buffers lent for one more exchange, e.g. to an API call after the token
    /// exchange; they are `self`'s again once the returned value is dropped.
    pub fn reborrow(&mut self) -> Buffers<'_> {
        Buffers {
            tcp_rx: &mut *self.tcp_rx,
            tcp_tx: &mut *self.tcp_tx,
            tls_read: &mut *self.tls_read,
            tls_write: &mut *self.tls_write,
        }
    }
}

/// All buffers of one exchange at the recommended sizes: 28,928 bytes. Put it in a
/// `static` (`static_cell::StaticCell`), not on a task's stack.
///
/// `Debug` shows only the sizes: the buffers hold requests and tokens. Call
/// [`wipe`](Self::wipe) once an outcome is no longer needed.
pub struct Storage {
    tcp_rx: [u8; TCP_RX_BUF_LEN],
    tcp_tx: [u8; TCP_TX_BUF_LEN],
    tls_read: [u8; TLS_READ_BUF_LEN],
    tls_write: [u8; TLS_WRITE_BUF_LEN],
    exchange: [u8; EXCHANGE_BUF_LEN],
}

impl core::fmt::Debug for Storage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let bufs: [&[u8]; 5] = [
            &self.tcp_rx,
            &self.tcp_tx,
            &self.tls_read,
            &self.tls_write,
            &self.exchange,
        ];
        debug_sizes(f, "Storage", &bufs)
    }
}

impl Storage {
    /// The total size of a [`Storage`] in bytes.
    pub const LEN: usize =
        TCP_RX_BUF_LEN + TCP_TX_BUF_LEN + TLS_READ_BUF_LEN + TLS_WRITE_BUF_LEN + EXCHANGE_BUF_LEN;

    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            tcp_rx: [0; TCP_RX_BUF_LEN],
            tcp_tx: [0; TCP_TX_BUF_LEN],
            tls_read: [0; TLS_READ_BUF_LEN],
            tls_write: [0; TLS_WRITE_BUF_LEN],
            exchange: [0; EXCHANGE_BUF_LEN],
        }
    }

    /// The connection buffers and the exchange buffer.
    pub fn split(&mut self) -> (Buffers<'_>, &mut [u8]) {
        (
            Buffers {
                tcp_rx: &mut self.tcp_rx,
                tcp_tx: &mut self.tcp_tx,
                tls_read: &mut self.tls_read,
                tls_write: &mut self.tls_write,
            },
            &mut self.exchange,
        )
    }

    /// Overwrites every buffer with zeros (volatile writes): the request, the TLS
    /// records and the response with its tokens.
    pub fn wipe(&mut self) {
        self.tcp_rx.zeroize();
        self.tcp_tx.zeroize();
        self.tls_read.zeroize();
        self.tls_write.zeroize();
        self.exchange.zeroize();
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_the_documented_size() {
        assert_eq!(Storage::LEN, 28_928);
        assert_eq!(core::mem::size_of::<Storage>(), Storage::LEN);
        let mut s = Storage::new();
        let (b, ex) = s.split();
        assert_eq!(
            (
                b.tcp_rx.len(),
                b.tcp_tx.len(),
                b.tls_read.len(),
                b.tls_write.len(),
                ex.len()
            ),
            (
                TCP_RX_BUF_LEN,
                TCP_TX_BUF_LEN,
                TLS_READ_BUF_LEN,
                TLS_WRITE_BUF_LEN,
                EXCHANGE_BUF_LEN
            )
        );
    }

    #[test]
    fn default_timeouts_are_bounded() {
        let t = Timeouts::default();
        for d in [t.dns, t.connect, t.handshake, t.read, t.close] {
            assert!(d > Duration::from_secs(0) && d <= Duration::from_secs(20));
        }
        assert!(t.total >= t.handshake && t.total <= Duration::from_secs(60));
    }
}

#[cfg(test)]
mod storage_tests {
    extern crate std;
    use super::*;

    #[test]
    fn storage_debug_shows_sizes_only_and_wipe_clears_every_buffer() {
        let mut s = Storage::new();
        {
            let (b, ex) = s.split();
            b.tls_write[..6].copy_from_slice(b"SECRET");
            ex[..6].copy_from_slice(b"SECRET");
        }
        let d = std::format!("{s:?}");
        assert!(!d.contains("83, 69, 67"), "{d}");
        assert!(d.contains("exchange"), "{d}");
        s.wipe();
        let (b, ex) = s.split();
        assert!(b.tls_write.iter().chain(ex.iter()).all(|&x| x == 0));
    }

    #[test]
    fn buffers_debug_shows_sizes_only() {
        let mut s = Storage::new();
        let (b, _) = s.split();
        b.tls_read[..6].copy_from_slice(b"SECRET");
        b.tcp_tx[..6].copy_from_slice(b"SECRET");
        assert_eq!(
            std::format!("{b:?}"),
            std::format!(
                "Buffers {{ tcp_rx: {TCP_RX_BUF_LEN}, tcp_tx: {TCP_TX_BUF_LEN}, \
                 tls_read: {TLS_READ_BUF_LEN}, tls_write: {TLS_WRITE_BUF_LEN} }}"
            )
        );
        assert_eq!(
            std::format!("{s:?}"),
            std::format!(
                "Storage {{ tcp_rx: {TCP_RX_BUF_LEN}, tcp_tx: {TCP_TX_BUF_LEN}, \
                 tls_read: {TLS_READ_BUF_LEN}, tls_write: {TLS_WRITE_BUF_LEN}, \
                 exchange: {EXCHANGE_BUF_LEN} }}"
            )
        );
    }
}
