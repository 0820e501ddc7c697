//! The token lifecycle in one process, against the built-in provider with short
//! token lifetimes and strict single-use refresh tokens, on the SQLite store:
//! no round trip for a fresh token, one refresh for many waiters, Pinterest's answer
//! without `refresh_token`, Slack's bot and user rotation (twice), a user refresh
//! refused after the bot's succeeded, `invalid_refresh_token`,
//! 429 `Retry-After`, an expired claim, the background refresher, schema versions.

use core::time::Duration;
use std::time::Instant;

use picoauth::token_set::Slot;
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::tokens::{
    now_ms, Claim, Completion, Installation, ManagerConfig, ManagerError, SqliteStore, Status,
    StoreError, TokenStore,
};

use picoauth_test_support::lifecycle::{self, fast_config, manager, seed};

struct Env {
    lp: LocalProvider,
    _dir: tempfile::TempDir,
    store: SqliteStore,
}

fn env(lifetime: Option<Duration>) -> Env {
    let lp = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    lp.set_access_lifetime(lifetime);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("tokens.db")).unwrap();
    Env {
        lp,
        _dir: dir,
        store,
    }
}

impl Env {
    /// A manager over the store at the provider, with [`fast_config`].
    fn fast_manager(&self) -> picoauth_std::tokens::TokenManager<SqliteStore> {
        manager(
            self.store.clone(),
            &self.lp.ca_cert_pem(),
            &self.lp.base_url(),
            fast_config(),
            false,
        )
    }
}

fn refresh_token(store_entry: &picoauth_std::tokens::Stored, slot: Slot) -> Option<String> {
    store_entry
        .installation
        .tokens
        .credential(slot)?
        .refresh_token
        .as_ref()
        .map(|t| t.expose().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_token_needs_no_database_round_trip() {
    let e = env(None);
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "fresh").await;
    let m = manager(
        e.store.clone(),
        &e.lp.ca_cert_pem(),
        &e.lp.base_url(),
        ManagerConfig::default(),
        false,
    );
    let first = m.access_token(&key).await.unwrap();
    let trips = m.store().round_trips();
    for _ in 0..1000 {
        assert_eq!(m.access_token(&key).await.unwrap().expose(), first.expose());
    }
    assert_eq!(
        m.store().round_trips(),
        trips,
        "no round trip for a fresh token"
    );
    assert_eq!(m.counters().cache_hits, 1000);
    assert!(e.lp.access_token_is_live(first.expose()));
    assert_eq!(e.lp.refresh_count("fresh"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_waiters_one_refresh() {
    let e = env(Some(Duration::from_secs(1)));
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "waiters").await;
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let m = m.clone();
            let key = key.clone();
            tokio::spawn(async move { m.access_token(&key).await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().expose().to_owned());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every waiter got the one new token");
    assert!(e.lp.access_token_is_live(&tokens[0]));
    assert_eq!(e.lp.refresh_count("waiters"), 1);
    assert_eq!(m.counters().refreshes, 1);
    let stored = e.store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.generation, 2);
    assert!(e.lp.installation_is_live("waiters"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinterest_refresh_without_refresh_token_keeps_the_old_one() {
    let e = env(Some(Duration::from_secs(1)));
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Pinterest, "pin").await;
    let original = refresh_token(&e.store.get(&key).await.unwrap().unwrap(), Slot::Main).unwrap();
    let m = e.fast_manager();
    for round in 1..=2 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let t = m.access_token(&key).await.unwrap();
        assert!(e.lp.access_token_is_live(t.expose()));
        assert_eq!(e.lp.refresh_count("pin"), round);
        let stored = e.store.get(&key).await.unwrap().unwrap();
        assert_eq!(
            refresh_token(&stored, Slot::Main).as_deref(),
            Some(original.as_str())
        );
        assert!(e.lp.refresh_token_is_live(&original));
    }
    // With continuous refresh the refresh token rotates, and the old one dies.
    let m = manager(
        e.store.clone(),
        &e.lp.ca_cert_pem(),
        &e.lp.base_url(),
        fast_config(),
        true,
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    m.access_token(&key).await.unwrap();
    let stored = e.store.get(&key).await.unwrap().unwrap();
    let rotated = refresh_token(&stored, Slot::Main).unwrap();
    assert_ne!(rotated, original);
    assert!(!e.lp.refresh_token_is_live(&original));
    assert!(e.lp.refresh_token_is_live(&rotated));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_rotation_with_bot_and_user_stores_both() {
    let e = env(Some(Duration::from_secs(1)));
    let body =
        e.lp.issue_slack_installation_with_user(lp::SLACK_ROTATING_CLIENT_ID, "both");
    let (i, exp) = lifecycle::installation(&body, "both", picoauth_std::tokens::now_ms());
    e.store.put(&i, exp).await.unwrap();
    assert!(i.tokens.credential(Slot::User).is_none());
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let bot = m.access_token(&i.key).await.unwrap();
    let stored = e.store.get(&i.key).await.unwrap().unwrap();
    let tokens = &stored.installation.tokens;
    let main = tokens.credential(Slot::Main).unwrap();
    let user = tokens
        .credential(Slot::User)
        .expect("the user token is stored");
    assert_eq!(main.access_token.expose(), bot.expose());
    assert_eq!(main.token_type, "bot");
    assert_eq!(user.token_type, "user");
    assert!(user.access_token.expose().starts_with("xoxe.xoxp-"));
    assert!(
        user.refresh_token.is_some(),
        "authed_user.refresh_token is stored"
    );
    assert!(user.access_expires_at.is_some());
    assert!(e.lp.access_token_is_live(user.access_token.expose()));
    assert!(e.lp.access_token_is_live(main.access_token.expose()));
    // The refresh token of the bot rotated, and the new one is the live one.
    assert!(e.lp.installation_is_live("both"));
}

/// A second refresh of a bot and user installation: the bot's answer renews the user
/// token too, so the user's refresh token is not spent on a refresh of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_token_the_bot_answer_renewed_is_not_refreshed_again() {
    // Long enough for a renewed token to outlast the manager's leeway (1 s, rounded
    // up to whole seconds), short enough for two rounds.
    let e = env(Some(Duration::from_secs(3)));
    let body =
        e.lp.issue_slack_installation_with_user(lp::SLACK_ROTATING_CLIENT_ID, "twice");
    let (i, exp) = lifecycle::installation(&body, "twice", now_ms());
    e.store.put(&i, exp).await.unwrap();
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    m.access_token(&i.key).await.unwrap();
    // Both tokens now expire together: the next refresh finds both due.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let served = e.lp.requests_served();
    let r = m.access_token(&i.key).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(e.lp.requests_served() - served, 1, "one exchange");
    let stored = e.store.get(&i.key).await.unwrap().unwrap();
    assert_eq!(stored.installation.status, Status::Active);
    let user = stored.installation.tokens.credential(Slot::User).unwrap();
    assert!(e.lp.access_token_is_live(user.access_token.expose()));
}

/// Stores a Slack installation whose bot token the provider issued and whose user
/// token (expiring in 1 s) has the refresh token `user_refresh`.
async fn with_user_token(e: &Env, label: &str, user_refresh: &str) -> Installation {
    let body =
        e.lp.issue_installation(lp::ProviderKind::Slack, lp::SLACK_ROTATING_CLIENT_ID, label);
    let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["authed_user"] = serde_json::json!({
        "id": "U0LOCALUSR", "scope": "search:read", "token_type": "user",
        "access_token": "xoxe.xoxp-1-user", "refresh_token": user_refresh,
        "expires_in": 1,
    });
    let (i, exp) = lifecycle::installation(&json.to_string(), label, now_ms());
    e.store.put(&i, exp).await.unwrap();
    i
}

/// The bot refresh succeeds (Slack rotates its refresh token, the old one dies) and
/// the user token's refresh is then refused: the rotated bot tokens are written with
/// the refusal, not dropped with the claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_user_refresh_keeps_the_bot_tokens_just_rotated() {
    let e = env(Some(Duration::from_secs(1)));
    // A user token whose refresh token the provider never issued.
    let i = with_user_token(&e, "partial", "xoxe-1-unknown").await;
    let before = refresh_token(&e.store.get(&i.key).await.unwrap().unwrap(), Slot::Main).unwrap();
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r = m.access_token(&i.key).await;
    assert!(
        matches!(r, Err(ManagerError::NeedsReauthorization { .. })),
        "{r:?}"
    );
    let stored = e.store.get(&i.key).await.unwrap().unwrap();
    assert!(matches!(
        stored.installation.status,
        Status::NeedsReauthorization { .. }
    ));
    let after = refresh_token(&stored, Slot::Main).unwrap();
    assert!(!e.lp.refresh_token_is_live(&before));
    assert_ne!(after, before, "the rotated bot refresh token was dropped");
    assert!(e.lp.refresh_token_is_live(&after));
}

/// The bot refresh succeeds and the user token's refresh is then rate limited: the
/// rotated bot tokens are written together with the 429's deferral, so the user
/// token is not asked for again before `Retry-After` has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_user_refresh_keeps_its_deferral_with_the_bot_tokens() {
    let e = env(Some(Duration::from_secs(1)));
    // A user token whose refresh the provider answers with 429 (Retry-After: 1).
    let i = with_user_token(&e, "deferred", lp::RATELIMITED).await;
    let before = refresh_token(&e.store.get(&i.key).await.unwrap().unwrap(), Slot::Main).unwrap();
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let served = e.lp.requests_served();
    let asked = now_ms();
    assert!(m.access_token(&i.key).await.is_ok());
    assert_eq!(e.lp.requests_served(), served + 2, "bot and user refresh");
    let stored = e.store.get(&i.key).await.unwrap().unwrap();
    assert_eq!(stored.installation.status, Status::Active);
    let after = refresh_token(&stored, Slot::Main).unwrap();
    assert_ne!(after, before, "the rotated bot refresh token was dropped");
    assert!(e.lp.refresh_token_is_live(&after));
    let retry_at = stored.retry_at_ms.expect("the 429's deferral was dropped");
    assert!(
        (asked + 900..=now_ms() + 1_100).contains(&retry_at),
        "retry at {retry_at}, asked at {asked}"
    );
    // The user token is due, but not before Retry-After: the refresher skips it.
    assert!(e.store.due(now_ms() + 10_000, 10).await.unwrap().is_empty());
    assert!(m.refresh_if_due(&i.key, Duration::ZERO).await.is_ok());
    assert_eq!(e.lp.requests_served(), served + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_refresh_token_marks_the_installation_and_stops() {
    let e = env(Some(Duration::from_secs(1)));
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "revoked").await;
    let stored = e.store.get(&key).await.unwrap().unwrap();
    let rt = refresh_token(&stored, Slot::Main).unwrap();
    // Someone else spends the refresh token: strict single use kills it.
    let url = format!("{}/api/oauth.v2.access", e.lp.base_url());
    let p = picoauth::provider::SLACK_V2
        .with_endpoint(picoauth::provider::Endpoint::parse(&url).unwrap());
    let auth = picoauth::request::ClientAuth::basic(
        lp::SLACK_ROTATING_CLIENT_ID,
        lp::SLACK_ROTATING_CLIENT_SECRET.into(),
    );
    let c = lifecycle::client(&e.lp.ca_cert_pem(), Duration::from_secs(5));
    let req = picoauth::request::TokenRequest::new(
        &p,
        auth,
        picoauth::request::Grant::refresh_token(&rt),
    );
    assert!(c.exchange(&req).await.is_ok());
    assert!(!e.lp.refresh_token_is_live(&rt));

    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(800)).await;
    match m.access_token(&key).await {
        Err(ManagerError::NeedsReauthorization { reason }) => {
            assert_eq!(reason, "invalid_refresh_token")
        }
        other => panic!("expected NeedsReauthorization, got {other:?}"),
    }
    let stored = e.store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored.installation.status,
        Status::NeedsReauthorization {
            reason: "invalid_refresh_token".into()
        }
    );
    // It stops: no more requests to the provider, however often it is asked.
    let served = e.lp.requests_served();
    for _ in 0..5 {
        assert!(matches!(
            m.access_token(&key).await,
            Err(ManagerError::NeedsReauthorization { .. })
        ));
    }
    assert_eq!(e.lp.requests_served(), served);
    assert_eq!(m.counters().reauthorizations, 1);
    // The background refresher skips it too.
    assert!(e.store.due(i64::MAX, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_refresh_waits_for_retry_after() {
    let e = env(Some(Duration::from_secs(1)));
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "limited").await;
    let mut settings = lifecycle::settings(&e.lp.base_url(), false);
    settings[0].client_id = lp::RATELIMITED.into();
    let config = ManagerConfig {
        max_wait: Duration::from_millis(100),
        ..fast_config()
    };
    let m = picoauth_std::tokens::TokenManager::new(
        e.store.clone(),
        lifecycle::client(&e.lp.ca_cert_pem(), Duration::from_secs(2)),
        settings,
        config,
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let served = e.lp.requests_served();
    match m.access_token(&key).await {
        Err(ManagerError::RateLimited(d)) => assert_eq!(d, Duration::from_secs(1)),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(e.lp.requests_served(), served + 1);
    let stored = e.store.get(&key).await.unwrap().unwrap();
    assert!(stored.retry_at_ms.is_some());
    // Asked again at once: no request before Retry-After has passed.
    assert!(matches!(
        m.access_token(&key).await,
        Err(ManagerError::RateLimited(_))
    ));
    assert_eq!(e.lp.requests_served(), served + 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(m.access_token(&key).await.is_err());
    assert_eq!(e.lp.requests_served(), served + 2);
    assert_eq!(m.counters().rate_limited, 2);
    assert_eq!(
        e.store
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .installation
            .status,
        Status::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_owners_claim_expires_and_another_refreshes() {
    let e = env(Some(Duration::from_secs(1)));
    let key = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "crashed").await;
    assert!(matches!(
        e.store
            .claim(&key, "crashed-process", Duration::from_millis(1500))
            .await
            .unwrap(),
        Claim::Claimed(_)
    ));
    let m = e.fast_manager();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let t0 = Instant::now();
    let t = m.access_token(&key).await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    assert!(e.lp.access_token_is_live(t.expose()));
    assert_eq!(e.lp.refresh_count("crashed"), 1);
    assert!(m.counters().busy_waits > 0);
    // The crashed owner's late completion is refused: its generation is gone.
    let stored = e.store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        e.store
            .complete(
                &key,
                "crashed-process",
                1,
                picoauth_std::tokens::Completion::Release { retry_at_ms: None }
            )
            .await
            .unwrap(),
        picoauth_std::tokens::Committed::LeaseLost
    );
    assert_eq!(e.store.get(&key).await.unwrap().unwrap(), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_refresher_refreshes_ahead() {
    let e = env(Some(Duration::from_secs(2)));
    let mut keys = Vec::new();
    for n in 0..20 {
        keys.push(seed(&e.store, &e.lp, lp::ProviderKind::Slack, &format!("bg{n}")).await);
    }
    let m = e.fast_manager();
    let bg = m.spawn_refresher();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    for n in 0..20 {
        let c = e.lp.refresh_count(&format!("bg{n}"));
        assert!(
            (2..=4).contains(&c),
            "bg{n}: {c} refreshes in 4.5 s of 2-s tokens"
        );
    }
    // Callers find fresh tokens in memory.
    let hits = m.counters().cache_hits;
    for k in &keys {
        let t = m.access_token(k).await.unwrap();
        assert!(e.lp.access_token_is_live(t.expose()));
    }
    assert!(m.counters().cache_hits >= hits + 15, "{:?}", m.counters());
    bg.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 1);
    drop(s);
    // Opening again migrates nothing and keeps the rows.
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 1);
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE picoauth_schema SET version = 99", [])
        .unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew(99)) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// The background path (`refresh_if_due`) claims first: a due row costs two database
/// round trips (claim, commit). A row that turns out fresh, marked for
/// reauthorization or deferred by a 429 gets its claim back, keeps its state and
/// sends nothing to the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_path_claims_first_and_respects_the_row() {
    let e = env(Some(Duration::from_secs(1)));
    let window = Duration::from_secs(3600);
    let config = ManagerConfig {
        max_wait: Duration::from_millis(100),
        ..fast_config()
    };
    let m = manager(
        e.store.clone(),
        &e.lp.ca_cert_pem(),
        &e.lp.base_url(),
        config,
        false,
    );
    // Due (within the window): refreshed with one claim and one commit.
    let due = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "due").await;
    let trips = m.store().round_trips();
    m.refresh_if_due(&due, window).await.unwrap();
    assert_eq!(m.store().round_trips() - trips, 2);
    assert_eq!(e.lp.refresh_count("due"), 1);

    // Fresh (a 12-hour token) for a short window: the claim is given back, nothing is
    // sent.
    e.lp.set_access_lifetime(None);
    let fresh = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "fresh").await;
    e.lp.set_access_lifetime(Some(Duration::from_secs(1)));
    let served = e.lp.requests_served();
    m.refresh_if_due(&fresh, Duration::ZERO).await.unwrap();
    assert_eq!(e.lp.requests_served(), served);
    assert!(matches!(
        e.store
            .claim(&fresh, "other", Duration::from_secs(1))
            .await
            .unwrap(),
        Claim::Claimed(_)
    ));

    // Marked for reauthorization by another process: reported, not refreshed.
    let gone = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "gone").await;
    let Claim::Claimed(row) = e
        .store
        .claim(&gone, "other", Duration::from_secs(5))
        .await
        .unwrap()
    else {
        panic!("claim")
    };
    let reason = String::from("token_revoked");
    e.store
        .complete(
            &gone,
            "other",
            row.generation,
            Completion::NeedsReauthorization { reason },
        )
        .await
        .unwrap();
    let served = e.lp.requests_served();
    match m.refresh_if_due(&gone, window).await {
        Err(ManagerError::NeedsReauthorization { reason }) => assert_eq!(reason, "token_revoked"),
        other => panic!("expected NeedsReauthorization, got {other:?}"),
    }
    assert_eq!(e.lp.requests_served(), served);

    // Deferred by a 429 until later: not refreshed, the deferral kept, the claim given back.
    let later = seed(&e.store, &e.lp, lp::ProviderKind::Slack, "later").await;
    let Claim::Claimed(row) = e
        .store
        .claim(&later, "other", Duration::from_secs(5))
        .await
        .unwrap()
    else {
        panic!("claim")
    };
    let retry_at_ms = Some(now_ms() + 60_000);
    e.store
        .complete(
            &later,
            "other",
            row.generation,
            Completion::Release { retry_at_ms },
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    match m.refresh_if_due(&later, window).await {
        Err(ManagerError::RateLimited(_)) => {}
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(e.lp.requests_served(), served);
    let row = e.store.get(&later).await.unwrap().unwrap();
    assert_eq!(row.retry_at_ms, retry_at_ms);
    assert!(matches!(
        e.store
            .claim(&later, "other", Duration::from_secs(1))
            .await
            .unwrap(),
        Claim::Claimed(_)
    ));
}
