//! HTTPS through an HTTP `CONNECT` proxy, for both std clients, against the built-in
//! provider. The test proxy runs on 127.0.0.1 and refuses any target that is not
//! loopback.

use core::net::SocketAddr;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs as _};
use std::sync::{Arc, Mutex};
use std::thread;

use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::{Client, Error, OwnedOutcome, Proxy, ProxyError};

/// What the proxy was asked.
#[derive(Default)]
struct Seen {
    connects: Vec<String>,
    authorizations: Vec<Option<String>>,
}

/// A CONNECT proxy; `answer` is the status it gives (200 opens the tunnel), and
/// `redirect` (when set) is where it really connects, whatever was asked.
fn start_proxy(answer: u16, redirect: Option<SocketAddr>) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { return };
            let s = s.clone();
            thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or_default()
                    .to_owned();
                let auth = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
                    .map(str::to_owned);
                {
                    let mut seen = s.lock().unwrap();
                    seen.connects.push(target.clone());
                    seen.authorizations.push(auth);
                }
                if answer != 200 {
                    let _ = write!(client, "HTTP/1.1 {answer} No\r\nContent-Length: 0\r\n\r\n");
                    return;
                }
                let dests: Vec<SocketAddr> = match redirect {
                    Some(r) => vec![r],
                    None => target
                        .to_socket_addrs()
                        .map(Iterator::collect)
                        .unwrap_or_default(),
                };
                // The test proxy only ever reaches loopback.
                let dests: Vec<SocketAddr> =
                    dests.into_iter().filter(|d| d.ip().is_loopback()).collect();
                let Ok(upstream) = TcpStream::connect(&dests[..]) else {
                    return;
                };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                pipe(client, upstream);
            });
        }
    });
    (addr, seen)
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let t = thread::spawn(move || {
        let (mut a, mut b) = (a, b);
        let _ = std::io::copy(&mut a, &mut b);
        let _ = b.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut b2, &mut a2);
    let _ = a2.shutdown(Shutdown::Write);
    let _ = t.join();
}

fn provider() -> LocalProvider {
    LocalProvider::start(LocalProviderConfig::default()).unwrap()
}

fn slack_exchange(lp_: &LocalProvider, client: &Client) -> Result<OwnedOutcome, Error> {
    let url = lp_.url("/api/oauth.v2.access");
    let p = SLACK_V2.with_endpoint(Endpoint::parse(&url).unwrap());
    let code = lp_.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    client.exchange(&TokenRequest::new(
        &p,
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        Grant::authorization_code(&code),
    ))
}

fn host_of(lp_: &LocalProvider) -> String {
    let url = lp_.url("/");
    let ep = Endpoint::parse(&url).unwrap();
    ep.host_name().to_owned()
}

#[test]
fn blocking_client_tunnels_with_credentials_and_checks_the_provider_certificate() {
    let lp_ = provider();
    let (proxy_addr, seen) = start_proxy(200, None);
    let proxy = Proxy::parse(&format!("http://user:p%40ss@{proxy_addr}")).unwrap();
    let client = Client::builder()
        .only_ca_pem(lp_.ca_cert_pem().as_bytes())
        .unwrap()
        .proxy(proxy)
        .build()
        .unwrap();
    let o = slack_exchange(&lp_, &client).unwrap();
    assert!(
        matches!(o, OwnedOutcome::Token { status: 200, .. }),
        "{o:?}"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.connects,
        [format!("{}:{}", host_of(&lp_), lp_.addr().port())]
    );
    // base64("user:p@ss")
    assert_eq!(seen.authorizations, [Some("Basic dXNlcjpwQHNz".to_owned())]);
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    let lp_ = provider();
    let (proxy_addr, seen) = start_proxy(200, None);
    let proxy = Proxy::parse(&format!("http://{proxy_addr}"))
        .unwrap()
        .with_no_proxy(&format!("example.com,{}", host_of(&lp_)));
    let client = Client::builder()
        .only_ca_pem(lp_.ca_cert_pem().as_bytes())
        .unwrap()
        .proxy(proxy)
        .build()
        .unwrap();
    let o = slack_exchange(&lp_, &client).unwrap();
    assert!(matches!(o, OwnedOutcome::Token { .. }), "{o:?}");
    assert!(seen.lock().unwrap().connects.is_empty());
}

#[test]
fn a_refusing_proxy_is_a_typed_error_and_nothing_is_sent() {
    let lp_ = provider();
    let (proxy_addr, seen) = start_proxy(407, None);
    let client = Client::builder()
        .only_ca_pem(lp_.ca_cert_pem().as_bytes())
        .unwrap()
        .proxy(Proxy::parse(&format!("http://{proxy_addr}")).unwrap())
        .build()
        .unwrap();
    let e = slack_exchange(&lp_, &client).unwrap_err();
    assert!(matches!(e, Error::Proxy(ProxyError::Refused(407))), "{e:?}");
    assert_eq!(seen.lock().unwrap().connects.len(), 1);
}

#[test]
fn a_proxy_that_swaps_the_server_is_caught_by_the_certificate_check() {
    let lp_ = provider();
    let impostor = provider(); // its own CA, not trusted by the client
    let (proxy_addr, _seen) = start_proxy(200, Some(impostor.addr()));
    let client = Client::builder()
        .only_ca_pem(lp_.ca_cert_pem().as_bytes())
        .unwrap()
        .proxy(Proxy::parse(&format!("http://{proxy_addr}")).unwrap())
        .build()
        .unwrap();
    let e = slack_exchange(&lp_, &client).unwrap_err();
    assert!(matches!(e, Error::Tls(_)), "{e:?}");
}

#[test]
fn async_client_tunnels_too() {
    let lp_ = provider();
    let (proxy_addr, seen) = start_proxy(200, None);
    let client = Client::builder()
        .only_ca_pem(lp_.ca_cert_pem().as_bytes())
        .unwrap()
        .proxy(Proxy::parse(&format!("http://{proxy_addr}")).unwrap())
        .build_async()
        .unwrap();
    let url = lp_.url("/api/oauth.v2.access");
    let p = SLACK_V2.with_endpoint(Endpoint::parse(&url).unwrap());
    let code = lp_.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    let req = TokenRequest::new(
        &p,
        ClientAuth::basic(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into()),
        Grant::authorization_code(&code),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let o = rt.block_on(client.exchange(&req)).unwrap();
    assert!(
        matches!(o, OwnedOutcome::Token { status: 200, .. }),
        "{o:?}"
    );
    assert_eq!(seen.lock().unwrap().connects.len(), 1);
}

#[test]
fn the_environment_names_the_proxy_only_when_asked() {
    // The only test in this binary that touches the environment.
    std::env::set_var("HTTPS_PROXY", "http://127.0.0.1:3128");
    std::env::set_var("NO_PROXY", "localhost,.internal");
    let p = Proxy::from_env().unwrap().unwrap();
    assert_eq!(p.addr(), ("127.0.0.1", 3128));
    assert!(!p.applies_to("a.internal") && p.applies_to("slack.com"));
    std::env::set_var("HTTPS_PROXY", "socks5://127.0.0.1:1080");
    assert_eq!(Proxy::from_env().unwrap_err(), ProxyError::InvalidUrl);
    std::env::remove_var("HTTPS_PROXY");
    std::env::remove_var("NO_PROXY");
    assert!(Proxy::from_env().unwrap().is_none());
}
