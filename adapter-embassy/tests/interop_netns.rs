//! Interoperability of `picoauth-embassy` with an OAuth 2.0 server that others wrote:
//! panva's `oidc-provider` (OpenID Certified), pinned in `tests/interop/package.json`,
//! run by Node over HTTPS inside a network namespace this test creates.
//!
//! ```text
//!  netns picoauth-iop-<pid>
//!  ┌────────────────────────────────────────────────────────────────────────┐
//!  │ tapiop0 192.0.2.1/24 ← Linux side: oidc-provider (Node) on :<any>        │
//!  │                        (ECDSA P-256 CA + leaf for op.test, 192.0.2.1)    │
//!  │                        and a DNS responder on :53 (*.test → 192.0.2.1)   │
//!  │ embassy-net 192.0.2.2/24 on the same TAP (embassy-net-tuntap)            │
//!  └────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Inside, the test asks the server for an authorization code over its stdin/stdout
//! protocol (the server drives its own authorization endpoint), then picoauth-embassy
//! resolves `op.test`, connects from embassy-net, verifies the server's TLS 1.3
//! certificate against the generated CA and:
//!
//! 1. exchanges the code with `client_secret_basic`, as the client whose id and secret
//!    hold every character RFC 6749 §2.3.1 form-encoding changes;
//! 2. refreshes once with the refresh token it got.
//!
//! Both must answer HTTP 200 with tokens; each case is printed with its status. A
//! third case trusts another CA and must be refused in the handshake, before any HTTP,
//! so the two above are known to have verified Node's certificate.
//!
//! Ignored by default: it needs `npm ci` in `tests/interop` first, and root for the
//! namespace. `.ci/interop` runs it with `PICOAUTH_REQUIRE_NETNS=1`. When run, a
//! missing `node` or package fails it with a clear message.

use core::time::Duration;
use std::sync::mpsc;
use std::time::Instant;

use embassy_executor::Spawner;
use embassy_net::Stack;
use embassy_net_tuntap::TunTapDevice;
use picoauth::exchange::{Outcome, Token};
use picoauth::json::rfc6749::{TokenResponse, TokenType};
use picoauth::provider::{Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_embassy::{
    anchor_from_trusted_cert, exchange, CertificateDer, CertificateError, Config, Error, Storage,
};
use picoauth_local_provider::pki::TestCa;
use picoauth_test_support::netns::{
    is_child, run_client, say, start_stack, Dns, NetnsRun, SystemClock, LINUX_IP,
};
use picoauth_test_support::node::{node_or_panic, NodePeer, PeerTls};

const TEST_NAME: &str = "embassy_against_oidc_provider_in_a_netns";
/// Not `netns.rs`'s names, so the two can run back to back (or at once).
const NS_PREFIX: &str = "picoauth-iop";
const TAP: &str = "tapiop0";
/// The name the embassy client resolves (the harness's DNS answers 192.0.2.1).
const HOST: &str = "op.test";

/// The client of `tests/interop/server.mjs` whose id and secret need form-encoding.
const ODD_ID: &str = "odd id:100%+/=";
const ODD_SECRET: &str = "odd secret: 50%+50%/2==1";
const REDIRECT: &str = "https://client.example/cb";
const SCOPE: &str = "api:read api:write";

const CODE_CASE: &str = "authorization_code + client_secret_basic (odd id/secret)";
const REFRESH_CASE: &str = "refresh_token + client_secret_basic (odd id/secret)";
const OTHER_CA_CASE: &str = "same server, another CA trusted: handshake refused";

/// The whole run inside the namespace, hard: it is killed past this.
const HARD_TIMEOUT: Duration = Duration::from_secs(150);
/// How long the server may take to start (Node loading the package).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the non-interactive authorization may take.
const AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(15);
/// The embassy part inside the child.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs tests/interop installed (npm ci) and root: run .ci/interop"]
fn embassy_against_oidc_provider_in_a_netns() {
    if is_child() {
        child();
        return;
    }
    // Said before any namespace is made, and however the namespace part goes.
    let node = node_or_panic();
    say(&format!("{TEST_NAME}: peer server via {node}"));
    let run = NetnsRun {
        test_name: TEST_NAME,
        ns_prefix: NS_PREFIX,
        tap: TAP,
        hard_timeout: HARD_TIMEOUT,
    };
    let Some((ok, out)) = run.run() else {
        return;
    };
    assert!(ok, "child in the namespace failed or timed out:\n{out}");
    for marker in [
        format!("PASS HTTP 200 token  {CODE_CASE}"),
        format!("PASS HTTP 200 token  {REFRESH_CASE}"),
        format!("PASS no HTTP (issuer signature refused)  {OTHER_CA_CASE}"),
    ] {
        assert!(
            out.contains(&marker),
            "missing {marker:?} in child output:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Inside the namespace.

/// A CA and a leaf for `op.test` and 192.0.2.1 (the server's own authorization
/// requests go to its issuer, `https://192.0.2.1:PORT`), both ECDSA P-256 (rcgen's
/// default key), dated from last year to two years ahead.
struct Certs {
    ca_der: Vec<u8>,
    /// A CA that signed nothing the server sends.
    other_ca_der: Vec<u8>,
    ca_pem: String,
    chain_pem: String,
    key_pem: String,
}

fn certs() -> Certs {
    let ca = TestCa::new("picoauth embassy interop test CA").expect("CA");
    // The same name, another key: found as the issuer, its signature then fails.
    let other = TestCa::new("picoauth embassy interop test CA").expect("other CA");
    let ip = LINUX_IP.map(|b| b.to_string()).join(".");
    let leaf = ca.leaf(&[HOST, &ip]).expect("leaf certificate");
    Certs {
        ca_der: ca.der,
        other_ca_der: other.der,
        ca_pem: ca.pem,
        chain_pem: leaf.chain_pem,
        key_pem: leaf.key_pem,
    }
}

/// What the client task needs, leaked to `'static`.
struct Job {
    ca_der: Vec<u8>,
    other_ca_der: Vec<u8>,
    port: u16,
    code: String,
    results: mpsc::Sender<String>,
}

fn child() {
    let dns = Dns::start();
    let certs = certs();
    let host = LINUX_IP.map(|b| b.to_string()).join(".");
    let tls = PeerTls {
        ca_pem: &certs.ca_pem,
        chain_pem: &certs.chain_pem,
        key_pem: &certs.key_pem,
    };
    let (peer, ready) = NodePeer::start(&host, tls, START_TIMEOUT);
    let port = ready["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("port in the ready line");
    let version = ready["version"].as_str().expect("version");
    println!(
        "interop: oidc-provider {version} on https://{HOST}:{port} (192.0.2.1) via picoauth-embassy \
         (embassy-net on {TAP}, embedded-tls TLS 1.3)"
    );
    let code = peer.authorize(ODD_ID, REDIRECT, SCOPE, None, AUTHORIZE_TIMEOUT);

    let (tx, rx) = mpsc::channel();
    let job: &'static Job = Box::leak(Box::new(Job {
        ca_der: certs.ca_der,
        other_ca_der: certs.other_ca_der,
        port,
        code,
        results: tx,
    }));
    let started = Instant::now();
    let lines = run_client(
        TAP,
        &rx,
        CLIENT_TIMEOUT,
        true,
        move |spawner, device| {
            spawner.spawn(main_task(spawner, device, job).expect("spawn main task"));
        },
        || format!("; peer stderr:\n{}", peer.stderr_text()),
    );
    println!("client ran for {:.1?}", started.elapsed());
    let failures: Vec<_> = lines.iter().filter(|l| !l.starts_with("PASS")).collect();
    assert!(
        failures.is_empty(),
        "failed cases: {failures:#?}; peer stderr:\n{}",
        peer.stderr_text()
    );
    assert_eq!(lines.len(), 3, "{lines:#?}");
    drop(peer);
    drop(dns);
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner, device: TunTapDevice, job: &'static Job) {
    let stack = start_stack(spawner, device).await;
    let report = |line: String| {
        let _ = job.results.send(line);
    };
    let auth = ClientAuth::basic(ODD_ID, ODD_SECRET.into());
    // One set of buffers (29 KB) per exchange, each outcome borrowing its own.
    let mut storage = [(); 3].map(|()| Box::new(Storage::new()));
    let [code_buf, refresh_buf, other_buf] = &mut storage;

    let code = Grant::authorization_code(&job.code).with_redirect_uri(REDIRECT);
    let t = Instant::now();
    let result = run_case(code_buf, stack, job.port, &job.ca_der, auth, code).await;
    let (line, refresh) = judge(CODE_CASE, result, t.elapsed());
    report(line);
    match refresh {
        Some(refresh) => {
            let grant = Grant::refresh_token(&refresh);
            let t = Instant::now();
            let result = run_case(refresh_buf, stack, job.port, &job.ca_der, auth, grant).await;
            report(judge(REFRESH_CASE, result, t.elapsed()).0);
        }
        None => report(format!("SKIP {REFRESH_CASE}: no refresh token to use")),
    }

    // The grant is never sent: the handshake must fail first.
    let grant = Grant::refresh_token("never-sent");
    let result = run_case(other_buf, stack, job.port, &job.other_ca_der, auth, grant).await;
    report(match result {
        // The other CA has the same name and another key: the signature does not verify.
        Err(e @ Error::Certificate(CertificateError::BadSignature)) if e.is_certificate_error() => {
            format!("PASS no HTTP (issuer signature refused)  {OTHER_CA_CASE}")
        }
        other => format!("FAIL {OTHER_CA_CASE}: {other:?}"),
    });
    report("DONE".into());
}

/// One exchange through picoauth-embassy with `op.test:port`, trusting `ca`; the
/// outcome borrows `storage`.
async fn run_case<'b>(
    storage: &'b mut Storage,
    stack: Stack<'static>,
    port: u16,
    ca: &[u8],
    auth: ClientAuth<'_>,
    grant: Grant<'_>,
) -> Result<Outcome<'b>, Error> {
    let provider = Provider::rfc6749(Endpoint {
        tls: true,
        host: HOST,
        port,
        path: "/token",
    });
    let req = TokenRequest::new(&provider, auth, grant);
    let (buffers, buf) = storage.split();
    let der = CertificateDer::from(ca);
    let anchors = [anchor_from_trusted_cert(&der).expect("the test CA parses as an anchor")];
    let config = Config::new(&anchors, SystemClock);
    exchange(stack, &req, &config, buffers, rand_core::OsRng, buf)
        .await
        .map(|answer| answer.outcome)
}

/// The printed line (`PASS …` only for HTTP 200 Bearer tokens with the requested
/// scope) and the refresh token, if any.
fn judge(
    case: &str,
    result: Result<Outcome<'_>, Error>,
    took: Duration,
) -> (String, Option<String>) {
    let tokens = match result {
        Ok(Outcome::Token {
            status,
            token: Token::Rfc6749(t),
        }) => (status, t),
        Ok(other) => {
            let status = other.status();
            return (format!("FAIL HTTP {status} {case}: {other:?}"), None);
        }
        Err(e) => return (format!("FAIL no HTTP answer {case}: {e} ({e:?})"), None),
    };
    let (status, t): (u16, TokenResponse<'_>) = tokens;
    let scope: Option<String> = t.scope.map(|s| s.chars().collect());
    let problems: Vec<&str> = [
        (status != 200, "status not 200"),
        (t.token_type != TokenType::Bearer, "token_type not Bearer"),
        (t.access_token.expose().is_empty(), "empty access_token"),
        (t.expires_in.is_none(), "no expires_in"),
        (scope.as_deref() != Some(SCOPE), "scope not the one granted"),
    ]
    .into_iter()
    .filter_map(|(bad, what)| bad.then_some(what))
    .collect();
    let refresh = t.refresh_token.map(|r| r.expose().chars().collect());
    if problems.is_empty() {
        (
            format!(
                "PASS HTTP {status} token  {case} (scope {:?}, refresh token {}, {took:.1?})",
                scope.unwrap_or_default(),
                if refresh.is_some() {
                    "issued"
                } else {
                    "not issued"
                }
            ),
            refresh,
        )
    } else {
        (
            format!("FAIL HTTP {status} token  {case}: {}", problems.join(", ")),
            refresh,
        )
    }
}
