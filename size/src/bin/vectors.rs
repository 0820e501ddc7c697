//! The core's test vectors on a Cortex-M3 (qemu `lm3s6965evb`, semihosting): exact
//! request bytes, every fixture parsed through the HTTP reader, error cases, whole
//! exchanges over an in-memory transport, and the peak stack of encode and parse
//! (painted stack). Prints `N passed, N failed` and exits non-zero on failure.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use picoauth::exchange::{blocking, interpret, Outcome};
use picoauth::http::response::{Response, ResponseError, ResponseReader, RetryAfter, Status};
use picoauth::provider::{Endpoint, Provider, ProviderKind, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest, DEFAULT_USER_AGENT};
use picoauth::EncodeError;
use picoauth_size::fixtures::{self, Shape};
use picoauth_size::semihosting::halt;
use picoauth_size::stack;

static PASSED: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);

fn check(ok: bool, what: &str) {
    if ok {
        PASSED.fetch_add(1, Ordering::Relaxed);
    } else {
        FAILED.fetch_add(1, Ordering::Relaxed);
        hprintln!("FAIL: {}", what);
    }
}

fn shape<E>(r: &Result<Outcome<'_>, E>) -> Shape {
    match r {
        Ok(Outcome::Token { .. }) => Shape::Token,
        Ok(Outcome::Error { .. }) => Shape::Error,
        Ok(Outcome::RateLimited { .. }) => Shape::RateLimited,
        Ok(Outcome::HttpError { .. }) => Shape::HttpError,
        Ok(_) => Shape::Failed,
        Err(_) => Shape::Failed,
    }
}

/// A fixed-capacity byte string, to build expected requests and wire images
/// without `alloc`.
struct Bytes<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Bytes<N> {
    const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }
    fn push(&mut self, b: &[u8]) -> &mut Self {
        let end = (self.len + b.len()).min(N);
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&b[..n]);
        self.len = end;
        self
    }
    fn num(&mut self, mut v: usize, radix: usize) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[v % radix];
            v /= radix;
            if v == 0 {
                break;
            }
        }
        let d = digits;
        self.push(&d[i..])
    }
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The whole request picoauth must write: the layout of `core/tests/request_bytes.rs`.
fn expected_request(path: &str, host: &str, basic: Option<&str>, body: &str) -> Bytes<1024> {
    let mut s = Bytes::new();
    s.push(b"POST ")
        .push(path.as_bytes())
        .push(b" HTTP/1.1\r\nHost: ");
    s.push(host.as_bytes()).push(b"\r\n");
    if let Some(a) = basic {
        s.push(b"Authorization: Basic ")
            .push(a.as_bytes())
            .push(b"\r\n");
    }
    s.push(b"Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: ");
    s.num(body.len(), 10);
    s.push(b"\r\nUser-Agent: ")
        .push(DEFAULT_USER_AGENT.as_bytes());
    s.push(b"\r\n\r\n").push(body.as_bytes());
    s
}

fn request_vectors(rfc: &Provider<'_>) {
    struct V<'a> {
        what: &'a str,
        req: TokenRequest<'a>,
        path: &'a str,
        host: &'a str,
        basic: Option<&'a str>,
        body: &'a str,
    }
    let slack = ClientAuth::basic("111.222", "secret".into());
    let pin = ClientAuth::basic("test-app-id", "test-app-secret".into());
    let rfc_auth = ClientAuth::basic("s6BhdRkqt3", "gX1fBat3bV".into());
    let code = Grant::authorization_code("ccdaa72ad").with_redirect_uri("http://example.com");
    let vectors = [
        V {
            what: "slack v2 code, Basic",
            req: TokenRequest::new(&SLACK_V2, slack, code),
            path: "/api/oauth.v2.access",
            host: "slack.com",
            basic: Some("MTExLjIyMjpzZWNyZXQ="),
            body: "code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com",
        },
        V {
            what: "slack v2 code, body credentials",
            req: TokenRequest::new(&SLACK_V2, ClientAuth::post("111.222", "secret".into()), code),
            path: "/api/oauth.v2.access",
            host: "slack.com",
            basic: None,
            body: "code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com&client_id=111.222&client_secret=secret",
        },
        V {
            what: "slack v1 code, Basic",
            req: TokenRequest::new(&SLACK_V1, slack, Grant::authorization_code("ccdaa72ad")),
            path: "/api/oauth.access",
            host: "slack.com",
            basic: Some("MTExLjIyMjpzZWNyZXQ="),
            body: "code=ccdaa72ad",
        },
        V {
            what: "pinterest client_credentials (api-quickstart)",
            req: TokenRequest::new(
                &PINTEREST,
                pin,
                Grant::client_credentials().with_scope("user_accounts:read,pins:read,boards:read"),
            ),
            path: "/v5/oauth/token",
            host: "api.pinterest.com",
            basic: Some("dGVzdC1hcHAtaWQ6dGVzdC1hcHAtc2VjcmV0"),
            body: "grant_type=client_credentials&scope=user_accounts%3Aread%2Cpins%3Aread%2Cboards%3Aread",
        },
        V {
            what: "rfc6749 §6 refresh",
            req: TokenRequest::new(rfc, rfc_auth, Grant::refresh_token("tGzv3JOkF0XG5Qx2TlKWIA")),
            path: "/token",
            host: "server.example.com",
            basic: Some("czZCaGRSa3F0MzpnWDFmQmF0M2JW"),
            body: "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA",
        },
        V {
            what: "rfc6749 §2.3.1 AppAuth #337 credentials",
            req: TokenRequest::new(
                rfc,
                ClientAuth::basic("1PpG/Q 1", "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=".into()),
                Grant::client_credentials(),
            ),
            path: "/token",
            host: "server.example.com",
            basic: Some("MVBwRyUyRlElMjAxOnolMkZ0WjlWd0ZacUFwbUlRJTJCWkgxSTVwTGslMkZ1QjR1ZCUzQVgyJTJGOGJMJTJCd2ZGVHQxckZ3JTNE"),
            body: "grant_type=client_credentials",
        },
    ];
    for v in &vectors {
        let want = expected_request(v.path, v.host, v.basic, v.body);
        let mut out = [0u8; 1024];
        let n = v.req.encode(&mut out);
        check(n.map(|n| &out[..n]) == Ok(want.as_slice()), v.what);
        check(v.req.encoded_len() == Ok(want.len), v.what);
        // Too small: the error says how much, and the buffer is untouched.
        let mut small = [0xA5u8; 64];
        let r = v.req.encode(&mut small);
        check(
            r == Err(EncodeError::BufferTooSmall { needed: want.len })
                && small.iter().all(|b| *b == 0xA5),
            v.what,
        );
    }
}

/// The fixture as an HTTP response: `Content-Length` framing or two chunks.
fn wire(status: u16, body: &[u8], chunked: bool) -> Bytes<2048> {
    let mut w = Bytes::new();
    w.push(b"HTTP/1.1 ").num(status as usize, 10);
    w.push(b" X\r\nContent-Type: application/json; charset=utf-8\r\n");
    if status == 429 {
        w.push(b"Retry-After: 1\r\n");
    }
    if chunked {
        w.push(b"Transfer-Encoding: chunked\r\n\r\n");
        let (a, b) = body.split_at(body.len() / 2);
        for part in [a, b] {
            if !part.is_empty() {
                w.num(part.len(), 16).push(b"\r\n").push(part).push(b"\r\n");
            }
        }
        w.push(b"0\r\n\r\n");
    } else {
        w.push(b"Content-Length: ")
            .num(body.len(), 10)
            .push(b"\r\n\r\n")
            .push(body);
    }
    w
}

fn fixture_vectors(peak_parse: &mut usize) {
    let mut buf = [0u8; 2048];
    for &(name, kind, status, want, body) in fixtures::FIXTURES {
        let mut direct = Response::new(status, body);
        direct.content_type = Some("application/json");
        let direct = shape(&interpret(kind, &direct));
        check(direct == want, name);
        for chunked in [false, true] {
            let w = wire(status, body, chunked);
            let (got, used) = stack::peak(|| {
                let mut reader = ResponseReader::new(&mut buf);
                match reader.feed(w.as_slice()) {
                    Ok((_, Status::Complete)) => match reader.response() {
                        Some(r) => shape(&interpret(kind, &r)),
                        None => Shape::Failed,
                    },
                    _ => Shape::Failed,
                }
            });
            *peak_parse = (*peak_parse).max(used);
            check(got == want, name);
        }
    }
}

fn http_error_vectors() {
    let mut buf = [0u8; 512];
    let mut feed = |wire: &[u8]| {
        let mut r = ResponseReader::new(&mut buf);
        r.feed(wire).map(|(_, s)| s)
    };
    check(
        matches!(
            feed(b"HTTP/1.1 2000 OK\r\n\r\n"),
            Err(ResponseError::InvalidHead(_))
        ),
        "four-digit status",
    );
    check(
        feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}")
            == Err(ResponseError::ContentLengthWithChunked),
        "Content-Length with chunked",
    );
    check(
        feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
            == Err(ResponseError::DuplicateContentLength),
        "duplicate Content-Length",
    );
    check(
        feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
            == Err(ResponseError::UnsupportedTransferCoding),
        "gzip",
    );
    check(
        feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            == Err(ResponseError::InvalidChunkSize),
        "bad chunk size",
    );
    check(
        feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
            == Err(ResponseError::BodyTooLarge { needed: Some(5041) }),
        "body too large",
    );
    // Every prefix of a valid response needs more; it is never an error.
    let full = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
    let all_prefixes = (0..full.len()).all(|n| feed(&full[..n]) == Ok(Status::NeedMore));
    check(all_prefixes, "prefixes need more");
    check(feed(full) == Ok(Status::Complete), "complete");
    // The peer closes early.
    let mut r = ResponseReader::new(&mut buf);
    let _ = r.feed(&full[..full.len() - 3]);
    check(r.finish() == Err(ResponseError::Truncated), "truncated");
    // A 429 with Retry-After is a rate limit, with the delay.
    let mut r = ResponseReader::new(&mut buf);
    let _ =
        r.feed(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n");
    let limited = r
        .response()
        .map(|resp| interpret(ProviderKind::SlackV2, &resp));
    check(
        matches!(
            limited,
            Some(Ok(Outcome::RateLimited {
                retry_after: Some(RetryAfter::Seconds(30)),
                ..
            }))
        ),
        "429 Retry-After",
    );
}

/// An in-memory connection answering with a prepared response in 37-byte reads.
struct Pipe<'a> {
    answer: &'a [u8],
    written: usize,
}

impl embedded_io::ErrorType for Pipe<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(37).min(self.answer.len());
        let (now, rest) = self.answer.split_at(n);
        buf[..n].copy_from_slice(now);
        self.answer = rest;
        Ok(n)
    }
}

impl embedded_io::Write for Pipe<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn exchange_vectors(rfc: &Provider<'_>, peak_exchange: &mut usize) {
    let mut buf = [0u8; 2048];
    for &(name, kind, status, want, body) in fixtures::FIXTURES {
        let provider = match kind {
            ProviderKind::SlackV2 => SLACK_V2,
            ProviderKind::SlackV1 => SLACK_V1,
            ProviderKind::Pinterest => PINTEREST,
            _ => *rfc,
        };
        let req = TokenRequest::new(
            &provider,
            ClientAuth::basic("111.222", "secret".into()),
            Grant::authorization_code("c0de"),
        );
        let w = wire(status, body, false);
        let mut pipe = Pipe {
            answer: w.as_slice(),
            written: 0,
        };
        let (got, used) = stack::peak(|| {
            shape(&blocking::exchange(&mut pipe, &req, &mut buf).map(|a| a.outcome))
        });
        *peak_exchange = (*peak_exchange).max(used);
        check(
            got == want && pipe.written > 0 && pipe.answer.is_empty(),
            name,
        );
    }
}

fn encode_peak(rfc: &Provider<'_>) -> usize {
    let mut peak = 0;
    let mut out = [0u8; 1024];
    let auths = [
        ClientAuth::basic("111.222", "secret".into()),
        ClientAuth::post("111.222", "secret".into()),
        ClientAuth::public("111.222"),
    ];
    let grants = [
        Grant::authorization_code("code")
            .with_redirect_uri("https://a.example/cb")
            .with_code_verifier("v"),
        Grant::refresh_token("r").with_scope("a b"),
        Grant::client_credentials().with_scope("a b"),
    ];
    for p in [SLACK_V2, SLACK_V1, PINTEREST, *rfc] {
        for a in auths {
            for g in grants {
                let req = TokenRequest::new(&p, a, g);
                let (_, used) = stack::peak(|| req.encode(&mut out));
                peak = peak.max(used);
            }
        }
    }
    peak
}

#[entry]
fn main() -> ! {
    let rfc = match Endpoint::parse("https://server.example.com/token") {
        Ok(ep) => Provider::rfc6749(ep),
        Err(_) => {
            hprintln!("FAIL: endpoint");
            debug::exit(debug::EXIT_FAILURE);
            halt()
        }
    };
    request_vectors(&rfc);
    let mut peak_parse = 0;
    fixture_vectors(&mut peak_parse);
    http_error_vectors();
    let mut peak_exchange = 0;
    exchange_vectors(&rfc, &mut peak_exchange);
    let peak_encode = encode_peak(&rfc);
    hprintln!(
        "peak stack: encode {} B, parse (HTTP + JSON) {} B, blocking::exchange {} B",
        peak_encode,
        peak_parse,
        peak_exchange
    );
    // The issue's goal: at most 2 KiB of stack for encode and for parse.
    check(peak_encode <= 2048, "encode peak stack <= 2 KiB");
    check(peak_parse <= 2048, "parse peak stack <= 2 KiB");
    let (p, f) = (
        PASSED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed),
    );
    hprintln!("{} passed, {} failed", p, f);
    debug::exit(if f == 0 && p > 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    halt()
}
