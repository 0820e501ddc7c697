//! `picoauth login`: the whole authorization code flow from a terminal.
//!
//! 1. Binds a loopback listener (`--listen`, default `127.0.0.1:8085`) and derives the
//!    redirect URI `http://ADDR/callback` from it (or takes `--redirect-uri`).
//! 2. Makes a signed `state` (HMAC-SHA256 under a per-run random key, expiring with
//!    `--timeout`) and, where the provider takes PKCE (`oauth2`), an S256 verifier.
//! 3. Prints the authorize URL on standard error (standard output stays the one JSON
//!    object, as for `exchange`).
//! 4. Waits, at most `--timeout` seconds in all, for the browser's redirect. Each
//!    connection is served on its own thread and must send its request head within
//!    [`HEAD_DEADLINE`], so idle or dripping connections delay nothing. Every request
//!    gets a small fixed HTML page (nothing from it is echoed back): other paths
//!    (`/favicon.ico`) a 404, and a callback whose `state` is missing, forged or
//!    expired a 400, after which the listener keeps waiting for the real redirect:
//!    any local process or web page can reach the listener, and none may end the login.
//! 5. Exchanges the code (with the verifier and the redirect URI) and prints the
//!    outcome as `exchange` does. A refusal on the redirect (`error=access_denied`,
//!    with a valid state) prints `{"outcome":"authorization_error",…}` and exits 3.
//!
//! The hidden `--browser-follow` makes the command play the browser: it GETs the
//! authorize URL itself (trusting `--ca-cert`) and follows the one `302` to the loopback
//! listener. It exists for end-to-end tests against the built-in local provider.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use picoauth::authorize::AuthorizeRequest;
use picoauth::callback::Callback;
use picoauth::http::response::{ResponseReader, Status};
use picoauth::pkce::CodeVerifier;
use picoauth::provider::{AuthMethod, Endpoint, Provider};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::state::{SignedState, StateKey};
use picoauth::ClientSecret;
use zeroize::Zeroizing;

use crate::{print_outcome, ProviderArg, EXIT_FAILURE, EXIT_PROVIDER_ERROR, EXIT_USAGE};

/// Arguments of `picoauth login`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoginArgs {
    /// The provider.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    /// The client id.
    #[arg(long)]
    client_id: String,
    /// The environment variable holding the client secret (none: a public client, `oauth2` only).
    #[arg(long)]
    client_secret_env: Option<String>,
    /// Loopback address to wait on for the redirect (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8085")]
    listen: SocketAddr,
    /// The redirect URI registered with the provider (default `http://LISTEN/callback`);
    /// its path is the one the listener answers.
    #[arg(long)]
    redirect_uri: Option<String>,
    /// A scope (repeatable; commas and spaces also separate).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// A Slack user scope (repeatable; commas and spaces also separate).
    #[arg(long = "user-scope")]
    user_scopes: Vec<String>,
    /// The authorize endpoint URL (required for `oauth2`; overrides the preset otherwise).
    #[arg(long)]
    authorize_url: Option<String>,
    /// The token endpoint URL (required for `oauth2`; overrides the preset otherwise).
    #[arg(long)]
    token_url: Option<String>,
    /// Also trust this CA certificate (PEM).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Seconds to wait for the redirect; also the lifetime of the state.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Print secrets instead of redacting them.
    #[arg(long)]
    show_secrets: bool,
    /// Where to write the token set for a device (`--save-token-set`,
    /// `--provisioning-image`).
    #[command(flatten)]
    outputs: crate::provision::Outputs,
    /// Test only: fetch the authorize URL and follow its redirect instead of a browser.
    #[arg(long, hide = true)]
    browser_follow: bool,
    /// Save what the login got as an installation in this token store
    /// (`sqlite:PATH`, a `postgres://` URL without a password, or `env:NAME`, the
    /// environment variable holding either).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[arg(long)]
    store: Option<String>,
    /// The installation key for `--store` (Slack answers key themselves).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[arg(long, requires = "store")]
    key: Option<String>,
    /// Also trust this CA certificate (PEM) for the PostgreSQL server of `--store`.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[arg(long, requires = "store")]
    store_ca_cert: Option<PathBuf>,
}

/// A failure with its exit status and one-line reason.
struct Fail(u8, String);

fn usage(msg: impl Into<String>) -> Fail {
    Fail(EXIT_USAGE, msg.into())
}

fn failure(msg: impl Into<String>) -> Fail {
    Fail(EXIT_FAILURE, msg.into())
}

/// Runs `picoauth login`, writing the outcome to `out` and messages to `err`.
pub(crate) fn run(args: LoginArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match login(&args, out, err) {
        Ok(code) => code,
        Err(Fail(code, msg)) => {
            let _ = writeln!(err, "picoauth: {msg}");
            code
        }
    }
}

fn split_list(items: &[String]) -> Vec<&str> {
    items
        .iter()
        .flat_map(|s| s.split([',', ' ']))
        .filter(|s| !s.is_empty())
        .collect()
}

fn random<const N: usize>() -> Result<[u8; N], Fail> {
    let mut buf = [0u8; N];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut buf)
        .map_err(|_| failure("no secure random numbers available"))?;
    Ok(buf)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn login(args: &LoginArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Fail> {
    let kind = args.provider.kind();
    // Wiped when the login ends.
    let secret = match &args.client_secret_env {
        Some(name) => {
            Some(Zeroizing::new(std::env::var(name).map_err(|_| {
                usage(format!("environment variable {name} is not set"))
            })?))
        }
        None => None,
    };
    let preset = Provider::preset(kind);
    let token_endpoint = match &args.token_url {
        Some(u) => Some(Endpoint::parse(u).map_err(|e| usage(format!("--token-url: {e}")))?),
        None => None,
    };
    let provider = match (preset, token_endpoint) {
        (Some(p), Some(e)) => p.with_endpoint(e),
        (Some(p), None) => p,
        (None, Some(e)) => Provider::rfc6749(e),
        (None, None) => return Err(usage("--token-url is required for --provider oauth2")),
    };
    let auth_method = if secret.is_some() {
        provider.default_auth
    } else if provider.pkce {
        AuthMethod::None
    } else {
        return Err(usage(format!(
            "--provider {} needs --client-secret-env",
            kind.name()
        )));
    };
    let ca_pem = match &args.ca_cert {
        Some(p) => {
            Some(std::fs::read(p).map_err(|e| usage(format!("--ca-cert {}: {e}", p.display())))?)
        }
        None => None,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));

    // The loopback listener and the redirect URI.
    if !args.listen.ip().is_loopback() {
        return Err(usage("--listen must be a loopback address"));
    }
    let listener = TcpListener::bind(args.listen)
        .map_err(|e| failure(format!("cannot listen on {}: {e}", args.listen)))?;
    let bound = listener.local_addr().map_err(|e| failure(e.to_string()))?;
    let redirect_uri = match &args.redirect_uri {
        Some(u) => u.clone(),
        None => format!("http://{bound}/callback"),
    };
    let redirect =
        Endpoint::parse(&redirect_uri).map_err(|e| usage(format!("--redirect-uri: {e}")))?;
    if !redirect.is_loopback() {
        return Err(usage("--redirect-uri must point at a loopback host"));
    }
    let callback_path = redirect.path.split('?').next().unwrap_or("/").to_owned();

    // State and PKCE from fresh randomness.
    let key_bytes = Zeroizing::new(random::<32>()?);
    let key = StateKey::new(&key_bytes[..]).ok_or_else(|| failure("state key too short"))?;
    let state = SignedState::new(
        &key,
        &random::<16>()?,
        unix_now().saturating_add(timeout.as_secs()),
        &redirect_uri,
    );
    let verifier = if provider.pkce {
        Some(CodeVerifier::from_entropy(&random::<32>()?))
    } else {
        None
    };

    // The authorize URL.
    let scopes = split_list(&args.scopes);
    let user_scopes = split_list(&args.user_scopes);
    let req = match (
        &args.authorize_url,
        AuthorizeRequest::for_provider(kind, &args.client_id),
    ) {
        (Some(u), Some(r)) => r.with_base_url(u),
        (None, Some(r)) => r,
        (Some(u), None) => AuthorizeRequest::rfc6749(u, &args.client_id),
        (None, None) => return Err(usage("--authorize-url is required for --provider oauth2")),
    };
    let mut req = req
        .with_redirect_uri(&redirect_uri)
        .with_scopes(&scopes)
        .with_state(state.as_str());
    if !user_scopes.is_empty() {
        req = req.with_user_scopes(&user_scopes);
    }
    if let Some(v) = &verifier {
        req = req.with_code_challenge(v.challenge());
    }
    let len = req
        .encoded_len()
        .map_err(|e| usage(format!("cannot build the authorize URL: {e}")))?;
    let mut url = vec![0u8; len];
    let n = req.encode(&mut url).map_err(|e| usage(e.to_string()))?;
    url.truncate(n);
    let url = String::from_utf8(url).map_err(|_| failure("authorize URL is not UTF-8"))?;
    let _ = writeln!(err, "Open this URL in your browser to authorize:\n\n  {url}\n\nWaiting for the redirect to {redirect_uri} …");

    let deadline = picoauth_std::client::deadline_after(Instant::now(), timeout);
    let browser = if args.browser_follow {
        let ca = ca_pem.clone();
        let url = url.clone();
        Some(std::thread::spawn(move || {
            follow(&url, ca.as_deref(), timeout)
        }))
    } else {
        None
    };
    // The browser thread waits for the page, so it is joined only once answered.
    let join_browser = |err: &mut dyn Write| {
        if let Some(b) = browser {
            match b.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let _ = writeln!(err, "picoauth: browser-follow: {e}");
                }
                Err(_) => {
                    let _ = writeln!(err, "picoauth: browser-follow thread failed");
                }
            }
        }
    };
    // Only a callback whose state verifies ends the wait.
    let accept = |target: &str| -> Result<(), String> {
        let mut scratch = Zeroizing::new(vec![0u8; target.len()]);
        let cb = Callback::parse(target.as_bytes(), &mut scratch)
            .map_err(|e| format!("bad redirect: {e}"))?;
        cb.verify_signed_state(&key, &redirect_uri, unix_now())
            .map(|_| ())
            .map_err(|e| format!("state: {e}"))
    };
    let waited = wait_for_callback(&listener, &callback_path, deadline, &accept, err);
    let (target, mut stream) = match waited {
        Ok(r) => r,
        Err(f) => {
            join_browser(err);
            return Err(f);
        }
    };

    // Parse and check; the decoded code is wiped with `scratch`.
    let mut scratch = Zeroizing::new(vec![0u8; target.len()]);
    let checked = Callback::parse(target.as_bytes(), &mut scratch)
        .map_err(|e| failure(format!("bad redirect: {e}")))
        .and_then(|cb| {
            cb.verify_signed_state(&key, &redirect_uri, unix_now())
                .map_err(|e| failure(format!("refusing the redirect: {e}")))?;
            Ok(cb)
        });
    let cb = match checked {
        Ok(cb) => cb,
        Err(f) => {
            answer(
                &mut stream,
                400,
                "Login failed",
                "The redirect was refused. See the terminal.",
            );
            drop(stream);
            join_browser(err);
            return Err(f);
        }
    };
    let code = match cb {
        Callback::Code { code, .. } => {
            answer(
                &mut stream,
                200,
                "Login complete",
                "You can close this window and return to the terminal.",
            );
            code
        }
        Callback::Error {
            error,
            error_description,
            ..
        } => {
            answer(
                &mut stream,
                200,
                "Login refused",
                "Authorization was refused. See the terminal.",
            );
            drop(stream);
            join_browser(err);
            let json = serde_json::json!({
                "outcome": "authorization_error",
                "error": error.as_str(),
                "error_description": error_description,
            });
            let _ = writeln!(out, "{json}");
            let _ = writeln!(
                err,
                "picoauth: authorization refused on the redirect: {}",
                error.as_str()
            );
            return Ok(EXIT_PROVIDER_ERROR);
        }
    };
    drop(stream);
    join_browser(err);

    // Exchange.
    let client_secret = secret.as_deref().map(|s| ClientSecret::new(s));
    let auth = ClientAuth::from_method(auth_method, &args.client_id, client_secret)
        .ok_or_else(|| usage("this provider needs --client-secret-env"))?;
    let mut grant = Grant::authorization_code(code.expose()).with_redirect_uri(&redirect_uri);
    if let Some(v) = &verifier {
        grant = grant.with_code_verifier(v.expose());
    }
    let token_req = TokenRequest::new(&provider, auth, grant);
    token_req
        .validate()
        .map_err(|e| usage(format!("cannot build the token request: {e}")))?;
    let mut builder = picoauth_std::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(30))
        .total_timeout(Duration::from_secs(60));
    if let Some(pem) = &ca_pem {
        builder = builder
            .add_ca_pem(pem)
            .map_err(|e| usage(format!("--ca-cert: {e}")))?;
    }
    let client = builder.build().map_err(|e| failure(e.to_string()))?;
    let now = unix_now();
    let wants_set = args.outputs.wanted();
    let (outcome, set, saved) = client
        .exchange_with(&token_req, |o| {
            let is_token = matches!(o, picoauth::exchange::Outcome::Token { .. });
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            let saved = args.store.as_ref().filter(|_| is_token).map(|store| {
                crate::tokens::save(store, args.store_ca_cert.as_deref(), o, args.key.as_deref())
            });
            #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
            let saved: Option<Result<String, String>> = None;
            let set = (is_token && wants_set).then(|| {
                crate::provision::CliTokenSet::from_outcome(o, now).map_err(|e| e.to_string())
            });
            (picoauth_std::OwnedOutcome::from_outcome(o), set, saved)
        })
        .map_err(|e| failure(e.to_string()))?;
    let code = print_outcome(&outcome, args.show_secrets, out, err);
    match saved {
        Some(Ok(key)) => {
            let _ = writeln!(err, "picoauth: saved installation {key}");
        }
        Some(Err(e)) => return Err(failure(format!("--store: {e}"))),
        None => {}
    }
    match set {
        Some(set) => {
            let set = set.map_err(|e| failure(format!("token set: {e}")))?;
            let id = crate::provision::random_id().map_err(failure)?;
            let lines = args
                .outputs
                .write(
                    &set,
                    &args.client_id,
                    secret.as_deref().map(String::as_str),
                    id,
                )
                .map_err(failure)?;
            for line in lines {
                let _ = writeln!(err, "picoauth: {line}");
            }
        }
        None if wants_set => {
            let _ = writeln!(
                err,
                "picoauth: no token set written: the provider did not answer with tokens"
            );
        }
        None => {}
    }
    Ok(code)
}

/// The most a redirect request head may take.
const MAX_HEAD: usize = 16 * 1024;

/// How long one connection may take to send its request head.
pub(crate) const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// The most connections read at the same time; more are closed at once.
const MAX_CONNECTIONS: usize = 32;

/// Waits for a `GET` of `path` whose target `accept` takes, on `listener`, until
/// `deadline`; returns its request target and the connection to answer on. Requests
/// for other paths get a `404`, refused callbacks a `400` (and a line on `err`), and
/// the wait goes on.
fn wait_for_callback(
    listener: &TcpListener,
    path: &str,
    deadline: Instant,
    accept: &dyn Fn(&str) -> Result<(), String>,
    err: &mut dyn Write,
) -> Result<(Zeroizing<String>, TcpStream), Fail> {
    use core::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};

    listener
        .set_nonblocking(true)
        .map_err(|e| failure(e.to_string()))?;
    let (tx, rx) = mpsc::channel::<(Zeroizing<String>, TcpStream)>();
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        // Heads read so far, in arrival order.
        while let Ok((target, mut stream)) = rx.try_recv() {
            if target.split('?').next() != Some(path) {
                answer(
                    &mut stream,
                    404,
                    "Not found",
                    "This is the picoauth login listener.",
                );
                continue;
            }
            match accept(&target) {
                Ok(()) => return Ok((target, stream)),
                Err(why) => {
                    answer(
                        &mut stream,
                        400,
                        "Redirect refused",
                        "This redirect was refused; the login is still waiting for the real one.",
                    );
                    let _ = writeln!(err, "picoauth: refused a redirect ({why}); still waiting");
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(failure("timed out waiting for the redirect"));
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(e) => return Err(failure(format!("accepting the redirect: {e}"))),
        };
        if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue; // Dropped: closed at once.
        }
        open.fetch_add(1, Ordering::SeqCst);
        let head_deadline = deadline.min(now + HEAD_DEADLINE);
        let (tx, open) = (tx.clone(), Arc::clone(&open));
        std::thread::spawn(move || {
            let mut stream = stream;
            match read_request_target(&mut stream, head_deadline) {
                Some(target) => {
                    // The receiver is gone once the login ended: nothing to answer.
                    let _ = tx.send((target, stream));
                }
                None => answer(
                    &mut stream,
                    400,
                    "Bad request",
                    "This is the picoauth login listener.",
                ),
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Reads one request head, all of it before `deadline`, and returns the target of a
/// `GET`, or `None`. The target carries the authorization code, so it and the head it
/// was read from are wiped when dropped.
fn read_request_target(stream: &mut TcpStream, deadline: Instant) -> Option<Zeroizing<String>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(HEAD_DEADLINE));
    let mut buf = Zeroizing::new(vec![0u8; MAX_HEAD]);
    let mut len = 0usize;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        let n = stream.read(buf.get_mut(len..)?).ok()?;
        if n == 0 {
            return None;
        }
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf.get(..len)?) {
            Ok(httparse::Status::Complete(_)) => {
                return match (req.method, req.path) {
                    (Some("GET"), Some(p)) => Some(Zeroizing::new(p.to_owned())),
                    _ => None,
                };
            }
            Ok(httparse::Status::Partial) if len < buf.len() => {}
            _ => return None,
        }
    }
}

/// Answers a small fixed HTML page and closes.
fn answer(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// Plays the browser: GETs the authorize URL over HTTPS and follows its one `302` to
/// the loopback redirect URI over plain HTTP.
fn follow(url: &str, ca_pem: Option<&[u8]>, timeout: Duration) -> Result<(), String> {
    let ep = Endpoint::parse(url).map_err(|e| format!("authorize URL: {e}"))?;
    let mut trust = picoauth_std::Trust::public();
    if let Some(pem) = ca_pem {
        trust.add_pem(pem).map_err(|e| e.to_string())?;
    }
    let tcp = connect(&ep, timeout)?;
    let head = get(&ep, tcp, &trust)?;
    let location = head.ok_or("the authorize endpoint did not redirect")?;
    let back = Endpoint::parse(&location).map_err(|e| format!("redirect {location:?}: {e}"))?;
    if back.tls || !back.is_loopback() {
        return Err(format!("refusing to follow the redirect to {location:?}"));
    }
    let mut tcp = connect(&back, timeout)?;
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
        back.path, back.host, back.port
    );
    tcp.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink);
    Ok(())
}

fn connect(ep: &Endpoint<'_>, timeout: Duration) -> Result<TcpStream, String> {
    let tcp = TcpStream::connect((ep.host_name(), ep.port))
        .map_err(|e| format!("connect {}: {e}", ep.host))?;
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    Ok(tcp)
}

/// GETs `ep` over TLS and returns the `Location` of a `3xx` answer.
fn get(
    ep: &Endpoint<'_>,
    tcp: TcpStream,
    trust: &picoauth_std::Trust,
) -> Result<Option<String>, String> {
    let config = trust.client_config().map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from(ep.host_name().to_owned())
        .map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let host = if ep.default_port() {
        ep.host.to_owned()
    } else {
        format!("{}:{}", ep.host, ep.port)
    };
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nConnection: close\r\n\r\n",
        ep.path,
        picoauth::request::DEFAULT_USER_AGENT
    );
    tls.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut reader = ResponseReader::new(&mut buf);
    loop {
        let n = match tls.read(reader.spare()) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(e.to_string()),
        };
        let status = if n == 0 {
            reader.finish().map_err(|e| e.to_string())?
        } else {
            reader.advance(n).map_err(|e| e.to_string())?
        };
        if status == Status::Complete {
            break;
        }
        if n == 0 {
            return Err("connection closed early".to_owned());
        }
    }
    let resp = reader.response().ok_or("no response")?;
    if !(300..400).contains(&resp.status) {
        return Err(format!("the authorize endpoint answered {}", resp.status));
    }
    Ok(resp
        .header("location")
        .and_then(|v| core::str::from_utf8(v).ok())
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_spaces() {
        let v = vec!["a,b".to_owned(), "c d".to_owned(), ",e,".to_owned()];
        assert_eq!(split_list(&v), ["a", "b", "c", "d", "e"]);
    }
}
