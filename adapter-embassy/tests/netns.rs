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

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use embassy_executor::Spawner;
use embassy_net::{Ipv4Address, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use picoauth::exchange::{Outcome, Token};
use picoauth::provider::{Endpoint, PINTEREST, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_embassy::{exchange, Config, Error, Storage, TlsError, UnixClock};
use picoauth_std::local_provider::{self, LocalProvider, LocalProviderConfig};
use static_cell::StaticCell;

const CHILD_ENV: &str = "PICOAUTH_EMBASSY_NETNS_CHILD";
const REQUIRE_ENV: &str = "PICOAUTH_REQUIRE_NETNS";
const TEST_NAME: &str = "exchanges_over_embassy_net_in_a_netns";
const TAP: &str = "tap0";
const LINUX_IP: [u8; 4] = [192, 0, 2, 1];
const EMBASSY_IP: [u8; 4] = [192, 0, 2, 2];
const PORT: u16 = 8443;
const HOST: &str = "auth.test";
const WRONG_HOST: &str = "wrong.test";
/// The whole child run, hard: it is killed past this.
const HARD_TIMEOUT: Duration = Duration::from_secs(120);
/// The embassy part inside the child.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes straight to stderr, past the test harness's capture, so a skip is seen.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

#[test]
fn exchanges_over_embassy_net_in_a_netns() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    if let Some(why) = missing_prerequisite() {
        let msg =
            format!("SKIPPED {TEST_NAME}: {why} (needs root, /dev/net/tun and iproute2's `ip`)");
        assert!(
            std::env::var_os(REQUIRE_ENV).is_none(),
            "{msg}, and {REQUIRE_ENV} is set"
        );
        say(&msg);
        return;
    }
    let started = Instant::now();
    let ns = Netns::create().expect("create the network namespace");
    let exe = std::env::current_exe().expect("test binary path");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child in the namespace");
    let (ok, out) = wait_bounded(child, HARD_TIMEOUT);
    drop(ns);
    say(&format!(
        "{TEST_NAME}: child finished in {:.1?}\n{out}",
        started.elapsed()
    ));
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
    assert!(
        !Netns::exists(&format!("picoauth-emb-{}", std::process::id())),
        "namespace left behind"
    );
}

fn missing_prerequisite() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        return Some(format!("not root (effective uid {euid:?})"));
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    match Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        _ => Some("no `ip` command".into()),
    }
}

/// Waits for `child` at most `limit`, killing it past that; returns success and all output.
fn wait_bounded(mut child: Child, limit: Duration) -> (bool, String) {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                say(&format!(
                    "{TEST_NAME}: hard timeout of {limit:?}, killing the child"
                ));
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    (ok, format!("--- stdout\n{out}\n--- stderr\n{err}"))
}

/// A network namespace with a configured TAP device, deleted on drop (also on panic).
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Result<Self, String> {
        let name = format!("picoauth-emb-{}", std::process::id());
        if Self::exists(&name) {
            ip(&["netns", "del", &name])?;
        }
        ip(&["netns", "add", &name])?;
        // From here on, Drop deletes it whatever fails next.
        let ns = Self { name };
        let n = ns.name.as_str();
        let linux = format!(
            "{}.{}.{}.{}/24",
            LINUX_IP[0], LINUX_IP[1], LINUX_IP[2], LINUX_IP[3]
        );
        ip(&["-n", n, "link", "set", "lo", "up"])?;
        ip(&["-n", n, "tuntap", "add", "dev", TAP, "mode", "tap"])?;
        ip(&["-n", n, "addr", "add", &linux, "dev", TAP])?;
        ip(&["-n", n, "link", "set", TAP, "up"])?;
        Ok(ns)
    }

    fn exists(name: &str) -> bool {
        Command::new("ip")
            .args(["netns", "list"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(name))
            })
            .unwrap_or(false)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["-n", &self.name, "link", "del", TAP]);
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            say(&format!("could not delete namespace {}: {e}", self.name));
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Inside the namespace.

/// The real time, as a firmware RTC would give it.
struct SystemClock;
impl UnixClock for SystemClock {
    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A clock stuck in 2000: every certificate of the local provider is not yet valid.
struct Year2000Clock;
impl UnixClock for Year2000Clock {
    fn now() -> u64 {
        946_684_800
    }
}

/// What the client task needs, leaked to `'static`.
struct Job {
    ca: Vec<u8>,
    other_ca: Vec<u8>,
    slack_code: String,
    pinterest_refresh: String,
    results: mpsc::Sender<String>,
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
    let stop_dns = Arc::new(AtomicBool::new(false));
    let dns = {
        let socket = UdpSocket::bind((linux_ip, 53)).expect("bind DNS on 192.0.2.1:53");
        let stop = Arc::clone(&stop_dns);
        std::thread::spawn(move || dns_responder(&socket, &stop))
    };

    let (tx, rx) = mpsc::channel();
    let job: &'static Job = Box::leak(Box::new(Job {
        ca: provider.ca_cert_der(),
        other_ca: other.ca_cert_der(),
        slack_code: provider.issue_code(local_provider::SLACK_CLIENT_ID, None, None, None),
        pinterest_refresh: provider.issue_refresh_token(
            local_provider::ProviderKind::Pinterest,
            local_provider::PINTEREST_CLIENT_ID,
            None,
        ),
        results: tx,
    }));
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    std::thread::spawn(move || {
        let device = TunTapDevice::new(TAP).expect("open tap0 inside the namespace");
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
                "client task did not finish within {CLIENT_TIMEOUT:?}: {e}; so far: {lines:#?}"
            ),
        }
    }
    done.store(true, Ordering::SeqCst);
    stop_dns.store(true, Ordering::SeqCst);
    let _ = dns.join();
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

/// Answers A queries for `*.test` with 192.0.2.1 and everything else with NXDOMAIN,
/// until `stop` is set. simple-dns does the wire format.
fn dns_responder(socket: &UdpSocket, stop: &AtomicBool) {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Packet, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(query) = Packet::parse(&buf[..n]) else {
            continue;
        };
        let mut reply = Packet::new_reply(query.id());
        for q in &query.questions {
            reply.questions.push(q.clone());
            let name = q.qname.to_string();
            if q.qtype == QTYPE::TYPE(TYPE::A) && name.trim_end_matches('.').ends_with(".test") {
                reply.answers.push(ResourceRecord::new(
                    q.qname.clone(),
                    CLASS::IN,
                    60,
                    RData::A(A {
                        address: u32::from_be_bytes(LINUX_IP),
                    }),
                ));
            }
        }
        if reply.answers.is_empty() {
            *reply.rcode_mut() = RCODE::NameError;
        }
        if let Ok(bytes) = reply.build_bytes_vec() {
            let _ = socket.send_to(&bytes, from);
        }
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner, device: TunTapDevice, job: &'static Job) {
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let mut dns_servers = heapless::Vec::new();
    let _ = dns_servers.push(Ipv4Address::from(LINUX_IP));
    let config = embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::from(EMBASSY_IP), 24),
        gateway: None,
        dns_servers,
    });
    let seed = u64::from_le_bytes(*b"picoauth");
    let (stack, runner) =
        embassy_net::new(device, config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).expect("spawn net task"));
    stack.wait_config_up().await;

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
    let config = Config::new(&job.ca, SystemClock);
    let t = Instant::now();
    match exchange(stack, &req, &config, buffers, rand_core::OsRng, buf).await {
        Ok(Outcome::Token {
            status: 200,
            token: Token::SlackV2(t2),
        }) if t2
            .access_token
            .is_some_and(|a| a.expose().raw().starts_with("xoxb-")) =>
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
    let config = Config::new(&job.ca, SystemClock);
    let t = Instant::now();
    match exchange(stack, &req, &config, buffers, rand_core::OsRng, buf).await {
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

fn refused(what: &str, r: Result<Outcome<'_>, Error>) -> String {
    match r {
        Err(e @ Error::Handshake(TlsError::InvalidCertificate)) => {
            assert!(e.is_certificate_error());
            format!("PASS {what} ({e})")
        }
        other => format!("FAIL {what}: {other:?}"),
    }
}

async fn unknown_ca(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(&job.other_ca, SystemClock);
    let r = exchange(
        stack,
        &slack_req(HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    refused("unknown CA refused", r)
}

async fn wrong_host(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(&job.ca, SystemClock);
    let r = exchange(
        stack,
        &slack_req(WRONG_HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    refused("wrong host name refused", r)
}

async fn dates_checked(stack: Stack<'static>, job: &'static Job) -> String {
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let config = Config::new(&job.ca, Year2000Clock);
    let r = exchange(
        stack,
        &slack_req(HOST),
        &config,
        buffers,
        rand_core::OsRng,
        buf,
    )
    .await;
    refused("certificate dates checked", r)
}
