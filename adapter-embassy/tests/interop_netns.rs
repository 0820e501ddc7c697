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

mod common;

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::{is_child, start_stack, Dns, NetnsRun, SystemClock, LINUX_IP};
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
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use serde_json::{json, Value};

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
    common::say(&format!("{TEST_NAME}: peer server via {node}"));
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

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

fn node_command() -> String {
    std::env::var("NODE").unwrap_or_else(|_| "node".to_owned())
}

/// Checks that Node runs and the peer package is installed; says what to do if not.
fn node_or_panic() -> String {
    let pkg = interop_dir().join("node_modules/oidc-provider/package.json");
    assert!(
        pkg.is_file(),
        "the interop peer is not installed: {} is missing. Run `.ci/interop` \
         (or `cd tests/interop && npm ci`) first; it needs Node 18+ and npm.",
        pkg.display()
    );
    let node = node_command();
    let version = Command::new(&node)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match version {
        Ok(o) if o.status.success() => {
            format!("{node} {}", String::from_utf8_lossy(&o.stdout).trim())
        }
        Ok(o) => panic!(
            "`{node} --version` failed ({}): install Node.js 18+ for the interop peer",
            o.status
        ),
        Err(e) => panic!("cannot run `{node}` for the interop peer: {e}. Install Node.js 18+."),
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
    // Whole years are all the dates need; rcgen takes calendar dates.
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let year = 1970 + i32::try_from(secs / 31_556_952).unwrap_or(0);
    let (not_before, not_after) = (date_time_ymd(year - 1, 1, 1), date_time_ymd(year + 2, 1, 1));

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name
        .push(DnType::CommonName, "picoauth embassy interop test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");

    let other_key = KeyPair::generate().expect("other CA key");
    let other_ca = ca.self_signed(&other_key).expect("other CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let ip = LINUX_IP.map(|b| b.to_string()).join(".");
    let mut leaf = CertificateParams::new(vec![HOST.to_owned(), ip]).expect("leaf params");
    leaf.distinguished_name
        .push(DnType::CommonName, "picoauth embassy interop peer");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    Certs {
        ca_der: ca_cert.der().to_vec(),
        other_ca_der: other_ca.der().to_vec(),
        ca_pem: ca_cert.pem(),
        chain_pem: format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        key_pem: leaf_key.serialize_pem(),
    }
}

/// The Node server in the namespace, killed and its files removed on drop.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    dir: PathBuf,
    port: u16,
    version: String,
}

impl Peer {
    /// Starts `server.mjs` on 192.0.2.1 (any free port) with `certs`.
    fn start(certs: &Certs) -> Self {
        let interop = interop_dir();
        let dir = std::env::temp_dir().join(format!("picoauth-iop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write a PEM file");
            p
        };
        let ca = write("ca.pem", &certs.ca_pem);
        let cert = write("chain.pem", &certs.chain_pem);
        let key = write("key.pem", &certs.key_pem);

        let node = node_command();
        let host = LINUX_IP.map(|b| b.to_string()).join(".");
        let mut child = match Command::new(&node)
            .arg(interop.join("server.mjs"))
            .current_dir(&interop)
            .env("INTEROP_CA", &ca)
            .env("INTEROP_CERT", &cert)
            .env("INTEROP_KEY", &key)
            .env("INTEROP_HOST", &host)
            .env("INTEROP_PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("cannot run `{node}` for the interop peer: {e}. Install Node.js 18+.");
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let notes = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // oidc-provider prints its own notices on stdout: keep them with the
                // logs; the protocol's lines are JSON objects.
                if !line.starts_with('{') {
                    if let Ok(mut s) = notes.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                } else if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err_pipe.read(&mut buf) {
                if let (Ok(mut s), Some(b)) = (sink.lock(), buf.get(..n)) {
                    s.push_str(&String::from_utf8_lossy(b));
                }
            }
        });
        let stdin = child.stdin.take();
        let mut peer = Self {
            child,
            stdin,
            lines,
            stderr,
            dir,
            port: 0,
            version: String::new(),
        };
        let ready = peer.recv(START_TIMEOUT, "start");
        assert_eq!(ready["ready"], true, "unexpected first line {ready}");
        peer.port = ready["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("port in the ready line");
        peer.version = ready["version"].as_str().expect("version").to_owned();
        peer
    }

    /// The next JSON line from the server, within `timeout`.
    fn recv(&mut self, timeout: Duration, what: &str) -> Value {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("the interop peer wrote {line:?}: {e}")),
            Err(e) => {
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "the interop peer did not answer ({what}) within {timeout:?}: {e}; \
                     exit status {status:?}; its stderr:\n{}",
                    self.stderr_text()
                );
            }
        }
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Runs the authorization endpoint for `client_id` (the server approves at once)
    /// and returns the code from the redirect.
    fn authorize(&mut self, client_id: &str, scope: &str) -> String {
        let cmd = json!({
            "id": 1, "op": "authorize", "client_id": client_id,
            "redirect_uri": REDIRECT, "scope": scope,
        });
        {
            let stdin = self.stdin.as_mut().expect("peer stdin open");
            writeln!(stdin, "{cmd}").expect("write to the interop peer");
            stdin.flush().expect("flush to the interop peer");
        }
        let answer = self.recv(AUTHORIZE_TIMEOUT, "authorize");
        assert_eq!(answer["id"], 1, "{answer}");
        match answer["code"].as_str() {
            Some(code) => code.to_owned(),
            None => panic!(
                "authorization for {client_id:?} failed: {}; peer stderr:\n{}",
                answer["error"],
                self.stderr_text()
            ),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Closing stdin asks the server to stop; the kill makes sure.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        if std::thread::panicking() {
            eprintln!("interop peer stderr:\n{}", self.stderr_text());
        }
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
    let mut peer = Peer::start(&certs);
    println!(
        "interop: oidc-provider {} on https://{HOST}:{} (192.0.2.1) via picoauth-embassy \
         (embassy-net on {TAP}, embedded-tls TLS 1.3)",
        peer.version, peer.port
    );
    let code = peer.authorize(ODD_ID, SCOPE);

    let (tx, rx) = mpsc::channel();
    let job: &'static Job = Box::leak(Box::new(Job {
        ca_der: certs.ca_der,
        other_ca_der: certs.other_ca_der,
        port: peer.port,
        code,
        results: tx,
    }));
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    std::thread::spawn(move || {
        let device = TunTapDevice::new(TAP).expect("open the TAP inside the namespace");
        let executor = Box::leak(Box::new(embassy_executor::Executor::new()));
        executor.run_until(
            |spawner| spawner.spawn(main_task(spawner, device, job).expect("spawn main task")),
            || done.load(Ordering::SeqCst),
        );
    });

    let started = Instant::now();
    let mut lines = Vec::new();
    loop {
        let left = CLIENT_TIMEOUT.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) if line == "DONE" => break,
            Ok(line) => {
                println!("{line}");
                lines.push(line);
            }
            Err(e) => panic!(
                "client task did not finish within {CLIENT_TIMEOUT:?}: {e}; so far: {lines:#?}; \
                 peer stderr:\n{}",
                peer.stderr_text()
            ),
        }
    }
    done.store(true, Ordering::SeqCst);
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
    exchange(stack, &req, &config, buffers, rand_core::OsRng, buf).await
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
