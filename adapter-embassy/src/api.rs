//! One API call with an access token (`Authorization: Bearer`): what a device does
//! with the token the refresh loop hands out, e.g. Slack's `auth.test`.
//!
//! Same connection path and bounds as the token exchange (DNS, TCP, verified TLS 1.3,
//! per-step timeouts and [`Timeouts::total`](crate::Timeouts::total)); the core's
//! response reader reads the answer. The request is a `POST` with an empty body.

use embassy_net::Stack;
use embassy_time::{with_deadline, Instant};
use embedded_io_async::{Read, Write};
use embedded_tls::CryptoRngCore;
use picoauth::exchange::ExchangeError;
use picoauth::http::response::{ResponseReader, Status};
use picoauth::provider::{Endpoint, EndpointError};
use picoauth::EncodeError;
use zeroize::Zeroize as _;

use crate::config::{Buffers, Config, UnixClock};
use crate::error::{Error, IoError, Stage};
use crate::exchange::{over_tls, Work};

/// An API answer: the status and the body, borrowed from the caller's buffer.
///
/// `Debug` shows the status and the body's length only (a body may hold secrets).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ApiResponse<'b> {
    /// The HTTP status.
    pub status: u16,
    /// The body, de-chunked.
    pub body: &'b [u8],
}

impl core::fmt::Debug for ApiResponse<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// `POST`s to `endpoint` with `Authorization: Bearer <access_token>` and an empty
/// body, and returns the answer. `buf` holds the request head, then the response
/// (the head is wiped once sent; wipe the response when done with it).
///
/// # Errors
/// As [`exchange`](crate::exchange); a token, host or path with a character that
/// cannot appear in the request head is
/// `Error::Exchange(ExchangeError::Encode(EncodeError::InvalidHeaderValue | InvalidHost | InvalidPath))`,
/// a `buf` too small for the head `EncodeError::BufferTooSmall`.
pub async fn bearer_post<'b, C: UnixClock, R: CryptoRngCore>(
    stack: Stack<'_>,
    endpoint: &Endpoint<'_>,
    access_token: &str,
    config: &Config<'_, C>,
    buffers: Buffers<'_>,
    rng: R,
    buf: &'b mut [u8],
) -> Result<ApiResponse<'b>, Error> {
    // Checked before anything goes on the network.
    let encode = |e| Error::Exchange(ExchangeError::Encode(e));
    if !visible(access_token) {
        return Err(encode(EncodeError::InvalidHeaderValue));
    }
    if !visible(endpoint.host) {
        return Err(encode(EncodeError::Endpoint(EndpointError::InvalidHost)));
    }
    if !endpoint.path.starts_with('/') || !visible(endpoint.path) || endpoint.path.contains('#') {
        return Err(encode(EncodeError::Endpoint(EndpointError::InvalidPath)));
    }
    let work = ApiWork {
        endpoint,
        access_token,
        buf,
    };
    over_tls(stack, endpoint, config, buffers, rng, work).await
}

/// Whether `s` is non-empty visible ASCII (no space, control character or CR/LF).
fn visible(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

struct ApiWork<'e, 't, 'b> {
    endpoint: &'e Endpoint<'e>,
    access_token: &'t str,
    buf: &'b mut [u8],
}

/// Writes into a byte slice as long as everything fits, and counts every byte asked
/// for, so that a short slice tells the whole length needed (`len < needed`).
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
    needed: usize,
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let start = self.needed;
        self.needed = start.saturating_add(s.len());
        if self.len == start {
            if let Some(dst) = self.buf.get_mut(start..self.needed) {
                dst.copy_from_slice(s.as_bytes());
                self.len = self.needed;
            }
        }
        Ok(())
    }
}

impl<'b> Work for ApiWork<'_, '_, 'b> {
    type Output = ApiResponse<'b>;

    async fn run<T: Read + Write<Error = IoError>>(
        self,
        io: &mut T,
        deadline: Instant,
    ) -> Result<ApiResponse<'b>, Error> {
        use core::fmt::Write as _;
        let e = self.endpoint;
        let mut head = Cursor {
            buf: &mut *self.buf,
            len: 0,
            needed: 0,
        };
        let port = if e.port == 443 { 0 } else { e.port };
        let written = write!(
            head,
            "POST {} HTTP/1.1\r\nHost: {}",
            e.path,
            e.host_name()
        )
        .and_then(|()| {
            if port == 0 {
                Ok(())
            } else {
                write!(head, ":{port}")
            }
        })
        .and_then(|()| {
            write!(
                head,
                "\r\nAuthorization: Bearer {}\r\nAccept: application/json\r\nContent-Length: 0\r\nUser-Agent: picoauth/{}\r\n\r\n",
                self.access_token,
                env!("CARGO_PKG_VERSION")
            )
        });
        let len = head.len;
        if written.is_err() || len < head.needed {
            let needed = head.needed;
            self.buf[..len].zeroize();
            return Err(Error::Exchange(ExchangeError::Encode(
                EncodeError::BufferTooSmall { needed },
            )));
        }
        let sent = with_deadline(deadline, async {
            io.write_all(&self.buf[..len]).await?;
            io.flush().await
        })
        .await;
        // The head carries the token.
        self.buf[..len].zeroize();
        sent.map_err(|_| Error::Timeout(Stage::Exchange))?
            .map_err(|e| Error::Exchange(ExchangeError::Io(e)))?;

        let mut reader = ResponseReader::new(self.buf);
        let read = with_deadline(deadline, async {
            loop {
                let n = io.read(reader.spare()).await.map_err(ExchangeError::Io)?;
                let status = if n == 0 {
                    reader.finish()
                } else {
                    reader.advance(n)
                };
                match status.map_err(ExchangeError::Response)? {
                    Status::Complete => return Ok::<(), ExchangeError<IoError>>(()),
                    Status::NeedMore => {}
                }
            }
        })
        .await;
        match read {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                reader.wipe();
                return Err(Error::from(e));
            }
            Err(_) => {
                reader.wipe();
                return Err(Error::Timeout(Stage::Exchange));
            }
        }
        let resp = reader
            .into_response()
            .ok_or(Error::Exchange(ExchangeError::Response(
                picoauth::http::response::ResponseError::Truncated,
            )))?;
        Ok(ApiResponse {
            status: resp.status,
            body: resp.body,
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use picoauth_test_support::ready::block_on;

    use super::*;

    /// A connection that is never reached: the head does not fit.
    struct Unused;

    impl embedded_io_async::ErrorType for Unused {
        type Error = IoError;
    }

    impl Read for Unused {
        async fn read(&mut self, _: &mut [u8]) -> Result<usize, IoError> {
            unreachable!("nothing is read")
        }
    }

    impl Write for Unused {
        async fn write(&mut self, _: &[u8]) -> Result<usize, IoError> {
            unreachable!("nothing is written")
        }

        async fn flush(&mut self) -> Result<(), IoError> {
            unreachable!("nothing is flushed")
        }
    }

    #[test]
    fn a_short_buffer_is_told_the_whole_head_length_and_is_wiped() {
        let endpoint = Endpoint::https("slack.com", "/api/auth.test");
        let token = "xoxb-17653672481-19874698323";
        let head = std::format!(
            "POST /api/auth.test HTTP/1.1\r\nHost: slack.com\r\nAuthorization: Bearer {token}\r\n\
             Accept: application/json\r\nContent-Length: 0\r\nUser-Agent: picoauth/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        for short in [0, 10, 60, head.len() - 1] {
            let mut buf = std::vec![0u8; short];
            let work = ApiWork {
                endpoint: &endpoint,
                access_token: token,
                buf: &mut buf,
            };
            let r = block_on(work.run(&mut Unused, Instant::now())).map(|_| ());
            assert!(
                matches!(
                    r,
                    Err(Error::Exchange(ExchangeError::Encode(
                        EncodeError::BufferTooSmall { needed }
                    ))) if needed == head.len()
                ),
                "{short}: {r:?}"
            );
            assert!(buf.iter().all(|&b| b == 0), "{short}: head left in buf");
        }
    }
}
