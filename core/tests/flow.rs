//! Steps one and two of the code flow: authorize URLs, PKCE, callbacks, state.
//!
//! Vectors: `tests/fixtures/SOURCES.md`, "Authorize URLs and callbacks".

use picoauth::authorize::{AuthorizeError, AuthorizeRequest};
use picoauth::callback::{AuthorizationErrorCode, Callback, CallbackError};
use picoauth::pkce::{CodeChallenge, CodeVerifier};
use picoauth::provider::ProviderKind;
use picoauth::state::{self, SignedState, StateError, StateKey, SIGNED_STATE_LEN};
use proptest::prelude::*;

/// Encodes `req`, checking the encoder contract: `encoded_len` equals the bytes
/// written, and a buffer one byte short gives `BufferTooSmall { needed }` untouched.
fn url(req: &AuthorizeRequest<'_>) -> String {
    let len = req.encoded_len().expect("valid request");
    let mut buf = vec![0u8; len];
    let n = req.encode(&mut buf).expect("fits");
    assert_eq!(n, len);
    let mut short = vec![0xAAu8; len - 1];
    assert_eq!(
        req.encode(&mut short),
        Err(AuthorizeError::BufferTooSmall { needed: len })
    );
    assert!(short.iter().all(|&b| b == 0xAA));
    String::from_utf8(buf).expect("ASCII")
}

/// The decoded `(name, value)` pairs of a URL's query.
fn decoded_query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    picoauth::form::pairs(q.as_bytes())
        .map(|(k, v)| {
            let mut kb = vec![0u8; k.len()];
            let mut vb = vec![0u8; v.len()];
            (
                picoauth::form::decode(k, &mut kb).unwrap().to_owned(),
                picoauth::form::decode(v, &mut vb).unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn rfc6749_authorize_url() {
    // §4.1.1: `response_type=code&client_id=s6BhdRkqt3&state=xyz&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb`
    // (we leave `.` unescaped, as the form encoding does).
    let req = AuthorizeRequest::rfc6749("https://server.example.com/authorize", "s6BhdRkqt3")
        .with_state("xyz")
        .with_redirect_uri("https://client.example.com/cb");
    assert_eq!(
        url(&req),
        "https://server.example.com/authorize?response_type=code&client_id=s6BhdRkqt3&state=xyz\
         &redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb"
    );
    let rfc = "response_type=code&client_id=s6BhdRkqt3&state=xyz&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb";
    assert_eq!(
        decoded_query(&url(&req)),
        decoded_query(&format!("x?{rfc}"))
    );
}

#[test]
fn rfc6749_with_pkce_scopes_and_existing_query() {
    let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let req =
        AuthorizeRequest::rfc6749("http://127.0.0.1:9000/authorize?tenant=a", "public client")
            .with_redirect_uri("http://127.0.0.1:8085/callback")
            .with_scopes(&["openid", "read:user"])
            .with_code_challenge(v.challenge())
            .with_extra(&[("nonce", "n-0S6_WzA2Mj")]);
    assert_eq!(
        url(&req),
        "http://127.0.0.1:9000/authorize?tenant=a&response_type=code&client_id=public+client\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A8085%2Fcallback&scope=openid+read%3Auser\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
         &nonce=n-0S6_WzA2Mj"
    );
}

#[test]
fn pinterest_authorize_urls() {
    // Pinterest docs: `?client_id=1234567&redirect_uri=https://example.com/&response_type=code
    // &scope=ads:read,ads:write,boards:read,pins:read&state=hello` (raw `:`, `/` and `,`).
    let scopes = ["ads:read", "ads:write", "boards:read", "pins:read"];
    let req = AuthorizeRequest::pinterest("1234567")
        .with_redirect_uri("https://example.com/")
        .with_scopes(&scopes)
        .with_state("hello");
    let ours = url(&req);
    assert_eq!(
        ours,
        "https://www.pinterest.com/oauth/?client_id=1234567&redirect_uri=https%3A%2F%2Fexample.com%2F\
         &response_type=code&scope=ads%3Aread%2Cads%3Awrite%2Cboards%3Aread%2Cpins%3Aread&state=hello"
    );
    let docs = "https://www.pinterest.com/oauth/?client_id=1234567&redirect_uri=https://example.com/&response_type=code&scope=ads:read,ads:write,boards:read,pins:read&state=hello";
    assert_eq!(decoded_query(&ours), decoded_query(docs));

    // api-quickstart: `consumer_id` (their old name) and `refreshable=True` as extras differ;
    // the standard parameters decode the same.
    let req = AuthorizeRequest::pinterest("test-app-id")
        .with_redirect_uri("http://localhost:8085/")
        .with_scopes(&["user_accounts:read", "pins:read", "boards:read"])
        .with_state("test-token-hex")
        .with_extra(&[("refreshable", "True")]);
    let ours = decoded_query(&url(&req));
    let quickstart = decoded_query(
        "https://www.pinterest.com/oauth/?consumer_id=test-app-id&redirect_uri=http://localhost:8085/&response_type=code&refreshable=True&scope=user_accounts:read,pins:read,boards:read&state=test-token-hex",
    );
    for (k, v) in &quickstart {
        let k = if k == "consumer_id" { "client_id" } else { k };
        assert!(
            ours.iter().any(|(a, b)| a == k && b == v),
            "{k}={v} missing from {ours:?}"
        );
    }
}

#[test]
fn slack_authorize_urls() {
    let req = AuthorizeRequest::slack("111.222")
        .with_scopes(&["channels:read", "chat:write"])
        .with_user_scopes(&["search:read"])
        .with_redirect_uri("https://client.example.com/cb")
        .with_state("s 1")
        .with_team("T0123");
    assert_eq!(
        url(&req),
        "https://slack.com/oauth/v2/authorize?client_id=111.222&scope=channels%3Aread%2Cchat%3Awrite\
         &user_scope=search%3Aread&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&state=s+1&team=T0123"
    );
    let local = AuthorizeRequest::slack("111.222")
        .with_base_url("https://localhost:4443/oauth/v2/authorize");
    assert_eq!(
        url(&local),
        "https://localhost:4443/oauth/v2/authorize?client_id=111.222"
    );
    let v1 = AuthorizeRequest::for_provider(ProviderKind::SlackV1, "1")
        .unwrap()
        .with_scopes(&["bot"]);
    assert_eq!(
        url(&v1),
        "https://slack.com/oauth/authorize?client_id=1&scope=bot"
    );
    assert!(AuthorizeRequest::for_provider(ProviderKind::Rfc6749, "1").is_none());
}

#[test]
fn authorize_refusals() {
    let c = CodeVerifier::from_entropy(&[0; 32]).challenge();
    let cases: Vec<(AuthorizeRequest<'_>, AuthorizeError)> = vec![
        (
            AuthorizeRequest::slack(""),
            AuthorizeError::Empty { what: "client_id" },
        ),
        (
            AuthorizeRequest::slack("1").with_scopes(&["a,b"]),
            AuthorizeError::InvalidScope,
        ),
        (
            AuthorizeRequest::slack("1").with_scopes(&[""]),
            AuthorizeError::InvalidScope,
        ),
        (
            AuthorizeRequest::rfc6749("https://a.example/auth", "1").with_scopes(&["a b"]),
            AuthorizeError::InvalidScope,
        ),
        (
            AuthorizeRequest::pinterest("1").with_user_scopes(&["x"]),
            AuthorizeError::Unsupported { what: "user_scope" },
        ),
        (
            AuthorizeRequest::pinterest("1").with_team("T"),
            AuthorizeError::Unsupported { what: "team" },
        ),
        (
            AuthorizeRequest::slack("1").with_code_challenge(c),
            AuthorizeError::Unsupported {
                what: "code_challenge",
            },
        ),
        (
            AuthorizeRequest::slack("1").with_extra(&[("state", "x")]),
            AuthorizeError::InvalidExtraParam,
        ),
        (
            AuthorizeRequest::slack("1").with_extra(&[("", "x")]),
            AuthorizeError::InvalidExtraParam,
        ),
        (
            AuthorizeRequest::rfc6749("http://auth.example.com/a", "1"),
            AuthorizeError::Url(picoauth::provider::EndpointError::InsecureUrl),
        ),
        (
            AuthorizeRequest::rfc6749("https://auth.example.com/a#f", "1"),
            AuthorizeError::Url(picoauth::provider::EndpointError::InvalidPath),
        ),
        (
            AuthorizeRequest::slack("1").with_base_url("https://user@slack.com/x"),
            AuthorizeError::Url(picoauth::provider::EndpointError::InvalidUrl),
        ),
    ];
    for (req, want) in cases {
        let mut buf = [0x55u8; 512];
        assert_eq!(req.encode(&mut buf), Err(want), "{req:?}");
        assert_eq!(req.encoded_len(), Err(want));
        assert!(buf.iter().all(|&b| b == 0x55));
    }
}

#[test]
fn pkce_rfc7636_vector() {
    let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    assert_eq!(
        v.challenge().as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(
        CodeChallenge::s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

fn cb(target: &[u8]) -> Result<Callback<'_>, CallbackError> {
    // A leaked scratch so the borrowed result outlives this helper (test-only).
    let scratch: &'static mut [u8] = Box::leak(vec![0u8; target.len()].into_boxed_slice());
    Callback::parse(target, scratch)
}

#[test]
fn callback_rfc6749_vectors() {
    // §4.1.2
    let c = cb(b"https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz").unwrap();
    assert_eq!(c.code().unwrap().expose(), "SplxlOBeZQQYbYS6WxSbIA");
    assert_eq!(c.check_state("xyz"), Ok(()));
    // §4.1.2.1
    let c = cb(b"https://client.example.com/cb?error=access_denied&state=xyz").unwrap();
    assert_eq!(c.error(), Some(AuthorizationErrorCode::AccessDenied));
    assert_eq!(c.code(), None);
    assert_eq!(c.check_state("xyz"), Ok(()));
    let c = cb(b"/cb?error=consent_required&error_description=Ask%20again&error_uri=https%3A%2F%2Fas.example%2Fe&state=xyz&iss=https%3A%2F%2Fas.example").unwrap();
    assert_eq!(
        c.error(),
        Some(AuthorizationErrorCode::Other("consent_required"))
    );
    assert_eq!(c.error_description(), Some("Ask again"));
    assert_eq!(c.iss(), Some("https://as.example"));
    assert!(matches!(
        c,
        Callback::Error {
            error_uri: Some("https://as.example/e"),
            ..
        }
    ));
}

#[test]
fn callback_pinterest_quickstart() {
    // test_user_auth.py: accepted, state mismatch, missing code.
    let c = cb(b"test-path?code=test-code&state=test-secret").unwrap();
    assert_eq!(c.code().unwrap().expose(), "test-code");
    assert_eq!(c.check_state("test-secret"), Ok(()));
    let c = cb(b"test-path?code=test-code&state=wrong-test-secret").unwrap();
    assert_eq!(c.check_state("test-secret"), Err(StateError::Mismatch));
    assert_eq!(
        StateError::Mismatch.to_string(),
        "received OAuth state does not match sent state"
    );
    assert_eq!(
        cb(b"test-path?state=test-secret").unwrap_err(),
        CallbackError::MissingCode
    );
    let c = cb(b"test-path?code=test-code").unwrap();
    assert_eq!(c.check_state("test-secret"), Err(StateError::Missing));
}

#[test]
fn callback_garbage_and_tampering() {
    let cases: &[(&[u8], CallbackError)] = &[
        (b"/cb?code=a%zz&state=x", CallbackError::InvalidPercent),
        (b"/cb?code=abc&state=%", CallbackError::InvalidPercent),
        (b"/cb?code=abc&other=%4", CallbackError::InvalidPercent),
        (b"/cb?code=%ff&state=x", CallbackError::InvalidUtf8),
        (b"/cb?code=\xff&state=x", CallbackError::InvalidUtf8),
        (
            b"/cb?code=a&code=b&state=x",
            CallbackError::Duplicate { name: "code" },
        ),
        (
            b"/cb?code=a&state=x&state=y",
            CallbackError::Duplicate { name: "state" },
        ),
        (
            b"/cb?code=a&error=access_denied",
            CallbackError::CodeAndError,
        ),
        (b"/cb?code=&state=x", CallbackError::MissingCode),
        (b"/cb?state=x", CallbackError::MissingCode),
        (b"", CallbackError::MissingCode),
        (b"?", CallbackError::MissingCode),
        (b"&&&", CallbackError::MissingCode),
    ];
    for (t, want) in cases {
        let mut scratch = [0u8; 64];
        assert_eq!(
            Callback::parse(t, &mut scratch),
            Err(*want),
            "{:?}",
            String::from_utf8_lossy(t)
        );
    }
}

const KEY: &[u8] = b"k3y-for-tests-only-0123456789abc";

#[test]
fn signed_state_lifecycle() {
    let key = StateKey::new(KEY).unwrap();
    let redirect = "http://127.0.0.1:8085/callback";
    let s = SignedState::new(&key, &[42; 16], 2_000, redirect);
    assert_eq!(s.as_str().len(), SIGNED_STATE_LEN);
    // Fresh: accepted, and the callback helper agrees.
    let target = format!("/callback?code=c0de&state={}", s.as_str());
    let c = cb(Box::leak(target.into_bytes().into_boxed_slice())).unwrap();
    let v = c.verify_signed_state(&key, redirect, 1_000).unwrap();
    assert_eq!((v.nonce, v.expires_at), ([42; 16], 2_000));
    // Expired.
    assert_eq!(
        state::verify(&key, s.as_str(), redirect, 2_000),
        Err(StateError::Expired { expired_at: 2_000 })
    );
    // Replayed on another redirect.
    assert_eq!(
        state::verify(&key, s.as_str(), "http://127.0.0.1:8086/callback", 1_000),
        Err(StateError::WrongRedirect)
    );
    // Altered: another character in the middle.
    let mut altered = s.as_str().to_owned().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(
        state::verify(&key, &altered, redirect, 1_000),
        Err(StateError::BadSignature)
    );
    // Missing.
    let c = cb(b"/callback?code=c0de").unwrap();
    assert_eq!(
        c.verify_signed_state(&key, redirect, 1_000),
        Err(StateError::Missing)
    );
}

proptest! {
    #[test]
    fn signed_state_round_trips(
        key in prop::collection::vec(any::<u8>(), 16..64),
        nonce in any::<[u8; 16]>(),
        expires_at in 1u64..,
        now_back in 1u64..1_000_000,
        redirect in "[ -~]{0,80}",
    ) {
        let key = StateKey::new(&key).unwrap();
        let s = SignedState::new(&key, &nonce, expires_at, &redirect);
        let now = expires_at.saturating_sub(now_back);
        let v = state::verify(&key, s.as_str(), &redirect, now).unwrap();
        prop_assert_eq!(v.nonce, nonce);
        prop_assert_eq!(v.expires_at, expires_at);
        // Through a callback too.
        let target = format!("/cb?state={}&code=x", s.as_str());
        let mut scratch = [0u8; 0];
        let c = Callback::parse(target.as_bytes(), &mut scratch).unwrap();
        prop_assert_eq!(c.verify_signed_state(&key, &redirect, now), Ok(v));
    }

    #[test]
    fn any_single_bit_change_is_refused(
        nonce in any::<[u8; 16]>(),
        expires_at in 1_000u64..,
        bit in 0usize..(SIGNED_STATE_LEN * 8),
    ) {
        let key = StateKey::new(KEY).unwrap();
        let s = SignedState::new(&key, &nonce, expires_at, "https://app.example/cb");
        let mut bytes = s.as_str().as_bytes().to_vec();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let changed = String::from_utf8_lossy(&bytes);
        let r = state::verify(&key, &changed, "https://app.example/cb", 0);
        prop_assert!(
            matches!(r, Err(StateError::Malformed | StateError::BadSignature)),
            "bit {} gave {:?}", bit, r
        );
    }

    #[test]
    fn callback_parse_never_panics(input in prop::collection::vec(any::<u8>(), 0..200), cap in 0usize..64) {
        let mut scratch = vec![0u8; cap];
        let _ = Callback::parse(&input, &mut scratch);
    }

    #[test]
    fn authorize_encoded_len_is_exact(
        client_id in "\\PC{1,20}",
        state in "\\PC{0,20}",
        scopes in prop::collection::vec("[a-z:_.]{1,12}", 0..4),
    ) {
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        for req in [
            AuthorizeRequest::slack(&client_id),
            AuthorizeRequest::pinterest(&client_id),
            AuthorizeRequest::rfc6749("https://as.example/authorize", &client_id),
        ] {
            let req = req.with_state(&state).with_scopes(&scopes).with_redirect_uri("http://127.0.0.1:1/cb");
            let u = url(&req);
            let q = decoded_query(&u);
            prop_assert!(q.iter().any(|(k, v)| k == "client_id" && v == &client_id));
            prop_assert!(q.iter().any(|(k, v)| k == "state" && v == &state));
        }
    }
}
