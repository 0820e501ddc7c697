//! End to end over TLS on 127.0.0.1: `picoauth-std`'s clients against the built-in
//! local provider, for every provider × grant × client-auth mode, blocking and async,
//! every error path, and TLS that must fail closed.

use core::time::Duration;
use std::time::Instant;

use base64::Engine as _;
use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{
    self as lp, LeafValidity, LocalProvider, LocalProviderConfig, ProviderKind,
};
use picoauth_std::{Client, Error, OwnedOutcome, RetryPolicy};
use sha2::Digest as _;

const REDIRECT: &str = "https://client.example.com/cb";

struct Env {
    lp: LocalProvider,
    client: Client,
    urls: Urls,
}

struct Urls {
    slack2: String,
    slack1: String,
    pin: String,
    rfc: String,
    base: String,
}

impl Urls {
    fn new(base: String) -> Self {
        Self {
            slack2: format!("{base}/api/oauth.v2.access"),
            slack1: format!("{base}/api/oauth.access"),
            pin: format!("{base}/v5/oauth/token"),
            rfc: format!("{base}/oauth/token"),
            base,
        }
    }
    fn slack2(&self) -> Provider<'_> {
        SLACK_V2.with_endpoint(Endpoint::parse(&self.slack2).unwrap())
    }
    fn slack1(&self) -> Provider<'_> {
        SLACK_V1.with_endpoint(Endpoint::parse(&self.slack1).unwrap())
    }
    fn pin(&self) -> Provider<'_> {
        PINTEREST.with_endpoint(Endpoint::parse(&self.pin).unwrap())
    }
    fn rfc(&self) -> Provider<'_> {
        Provider::rfc6749(Endpoint::parse(&self.rfc).unwrap())
    }
}

impl Env {
    /// One blocking exchange that must reach the provider.
    fn ex(&self, p: &Provider<'_>, auth: ClientAuth<'_>, grant: Grant<'_>) -> OwnedOutcome {
        self.client
            .exchange(&TokenRequest::new(p, auth, grant))
            .unwrap()
    }
}

fn env() -> Env {
    env_with(LocalProviderConfig::default(), |b| b)
}

fn env_with(
    config: LocalProviderConfig,
    tune: impl FnOnce(picoauth_std::ClientBuilder) -> picoauth_std::ClientBuilder,
) -> Env {
    let lp = LocalProvider::start(config).expect("local provider starts");
    let builder = Client::builder()
        .only_ca_pem(lp.ca_cert_pem().as_bytes())
        .unwrap()
        .total_timeout(Duration::from_secs(10));
    let client = tune(builder).build().unwrap();
    let urls = Urls::new(lp.base_url());
    Env { lp, client, urls }
}

fn pkce() -> (String, String) {
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[track_caller]
fn token(o: &OwnedOutcome) -> &picoauth_std::TokenSet {
    match o {
        OwnedOutcome::Token { tokens, status, .. } => {
            assert_eq!(*status, 200);
            tokens
        }
        other => panic!("expected a token, got {other:?}"),
    }
}

#[track_caller]
fn error(o: &OwnedOutcome, status: u16, code: &str) {
    match o {
        OwnedOutcome::Error {
            status: s, code: c, ..
        } => assert_eq!((*s, c.as_str()), (status, code), "{o:?}"),
        other => panic!("expected error {code}, got {other:?}"),
    }
}

fn access(o: &OwnedOutcome) -> String {
    token(o)
        .access_token
        .as_ref()
        .expect("access token")
        .expose()
        .to_owned()
}

#[test]
fn slack_v2_code_and_rotation_basic_and_post() {
    let e = env();
    let p = e.urls.slack2();
    for auth in [
        ClientAuth::basic(
            lp::SLACK_ROTATING_CLIENT_ID,
            lp::SLACK_ROTATING_CLIENT_SECRET.into(),
        ),
        ClientAuth::post(
            lp::SLACK_ROTATING_CLIENT_ID,
            lp::SLACK_ROTATING_CLIENT_SECRET.into(),
        ),
    ] {
        let code =
            e.lp.issue_code(lp::SLACK_ROTATING_CLIENT_ID, Some(REDIRECT), None, None);
        let o = e.ex(
            &p,
            auth,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        );
        let t = token(&o);
        assert!(access(&o).starts_with("xoxe.xoxb-"), "{o:?}");
        assert_eq!(t.token_type.as_deref(), Some("bot"));
        assert!(t.expires_at.is_some() && t.expires_in.is_some());
        let refresh = t
            .refresh_token
            .clone()
            .expect("rotation gives a refresh token");
        // Rotation: the new refresh token works, the old one is spent.
        let o2 = e.ex(&p, auth, Grant::refresh_token(refresh.expose()));
        let new_refresh = token(&o2).refresh_token.clone().unwrap();
        assert_ne!(new_refresh, refresh);
        assert!(!e.lp.refresh_token_is_live(refresh.expose()));
        let again = e.ex(&p, auth, Grant::refresh_token(refresh.expose()));
        assert!(
            matches!(again, OwnedOutcome::Error { status: 200, .. }),
            "{again:?}"
        );
    }
    // Slack's answer carries the webhook URL `\/`-escaped; the owned value is unescaped.
    let code = e.lp.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    let o = e.ex(
        &p,
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        Grant::authorization_code(&code),
    );
    let json = picoauth_cli::json::outcome_json(&o, true).to_string();
    assert!(!json.contains("\\\\/"), "{json}");
    assert!(access(&o).starts_with("xoxb-"));
}

#[test]
fn slack_v2_errors_arrive_with_http_200() {
    let e = env();
    let p = e.urls.slack2();
    let good = ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into());
    let o = e.ex(&p, good, Grant::authorization_code("nope"));
    error(&o, 200, "invalid_code");
    let code =
        e.lp.issue_code(lp::SLACK_CLIENT_ID, Some(REDIRECT), None, None);
    let o = e.ex(
        &p,
        good,
        Grant::authorization_code(&code).with_redirect_uri("https://evil.example/cb"),
    );
    error(&o, 200, "bad_redirect_uri");
    let bad = ClientAuth::basic(lp::SLACK_CLIENT_ID, "wrong".into());
    let o = e.ex(&p, bad, Grant::authorization_code("x"));
    error(&o, 200, "bad_client_secret");
    let unknown = ClientAuth::basic("999.999", "x".into());
    let o = e.ex(&p, unknown, Grant::authorization_code("x"));
    error(&o, 200, "invalid_client_id");
}

#[test]
fn slack_429_carries_retry_after_and_retry_policy_honours_it() {
    let e = env();
    let p = e.urls.slack2();
    let rl = ClientAuth::basic(lp::RATELIMITED, "x".into());
    let o = e.ex(&p, rl, Grant::authorization_code("c"));
    match &o {
        OwnedOutcome::RateLimited {
            status,
            retry_after,
            code,
            ..
        } => {
            assert_eq!(
                (*status, *retry_after, code.as_deref()),
                (429, Some(1), Some("ratelimited"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        picoauth_cli::json::outcome_json(&o, false)["retry_after"],
        1
    );
    // With a policy of 2 attempts, the client waits Retry-After (1 s) once, then gives up.
    let e2 = env_with(LocalProviderConfig::default(), |b| {
        b.retry(RetryPolicy {
            max_attempts: 2,
            max_total: Duration::from_secs(5),
            default_wait: Duration::from_millis(10),
        })
    });
    let p2 = e2.urls.slack2();
    let before = e2.lp.requests_served();
    let t = Instant::now();
    let o = e2.ex(&p2, rl, Grant::authorization_code("c"));
    assert!(matches!(o, OwnedOutcome::RateLimited { .. }));
    assert_eq!(e2.lp.requests_served() - before, 2);
    assert!(t.elapsed() >= Duration::from_secs(1));
    // A cap shorter than Retry-After returns at once.
    let e3 = env_with(LocalProviderConfig::default(), |b| {
        b.retry(RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_millis(500),
            default_wait: Duration::from_millis(10),
        })
    });
    let p3 = e3.urls.slack2();
    let t = Instant::now();
    let o = e3.ex(&p3, rl, Grant::authorization_code("c"));
    assert!(matches!(o, OwnedOutcome::RateLimited { .. }));
    assert!(t.elapsed() < Duration::from_millis(900));
}

#[test]
fn slack_v1_code_basic_and_post_and_error() {
    let e = env();
    let p = e.urls.slack1();
    for auth in [
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        ClientAuth::post(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
    ] {
        let code = e.lp.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
        let o = e.ex(&p, auth, Grant::authorization_code(&code));
        assert!(access(&o).starts_with("xox"), "{o:?}");
    }
    let o = e.ex(
        &p,
        ClientAuth::post(lp::SLACK_CLIENT_ID, "bad".into()),
        Grant::authorization_code("c"),
    );
    error(&o, 200, "bad_client_secret");
}

#[test]
fn pinterest_every_grant_over_chunked_answers() {
    let e = env();
    let p = e.urls.pin();
    let auth = ClientAuth::basic(lp::PINTEREST_CLIENT_ID, lp::PINTEREST_CLIENT_SECRET.into());
    let code =
        e.lp.issue_code(lp::PINTEREST_CLIENT_ID, Some(REDIRECT), None, None);
    let o = e.ex(
        &p,
        auth,
        Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
    );
    assert!(access(&o).starts_with("pina_"));
    let refresh = token(&o).refresh_token.clone().unwrap();
    assert!(refresh.expose().starts_with("pinr_"));
    // Without continuous refresh: no new refresh token, the old one stays.
    let o = e.ex(&p, auth, Grant::refresh_token(refresh.expose()));
    assert!(token(&o).refresh_token.is_none());
    // With it: a new refresh token and its expiry.
    let o = e
        .client
        .exchange(
            &TokenRequest::new(&p, auth, Grant::refresh_token(refresh.expose()))
                .continuous_refresh(true),
        )
        .unwrap();
    let t = token(&o);
    assert!(
        t.refresh_token.is_some() && t.refresh_token_expires_at.is_some(),
        "{t:?}"
    );
    let o = e.ex(
        &p,
        auth,
        Grant::client_credentials().with_scope("boards:read"),
    );
    assert!(access(&o).starts_with("pinc_"));
    assert!(token(&o).refresh_token.is_none());
    // Errors: wrong secret is 401 code 2; credentials in the body are refused.
    let o = e.ex(
        &p,
        ClientAuth::basic(lp::PINTEREST_CLIENT_ID, "bad".into()),
        Grant::client_credentials(),
    );
    error(&o, 401, "2");
    let o = e.ex(
        &p,
        ClientAuth::post(lp::PINTEREST_CLIENT_ID, lp::PINTEREST_CLIENT_SECRET.into()),
        Grant::client_credentials(),
    );
    assert!(
        matches!(
            o,
            OwnedOutcome::Error {
                status: 400 | 401,
                ..
            }
        ),
        "{o:?}"
    );
}

#[test]
fn rfc6749_every_grant_and_auth_mode() {
    let e = env();
    let p = e.urls.rfc();
    let confidential = [
        ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into()),
        ClientAuth::post(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into()),
        ClientAuth::basic(lp::SPECIAL_CLIENT_ID, lp::SPECIAL_CLIENT_SECRET.into()),
        ClientAuth::post(lp::SPECIAL_CLIENT_ID, lp::SPECIAL_CLIENT_SECRET.into()),
        ClientAuth::basic(lp::APPAUTH_CLIENT_ID, lp::APPAUTH_CLIENT_SECRET.into()),
    ];
    for auth in confidential {
        let id = auth.client_id();
        let code =
            e.lp.issue_code(id, Some(REDIRECT), None, Some("read write"));
        let o = e.ex(
            &p,
            auth,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        );
        let t = token(&o).clone();
        assert_eq!(t.token_type.as_deref(), Some("Bearer"), "{id}");
        let r = t.refresh_token.unwrap();
        let o = e.ex(
            &p,
            auth,
            Grant::refresh_token(r.expose()).with_scope("read"),
        );
        token(&o);
        let o = e.ex(&p, auth, Grant::client_credentials());
        token(&o);
    }
    let (verifier, challenge) = pkce();
    let public = ClientAuth::public(lp::PUBLIC_CLIENT_ID);
    let code =
        e.lp.issue_code(lp::PUBLIC_CLIENT_ID, Some(REDIRECT), Some(&challenge), None);
    let g = Grant::authorization_code(&code)
        .with_redirect_uri(REDIRECT)
        .with_code_verifier(&verifier);
    let o = e.ex(&p, public, g);
    token(&o);
    // Replayed code.
    let o = e.ex(&p, public, g);
    error(&o, 400, "invalid_grant");
}

#[test]
fn rfc6749_error_paths() {
    let e = env();
    let p = e.urls.rfc();
    let basic = ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into());
    let o = e.ex(&p, basic, Grant::authorization_code("bogus"));
    error(&o, 400, "invalid_grant");
    let code =
        e.lp.issue_code(lp::RFC6749_CLIENT_ID, Some(REDIRECT), None, None);
    let o = e.ex(
        &p,
        basic,
        Grant::authorization_code(&code).with_redirect_uri("https://other.example/cb"),
    );
    error(&o, 400, "invalid_grant");
    let (_, challenge) = pkce();
    let code =
        e.lp.issue_code(lp::PUBLIC_CLIENT_ID, Some(REDIRECT), Some(&challenge), None);
    let wrong = "x".repeat(43);
    let o = e.ex(
        &p,
        ClientAuth::public(lp::PUBLIC_CLIENT_ID),
        Grant::authorization_code(&code)
            .with_redirect_uri(REDIRECT)
            .with_code_verifier(&wrong),
    );
    error(&o, 400, "invalid_grant");
    let o = e.ex(
        &p,
        ClientAuth::basic(lp::RFC6749_CLIENT_ID, "bad".into()),
        Grant::client_credentials(),
    );
    error(&o, 401, "invalid_client");
    // RFC 6749 §5.2: a failed Basic authentication comes with a challenge.
    assert_eq!(
        o.www_authenticate(),
        Some(r#"Basic realm="picoauth-local""#)
    );
    assert_eq!(
        picoauth_cli::json::outcome_json(&o, false)["www_authenticate"],
        r#"Basic realm="picoauth-local""#
    );
    let r =
        e.lp.issue_refresh_token(ProviderKind::Rfc6749, lp::RFC6749_CLIENT_ID, Some("read"));
    let o = e.ex(&p, basic, Grant::refresh_token(&r).with_scope("read admin"));
    error(&o, 400, "invalid_scope");
}

#[test]
fn tls_fails_closed() {
    // Unknown CA: the client trusts another provider's CA.
    let e = env();
    let other = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let stranger = Client::builder()
        .only_ca_pem(other.ca_cert_pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let p = e.urls.rfc();
    let req = TokenRequest::new(
        &p,
        ClientAuth::public(lp::PUBLIC_CLIENT_ID),
        Grant::client_credentials(),
    );
    assert!(
        matches!(stranger.exchange(&req), Err(Error::Tls(_))),
        "unknown CA must fail"
    );
    // The bundled public roots do not trust the local CA either.
    let public = Client::new().unwrap();
    assert!(matches!(public.exchange(&req), Err(Error::Tls(_))));
    // Wrong host name.
    let wrong = env_with(
        LocalProviderConfig {
            leaf_names: vec!["wrong.invalid".into()],
            ..LocalProviderConfig::default()
        },
        |b| b,
    );
    let p = wrong.urls.rfc();
    let req = TokenRequest::new(
        &p,
        ClientAuth::public(lp::PUBLIC_CLIENT_ID),
        Grant::client_credentials(),
    );
    assert!(
        matches!(wrong.client.exchange(&req), Err(Error::Tls(_))),
        "wrong name must fail"
    );
    // Expired certificate.
    let expired = env_with(
        LocalProviderConfig {
            leaf_validity: LeafValidity::Expired,
            ..LocalProviderConfig::default()
        },
        |b| b,
    );
    let p = expired.urls.rfc();
    let req = TokenRequest::new(
        &p,
        ClientAuth::public(lp::PUBLIC_CLIENT_ID),
        Grant::client_credentials(),
    );
    match expired.client.exchange(&req) {
        Err(Error::Tls(e)) => assert!(format!("{e:?}").contains("Expired"), "{e:?}"),
        other => panic!("expired certificate must fail: {other:?}"),
    }
}

fn hook(e: &Env, path: &str) -> Result<OwnedOutcome, Error> {
    let url = format!("{}{path}", e.urls.base);
    let p = Provider::rfc6749(Endpoint::parse(&url).unwrap());
    e.client.exchange(&TokenRequest::new(
        &p,
        ClientAuth::public("c"),
        Grant::client_credentials(),
    ))
}

#[test]
fn misbehaving_servers_give_clear_errors() {
    use picoauth::exchange::ExchangeError;
    use picoauth::http::response::ResponseError;
    let e = env_with(LocalProviderConfig::default(), |b| {
        b.total_timeout(Duration::from_secs(1))
    });
    let t = Instant::now();
    // The request was sent: a timeout leaves its outcome unknown.
    match hook(&e, "/test/silent") {
        Err(Error::OutcomeUnknown(inner)) if matches!(*inner, Error::Timeout) => {}
        other => panic!("silent: {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3));
    match hook(&e, "/test/oversized") {
        Err(Error::Exchange(ExchangeError::Response(ResponseError::BodyTooLarge { .. }))) => {}
        other => panic!("oversized: {other:?}"),
    }
    match hook(&e, "/test/truncated") {
        Err(Error::OutcomeUnknown(inner))
            if matches!(
                *inner,
                Error::Exchange(ExchangeError::Response(ResponseError::Truncated))
            ) => {}
        other => panic!("truncated: {other:?}"),
    }
    match hook(&e, "/test/not-json") {
        Err(Error::Exchange(ExchangeError::Interpret(
            picoauth::exchange::InterpretError::NotJson { status: 200 },
        ))) => {}
        other => panic!("not json: {other:?}"),
    }
    // Redirects are never followed.
    match hook(&e, "/test/redirect") {
        Ok(OwnedOutcome::HttpError { status: 302, .. }) => {}
        other => panic!("redirect: {other:?}"),
    }
    match hook(&e, "/test/empty-429") {
        Ok(OwnedOutcome::RateLimited {
            status: 429,
            retry_after: None,
            code: None,
            ..
        }) => {}
        other => panic!("empty 429: {other:?}"),
    }
}

#[test]
fn keep_alive_reuses_one_connection() {
    let e = env();
    let p = e.urls.rfc();
    let basic = ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into());
    for _ in 0..5 {
        token(&e.ex(&p, basic, Grant::client_credentials()));
    }
    assert_eq!(e.lp.requests_served(), 5);
    assert_eq!(e.lp.connections_accepted(), 1);
}

/// Four exchanges at once need four connections; all four are kept (up to
/// `max_idle_per_host`), so the next four at once open none. Kept to one, three of the
/// four are closed and must be opened again.
#[test]
fn concurrent_exchanges_keep_several_idle_connections() {
    for (max_idle, connections) in [(8, 4), (1, 7)] {
        let e = env();
        let p = e.urls.rfc();
        let client = Client::builder()
            .only_ca_pem(e.lp.ca_cert_pem().as_bytes())
            .unwrap()
            .total_timeout(Duration::from_secs(10))
            .max_idle_per_host(max_idle)
            .build_async()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let basic = ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into());
        let req = TokenRequest::new(&p, basic, Grant::client_credentials());
        rt.block_on(async {
            for _ in 0..2 {
                // Polled together: each takes from the pool (empty at first) before any
                // finishes.
                let (a, b, c, d) = tokio::join!(
                    client.exchange(&req),
                    client.exchange(&req),
                    client.exchange(&req),
                    client.exchange(&req)
                );
                for o in [a, b, c, d] {
                    token(&o.unwrap());
                }
            }
        });
        assert_eq!(e.lp.requests_served(), 8);
        assert_eq!(
            e.lp.connections_accepted(),
            connections,
            "max_idle_per_host {max_idle}"
        );
    }
}

#[test]
fn thirty_two_concurrent_exchanges() {
    let e = env();
    let p = e.urls.rfc();
    let basic = ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into());
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|_| {
                s.spawn(|| {
                    e.client
                        .exchange(&TokenRequest::new(&p, basic, Grant::client_credentials()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.len(), 32);
    for r in results {
        token(&r.unwrap());
    }
}

#[test]
fn async_client_every_provider() {
    let e = env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .only_ca_pem(e.lp.ca_cert_pem().as_bytes())
        .unwrap()
        .total_timeout(Duration::from_secs(10))
        .build_async()
        .unwrap();
    rt.block_on(async {
        let slack = e.urls.slack2();
        let auth = ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into());
        let code = e.lp.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
        let o = client
            .exchange(&TokenRequest::new(
                &slack,
                auth,
                Grant::authorization_code(&code),
            ))
            .await
            .unwrap();
        assert!(access(&o).starts_with("xoxb-"));
        let o = client
            .exchange(&TokenRequest::new(
                &slack,
                auth,
                Grant::authorization_code(&code),
            ))
            .await
            .unwrap();
        error(&o, 200, "invalid_code");
        let slack1 = e.urls.slack1();
        let code = e.lp.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
        let o = client
            .exchange(&TokenRequest::new(
                &slack1,
                auth,
                Grant::authorization_code(&code),
            ))
            .await
            .unwrap();
        token(&o);
        let pin = e.urls.pin();
        let pauth = ClientAuth::basic(lp::PINTEREST_CLIENT_ID, lp::PINTEREST_CLIENT_SECRET.into());
        let r =
            e.lp.issue_refresh_token(ProviderKind::Pinterest, lp::PINTEREST_CLIENT_ID, None);
        let o = client
            .exchange(
                &TokenRequest::new(&pin, pauth, Grant::refresh_token(&r)).continuous_refresh(true),
            )
            .await
            .unwrap();
        assert!(token(&o).refresh_token.is_some());
        let o = client
            .exchange(&TokenRequest::new(&pin, pauth, Grant::client_credentials()))
            .await
            .unwrap();
        token(&o);
        let rfc = e.urls.rfc();
        let (verifier, challenge) = pkce();
        let code =
            e.lp.issue_code(lp::PUBLIC_CLIENT_ID, Some(REDIRECT), Some(&challenge), None);
        let g = Grant::authorization_code(&code)
            .with_redirect_uri(REDIRECT)
            .with_code_verifier(&verifier);
        let o = client
            .exchange(&TokenRequest::new(
                &rfc,
                ClientAuth::public(lp::PUBLIC_CLIENT_ID),
                g,
            ))
            .await
            .unwrap();
        token(&o);
        let o = client
            .exchange(&TokenRequest::new(
                &rfc,
                ClientAuth::basic(lp::RFC6749_CLIENT_ID, "bad".into()),
                Grant::client_credentials(),
            ))
            .await
            .unwrap();
        error(&o, 401, "invalid_client");
        assert_eq!(
            o.www_authenticate(),
            Some(r#"Basic realm="picoauth-local""#)
        );
        let special = ClientAuth::post(lp::SPECIAL_CLIENT_ID, lp::SPECIAL_CLIENT_SECRET.into());
        let o = client
            .exchange(&TokenRequest::new(
                &rfc,
                special,
                Grant::client_credentials(),
            ))
            .await
            .unwrap();
        token(&o);
        // 32 concurrent tasks.
        let futs: Vec<_> = (0..32)
            .map(|_| {
                let basic =
                    ClientAuth::basic(lp::RFC6749_CLIENT_ID, lp::RFC6749_CLIENT_SECRET.into());
                let rfc = &rfc;
                let client = &client;
                async move {
                    client
                        .exchange(&TokenRequest::new(rfc, basic, Grant::client_credentials()))
                        .await
                }
            })
            .collect();
        for r in futures::future::join_all(futs).await {
            token(&r.unwrap());
        }
        // A silent server times out.
        let silent = format!("{}/test/silent", e.urls.base);
        let quick = Client::builder()
            .only_ca_pem(e.lp.ca_cert_pem().as_bytes())
            .unwrap()
            .total_timeout(Duration::from_millis(500))
            .build_async()
            .unwrap();
        let sp = Provider::rfc6749(Endpoint::parse(&silent).unwrap());
        let r = quick
            .exchange(&TokenRequest::new(
                &sp,
                ClientAuth::public("c"),
                Grant::client_credentials(),
            ))
            .await;
        assert!(
            matches!(&r, Err(Error::OutcomeUnknown(inner)) if matches!(**inner, Error::Timeout)),
            "{r:?}"
        );
    });
}
