//! Differential against serde_json: where both accept a body, the core's document
//! tree equals serde_json's (duplicate keys resolved last-wins on both sides), and
//! the fields the provider parsers return equal serde_json's lookups of the same
//! members (escaped strings included). Only bodies both accept are compared: the core
//! refuses duplicate known members and nesting deeper than 32, which serde_json takes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoauth::json::value::{parse_document, Value};
use picoauth::json::{pinterest, rfc6749, slack, JsonStr};
use serde_json::Value as J;

fn to_serde(v: Value<'_>) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::Number(n) => serde_json::from_str(n.as_str()).expect("number serde refuses"),
        Value::String(s) => J::String(s.chars().collect()),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, v) in o.members() {
                m.insert(k.chars().collect(), to_serde(v));
            }
            J::Object(m)
        }
        Value::Array(a) => J::Array(a.elements().map(to_serde).collect()),
    }
}

fn get<'j>(obj: &'j J, key: &str) -> Option<&'j J> {
    obj.get(key).filter(|v| !v.is_null())
}

#[track_caller]
fn same_str(core: Option<JsonStr<'_>>, obj: &J, key: &str) {
    let theirs = get(obj, key).map(|v| v.as_str().expect("core took a non-string"));
    assert_eq!(
        core.map(|s| s.to_string()).as_deref(),
        theirs,
        "member {key}"
    );
}

/// [`same_str`] for each `(key, core's value)` of `members`.
#[track_caller]
fn same_strs(obj: &J, members: &[(&str, Option<JsonStr<'_>>)]) {
    for &(key, core) in members {
        same_str(core, obj, key);
    }
}

#[track_caller]
fn same_u64(core: Option<u64>, obj: &J, key: &str) {
    let theirs = match get(obj, key) {
        None => None,
        Some(J::Number(n)) => n.as_u64(),
        Some(J::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        Some(other) => panic!("core took {other:?} for {key}"),
    };
    assert_eq!(core, theirs, "member {key}");
}

fn object<'j>(obj: &'j J, key: &str) -> &'j J {
    static NULL: J = J::Null;
    get(obj, key).unwrap_or(&NULL)
}

fuzz_target!(|body: &[u8]| {
    let Ok(theirs) = serde_json::from_slice::<J>(body) else {
        return;
    };
    let Ok(ours) = parse_document(body) else {
        return;
    };
    assert_eq!(to_serde(ours), theirs, "document trees differ");

    if let Ok(r) = rfc6749::parse(body) {
        match r {
            rfc6749::Rfc6749::Token(t) => {
                assert!(get(&theirs, "error").is_none());
                same_str(Some(t.access_token.expose()), &theirs, "access_token");
                match t.token_type {
                    rfc6749::TokenType::Bearer => assert!(theirs["token_type"]
                        .as_str()
                        .unwrap()
                        .eq_ignore_ascii_case("bearer")),
                    rfc6749::TokenType::Other(s) => same_str(Some(s), &theirs, "token_type"),
                    _ => {}
                }
                same_str(
                    t.refresh_token.map(|r| r.expose()),
                    &theirs,
                    "refresh_token",
                );
                same_str(t.scope, &theirs, "scope");
                same_str(t.id_token.map(|r| r.expose()), &theirs, "id_token");
                same_u64(t.expires_in, &theirs, "expires_in");
            }
            rfc6749::Rfc6749::Error(e) => {
                assert_eq!(Some(e.code.to_string().as_str()), theirs["error"].as_str());
                same_str(e.description, &theirs, "error_description");
                same_str(e.uri, &theirs, "error_uri");
            }
        }
    }

    if let Ok(r) = slack::parse_v2(body) {
        match r {
            slack::SlackV2::Token(t) => {
                assert_ne!(theirs["ok"], J::Bool(false));
                same_strs(
                    &theirs,
                    &[
                        ("access_token", t.access_token.map(|a| a.expose())),
                        ("refresh_token", t.refresh_token.map(|a| a.expose())),
                        ("token_type", t.token_type),
                        ("scope", t.scope),
                        ("bot_user_id", t.bot_user_id),
                        ("app_id", t.app_id),
                    ],
                );
                same_u64(t.expires_in, &theirs, "expires_in");
                let team = object(&theirs, "team");
                same_str(t.team.and_then(|x| x.id), team, "id");
                same_str(t.team.and_then(|x| x.name), team, "name");
                let ent = object(&theirs, "enterprise");
                same_str(t.enterprise.and_then(|x| x.id), ent, "id");
                same_str(t.enterprise.and_then(|x| x.name), ent, "name");
                let user = object(&theirs, "authed_user");
                let u = t.authed_user;
                same_strs(
                    user,
                    &[
                        ("id", u.and_then(|u| u.id)),
                        (
                            "access_token",
                            u.and_then(|u| u.access_token).map(|a| a.expose()),
                        ),
                        (
                            "refresh_token",
                            u.and_then(|u| u.refresh_token).map(|a| a.expose()),
                        ),
                        ("scope", u.and_then(|u| u.scope)),
                    ],
                );
                same_u64(u.and_then(|u| u.expires_in), user, "expires_in");
                let hook = object(&theirs, "incoming_webhook");
                same_str(
                    t.incoming_webhook.and_then(|h| h.url).map(|u| u.expose()),
                    hook,
                    "url",
                );
                same_str(t.incoming_webhook.and_then(|h| h.channel), hook, "channel");
                if let Some(b) = t.is_enterprise_install {
                    assert_eq!(theirs["is_enterprise_install"], J::Bool(b));
                }
            }
            slack::SlackV2::Error(e) => {
                assert_ne!(theirs["ok"], J::Bool(true));
                let code = theirs["error"].as_str().unwrap_or("");
                assert_eq!(e.code.to_string(), code, "error");
                same_str(e.description, &theirs, "error_description");
            }
        }
    }

    if let Ok(r) = slack::parse_v1(body) {
        match r {
            slack::SlackV1::Token(t) => {
                same_str(Some(t.access_token.expose()), &theirs, "access_token");
                same_str(t.scope, &theirs, "scope");
                same_str(t.user_id, &theirs, "user_id");
                same_str(t.team_id, &theirs, "team_id");
                same_u64(t.expires_in, &theirs, "expires_in");
            }
            slack::SlackV1::Error(e) => {
                let code = theirs["error"].as_str().unwrap_or("");
                assert_eq!(e.code.to_string(), code, "error");
            }
        }
    }

    if let Ok(r) = pinterest::parse(body) {
        match r {
            pinterest::Pinterest::Token(t) => {
                same_strs(
                    &theirs,
                    &[
                        ("access_token", Some(t.access_token.expose())),
                        ("refresh_token", t.refresh_token.map(|a| a.expose())),
                        ("scope", t.scope),
                        ("token_type", t.token_type),
                    ],
                );
                same_u64(t.expires_in, &theirs, "expires_in");
                same_u64(
                    t.refresh_token_expires_in,
                    &theirs,
                    "refresh_token_expires_in",
                );
                same_u64(
                    t.refresh_token_expires_at,
                    &theirs,
                    "refresh_token_expires_at",
                );
            }
            pinterest::Pinterest::Error(e) => {
                // serde_json keeps `-0` as a float; the core reads it as the integer 0
                // (core/tests/regressions.rs, json_negative_zero_is_zero).
                let code = &theirs["code"];
                let theirs_code = code
                    .as_i64()
                    .or_else(|| (code.as_f64() == Some(0.0)).then_some(0));
                assert_eq!(Some(e.code), theirs_code);
                same_str(Some(e.message), &theirs, "message");
            }
        }
    }
});
