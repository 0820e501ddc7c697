//! An in-memory transport for the exchange drivers and one request per provider, shared by
//! the core's tests and the fuzz targets.
//!
//! The server side replays `wire` in reads of `sizes` bytes (cycled; none = as much as
//! fits; 0 counts as 1), then returns 0 (end of stream). Writes are accepted at most
//! 7 bytes per call, so a driver that does not loop in `write_all` is caught. Reading
//! before the request was flushed, or reading on and on after the end of stream, panics.

use core::convert::Infallible;

use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};

/// Bytes accepted per `write` call.
const WRITE_STEP: usize = 7;

/// Reads after which a driver is taken to be stuck in a loop.
const MAX_READS: usize = 1 << 20;

/// The in-memory transport: see the module docs.
#[derive(Debug)]
pub struct Replay<'a> {
    rest: &'a [u8],
    sizes: &'a [usize],
    turn: usize,
    flushed: bool,
    /// Everything the client wrote.
    pub written: Vec<u8>,
    /// Reads served, end of stream included.
    pub reads: usize,
}

impl<'a> Replay<'a> {
    /// A server that answers `wire`, `sizes` bytes per read.
    pub fn new(wire: &'a [u8], sizes: &'a [usize]) -> Self {
        Self {
            rest: wire,
            sizes,
            turn: 0,
            flushed: false,
            written: Vec::new(),
            reads: 0,
        }
    }

    fn read_now(&mut self, buf: &mut [u8]) -> usize {
        assert!(
            self.flushed,
            "the request must be flushed before the response is read"
        );
        let size = match self.sizes {
            [] => usize::MAX,
            s => s[self.turn % s.len()].max(1),
        };
        self.turn += 1;
        self.reads += 1;
        assert!(self.reads < MAX_READS, "the driver keeps reading");
        let n = buf.len().min(self.rest.len()).min(size);
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        n
    }

    fn write_now(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(WRITE_STEP);
        self.written.extend_from_slice(&buf[..n]);
        n
    }
}

impl embedded_io::ErrorType for Replay<'_> {
    type Error = Infallible;
}

impl embedded_io::Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.read_now(buf))
    }
}

impl embedded_io::Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(self.write_now(buf))
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        self.flushed = true;
        Ok(())
    }
}

impl embedded_io_async::Read for Replay<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.read_now(buf))
    }
}

impl embedded_io_async::Write for Replay<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(self.write_now(buf))
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        self.flushed = true;
        Ok(())
    }
}

/// A fixed, valid request for each provider (RFC 6749 on a loopback test endpoint).
pub fn requests() -> [TokenRequest<'static>; 4] {
    const RFC: Provider<'static> = Provider::rfc6749(Endpoint {
        tls: false,
        host: "127.0.0.1",
        port: 8080,
        path: "/oauth/token",
    });
    [
        TokenRequest::new(
            &SLACK_V2,
            ClientAuth::basic("111.222", "secret".into()),
            Grant::authorization_code("ccdaa72ad"),
        ),
        TokenRequest::new(
            &SLACK_V1,
            ClientAuth::post("111.222", "secret".into()),
            Grant::authorization_code("ccdaa72ad"),
        ),
        TokenRequest::new(
            &PINTEREST,
            ClientAuth::basic("test-app-id", "test-app-secret".into()),
            Grant::refresh_token("pinr_x"),
        )
        .continuous_refresh(true),
        TokenRequest::new(
            &RFC,
            ClientAuth::public("s6BhdRkqt3"),
            Grant::authorization_code("SplxlOBeZQQYbYS6WxSbIA")
                .with_code_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ),
    ]
}
