//! The local provider driven by a plain rustls client with hand-written HTTP/1.1 bytes
//! (deliberately not picoauth), trusting only the provider's CA.

use core::time::Duration;
use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use picoauth_local_provider::{
    AuthMethod, LeafValidity, LocalProvider, LocalProviderConfig, ProviderKind, TlsVersions,
    APPAUTH_CLIENT_ID, APPAUTH_CLIENT_SECRET, PINTEREST_CLIENT_ID, PINTEREST_CLIENT_SECRET,
    PUBLIC_CLIENT_ID, RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET, SLACK_CLIENT_ID,
    SLACK_CLIENT_SECRET, SLACK_ROTATING_CLIENT_ID, SLACK_ROTATING_CLIENT_SECRET, SPECIAL_CLIENT_ID,
    SPECIAL_CLIENT_SECRET,
};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;

const IO_TIMEOUT: Duration = Duration::from_secs(5);
const TEST_TIMEOUT: Duration = Duration::from_secs(30);
const FORM: &str = "application/x-www-form-urlencoded";
const REDIRECT: &str = "https://client.example.com/cb";
/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Runs `f` on its own thread and fails the test if it takes longer than [`TEST_TIMEOUT`].
fn bounded(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(TEST_TIMEOUT) {
        Ok(()) => handle.join().expect("test thread"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: re-raise its panic.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("test exceeded {TEST_TIMEOUT:?}"),
    }
}

fn start() -> LocalProvider {
    LocalProvider::start(LocalProviderConfig::default()).expect("provider starts")
}

fn client_config(
    provider: &LocalProvider,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(provider.ca_cert_der()))
        .expect("CA parses");
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

struct Conn {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    /// Bytes read past the end of the previous response.
    buf: Vec<u8>,
}

fn connect_as(
    provider: &LocalProvider,
    name: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> io::Result<Conn> {
    let tcp = TcpStream::connect(provider.addr())?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let server_name = ServerName::try_from(name.to_owned()).expect("server name");
    let conn = rustls::ClientConnection::new(client_config(provider, versions), server_name)
        .map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Drive the handshake now so certificate errors surface here.
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Conn {
        tls,
        buf: Vec::new(),
    })
}

fn connect(provider: &LocalProvider) -> Conn {
    connect_as(provider, "localhost", rustls::DEFAULT_VERSIONS).expect("TLS connects")
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    /// Decoded body.
    body: Vec<u8>,
    /// Number of chunks, when the body was chunked.
    chunks: Option<usize>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        core::str::from_utf8(&self.body).expect("utf-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    fn send(&mut self, raw: &[u8]) {
        self.tls.write_all(raw).expect("write request");
        self.tls.flush().expect("flush");
    }

    /// Reads more bytes; `false` at a clean end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.tls.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n > 0)
    }

    fn read_until(&mut self, needle: &[u8]) -> io::Result<usize> {
        loop {
            if let Some(pos) = find(&self.buf, needle) {
                return Ok(pos);
            }
            if !self.fill()? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one response, framed by Content-Length, chunked encoding or end of stream.
    fn response(&mut self) -> io::Result<Resp> {
        let end = self.read_until(b"\r\n\r\n")?;
        let head: Vec<u8> = self.buf.drain(..end + 4).collect();
        let head = String::from_utf8(head).expect("ASCII head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
            chunks: None,
        };
        if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            let mut count = 0;
            loop {
                let line_end = self.read_until(b"\r\n")?;
                let line: Vec<u8> = self.buf.drain(..line_end + 2).collect();
                let size_text = core::str::from_utf8(&line[..line_end]).expect("chunk size");
                let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                    .expect("hex chunk size");
                if size == 0 {
                    self.read_until(b"\r\n")?;
                    self.buf.drain(..2);
                    break;
                }
                count += 1;
                let data = self.take(size + 2)?;
                resp.body.extend_from_slice(&data[..size]);
            }
            resp.chunks = Some(count);
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().expect("content-length");
            resp.body = self.take(len)?;
        } else if status != 204 && status != 304 && !(100..200).contains(&status) {
            while self.fill()? {}
            resp.body = core::mem::take(&mut self.buf);
        }
        Ok(resp)
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    raw.into_bytes()
}

/// One request on a fresh connection.
fn exchange(
    provider: &LocalProvider,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut conn = connect(provider);
    conn.send(&request(method, path, headers, body));
    conn.response().expect("response")
}

fn post_form(provider: &LocalProvider, path: &str, auth: Option<&str>, body: &str) -> Resp {
    let mut headers = vec![("Content-Type", FORM)];
    if let Some(auth) = auth {
        headers.push(("Authorization", auth));
    }
    exchange(provider, "POST", path, &headers, body)
}

/// `Basic base64(enc(id):enc(secret))` with RFC 6749 §2.3.1 form encoding; `space` is what a
/// space becomes (`+` or `%20`).
fn basic_with(id: &str, secret: &str, space: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // byte_serialize writes a space as `+` and a literal `+` as `%2B`.
    let pair = format!("{}:{}", enc(id), enc(secret)).replace('+', space);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn basic(id: &str, secret: &str) -> String {
    basic_with(id, secret, "%20")
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[test]
fn slack_v2_code_exchange_and_single_use() {
    bounded(|| {
        let p = start();
        let code = p.issue_code(SLACK_CLIENT_ID, Some(REDIRECT), None, None);
        let auth = basic(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET);
        let body = form(&[("code", &code), ("redirect_uri", REDIRECT)]);
        let r = post_form(&p, "/api/oauth.v2.access", Some(&auth), &body);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert!(
            r.text().starts_with(r#"{"ok":true,"access_token":"xoxb-"#),
            "{}",
            r.text()
        );
        assert!(r.text().contains(r"https:\/\/hooks.slack.com\/services\/"));
        let v = r.json();
        assert_eq!(v["token_type"], "bot");
        assert_eq!(v["scope"], "commands,incoming-webhook");
        assert!(v["enterprise"].is_null());
        assert_eq!(v["is_enterprise_install"], false);
        assert!(v["team"]["id"].is_string());
        assert!(v["authed_user"]["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxp-"));
        assert!(v.get("refresh_token").is_none());
        assert!(v["incoming_webhook"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://hooks.slack.com/services/"));

        // Single use.
        let again = post_form(&p, "/api/oauth.v2.access", Some(&auth), &body);
        assert_eq!(again.status, 200);
        assert_eq!(again.text(), r#"{"ok":false,"error":"invalid_code"}"#);
    });
}

#[test]
fn slack_v2_errors_are_http_200() {
    bounded(|| {
        let p = start();
        let code = p.issue_code(SLACK_CLIENT_ID, Some(REDIRECT), None, None);
        let body = form(&[("code", &code), ("redirect_uri", REDIRECT)]);
        let bad = basic(SLACK_CLIENT_ID, "wrong");
        let r = post_form(&p, "/api/oauth.v2.access", Some(&bad), &body);
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["error"], "bad_client_secret");
        assert_eq!(r.json()["ok"], false);

        let unknown = basic("999.999", "x");
        let r = post_form(&p, "/api/oauth.v2.access", Some(&unknown), &body);
        assert_eq!(r.json()["error"], "invalid_client_id");

        let good = basic(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET);
        let wrong_redirect = form(&[("code", &code), ("redirect_uri", "https://evil.example/")]);
        let r = post_form(&p, "/api/oauth.v2.access", Some(&good), &wrong_redirect);
        assert_eq!(r.json()["error"], "bad_redirect_uri");

        let r = post_form(
            &p,
            "/api/oauth.v2.access",
            Some(&good),
            "grant_type=password&code=x",
        );
        assert_eq!(r.json()["error"], "invalid_grant_type");

        let r = exchange(
            &p,
            "POST",
            "/api/oauth.v2.access",
            &[("Authorization", &good)],
            "code=x",
        );
        assert_eq!(r.json()["error"], "missing_post_type");
        let r = exchange(
            &p,
            "POST",
            "/api/oauth.v2.access",
            &[
                ("Authorization", &good),
                ("Content-Type", "application/json"),
            ],
            r#"{"code":"x"}"#,
        );
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["error"], "invalid_post_type");
    });
}

#[test]
fn slack_v2_rotation() {
    bounded(|| {
        let p = start();
        let auth = basic(SLACK_ROTATING_CLIENT_ID, SLACK_ROTATING_CLIENT_SECRET);
        let code = p.issue_code(SLACK_ROTATING_CLIENT_ID, None, None, Some("chat:write"));
        let r = post_form(
            &p,
            "/api/oauth.v2.access",
            Some(&auth),
            &form(&[("code", &code)]),
        );
        let v = r.json();
        assert!(v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxe.xoxb-"));
        assert_eq!(v["expires_in"], 43200);
        let first = v["refresh_token"].as_str().unwrap().to_owned();
        assert!(first.starts_with("xoxe-1-"));

        let refresh = form(&[("grant_type", "refresh_token"), ("refresh_token", &first)]);
        let r = post_form(&p, "/api/oauth.v2.access", Some(&auth), &refresh);
        let v = r.json();
        assert_eq!(v["ok"], true);
        assert_eq!(v["scope"], "chat:write");
        assert_eq!(v["expires_in"], 43200);
        assert!(v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("xoxe.xoxb-"));
        let second = v["refresh_token"].as_str().unwrap();
        assert!(second.starts_with("xoxe-1-"));
        assert_ne!(second, first);
        assert!(p.refresh_token_is_live(second));
        assert!(!p.refresh_token_is_live(&first));

        // The old refresh token died.
        let r = post_form(&p, "/api/oauth.v2.access", Some(&auth), &refresh);
        assert_eq!(r.text(), r#"{"ok":false,"error":"invalid_refresh_token"}"#);
    });
}

#[test]
fn slack_ratelimited_is_429_with_retry_after() {
    bounded(|| {
        let p = start();
        let auth = basic(SLACK_CLIENT_ID, SLACK_CLIENT_SECRET);
        let r = post_form(&p, "/api/oauth.v2.access", Some(&auth), "code=ratelimited");
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.text(), r#"{"ok":false,"error":"ratelimited"}"#);
        let r = post_form(
            &p,
            "/api/oauth.access",
            None,
            "client_id=ratelimited&client_secret=x&code=abc",
        );
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
    });
}

#[test]
fn slack_v1_oauth_access() {
    bounded(|| {
        let p = start();
        let code = p.issue_code(SLACK_CLIENT_ID, None, None, Some("groups:write"));
        let body = form(&[
            ("client_id", SLACK_CLIENT_ID),
            ("client_secret", SLACK_CLIENT_SECRET),
            ("code", &code),
        ]);
        let r = post_form(&p, "/api/oauth.access", None, &body);
        assert_eq!(r.status, 200);
        let v = r.json();
        assert!(v.get("ok").is_none(), "legacy success has no ok: {v}");
        assert!(v["access_token"].as_str().unwrap().starts_with("xoxp-"));
        assert_eq!(v["scope"], "groups:write");
        assert!(v["enterprise_id"].is_null());
        assert!(v["team_id"].is_string() && v["team_name"].is_string());

        let r = post_form(&p, "/api/oauth.access", None, &body);
        assert_eq!(r.text(), r#"{"ok":false,"error":"invalid_code"}"#);
        assert_eq!(p.request_log()[0].auth, AuthMethod::Body);
    });
}

#[test]
fn pinterest_code_grant_is_chunked() {
    bounded(|| {
        let p = start();
        let redirect = "http://localhost:8085/";
        let code = p.issue_code(
            PINTEREST_CLIENT_ID,
            Some(redirect),
            None,
            Some("boards:read,pins:read"),
        );
        let auth = basic(PINTEREST_CLIENT_ID, PINTEREST_CLIENT_SECRET);
        assert_eq!(auth, "Basic dGVzdC1hcHAtaWQ6dGVzdC1hcHAtc2VjcmV0");
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
        ]);
        let r = post_form(&p, "/v5/oauth/token", Some(&auth), &body);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert!(r.header("content-length").is_none());
        assert!(r.chunks.unwrap() > 1, "chunks: {:?}", r.chunks);
        let v = r.json();
        assert!(v["access_token"].as_str().unwrap().starts_with("pina_"));
        assert!(v["refresh_token"].as_str().unwrap().starts_with("pinr_"));
        assert_eq!(v["response_type"], "authorization_code");
        assert_eq!(v["token_type"], "bearer");
        assert_eq!(v["expires_in"], 2_592_000);
        assert_eq!(v["scope"], "boards:read pins:read");

        // Errors are chunked too: body credentials are refused with code 2.
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", PINTEREST_CLIENT_ID),
            ("client_secret", PINTEREST_CLIENT_SECRET),
        ]);
        let r = post_form(&p, "/v5/oauth/token", None, &body);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert_eq!(r.json()["code"], 2);
        assert_eq!(r.json()["message"], "Authentication failed.");
    });
}

#[test]
fn pinterest_refresh_and_client_credentials() {
    bounded(|| {
        let p = start();
        let auth = basic(PINTEREST_CLIENT_ID, PINTEREST_CLIENT_SECRET);
        let rt = p.issue_refresh_token(ProviderKind::Pinterest, PINTEREST_CLIENT_ID, None);
        let plain = form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
        let r = post_form(&p, "/v5/oauth/token", Some(&auth), &plain);
        let v = r.json();
        assert_eq!(r.status, 200);
        assert_eq!(v["response_type"], "refresh_token");
        assert!(v.get("refresh_token").is_none());
        assert!(p.refresh_token_is_live(&rt));

        let continuous = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("continuous_refresh", "true"),
        ]);
        let v = post_form(&p, "/v5/oauth/token", Some(&auth), &continuous).json();
        let new = v["refresh_token"].as_str().unwrap();
        assert!(new.starts_with("pinr_"));
        assert_eq!(v["refresh_token_expires_in"], 5_184_000);
        assert!(v["refresh_token_expires_at"].as_u64().unwrap() > 1_700_000_000);
        assert!(!p.refresh_token_is_live(&rt));

        let cc = "grant_type=client_credentials&scope=user_accounts%3Aread%2Cpins%3Aread";
        let r = post_form(&p, "/v5/oauth/token", Some(&auth), cc);
        let v = r.json();
        assert!(v["access_token"].as_str().unwrap().starts_with("pinc_"));
        assert!(v.get("refresh_token").is_none());
        assert_eq!(v["response_type"], "client_credentials");
        assert_eq!(v["scope"], "user_accounts:read pins:read");

        let r = post_form(&p, "/v5/oauth/token", Some(&auth), "scope=x");
        assert_eq!(r.status, 400);
        assert!(r.json()["code"].is_u64());
    });
}

#[test]
fn rfc6749_code_with_pkce_refresh_and_errors() {
    bounded(|| {
        let p = start();
        let auth = basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET);
        assert_eq!(auth, "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW");
        let code = p.issue_code(
            RFC6749_CLIENT_ID,
            Some(REDIRECT),
            Some(CHALLENGE),
            Some("read write"),
        );
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        let r = post_form(&p, "/oauth/token", Some(&auth), &body);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let v = r.json();
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["scope"], "read write");
        let rt = v["refresh_token"].as_str().unwrap().to_owned();

        // A wider scope on refresh is refused; a narrower one works and rotates.
        let wider = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "read admin"),
        ]);
        let r = post_form(&p, "/oauth/token", Some(&auth), &wider);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "invalid_scope");
        let narrower = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "read"),
        ]);
        let v = post_form(&p, "/oauth/token", Some(&auth), &narrower).json();
        assert_eq!(v["scope"], "read");
        assert_ne!(v["refresh_token"].as_str().unwrap(), rt);
        let r = post_form(&p, "/oauth/token", Some(&auth), &narrower);
        assert_eq!(r.json()["error"], "invalid_grant");

        // Wrong secret with Basic: 401 and a challenge.
        let r = post_form(
            &p,
            "/oauth/token",
            Some(&basic(RFC6749_CLIENT_ID, "nope")),
            "grant_type=client_credentials",
        );
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"], "invalid_client");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Basic realm="picoauth-local""#)
        );

        // Basic and body credentials at once.
        let both = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", RFC6749_CLIENT_ID),
            ("client_secret", RFC6749_CLIENT_SECRET),
        ]);
        let r = post_form(&p, "/oauth/token", Some(&auth), &both);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "invalid_request");
        assert_eq!(p.request_log().last().unwrap().auth, AuthMethod::Both);

        let r = post_form(&p, "/oauth/token", Some(&auth), "grant_type=password");
        assert_eq!(r.json()["error"], "unsupported_grant_type");
        let r = exchange(&p, "GET", "/oauth/token", &[("Authorization", &auth)], "");
        assert_eq!(r.status, 405);
        let r = exchange(
            &p,
            "POST",
            "/oauth/token",
            &[("Authorization", &auth), ("Content-Type", "text/plain")],
            "grant_type=client_credentials",
        );
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "invalid_request");
    });
}

#[test]
fn pkce_mismatch_and_public_client() {
    bounded(|| {
        let p = start();
        let code = p.issue_code(PUBLIC_CLIENT_ID, Some(REDIRECT), Some(CHALLENGE), None);
        let wrong = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", PUBLIC_CLIENT_ID),
            (
                "code_verifier",
                "not-the-verifier-not-the-verifier-not-the-verifier",
            ),
        ]);
        let r = post_form(&p, "/oauth/token", None, &wrong);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "invalid_grant");

        let code = p.issue_code(PUBLIC_CLIENT_ID, Some(REDIRECT), Some(CHALLENGE), None);
        let right = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", PUBLIC_CLIENT_ID),
            ("code_verifier", VERIFIER),
        ]);
        let r = post_form(&p, "/oauth/token", None, &right);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            p.request_log().last().unwrap().auth,
            AuthMethod::PublicClient
        );

        // A public client without PKCE is refused.
        let code = p.issue_code(PUBLIC_CLIENT_ID, Some(REDIRECT), None, None);
        let no_pkce = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", PUBLIC_CLIENT_ID),
        ]);
        let r = post_form(&p, "/oauth/token", None, &no_pkce);
        assert_eq!(r.json()["error"], "invalid_grant");
    });
}

#[test]
fn basic_with_special_characters_plus_and_percent20() {
    bounded(|| {
        let p = start();
        // The exact header values from tests/fixtures/SOURCES.md (AppAuth-Android #337).
        let plus = "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==";
        let pct = "Basic MVBwRyUyRlElMjAxOnolMkZ0WjlWd0ZacUFwbUlRJTJCWkgxSTVwTGslMkZ1QjR1ZCUzQVgyJTJGOGJMJTJCd2ZGVHQxckZ3JTNE";
        assert_eq!(
            basic_with(APPAUTH_CLIENT_ID, APPAUTH_CLIENT_SECRET, "+"),
            plus
        );
        assert_eq!(
            basic_with(APPAUTH_CLIENT_ID, APPAUTH_CLIENT_SECRET, "%20"),
            pct
        );
        for auth in [plus, pct] {
            let r = post_form(
                &p,
                "/oauth/token",
                Some(auth),
                "grant_type=client_credentials",
            );
            assert_eq!(r.status, 200, "{auth}: {}", r.text());
        }
        for space in ["+", "%20"] {
            let auth = basic_with(SPECIAL_CLIENT_ID, SPECIAL_CLIENT_SECRET, space);
            let r = post_form(
                &p,
                "/oauth/token",
                Some(&auth),
                "grant_type=client_credentials",
            );
            assert_eq!(r.status, 200, "{auth}: {}", r.text());
        }
        // Unencoded credentials are not RFC 6749 §2.3.1 and fail for this client.
        let raw = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{SPECIAL_CLIENT_ID}:{SPECIAL_CLIENT_SECRET}"))
        );
        let r = post_form(
            &p,
            "/oauth/token",
            Some(&raw),
            "grant_type=client_credentials",
        );
        assert_eq!(r.status, 401);
    });
}

#[test]
fn authorize_redirects_with_code_and_state() {
    bounded(|| {
        let p = start();
        let query = form(&[
            ("response_type", "code"),
            ("client_id", RFC6749_CLIENT_ID),
            ("state", "xyz"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        let r = exchange(&p, "GET", &format!("/authorize?{query}"), &[], "");
        assert_eq!(r.status, 302);
        let location = r.header("location").unwrap();
        let rest = location
            .strip_prefix("https://client.example.com/cb?")
            .expect(location);
        let params: Vec<(String, String)> = form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(params[0].0, "code");
        assert_eq!(params[1], ("state".into(), "xyz".into()));
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &params[0].1),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        let auth = basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET);
        assert_eq!(
            post_form(&p, "/oauth/token", Some(&auth), &body).status,
            200
        );

        // Slack's authorize path needs no response_type.
        let q = form(&[
            ("client_id", SLACK_CLIENT_ID),
            ("scope", "commands"),
            ("state", "s1"),
            ("redirect_uri", REDIRECT),
        ]);
        let r = exchange(&p, "GET", &format!("/oauth/v2/authorize?{q}"), &[], "");
        assert_eq!(r.status, 302);
        assert!(r.header("location").unwrap().contains("state=s1"));

        // Unknown client: no redirect.
        let r = exchange(&p, "GET", "/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb", &[], "");
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_none());
        assert_eq!(r.json()["error"], "invalid_client");
        // Bad response_type: redirect with error.
        let r = exchange(&p, "GET", "/authorize?response_type=token&client_id=s6BhdRkqt3&state=q&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb", &[], "");
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("location"),
            Some("https://client.example.com/cb?error=unsupported_response_type&state=q")
        );
    });
}

#[test]
fn expired_and_wrong_name_certificates_are_refused() {
    bounded(|| {
        let expired = LocalProvider::start(LocalProviderConfig::with_expired_leaf()).unwrap();
        let err = connect_as(&expired, "localhost", rustls::DEFAULT_VERSIONS)
            .err()
            .expect("refused");
        let tls = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .expect("a rustls error");
        assert!(
            matches!(
                tls,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Expired
                        | rustls::CertificateError::ExpiredContext { .. }
                )
            ),
            "{tls:?}"
        );

        let wrong = LocalProvider::start(LocalProviderConfig::with_wrong_leaf_name()).unwrap();
        let err = connect_as(&wrong, "localhost", rustls::DEFAULT_VERSIONS)
            .err()
            .expect("refused");
        let tls = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .expect("a rustls error");
        assert!(
            matches!(
                tls,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. }
                )
            ),
            "{tls:?}"
        );
        let not_yet = LocalProvider::start(LocalProviderConfig {
            leaf_validity: LeafValidity::NotYetValid,
            ..LocalProviderConfig::default()
        })
        .unwrap();
        assert!(connect_as(&not_yet, "localhost", rustls::DEFAULT_VERSIONS).is_err());
        // The default leaf is also valid for the IP addresses.
        let ok = start();
        assert!(connect_as(&ok, "127.0.0.1", rustls::DEFAULT_VERSIONS).is_ok());
        assert!(connect_as(&ok, "::1", rustls::DEFAULT_VERSIONS).is_ok());
    });
}

#[test]
fn tls12_only_and_tls13_work() {
    bounded(|| {
        let p = LocalProvider::start(LocalProviderConfig {
            tls_versions: TlsVersions::Tls12Only,
            ..LocalProviderConfig::default()
        })
        .unwrap();
        let conn = connect_as(&p, "localhost", &[&rustls::version::TLS12]).unwrap();
        assert_eq!(
            conn.tls.conn.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        assert!(connect_as(&p, "localhost", &[&rustls::version::TLS13]).is_err());
        let q = start();
        let conn = connect_as(&q, "localhost", &[&rustls::version::TLS13]).unwrap();
        assert_eq!(
            conn.tls.conn.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
    });
}

#[test]
fn keep_alive_serves_several_requests_and_counts_them() {
    bounded(|| {
        let p = start();
        let auth = basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET);
        let mut conn = connect(&p);
        for _ in 0..3 {
            conn.send(&request(
                "POST",
                "/oauth/token",
                &[("Content-Type", FORM), ("Authorization", &auth)],
                "grant_type=client_credentials",
            ));
            let r = conn.response().unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(r.json()["scope"], "read");
        }
        assert_eq!(p.requests_served(), 3);
        let log = p.request_log();
        assert_eq!(log.len(), 3);
        assert!(log
            .iter()
            .all(|r| r.path == "/oauth/token" && r.auth == AuthMethod::Basic));
        assert_eq!(log[0].body, "grant_type=client_credentials");
        assert!(
            !format!("{:?}", log[0]).contains("client_credentials"),
            "Debug redacts the body"
        );
    });
}

#[test]
fn misbehaviour_hooks() {
    bounded(|| {
        let p = start();
        let r = exchange(&p, "POST", "/test/oversized", &[], "");
        assert_eq!(r.status, 200);
        assert!(r.body.len() > 1024 * 1024);
        assert_eq!(r.json()["access_token"], "oversized");

        let r = exchange(&p, "POST", "/test/not-json", &[], "");
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(serde_json::from_slice::<Value>(&r.body).is_err());

        let r = exchange(&p, "GET", "/test/empty-429", &[], "");
        assert_eq!(r.status, 429);
        assert!(r.body.is_empty());
        assert!(r.header("retry-after").is_none());

        // Truncated: 100 declared, 10 sent, then the end of the stream.
        let mut conn = connect(&p);
        conn.send(&request(
            "POST",
            "/test/truncated",
            &[("Content-Type", FORM)],
            "a=b",
        ));
        let err = conn.response().expect_err("body cut short");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let text = String::from_utf8_lossy(&conn.buf).into_owned();
        assert!(
            text.starts_with("{\"access_t") && text.len() == 10,
            "{text:?}"
        );

        // Abrupt truncation: no close_notify, which rustls reports as an unexpected EOF error.
        let mut conn = connect(&p);
        conn.send(&request("GET", "/test/truncated-abrupt", &[], ""));
        let err = conn.response().expect_err("body cut short");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(conn.buf.len(), 10);

        // Slow chunked: many chunks, arriving over time, adding up to a valid body.
        let started = Instant::now();
        let r = exchange(&p, "POST", "/test/slow-chunked", &[], "");
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert_eq!(r.chunks, Some(8));
        assert_eq!(r.json()["access_token"], "slow-but-complete");

        // Silent: nothing comes back before our read timeout.
        let mut conn = connect(&p);
        conn.tls
            .sock
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        conn.send(&request("POST", "/test/silent", &[], ""));
        let err = conn.response().expect_err("no answer");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err:?}"
        );
    });
}

#[test]
fn shutdown_is_bounded_and_leaves_nothing_running() {
    bounded(|| {
        let p = start();
        let addr = p.addr();
        // An idle kept-alive connection and a request that is never answered.
        let mut idle = connect(&p);
        idle.send(&request("GET", "/test/empty-429", &[], ""));
        assert_eq!(idle.response().unwrap().status, 429);
        let mut silent = connect(&p);
        silent.send(&request("POST", "/test/silent", &[], ""));
        // Let the silent request reach the server.
        let deadline = Instant::now() + IO_TIMEOUT;
        while p.requests_served() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(p.requests_served(), 2);

        let started = Instant::now();
        p.shutdown();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // The listener is gone and the open connections were closed.
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
        let mut byte = [0u8; 1];
        assert!(matches!(idle.tls.read(&mut byte), Ok(0) | Err(_)));
        assert!(matches!(silent.tls.read(&mut byte), Ok(0) | Err(_)));
    });
}

#[test]
fn oversized_request_body_and_unknown_path() {
    bounded(|| {
        let p = start();
        let big = "a".repeat(70 * 1024);
        let r = post_form(&p, "/oauth/token", None, &big);
        assert_eq!(r.status, 413);
        let r = post_form(&p, "/no/such/endpoint", None, "a=b");
        assert_eq!(r.status, 404);
        assert_eq!(p.requests_served(), 2);
    });
}

#[test]
fn code_reuse_revokes_its_refresh_token() {
    bounded(|| {
        let p = start();
        let auth = basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET);
        let code = p.issue_code(RFC6749_CLIENT_ID, None, None, None);
        let body = form(&[("grant_type", "authorization_code"), ("code", &code)]);
        let v = post_form(&p, "/oauth/token", Some(&auth), &body).json();
        let rt = v["refresh_token"].as_str().unwrap().to_owned();
        assert!(p.refresh_token_is_live(&rt));
        let r = post_form(&p, "/oauth/token", Some(&auth), &body);
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "invalid_grant");
        assert!(!p.refresh_token_is_live(&rt));
    });
}

#[test]
fn provider_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LocalProvider>();
    let p = start();
    assert!(p.base_url().starts_with("https://localhost:"));
    assert_eq!(
        p.url("/oauth/token"),
        format!("https://localhost:{}/oauth/token", p.port())
    );
    assert!(p.ca_cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn starts_and_drops_inside_a_tokio_runtime() {
    let p = tokio::time::timeout(TEST_TIMEOUT, async {
        LocalProvider::start(LocalProviderConfig::default()).unwrap()
    })
    .await
    .unwrap();
    let p = Arc::new(p);
    let q = Arc::clone(&p);
    let status = tokio::time::timeout(
        TEST_TIMEOUT,
        tokio::task::spawn_blocking(move || {
            let auth = basic(RFC6749_CLIENT_ID, RFC6749_CLIENT_SECRET);
            post_form(
                &q,
                "/oauth/token",
                Some(&auth),
                "grant_type=client_credentials",
            )
            .status
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(status, 200);
    let p = Arc::into_inner(p).expect("sole owner");
    let started = Instant::now();
    drop(p);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn consent_page_allow_and_deny() {
    bounded(|| {
        let p = LocalProvider::start(LocalProviderConfig {
            consent_page: true,
            ..LocalProviderConfig::default()
        })
        .expect("provider starts");
        let params = [
            ("client_id", PINTEREST_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "pins:read"),
            ("state", "st<1>"),
        ];
        let q = form(&params);
        // A GET shows the page: no redirect, the parameters echoed (escaped) as hidden fields.
        let r = exchange(&p, "GET", &format!("/oauth/?{q}"), &[], "");
        assert_eq!(r.status, 200);
        assert!(r.header("location").is_none());
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let page = r.text();
        assert!(page.contains("name=\"decision\" value=\"allow\""), "{page}");
        assert!(page.contains("name=\"decision\" value=\"deny\""), "{page}");
        assert!(page.contains("value=\"st&lt;1&gt;\""), "{page}");
        assert!(!page.contains("st<1>"), "{page}");

        // Deny: error=access_denied with the state, and no code.
        let mut denied = params.to_vec();
        denied.push(("decision", "deny"));
        let r = post_form(&p, "/oauth/", None, &form(&denied));
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("location"),
            Some("https://client.example.com/cb?error=access_denied&state=st%3C1%3E")
        );

        // Allow: a code that the token endpoint accepts.
        let mut allowed = params.to_vec();
        allowed.push(("decision", "allow"));
        let r = post_form(&p, "/oauth/", None, &form(&allowed));
        assert_eq!(r.status, 302);
        let location = r.header("location").unwrap();
        let rest = location
            .strip_prefix(&format!("{REDIRECT}?"))
            .expect(location);
        let got: Vec<(String, String)> = form_urlencoded::parse(rest.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(got[0].0, "code");
        assert_eq!(got[1], ("state".into(), "st<1>".into()));
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &got[0].1),
            ("redirect_uri", REDIRECT),
        ]);
        let auth = basic(PINTEREST_CLIENT_ID, PINTEREST_CLIENT_SECRET);
        assert_eq!(
            post_form(&p, "/v5/oauth/token", Some(&auth), &body).status,
            200
        );

        // A POST is checked like the GET: an unknown decision or client is refused.
        let mut odd = params.to_vec();
        odd.push(("decision", "maybe"));
        assert_eq!(post_form(&p, "/oauth/", None, &form(&odd)).status, 400);
        let r = post_form(
            &p,
            "/oauth/",
            None,
            &form(&[("client_id", "nobody"), ("decision", "allow")]),
        );
        assert_eq!(r.status, 400);
        assert!(r.header("location").is_none());

        // Switched off at run time: approval at once again.
        p.set_consent_page(false);
        assert_eq!(
            exchange(&p, "GET", &format!("/oauth/?{q}"), &[], "").status,
            302
        );
    });
}
