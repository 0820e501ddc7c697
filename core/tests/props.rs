//! Codec laws through the whole exchange driver, for generated inputs and for every
//! real provider body in `tests/fixtures/`:
//!
//! - the outcome does not depend on the transport's read sizes;
//! - a body framed by chunks reads the same as by `Content-Length`;
//! - every strict prefix of a valid response, then EOF, is `Truncated` (and `NeedMore`
//!   before the EOF), never another error, a wrong outcome or a panic;
//! - every provider × grant × client authentication encodes to a request that parses
//!   back (httparse, form decoding, base64) to exactly what was asked.
//!
//! The reader-level versions of the first three live in `http_response.rs`; these run
//! the same laws through `exchange::blocking::exchange` and `Reading`.

use core::convert::Infallible;

use picoauth::exchange::{blocking, Exchange, ExchangeError, Outcome};
use picoauth::http::response::{ResponseError, Status};
use picoauth::provider::{Endpoint, GrantTypeParam, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::EncodeError;
use picoauth_test_support::sources::fixtures;
use proptest::prelude::*;

const RFC: Provider<'static> = Provider::rfc6749(Endpoint {
    tls: false,
    host: "127.0.0.1",
    port: 8080,
    path: "/oauth/token",
});

// ---------------------------------------------------------------------------------
// Wire framing
// ---------------------------------------------------------------------------------

fn head(status: u16, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json; charset=utf-8\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn by_length(status: u16, body: &[u8]) -> Vec<u8> {
    let mut w = head(status, &format!("Content-Length: {}\r\n", body.len()));
    w.extend_from_slice(body);
    w
}

/// Chunked framing with chunk sizes cycled from `sizes` (each at least 1).
fn by_chunks(status: u16, body: &[u8], sizes: &[usize], ext: bool) -> Vec<u8> {
    let mut w = head(status, "Transfer-Encoding: chunked\r\n");
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        let e = if ext { ";x=\"y\"" } else { "" };
        w.extend_from_slice(format!("{n:x}{e}\r\n").as_bytes());
        w.extend_from_slice(&rest[..n]);
        w.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    w.extend_from_slice(b"0\r\n\r\n");
    w
}

// ---------------------------------------------------------------------------------
// An in-memory transport
// ---------------------------------------------------------------------------------

use picoauth_test_support::replay::{requests, Replay};

/// The outcome and whether the connection may be reused: what must not depend on
/// the framing or the read sizes (the head itself differs between framings).
type Run<'b> = Result<(Outcome<'b>, bool), ExchangeError<Infallible>>;

/// Runs one blocking exchange of `req` against `wire` read in `sizes`; checks that
/// the request written is exactly the encoded one.
fn exchange<'b>(
    req: &TokenRequest<'_>,
    wire: &[u8],
    sizes: &[usize],
    buf: &'b mut [u8],
) -> Run<'b> {
    let mut io = Replay::new(wire, sizes);
    let r = blocking::exchange(&mut io, req, buf).map(|a| (a.outcome, a.response.keep_alive));
    let mut want = vec![0u8; req.encoded_len().unwrap()];
    req.encode(&mut want).unwrap();
    assert_eq!(io.written, want, "request bytes written");
    r
}

// ---------------------------------------------------------------------------------
// Whole-exchange laws over every fixture
// ---------------------------------------------------------------------------------

/// Every fixture, for every provider: chunked framing (several chunk sizes, with and
/// without extensions) gives the same outcome as `Content-Length`, and the outcome of
/// a good 2xx token body is a token.
#[test]
fn chunked_equals_content_length_for_every_fixture() {
    let mut tokens = 0;
    for f in fixtures() {
        let length = by_length(f.status, &f.body);
        for req in requests() {
            let mut b1 = vec![0u8; 4096];
            let want = exchange(&req, &length, &[], &mut b1);
            if let Ok((Outcome::Token { .. }, _)) = want {
                tokens += 1;
            }
            for (sizes, ext) in [(&[1usize][..], false), (&[7, 3], true), (&[4096], false)] {
                let chunked = by_chunks(f.status, &f.body, sizes, ext);
                let mut b2 = vec![0u8; 4096];
                let got = exchange(&req, &chunked, &[5, 1, 64], &mut b2);
                assert!(
                    want == got,
                    "{} via {:?}: {want:?} vs {got:?}",
                    f.name,
                    req.provider().kind
                );
            }
        }
    }
    // The fixtures hold real tokens for each provider; a broken driver gives none.
    assert!(tokens >= 40, "only {tokens} token outcomes");
}

/// Every strict prefix of every fixture response (both framings, every provider) is
/// `NeedMore` through `Reading`, and `Truncated` through the driver once the transport
/// says EOF; the whole response is never `Truncated`.
#[test]
fn every_prefix_then_eof_is_truncated() {
    for f in fixtures() {
        for wire in [
            by_length(f.status, &f.body),
            by_chunks(f.status, &f.body, &[16], false),
        ] {
            for req in requests() {
                let mut whole = vec![0u8; 4096];
                let full = exchange(&req, &wire, &[], &mut whole);
                assert_ne!(
                    full.as_ref().err(),
                    Some(&ExchangeError::Response(ResponseError::Truncated)),
                    "{}",
                    f.name
                );
                for cut in 0..wire.len() {
                    let mut buf = vec![0u8; 4096];
                    let got = exchange(&req, &wire[..cut], &[], &mut buf);
                    assert_eq!(
                        got.err(),
                        Some(ExchangeError::Response(ResponseError::Truncated)),
                        "{} cut at {cut}",
                        f.name
                    );
                }
                // The same prefixes through the sans-IO state machine: NeedMore.
                let mut buf = vec![0u8; 4096];
                let mut reading = Exchange::new(&req, &mut buf).unwrap().into_reading();
                for (i, &b) in wire[..wire.len() - 1].iter().enumerate() {
                    reading.spare()[0] = b;
                    assert_eq!(
                        reading.advance(1),
                        Ok(Status::NeedMore),
                        "{} at {i}",
                        f.name
                    );
                    assert!(reading.response().is_none());
                }
                assert_eq!(reading.finish(), Err(ResponseError::Truncated));
            }
        }
    }
}

fn fixture_bodies() -> Vec<(Vec<u8>, u16)> {
    fixtures().into_iter().map(|f| (f.body, f.status)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The exchange outcome does not depend on how the transport splits its reads,
    /// for real bodies and for arbitrary ones, under any status and framing.
    #[test]
    fn exchange_is_split_invariant(
        pick in any::<prop::sample::Index>(),
        random_body in prop::collection::vec(any::<u8>(), 0..300),
        use_fixture in any::<bool>(),
        status in prop::sample::select(vec![200u16, 201, 400, 401, 403, 429, 500, 502]),
        chunk_sizes in prop::collection::vec(1usize..80, 1..4),
        chunked in any::<bool>(),
        read_sizes in prop::collection::vec(1usize..100, 1..6),
        provider in 0usize..4,
    ) {
        let all = fixture_bodies();
        let (body, status) = if use_fixture {
            all[pick.index(all.len())].clone()
        } else {
            (random_body, status)
        };
        let wire = if chunked {
            by_chunks(status, &body, &chunk_sizes, false)
        } else {
            by_length(status, &body)
        };
        let req = &requests()[provider];
        let mut b1 = vec![0u8; 4096];
        let whole = exchange(req, &wire, &[], &mut b1);
        let mut b2 = vec![0u8; 4096];
        let split = exchange(req, &wire, &read_sizes, &mut b2);
        prop_assert!(whole == split, "{:?} vs {:?}", whole, split);
        let mut b3 = vec![0u8; 4096];
        let bytewise = exchange(req, &wire, &[1], &mut b3);
        prop_assert!(whole == bytewise, "{:?} vs {:?}", whole, bytewise);
        // Whatever the body, a well-framed response never fails at the HTTP layer.
        prop_assert!(!matches!(whole, Err(ExchangeError::Response(_))), "{:?}", whole);
    }

    /// Arbitrary server bytes, arbitrary read sizes, a small buffer: the driver ends
    /// (no hang, no panic) with the same result as with whole reads.
    #[test]
    fn exchange_survives_garbage(
        wire in prop::collection::vec(any::<u8>(), 0..600),
        read_sizes in prop::collection::vec(1usize..64, 0..5),
        cap in 400usize..800,
        provider in 0usize..4,
    ) {
        let req = &requests()[provider];
        let mut b1 = vec![0u8; cap];
        let whole = exchange(req, &wire, &[], &mut b1);
        let mut b2 = vec![0u8; cap];
        let split = exchange(req, &wire, &read_sizes, &mut b2);
        prop_assert!(whole == split, "{:?} vs {:?}", whole, split);
    }
}

// ---------------------------------------------------------------------------------
// Requests: encode → parse round trips
// ---------------------------------------------------------------------------------

fn form_decode(v: &[u8]) -> String {
    let mut out = vec![0u8; v.len()];
    picoauth::form::decode(v, &mut out).unwrap().to_owned()
}

/// Name–value pairs, decoded.
type Pairs = Vec<(String, String)>;

/// Parses `wire` as exactly one request; returns the header fields and the body.
fn parse_request(wire: &[u8], path: &str) -> (Pairs, Pairs) {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head) = req.parse(wire).unwrap() else {
        panic!("partial request");
    };
    assert_eq!(req.method, Some("POST"));
    assert_eq!(req.path, Some(path));
    assert_eq!(req.version, Some(1));
    let fields: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8(h.value.to_vec()).unwrap(),
            )
        })
        .collect();
    let cl: usize = fields
        .iter()
        .find(|(n, _)| n == "Content-Length")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(head + cl, wire.len(), "Content-Length must end the request");
    let body = picoauth::form::pairs(&wire[head..])
        .map(|(n, v)| (form_decode(n), form_decode(v)))
        .collect();
    (fields, body)
}

fn providers() -> [Provider<'static>; 4] {
    [SLACK_V2, SLACK_V1, PINTEREST, RFC]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every provider × grant × client authentication: either the combination is one
    /// the provider does not support (`UnsupportedGrant`), or the request encodes to
    /// exactly `encoded_len()` bytes that parse back to exactly the parameters given,
    /// in the documented order, with Basic credentials that decode to the id and secret.
    #[test]
    fn requests_round_trip_for_every_provider_grant_and_auth(
        id in "\\PC{1,24}",
        secret in "\\PC{1,24}",
        code in "\\PC{1,40}",
        redirect in proptest::option::of("\\PC{1,40}"),
        verifier in proptest::option::of("[A-Za-z0-9._~-]{43,64}"),
        scope in proptest::option::of("\\PC{1,30}"),
        extra in proptest::option::of(("[a-z_]{1,10}", "\\PC{0,20}")),
    ) {
        let extra_params: Vec<(&str, &str)> = extra
            .iter()
            .filter(|(n, _)| !["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token",
                "scope", "client_id", "client_secret", "continuous_refresh"].contains(&n.as_str()))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        for provider in providers() {
            for grant_kind in 0..3 {
                for auth_kind in 0..3 {
                    let grant = match grant_kind {
                        0 => {
                            let mut g = Grant::authorization_code(&code);
                            if let Some(r) = &redirect { g = g.with_redirect_uri(r); }
                            if let Some(v) = &verifier { g = g.with_code_verifier(v); }
                            g
                        }
                        1 => {
                            let g = Grant::refresh_token(&code);
                            match &scope { Some(s) => g.with_scope(s), None => g }
                        }
                        _ => {
                            let g = Grant::client_credentials();
                            match &scope { Some(s) => g.with_scope(s), None => g }
                        }
                    };
                    let auth = match auth_kind {
                        0 => ClientAuth::basic(&id, secret.as_str().into()),
                        1 => ClientAuth::post(&id, secret.as_str().into()),
                        _ => ClientAuth::public(&id),
                    };
                    let req = TokenRequest::new(&provider, auth, grant).with_extra(&extra_params);
                    let supported = match grant {
                        Grant::AuthorizationCode { code_verifier, .. } => {
                            provider.grants.authorization_code && (code_verifier.is_none() || provider.pkce)
                        }
                        Grant::RefreshToken { .. } => provider.grants.refresh_token,
                        Grant::ClientCredentials { .. } => provider.grants.client_credentials,
                    };
                    if !supported {
                        prop_assert_eq!(req.encoded_len(), Err(EncodeError::UnsupportedGrant));
                        continue;
                    }
                    if auth_kind >= 2 && provider.client_auth_required {
                        prop_assert_eq!(req.encoded_len(), Err(EncodeError::ClientAuthRequired));
                        continue;
                    }
                    let len = req.encoded_len().unwrap();
                    let mut wire = vec![0u8; len];
                    prop_assert_eq!(req.encode(&mut wire), Ok(len));
                    let (fields, body) = parse_request(&wire, provider.endpoint.path);

                    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                    let mut want_names = vec!["Host"];
                    if auth_kind == 0 { want_names.push("Authorization"); }
                    want_names.extend(["Content-Type", "Accept", "Content-Length", "User-Agent"]);
                    prop_assert_eq!(names, want_names);
                    if auth_kind == 0 {
                        use base64::Engine as _;
                        let b64 = fields[1].1.strip_prefix("Basic ").unwrap();
                        let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
                        let colon = raw.iter().position(|&b| b == b':').unwrap();
                        prop_assert_eq!(form_decode(&raw[..colon]), id.clone());
                        prop_assert_eq!(form_decode(&raw[colon + 1..]), secret.clone());
                    }

                    let mut want: Vec<(String, String)> = Vec::new();
                    let mut put = |n: &str, v: &str| want.push((n.to_owned(), v.to_owned()));
                    let grant_type = match provider.grant_type {
                        GrantTypeParam::Always => true,
                        GrantTypeParam::RefreshOnly => grant_kind == 1,
                        _ => false,
                    };
                    if grant_type { put("grant_type", grant.grant_type()); }
                    match grant_kind {
                        0 => {
                            put("code", &code);
                            if let Some(v) = &verifier { put("code_verifier", v); }
                            if let Some(r) = &redirect { put("redirect_uri", r); }
                        }
                        1 => {
                            put("refresh_token", &code);
                            if let Some(s) = &scope { put("scope", s); }
                        }
                        _ => if let Some(s) = &scope { put("scope", s); },
                    }
                    match auth_kind {
                        0 => {}
                        1 => { put("client_id", &id); put("client_secret", &secret); }
                        _ => put("client_id", &id),
                    }
                    for (n, v) in &extra_params { put(n, v); }
                    prop_assert_eq!(body, want);
                }
            }
        }
    }
}
