//! The token-request encoder with arbitrary parameters (code, ids, secret, redirect,
//! verifier, scope, extra parameters, user agent, endpoint host, port and path).
//!
//! It never panics; `encoded_len`, `encode`, `body_len`, `encode_body` and `validate`
//! agree; and whatever it emits parses with httparse as exactly one request: `POST`
//! to the endpoint's path, exactly the expected header fields in order (nothing
//! injected), a `Content-Length` equal to the body that follows and nothing after it,
//! a body that decodes back to exactly the parameters given, and Basic credentials
//! that decode back to the client id and secret. A buffer one byte short is refused
//! with the exact size and left untouched.
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use picoauth::provider::{Endpoint, GrantTypeParam, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::EncodeError;

#[derive(Arbitrary, Debug)]
struct EndpointIn<'a> {
    tls: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    provider: u8,
    url: Option<&'a str>,
    endpoint: Option<EndpointIn<'a>>,
    auth: u8,
    client_id: &'a str,
    client_secret: &'a str,
    grant: u8,
    code: &'a str,
    redirect_uri: Option<&'a str>,
    code_verifier: Option<&'a str>,
    scope: Option<&'a str>,
    user_agent: Option<&'a str>,
    always_grant_type: bool,
    continuous_refresh: bool,
    extra: Vec<(&'a str, &'a str)>,
}

fn form_decode(v: &[u8]) -> String {
    let mut out = vec![0u8; v.len()];
    picoauth::form::decode(v, &mut out)
        .expect("emitted form value does not decode")
        .to_owned()
}

fuzz_target!(|input: Input<'_>| {
    let base = match input.provider % 4 {
        0 => SLACK_V2,
        1 => SLACK_V1,
        2 => PINTEREST,
        _ => Provider::rfc6749(Endpoint::https("auth.example.com", "/oauth/token")),
    };
    let provider = match (input.url.map(Endpoint::parse), &input.endpoint) {
        (Some(Ok(e)), _) => base.with_endpoint(e),
        (_, Some(e)) => base.with_endpoint(Endpoint {
            tls: e.tls,
            host: e.host,
            port: e.port,
            path: e.path,
        }),
        _ => base,
    };
    let auth = match input.auth % 3 {
        0 => ClientAuth::basic(input.client_id, input.client_secret.into()),
        1 => ClientAuth::post(input.client_id, input.client_secret.into()),
        _ => ClientAuth::public(input.client_id),
    };
    let grant = match input.grant % 3 {
        0 => {
            let mut g = Grant::authorization_code(input.code);
            if let Some(r) = input.redirect_uri {
                g = g.with_redirect_uri(r);
            }
            if let Some(v) = input.code_verifier {
                g = g.with_code_verifier(v);
            }
            g
        }
        1 => {
            let mut g = Grant::refresh_token(input.code);
            if let Some(s) = input.scope {
                g = g.with_scope(s);
            }
            g
        }
        _ => {
            let mut g = Grant::client_credentials();
            if let Some(s) = input.scope {
                g = g.with_scope(s);
            }
            g
        }
    };
    let mut req = TokenRequest::new(&provider, auth, grant)
        .with_extra(&input.extra)
        .continuous_refresh(input.continuous_refresh);
    if let Some(ua) = input.user_agent {
        req = req.with_user_agent(ua);
    }
    if input.always_grant_type {
        req = req.always_send_grant_type();
    }
    let user_agent = input
        .user_agent
        .unwrap_or(picoauth::request::DEFAULT_USER_AGENT);

    let len = req.encoded_len();
    let mut big = vec![0u8; len.unwrap_or(0) + 64];
    let written = req.encode(&mut big);
    let body_len = req.body_len();
    let validated = req.validate();
    let len = match len {
        Err(e) => {
            assert_eq!(written, Err(e));
            assert_eq!(body_len, Err(e));
            assert_eq!(validated, Err(e));
            assert!(big.iter().all(|&b| b == 0), "output written on error");
            return;
        }
        Ok(n) => n,
    };
    assert_eq!(validated, Ok(()));
    assert_eq!(
        written,
        Ok(len),
        "encoded_len() differs from the bytes written"
    );
    let wire = &big[..len];
    assert!(
        big[len..].iter().all(|&b| b == 0),
        "written past the length"
    );

    // One byte short: refused with the exact size, untouched.
    if len > 0 {
        let mut short = vec![0xa5u8; len - 1];
        assert_eq!(
            req.encode(&mut short),
            Err(EncodeError::BufferTooSmall { needed: len })
        );
        assert!(short.iter().all(|&b| b == 0xa5), "short buffer written");
    }

    // Exactly one request.
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(wire) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("httparse: {other:?}"),
    };
    assert_eq!(parsed.method, Some("POST"));
    assert_eq!(parsed.version, Some(1));
    assert_eq!(parsed.path, Some(provider.endpoint.path));
    let names: Vec<&str> = parsed.headers.iter().map(|h| h.name).collect();
    let mut want = vec!["Host"];
    if matches!(auth, ClientAuth::Basic { .. }) {
        want.push("Authorization");
    }
    want.extend(["Content-Type", "Accept", "Content-Length"]);
    if !user_agent.is_empty() {
        want.push("User-Agent");
    }
    assert_eq!(names, want, "header fields");
    let value = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value)
            .unwrap()
    };
    let host = if provider.endpoint.default_port() {
        provider.endpoint.host.to_owned()
    } else {
        format!("{}:{}", provider.endpoint.host, provider.endpoint.port)
    };
    assert_eq!(value("Host"), host.as_bytes());
    assert_eq!(value("Content-Type"), b"application/x-www-form-urlencoded");
    assert_eq!(value("Accept"), b"application/json");
    let cl: usize = std::str::from_utf8(value("Content-Length"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        head_len + cl,
        len,
        "Content-Length does not end the request"
    );
    assert_eq!(body_len, Ok(cl));
    if !user_agent.is_empty() {
        assert_eq!(value("User-Agent"), user_agent.trim_matches(' ').as_bytes());
    }
    if let ClientAuth::Basic {
        client_id,
        client_secret,
    } = auth
    {
        let b64 = value("Authorization").strip_prefix(b"Basic ").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let colon = raw.iter().position(|&b| b == b':').unwrap();
        assert_eq!(form_decode(&raw[..colon]), client_id);
        assert_eq!(form_decode(&raw[colon + 1..]), client_secret.expose());
    }

    // The body is exactly the parameters, in order.
    let body = &wire[head_len..];
    let mut only_body = vec![0u8; cl];
    assert_eq!(req.encode_body(&mut only_body), Ok(cl));
    assert_eq!(only_body, body);
    let got: Vec<(String, String)> = picoauth::form::pairs(body)
        .map(|(n, v)| (form_decode(n), form_decode(v)))
        .collect();
    let mut expect: Vec<(String, String)> = Vec::new();
    let mut put = |n: &str, v: &str| expect.push((n.to_owned(), v.to_owned()));
    let sends_grant_type = input.always_grant_type
        || match provider.grant_type {
            GrantTypeParam::Always => true,
            GrantTypeParam::RefreshOnly => matches!(grant, Grant::RefreshToken { .. }),
            GrantTypeParam::Never => false,
        };
    if sends_grant_type {
        put("grant_type", grant.grant_type());
    }
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            put("code", code.expose());
            if let Some(v) = code_verifier {
                put("code_verifier", v.expose());
            }
            if let Some(r) = redirect_uri {
                put("redirect_uri", r);
            }
        }
        Grant::RefreshToken {
            refresh_token,
            scope,
        } => {
            put("refresh_token", refresh_token.expose());
            if let Some(s) = scope {
                put("scope", s);
            }
        }
        Grant::ClientCredentials { scope } => {
            if let Some(s) = scope {
                put("scope", s);
            }
        }
    }
    match auth {
        ClientAuth::Basic { .. } => {}
        ClientAuth::Post {
            client_id,
            client_secret,
        } => {
            put("client_id", client_id);
            put("client_secret", client_secret.expose());
        }
        ClientAuth::Public { client_id } => put("client_id", client_id),
    }
    if input.continuous_refresh {
        put("continuous_refresh", "true");
    }
    for (n, v) in input.extra.iter() {
        put(n, v);
    }
    assert_eq!(got, expect, "body parameters");
});
