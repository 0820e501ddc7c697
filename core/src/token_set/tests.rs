//! The token-set model against real provider bodies (`tests/fixtures/`).

extern crate std;

use std::format;
use std::vec;

use super::*;
use crate::json::{pinterest, slack};
use crate::provider::{PINTEREST, SLACK_V2};

macro_rules! fx {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/", $name))
    };
}

fn slack_token(body: &[u8]) -> Token<'_> {
    match slack::parse_v2(body).unwrap() {
        slack::SlackV2::Token(t) => Token::SlackV2(t),
        other => panic!("{other:?}"),
    }
}

fn pin_token(body: &[u8]) -> Token<'_> {
    match pinterest::parse(body).unwrap() {
        pinterest::Pinterest::Token(t) => Token::Pinterest(t),
        other => panic!("{other:?}"),
    }
}

fn access(set: &TokenSet, slot: Slot) -> &str {
    set.credential(slot).unwrap().access_token.expose()
}

fn refresh(set: &TokenSet, slot: Slot) -> Option<&str> {
    set.credential(slot)
        .unwrap()
        .refresh_token
        .as_ref()
        .map(SecretText::expose)
}

#[test]
fn pinterest_refresh_without_refresh_token_keeps_the_old_one() {
    let mut set: TokenSet =
        TokenSet::from_token(&pin_token(fx!("pinterest-docs-code-grant.json")), 1000).unwrap();
    let before = set.credential(Slot::Main).unwrap().clone();
    assert_eq!(before.access_expires_at, Some(1000 + 2_592_000));
    assert_eq!(before.refresh_expires_at, Some(1000 + 31_536_000));
    assert_eq!(before.token_type, "bearer");
    set.apply(
        &pin_token(fx!("pinterest-quickstart-refresh-no-refresh-token.json")),
        5000,
    )
    .unwrap();
    let after = set.credential(Slot::Main).unwrap();
    assert_eq!(after.access_token.expose(), "pina_new-access-token-2");
    assert_eq!(after.refresh_token, before.refresh_token);
    assert_eq!(after.refresh_expires_at, before.refresh_expires_at);
    assert_eq!(after.scope, "users:read,pins:read,boards:read");
    assert_eq!(after.token_type, "bearer");
    // The answer gave no lifetime: the new token's expiry is unknown, not the old one.
    assert_eq!(after.access_expires_at, None);
    // Continuous refresh: the refresh token rotates.
    set.apply(
        &pin_token(fx!("pinterest-quickstart-refresh-continuous.json")),
        6000,
    )
    .unwrap();
    assert_eq!(refresh(&set, Slot::Main), Some("pinr_new-refresh-token"));
    assert_eq!(set.credential(Slot::Main).unwrap().refresh_expires_at, None);
    assert!(set.credential(Slot::User).is_none());
}

#[test]
fn slack_bot_and_user_sets_are_kept_apart() {
    let mut set: TokenSet = TokenSet::from_token(
        &slack_token(fx!("slack-v2-spec-example-bot-and-user.json")),
        0,
    )
    .unwrap();
    assert_eq!(
        access(&set, Slot::Main),
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
    );
    assert_eq!(access(&set, Slot::User), "xoxp-1234");
    assert_eq!(set.credential(Slot::User).unwrap().scope, "chat:write");
    assert_eq!(set.needs_refresh(u64::MAX, 0), None, "nothing to refresh");
    // A rotation answer with both: both stored, `authed_user.refresh_token` included.
    set.apply(
        &slack_token(fx!("slack-v2-python-sdk-rotation-refresh.json")),
        100,
    )
    .unwrap();
    assert_eq!(access(&set, Slot::Main), "xoxe.xoxb-1-yyy");
    assert_eq!(refresh(&set, Slot::Main), Some("xoxe-1-yyy"));
    assert_eq!(access(&set, Slot::User), "xoxe.xoxp-1-xxx");
    assert_eq!(refresh(&set, Slot::User), Some("xoxe-1-xxx"));
    assert_eq!(
        set.credential(Slot::Main).unwrap().access_expires_at,
        Some(100 + 43_201)
    );
    assert_eq!(
        set.credential(Slot::User).unwrap().access_expires_at,
        Some(100 + 43_200)
    );
    assert_eq!(set.next_refresh_due(), Some(43_300));
    // A bot refresh answer touches the bot token only.
    set.apply(
        &slack_token(fx!("slack-v2-bolt-python-rotation-bot-refresh.json")),
        200,
    )
    .unwrap();
    assert_eq!(access(&set, Slot::Main), "xoxb-valid-refreshed");
    assert_eq!(
        refresh(&set, Slot::Main),
        Some("xoxe-1-valid-bot-refreshed")
    );
    assert_eq!(access(&set, Slot::User), "xoxe.xoxp-1-xxx");
    // A user refresh answer (top-level `token_type: user`) goes to the user slot.
    set.apply(
        &slack_token(fx!("slack-v2-bolt-python-rotation-user-refresh.json")),
        300,
    )
    .unwrap();
    assert_eq!(access(&set, Slot::User), "xoxp-valid-refreshed");
    assert_eq!(
        refresh(&set, Slot::User),
        Some("xoxe-1-valid-user-refreshed")
    );
    assert_eq!(set.credential(Slot::User).unwrap().scope, "search:read");
    assert_eq!(access(&set, Slot::Main), "xoxb-valid-refreshed");
}

#[test]
fn needs_refresh_and_the_refresh_request() {
    let set: TokenSet = TokenSet::from_token(
        &slack_token(fx!("slack-v2-python-sdk-rotation-refresh.json")),
        0,
    )
    .unwrap();
    // The user token expires at 43200, the bot token at 43201.
    assert_eq!(set.needs_refresh(0, 120), None);
    assert_eq!(set.needs_refresh(43_080, 120), Some(Slot::User));
    assert_eq!(set.needs_refresh(43_079, 120), None);
    assert!(set.credential(Slot::Main).unwrap().valid_for(43_080, 120));
    assert!(!set.credential(Slot::Main).unwrap().valid_for(43_081, 120));
    let auth = ClientAuth::basic("111.222", "s".into());
    let req = set.refresh_request(Slot::User, &SLACK_V2, auth).unwrap();
    let mut buf = [0u8; 512];
    let n = req.encode_body(&mut buf).unwrap();
    let body = core::str::from_utf8(&buf[..n]).unwrap();
    assert!(body.contains("grant_type=refresh_token"), "{body}");
    assert!(body.contains("refresh_token=xoxe-1-xxx"), "{body}");
    assert_eq!(
        set.refresh_request(Slot::Main, &PINTEREST, auth).err(),
        Some(TokenSetError::ProviderMismatch)
    );
    let plain: TokenSet = TokenSet::from_token(
        &slack_token(fx!("slack-v2-spec-example-bot-and-user.json")),
        0,
    )
    .unwrap();
    assert_eq!(
        plain.refresh_request(Slot::Main, &SLACK_V2, auth).err(),
        Some(TokenSetError::NoRefreshToken)
    );
}

#[test]
fn refusals_mismatches_and_capacity_are_typed_and_leave_the_set_alone() {
    let slack_err = br#"{"ok":false,"error":"invalid_refresh_token"}"#;
    let slack::SlackV2::Error(e) = slack::parse_v2(slack_err).unwrap() else {
        panic!()
    };
    let refused = Outcome::Error {
        status: 200,
        error: crate::exchange::ProviderError::Slack(e),
    };
    assert_eq!(
        TokenSet::<64, 64>::from_outcome(&refused, 0).err(),
        Some(TokenSetError::NotAToken)
    );
    assert_eq!(
        TokenSet::<64, 64>::from_token(
            &slack_token(fx!("slack-v2-python-sdk-ok-true-only.json")),
            0
        )
        .err(),
        Some(TokenSetError::NoAccessToken)
    );
    let mut set: TokenSet<24, 64> = TokenSet::from_token(
        &pin_token(fx!("pinterest-quickstart-refresh-continuous.json")),
        0,
    )
    .unwrap();
    let before = set.clone();
    assert_eq!(
        set.apply(
            &slack_token(fx!("slack-v2-python-sdk-rotation-refresh.json")),
            1
        ),
        Err(TokenSetError::ProviderMismatch)
    );
    let long = br#"{"access_token":"pina_0123456789012345678901234567","refresh_token":"pinr_x"}"#;
    assert_eq!(
        set.apply(&pin_token(long), 1),
        Err(TokenSetError::Capacity {
            field: Field::AccessToken,
            len: 33,
            capacity: 24
        })
    );
    let long_scope = br#"{"access_token":"pina_1","scope":"0123456789012345678901234567890123456789012345678901234567890123456789"}"#;
    assert!(matches!(
        set.apply(&pin_token(long_scope), 1),
        Err(TokenSetError::Capacity {
            field: Field::Scope,
            ..
        })
    ));
    assert_eq!(set, before);
}

#[test]
fn debug_never_shows_a_token() {
    let set: TokenSet = TokenSet::from_token(
        &slack_token(fx!("slack-v2-python-sdk-rotation-refresh.json")),
        0,
    )
    .unwrap();
    let d = format!("{set:?}");
    for secret in ["xxx", "yyy"] {
        assert!(!d.contains(secret), "{d}");
    }
    assert!(d.contains("search:read"), "{d}");
}

#[test]
fn encoding_round_trips_and_refuses_bad_bytes() {
    let set: TokenSet = TokenSet::from_token(
        &slack_token(fx!("slack-v2-python-sdk-rotation-refresh.json")),
        7,
    )
    .unwrap();
    let n = set.encoded_len().unwrap();
    let mut buf = vec![0xAAu8; n + 8];
    // Short buffer: untouched.
    assert_eq!(
        set.encode(&mut buf[..n - 1]),
        Err(CodecError::BufferTooSmall { needed: n })
    );
    assert!(buf.iter().all(|&b| b == 0xAA));
    assert_eq!(set.encode(&mut buf).unwrap(), n);
    assert_eq!(buf[0], VERSION);
    assert_eq!(TokenSet::decode(&buf[..n]).unwrap(), set);
    // A set decodes into larger capacities, and refuses smaller ones.
    let wide = TokenSet::<1024, 1024>::decode(&buf[..n]).unwrap();
    assert_eq!(
        wide.credential(Slot::User).unwrap().access_token.expose(),
        "xoxe.xoxp-1-xxx"
    );
    assert_eq!(
        TokenSet::<8, 512>::decode(&buf[..n]),
        Err(CodecError::Malformed)
    );
    // Every truncation, trailing bytes, other versions, every single-byte corruption:
    // a typed error or a set, never a panic.
    assert_eq!(TokenSet::<512, 512>::decode(&[]), Err(CodecError::Empty));
    for cut in 1..n {
        assert_eq!(
            TokenSet::<512, 512>::decode(&buf[..cut]),
            Err(CodecError::Malformed),
            "{cut}"
        );
    }
    assert_eq!(
        TokenSet::<512, 512>::decode(&buf[..n + 1]),
        Err(CodecError::Malformed)
    );
    let mut v2 = buf.clone();
    v2[0] = 2;
    assert_eq!(
        TokenSet::<512, 512>::decode(&v2[..n]),
        Err(CodecError::UnknownVersion(2))
    );
    for i in 1..n {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut c = buf[..n].to_vec();
            c[i] ^= flip;
            let _ = TokenSet::<512, 512>::decode(&c);
        }
    }
    // The byte layout is pinned: a change needs a new VERSION.
    let small: TokenSet<16, 16> = TokenSet::from_token(
        &pin_token(br#"{"access_token":"a","refresh_token":"r","expires_in":5,"scope":"s"}"#),
        1,
    )
    .unwrap();
    let mut out = [0u8; 64];
    let n = small.encode(&mut out).unwrap();
    assert_eq!(
        &out[..n],
        &[1, 3, 1, 1, b'a', 1, 1, b'r', 1, 6, 0, 1, b's', 0, 0][..]
    );
}
