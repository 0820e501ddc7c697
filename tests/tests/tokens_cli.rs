//! `picoauth tokens list|show|refresh|watch --store sqlite:PATH` and `picoauth login
//! --store`, in process, against the built-in provider.

use core::time::Duration;

use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::tokens::{InstallationKey, SqliteStore, Status, TokenStore};
use picoauth_test_support::cli::run;
use serde_json::Value;

use picoauth_test_support::lifecycle;

#[test]
fn list_show_refresh_watch() {
    let p = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    p.set_access_lifetime(Some(Duration::from_secs(1)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, p.ca_cert_pem()).unwrap();
    let store_arg = format!("sqlite:{}", db.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = SqliteStore::open(&db).unwrap();
    let key = rt.block_on(lifecycle::seed(&store, &p, lp::ProviderKind::Slack, "cli"));
    let stored = rt.block_on(store.get(&key)).unwrap().unwrap();
    let refresh = stored
        .installation
        .tokens
        .credential(picoauth::token_set::Slot::Main)
        .unwrap()
        .refresh_token
        .clone()
        .unwrap();

    let (code, out, err) = run(&["tokens", "list", "--store", &store_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("caller:cli\tslack-v2\tactive\t"), "{out}");

    let (code, out, _) = run(&["tokens", "show", "--store", &store_arg, "caller:cli"]);
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["status"], "active");
    assert!(
        !out.contains(refresh.expose()),
        "secrets are redacted: {out}"
    );
    let (_, out, _) = run(&[
        "tokens",
        "show",
        "--store",
        &store_arg,
        "caller:cli",
        "--show-secrets",
    ]);
    assert!(out.contains(refresh.expose()));
    let (code, _, err) = run(&["tokens", "show", "--store", &store_arg, "caller:nope"]);
    assert_eq!(code, 5, "{err}");
    let (code, _, err) = run(&["tokens", "list", "--store", "mysql://x"]);
    assert_eq!(code, 2, "{err}");

    std::env::set_var("PICOAUTH_TOKENS_SECRET", lp::SLACK_ROTATING_CLIENT_SECRET);
    let token_url = format!("{}/api/oauth.v2.access", p.base_url());
    let client = [
        "--provider",
        "slack-v2",
        "--client-id",
        lp::SLACK_ROTATING_CLIENT_ID,
        "--client-secret-env",
        "PICOAUTH_TOKENS_SECRET",
        "--token-url",
        &token_url,
        "--ca-cert",
        ca.to_str().unwrap(),
    ];
    let mut args = vec!["tokens", "refresh", "--store", &store_arg];
    args.extend_from_slice(&client);
    args.push("caller:cli");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(p.refresh_count("cli"), 1);
    assert!(!p.refresh_token_is_live(refresh.expose()));
    assert!(p.installation_is_live("cli"));

    let mut args = vec!["tokens", "watch", "--store", &store_arg];
    args.extend_from_slice(&client);
    args.extend_from_slice(&["--interval", "1", "--for", "3"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert!(last["refreshes"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(last["reauthorizations"], 0);
    assert!(p.installation_is_live("cli"));
    let stored = rt.block_on(store.get(&key)).unwrap().unwrap();
    assert_eq!(stored.installation.status, Status::Active);
    assert_eq!(
        u64::try_from(stored.generation - 1).unwrap(),
        p.refresh_count("cli")
    );
}

#[test]
fn login_saves_the_installation() {
    let mut clients = lp::default_clients();
    for c in &mut clients {
        c.redirect_uris.clear();
    }
    let p = LocalProvider::start(LocalProviderConfig {
        clients,
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("login.db");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, p.ca_cert_pem()).unwrap();
    let store_arg = format!("sqlite:{}", db.display());
    std::env::set_var(
        "PICOAUTH_TOKENS_LOGIN_SECRET",
        lp::SLACK_ROTATING_CLIENT_SECRET,
    );
    let base = p.base_url();
    let (code, out, err) = run(&[
        "login",
        "--provider",
        "slack-v2",
        "--listen",
        "127.0.0.1:0",
        "--authorize-url",
        &format!("{base}/oauth/v2/authorize"),
        "--token-url",
        &format!("{base}/api/oauth.v2.access"),
        "--ca-cert",
        ca.to_str().unwrap(),
        "--timeout",
        "20",
        "--client-id",
        lp::SLACK_ROTATING_CLIENT_ID,
        "--client-secret-env",
        "PICOAUTH_TOKENS_LOGIN_SECRET",
        "--scope",
        "chat:write",
        "--browser-follow",
        "--store",
        &store_arg,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("saved installation slack:|T0LOCAL01||0"),
        "{err}"
    );
    let store = SqliteStore::open(&db).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = InstallationKey::slack(None, Some("T0LOCAL01"), None, false).unwrap();
    let s = rt.block_on(store.get(&key)).unwrap().unwrap();
    assert_eq!(s.installation.status, Status::Active);
    assert_eq!(
        s.installation.info.bot_user_id.as_deref(),
        Some("U0LOCALBOT")
    );
    let main = s
        .installation
        .tokens
        .credential(picoauth::token_set::Slot::Main)
        .unwrap();
    assert!(
        main.refresh_token.is_some(),
        "token rotation: a refresh token"
    );
    assert!(p.refresh_token_is_live(main.refresh_token.as_ref().unwrap().expose()));
}
