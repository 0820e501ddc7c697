//! The operating system's trust store (feature `native-roots`): a CA that only the OS
//! store holds (here through `SSL_CERT_FILE`, which rustls-native-certs honours) is
//! trusted when asked for, and not otherwise.

use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::{Client, Error, OwnedOutcome, TlsConfigError, Trust};

#[test]
fn the_os_store_is_trusted_only_when_asked_for() {
    let provider = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, provider.ca_cert_pem()).unwrap();
    // The only test in this binary: it alone reads and writes the environment.
    std::env::set_var("SSL_CERT_FILE", &pem);
    std::env::remove_var("SSL_CERT_DIR");

    let url = provider.url("/api/oauth.v2.access");
    let p = SLACK_V2.with_endpoint(Endpoint::parse(&url).unwrap());
    let exchange = |client: &Client| {
        let code = provider.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
        client.exchange(&TokenRequest::new(
            &p,
            ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
            Grant::authorization_code(&code),
        ))
    };

    let bundled_only = Client::builder().build().unwrap();
    assert!(matches!(exchange(&bundled_only), Err(Error::Tls(_))));

    let with_os = Client::builder().native_roots().build().unwrap();
    let o = exchange(&with_os).unwrap();
    assert!(
        matches!(o, OwnedOutcome::Token { status: 200, .. }),
        "{o:?}"
    );

    // An empty OS store is an error when building, never a client that trusts less
    // than asked.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    std::env::set_var("SSL_CERT_FILE", &empty);
    let t = Trust {
        no_public_roots: true,
        native_roots: true,
        ..Trust::default()
    };
    assert!(matches!(
        t.client_config(),
        Err(TlsConfigError::NoNativeRoots)
    ));
    std::env::remove_var("SSL_CERT_FILE");
}
