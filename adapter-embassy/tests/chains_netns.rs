//! The certificate verifier end to end: picoauth-embassy on embassy-net (TAP device in
//! a network namespace this test creates and deletes, as in `netns.rs`) against one
//! rustls TLS 1.3 server per chain of `chains/mod.rs`.
//!
//! Every "refuse" chain must fail the handshake with the expected
//! [`CertificateError`], after the server accepted the TCP connection and before any
//! HTTP byte reached it (each server counts connections and requests). Every "accept"
//! chain must complete a token exchange (HTTP 200 with a token).

mod chains;

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::time::Instant;

use chains::{scenarios, Expect, Scenario};
use embassy_executor::Spawner;
use embassy_net::Stack;
use embassy_net_tuntap::TunTapDevice;
use picoauth::exchange::Outcome;
use picoauth::provider::{Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_embassy::{
    anchor_from_trusted_cert, exchange, CertificateDer, Config, Error, Storage,
};
use picoauth_test_support::netns::{
    is_child, run_client, start_stack, Dns, NetnsRun, SystemClock, LINUX_IP,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

const TEST_NAME: &str = "certificate_chains_over_embassy_net_in_a_netns";
const TAP: &str = "tap2";
const CLIENT_TIMEOUT: Duration = Duration::from_secs(240);
const BODY: &str =
    r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600}"#;

#[test]
fn certificate_chains_over_embassy_net_in_a_netns() {
    if is_child() {
        child();
        return;
    }
    let run = NetnsRun {
        test_name: TEST_NAME,
        ns_prefix: "picoauth-chn",
        tap: TAP,
        hard_timeout: Duration::from_secs(300),
    };
    let Some((ok, out)) = run.run() else {
        return;
    };
    assert!(ok, "child in the namespace failed or timed out:\n{out}");
    assert!(out.contains("ALL CHAINS PASSED"), "{out}");
}

/// Serves one fixed chain and key, whatever the SNI (the client must judge it).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// One TLS server on 192.0.2.1 for a scenario: counts TCP connections and HTTP requests.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

fn serve(sc: &Scenario) -> Server {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::crypto::ring::sign::any_supported_type(&PrivateKeyDer::Pkcs8(
        sc.key.clone().into(),
    ))
    .expect("server key");
    let chain = sc
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    // CertifiedKey::new does not check that the key matches the leaf: the RSA-1024
    // scenario serves a leaf whose key the server does not hold.
    let certified = Arc::new(CertifiedKey::new(chain, key));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(certified))),
    );
    let listener = TcpListener::bind((core::net::Ipv4Addr::from(LINUX_IP), 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (Arc::clone(&connections), Arc::clone(&requests));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
            let conn = rustls::ServerConnection::new(Arc::clone(&config)).expect("conn");
            let mut tls = rustls::StreamOwned::new(conn, stream);
            // Any application byte is a request: a refused handshake delivers none.
            let mut got = Vec::new();
            let mut buf = [0u8; 2048];
            while !has_whole_request(&got) {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            if got.is_empty() {
                continue;
            }
            r.fetch_add(1, Ordering::SeqCst);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                BODY.len()
            );
            let _ = tls.write_all(answer.as_bytes());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    Server {
        port,
        connections,
        requests,
    }
}

/// Whether `got` holds a whole HTTP request (head and Content-Length body).
fn has_whole_request(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    got.len() >= end + 4 + len
}

struct Job {
    cases: Vec<(&'static Scenario, u16)>,
    results: mpsc::Sender<String>,
}

fn child() {
    let t = Instant::now();
    let all: &'static [Scenario] = scenarios().leak();
    println!("{} chains made in {:.1?}", all.len(), t.elapsed());
    let servers: Vec<Server> = all.iter().map(serve).collect();
    let dns = Dns::start();
    let (tx, rx) = mpsc::channel();
    let job: &'static Job = Box::leak(Box::new(Job {
        cases: all
            .iter()
            .zip(&servers)
            .map(|(s, srv)| (s, srv.port))
            .collect(),
        results: tx,
    }));
    let started = Instant::now();
    let lines = run_client(
        TAP,
        &rx,
        CLIENT_TIMEOUT,
        false,
        move |spawner, device| {
            spawner.spawn(main_task(spawner, device, job).expect("spawn main task"));
        },
        String::new,
    );
    drop(dns);

    let mut failures = Vec::new();
    for ((sc, server), line) in all.iter().zip(&servers).zip(&lines) {
        let (conns, reqs) = (
            server.connections.load(Ordering::SeqCst),
            server.requests.load(Ordering::SeqCst),
        );
        let want_reqs = usize::from(sc.expect == Expect::Accept);
        let line = if line.starts_with("PASS") && conns == 1 && reqs == want_reqs {
            format!("{line} [server: {conns} connection, {reqs} HTTP request]")
        } else {
            failures.push(sc.name);
            format!("FAIL {line} [server: {conns} connections, {reqs} HTTP requests, want 1 and {want_reqs}]")
        };
        println!("{line}");
    }
    assert_eq!(lines.len(), all.len(), "{lines:#?}");
    assert!(failures.is_empty(), "failed: {failures:#?}");
    println!(
        "ALL CHAINS PASSED ({} chains, {:.1?})",
        all.len(),
        started.elapsed()
    );
}

#[embassy_executor::task]
async fn main_task(spawner: Spawner, device: TunTapDevice, job: &'static Job) {
    let stack = start_stack(spawner, device).await;
    for &(sc, port) in &job.cases {
        let line = run_case(stack, sc, port).await;
        let _ = job.results.send(line);
    }
    let _ = job.results.send("DONE".into());
}

async fn run_case(stack: Stack<'static>, sc: &'static Scenario, port: u16) -> String {
    let provider = Provider::rfc6749(Endpoint {
        tls: true,
        host: sc.host,
        port,
        path: "/token",
    });
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic("client", "secret".into()),
        Grant::authorization_code("code"),
    );
    let ders: Vec<CertificateDer<'_>> = sc
        .anchors
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let anchors: Vec<_> = ders
        .iter()
        .map(|d| anchor_from_trusted_cert(d).expect("anchor"))
        .collect();
    let config = Config::new(&anchors, SystemClock);
    let mut storage = Box::new(Storage::new());
    let (buffers, buf) = storage.split();
    let t = Instant::now();
    let r = exchange(stack, &req, &config, buffers, rand_core::OsRng, buf)
        .await
        .map(|answer| answer.outcome);
    let took = t.elapsed();
    match (sc.expect, r) {
        (Expect::Accept, Ok(Outcome::Token { status: 200, .. })) => {
            format!("PASS accepted: {} ({took:.1?})", sc.name)
        }
        (Expect::Refuse(want), Err(Error::Certificate(got))) if got == want => {
            format!("PASS refused ({got}): {} ({took:.1?})", sc.name)
        }
        (want, got) => format!("FAIL {}: want {want:?}, got {got:?}", sc.name),
    }
}
