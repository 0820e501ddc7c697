//! A token request is sent once: for the blocking and the async client, a server on
//! 127.0.0.1 (plain HTTP and TLS) that reads a request and then resets the connection,
//! or truncates the response body, sees that request exactly once, and the caller gets
//! `Error::OutcomeUnknown`. Each case runs on a fresh connection and on a pooled one
//! (the async client used to resend on a fresh connection when a reused one failed).

use core::time::Duration;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use picoauth::provider::{Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::pki::TestCa;
use picoauth_std::{Client, Error, OwnedOutcome};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Clone, Copy, Debug)]
enum Failure {
    /// Read the request, then close with SO_LINGER 0 (a TCP reset).
    Reset,
    /// Read the request, then send a head declaring 100 body bytes, send 10, close.
    Truncate,
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 58\r\n\r\n{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":9}";

/// A server that answers requests whose code starts with `ok-` and fails the others.
struct Server {
    port: u16,
    /// The `code` of every request read, in order.
    codes: Arc<Mutex<Vec<String>>>,
    ca_pem: Option<String>,
}

impl Server {
    fn start(failure: Failure, tls: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let codes = Arc::new(Mutex::new(Vec::new()));
        let (config, ca_pem) = if tls {
            let (c, p) = tls_config();
            (Some(c), Some(p))
        } else {
            (None, None)
        };
        let log = codes.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                let log = log.clone();
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
                    match config {
                        Some(c) => {
                            let conn = rustls::ServerConnection::new(c).unwrap();
                            let mut s = rustls::StreamOwned::new(conn, tcp);
                            serve(&mut s, failure, &log);
                            // Dropped without close_notify: with SO_LINGER 0, a reset.
                        }
                        None => {
                            let mut s = tcp;
                            serve(&mut s, failure, &log);
                        }
                    }
                });
            }
        });
        Self {
            port,
            codes,
            ca_pem,
        }
    }

    fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}/token", self.port)
    }

    fn builder(&self) -> picoauth_std::ClientBuilder {
        let b = Client::builder().total_timeout(Duration::from_secs(5));
        match &self.ca_pem {
            Some(pem) => b.only_ca_pem(pem.as_bytes()).unwrap(),
            None => b,
        }
    }

    /// The codes read so far, after giving a replay time to arrive.
    fn codes(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(300));
        self.codes.lock().unwrap().clone()
    }
}

/// Serves requests on one connection until one fails or the peer leaves.
fn serve(s: &mut (impl Read + Write), failure: Failure, log: &Mutex<Vec<String>>) {
    loop {
        let Some(code) = read_request(s) else { return };
        log.lock().unwrap().push(code.clone());
        if code.starts_with("ok-") {
            if s.write_all(OK).and_then(|()| s.flush()).is_err() {
                return;
            }
            continue;
        }
        if let Failure::Truncate = failure {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"access_t";
            let _ = s.write_all(head);
            let _ = s.flush();
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    }
}

/// Reads one request (head and `Content-Length` body) and returns its `code`.
fn read_request(s: &mut impl Read) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(at)) = req.parse(&buf) {
            let len: usize = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| core::str::from_utf8(h.value).ok()?.parse().ok())
                .unwrap_or(0);
            if buf.len() >= at + len {
                let body = core::str::from_utf8(&buf[at..at + len]).ok()?;
                let code = body
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("code="))
                    .unwrap_or("")
                    .to_owned();
                return Some(code);
            }
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn tls_config() -> (Arc<rustls::ServerConfig>, String) {
    let ca = TestCa::new("picoauth replay test CA").unwrap();
    let leaf = ca.leaf(&["127.0.0.1"]).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(leaf.der)],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der)),
    )
    .unwrap();
    (Arc::new(config), ca.pem)
}

fn request<'a>(p: &'a Provider<'a>, code: &'a str) -> TokenRequest<'a> {
    TokenRequest::new(
        p,
        ClientAuth::public("client"),
        Grant::authorization_code(code),
    )
}

#[track_caller]
fn unknown(r: Result<OwnedOutcome, Error>) {
    match r {
        Err(Error::OutcomeUnknown(inner)) => {
            assert!(!inner.is_outcome_unknown(), "{inner:?}");
        }
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

fn blocking_case(failure: Failure, tls: bool) {
    let server = Server::start(failure, tls);
    let url = server.url();
    let p = Provider::rfc6749(Endpoint::parse(&url).unwrap());
    // Fresh connection.
    let fresh = server.builder().build().unwrap();
    unknown(fresh.exchange(&request(&p, "single-use-1")));
    // Pooled connection: the first exchange leaves it idle in the pool.
    let pooled = server.builder().build().unwrap();
    assert!(pooled.exchange(&request(&p, "ok-1")).is_ok());
    unknown(pooled.exchange(&request(&p, "single-use-2")));
    assert_eq!(server.codes(), ["single-use-1", "ok-1", "single-use-2"]);
}

fn async_case(failure: Failure, tls: bool) {
    let server = Server::start(failure, tls);
    let url = server.url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let p = Provider::rfc6749(Endpoint::parse(&url).unwrap());
        let fresh = server.builder().build_async().unwrap();
        unknown(fresh.exchange(&request(&p, "single-use-1")).await);
        let pooled = server.builder().build_async().unwrap();
        assert!(pooled.exchange(&request(&p, "ok-1")).await.is_ok());
        unknown(pooled.exchange(&request(&p, "single-use-2")).await);
        // A third exchange on the same client still works (a fresh connection).
        assert!(pooled.exchange(&request(&p, "ok-2")).await.is_ok());
    });
    assert_eq!(
        server.codes(),
        ["single-use-1", "ok-1", "single-use-2", "ok-2"]
    );
}

#[test]
fn blocking_reset_plain() {
    blocking_case(Failure::Reset, false);
}

#[test]
fn blocking_reset_tls() {
    blocking_case(Failure::Reset, true);
}

#[test]
fn blocking_truncated_plain() {
    blocking_case(Failure::Truncate, false);
}

#[test]
fn blocking_truncated_tls() {
    blocking_case(Failure::Truncate, true);
}

#[test]
fn async_reset_plain() {
    async_case(Failure::Reset, false);
}

#[test]
fn async_reset_tls() {
    async_case(Failure::Reset, true);
}

#[test]
fn async_truncated_plain() {
    async_case(Failure::Truncate, false);
}

#[test]
fn async_truncated_tls() {
    async_case(Failure::Truncate, true);
}

/// A TLS failure happens before any request byte leaves: not "outcome unknown".
#[test]
fn tls_refusal_is_not_outcome_unknown() {
    let server = Server::start(Failure::Reset, true);
    let url = server.url();
    let p = Provider::rfc6749(Endpoint::parse(&url).unwrap());
    let (_, other_ca) = tls_config();
    let client = Client::builder()
        .only_ca_pem(other_ca.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    match client.exchange(&request(&p, "single-use-1")) {
        Err(Error::Tls(_)) => {}
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(server.codes().is_empty());
}
