//! Interoperability with an OAuth 2.0 server that others wrote and trust: panva's
//! `oidc-provider` (OpenID Certified), pinned in `tests/interop/package.json`, run by
//! Node over HTTPS on 127.0.0.1 with a CA and leaf this test generates.
//!
//! `picoauth-std`'s blocking and async clients exchange real authorization codes
//! (`client_secret_basic`, `client_secret_post`, PKCE), refresh, run client
//! credentials, and meet the server's real refusals. Each case and its HTTP status is
//! printed.
//!
//! Ignored by default: it needs `npm ci` in `tests/interop` first. Run it with
//! `.ci/interop`, or `cargo test -p picoauth-tests --test interop -- --ignored`.
//! When run, a missing `node` or package fails the test with a clear message.

use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Instant;

use picoauth::exchange::{self, Outcome};
use picoauth::http::response::{ResponseReader, Status};
use picoauth::pkce::CodeVerifier;
use picoauth::provider::{Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::pki::TestCa;
use picoauth_std::{asynch, Client, OwnedOutcome, Trust};
use picoauth_test_support::node::{NodePeer, PeerTls};

/// The clients configured in `tests/interop/server.mjs`. The odd one's id and secret
/// hold every character that RFC 6749 §2.3.1 form-encoding changes.
const ODD_ID: &str = "odd id:100%+/=";
const ODD_SECRET: &str = "odd secret: 50%+50%/2==1";
const PLAIN_ID: &str = "plain-client";
const PLAIN_SECRET: &str = "plain-secret-0123456789";
const PUBLIC_ID: &str = "public-pkce-client";
const REDIRECT: &str = "https://client.example/cb";
const SCOPE: &str = "api:read api:write";

/// How long the server may take to start (Node loading the package).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one non-interactive authorization may take.
const AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one token exchange may take (the clients' total timeout).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The Node server (killed and its files removed on drop) and what its ready line said.
struct Peer {
    node: NodePeer,
    /// `https://127.0.0.1:PORT`
    issuer: String,
    /// The package version the server reported.
    version: String,
    ca_pem: String,
    token_url: String,
    strict_token_url: String,
}

impl Peer {
    fn start() -> Self {
        let ca = TestCa::new("picoauth interop test CA").unwrap();
        let leaf = ca.leaf(&["127.0.0.1", "localhost"]).unwrap();
        let tls = PeerTls {
            ca_pem: &ca.pem,
            chain_pem: &leaf.chain_pem,
            key_pem: &leaf.key_pem,
        };
        let (node, ready) = NodePeer::start("127.0.0.1", tls, START_TIMEOUT);
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        Self {
            node,
            version: ready["version"].as_str().expect("version").to_owned(),
            token_url: format!("{issuer}/token"),
            strict_token_url: format!("{issuer}/strict/token"),
            issuer,
            ca_pem: ca.pem,
        }
    }

    /// Runs the authorization endpoint for `client_id` (the server approves at once)
    /// and returns the code from the redirect.
    fn authorize(&self, client_id: &str, scope: &str, challenge: Option<&str>) -> String {
        self.node
            .authorize(client_id, REDIRECT, scope, challenge, AUTHORIZE_TIMEOUT)
    }

    fn provider(&self) -> Provider<'_> {
        Provider::rfc6749(Endpoint::parse(&self.token_url).expect("token URL"))
    }

    fn strict_provider(&self) -> Provider<'_> {
        Provider::rfc6749(Endpoint::parse(&self.strict_token_url).expect("strict token URL"))
    }
}

/// Blocking or async `picoauth-std` client, driven the same way.
enum Via {
    Blocking(Client),
    Async(asynch::Client),
}

impl Via {
    fn name(&self) -> &'static str {
        match self {
            Self::Blocking(_) => "std blocking",
            Self::Async(_) => "std async",
        }
    }

    async fn exchange(&self, req: &TokenRequest<'_>) -> OwnedOutcome {
        let r = match self {
            Self::Blocking(c) => c.exchange(req),
            Self::Async(c) => c.exchange(req).await,
        };
        r.unwrap_or_else(|e| panic!("{}: transport failure: {e}", self.name()))
    }
}

/// The cases run, with the HTTP status each got, printed at the end.
struct Report {
    via: &'static str,
    version: String,
    rows: Vec<(String, u16, String)>,
}

impl Report {
    fn record(&mut self, case: &str, o: &OwnedOutcome) {
        let what = match o {
            OwnedOutcome::Token { .. } => "token".to_owned(),
            other => other.error_code().unwrap_or(other.kind()).to_owned(),
        };
        self.rows.push((case.to_owned(), o.status(), what));
    }

    fn print(&self) {
        // One write, so parallel tests' tables do not interleave.
        let mut out = format!(
            "\ninterop: oidc-provider {} via picoauth {}\n",
            self.version, self.via
        );
        for (case, status, what) in &self.rows {
            out.push_str(&format!("  {status}  {what:<24} {case}\n"));
        }
        print!("{out}");
    }
}

#[track_caller]
fn expect_token<'o>(o: &'o OwnedOutcome, case: &str) -> &'o picoauth_std::TokenSet {
    match o {
        OwnedOutcome::Token { status, tokens, .. } => {
            assert_eq!(*status, 200, "{case}: {o:?}");
            assert!(
                tokens
                    .token_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
                "{case}: {o:?}"
            );
            assert!(
                tokens
                    .access_token
                    .as_ref()
                    .is_some_and(|a| !a.expose().is_empty()),
                "{case}: {o:?}"
            );
            assert!(
                tokens.expires_in.is_some() && tokens.expires_at.is_some(),
                "{case}: {o:?}"
            );
            tokens
        }
        other => panic!("{case}: expected tokens, got {other:?}"),
    }
}

#[track_caller]
fn expect_error(o: &OwnedOutcome, case: &str, status: u16, code: &str) {
    match o {
        OwnedOutcome::Error {
            status: s,
            code: c,
            description,
            ..
        } => {
            assert_eq!((*s, c.as_str()), (status, code), "{case}: {o:?}");
            assert!(description.is_some(), "{case}: no error_description: {o:?}");
        }
        other => panic!("{case}: expected {status} {code}, got {other:?}"),
    }
}

fn refresh_of(t: &picoauth_std::TokenSet, case: &str) -> String {
    t.refresh_token
        .as_ref()
        .unwrap_or_else(|| panic!("{case}: no refresh token"))
        .expose()
        .to_owned()
}

/// Every std case against one peer, through `via`.
async fn run_cases(peer: &Peer, via: &Via) -> Report {
    let mut report = Report {
        via: via.name(),
        version: peer.version.clone(),
        rows: Vec::new(),
    };
    let odd_basic = ClientAuth::basic(ODD_ID, ODD_SECRET.into());
    let odd_post = ClientAuth::post(ODD_ID, ODD_SECRET.into());
    let plain_post = ClientAuth::post(PLAIN_ID, PLAIN_SECRET.into());
    let public = ClientAuth::public(PUBLIC_ID);

    // 1. Code exchange, client_secret_basic, with the odd id and secret (§2.3.1).
    let case = "authorization_code + client_secret_basic (odd id/secret)";
    let code = peer.authorize(ODD_ID, SCOPE, None);
    let p = peer.provider();
    let grant = Grant::authorization_code(&code).with_redirect_uri(REDIRECT);
    let o = via.exchange(&TokenRequest::new(&p, odd_basic, grant)).await;
    report.record(case, &o);
    let t = expect_token(&o, case);
    assert_eq!(t.scope.as_deref(), Some(SCOPE), "{case}");
    let odd_refresh = refresh_of(t, case);

    // 3. Refresh, narrowing the scope.
    let case = "refresh_token + client_secret_basic, narrower scope";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_basic,
            Grant::refresh_token(&odd_refresh).with_scope("api:read"),
        ))
        .await;
    report.record(case, &o);
    let t = expect_token(&o, case);
    assert_eq!(t.scope.as_deref(), Some("api:read"), "{case}");

    // 4. Refresh asking for more than was granted.
    let case = "refresh_token, wider scope";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_basic,
            Grant::refresh_token(&odd_refresh).with_scope("api:read api:admin"),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_scope");

    // 2. The same code again: single use (the server also revokes its grant, so
    // this comes after that grant's refreshes).
    let case = "authorization_code reused";
    let o = via.exchange(&TokenRequest::new(&p, odd_basic, grant)).await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");

    // 5. Code exchange, client_secret_post, odd id and secret in the form body.
    let case = "authorization_code + client_secret_post (odd id/secret)";
    let code = peer.authorize(ODD_ID, SCOPE, None);
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_post,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        ))
        .await;
    report.record(case, &o);
    expect_token(&o, case);

    // 6. Code exchange and refresh, client_secret_post, plain client.
    let case = "authorization_code + client_secret_post (plain)";
    let code = peer.authorize(PLAIN_ID, "api:read", None);
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            plain_post,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        ))
        .await;
    report.record(case, &o);
    let t = expect_token(&o, case);
    assert_eq!(t.scope.as_deref(), Some("api:read"), "{case}");
    let plain_refresh = refresh_of(t, case);
    let case = "refresh_token + client_secret_post (plain)";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            plain_post,
            Grant::refresh_token(&plain_refresh),
        ))
        .await;
    report.record(case, &o);
    expect_token(&o, case);

    // 7. PKCE with the public client, then its refresh (rotated by the server).
    let case = "authorization_code + PKCE S256 (public client)";
    let verifier = CodeVerifier::from_entropy(&[0x5a; 32]);
    let code = peer.authorize(PUBLIC_ID, SCOPE, Some(verifier.challenge().as_str()));
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            public,
            Grant::authorization_code(&code)
                .with_redirect_uri(REDIRECT)
                .with_code_verifier(verifier.expose()),
        ))
        .await;
    report.record(case, &o);
    let public_refresh = refresh_of(expect_token(&o, case), case);
    let case = "refresh_token (public client, rotation)";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            public,
            Grant::refresh_token(&public_refresh),
        ))
        .await;
    report.record(case, &o);
    let rotated = refresh_of(expect_token(&o, case), case);
    assert_ne!(
        rotated, public_refresh,
        "{case}: public refresh tokens rotate"
    );
    let case = "refresh_token already rotated away";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            public,
            Grant::refresh_token(&public_refresh),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");

    // 8. PKCE with the wrong verifier, and with none.
    let case = "authorization_code + wrong PKCE verifier";
    let code = peer.authorize(PUBLIC_ID, SCOPE, Some(verifier.challenge().as_str()));
    let wrong = CodeVerifier::from_entropy(&[0xa5; 32]);
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            public,
            Grant::authorization_code(&code)
                .with_redirect_uri(REDIRECT)
                .with_code_verifier(wrong.expose()),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");
    let case = "authorization_code, PKCE verifier missing";
    let code = peer.authorize(PUBLIC_ID, SCOPE, Some(verifier.challenge().as_str()));
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            public,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");

    // 9. A code that was never issued.
    let case = "authorization_code bad code";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_basic,
            Grant::authorization_code("not-a-code-the-server-issued").with_redirect_uri(REDIRECT),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");

    // 10. A redirect_uri other than the authorization request's.
    let case = "authorization_code wrong redirect_uri";
    let code = peer.authorize(ODD_ID, SCOPE, None);
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_basic,
            Grant::authorization_code(&code).with_redirect_uri("https://client.example/other"),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_grant");

    // 11. Client credentials, basic and post.
    let case = "client_credentials + client_secret_basic (odd id/secret)";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_basic,
            Grant::client_credentials().with_scope("api:read"),
        ))
        .await;
    report.record(case, &o);
    let t = expect_token(&o, case);
    assert_eq!(t.scope.as_deref(), Some("api:read"), "{case}");
    assert!(
        t.refresh_token.is_none(),
        "{case}: §4.4.3 issues no refresh token"
    );
    let case = "client_credentials + client_secret_post (odd id/secret)";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            odd_post,
            Grant::client_credentials().with_scope(SCOPE),
        ))
        .await;
    report.record(case, &o);
    expect_token(&o, case);

    // 12. A wrong secret, both ways (the header is checked in `www_authenticate_*`).
    let case = "client_credentials + client_secret_basic, bad secret";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            ClientAuth::basic(ODD_ID, "odd secret: 50%+50%/2==2".into()),
            Grant::client_credentials(),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 401, "invalid_client");
    let case = "authorization_code + client_secret_post, bad secret";
    let code = peer.authorize(PLAIN_ID, "api:read", None);
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            ClientAuth::post(PLAIN_ID, "plain-secret-wrong".into()),
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 401, "invalid_client");

    // 13. A grant the server does not support at all: /strict is a second
    // oidc-provider instance with client_credentials switched off.
    let case = "client_credentials at a server without it (unsupported grant)";
    let strict = peer.strict_provider();
    let o = via
        .exchange(&TokenRequest::new(
            &strict,
            plain_post,
            Grant::client_credentials(),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "unsupported_grant_type");

    // 14. A grant the server supports but this client is not registered for
    // (oidc-provider answers `invalid_request` here, not RFC 6749's
    // `unauthorized_client`; recorded as the server's behaviour).
    let case = "client_credentials for a client not allowed it";
    let o = via
        .exchange(&TokenRequest::new(
            &p,
            plain_post,
            Grant::client_credentials(),
        ))
        .await;
    report.record(case, &o);
    expect_error(&o, case, 400, "invalid_request");

    report.print();
    report
}

fn builder(peer: &Peer) -> picoauth_std::ClientBuilder {
    Client::builder()
        .only_ca_pem(peer.ca_pem.as_bytes())
        .expect("CA PEM")
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
        .total_timeout(EXCHANGE_TIMEOUT)
}

#[test]
#[ignore = "needs tests/interop installed (npm ci): run .ci/interop"]
fn std_blocking_against_oidc_provider() {
    let started = Instant::now();
    let peer = Peer::start();
    let via = Via::Blocking(builder(&peer).build().expect("client"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let report = rt.block_on(run_cases(&peer, &via));
    assert_eq!(report.rows.len(), 20);
    assert!(started.elapsed() < Duration::from_secs(120), "too slow");
}

#[test]
#[ignore = "needs tests/interop installed (npm ci): run .ci/interop"]
fn std_async_against_oidc_provider() {
    let started = Instant::now();
    let peer = Peer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let via = Via::Async(builder(&peer).build_async().expect("async client"));
    let report = rt.block_on(run_cases(&peer, &via));
    assert_eq!(report.rows.len(), 20);
    assert!(started.elapsed() < Duration::from_secs(120), "too slow");
}

/// One request over a fresh TLS connection trusting only the test CA; returns the
/// status, the `WWW-Authenticate` header, and the interpreted error code.
///
/// `OwnedOutcome` carries no headers, so this reads the response with the core's
/// `ResponseReader` directly.
fn raw_exchange(peer: &Peer, request: &[u8]) -> (u16, Option<String>, Option<String>) {
    let config = Trust::only_pem(peer.ca_pem.as_bytes())
        .expect("CA PEM")
        .client_config()
        .expect("TLS config");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("IP name");
    let conn = rustls::ClientConnection::new(config, name).expect("TLS client");
    let port = peer
        .issuer
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("port in issuer");
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to the peer");
    tcp.set_read_timeout(Some(EXCHANGE_TIMEOUT))
        .expect("timeout");
    tcp.set_write_timeout(Some(EXCHANGE_TIMEOUT))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request).expect("send request");
    tls.flush().expect("flush");
    let mut buf = vec![0u8; 16 * 1024];
    let mut reader = ResponseReader::new(&mut buf);
    loop {
        let spare = reader.spare();
        assert!(!spare.is_empty(), "response too large");
        let n = tls.read(spare).expect("read response");
        let status = if n == 0 {
            reader.finish().expect("complete response")
        } else {
            reader.advance(n).expect("well-formed response")
        };
        if status == Status::Complete {
            break;
        }
    }
    let resp = reader.response().expect("response");
    let code = match exchange::interpret(picoauth::provider::ProviderKind::Rfc6749, &resp) {
        Ok(Outcome::Error { error, .. }) => Some(match error {
            exchange::ProviderError::Rfc6749(e) => e.code.to_string(),
            other => panic!("not an RFC 6749 error: {other:?}"),
        }),
        _ => None,
    };
    (resp.status, resp.www_authenticate.map(str::to_owned), code)
}

#[test]
#[ignore = "needs tests/interop installed (npm ci): run .ci/interop"]
fn www_authenticate_on_bad_basic_secret_and_encoding_matters() {
    let peer = Peer::start();
    let p = peer.provider();
    let mut rows = Vec::new();

    // The request picoauth encodes, with a wrong secret, read by the core's reader.
    let req = TokenRequest::new(
        &p,
        ClientAuth::basic(ODD_ID, "wrong secret".into()),
        Grant::client_credentials(),
    );
    let mut out = vec![0u8; 4096];
    let n = req.encode(&mut out).expect("encode");
    let (status, www, code) = raw_exchange(&peer, out.get(..n).expect("encoded"));
    rows.push((
        "client_secret_basic, bad secret (raw)",
        status,
        code.clone(),
    ));
    assert_eq!(
        (status, code.as_deref()),
        (401, Some("invalid_client")),
        "{www:?}"
    );
    let www = www.expect("401 invalid_client carries WWW-Authenticate (RFC 6749 §5.2)");
    assert!(
        www.starts_with("Basic ") && www.contains("error=\"invalid_client\""),
        "{www}"
    );

    // The same credentials right, encoded by picoauth: accepted. Then sent as raw
    // `id:secret` without §2.3.1 form-encoding (a hand-built header, the mistake the
    // odd characters are there to catch): refused.
    let req = TokenRequest::new(
        &p,
        ClientAuth::basic(ODD_ID, ODD_SECRET.into()),
        Grant::client_credentials(),
    );
    let n = req.encode(&mut out).expect("encode");
    let (status, _, code) = raw_exchange(&peer, out.get(..n).expect("encoded"));
    rows.push((
        "client_secret_basic, form-encoded (raw)",
        status,
        code.clone(),
    ));
    assert_eq!((status, code), (200, None));

    use base64::Engine as _;
    let unencoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{ODD_ID}:{ODD_SECRET}"));
    let body = "grant_type=client_credentials";
    let hand_built = format!(
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {unencoded}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, _, code) = raw_exchange(&peer, hand_built.as_bytes());
    rows.push((
        "client_secret_basic, NOT form-encoded (hand-built)",
        status,
        code.clone(),
    ));
    // oidc-provider 8.8.1 splits at the first ':' and percent-decodes each half, so
    // the raw '%' makes it answer 400 invalid_request ("not properly encoded").
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("invalid_request")),
        "unencoded credentials must be refused"
    );

    let mut out = format!("\ninterop: oidc-provider {} raw requests\n", peer.version);
    for (case, status, code) in rows {
        let what = code.as_deref().unwrap_or("token");
        out.push_str(&format!("  {status}  {what:<24} {case}\n"));
    }
    print!("{out}");
}
