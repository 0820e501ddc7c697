//! # picoauth-embassy
//!
//! OAuth 2.0 token exchanges from firmware: [`exchange`] looks up the provider's host
//! over embassy-net DNS, opens a [`TcpSocket`](embassy_net::tcp::TcpSocket) on
//! caller-provided buffers, runs a TLS 1.3 handshake with
//! [embedded-tls](embedded_tls) whose certificate verifier is always on, then hands the
//! TLS connection to the core's async driver, [`picoauth::exchange::asynch::exchange`].
//! The core's HTTP codec is the only HTTP layer.
//!
//! `#![no_std]`, no `alloc` in the default build, no `unsafe`.
//!
//! ## Certificate verification
//!
//! - The server's chain must end at [`Config::trust_anchor`] (a DER X.509 CA
//!   certificate the caller ships, e.g. with `include_bytes!`).
//! - The leaf must name the endpoint's host (SAN DNS names, CN only when there are no
//!   SANs). IP-address hosts are refused up front ([`Error::HostNotDnsName`]).
//! - Every certificate's `notBefore`/`notAfter` is checked against the caller's
//!   [`UnixClock`]. There is no switch to turn any of this off.
//! - Default build: ECDSA P-256 chains (what Let's Encrypt's `E*` and most modern CAs
//!   issue), with no allocator. Feature `rsa`: RSA chains too, through the `rsa` crate,
//!   which needs `alloc` — the firmware then needs a `#[global_allocator]` (about 4–8 KiB
//!   of heap for a 2048-bit key) and grows by tens of KiB of `.text`.
//!
//! ## RAM
//!
//! | buffer | size | why |
//! |---|---|---|
//! | [`Buffers::tls_read`] | [`TLS_READ_BUF_LEN`] = 16,640 | one whole TLS record: 2^14 plaintext + 256 overhead |
//! | [`Buffers::tls_write`] | [`TLS_WRITE_BUF_LEN`] = 2,048 | the ClientHello and the request; larger writes are split |
//! | [`Buffers::tcp_rx`] | [`TCP_RX_BUF_LEN`] = 4,096 | the TCP window |
//! | [`Buffers::tcp_tx`] | [`TCP_TX_BUF_LEN`] = 2,048 | unacknowledged bytes |
//! | the exchange `buf` | [`EXCHANGE_BUF_LEN`] = 4,096 | the HTTP request, then the whole response |
//! | the future itself | ≈ [`MAX_CERT_CHAIN_LEN`] + a few KiB | the kept certificate chain and handshake state |
//!
//! With [`Config::with_max_fragment_length`] the client asks for records of at most
//! 512–4096 bytes (RFC 6066). Where the server honours it, `tls_read` can shrink to the
//! fragment length + 256 bytes: 4,352 bytes for `Bits12`, saving 12,288 bytes, or 768 for
//! `Bits9`. Where it does not (most large providers, and rustls servers), a record longer
//! than the buffer fails the read with `InsufficientSpace`: keep 16,640 unless you know
//! the server.
//!
//! ## Logging
//!
//! Feature `defmt`: host names, addresses, statuses and errors at debug/warn level, and
//! `defmt::Format` on the error types. Request and response bytes, which hold secrets,
//! codes and tokens, are never logged.
//!
//! MSRV: Rust 1.88.
#![no_std]
#![forbid(unsafe_code)]

mod config;
mod error;
mod exchange;
mod fmt;

pub use config::{
    Buffers, Config, Storage, Timeouts, UnixClock, EXCHANGE_BUF_LEN, MAX_CERT_CHAIN_LEN,
    TCP_RX_BUF_LEN, TCP_TX_BUF_LEN, TLS_READ_BUF_LEN, TLS_WRITE_BUF_LEN,
};
pub use embedded_tls::{MaxFragmentLength, TlsError};
pub use error::{Error, IoError, Stage};
pub use exchange::exchange;
