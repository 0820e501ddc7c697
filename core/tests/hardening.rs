//! Issue 18's core findings, each pinned by a test that failed before the fix:
//! secrets in `Debug` (1), wiping the request bytes (5), linear and bounded interim
//! `1xx` handling (7), strict loopback for `http://` (10), and providers that require
//! client authentication (17).

use picoauth::basic::BasicAuth;
use picoauth::callback::Callback;
use picoauth::exchange::{self, Exchange, Outcome};
use picoauth::http::response::{ResponseError, ResponseReader, Status, MAX_INTERIM_RESPONSES};
use picoauth::pkce::CodeVerifier;
use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::state::{SignedState, StateKey};
use picoauth::{ClientSecret, EncodeError};

const SECRET: &str = "CLIENTSECRETvalue0123456789";
const CODE: &str = "AUTHCODEvalue0123456789";
const VERIFIER: &str = "VERIFIERvalue0123456789abcdefghijklmnopqrstuvwxyz";
const REFRESH: &str = "REFRESHTOKENvalue0123456789";
const ACCESS: &str = "ACCESSTOKENvalue0123456789";

/// Every way a secret could show up in a `Debug` string: as text, and as the decimal
/// byte list a derived `Debug` of a `&[u8]` prints.
fn assert_hidden(what: &str, debug: &str, secret: &str) {
    assert!(
        !debug.contains(secret),
        "{what} Debug shows {secret}: {debug}"
    );
    // A long enough middle part, so a redacted prefix does not count.
    let tail = &secret[6..];
    assert!(!debug.contains(tail), "{what} Debug shows {tail}: {debug}");
    let bytes: Vec<String> = tail.bytes().map(|b| b.to_string()).collect();
    let decimal = bytes.join(", ");
    assert!(
        !debug.contains(&decimal),
        "{what} Debug shows the bytes of {secret}: {debug}"
    );
}

fn rfc() -> Provider<'static> {
    Provider::rfc6749(Endpoint::parse("https://auth.example.com/token").unwrap())
}

#[test]
fn every_public_type_holding_a_secret_redacts_it_in_debug() {
    let provider = rfc();
    let code_req = TokenRequest::new(
        &provider,
        ClientAuth::basic("client", ClientSecret::new(SECRET)),
        Grant::authorization_code(CODE).with_code_verifier(VERIFIER),
    );
    let refresh_req = TokenRequest::new(
        &provider,
        ClientAuth::post("client", ClientSecret::new(SECRET)),
        Grant::refresh_token(REFRESH),
    );
    let mut buf = [0u8; 2048];
    let ex = Exchange::new(&code_req, &mut buf).unwrap();
    let mut buf2 = [0u8; 2048];
    let ex2 = Exchange::new(&refresh_req, &mut buf2).unwrap();
    // The request bytes hold the secrets (Basic credentials are base64).
    assert!(core::str::from_utf8(ex2.request())
        .unwrap()
        .contains(REFRESH));
    // A parameter picoauth does not know may carry a secret (RFC 7523's assertion).
    let extra = [("client_assertion", SECRET)];
    let extra_req = refresh_req.with_extra(&extra);
    let debugs = [
        ("TokenRequest", format!("{code_req:?} {refresh_req:?}")),
        ("TokenRequest extra", format!("{extra_req:?}")),
        (
            "ClientAuth",
            format!("{:?}", ClientAuth::basic("c", ClientSecret::new(SECRET))),
        ),
        ("Grant", format!("{:?}", Grant::refresh_token(REFRESH))),
        (
            "BasicAuth",
            format!("{:?}", BasicAuth::new("c", ClientSecret::new(SECRET))),
        ),
        ("Exchange", format!("{ex:?} {ex2:?}")),
    ];
    for (what, d) in &debugs {
        for s in [SECRET, CODE, VERIFIER, REFRESH] {
            assert_hidden(what, d, s);
        }
    }

    // Reading, the reader and the outcome, once a token came back.
    let body = format!(
        r#"{{"access_token":"{ACCESS}","token_type":"Bearer","refresh_token":"{REFRESH}"}}"#
    );
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut reading = ex.into_reading();
    let spare = reading.spare();
    spare[..resp.len()].copy_from_slice(resp.as_bytes());
    assert_eq!(reading.advance(resp.len()), Ok(Status::Complete));
    let d = format!("{reading:?} {:?}", reading.response());
    assert_hidden("Reading", &d, ACCESS);
    assert_hidden("Reading", &d, REFRESH);
    let answer = reading.into_answer().unwrap();
    assert!(matches!(answer.outcome, Outcome::Token { .. }));
    let d = format!("{:?}", answer.outcome);
    assert_hidden("Outcome", &d, ACCESS);
    assert_hidden("Outcome", &d, REFRESH);
    let d = format!("{answer:?}");
    assert_hidden("Answer", &d, ACCESS);
    assert_hidden("Answer", &d, REFRESH);

    // The callback's code, a PKCE verifier, a state key and a signed state's MAC key.
    let target = format!("/callback?code={CODE}&state=s");
    let mut scratch = vec![0u8; target.len()];
    let cb = Callback::parse(target.as_bytes(), &mut scratch).unwrap();
    assert_hidden("Callback", &format!("{cb:?}"), CODE);
    let v = CodeVerifier::parse(VERIFIER).unwrap();
    assert_hidden("CodeVerifier", &format!("{v:?}"), VERIFIER);
    let key_bytes = *b"STATEKEYvalue0123456789abcdefghij";
    let key = StateKey::new(&key_bytes).unwrap();
    assert_hidden(
        "StateKey",
        &format!("{key:?}"),
        "STATEKEYvalue0123456789abcdefghij",
    );
    let _ = SignedState::new(&key, &[7; 16], 1, "http://127.0.0.1/cb");
}

#[test]
fn request_bytes_are_wiped_once_sent_or_dropped() {
    let provider = rfc();
    let req = TokenRequest::new(
        &provider,
        ClientAuth::post("client", ClientSecret::new(SECRET)),
        Grant::refresh_token(REFRESH),
    );
    // Moving on to reading wipes the request.
    let mut buf = [0u8; 1024];
    let len = {
        let ex = Exchange::new(&req, &mut buf).unwrap();
        let len = ex.request().len();
        let _reading = ex.into_reading();
        len
    };
    assert!(len > 0);
    assert!(buf[..len].iter().all(|&b| b == 0), "request not wiped");

    // An exchange dropped before reading (the write failed) wipes it too.
    let mut buf = [0u8; 1024];
    let len = {
        let ex = Exchange::new(&req, &mut buf).unwrap();
        ex.request().len()
    };
    assert!(
        buf[..len].iter().all(|&b| b == 0),
        "request not wiped on drop"
    );

    // A response that failed half-way is wiped by the driver.
    struct Io<'a>(&'a [u8]);
    impl embedded_io::ErrorType for Io<'_> {
        type Error = core::convert::Infallible;
    }
    impl embedded_io::Read for Io<'_> {
        fn read(&mut self, out: &mut [u8]) -> Result<usize, Self::Error> {
            let n = self.0.len().min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    impl embedded_io::Write for Io<'_> {
        fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> {
            Ok(b.len())
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let partial =
        format!("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{{\"access_token\":\"{ACCESS}\"");
    let mut buf = [0u8; 1024];
    let r = exchange::blocking::exchange(&mut Io(partial.as_bytes()), &req, &mut buf);
    assert!(r.is_err());
    assert!(buf.iter().all(|&b| b == 0), "failed response not wiped");
}

#[test]
fn a_response_is_wiped_when_the_async_driver_is_cancelled_half_way() {
    // A peer that sends half a token answer and then nothing: the caller's timeout
    // drops the driver's future, and the half answer must not stay in the buffer.
    use core::future::Future as _;
    struct Stall<'a>(&'a [u8]);
    impl embedded_io_async::ErrorType for Stall<'_> {
        type Error = core::convert::Infallible;
    }
    impl embedded_io_async::Read for Stall<'_> {
        async fn read(&mut self, out: &mut [u8]) -> Result<usize, Self::Error> {
            if self.0.is_empty() {
                core::future::pending::<()>().await;
            }
            let n = self.0.len().min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    impl embedded_io_async::Write for Stall<'_> {
        async fn write(&mut self, b: &[u8]) -> Result<usize, Self::Error> {
            Ok(b.len())
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
    let provider = rfc();
    let req = TokenRequest::new(
        &provider,
        ClientAuth::post("client", ClientSecret::new(SECRET)),
        Grant::refresh_token(REFRESH),
    );
    let partial =
        format!("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{{\"access_token\":\"{ACCESS}\"");
    let mut buf = [0u8; 1024];
    {
        let mut io = Stall(partial.as_bytes());
        let mut fut = core::pin::pin!(exchange::asynch::read_response(&mut io, &req, &mut buf));
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    assert!(buf.iter().all(|&b| b == 0), "cancelled response not wiped");
}

#[cfg(feature = "token-set")]
#[test]
fn a_token_set_secret_is_wiped_when_dropped() {
    // A token set replaced by a refresh answer drops the old tokens (an access token
    // that may still be valid among them): their bytes must not stay in RAM.
    use core::mem::{size_of, ManuallyDrop};
    use picoauth::token_set::{Field, SecretText};
    // As long as the capacity: every byte of the value is initialised.
    const TOKEN: &str = "WIPEMEwipeme0123";
    let mut slot = ManuallyDrop::new(SecretText::<16>::new(TOKEN, Field::AccessToken).unwrap());
    let at: *const u8 = (&raw const *slot).cast();
    // SAFETY: the value is dropped once, in place; its storage (`slot`) is still alive
    // when its bytes, all initialised, are read back.
    let after = unsafe {
        ManuallyDrop::drop(&mut slot);
        core::slice::from_raw_parts(at, size_of::<SecretText<16>>()).to_vec()
    };
    assert!(
        !after.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
        "dropped token still in memory"
    );
}

fn interim_stream(n: usize) -> Vec<u8> {
    let mut v = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
    v.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    v
}

#[test]
fn interim_responses_are_capped() {
    let cap = usize::from(MAX_INTERIM_RESPONSES);
    // Up to the cap, whole or byte by byte, the final response comes through.
    let ok = interim_stream(cap);
    let mut buf = vec![0u8; 4096];
    let mut r = ResponseReader::new(&mut buf);
    assert_eq!(r.feed(&ok).unwrap(), (ok.len(), Status::Complete));
    assert_eq!(r.response().unwrap().body, b"{}");
    let mut buf = vec![0u8; 4096];
    let mut r = ResponseReader::new(&mut buf);
    let mut last = Status::NeedMore;
    for b in &ok {
        last = r.feed(core::slice::from_ref(b)).unwrap().1;
    }
    assert_eq!(last, Status::Complete);
    assert_eq!(r.response().unwrap().status, 200);

    // One more is a typed error.
    let bad = interim_stream(cap + 1);
    let mut buf = vec![0u8; 4096];
    let mut r = ResponseReader::new(&mut buf);
    assert_eq!(r.feed(&bad), Err(ResponseError::TooManyInterimResponses));
}

#[test]
fn a_flood_of_interim_responses_is_refused_quickly() {
    // 5 MB of `100 Continue`: quadratic copying took about 18 s before the fix.
    let flood = interim_stream(5 * 1024 * 1024 / 25);
    let mut buf = vec![0u8; flood.len() + 1024];
    let start = std::time::Instant::now();
    let mut r = ResponseReader::new(&mut buf);
    assert_eq!(r.feed(&flood), Err(ResponseError::TooManyInterimResponses));
    assert!(
        start.elapsed() < core::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn plain_http_only_for_real_loopback_hosts() {
    for ok in [
        "http://127.0.0.1/t",
        "http://127.255.0.9:8080/t",
        "http://localhost/t",
        "http://LOCALHOST:1/t",
        "http://[::1]:9/t",
        "http://[0:0:0:0:0:0:0:1]/t",
    ] {
        assert!(Endpoint::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://127.0.0.1.1.1/token",
        "http://127.0.0.1.nip.io/t",
        "http://127.1/t",
        "http://127.0.0.256/t",
        "http://localhost.example.com/t",
        "http://[::2]/t",
        "http://[::ffff:127.0.0.1]/t",
        "http://128.0.0.1/t",
    ] {
        assert!(Endpoint::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Endpoint::parse("http://127.0.0.1.1.1/token"),
        Err(picoauth::provider::EndpointError::InsecureUrl)
    );
}

#[test]
fn providers_that_require_client_authentication_refuse_a_public_client() {
    for p in [SLACK_V1, PINTEREST] {
        let req = TokenRequest::new(&p, ClientAuth::public("c"), Grant::authorization_code("x"));
        assert_eq!(
            req.validate(),
            Err(EncodeError::ClientAuthRequired),
            "{p:?}"
        );
        let mut buf = [0u8; 1024];
        assert_eq!(req.encode(&mut buf), Err(EncodeError::ClientAuthRequired));
        let ok = TokenRequest::new(
            &p,
            ClientAuth::basic("c", ClientSecret::new("s")),
            Grant::authorization_code("x"),
        );
        assert_eq!(ok.validate(), Ok(()));
    }
    // Slack v2 documents `client_secret` as optional; RFC 6749 servers take PKCE.
    for p in [SLACK_V2, rfc()] {
        let req = TokenRequest::new(&p, ClientAuth::public("c"), Grant::authorization_code("x"));
        assert_eq!(req.validate(), Ok(()));
    }
}

#[test]
fn a_base_url_carrying_a_parameter_picoauth_sets_is_refused() {
    use picoauth::authorize::{AuthorizeError, AuthorizeRequest};
    for (base, what) in [
        ("https://auth.example.com/authorize?state=attacker", "state"),
        (
            "https://auth.example.com/authorize?a=1&redirect_uri=https://evil",
            "redirect_uri",
        ),
        ("https://auth.example.com/authorize?st%61te=x", "state"),
        ("https://auth.example.com/authorize?client_id", "client_id"),
        (
            "https://auth.example.com/authorize?x=1&code_challenge=abc",
            "code_challenge",
        ),
    ] {
        let req = AuthorizeRequest::rfc6749(base, "c").with_state("s");
        assert_eq!(
            req.validate(),
            Err(AuthorizeError::ParamInBaseUrl { what }),
            "{base}"
        );
        let mut out = [0u8; 512];
        assert_eq!(
            req.encode(&mut out),
            Err(AuthorizeError::ParamInBaseUrl { what })
        );
    }
    // Other parameters are kept.
    let req =
        AuthorizeRequest::rfc6749("https://auth.example.com/authorize?tenant=a&states=1", "c")
            .with_state("s");
    let mut out = [0u8; 512];
    let n = req.encode(&mut out).unwrap();
    let url = core::str::from_utf8(&out[..n]).unwrap();
    assert!(
        url.starts_with("https://auth.example.com/authorize?tenant=a&states=1&"),
        "{url}"
    );
    assert_eq!(url.matches("state=s").count(), 1, "{url}");
}
