//! `picoauth login` end to end against the built-in local provider, which plays the
//! authorization server; `--browser-follow` makes the command play the browser.

use std::io::{Read as _, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use core::time::Duration;

use picoauth_local_provider::{self as local_provider, LocalProvider, LocalProviderConfig};
use picoauth_test_support::cli::run_argv;
use serde_json::Value;

/// A provider whose clients accept any redirect URI (the login listener's port is
/// chosen at run time).
fn provider() -> LocalProvider {
    let mut clients = local_provider::default_clients();
    for c in &mut clients {
        c.redirect_uris.clear();
    }
    LocalProvider::start(LocalProviderConfig {
        clients,
        ..Default::default()
    })
    .expect("local provider starts")
}

fn ca_file(p: &LocalProvider) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "picoauth-login-{}-{}.pem",
        std::process::id(),
        p.port()
    ));
    std::fs::write(&path, p.ca_cert_pem()).expect("write CA");
    path
}

fn args(p: &LocalProvider, ca: &std::path::Path, provider: &str, rest: &[&str]) -> Vec<String> {
    let base = p.base_url();
    let (authorize, token) = match provider {
        "slack-v2" => ("/oauth/v2/authorize", "/api/oauth.v2.access"),
        "pinterest" => ("/oauth/", "/v5/oauth/token"),
        _ => ("/authorize", "/oauth/token"),
    };
    let mut v: Vec<String> = vec![
        "picoauth".into(),
        "login".into(),
        "--provider".into(),
        provider.into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--authorize-url".into(),
        format!("{base}{authorize}"),
        "--token-url".into(),
        format!("{base}{token}"),
        "--ca-cert".into(),
        ca.display().to_string(),
        "--timeout".into(),
        "20".into(),
    ];
    v.extend(rest.iter().map(|s| (*s).to_owned()));
    v
}

fn token_body(p: &LocalProvider, path: &str) -> String {
    p.request_log()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == path)
        .map(|r| r.body)
        .expect("a token request was made")
}

#[test]
fn slack_login_end_to_end() {
    let p = provider();
    let ca = ca_file(&p);
    std::env::set_var(
        "PICOAUTH_LOGIN_SLACK_SECRET",
        local_provider::SLACK_CLIENT_SECRET,
    );
    let (code, out, err) = run_argv(&args(
        &p,
        &ca,
        "slack-v2",
        &[
            "--client-id",
            local_provider::SLACK_CLIENT_ID,
            "--client-secret-env",
            "PICOAUTH_LOGIN_SLACK_SECRET",
            "--scope",
            "chat:write,channels:read",
            "--browser-follow",
        ],
    ));
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["outcome"], "token");
    assert!(err.contains("/oauth/v2/authorize?client_id=111.222&scope=chat%3Awrite%2Cchannels%3Aread&redirect_uri=http%3A%2F%2F127.0.0.1%3A"), "{err}");
    // The code exchange carried the redirect URI and no verifier (Slack takes no PKCE).
    let body = token_body(&p, "/api/oauth.v2.access");
    assert!(
        body.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{body}"
    );
    assert!(!body.contains("code_verifier"), "{body}");
    // Secrets are redacted unless asked for.
    assert!(!out.contains("xoxb-17653672481"), "{out}");
}

#[test]
fn pinterest_login_end_to_end() {
    let p = provider();
    let ca = ca_file(&p);
    std::env::set_var(
        "PICOAUTH_LOGIN_PINTEREST_SECRET",
        local_provider::PINTEREST_CLIENT_SECRET,
    );
    let (code, out, err) = run_argv(&args(
        &p,
        &ca,
        "pinterest",
        &[
            "--client-id",
            local_provider::PINTEREST_CLIENT_ID,
            "--client-secret-env",
            "PICOAUTH_LOGIN_PINTEREST_SECRET",
            "--scope",
            "boards:read",
            "--scope",
            "pins:read",
            "--browser-follow",
        ],
    ));
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    assert!(
        err.contains("response_type=code&scope=boards%3Aread%2Cpins%3Aread&state="),
        "{err}"
    );
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["outcome"], "token");
    assert!(token_body(&p, "/v5/oauth/token").starts_with("grant_type=authorization_code&code="));
}

#[test]
fn public_oauth2_client_uses_pkce() {
    let p = provider();
    let ca = ca_file(&p);
    let (code, out, err) = run_argv(&args(
        &p,
        &ca,
        "oauth2",
        &[
            "--client-id",
            local_provider::PUBLIC_CLIENT_ID,
            "--scope",
            "read write",
            "--browser-follow",
            "--show-secrets",
        ],
    ));
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    assert!(err.contains("&code_challenge_method=S256"), "{err}");
    assert!(err.contains("&scope=read+write&code_challenge="), "{err}");
    let body = token_body(&p, "/oauth/token");
    assert!(body.contains("&code_verifier="), "{body}");
    assert!(
        body.contains(&format!("client_id={}", local_provider::PUBLIC_CLIENT_ID)),
        "{body}"
    );
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["outcome"], "token");
}

#[test]
fn confidential_oauth2_client() {
    let p = provider();
    let ca = ca_file(&p);
    std::env::set_var(
        "PICOAUTH_LOGIN_RFC_SECRET",
        local_provider::RFC6749_CLIENT_SECRET,
    );
    let (code, out, err) = run_argv(&args(
        &p,
        &ca,
        "oauth2",
        &[
            "--client-id",
            local_provider::RFC6749_CLIENT_ID,
            "--client-secret-env",
            "PICOAUTH_LOGIN_RFC_SECRET",
            "--browser-follow",
        ],
    ));
    assert_eq!(code, 0, "stdout {out}\nstderr {err}");
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap()["outcome"],
        "token"
    );
}

/// A writer the test can read while `login` runs in another thread.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `login` without a browser on a known port and returns the port, its stderr
/// and the thread.
fn start_waiting(
    p: &LocalProvider,
    ca: &std::path::Path,
) -> (u16, Shared, std::thread::JoinHandle<(u8, String)>) {
    let port = free_port();
    let mut a = args(
        p,
        ca,
        "oauth2",
        &["--client-id", local_provider::PUBLIC_CLIENT_ID],
    );
    a[5] = format!("127.0.0.1:{port}");
    let err = Shared::default();
    let mut err2 = err.clone();
    let t = std::thread::spawn(move || {
        let mut out = Vec::new();
        let code = picoauth_cli::run(a, &mut out, &mut err2);
        (code, String::from_utf8(out).unwrap())
    });
    (port, err, t)
}

/// Sends a GET of `target` to the listener (retrying until it is up) and returns the answer.
fn browser_get(port: u16, target: &str) -> String {
    let start = Instant::now();
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("listener never came up: {e}"),
        }
    };
    write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

fn sent_state(err: &Shared) -> String {
    let start = Instant::now();
    loop {
        let text = String::from_utf8(err.0.lock().unwrap().clone()).unwrap();
        if let Some(i) = text.find("&state=") {
            return text[i + 7..].split(['&', '\n']).next().unwrap().to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no URL printed: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn forged_state_is_refused_and_other_paths_ignored() {
    let p = provider();
    let ca = ca_file(&p);
    let (port, err, t) = start_waiting(&p, &ca);
    let state = sent_state(&err);
    let favicon = browser_get(port, "/favicon.ico");
    assert!(favicon.starts_with("HTTP/1.1 404 "), "{favicon}");
    let page = browser_get(port, "/callback?code=stolen&state=forged");
    assert!(page.starts_with("HTTP/1.1 400 "), "{page}");
    assert!(!page.contains("stolen"), "{page}");
    // The forged redirect does not end the login: it keeps waiting for the real one
    // (here a refusal, so that no code is exchanged).
    assert!(!t.is_finished(), "a forged redirect ended the login");
    let page = browser_get(
        port,
        &format!("/callback?error=access_denied&state={state}"),
    );
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    let (code, _) = t.join().unwrap();
    assert_eq!(code, 3);
    let err = String::from_utf8(err.0.lock().unwrap().clone()).unwrap();
    assert!(
        err.contains("refused a redirect (state: OAuth state is malformed); still waiting"),
        "{err}"
    );
    // No token request was made.
    assert!(!p.request_log().iter().any(|r| r.method == "POST"));
}

#[test]
fn denial_is_reported_as_provider_error() {
    let p = provider();
    let ca = ca_file(&p);
    let (port, err, t) = start_waiting(&p, &ca);
    let state = sent_state(&err);
    let page = browser_get(
        port,
        &format!("/callback?error=access_denied&error_description=User+said+no&state={state}"),
    );
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    let (code, out) = t.join().unwrap();
    assert_eq!(code, 3);
    let json: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["outcome"], "authorization_error");
    assert_eq!(json["error"], "access_denied");
    assert_eq!(json["error_description"], "User said no");
}

#[test]
fn waiting_is_bounded() {
    let p = provider();
    let ca = ca_file(&p);
    let mut a = args(
        &p,
        &ca,
        "oauth2",
        &["--client-id", local_provider::PUBLIC_CLIENT_ID],
    );
    let i = a.iter().position(|s| s == "--timeout").unwrap();
    a[i + 1] = "1".into();
    let start = Instant::now();
    let (code, out, err) = run_argv(&a);
    assert_eq!(code, 5, "{out} {err}");
    assert!(err.contains("timed out waiting for the redirect"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn usage_errors() {
    let p = provider();
    let ca = ca_file(&p);
    // Pinterest has no PKCE, so a secret is required.
    let (code, _, err) = run_argv(&args(&p, &ca, "pinterest", &["--client-id", "x"]));
    assert_eq!(code, 2);
    assert!(err.contains("needs --client-secret-env"), "{err}");
    // Only loopback listeners.
    let mut a = args(&p, &ca, "oauth2", &["--client-id", "x"]);
    a[5] = "0.0.0.0:0".into();
    let (code, _, err) = run_argv(&a);
    assert_eq!(code, 2);
    assert!(err.contains("loopback"), "{err}");
}
