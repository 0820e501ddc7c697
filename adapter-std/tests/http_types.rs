//! The `http` crate conversions (feature `http`): a request carries exactly what the
//! core encodes, and an answer is judged as the core's reader judges it.
#![cfg(feature = "http")]

use picoauth::provider::{Endpoint, ProviderKind, PINTEREST, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::EncodeError;
use picoauth_std::http_types::{from_response, to_request, FormBody, ToRequestError};
use picoauth_std::OwnedOutcome;

fn header<'r>(r: &'r http::Request<FormBody>, name: &str) -> &'r str {
    r.headers().get(name).unwrap().to_str().unwrap()
}

#[test]
fn request_is_what_the_core_encodes() {
    let req = TokenRequest::new(
        &SLACK_V2,
        ClientAuth::basic("111.222", "s:cr t".into()),
        Grant::authorization_code("ccdaa72ad"),
    );
    let r = to_request(&req).unwrap();
    assert_eq!(r.method(), http::Method::POST);
    assert_eq!(r.uri(), "https://slack.com/api/oauth.v2.access");
    // RFC 6749 §2.3.1: form-encode, then Basic (space as %20, ':' as %3A).
    assert_eq!(
        header(&r, "authorization"),
        "Basic MTExLjIyMjpzJTNBY3IlMjB0"
    );
    assert!(r.headers().get("authorization").unwrap().is_sensitive());
    assert_eq!(
        header(&r, "content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(header(&r, "accept"), "application/json");
    assert!(r.headers().get("host").is_none() && r.headers().get("content-length").is_none());

    let mut raw = vec![0; req.encoded_len().unwrap()];
    let n = req.encode(&mut raw).unwrap();
    let raw = &raw[..n];
    assert!(
        raw.ends_with(r.body().as_bytes()),
        "the body is the encoded body"
    );
    assert_eq!(r.body().as_bytes(), b"code=ccdaa72ad");
}

#[test]
fn a_non_default_port_stays_in_the_uri_and_post_credentials_stay_in_the_body() {
    let url = "https://127.0.0.1:8443/v5/oauth/token";
    let p = PINTEREST.with_endpoint(Endpoint::parse(url).unwrap());
    let req = TokenRequest::new(
        &p,
        ClientAuth::post("id", "s3cr3t-in-body".into()),
        Grant::refresh_token("rt-secret-1"),
    );
    let r = to_request(&req).unwrap();
    assert_eq!(r.uri(), url);
    assert!(r.headers().get("authorization").is_none());
    // Debug on the request shows neither the client secret nor the refresh token, as
    // text or as the byte list a `Vec<u8>` body prints.
    let shown = format!("{r:?}");
    let as_list = format!("{:?}", r.body().as_bytes());
    assert!(
        !shown.contains("s3cr3t")
            && !shown.contains("rt-secret")
            && !shown.contains(as_list.trim_matches(['[', ']']))
            && shown.contains("redacted"),
        "{shown}"
    );
    let body = String::from_utf8(r.into_body().into_vec()).unwrap();
    assert!(
        body.contains("client_secret=s3cr3t-in-body") && body.contains("refresh_token=rt-secret-1"),
        "{body}"
    );
}

#[test]
fn a_request_the_core_refuses_is_a_typed_error() {
    let req = TokenRequest::new(
        &SLACK_V2,
        ClientAuth::basic("111.222", "s".into()),
        Grant::authorization_code(""),
    );
    assert!(matches!(
        to_request(&req),
        Err(ToRequestError::Encode(EncodeError::Empty { what: "code" }))
    ));
}

fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(status);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

#[test]
fn slack_errors_at_http_200_are_errors() {
    let r = resp(
        200,
        &[("content-type", "application/json; charset=utf-8")],
        r#"{"ok":false,"error":"invalid_code"}"#,
    );
    let o = from_response(ProviderKind::SlackV2, &r).unwrap();
    assert!(matches!(o, OwnedOutcome::Error { .. }), "{o:?}");
    assert_eq!(o.error_code(), Some("invalid_code"));
}

#[test]
fn framing_headers_of_the_callers_client_are_ignored() {
    // The caller's client already de-chunked the body; a stale Content-Length or a
    // Transfer-Encoding must not change how it is read.
    let body = r#"{"access_token":"pina_x","token_type":"bearer","expires_in":2592000,"scope":"boards:read"}"#;
    let r = resp(
        200,
        &[
            ("content-type", "application/json"),
            ("transfer-encoding", "chunked"),
            ("content-length", "3"),
        ],
        body,
    );
    let o = from_response(ProviderKind::Pinterest, &r).unwrap();
    assert!(
        matches!(o, OwnedOutcome::Token { status: 200, .. }),
        "{o:?}"
    );
}

#[test]
fn rate_limits_and_challenges_reach_the_caller() {
    let r = resp(429, &[("retry-after", "30")], "");
    let o = from_response(ProviderKind::SlackV2, &r).unwrap();
    assert!(
        matches!(
            o,
            OwnedOutcome::RateLimited {
                retry_after: Some(30),
                ..
            }
        ),
        "{o:?}"
    );

    let r = resp(
        401,
        &[
            ("content-type", "application/json"),
            ("www-authenticate", "Basic realm=\"x\""),
        ],
        r#"{"error":"invalid_client"}"#,
    );
    let o = from_response(ProviderKind::Rfc6749, &r).unwrap();
    assert_eq!(o.error_code(), Some("invalid_client"));
    assert_eq!(o.www_authenticate(), Some("Basic realm=\"x\""));
}

#[test]
fn a_token_status_with_a_body_that_is_not_json_is_an_error() {
    let r = resp(200, &[("content-type", "text/html")], "<html>");
    assert!(from_response(ProviderKind::Rfc6749, &r).is_err());
}
