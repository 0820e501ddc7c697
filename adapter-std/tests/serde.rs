//! Feature `serde`: an owned outcome written to a service's own storage (JSON here)
//! reads back equal, for every real provider body of `tests/fixtures/`, secrets
//! included; read back, the secrets still do not show in `Debug`.
#![cfg(feature = "serde")]

use picoauth_std::owned::parse_body;
use picoauth_std::{OwnedOutcome, Secret, TokenSet};
use picoauth_test_support::sources::fixtures;

#[test]
fn every_fixture_outcome_round_trips_through_json() {
    let mut tokens = 0;
    let mut other = 0;
    for f in fixtures() {
        // Bodies that are not an answer (broken JSON) have no outcome to store.
        let Ok(outcome) = parse_body(f.kind, f.status, &f.body) else {
            continue;
        };
        let json = serde_json::to_string(&outcome).unwrap();
        let back: OwnedOutcome =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}\n{json}", f.name));
        assert_eq!(back, outcome, "{}", f.name);
        assert_eq!(back.kind(), outcome.kind(), "{}", f.name);
        if let Some(set) = outcome.tokens() {
            let json = serde_json::to_string(set).unwrap();
            let back: TokenSet = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, set, "{}", f.name);
            tokens += 1;
        } else {
            other += 1;
        }
    }
    // The fixtures hold token answers and errors of every provider.
    assert!(
        tokens >= 20 && other >= 15,
        "{tokens} token sets, {other} others"
    );
}

#[test]
fn a_token_set_read_back_keeps_its_secrets_out_of_debug() {
    let json = r#"{"access_token":"xoxe.xoxb-1-SECRETVALUE","token_type":"bot",
        "refresh_token":"xoxe-1-REFRESHSECRET","expires_in":43200,"expires_at":1764550000,
        "scope":"chat:write","id_token":null,"refresh_token_expires_at":null,"user":null}"#;
    let set: TokenSet = serde_json::from_str(json).unwrap();
    assert_eq!(
        set.access_token.as_ref().map(Secret::expose),
        Some("xoxe.xoxb-1-SECRETVALUE")
    );
    assert_eq!(set.expires_at, Some(1_764_550_000));
    let debug = format!("{set:?}");
    assert!(!debug.contains("SECRETVALUE"), "{debug}");
    assert!(!debug.contains("REFRESHSECRET"), "{debug}");
}

#[test]
fn outcome_json_is_tagged_by_kind() {
    let outcome = parse_body(
        picoauth::provider::ProviderKind::Rfc6749,
        400,
        br#"{"error":"invalid_grant","error_description":"code used"}"#,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::to_value(&outcome).unwrap();
    assert_eq!(v["kind"], "error");
    assert_eq!(v["code"], "invalid_grant");
    assert_eq!(v["status"], 400);
}

#[test]
fn a_malformed_stored_outcome_is_a_typed_error() {
    for bad in [
        r#"{"kind":"token","status":200}"#,
        r#"{"kind":"nonsense","status":200}"#,
        r#"{"kind":"error","status":"400","code":"x","fields":[]}"#,
    ] {
        assert!(serde_json::from_str::<OwnedOutcome>(bad).is_err(), "{bad}");
    }
}
