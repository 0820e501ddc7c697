//! Proof that the core never touches the heap: a counting `#[global_allocator]`
//! (per thread, so the test harness's own threads do not disturb the count) wraps
//! every encode, every fixture parse and full `blocking::exchange` runs over an
//! in-memory transport, and each must perform zero allocations.
//!
//! Everything the checks need (fixture bytes, HTTP wire images) is prepared before
//! the counting window opens; inside the window only picoauth code runs.

use std::path::Path;

use picoauth::exchange::{blocking, interpret, Outcome};
use picoauth::http::response::{Response, ResponseReader, Status};
use picoauth::provider::{Endpoint, Provider, ProviderKind, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_test_support::alloc::{count_on_this_thread as count, Counting};
use picoauth_test_support::sources::{fixtures, Fixture};

/// Counts allocations per thread, so the test harness's own threads do not disturb it.
#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_counter_sees_allocations() {
    // Without this, a broken allocator hook would make every other test pass vacuously.
    let (v, n) = count(|| core::hint::black_box(vec![1u8; 64]));
    assert_eq!(v.len(), 64);
    assert_eq!(n, 1);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Too Many Requests",
    }
}

/// The fixture as a `Content-Length` response and as a chunked one (two chunks).
fn wire_images(f: &Fixture) -> [Vec<u8>; 2] {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json; charset=utf-8\r\n",
        f.status,
        reason(f.status)
    );
    let mut plain = format!("{head}Content-Length: {}\r\n\r\n", f.body.len()).into_bytes();
    plain.extend_from_slice(&f.body);
    let mut chunked = format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
    let (a, b) = f.body.split_at(f.body.len() / 2);
    for part in [a, b] {
        if !part.is_empty() {
            chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            chunked.extend_from_slice(part);
            chunked.extend_from_slice(b"\r\n");
        }
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    [plain, chunked]
}

/// A summary of an outcome that is `Copy` and says what kind of answer it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Token,
    Error,
    RateLimited,
    HttpError,
    Failed,
}

fn shape<E>(r: &Result<Outcome<'_>, E>) -> Shape {
    match r {
        Ok(Outcome::Token { .. }) => Shape::Token,
        Ok(Outcome::Error { .. }) => Shape::Error,
        Ok(Outcome::RateLimited { .. }) => Shape::RateLimited,
        Ok(Outcome::HttpError { .. }) => Shape::HttpError,
        Ok(_) => unreachable!("new outcome variant"),
        Err(_) => Shape::Failed,
    }
}

#[test]
fn parsing_every_fixture_allocates_nothing() {
    let fixtures = fixtures();
    let images: Vec<[Vec<u8>; 2]> = fixtures.iter().map(wire_images).collect();
    let mut shapes = Vec::with_capacity(fixtures.len());
    let mut buf = [0u8; 4096];
    for (f, wires) in fixtures.iter().zip(&images) {
        // The body alone, as `interpret` sees it.
        let (s, n) = count(|| {
            let mut resp = Response::new(f.status, &f.body);
            resp.content_type = Some("application/json");
            shape(&interpret(f.kind, &resp))
        });
        assert_eq!(n, 0, "{}: interpret allocated {n} times", f.name);
        shapes.push(s);
        // The whole HTTP response, head and body, plain and chunked.
        for wire in wires {
            let (s2, n) = count(|| {
                let mut reader = ResponseReader::new(&mut buf);
                let (used, status) = reader.feed(wire).expect("valid response");
                assert_eq!((used, status), (wire.len(), Status::Complete));
                let resp = reader.response().expect("complete");
                shape(&interpret(f.kind, &resp))
            });
            assert_eq!(
                n, 0,
                "{}: HTTP read + interpret allocated {n} times",
                f.name
            );
            assert_eq!(s2, s, "{}: same answer through HTTP", f.name);
        }
    }
    // The fixtures cover tokens, provider errors, rate limits and a broken body:
    // the zero counts above are over real work on every path, not one early return.
    for want in [
        Shape::Token,
        Shape::Error,
        Shape::RateLimited,
        Shape::Failed,
    ] {
        assert!(
            shapes.contains(&want),
            "no fixture gave {want:?}: {shapes:?}"
        );
    }
    let tokens = shapes.iter().filter(|s| **s == Shape::Token).count();
    assert!(tokens >= 25, "only {tokens} token answers");
}

/// Every provider × grant × client authentication the core encodes.
fn requests<'a>(generic: &'a Provider<'a>) -> Vec<TokenRequest<'a>> {
    let providers = [SLACK_V2, SLACK_V1, PINTEREST, *generic];
    let auths = [
        ClientAuth::basic("111.222", "secret".into()),
        ClientAuth::post("aaa/;&", "bbb/;&".into()),
        ClientAuth::public("s6BhdRkqt3"),
    ];
    let grants = [
        Grant::authorization_code("SplxlOBeZQQYbYS6WxSbIA")
            .with_redirect_uri("https://client.example.com/cb")
            .with_code_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        Grant::refresh_token("xoxe-1-My0xLTEtMjM0NTY3ODkwLTEyMzQ1Njc4OTAtYWJj")
            .with_scope("chat:write"),
        Grant::client_credentials().with_scope("user_accounts:read,pins:read,boards:read"),
    ];
    let mut out = Vec::new();
    for p in &providers {
        for a in auths {
            for g in grants {
                out.push(TokenRequest::new(p, a, g));
                out.push(
                    TokenRequest::new(p, a, g)
                        .with_extra(&[("foo", "bar baz")])
                        .continuous_refresh(true),
                );
            }
        }
    }
    out
}

#[test]
fn encoding_every_request_allocates_nothing() {
    let generic =
        Provider::rfc6749(Endpoint::parse("https://auth.example.com:8443/oauth/token").unwrap());
    let reqs = requests(&generic);
    let mut buf = [0u8; 2048];
    let mut encoded = 0;
    for req in &reqs {
        let (r, n) = count(|| {
            let len = req.encoded_len();
            let wrote = req.encode(&mut buf);
            let body = req.body_len();
            (len, wrote, body)
        });
        assert_eq!(n, 0, "{req:?}: encode allocated {n} times");
        // Some combinations are refused (a grant a provider does not take); both
        // outcomes are fine here, but the two paths must agree.
        match r {
            (Ok(len), Ok(wrote), Ok(_)) => {
                assert_eq!(len, wrote);
                assert!(buf[..wrote].starts_with(b"POST "));
                encoded += 1;
            }
            (Err(a), Err(b), _) => assert_eq!(a, b),
            other => panic!("{req:?}: len and encode disagree: {other:?}"),
        }
    }
    // Refused: grants a provider does not take, and public clients of the providers
    // that require client authentication (Slack v1, Pinterest).
    assert!(
        encoded >= 18,
        "only {encoded} of {} requests encoded",
        reqs.len()
    );
}

/// An in-memory connection: writes are kept in a fixed array, reads come from a
/// prepared answer in small pieces (so the driver loops as on a real socket).
struct Pipe<'a> {
    written: [u8; 2048],
    written_len: usize,
    answer: &'a [u8],
    piece: usize,
}

impl embedded_io::ErrorType for Pipe<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.piece).min(self.answer.len());
        let (now, rest) = self.answer.split_at(n);
        buf[..n].copy_from_slice(now);
        self.answer = rest;
        Ok(n)
    }
}

impl embedded_io::Write for Pipe<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let room = &mut self.written[self.written_len..];
        let n = buf.len().min(room.len());
        room[..n].copy_from_slice(&buf[..n]);
        self.written_len += n;
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn a_whole_blocking_exchange_allocates_nothing() {
    let fixtures = fixtures();
    let images: Vec<[Vec<u8>; 2]> = fixtures.iter().map(wire_images).collect();
    let generic = Provider::rfc6749(Endpoint::parse("https://auth.example.com/token").unwrap());
    let mut tokens = 0;
    for (f, wires) in fixtures.iter().zip(&images) {
        let provider = match f.kind {
            ProviderKind::SlackV2 => SLACK_V2,
            ProviderKind::SlackV1 => SLACK_V1,
            ProviderKind::Pinterest => PINTEREST,
            _ => generic,
        };
        let req = TokenRequest::new(
            &provider,
            ClientAuth::basic("111.222", "secret".into()),
            Grant::authorization_code("c0de"),
        );
        for wire in wires {
            let mut pipe = Pipe {
                written: [0; 2048],
                written_len: 0,
                answer: wire,
                piece: 61,
            };
            let mut buf = [0u8; 4096];
            let (s, n) = count(|| {
                let r = blocking::exchange(&mut pipe, &req, &mut buf);
                let keep_alive = r.as_ref().map(|a| a.response.keep_alive).map_err(|_| ());
                (shape(&r.map(|a| a.outcome)), keep_alive)
            });
            assert_eq!(n, 0, "{}: exchange allocated {n} times", f.name);
            assert!(pipe.written[..pipe.written_len].starts_with(b"POST "));
            assert!(
                pipe.answer.is_empty(),
                "{}: answer not read to the end",
                f.name
            );
            if s.0 == Shape::Token {
                tokens += 1;
                assert_eq!(s.1, Ok(true), "{}: HTTP/1.1 keep-alive", f.name);
            }
        }
    }
    assert!(tokens >= 50, "only {tokens} token exchanges");
}

#[test]
fn the_token_set_model_allocates_nothing() {
    use picoauth::exchange::Token;
    use picoauth::json::slack::{parse_v2, SlackV2};
    use picoauth::token_set::{Slot, TokenSet};
    let code = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/slack-v2-spec-example-bot-and-user.json"),
    )
    .unwrap();
    let rotation = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/slack-v2-python-sdk-rotation-refresh.json"),
    )
    .unwrap();
    let mut buf = [0u8; 4096];
    let (ok, n) = count(|| {
        let SlackV2::Token(t) = parse_v2(&code).ok()? else {
            return None;
        };
        let mut set: TokenSet = TokenSet::from_token(&Token::SlackV2(t), 10).ok()?;
        let SlackV2::Token(r) = parse_v2(&rotation).ok()? else {
            return None;
        };
        set.apply(&Token::SlackV2(r), 20).ok()?;
        let slot = set.needs_refresh(43_200, 120)?;
        let auth = ClientAuth::basic("111.222", "secret".into());
        let len = set
            .refresh_request(slot, &SLACK_V2, auth)
            .ok()?
            .encode(&mut buf[..2048])
            .ok()?;
        let written = set.encode(&mut buf[2048..]).ok()?;
        let back: TokenSet = TokenSet::decode(&buf[2048..2048 + written]).ok()?;
        Some(len > 0 && back == set && slot == Slot::Main)
    });
    assert_eq!(ok, Some(true));
    assert_eq!(n, 0, "the token-set model allocated {n} times");
}
