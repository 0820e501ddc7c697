//! Exact bytes of every provider × grant × client-authentication combination, the
//! request vectors of `tests/fixtures/SOURCES.md`, and the request side's laws.

use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest, MAX_VALUE_LEN};
use picoauth::EncodeError;
use proptest::prelude::*;

const UA: &str = concat!("User-Agent: picoauth/", env!("CARGO_PKG_VERSION"), "\r\n");

fn encode(req: &TokenRequest<'_>) -> String {
    let len = req.encoded_len().unwrap();
    let mut buf = vec![0u8; len];
    let n = req.encode(&mut buf).unwrap();
    assert_eq!(n, len, "encoded_len must equal the bytes written");
    String::from_utf8(buf).unwrap()
}

fn request(path_host: (&str, &str), auth: Option<&str>, body: &str) -> String {
    let mut s = format!("POST {} HTTP/1.1\r\nHost: {}\r\n", path_host.0, path_host.1);
    if let Some(a) = auth {
        s += &format!("Authorization: Basic {a}\r\n");
    }
    s += &format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\n{UA}\r\n{body}",
        body.len()
    );
    s
}

const SLACK2: (&str, &str) = ("/api/oauth.v2.access", "slack.com");
const SLACK1: (&str, &str) = ("/api/oauth.access", "slack.com");
const PIN: (&str, &str) = ("/v5/oauth/token", "api.pinterest.com");
const SLACK_BASIC: &str = "MTExLjIyMjpzZWNyZXQ="; // 111.222:secret
const PIN_BASIC: &str = "dGVzdC1hcHAtaWQ6dGVzdC1hcHAtc2VjcmV0"; // test-app-id:test-app-secret
const RFC_BASIC: &str = "czZCaGRSa3F0MzpnWDFmQmF0M2JW"; // s6BhdRkqt3:gX1fBat3bV

fn slack_basic() -> ClientAuth<'static> {
    ClientAuth::basic("111.222", "secret".into())
}
fn slack_post() -> ClientAuth<'static> {
    ClientAuth::post("111.222", "secret".into())
}
fn pin_basic() -> ClientAuth<'static> {
    ClientAuth::basic("test-app-id", "test-app-secret".into())
}
fn pin_post() -> ClientAuth<'static> {
    ClientAuth::post("test-app-id", "test-app-secret".into())
}
fn rfc() -> Provider<'static> {
    Provider::rfc6749(Endpoint::parse("https://server.example.com/token").unwrap())
}
const RFC: (&str, &str) = ("/token", "server.example.com");

#[test]
fn slack_v2_every_grant_and_auth() {
    let code = Grant::authorization_code("ccdaa72ad").with_redirect_uri("http://example.com");
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V2, slack_basic(), code)),
        request(
            SLACK2,
            Some(SLACK_BASIC),
            "code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V2, slack_post(), code)),
        request(
            SLACK2,
            None,
            "code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com&client_id=111.222&client_secret=secret"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V2, slack_basic(), code).always_send_grant_type()),
        request(
            SLACK2,
            Some(SLACK_BASIC),
            "grant_type=authorization_code&code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com"
        )
    );
    let refresh = Grant::refresh_token("xoxe-1-abc");
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V2, slack_basic(), refresh)),
        request(
            SLACK2,
            Some(SLACK_BASIC),
            "grant_type=refresh_token&refresh_token=xoxe-1-abc"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V2, slack_post(), refresh)),
        request(
            SLACK2,
            None,
            "grant_type=refresh_token&refresh_token=xoxe-1-abc&client_id=111.222&client_secret=secret"
        )
    );
    let cc = TokenRequest::new(&SLACK_V2, slack_basic(), Grant::client_credentials());
    assert_eq!(cc.encoded_len(), Err(EncodeError::UnsupportedGrant));
}

#[test]
fn slack_v1_code_only() {
    let code = Grant::authorization_code("ccdaa72ad");
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V1, slack_basic(), code)),
        request(SLACK1, Some(SLACK_BASIC), "code=ccdaa72ad")
    );
    assert_eq!(
        encode(&TokenRequest::new(&SLACK_V1, slack_post(), code.with_redirect_uri("http://example.com"))),
        request(
            SLACK1,
            None,
            "code=ccdaa72ad&redirect_uri=http%3A%2F%2Fexample.com&client_id=111.222&client_secret=secret"
        )
    );
    for g in [Grant::refresh_token("r"), Grant::client_credentials()] {
        assert_eq!(
            TokenRequest::new(&SLACK_V1, slack_basic(), g).encoded_len(),
            Err(EncodeError::UnsupportedGrant)
        );
    }
}

#[test]
fn pinterest_every_grant_and_auth() {
    // pinterest/api-quickstart sends the same parameters (in another order).
    let code = Grant::authorization_code("test-auth-code").with_redirect_uri("test-redirect-uri");
    assert_eq!(
        encode(&TokenRequest::new(&PINTEREST, pin_basic(), code)),
        request(
            PIN,
            Some(PIN_BASIC),
            "grant_type=authorization_code&code=test-auth-code&redirect_uri=test-redirect-uri"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&PINTEREST, pin_post(), code)),
        request(
            PIN,
            None,
            "grant_type=authorization_code&code=test-auth-code&redirect_uri=test-redirect-uri&client_id=test-app-id&client_secret=test-app-secret"
        )
    );
    let refresh = Grant::refresh_token("test-refresh-token");
    assert_eq!(
        encode(
            &TokenRequest::new(&PINTEREST, pin_basic(), refresh)
                .with_extra(&[("refresh_on", "True")])
        ),
        request(
            PIN,
            Some(PIN_BASIC),
            "grant_type=refresh_token&refresh_token=test-refresh-token&refresh_on=True"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(
            &PINTEREST,
            pin_basic(),
            Grant::refresh_token("pinr_new-refresh-token")
        )),
        request(
            PIN,
            Some(PIN_BASIC),
            "grant_type=refresh_token&refresh_token=pinr_new-refresh-token"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&PINTEREST, pin_basic(), refresh).continuous_refresh(true)),
        request(
            PIN,
            Some(PIN_BASIC),
            "grant_type=refresh_token&refresh_token=test-refresh-token&continuous_refresh=true"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&PINTEREST, pin_post(), refresh)),
        request(
            PIN,
            None,
            "grant_type=refresh_token&refresh_token=test-refresh-token&client_id=test-app-id&client_secret=test-app-secret"
        )
    );
    let cc = Grant::client_credentials().with_scope("user_accounts:read,pins:read,boards:read");
    assert_eq!(
        encode(&TokenRequest::new(&PINTEREST, pin_basic(), cc)),
        request(
            PIN,
            Some(PIN_BASIC),
            "grant_type=client_credentials&scope=user_accounts%3Aread%2Cpins%3Aread%2Cboards%3Aread"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(
            &PINTEREST,
            pin_post(),
            Grant::client_credentials()
        )),
        request(
            PIN,
            None,
            "grant_type=client_credentials&client_id=test-app-id&client_secret=test-app-secret"
        )
    );
    // continuous_refresh belongs to Pinterest's refresh grant only.
    assert_eq!(
        TokenRequest::new(&PINTEREST, pin_basic(), code)
            .continuous_refresh(true)
            .encoded_len(),
        Err(EncodeError::InvalidExtraParam)
    );
    assert_eq!(
        TokenRequest::new(&SLACK_V2, slack_basic(), Grant::refresh_token("r"))
            .continuous_refresh(true)
            .encoded_len(),
        Err(EncodeError::InvalidExtraParam)
    );
}

#[test]
fn rfc6749_every_grant_and_auth() {
    let p = rfc();
    let basic = ClientAuth::basic("s6BhdRkqt3", "gX1fBat3bV".into());
    let post = ClientAuth::post("s6BhdRkqt3", "gX1fBat3bV".into());
    let public = ClientAuth::public("s6BhdRkqt3");
    // RFC 6749 §4.1.3 (the RFC's artwork also escapes '.', which WHATWG keeps).
    let code = Grant::authorization_code("SplxlOBeZQQYbYS6WxSbIA")
        .with_redirect_uri("https://client.example.com/cb");
    assert_eq!(
        encode(&TokenRequest::new(&p, basic, code)),
        request(
            RFC,
            Some(RFC_BASIC),
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&p, post, code)),
        request(
            RFC,
            None,
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&client_id=s6BhdRkqt3&client_secret=gX1fBat3bV"
        )
    );
    // oauth2-rs's PKCE + extra parameter vector, as a public client.
    let pkce = Grant::authorization_code("ccc")
        .with_code_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        .with_redirect_uri("https://redirect/here");
    assert_eq!(
        encode(&TokenRequest::new(&p, public, pkce).with_extra(&[("foo", "bar")])),
        request(
            RFC,
            None,
            "grant_type=authorization_code&code=ccc&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk&redirect_uri=https%3A%2F%2Fredirect%2Fhere&client_id=s6BhdRkqt3&foo=bar"
        )
    );
    // RFC 6749 §6.
    let refresh = Grant::refresh_token("tGzv3JOkF0XG5Qx2TlKWIA");
    assert_eq!(
        encode(&TokenRequest::new(&p, basic, refresh)),
        request(
            RFC,
            Some(RFC_BASIC),
            "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(&p, public, refresh.with_scope("read"))),
        request(
            RFC,
            None,
            "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&scope=read&client_id=s6BhdRkqt3"
        )
    );
    // oauth2-rs: scopes joined by a space become '+'.
    let cc = Grant::client_credentials().with_scope("read write");
    assert_eq!(
        encode(&TokenRequest::new(
            &p,
            ClientAuth::post("aaa", "bbb".into()),
            cc
        )),
        request(
            RFC,
            None,
            "grant_type=client_credentials&scope=read+write&client_id=aaa&client_secret=bbb"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(
            &p,
            ClientAuth::basic("aaa/;&", "bbb/;&".into()),
            Grant::client_credentials()
        )),
        request(
            RFC,
            Some("YWFhJTJGJTNCJTI2OmJiYiUyRiUzQiUyNg=="),
            "grant_type=client_credentials"
        )
    );
    assert_eq!(
        encode(&TokenRequest::new(
            &p,
            ClientAuth::public("aaa/;&"),
            Grant::client_credentials()
        )),
        request(
            RFC,
            None,
            "grant_type=client_credentials&client_id=aaa%2F%3B%26"
        )
    );
}

#[test]
fn host_header_carries_non_default_ports() {
    for (url, host) in [
        ("https://localhost:8443/oauth/token", "localhost:8443"),
        ("https://[::1]:8443/oauth/token", "[::1]:8443"),
        ("http://127.0.0.1:80/oauth/token", "127.0.0.1"),
        ("http://127.0.0.1:8080/oauth/token", "127.0.0.1:8080"),
    ] {
        let p = Provider::rfc6749(Endpoint::parse(url).unwrap());
        let s = encode(&TokenRequest::new(
            &p,
            ClientAuth::public("c"),
            Grant::client_credentials(),
        ));
        assert!(s.contains(&format!("\r\nHost: {host}\r\n")), "{s}");
    }
    let slack_local = SLACK_V2
        .with_endpoint(Endpoint::parse("https://localhost:9443/api/oauth.v2.access").unwrap());
    let s = encode(&TokenRequest::new(
        &slack_local,
        slack_basic(),
        Grant::authorization_code("c"),
    ));
    assert!(s.starts_with("POST /api/oauth.v2.access HTTP/1.1\r\nHost: localhost:9443\r\n"));
}

#[test]
fn bad_input_is_an_error_never_a_malformed_request() {
    let p = rfc();
    let basic = ClientAuth::basic("id", "secret".into());
    let cases: Vec<(TokenRequest<'_>, EncodeError)> = vec![
        (
            TokenRequest::new(&p, basic, Grant::authorization_code("")),
            EncodeError::Empty { what: "code" },
        ),
        (
            TokenRequest::new(
                &p,
                ClientAuth::basic("", "s".into()),
                Grant::client_credentials(),
            ),
            EncodeError::Empty { what: "client_id" },
        ),
        (
            TokenRequest::new(
                &p,
                ClientAuth::post("id", "".into()),
                Grant::client_credentials(),
            ),
            EncodeError::Empty {
                what: "client_secret",
            },
        ),
        (
            TokenRequest::new(&p, basic, Grant::refresh_token("")),
            EncodeError::Empty {
                what: "refresh_token",
            },
        ),
        (
            TokenRequest::new(
                &p,
                basic,
                Grant::authorization_code("c").with_redirect_uri(""),
            ),
            EncodeError::Empty {
                what: "redirect_uri",
            },
        ),
        (
            TokenRequest::new(&p, basic, Grant::client_credentials())
                .with_user_agent("ua\r\nX-Injected: 1"),
            EncodeError::InvalidHeaderValue,
        ),
        (
            TokenRequest::new(&p, basic, Grant::client_credentials()).with_user_agent("ua\0"),
            EncodeError::InvalidHeaderValue,
        ),
        (
            TokenRequest::new(&p, basic, Grant::client_credentials())
                .with_extra(&[("client_secret", "x")]),
            EncodeError::InvalidExtraParam,
        ),
        (
            TokenRequest::new(&p, basic, Grant::client_credentials()).with_extra(&[("", "x")]),
            EncodeError::InvalidExtraParam,
        ),
        (
            TokenRequest::new(
                &SLACK_V2,
                slack_basic(),
                Grant::authorization_code("c").with_code_verifier("v"),
            ),
            EncodeError::UnsupportedGrant,
        ),
    ];
    for (req, want) in cases {
        assert_eq!(req.encoded_len(), Err(want));
        let mut buf = [0xAAu8; 1024];
        assert_eq!(req.encode(&mut buf), Err(want));
        assert!(buf.iter().all(|&b| b == 0xAA), "buffer touched on {want:?}");
    }
    let long = "x".repeat(MAX_VALUE_LEN + 1);
    assert_eq!(
        TokenRequest::new(&p, basic, Grant::authorization_code(&long)).encoded_len(),
        Err(EncodeError::ValueTooLong { what: "code" })
    );
    // Endpoints built by hand (not through `parse`) are checked too.
    let sneaky = Provider::rfc6749(Endpoint::https("evil.com\r\nX: 1", "/t"));
    assert_eq!(
        TokenRequest::new(&sneaky, basic, Grant::client_credentials()).encoded_len(),
        Err(EncodeError::Endpoint(
            picoauth::provider::EndpointError::InvalidHost
        ))
    );
    let sneaky = Provider::rfc6749(Endpoint::https("example.com", "/t HTTP/1.1\r\nX: 1"));
    assert_eq!(
        TokenRequest::new(&sneaky, basic, Grant::client_credentials()).encoded_len(),
        Err(EncodeError::Endpoint(
            picoauth::provider::EndpointError::InvalidPath
        ))
    );
    let mut plain = Endpoint::https("example.com", "/t");
    plain.tls = false;
    assert_eq!(
        TokenRequest::new(
            &Provider::rfc6749(plain),
            basic,
            Grant::client_credentials()
        )
        .encoded_len(),
        Err(EncodeError::Endpoint(
            picoauth::provider::EndpointError::InsecureUrl
        ))
    );
}

#[test]
fn short_buffers_say_how_much_and_stay_untouched() {
    let req = TokenRequest::new(
        &SLACK_V2,
        slack_basic(),
        Grant::authorization_code("ccdaa72ad"),
    );
    let need = req.encoded_len().unwrap();
    for len in [0, 1, need / 2, need - 1] {
        let mut buf = vec![0x55u8; len];
        assert_eq!(
            req.encode(&mut buf),
            Err(EncodeError::BufferTooSmall { needed: need })
        );
        assert!(buf.iter().all(|&b| b == 0x55));
    }
    let body = req.body_len().unwrap();
    let mut buf = vec![0u8; body - 1];
    assert_eq!(
        req.encode_body(&mut buf),
        Err(EncodeError::BufferTooSmall { needed: body })
    );
    let basic = req.basic_auth().unwrap();
    let mut buf = vec![0u8; basic.encoded_len() - 1];
    assert_eq!(
        basic.encode(&mut buf),
        Err(picoauth::BufferTooSmall {
            needed: basic.encoded_len()
        })
    );
}

fn b64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn form_decode(s: &[u8]) -> String {
    let mut out = vec![0u8; s.len()];
    picoauth::form::decode(s, &mut out).unwrap().to_owned()
}

proptest! {
    #[test]
    fn form_encode_decode_is_identity(s in any::<String>()) {
        let mut buf = vec![0u8; s.len() * 3];
        let n = picoauth::form::encode(&s, &mut buf).unwrap();
        prop_assert_eq!(n, picoauth::form::encoded_len(&s, picoauth::form::Space::Plus));
        prop_assert!(buf[..n].iter().all(|b| b.is_ascii_graphic()));
        prop_assert_eq!(form_decode(&buf[..n]), s);
    }

    #[test]
    fn basic_value_decodes_to_id_and_secret(id in any::<String>(), secret in any::<String>()) {
        let b = picoauth::basic::BasicAuth::new(&id, secret.as_str().into());
        let mut buf = vec![0u8; b.encoded_len()];
        let n = b.encode(&mut buf).unwrap();
        prop_assert_eq!(n, buf.len());
        let v = core::str::from_utf8(&buf).unwrap();
        let raw = b64_decode(v.strip_prefix("Basic ").unwrap());
        let colon = raw.iter().position(|&c| c == b':').unwrap();
        prop_assert!(!raw.contains(&b'+'), "a space must be %20 inside Basic credentials");
        prop_assert_eq!(form_decode(&raw[..colon]), id);
        prop_assert_eq!(form_decode(&raw[colon + 1..]), secret);
    }

    #[test]
    fn every_request_parses_back_with_httparse(
        code in "\\PC{1,40}",
        redirect in proptest::option::of("\\PC{1,40}"),
        secret in "\\PC{1,30}",
        id in "\\PC{1,30}",
        extra_v in "\\PC{0,20}",
        which in 0u8..4,
        auth in 0u8..3,
    ) {
        let provider = match which {
            0 => SLACK_V2,
            1 => SLACK_V1,
            2 => PINTEREST,
            _ => rfc(),
        };
        let auth = match auth {
            0 => ClientAuth::basic(&id, secret.as_str().into()),
            1 => ClientAuth::post(&id, secret.as_str().into()),
            _ => ClientAuth::public(&id),
        };
        let mut grant = Grant::authorization_code(&code);
        if let Some(r) = &redirect {
            grant = grant.with_redirect_uri(r);
        }
        let extra = [("x_extra", extra_v.as_str())];
        let req = TokenRequest::new(&provider, auth, grant).with_extra(&extra);
        if provider.client_auth_required && matches!(auth, ClientAuth::Public { .. }) {
            prop_assert_eq!(req.encoded_len(), Err(EncodeError::ClientAuthRequired));
            return Ok(());
        }
        let len = req.encoded_len().unwrap();
        let mut buf = vec![0u8; len];
        prop_assert_eq!(req.encode(&mut buf).unwrap(), len);
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut parsed = httparse::Request::new(&mut headers);
        let head = match parsed.parse(&buf).unwrap() {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("partial"),
        };
        prop_assert_eq!(parsed.method, Some("POST"));
        prop_assert_eq!(parsed.path, Some(provider.endpoint.path));
        let names: Vec<&str> = parsed.headers.iter().map(|h| h.name).collect();
        let mut want = vec!["Host"];
        if matches!(auth, ClientAuth::Basic { .. }) { want.push("Authorization"); }
        want.extend(["Content-Type", "Accept", "Content-Length", "User-Agent"]);
        prop_assert_eq!(names, want);
        let cl_header = parsed.headers.iter().find(|h| h.name == "Content-Length").unwrap();
        let cl: usize = core::str::from_utf8(cl_header.value).unwrap().parse().unwrap();
        prop_assert_eq!(cl, len - head);
        prop_assert_eq!(cl, req.body_len().unwrap());
        // The body decodes back to the parameters.
        let body = &buf[head..];
        let pairs: Vec<(String, String)> = picoauth::form::pairs(body).map(|(k, v)| (form_decode(k), form_decode(v))).collect();
        prop_assert!(pairs.contains(&("code".to_owned(), code.clone())));
        prop_assert_eq!(pairs.last().unwrap(), &("x_extra".to_owned(), extra_v.clone()));
        if let Some(r) = &redirect {
            prop_assert!(pairs.contains(&("redirect_uri".to_owned(), r.clone())));
        }
    }
}
