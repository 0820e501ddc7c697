//! Inputs the fuzz targets in `fuzz/` turned up, each pinned as a test before any fix.
//!
//! Every crash, hang or invariant break found by `cargo fuzz` (or `.ci/fuzz`) gets a
//! test here with the minimized input, named after the target that found it. Inputs
//! that only showed a harness assumption to be wrong are kept too: they pin the
//! behaviour the harness was corrected to expect.

use picoauth::callback::{AuthorizationErrorCode, Callback};
use picoauth::json::value::{parse_document, Value};
use picoauth::json::{pinterest, rfc6749, slack, JsonError};

/// json_slack_v2 (first minutes of fuzzing): a number beyond `f64` (`1e400`) is valid
/// JSON syntax. The lexer accepts it (serde_json refuses it as out of range, which is
/// why the harness compares numbers only when serde_json can represent them); an
/// integer member holding it is a type error, an unknown member holding it is ignored.
#[test]
fn json_number_beyond_f64() {
    let Ok(Value::Number(n)) = parse_document(b"1e400") else {
        panic!("1e400 is valid JSON");
    };
    assert_eq!(n.as_str(), "1e400");
    assert_eq!(n.as_u64(), None);
    assert_eq!(n.as_i64(), None);
    assert!(serde_json::from_slice::<serde_json::Value>(b"1e400").is_err());

    let known = br#"{"access_token":"a","token_type":"bearer","expires_in":1e400}"#;
    let err = rfc6749::parse(known).unwrap_err();
    assert_eq!(err.field(), Some("expires_in"), "{err:?}");
    let err = pinterest::parse(br#"{"access_token":"a","expires_in":1e400}"#).unwrap_err();
    assert_eq!(err.field(), Some("expires_in"), "{err:?}");

    let unknown = br#"{"ok":true,"access_token":"xoxb-1","x":[1e400,-1e-400]}"#;
    let Ok(slack::SlackV2::Token(t)) = slack::parse_v2(unknown) else {
        panic!("unknown members are ignored");
    };
    assert_eq!(t.access_token.unwrap().expose(), "xoxb-1");
}

/// form_decode (first minutes of fuzzing): a callback with a code and an
/// `error_description` whose raw bytes are not UTF-8. Only the values a callback
/// returns are decoded; `error_description` is not returned with a code, so the
/// callback parses, and its code and state are the decoded parameters.
#[test]
fn callback_ignores_unused_value_that_is_not_utf8() {
    let input = b"code=c&state=s&error_description=User+said+no\xcf 07:28";
    let mut scratch = [0u8; 64];
    let cb = Callback::parse(input, &mut scratch).unwrap();
    assert_eq!(cb.code().map(|c| c.expose()), Some("c"));
    assert_eq!(cb.state(), Some("s"));
    assert_eq!(cb.error_description(), None);

    // Returned with an error, the same value is refused.
    let input = b"error=access_denied&error_description=User+said+no\xcf 07:28";
    let mut scratch = [0u8; 64];
    assert!(Callback::parse(input, &mut scratch).is_err());
    let mut scratch = [0u8; 64];
    let cb = Callback::parse(b"error=access_denied&error_description=no", &mut scratch).unwrap();
    assert_eq!(cb.error(), Some(AuthorizationErrorCode::AccessDenied));
}

/// Truncated JSON never panics and is an error, whatever the cut (kept from the
/// json targets' seed corpus: every prefix of a real Slack body).
#[test]
fn every_prefix_of_a_slack_body_is_an_error() {
    let body = include_bytes!("../../tests/fixtures/slack-v2-spec-example-bot-and-user.json");
    for cut in 0..body.len() {
        let prefix = &body[..cut];
        assert!(slack::parse_v2(prefix).is_err(), "cut at {cut}");
        if cut == 0 || prefix.iter().all(u8::is_ascii_whitespace) {
            assert_eq!(slack::parse_v2(prefix).unwrap_err(), JsonError::Empty);
        }
    }
}

/// json_differential (CI smoke pass, 2026-11-23): a Pinterest error whose `code` is
/// `-0`. JSON's grammar allows `-0` as an integer; the core reads it as 0. serde_json
/// keeps the sign by making it a float (`as_i64()` is `None`), which is what the
/// harness had not expected: it now compares a `-0` as 0. No core change: a member
/// typed unsigned (`expires_in`) refuses any sign, `-0` included, as a type error,
/// which serde_json agrees with (`as_u64()` is `None` for its float -0).
#[test]
fn json_negative_zero_is_zero() {
    let body = b"{         \"code\":-0,\n                  \"message\": \"Yoce.\"\n             }";
    let Ok(pinterest::Pinterest::Error(e)) = pinterest::parse(body) else {
        panic!("a Pinterest error");
    };
    assert_eq!(e.code, 0);
    assert_eq!(e.message, "Yoce.");
    let theirs: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(theirs["code"].as_i64(), None);
    assert_eq!(theirs["code"].as_f64(), Some(0.0));

    let Ok(Value::Number(n)) = parse_document(b"-0") else {
        panic!("-0 is valid JSON");
    };
    assert_eq!((n.as_i64(), n.as_u64()), (Some(0), None));
    assert_eq!(theirs["code"].as_u64(), None);

    let err = rfc6749::parse(br#"{"access_token":"a","token_type":"bearer","expires_in":-0}"#)
        .unwrap_err();
    assert_eq!(err.field(), Some("expires_in"), "{err:?}");
    let err = rfc6749::parse(br#"{"access_token":"a","token_type":"bearer","expires_in":-1}"#)
        .unwrap_err();
    assert_eq!(err.field(), Some("expires_in"), "{err:?}");
}
