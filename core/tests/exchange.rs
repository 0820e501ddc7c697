//! The exchange driver (blocking and async) over an in-memory transport that
//! delivers the response in random splits, and the outcome rules for every fixture.

use picoauth::exchange::{
    self, interpret, ExchangeError, InterpretError, Outcome, ProviderError, Token,
};
use picoauth::http::response::{Response, ResponseError, RetryAfter};
use picoauth::json::JsonError;
use picoauth::provider::{Endpoint, Provider, ProviderKind, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use proptest::prelude::*;

use picoauth_test_support::replay::Replay;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn http(status: u16, content_type: Option<&str>, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status} X\r\n");
    if let Some(ct) = content_type {
        r += &format!("Content-Type: {ct}\r\n");
    }
    r += extra;
    r += &format!("Content-Length: {}\r\n\r\n", body.len());
    let mut v = r.into_bytes();
    v.extend_from_slice(body);
    v
}

fn chunked(status: u16, body: &[u8], piece: usize) -> Vec<u8> {
    let mut v = format!("HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    for c in body.chunks(piece.max(1)) {
        v.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
        v.extend_from_slice(c);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
    v
}

fn slack_req() -> TokenRequest<'static> {
    TokenRequest::new(
        &SLACK_V2,
        ClientAuth::basic("111.222", "secret".into()),
        Grant::authorization_code("c0de"),
    )
}

/// A small summary of an outcome, comparable across runs.
fn summary(o: &Outcome<'_>) -> String {
    match o {
        Outcome::Token { status, token } => {
            let access = match token {
                Token::SlackV2(t) => t
                    .access_token
                    .map(|a| a.expose().chars().collect::<String>()),
                Token::SlackV1(t) => Some(t.access_token.expose().chars().collect()),
                Token::Pinterest(t) => Some(t.access_token.expose().chars().collect()),
                Token::Rfc6749(t) => Some(t.access_token.expose().chars().collect()),
                _ => None,
            };
            format!("token {status} {access:?}")
        }
        Outcome::Error { status, error } => format!("error {status} {}", code(error)),
        Outcome::RateLimited {
            status,
            retry_after,
            error,
        } => {
            format!(
                "ratelimited {status} {retry_after:?} {:?}",
                error.as_ref().map(code)
            )
        }
        Outcome::HttpError { status } => format!("http {status}"),
        _ => "other".into(),
    }
}

fn code(e: &ProviderError<'_>) -> String {
    match e {
        ProviderError::Slack(e) => e.code.to_string(),
        ProviderError::Pinterest(e) => e.code.to_string(),
        ProviderError::Rfc6749(e) => e.code.to_string(),
        _ => "?".into(),
    }
}

#[test]
fn blocking_driver_writes_the_request_and_reads_the_answer() {
    let body = fixture("slack-v2-spec-example-bot-and-user.json");
    let resp = http(200, Some("application/json; charset=utf-8"), "", &body);
    let mut io = Replay::new(&resp, &[1, 2, 3, 5, 8, 13]);
    let mut buf = [0u8; 2048];
    let req = slack_req();
    let answer = exchange::blocking::exchange(&mut io, &req, &mut buf).unwrap();
    assert!(answer.response.keep_alive);
    assert_eq!(
        answer.response.content_type,
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        summary(&answer.outcome),
        "token 200 Some(\"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy\")"
    );
    let mut want = vec![0u8; req.encoded_len().unwrap()];
    req.encode(&mut want).unwrap();
    assert_eq!(io.written, want);
}

#[test]
fn async_driver_matches_the_blocking_one() {
    let body = fixture("pinterest-docs-refresh-continuous.json");
    let resp = chunked(200, &body, 17);
    let req = TokenRequest::new(
        &PINTEREST,
        ClientAuth::basic("a", "b".into()),
        Grant::refresh_token("r"),
    );
    let mut buf1 = [0u8; 2048];
    let mut io1 = Replay::new(&resp, &[3]);
    let o1 = exchange::blocking::exchange(&mut io1, &req, &mut buf1)
        .unwrap()
        .outcome;
    let mut buf2 = [0u8; 2048];
    let mut io2 = Replay::new(&resp, &[11]);
    let o2 = futures::executor::block_on(exchange::asynch::exchange(&mut io2, &req, &mut buf2))
        .unwrap()
        .outcome;
    assert_eq!(summary(&o1), summary(&o2));
    assert!(summary(&o1).starts_with("token 200"));
    assert_eq!(io1.written, io2.written);
}

#[test]
fn buffer_too_small_for_the_request_says_how_much() {
    let req = slack_req();
    let need = req.encoded_len().unwrap();
    let mut buf = vec![0u8; need - 1];
    let mut io = Replay::new(b"", &[]);
    match exchange::blocking::exchange(&mut io, &req, &mut buf) {
        Err(ExchangeError::Encode(picoauth::EncodeError::BufferTooSmall { needed })) => {
            assert_eq!(needed, need)
        }
        other => panic!("{other:?}"),
    }
    assert!(
        io.written.is_empty(),
        "nothing may be sent when encoding fails"
    );
}

#[test]
fn response_larger_than_the_buffer_is_an_error() {
    let body = fixture("slack-v2-java-json-logs-all-fields.json");
    let resp = http(200, Some("application/json"), "", &body);
    let mut buf = vec![0u8; 512];
    let mut io = Replay::new(&resp, &[64]);
    match exchange::blocking::exchange(&mut io, &slack_req(), &mut buf) {
        Err(ExchangeError::Response(ResponseError::BodyTooLarge { needed })) => {
            assert_eq!(needed, Some(resp.len()))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn peer_closing_early_is_truncated() {
    let body = fixture("rfc6749-4.1.4-access-token-response.json");
    let resp = http(200, Some("application/json"), "", &body);
    let p = Provider::rfc6749(Endpoint::parse("https://as.example/token").unwrap());
    let req = TokenRequest::new(&p, ClientAuth::public("c"), Grant::client_credentials());
    for cut in [0, 10, resp.len() / 2, resp.len() - 1] {
        let mut io = Replay::new(&resp[..cut], &[5]);
        let mut buf = [0u8; 2048];
        match exchange::blocking::exchange(&mut io, &req, &mut buf) {
            Err(ExchangeError::Response(ResponseError::Truncated)) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

/// Every fixture with the HTTP status its source gives, and the outcome it must have.
fn fixture_cases() -> Vec<(&'static str, ProviderKind, u16, &'static str)> {
    use ProviderKind::*;
    vec![
        (
            "slack-v2-spec-example-bot-and-user.json",
            SlackV2,
            200,
            "token 200 Some(\"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy\")",
        ),
        (
            "slack-v2-spec-error-invalid-client-id.json",
            SlackV2,
            200,
            "error 200 invalid_client_id",
        ),
        (
            "slack-v2-bolt-python-code-exchange.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-bolt-python-rotation-bot-refresh.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-bolt-python-rotation-user-refresh.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-bolt-python-error-invalid-auth.json",
            SlackV2,
            200,
            "error 200 invalid_auth",
        ),
        (
            "slack-v2-python-sdk-rotation-refresh.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-python-sdk-ok-true-only.json",
            SlackV2,
            200,
            "token 200 None",
        ),
        (
            "slack-v2-python-sdk-error-invalid.json",
            SlackV2,
            200,
            "error 200 invalid",
        ),
        (
            "slack-v2-python-sdk-error-ratelimited-429.json",
            SlackV2,
            429,
            "ratelimited 429 Some(Seconds(1)) Some(\"ratelimited\")",
        ),
        (
            "slack-v2-java-bolt-mock-code-exchange.json",
            SlackV2,
            200,
            "token 200 Some(\"xoxb-this-is-valid\")",
        ),
        (
            "slack-v2-slack-go-enterprise-empty-strings.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-oauth2-slack-php-incoming-webhook-escaped.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-oauth2-slack-php-enterprise-null.json",
            SlackV2,
            200,
            "token 200",
        ),
        (
            "slack-v2-oauth2-slack-php-error-not-authed-401.json",
            SlackV2,
            401,
            "error 401 not_authed",
        ),
        (
            "slack-v2-recorded-error-not-authed.json",
            SlackV2,
            200,
            "error 200 not_authed",
        ),
        (
            "slack-v2-recorded-429-empty-body.json",
            SlackV2,
            429,
            "ratelimited 429 None None",
        ),
        (
            "slack-v1-spec-example-no-ok-field.json",
            SlackV1,
            200,
            "token 200",
        ),
        (
            "slack-v1-botonomous-docs-example-read-scope.json",
            SlackV1,
            200,
            "token 200 Some(\"xoxp-23984754863-2348975623103\")",
        ),
        (
            "slack-v1-botonomous-incoming-webhook-and-bot.json",
            SlackV1,
            200,
            "token 200",
        ),
        (
            "slack-v1-oauth2-slack-php-mock-expires-in.json",
            SlackV1,
            200,
            "token 200",
        ),
        (
            "slack-v1-captured-redacted-incoming-webhook-escaped.json",
            SlackV1,
            200,
            "token 200",
        ),
        (
            "pinterest-quickstart-code-exchange-extra-status.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-quickstart-refresh-continuous.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-quickstart-refresh-no-refresh-token.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-quickstart-expires-in-as-string.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-docs-code-grant.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-docs-client-credentials.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-docs-refresh-continuous.json",
            Pinterest,
            200,
            "token 200",
        ),
        (
            "pinterest-openapi-error-401-authentication-failed.json",
            Pinterest,
            401,
            "error 401 2",
        ),
        (
            "pinterest-openapi-error-403-not-permitted.json",
            Pinterest,
            403,
            "error 403 29",
        ),
        (
            "pinterest-openapi-error-429-rate-limit-escaped-newline.json",
            Pinterest,
            429,
            "ratelimited 429 Some(Seconds(1)) Some(\"8\")",
        ),
        (
            "rfc6749-4.1.4-access-token-response.json",
            Rfc6749,
            200,
            "token 200 Some(\"2YotnFZFEjr1zCsicMWpAA\")",
        ),
        (
            "rfc6749-4.4.3-client-credentials-response.json",
            Rfc6749,
            200,
            "token 200 Some(\"2YotnFZFEjr1zCsicMWpAA\")",
        ),
        (
            "rfc6749-5.2-error-invalid-request.json",
            Rfc6749,
            400,
            "error 400 invalid_request",
        ),
        (
            "oauth2rs-minimal-token-type-uppercase.json",
            Rfc6749,
            200,
            "token 200 Some(\"12/34\")",
        ),
        ("oauth2rs-complete-response.json", Rfc6749, 200, "token 200"),
        (
            "oauth2rs-client-credentials-basic-auth-response.json",
            Rfc6749,
            200,
            "token 200",
        ),
        (
            "oauth2rs-error-invalid-request.json",
            Rfc6749,
            400,
            "error 400 invalid_request",
        ),
        (
            "oauth2rs-error-expired-code.json",
            Rfc6749,
            400,
            "error 400 invalid_request",
        ),
        (
            "oauth2rs-error-custom-code-with-uri.json",
            Rfc6749,
            400,
            "error 400 too_light",
        ),
        (
            "oauth2rs-error-nonstandard-shape.json",
            Rfc6749,
            400,
            "http 400",
        ),
        (
            "oauth2rs-ext-custom-token-type-extra-field.json",
            Rfc6749,
            200,
            "token 200",
        ),
        (
            "oauth2rs-ext-complete-extra-fields.json",
            Rfc6749,
            200,
            "token 200",
        ),
        (
            "oauth2rs-device-error-authorization-pending.json",
            Rfc6749,
            400,
            "error 400 authorization_pending",
        ),
        (
            "oauth2rs-device-error-slow-down.json",
            Rfc6749,
            400,
            "error 400 slow_down",
        ),
        ("oidc-provider-code-basic.json", Rfc6749, 200, "token 200"),
        ("oidc-provider-refresh.json", Rfc6749, 200, "token 200"),
        (
            "oidc-provider-client-credentials.json",
            Rfc6749,
            200,
            "token 200",
        ),
        (
            "oidc-provider-code-reused.json",
            Rfc6749,
            400,
            "error 400 invalid_grant",
        ),
        (
            "oidc-provider-pkce-wrong-verifier.json",
            Rfc6749,
            400,
            "error 400 invalid_grant",
        ),
        (
            "oidc-provider-refresh-wider-scope.json",
            Rfc6749,
            400,
            "error 400 invalid_scope",
        ),
        (
            "oidc-provider-bad-secret.json",
            Rfc6749,
            401,
            "error 401 invalid_client",
        ),
        (
            "oidc-provider-grant-not-allowed.json",
            Rfc6749,
            400,
            "error 400 invalid_request",
        ),
        (
            "oidc-provider-unsupported-grant-type.json",
            Rfc6749,
            400,
            "error 400 unsupported_grant_type",
        ),
        (
            "oidc-provider-missing-code.json",
            Rfc6749,
            400,
            "error 400 invalid_request",
        ),
    ]
}

fn req_for(kind: ProviderKind) -> TokenRequest<'static> {
    static RFC: std::sync::OnceLock<Provider<'static>> = std::sync::OnceLock::new();
    let p = match kind {
        ProviderKind::SlackV2 => SLACK_V2,
        ProviderKind::SlackV1 => SLACK_V1,
        ProviderKind::Pinterest => PINTEREST,
        _ => *RFC.get_or_init(|| {
            Provider::rfc6749(Endpoint::parse("https://as.example/token").unwrap())
        }),
    };
    TokenRequest::new(
        &p,
        ClientAuth::basic("id", "secret".into()),
        Grant::authorization_code("c"),
    )
}

#[test]
fn every_fixture_through_the_driver_with_its_status() {
    for (name, kind, status, want) in fixture_cases() {
        let body = fixture(name);
        let extra = if status == 429 && !body.is_empty() {
            "Retry-After: 1\r\n"
        } else {
            ""
        };
        for resp in [http(status, Some("application/json"), extra, &body), {
            let mut c = chunked(status, &body, 9);
            if !extra.is_empty() {
                let at = c.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
                c.splice(at..at, extra.bytes());
            }
            c
        }] {
            let mut io = Replay::new(&resp, &[7]);
            let mut buf = [0u8; 4096];
            let req = req_for(kind);
            let o = exchange::blocking::exchange(&mut io, &req, &mut buf)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"))
                .outcome;
            let got = summary(&o);
            assert!(got.starts_with(want), "{name}: got {got}, want {want}");
        }
    }
    // The sample files of every field ever seen have no status; they must not be tokens
    // when `ok` is false.
    for name in [
        "slack-v2-java-json-logs-all-fields.json",
        "slack-v2-exchange-java-json-logs-all-fields.json",
    ] {
        let body = fixture(name);
        let o = interp(ProviderKind::SlackV2, 200, None, None, &body).unwrap();
        assert!(
            matches!(o, Outcome::Error { status: 200, .. }),
            "{name}: {o:?}"
        );
    }
}

/// `interpret` over a response built from its parts.
fn interp<'b>(
    kind: ProviderKind,
    status: u16,
    content_type: Option<&'b str>,
    retry_after: Option<RetryAfter>,
    body: &'b [u8],
) -> Result<Outcome<'b>, InterpretError> {
    let mut response = Response::new(status, body);
    response.content_type = content_type;
    response.retry_after = retry_after;
    interpret(kind, &response)
}

#[test]
fn bad_bodies_keep_their_status() {
    let broken = fixture("oauth2rs-broken-json.json");
    // A JSON content type with a body that is not JSON: a typed error with the status.
    match interp(
        ProviderKind::Rfc6749,
        200,
        Some("application/json"),
        None,
        &broken,
    ) {
        Err(InterpretError::Json { status: 200, .. }) => {}
        other => panic!("{other:?}"),
    }
    // The same body as text/plain: not JSON, status kept.
    match interp(
        ProviderKind::Rfc6749,
        200,
        Some("text/plain"),
        None,
        &broken,
    ) {
        Err(InterpretError::NotJson { status: 200 }) => {}
        other => panic!("{other:?}"),
    }
    // `APPLICATION/jSoN` is JSON (oauth2-rs accepts it too).
    let body = fixture("oauth2rs-complete-response.json");
    assert!(interp(
        ProviderKind::Rfc6749,
        200,
        Some("APPLICATION/jSoN"),
        None,
        &body
    )
    .is_ok());
    // An HTML 502 from a proxy is an unexpected HTTP status, not a parse failure.
    let o = interp(
        ProviderKind::SlackV2,
        502,
        Some("text/html"),
        None,
        b"<html>bad gateway</html>",
    )
    .unwrap();
    assert!(matches!(o, Outcome::HttpError { status: 502 }));
    // A wrong type in a token body is a typed error at 200.
    let tt = fixture("oauth2rs-token-type-number.json");
    match interp(
        ProviderKind::Rfc6749,
        200,
        Some("application/json"),
        None,
        &tt,
    ) {
        Err(InterpretError::Json {
            status: 200,
            error: JsonError::WrongType {
                field: "token_type",
            },
        }) => {}
        other => panic!("{other:?}"),
    }
    // An empty 200 body claiming JSON.
    match interp(
        ProviderKind::Pinterest,
        200,
        Some("application/json"),
        None,
        b"",
    ) {
        Err(InterpretError::Json {
            status: 200,
            error: JsonError::Empty,
        }) => {}
        other => panic!("{other:?}"),
    }
    // Slack's ratelimited body at 200 is still a rate limit.
    let rl = fixture("slack-v2-python-sdk-error-ratelimited-429.json");
    let o = interp(
        ProviderKind::SlackV2,
        200,
        None,
        Some(RetryAfter::Seconds(3)),
        &rl,
    )
    .unwrap();
    assert!(matches!(
        o,
        Outcome::RateLimited {
            status: 200,
            retry_after: Some(RetryAfter::Seconds(3)),
            ..
        }
    ));
}

proptest! {
    #[test]
    fn outcome_is_invariant_under_read_splits_and_framing(
        which in 0usize..46,
        splits in proptest::collection::vec(1usize..64, 1..200),
        piece in 1usize..40,
        use_chunked: bool,
    ) {
        let cases = fixture_cases();
        let (name, kind, status, _) = cases[which % cases.len()];
        let body = fixture(name);
        let resp = if use_chunked { chunked(status, &body, piece) } else { http(status, Some("application/json"), "", &body) };
        let whole = http(status, Some("application/json"), "", &body);
        let req = req_for(kind);
        let mut b1 = [0u8; 4096];
        let mut io1 = Replay::new(&whole, &[]);
        let o1 = exchange::blocking::exchange(&mut io1, &req, &mut b1).unwrap().outcome;
        let mut b2 = [0u8; 4096];
        let mut io2 = Replay::new(&resp, &splits);
        let o2 = exchange::blocking::exchange(&mut io2, &req, &mut b2).unwrap().outcome;
        prop_assert_eq!(summary(&o1), summary(&o2));
    }
}

/// `read_response` hands over the whole response before interpretation: the head's
/// `WWW-Authenticate` of a recorded 401, and the same outcome `exchange` gives.
#[test]
fn read_response_shows_the_head_then_interprets() {
    let body = fixture("oidc-provider-bad-secret.json");
    let www = r#"Basic realm="https://127.0.0.1:40803", error="invalid_client", error_description="client authentication failed""#;
    let resp = http(
        401,
        Some("application/json; charset=utf-8"),
        &format!("WWW-Authenticate: {www}\r\n"),
        &body,
    );
    let req = req_for(ProviderKind::Rfc6749);

    let mut io = Replay::new(&resp, &[5]);
    let mut buf = [0u8; 1024];
    let reading = exchange::blocking::read_response(&mut io, &req, &mut buf).unwrap();
    let head = reading.response().expect("complete");
    assert_eq!((head.status, head.www_authenticate), (401, Some(www)));
    assert!(head.keep_alive);
    let via_reading = reading.into_answer().unwrap();
    assert_eq!(summary(&via_reading.outcome), "error 401 invalid_client");
    assert_eq!(via_reading.response.www_authenticate, Some(www));

    let mut io = Replay::new(&resp, &[5]);
    let mut buf2 = [0u8; 1024];
    let reading =
        futures::executor::block_on(exchange::asynch::read_response(&mut io, &req, &mut buf2))
            .unwrap();
    assert_eq!(
        reading.response().and_then(|r| r.www_authenticate),
        Some(www)
    );
    assert_eq!(reading.into_answer().unwrap(), via_reading);

    let mut io = Replay::new(&resp, &[5]);
    let mut buf3 = [0u8; 1024];
    let whole = exchange::blocking::exchange(&mut io, &req, &mut buf3).unwrap();
    assert_eq!(whole, via_reading);
    assert!(whole.response.keep_alive);
}
