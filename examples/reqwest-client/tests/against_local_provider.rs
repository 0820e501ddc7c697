//! The reqwest example against the built-in provider: a Slack v2 code exchange, a Slack
//! error (HTTP 200 `ok:false`), a Pinterest refresh (answered chunked) and a 401 with
//! `WWW-Authenticate`, all through reqwest with only the provider's CA trusted.

use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig, ProviderKind};
use picoauth_std::OwnedOutcome;

fn reqwest_trusting(provider: &LocalProvider) -> reqwest::blocking::Client {
    let ca = reqwest::Certificate::from_pem(provider.ca_cert_pem().as_bytes()).unwrap();
    reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[test]
fn reqwest_carries_picoauth_requests_and_answers() {
    let provider = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let client = reqwest_trusting(&provider);
    let slack_url = provider.url("/api/oauth.v2.access");
    let slack = SLACK_V2.with_endpoint(Endpoint::parse(&slack_url).unwrap());

    // A code exchange with Basic credentials.
    let code = provider.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    let req = TokenRequest::new(
        &slack,
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        Grant::authorization_code(&code),
    );
    let outcome = picoauth_example_reqwest::exchange(&client, &req).unwrap();
    let OwnedOutcome::Token { status, tokens, .. } = &outcome else {
        panic!("expected a token, got {outcome:?}");
    };
    assert_eq!(*status, 200);
    assert!(tokens.access_token.is_some(), "{outcome:?}");

    // The same code again: Slack's error at HTTP 200.
    let outcome = picoauth_example_reqwest::exchange(&client, &req).unwrap();
    assert_eq!(outcome.status(), 200);
    assert_eq!(outcome.error_code(), Some("invalid_code"), "{outcome:?}");

    // Pinterest answers chunked; reqwest de-chunks, picoauth reads the body.
    let pin_url = provider.url(lp::PINTEREST_TOKEN_PATH);
    let pin: Provider<'_> = PINTEREST.with_endpoint(Endpoint::parse(&pin_url).unwrap());
    let refresh =
        provider.issue_refresh_token(ProviderKind::Pinterest, lp::PINTEREST_CLIENT_ID, None);
    let req = TokenRequest::new(
        &pin,
        ClientAuth::basic(lp::PINTEREST_CLIENT_ID, lp::PINTEREST_CLIENT_SECRET.into()),
        Grant::refresh_token(&refresh),
    );
    let outcome = picoauth_example_reqwest::exchange(&client, &req).unwrap();
    assert!(
        matches!(outcome, OwnedOutcome::Token { status: 200, .. }),
        "{outcome:?}"
    );

    // A wrong secret at the RFC 6749 endpoint: 401 with its challenge.
    let rfc_url = provider.url("/oauth/token");
    let rfc = Provider::rfc6749(Endpoint::parse(&rfc_url).unwrap());
    let req = TokenRequest::new(
        &rfc,
        ClientAuth::basic(lp::RFC6749_CLIENT_ID, "wrong".into()),
        Grant::client_credentials(),
    );
    let outcome = picoauth_example_reqwest::exchange(&client, &req).unwrap();
    assert_eq!(outcome.status(), 401, "{outcome:?}");
    assert_eq!(outcome.error_code(), Some("invalid_client"));
    assert!(
        outcome
            .www_authenticate()
            .is_some_and(|c| c.starts_with("Basic")),
        "{outcome:?}"
    );
}
