//! `tracing` events per exchange (picoauth-std feature `tracing`): provider, grant,
//! host, status and outcome are recorded; no secret, code or token ever is.

use std::io::Write;
use std::sync::{Arc, Mutex};

use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::{Client, OwnedOutcome};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn exchanges_are_traced_without_secrets() {
    let provider = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let client = Client::builder()
        .only_ca_pem(provider.ca_cert_pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let url = provider.url("/api/oauth.v2.access");
    let p = SLACK_V2.with_endpoint(Endpoint::parse(&url).unwrap());
    let code = provider.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    let req = TokenRequest::new(
        &p,
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        Grant::authorization_code(&code),
    );

    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let (first, second) = tracing::subscriber::with_default(subscriber, || {
        (
            client.exchange(&req).unwrap(),
            client.exchange(&req).unwrap(),
        )
    });
    let OwnedOutcome::Token { tokens, .. } = &first else {
        panic!("{first:?}")
    };
    let access = tokens.access_token.as_ref().unwrap().expose().to_owned();
    assert_eq!(second.error_code(), Some("invalid_code"));

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("picoauth.exchange"), "{log}");
    assert!(
        log.contains("provider=\"slack-v2\"") || log.contains("provider=slack-v2"),
        "{log}"
    );
    assert!(log.contains("authorization_code"), "{log}");
    assert!(
        log.contains("status=200 outcome=\"token\"") || log.contains("status=200"),
        "{log}"
    );
    assert!(
        log.contains("outcome=\"error\"") || log.contains("outcome=error"),
        "{log}"
    );
    for secret in [lp::SLACK_CLIENT_SECRET, code.as_str(), access.as_str()] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
}
