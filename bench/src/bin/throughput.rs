//! Std adapter throughput on loopback over TLS with keep-alive: exchanges per
//! second, p50 / p99 latency and heap allocations per exchange, for
//! `picoauth_std::Client` and for oauth2-rs with its reqwest (rustls) client,
//! against the same `picoauth_local_provider::LocalProvider`.
//!
//! The provider runs in a child process (`throughput serve`), so the counting
//! allocator of this process sees only the client's allocations (reqwest's
//! background thread included).
//!
//! `cargo run --release --features throughput --bin throughput [-- N]`

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use picoauth::provider::{Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{
    LocalProvider, LocalProviderConfig, RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET,
};
use picoauth_test_support::alloc::{self, Counting};

/// Counts allocations of every thread (the client's background threads included).
#[global_allocator]
static GLOBAL: Counting = Counting;

fn serve() {
    let p = LocalProvider::start(LocalProviderConfig::default()).expect("start provider");
    let pem = p.ca_cert_pem();
    println!("{}", p.port());
    println!("{}", pem.lines().count());
    print!("{pem}");
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    p.shutdown();
}

struct Stats {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    allocs: f64,
}

fn run(n: usize, mut one: impl FnMut() -> bool) -> Stats {
    for _ in 0..50 {
        assert!(one(), "warm-up exchange failed");
    }
    let mut lat = Vec::with_capacity(n);
    let a0 = alloc::total();
    let t0 = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        assert!(one(), "exchange failed");
        lat.push(t.elapsed());
    }
    let total = t0.elapsed();
    let allocs = alloc::total() - a0;
    lat.sort();
    Stats {
        per_sec: n as f64 / total.as_secs_f64(),
        p50: lat[n / 2],
        p99: lat[n * 99 / 100],
        // `lat` was preallocated, so every counted allocation is the client's.
        allocs: allocs as f64 / n as f64,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("serve") {
        return serve();
    }
    let n: usize = first.and_then(|a| a.parse().ok()).unwrap_or(2000);

    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn provider");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port: u16 = line.trim().parse().expect("port");
    line.clear();
    out.read_line(&mut line).unwrap();
    let pem_lines: usize = line.trim().parse().expect("pem lines");
    let mut pem = String::new();
    for _ in 0..pem_lines {
        out.read_line(&mut pem).unwrap();
    }
    let url = format!("https://127.0.0.1:{port}/oauth/token");

    // picoauth_std::Client: blocking, keeps the connection for reuse.
    let client = picoauth_std::Client::builder()
        .only_ca_pem(pem.as_bytes())
        .expect("CA")
        .build()
        .expect("client");
    let provider = Provider::rfc6749(Endpoint::parse(&url).expect("url"));
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET.into()),
        Grant::client_credentials(),
    );
    let pico = run(
        n,
        || matches!(client.exchange(&req), Ok(o) if o.tokens().is_some()),
    );
    let pico_borrowed = run(n, || {
        matches!(
            client.exchange_with(&req, |o| matches!(
                o,
                picoauth::exchange::Outcome::Token { .. }
            )),
            Ok(true)
        )
    });

    // oauth2-rs 5 with reqwest 0.12 (rustls), trusting the same CA.
    let http = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest");
    let oauth = oauth2::basic::BasicClient::new(oauth2::ClientId::new(RFC6749_CLIENT_ID.into()))
        .set_client_secret(oauth2::ClientSecret::new(RFC6749_CLIENT_SECRET.into()))
        .set_token_uri(oauth2::TokenUrl::new(url.clone()).expect("url"));
    let o2 = run(n, || {
        oauth.exchange_client_credentials().request(&http).is_ok()
    });

    drop(child.stdin.take());
    let _ = child.wait();

    println!("{n} client_credentials exchanges each, TLS over loopback, keep-alive");
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>14}",
        "client", "ex/s", "p50 µs", "p99 µs", "allocs/ex"
    );
    for (name, s) in [
        ("picoauth_std::Client::exchange", &pico),
        ("picoauth_std::Client::exchange_with", &pico_borrowed),
        ("oauth2-rs 5 + reqwest 0.12 blocking", &o2),
    ] {
        println!(
            "{:<36} {:>10.0} {:>10} {:>10} {:>14.1}",
            name,
            s.per_sec,
            s.p50.as_micros(),
            s.p99.as_micros(),
            s.allocs
        );
    }
    println!(
        "ratio picoauth/oauth2-rs: throughput {:.2}x, allocations {:.2}x",
        pico.per_sec / o2.per_sec,
        pico.allocs / o2.allocs
    );
}
