//! Shared by the token-lifecycle tests: seeding installations from the built-in
//! provider, and building managers.

use core::time::Duration;

use picoauth::exchange::{Outcome, Token};
use picoauth::json::{pinterest, slack};
use picoauth::provider::{AuthMethod, ProviderKind};
use picoauth_local_provider::{self as lp, LocalProvider};
use picoauth_std::asynch::Client;
use picoauth_std::tokens::{
    now_ms, Installation, InstallationKey, ManagerConfig, ProviderSettings, TokenManager,
    TokenStore,
};
use picoauth_std::Secret;

/// The provider's answer body as an installation keyed `label`, with the precise
/// expiry of its access token (issued at or after `issued_ms`).
pub fn installation(body: &str, label: &str, issued_ms: i64) -> (Installation, Option<i64>) {
    let now_s = u64::try_from(issued_ms / 1000).unwrap();
    let token = match slack::parse_v2(body.as_bytes()) {
        Ok(slack::SlackV2::Token(t)) if t.app_id.is_some() => Token::SlackV2(t),
        _ => match pinterest::parse(body.as_bytes()).unwrap() {
            pinterest::Pinterest::Token(t) => Token::Pinterest(t),
            other => panic!("{other:?}"),
        },
    };
    let outcome = Outcome::Token { status: 200, token };
    let mut i = Installation::from_outcome(
        &outcome,
        Some(InstallationKey::caller(label).unwrap()),
        now_s,
    )
    .unwrap();
    i.key = InstallationKey::caller(label).unwrap();
    let exp = i
        .tokens
        .credential(picoauth::token_set::Slot::Main)
        .and_then(|c| c.access_expires_at)
        .map(|s| issued_ms + (i64::try_from(s).unwrap() - issued_ms / 1000) * 1000);
    (i, exp)
}

/// Creates installation `label` at the provider and puts it in `store`.
pub async fn seed<S: TokenStore>(
    store: &S,
    p: &LocalProvider,
    kind: lp::ProviderKind,
    label: &str,
) -> InstallationKey {
    let issued = now_ms();
    let client = match kind {
        lp::ProviderKind::Slack => lp::SLACK_ROTATING_CLIENT_ID,
        _ => lp::PINTEREST_CLIENT_ID,
    };
    let body = p.issue_installation(kind, client, label);
    let (i, exp) = installation(&body, label, issued);
    store.put(&i, exp).await.unwrap();
    i.key
}

/// Settings for the provider's Slack (rotating) and Pinterest clients.
pub fn settings(base: &str, continuous: bool) -> Vec<ProviderSettings> {
    vec![
        ProviderSettings {
            kind: ProviderKind::SlackV2,
            token_url: format!("{base}/api/oauth.v2.access"),
            client_id: lp::SLACK_ROTATING_CLIENT_ID.into(),
            client_secret: Some(Secret::new(lp::SLACK_ROTATING_CLIENT_SECRET)),
            auth: AuthMethod::Basic,
            continuous_refresh: false,
        },
        ProviderSettings {
            kind: ProviderKind::Pinterest,
            token_url: format!("{base}/v5/oauth/token"),
            client_id: lp::PINTEREST_CLIENT_ID.into(),
            client_secret: Some(Secret::new(lp::PINTEREST_CLIENT_SECRET)),
            auth: AuthMethod::Basic,
            continuous_refresh: continuous,
        },
    ]
}

/// An async client trusting the provider's CA (PEM).
pub fn client(ca_pem: &str, timeout: Duration) -> Client {
    picoauth_std::Client::builder()
        .only_ca_pem(ca_pem.as_bytes())
        .unwrap()
        .total_timeout(timeout)
        .build_async()
        .unwrap()
}

/// A manager for tests.
pub fn manager<S: TokenStore>(
    store: S,
    ca_pem: &str,
    base: &str,
    config: ManagerConfig,
    continuous: bool,
) -> TokenManager<S> {
    TokenManager::new(
        store,
        client(ca_pem, config.exchange_timeout),
        settings(base, continuous),
        config,
    )
}

/// Timing for 2-second tokens.
pub fn fast_config() -> ManagerConfig {
    ManagerConfig {
        leeway: Duration::from_millis(400),
        jitter: Duration::from_millis(200),
        lease: Duration::from_secs(3),
        exchange_timeout: Duration::from_secs(2),
        max_wait: Duration::from_secs(10),
        window: Duration::from_millis(300),
        concurrency: 4,
        interval: Duration::from_millis(100),
    }
}

/// Asks the provider's introspection endpoint (`POST /api/auth.test`, Slack's shape,
/// the token in the body as Slack's Web API accepts it) whether `token` is live.
pub async fn live_at_provider(client: &Client, base: &str, token: &str) -> bool {
    let url = format!("{base}/api/auth.test");
    let p = picoauth::provider::SLACK_V2
        .with_endpoint(picoauth::provider::Endpoint::parse(&url).unwrap());
    let extra = [("token", token)];
    let req = picoauth::request::TokenRequest::new(
        &p,
        picoauth::request::ClientAuth::basic("introspection", "-".into()),
        picoauth::request::Grant::authorization_code("introspection"),
    )
    .with_extra(&extra);
    client
        .exchange_with(&req, |o| matches!(o, Outcome::Token { .. }))
        .await
        .unwrap_or(false)
}
