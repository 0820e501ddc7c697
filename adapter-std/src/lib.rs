//! picoauth on std: real HTTPS token exchanges over rustls, for servers.
//!
//! - [`Client`]: blocking, over `std::net::TcpStream` + rustls.
//! - [`asynch::Client`]: async, over tokio + tokio-rustls (feature `tokio`, on by default).
//! - [`OwnedOutcome`] / [`TokenSet`]: owned results with `expires_at`, redacted
//!   `Debug`, and (feature `serde`) `Serialize` and `Deserialize`, so a token set can
//!   be kept in a service's own storage and read back.
//!
//! Both clients drive the core's sans-IO exchange; there is no second HTTP
//! implementation. Neither follows redirects, and certificate checks cannot be
//! switched off.
//!
//! ```no_run
//! use picoauth::provider::SLACK_V2;
//! use picoauth::request::{ClientAuth, Grant, TokenRequest};
//!
//! let secret = std::env::var("SLACK_CLIENT_SECRET").unwrap();
//! let client = picoauth_std::Client::new().unwrap();
//! let req = TokenRequest::new(&SLACK_V2, ClientAuth::basic("111.222", secret.as_str().into()), Grant::authorization_code("ccdaa72ad"));
//! match client.exchange(&req).unwrap() {
//!     picoauth_std::OwnedOutcome::Token { tokens, .. } => println!("got {:?}", tokens.access_token),
//!     other => eprintln!("refused: {other:?}"),
//! }
//! ```

use std::io;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub use owned::{OwnedOutcome, Secret, TokenSet};
pub use pool::DEFAULT_MAX_IDLE_PER_HOST;
pub use proxy::{Proxy, ProxyError};
pub use tls::{TlsConfigError, Trust};

#[cfg(feature = "tokio")]
pub mod asynch;
pub mod client;
#[cfg(feature = "http")]
pub mod http_types;
pub mod owned;
mod pool;
pub mod proxy;
pub mod tls;
#[cfg(feature = "tokens")]
pub mod tokens;
mod trace;

/// Why an exchange failed (a provider's refusal is not an error: see [`OwnedOutcome`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The TCP connection could not be made.
    Connect(io::Error),
    /// A connect, read or overall deadline passed.
    Timeout,
    /// TLS failed: an unknown CA, a wrong host name, an expired certificate, …
    Tls(rustls::Error),
    /// The host is not a valid DNS name or IP address for TLS.
    InvalidHostName,
    /// The connection failed after it was made.
    Io(io::Error),
    /// The HTTPS proxy refused the tunnel or answered something else.
    Proxy(proxy::ProxyError),
    /// The core refused the request or the response.
    Exchange(picoauth::exchange::ExchangeError<()>),
    /// The request was written, at least in part, and the connection then failed
    /// (reset, end of stream, truncated body, timeout) before a complete answer came:
    /// the provider may have acted on it. Never retried by the clients, since a code or
    /// a rotating refresh token is single-use; the inner error (never itself
    /// `OutcomeUnknown`) says what failed.
    OutcomeUnknown(Box<Self>),
}

impl Error {
    /// Whether the request may have reached the provider with no answer read: see
    /// [`Error::OutcomeUnknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown(_))
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect: {e}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::InvalidHostName => f.write_str("invalid host name for TLS"),
            Self::Proxy(e) => write!(f, "{e}"),
            Self::Io(e) => write!(f, "connection: {e}"),
            Self::Exchange(e) => write!(f, "{e}"),
            Self::OutcomeUnknown(e) => {
                write!(f, "request sent, outcome unknown (not retried): {e}")
            }
        }
    }
}

impl core::error::Error for Error {}
