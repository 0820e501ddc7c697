//! # picoauth-embassy
//!
//! OAuth 2.0 token exchanges from firmware: [`exchange`] looks up the provider's host
//! over embassy-net DNS, opens a [`TcpSocket`](embassy_net::tcp::TcpSocket) on
//! caller-provided buffers, runs a TLS 1.3 handshake with
//! [embedded-tls](embedded_tls) whose certificate verifier is always on, then hands the
//! TLS connection to the core's async driver, [`picoauth::exchange::asynch::exchange`].
//! The core's HTTP codec is the only HTTP layer. [`EmbassyNet`] is the same path as a
//! [`Transport`], which also hands the answer to an [`OnAnswer`] while the connection
//! is still open.
//!
//! `#![no_std]`, no `alloc` in the default build, no `unsafe`.
//!
//! Every exchange is bounded as a whole by [`Timeouts::total`], not only per step.
//! With feature `persist`, `persist::TokenStore` keeps the token set on NOR flash and
//! `RefreshLoop` hands out access tokens, refreshing ahead of expiry and writing
//! each answer to flash before the connection is even closed ([`OnAnswer`]).
//!
//! ## Certificate verification
//!
//! This crate's own verifier (the [`verifier`] module docs), not
//! embedded-tls's `rustpki`:
//!
//! - The path is validated by rustls-webpki, the validator rustls uses (no_std, no
//!   alloc): from the leaf through the intermediates the server sent to one of
//!   [`Config::trust_anchors`] ([`anchors`] has the roots the provider presets need),
//!   with basicConstraints, pathLenConstraint, keyUsage, extendedKeyUsage (server
//!   auth), issuer/subject name chaining and name constraints checked.
//! - The leaf must name the endpoint's host in one of its SANs (all of them are read;
//!   wildcards cover one label). IP-address hosts are refused up front
//!   ([`Error::HostNotDnsName`]).
//! - Every certificate's `notBefore`/`notAfter` is checked against the caller's
//!   [`UnixClock`]. There is no switch to turn any of this off.
//! - The server's CertificateVerify is checked with the leaf's key and the scheme the
//!   server chose; PKCS#1 v1.5 (forbidden there by TLS 1.3) is refused. A handshake that
//!   ends without both messages is refused before anything is sent.
//! - Signatures ([`signature`]): ECDSA P-256/P-384, RSA PKCS#1 v1.5 and RSA-PSS with
//!   SHA-256/384/512 for 2048- to 4096-bit keys, all without a heap: the default build
//!   verifies the RSA chains of slack.com and api.pinterest.com with no allocator.
//! - A refusal is [`Error::Certificate`] with the reason ([`CertificateError`]).
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
//! | the future itself | ≈ [`MAX_SPKI_LEN`] + a few KiB | the leaf's key, kept until CertificateVerify, and handshake state |
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
//! MSRV: Rust 1.91 (smoltcp 0.13, under embassy-net, needs it; the core needs 1.88).
#![no_std]
#![forbid(unsafe_code)]

pub mod anchors;
mod api;
mod config;
mod der;
mod error;
mod exchange;
mod fmt;
#[cfg(feature = "persist")]
pub mod persist;
#[cfg(feature = "provision")]
pub mod provision;
#[cfg(feature = "persist")]
pub mod refresh;
pub mod rsa;
pub mod signature;
mod transport;
pub mod verifier;

pub use api::{bearer_post, ApiResponse};
pub use config::{
    Buffers, Config, Storage, Timeouts, UnixClock, EARLIEST_CLOCK_TIME, EXCHANGE_BUF_LEN,
    TCP_RX_BUF_LEN, TCP_TX_BUF_LEN, TLS_READ_BUF_LEN, TLS_WRITE_BUF_LEN,
};
pub use embedded_tls::{MaxFragmentLength, SignatureScheme, TlsError};
pub use error::{CertificateError, Error, IoError, Stage};
pub use exchange::{exchange, Ignore, OnAnswer};
pub use pki_types::{CertificateDer, TrustAnchor};
#[cfg(feature = "persist")]
pub use refresh::{RefreshError, RefreshLoop};
pub use transport::{EmbassyNet, Stream, Transport};
pub use verifier::MAX_SPKI_LEN;
pub use webpki::anchor_from_trusted_cert;
