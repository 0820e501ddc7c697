//! `picoauth demo` and `picoauth serve`.

use core::net::SocketAddr;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use base64::Engine as _;
use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use sha2::Digest as _;

use crate::{EXIT_FAILURE, EXIT_TOKEN};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig, ProviderKind};
use picoauth_std::owned::OwnedOutcome;
use picoauth_std::Client;

const REDIRECT: &str = "https://client.example.com/cb";

/// What a demo step expects.
enum Expect {
    Token,
    Error(&'static str),
    RateLimited,
}

struct Row {
    provider: &'static str,
    what: &'static str,
    result: Result<OwnedOutcome, String>,
    expect: Expect,
    ms: u128,
}

impl Row {
    fn ok(&self) -> bool {
        match (&self.result, &self.expect) {
            (Ok(OwnedOutcome::Token { .. }), Expect::Token) => true,
            (Ok(o @ OwnedOutcome::Error { .. }), Expect::Error(code)) => {
                o.error_code() == Some(*code)
            }
            (Ok(OwnedOutcome::RateLimited { .. }), Expect::RateLimited) => true,
            _ => false,
        }
    }

    fn summary(&self) -> String {
        match &self.result {
            Err(e) => format!("failed: {e}"),
            Ok(o @ OwnedOutcome::Token { tokens, .. }) => {
                let mut s = format!("HTTP {} token", o.status());
                if let Some(a) = &tokens.access_token {
                    s += &format!(" access={a}");
                }
                if let Some(r) = &tokens.refresh_token {
                    s += &format!(" refresh={r}");
                }
                if let Some(e) = tokens.expires_in {
                    s += &format!(" expires_in={e}s");
                }
                if let Some(u) = tokens.user.as_ref().and_then(|u| u.access_token.as_ref()) {
                    s += &format!(" user={u}");
                }
                s
            }
            Ok(o @ OwnedOutcome::Error { .. }) => {
                format!(
                    "HTTP {} error {}",
                    o.status(),
                    o.error_code().unwrap_or("?")
                )
            }
            Ok(o @ OwnedOutcome::RateLimited { retry_after, .. }) => format!(
                "HTTP {} rate limited, retry after {}",
                o.status(),
                retry_after.map_or("-".to_owned(), |s| format!("{s}s"))
            ),
            Ok(o) => format!("HTTP {} unexpected", o.status()),
        }
    }
}

fn pkce_pair() -> (String, String) {
    // 32 bytes of entropy from the OS-seeded hasher state and the clock: enough for a demo
    // verifier; `picoauth` itself takes entropy from the caller.
    let mut seed = Vec::new();
    seed.extend_from_slice(
        &std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes(),
    );
    seed.extend_from_slice(&std::process::id().to_le_bytes());
    let verifier =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&seed));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// One demo step: runs the request and records a row; returns the outcome.
type Step<'s> =
    dyn FnMut(&'static str, &'static str, Expect, &TokenRequest<'_>) -> Option<OwnedOutcome> + 's;

/// A code exchange followed by a refresh with the refresh token it answered with.
struct CodeThenRefresh<'a> {
    provider: &'a Provider<'a>,
    name: &'static str,
    kind: ProviderKind,
    client_id: &'static str,
    auth: ClientAuth<'a>,
    /// What the refresh row says.
    refresh: &'static str,
    /// Pinterest's continuous refresh.
    continuous: bool,
}

/// Runs `case`: the code (issued for the redirect URI) is exchanged, then the refresh
/// token the answer held is used; when it held none, one the provider issues, so that
/// the refresh step still runs and shows its own result.
fn code_then_refresh(step: &mut Step<'_>, local: &LocalProvider, case: &CodeThenRefresh<'_>) {
    let code = local.issue_code(case.client_id, Some(REDIRECT), None, None);
    let got = step(
        case.name,
        "code exchange",
        Expect::Token,
        &TokenRequest::new(
            case.provider,
            case.auth,
            Grant::authorization_code(&code).with_redirect_uri(REDIRECT),
        ),
    );
    let refresh = got
        .as_ref()
        .and_then(OwnedOutcome::tokens)
        .and_then(|t| t.refresh_token.as_ref())
        .map(|r| r.expose().to_owned())
        .unwrap_or_else(|| local.issue_refresh_token(case.kind, case.client_id, None));
    step(
        case.name,
        case.refresh,
        Expect::Token,
        &TokenRequest::new(case.provider, case.auth, Grant::refresh_token(&refresh))
            .continuous_refresh(case.continuous),
    );
}

fn ep(u: &str) -> Endpoint<'_> {
    Endpoint::parse(u).expect("the local provider's URL is valid")
}

/// Runs the demo and returns the exit status.
pub(crate) fn run(out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let started = Instant::now();
    let provider = match LocalProvider::start(LocalProviderConfig::default()) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "picoauth: cannot start the local provider: {e}");
            return EXIT_FAILURE;
        }
    };
    let base = provider.base_url();
    let _ = writeln!(
        out,
        "picoauth demo: built-in provider at {base} (fresh ECDSA P-256 CA, trusted only for this run)\n"
    );
    let client = match Client::builder()
        .only_ca_pem(provider.ca_cert_pem().as_bytes())
        .and_then(|b| b.build())
    {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "picoauth: {e}");
            return EXIT_FAILURE;
        }
    };
    let url = |path: &str| format!("{base}{path}");
    let slack2_url = url("/api/oauth.v2.access");
    let slack1_url = url("/api/oauth.access");
    let pin_url = url("/v5/oauth/token");
    let rfc_url = url("/oauth/token");
    let slack2 = SLACK_V2.with_endpoint(ep(&slack2_url));
    let slack1 = SLACK_V1.with_endpoint(ep(&slack1_url));
    let pin = PINTEREST.with_endpoint(ep(&pin_url));
    let rfc = Provider::rfc6749(ep(&rfc_url));

    let mut rows: Vec<Row> = Vec::new();
    let mut step =
        |provider: &'static str, what: &'static str, expect: Expect, req: &TokenRequest<'_>| {
            let t = Instant::now();
            let result = client.exchange(req).map_err(|e| e.to_string());
            rows.push(Row {
                provider,
                what,
                result,
                expect,
                ms: t.elapsed().as_millis(),
            });
            rows.last().and_then(|r| r.result.as_ref().ok()).cloned()
        };

    // Slack v2: code exchange on a rotation-enabled app, then rotation.
    let slack_auth = ClientAuth::basic(
        lp::SLACK_ROTATING_CLIENT_ID,
        lp::SLACK_ROTATING_CLIENT_SECRET.into(),
    );
    code_then_refresh(
        &mut step,
        &provider,
        &CodeThenRefresh {
            provider: &slack2,
            name: "slack-v2",
            kind: ProviderKind::Slack,
            client_id: lp::SLACK_ROTATING_CLIENT_ID,
            auth: slack_auth,
            refresh: "token rotation (refresh)",
            continuous: false,
        },
    );
    step(
        "slack-v2",
        "error: invalid code",
        Expect::Error("invalid_code"),
        &TokenRequest::new(
            &slack2,
            slack_auth,
            Grant::authorization_code("not-a-real-code"),
        ),
    );
    step(
        "slack-v2",
        "error: rate limited (429)",
        Expect::RateLimited,
        &TokenRequest::new(
            &slack2,
            ClientAuth::basic(lp::RATELIMITED, "x".into()),
            Grant::authorization_code("anything"),
        ),
    );

    // Slack legacy oauth.access.
    let slack1_auth = ClientAuth::post(lp::SLACK_CLIENT_ID, lp::SLACK_CLIENT_SECRET.into());
    let code = provider.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
    step(
        "slack-v1",
        "code exchange",
        Expect::Token,
        &TokenRequest::new(&slack1, slack1_auth, Grant::authorization_code(&code)),
    );
    step(
        "slack-v1",
        "error: bad client secret",
        Expect::Error("bad_client_secret"),
        &TokenRequest::new(
            &slack1,
            ClientAuth::post(lp::SLACK_CLIENT_ID, "wrong".into()),
            Grant::authorization_code("whatever"),
        ),
    );

    // Pinterest v5 (answers are chunked).
    let pin_auth = ClientAuth::basic(lp::PINTEREST_CLIENT_ID, lp::PINTEREST_CLIENT_SECRET.into());
    code_then_refresh(
        &mut step,
        &provider,
        &CodeThenRefresh {
            provider: &pin,
            name: "pinterest",
            kind: ProviderKind::Pinterest,
            client_id: lp::PINTEREST_CLIENT_ID,
            auth: pin_auth,
            refresh: "refresh (continuous)",
            continuous: true,
        },
    );
    step(
        "pinterest",
        "client credentials",
        Expect::Token,
        &TokenRequest::new(
            &pin,
            pin_auth,
            Grant::client_credentials().with_scope("boards:read,pins:read"),
        ),
    );
    step(
        "pinterest",
        "error: wrong secret (401)",
        Expect::Error("2"),
        &TokenRequest::new(
            &pin,
            ClientAuth::basic(lp::PINTEREST_CLIENT_ID, "wrong".into()),
            Grant::client_credentials(),
        ),
    );

    // RFC 6749: a public client with PKCE, then a replay of the spent code.
    let (verifier, challenge) = pkce_pair();
    let code = provider.issue_code(
        lp::PUBLIC_CLIENT_ID,
        Some(REDIRECT),
        Some(&challenge),
        Some("read"),
    );
    let pkce_grant = Grant::authorization_code(&code)
        .with_redirect_uri(REDIRECT)
        .with_code_verifier(&verifier);
    let public = ClientAuth::public(lp::PUBLIC_CLIENT_ID);
    step(
        "oauth2",
        "code + PKCE (public client)",
        Expect::Token,
        &TokenRequest::new(&rfc, public, pkce_grant),
    );
    step(
        "oauth2",
        "error: code replayed",
        Expect::Error("invalid_grant"),
        &TokenRequest::new(&rfc, public, pkce_grant),
    );
    let special = ClientAuth::basic(lp::SPECIAL_CLIENT_ID, lp::SPECIAL_CLIENT_SECRET.into());
    step(
        "oauth2",
        "client credentials, id/secret with ' :%+/='",
        Expect::Token,
        &TokenRequest::new(&rfc, special, Grant::client_credentials()),
    );

    let mut failed = 0usize;
    for r in &rows {
        let mark = if r.ok() { "ok  " } else { "FAIL" };
        if !r.ok() {
            failed += 1;
        }
        let _ = writeln!(
            out,
            "{mark} {:<10} {:<44} {:>4} ms  {}",
            r.provider,
            r.what,
            r.ms,
            r.summary()
        );
    }
    let _ = writeln!(
        out,
        "\n{} exchanges over TLS in {} ms: {} as expected, {} not. Tokens are redacted; `picoauth exchange --show-secrets` prints them.",
        rows.len(),
        started.elapsed().as_millis(),
        rows.len() - failed,
        failed
    );
    provider.shutdown();
    if failed == 0 {
        EXIT_TOKEN
    } else {
        EXIT_FAILURE
    }
}

/// Runs the built-in provider in the foreground until the process is killed.
pub(crate) fn serve(
    listen: SocketAddr,
    ca_out: &Path,
    names: Vec<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut config = LocalProviderConfig {
        addr: listen,
        ..LocalProviderConfig::default()
    };
    if !names.is_empty() {
        config.leaf_names = names;
    }
    let provider = match LocalProvider::start(config) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "picoauth: cannot start the local provider: {e}");
            return EXIT_FAILURE;
        }
    };
    if let Err(e) = std::fs::write(ca_out, provider.ca_cert_pem()) {
        let _ = writeln!(err, "picoauth: {}: {e}", ca_out.display());
        return EXIT_FAILURE;
    }
    let _ = writeln!(out, "listening on {}", provider.addr());
    for _ in 0..4 {
        let c = provider.issue_code(lp::SLACK_CLIENT_ID, None, None, None);
        let _ = writeln!(out, "code slack-v2 {} {c}", lp::SLACK_CLIENT_ID);
        let c = provider.issue_code(lp::PINTEREST_CLIENT_ID, None, None, None);
        let _ = writeln!(out, "code pinterest {} {c}", lp::PINTEREST_CLIENT_ID);
        let r =
            provider.issue_refresh_token(ProviderKind::Pinterest, lp::PINTEREST_CLIENT_ID, None);
        let _ = writeln!(out, "refresh pinterest {} {r}", lp::PINTEREST_CLIENT_ID);
        let r =
            provider.issue_refresh_token(ProviderKind::Slack, lp::SLACK_ROTATING_CLIENT_ID, None);
        let _ = writeln!(out, "refresh slack-v2 {} {r}", lp::SLACK_ROTATING_CLIENT_ID);
    }
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}
