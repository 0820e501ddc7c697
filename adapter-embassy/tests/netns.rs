//! picoauth-embassy on the host: the embassy executor on std, embassy-net on a TAP
//! device, inside a network namespace this test creates and deletes itself.
//!
//! ```text
//!  netns picoauth-emb-<pid>
//!  ┌──────────────────────────────────────────────────────────────────────┐
//!  │ tap0 192.0.2.1/24  ← Linux side: the built-in local provider on :8443  │
//!  │                      (ECDSA P-256 CA, leaf for auth.test, TLS 1.3)     │
//!  │                      and a DNS responder on :53 (*.test → 192.0.2.1)   │
//!  │ embassy-net 192.0.2.2/24 on the same TAP (embassy-net-tuntap)          │
//!  └──────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! 192.0.2.0/24 is TEST-NET-1 (RFC 5737); the namespace has no other interface, so no
//! packet can leave it.
//!
//! The test re-runs its own binary with `ip netns exec` so that the TAP device, the
//! provider and the embassy stack all live in the namespace. It needs root and
//! `/dev/net/tun`; without them it says so on stderr and passes, unless
//! `PICOAUTH_REQUIRE_NETNS=1` is set (CI sets it), in which case it fails.

use core::time::Duration;
use std::sync::mpsc;
use std::time::Instant;

use embassy_executor::Spawner;
use embassy_net::Stack;
use embassy_net_tuntap::TunTapDevice;
use picoauth::exchange::{Answer, Outcome, Token};
use picoauth::provider::{Endpoint, PINTEREST, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_embassy::{
    anchor_from_trusted_cert, exchange, CertificateDer, CertificateError, Config, Error, Storage,
    TrustAnchor, UnixClock,
};
use picoauth_local_provider::{self as local_provider, LocalProvider, LocalProviderConfig};
use picoauth_test_support::netns::{
    is_child, run_client, start_stack, Dns, NetnsRun, SystemClock, LINUX_IP,
};

const TEST_NAME: &str = "exchanges_over_embassy_net_in_a_netns";
const TAP: &str = "tap0";
const PORT: u16 = 8443;
const HOST: &str = "auth.test";
const WRONG_HOST: &str = "wrong.test";
/// The embassy part inside the child.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn exchanges_over_embassy_net_in_a_netns() {
    if is_child() {
        child();
        return;
    }
    let run = NetnsRun {
        test_name: TEST_NAME,
        ns_prefix: "picoauth-emb",
        tap: TAP,
        hard_timeout: Duration::from_secs(120),
    };
    let Some((ok, out)) = run.run() else {
        return;
    };
    assert!(ok, "child in the namespace failed or timed out:\n{out}");
    for marker in [
        "PASS slack-v2 code exchange",
        "PASS pinterest refresh",
        "PASS unknown CA refused",
        "PASS wrong host name refused",
        "PASS certificate dates checked",
    ] {
        assert!(
            out.contains(marker),
            "missing {marker:?} in child output:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Inside the namespace.

/// A clock stuck in 2000: every certificate of the local provider is not yet valid.
struct Year2000Clock;
impl UnixClock for Year2000Clock {
    fn now() -> u64 {
        946_684_800
    }
}

/// What the client task needs, leaked to `'static`.
struct Job {
    ca: &'static [TrustAnchor<'static>],
    other_ca: &'static [TrustAnchor<'static>],
    slack_code: String,
    pinterest_refresh: String,
    results: mpsc::Sender<String>,
}

/// A CA certificate as a one-anchor list, leaked to `'static` (a few hundred bytes).
fn anchor(der: Vec<u8>) -> &'static [TrustAnchor<'static>] {
    let cert: &'static CertificateDer<'static> =
        Box::leak(Box::new(CertificateDer::from(der.leak() as &[u8])));
    let anchor = anchor_from_trusted_cert(cert).expect("the provider's CA parses as an anchor");
    Box::leak(Box::new([anchor]))
}

fn child() {
    let linux_ip = core::net::Ipv4Addr::from(LINUX_IP);
    let provider = LocalProvider::start(LocalProviderConfig {
        addr: (linux_ip, PORT).into(),
        leaf_names: vec![HOST.into()],
        ..LocalProviderConfig::default()
    })
    .expect("start the local provider inside the namespace");
    // A second provider only for its CA, which the first server's chain does not end at.
    let other = LocalProvider::start(LocalProviderConfig {
        addr: (linux_ip, 0).into(),
        leaf_names: vec![HOST.into()],
        ..LocalProviderConfig::default()
    })
    .expect("start a second provider");
    let dns = Dns::start();

    let (tx, rx) = mpsc::channel();
    let job: &'static Job = Box::leak(Box::new(Job {
        ca: anchor(provider.ca_cert_der()),
        other_ca: anchor(other.ca_cert_der()),
        slack_code: provider.issue_code(local_provider::SLACK_CLIENT_ID, None, None, None),
        pinterest_refresh: provider.issue_refresh_token(
            local_provider::ProviderKind::Pinterest,
            local_provider::PINTEREST_CLIENT_ID,
            None,
        ),
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
        String::new,
    );
    drop(dns);
    println!("client ran for {:.1?}", started.elapsed());

    let failures: Vec<_> = lines.iter().filter(|l| !l.starts_with("PASS")).collect();
    assert!(failures.is_empty(), "failed checks: {failures:#?}");
    assert_eq!(lines.len(), 5, "{lines:#?}");
    // Only the two good exchanges reached HTTP; refused handshakes never did.
    let log = provider.request_log();
    let paths: Vec<_> = log.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/api/oauth.v2.access", "/v5/oauth/token"],
        "{log:#?}"
    );
    assert_eq!(other.requests_served(), 0);
    assert!(!provider.refresh_token_is_live("not-a-token"));
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner, device: TunTapDevice, job: &'static Job) {
    let stack = start_stack(spawner, device).await;
    let report = |line: String| {
        let _ = job.results.send(line);
    };
    report(slack_code_exchange(stack, job).await);
    report(pinterest_refresh(stack, job).await);
    report(unknown_ca(stack, job).await);
    report(wrong_host(stack, job).await);
    report(dates_checked(stack, job).await);
    report("DONE".into());
}

fn endpoint(host: &'static str, path: &'static str) -> Endpoint<'static> {
    Endpoint {
        tls: true,
        host,
        port: PORT,
        path,
    }
}

async fn slack_code_exchange(stack: Stack<'static>, job: &'static Job) -> String {
    let provider = SLACK_V2.with_endpoint(endpoint(HOST, "/api/oauth.v2.access"));
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(
            local_provider::SLACK_CLIENT_ID,
            local_provider::SLACK_CLIENT_SECRET.into(),
        ),
        Grant::authorization_code(&job.slack_code),
    );
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(job.ca, SystemClock);
    let t = Instant::now();
    match exchange(stack, &req, &config, buffers, rand_core::OsRng, buf).await {
        // The answer carries the response head too: Slack's JSON content type.
        Ok(Answer {
            outcome:
                Outcome::Token {
                    status: 200,
                    token: Token::SlackV2(t2),
                },
            response,
            ..
        }) if t2
            .access_token
            .is_some_and(|a| a.expose().raw().starts_with("xoxb-"))
            && response.status == 200
            && response
                .content_type
                .is_some_and(|c| c.starts_with("application/json")) =>
        {
            format!("PASS slack-v2 code exchange ({:.1?})", t.elapsed())
        }
        other => format!("FAIL slack-v2 code exchange: {other:?}"),
    }
}

async fn pinterest_refresh(stack: Stack<'static>, job: &'static Job) -> String {
    let provider = PINTEREST.with_endpoint(endpoint(HOST, "/v5/oauth/token"));
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(
            local_provider::PINTEREST_CLIENT_ID,
            local_provider::PINTEREST_CLIENT_SECRET.into(),
        ),
        Grant::refresh_token(&job.pinterest_refresh),
    );
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(job.ca, SystemClock);
    let t = Instant::now();
    match exchange(stack, &req, &config, buffers, rand_core::OsRng, buf)
        .await
        .map(|answer| answer.outcome)
    {
        Ok(Outcome::Token {
            status: 200,
            token: Token::Pinterest(t2),
        }) if t2.access_token.expose().raw().starts_with("pina_") => {
            format!("PASS pinterest refresh ({:.1?})", t.elapsed())
        }
        other => format!("FAIL pinterest refresh: {other:?}"),
    }
}

fn slack_req(host: &'static str) -> TokenRequest<'static> {
    // Leaked so the borrowed provider outlives the request; a handful of bytes per test.
    let provider: &'static _ = Box::leak(Box::new(
        SLACK_V2.with_endpoint(endpoint(host, "/api/oauth.v2.access")),
    ));
    TokenRequest::new(
        provider,
        ClientAuth::basic(
            local_provider::SLACK_CLIENT_ID,
            local_provider::SLACK_CLIENT_SECRET.into(),
        ),
        Grant::authorization_code("never-sent"),
    )
}

fn refused(what: &str, want: CertificateError, r: Result<Answer<'_>, Error>) -> String {
    match r {
        Err(e @ Error::Certificate(got)) if got == want => {
            assert!(e.is_certificate_error());
            format!("PASS {what} ({e})")
        }
        other => format!("FAIL {what}: want {want:?}, got {other:?}"),
    }
}

async fn unknown_ca(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(job.other_ca, SystemClock);
    let r = exchange(
        stack,
        &slack_req(HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    // The other provider's CA has the same name and another key: the chain's
    // issuer name matches it, its signature does not.
    refused("unknown CA refused", CertificateError::BadSignature, r)
}

async fn wrong_host(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(job.ca, SystemClock);
    let r = exchange(
        stack,
        &slack_req(WRONG_HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    refused(
        "wrong host name refused",
        CertificateError::NotValidForName,
        r,
    )
}

async fn dates_checked(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(job.ca, Year2000Clock);
    let r = exchange(
        stack,
        &slack_req(HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    refused(
        "certificate dates checked",
        CertificateError::NotValidYet,
        r,
    )
}
