//! The install flow: the install page (button, signed state, binding cookie) and the
//! redirect back (state, cookie, single use, exchange, save).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use picoauth::authorize::AuthorizeRequest;
use picoauth::callback::Callback;
use picoauth::exchange::Outcome;
use picoauth::provider::{Endpoint, PINTEREST, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::state::{ct_eq, SignedState, StateKey, NONCE_LEN};
use picoauth_std::tokens::{now_ms, Installation, InstallationKey, TokenStore};

use crate::config::{ProviderConfig, ProviderId};
use crate::html::{escape, page};
use crate::App;

/// The cookie that binds an install to the browser that started it.
pub(crate) fn cookie_name(id: ProviderId) -> String {
    format!("picoauth_install_{}", id.slug())
}

fn provider_id(slug: &str) -> Option<ProviderId> {
    ProviderId::ALL.into_iter().find(|p| p.slug() == slug)
}

fn now_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

/// A page with `status`, that never shows more than `message` (text) and `detail`.
fn message_page(status: StatusCode, title: &str, id: &str, message: &str) -> Response {
    let body = format!(
        "<div class=\"error\" id=\"{id}\"><p>{}</p></div>\
         <p><a href=\"/\">Back to the installations</a></p>",
        escape(message)
    );
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::response::Html(page(title, &body, 0)),
    )
        .into_response()
}

/// A 503 page: something on the server's side failed; trying again may work.
fn try_again(id: &str, message: &str) -> Response {
    message_page(StatusCode::SERVICE_UNAVAILABLE, "Try again", id, message)
}

fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "not-found",
        "This app has no such provider configured.",
    )
}

/// The `Set-Cookie` value binding `nonce_hex` for `max_age` seconds (0: delete).
fn binding_cookie(app_secure: bool, id: ProviderId, nonce_hex: &str, max_age: u64) -> String {
    let secure = if app_secure { "; Secure" } else { "" };
    format!(
        "{}={nonce_hex}; Max-Age={max_age}; Path=/{}/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(id),
        id.slug()
    )
}

/// The value of cookie `name` in `headers`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /{provider}/install`.
pub(crate) async fn install<S: TokenStore>(
    State(app): State<Arc<App<S>>>,
    Path(slug): Path<String>,
) -> Response {
    let Some(p) = provider_id(&slug).and_then(|id| app.config.provider(id)) else {
        return not_found();
    };
    let mut nonce = [0u8; NONCE_LEN];
    if crate::random(&mut nonce).is_err() {
        return try_again(
            "no-random",
            "The server could not make a random value. Try again in a moment.",
        );
    }
    let Some(key) = StateKey::new(&app.state_key[..]) else {
        return message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Misconfigured",
            "bad-key",
            "The state key is too short.",
        );
    };
    let redirect_uri = app.config.redirect_uri(p.id);
    let expires_at = now_secs() + app.config.state_lifetime_secs;
    let state = SignedState::new(&key, &nonce, expires_at, &redirect_uri);
    let scopes: Vec<&str> = p
        .scopes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let base = match p.id {
        ProviderId::Slack => AuthorizeRequest::slack(&p.client_id),
        ProviderId::Pinterest => AuthorizeRequest::pinterest(&p.client_id),
    };
    let req = base
        .with_base_url(&p.authorize_url)
        .with_redirect_uri(&redirect_uri)
        .with_scopes(&scopes)
        .with_state(state.as_str());
    let url = match req.encoded_len() {
        Ok(n) => {
            let mut buf = vec![0u8; n];
            req.encode(&mut buf)
                .ok()
                .and_then(|n| String::from_utf8(buf.get(..n)?.to_vec()).ok())
        }
        Err(_) => None,
    };
    let Some(url) = url else {
        return message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Misconfigured",
            "bad-authorize-url",
            "The authorize URL could not be built from the configuration.",
        );
    };
    let (label, what) = match p.id {
        ProviderId::Slack => ("Add to Slack", "install the app in a Slack workspace"),
        ProviderId::Pinterest => ("Connect Pinterest", "connect a Pinterest account"),
    };
    let body = format!(
        "<p>Click the button to {what}. You will be asked to allow access, then \
         brought back here.</p>\
         <p><a id=\"install\" class=\"button {slug}\" href=\"{href}\">{label}</a></p>\
         <p><small>This link works in this browser only, once, for {mins} minutes.</small></p>",
        slug = p.id.slug(),
        href = escape(&url),
        mins = app.config.state_lifetime_secs / 60,
    );
    (
        [
            (
                header::SET_COOKIE,
                binding_cookie(
                    app.config.secure_cookies(),
                    p.id,
                    &crate::hex(&nonce),
                    app.config.state_lifetime_secs,
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::response::Html(page(label, &body, 0)),
    )
        .into_response()
}

/// `GET /{provider}/oauth_redirect`.
pub(crate) async fn oauth_redirect<S: TokenStore>(
    State(app): State<Arc<App<S>>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(p) = provider_id(&slug).and_then(|id| app.config.provider(id)) else {
        return not_found();
    };
    let mut response = finish(&app, p, &headers, &uri).await;
    // The binding cookie has done its work, whatever happened.
    if let Ok(v) =
        binding_cookie(app.config.secure_cookies(), p.id, "", 0).parse::<axum::http::HeaderValue>()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn finish<S: TokenStore>(
    app: &App<S>,
    p: &ProviderConfig,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let bad = |id: &str, message: &str| {
        message_page(
            StatusCode::BAD_REQUEST,
            "Installation not completed",
            id,
            message,
        )
    };
    let query = uri.query().unwrap_or("");
    // Holds the decoded code: wiped when the handler returns.
    let mut scratch = zeroize::Zeroizing::new(vec![0u8; query.len()]);
    let Ok(callback) = Callback::parse(query.as_bytes(), &mut scratch) else {
        return bad(
            "bad-redirect",
            "The provider's redirect could not be read (no code and no error).",
        );
    };
    let code = match callback {
        Callback::Error { error, .. } => {
            let message = if error.as_str() == "access_denied" {
                format!(
                    "You declined to give the app access on {}. Nothing was installed.",
                    p.id.name()
                )
            } else {
                format!(
                    "{} did not grant access ({}). Nothing was installed.",
                    p.id.name(),
                    error.as_str()
                )
            };
            return message_page(StatusCode::OK, "Installation cancelled", "denied", &message);
        }
        Callback::Code { code, .. } => code,
    };
    let Some(key) = StateKey::new(&app.state_key[..]) else {
        return bad("bad-key", "The state key is too short.");
    };
    let redirect_uri = app.config.redirect_uri(p.id);
    let verified = match callback.verify_signed_state(&key, &redirect_uri, now_secs()) {
        Ok(v) => v,
        Err(e) => {
            return bad(
                "bad-state",
                &format!(
                    "This install link is not valid ({e}). Start again from the install page."
                ),
            )
        }
    };
    let nonce = crate::hex(&verified.nonce);
    let bound =
        cookie(headers, &cookie_name(p.id)).is_some_and(|c| ct_eq(c.as_bytes(), nonce.as_bytes()));
    if !bound {
        return bad(
            "not-this-browser",
            "This install was started in another browser (or its cookie expired). \
             Start again from the install page in this browser.",
        );
    }
    match app.used.consume(&nonce, verified.expires_at).await {
        Ok(true) => {}
        Ok(false) => {
            return bad(
                "replayed",
                "This install link was already used. Start again from the install page.",
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "used-state table");
            return try_again(
                "store-failed",
                "The server could not record the install. Try again.",
            );
        }
    }
    exchange_and_save(app, p, code.expose(), &redirect_uri, &nonce).await
}

async fn exchange_and_save<S: TokenStore>(
    app: &App<S>,
    p: &ProviderConfig,
    code: &str,
    redirect_uri: &str,
    nonce: &str,
) -> Response {
    let fail = |id: &str, message: String| {
        message_page(
            StatusCode::BAD_GATEWAY,
            "Installation not completed",
            id,
            &message,
        )
    };
    let Ok(endpoint) = Endpoint::parse(&p.token_url) else {
        return fail("bad-token-url", "The token URL is misconfigured.".into());
    };
    let preset = match p.id {
        ProviderId::Slack => SLACK_V2,
        ProviderId::Pinterest => PINTEREST,
    };
    let provider = preset.with_endpoint(endpoint);
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(&p.client_id, p.client_secret.expose().into()),
        Grant::authorization_code(code).with_redirect_uri(redirect_uri),
    );
    let issued_ms = now_ms();
    let now = u64::try_from(issued_ms / 1000).unwrap_or(0);
    // Pinterest's answer names no account: a real app asks `GET /v5/user_account`
    // for the username; this example keys the connection by its install nonce.
    let caller_key = InstallationKey::caller(&format!("pinterest-{}", &nonce[..12])).ok();
    let answer = app
        .client
        .exchange_with(&req, |o| match o {
            Outcome::Token { .. } => Ok(Installation::from_outcome(o, caller_key, now)),
            other => Err(crate::introspect::describe(other)),
        })
        .await;
    let installation = match answer {
        Ok(Ok(Ok(i))) => i,
        Ok(Ok(Err(e))) => {
            return fail(
                "bad-answer",
                format!(
                    "{} answered with tokens this app cannot keep ({e}).",
                    p.id.name()
                ),
            )
        }
        Ok(Err(refusal)) => {
            return fail(
                "code-refused",
                format!(
                    "{} refused the authorization code ({refusal}). Nothing was installed.",
                    p.id.name()
                ),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, provider = p.id.name(), "code exchange");
            return fail(
                "exchange-failed",
                format!(
                    "{} could not be reached to finish the install.",
                    p.id.name()
                ),
            );
        }
    };
    let expires_ms = installation
        .tokens
        .credential(picoauth::token_set::Slot::Main)
        .and_then(|c| c.access_expires_at)
        .map(|s| expiry_ms(issued_ms, now, s));
    if let Err(e) = app.manager.store().put(&installation, expires_ms).await {
        tracing::warn!(error = %e, "saving an installation");
        return try_again(
            "store-failed",
            "The installation could not be saved. Install again.",
        );
    }
    let target = format!(
        "/installed?provider={}&key={}",
        p.id.slug(),
        percent_encode(&installation.key.store_key())
    );
    Redirect::to(&target).into_response()
}

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// When a token expiring at `expires_at` (Unix seconds, read at `now`, Unix seconds)
/// expires, counted from `issued_ms`; saturating, so a provider's huge `expires_in`
/// cannot overflow.
fn expiry_ms(issued_ms: i64, now: u64, expires_at: u64) -> i64 {
    let lifetime_s = i64::try_from(expires_at)
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(now).unwrap_or(0));
    issued_ms.saturating_add(lifetime_s.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_of_a_huge_expires_in_saturates() {
        assert_eq!(
            expiry_ms(1_700_000_000_123, 1_700_000_000, 1_700_000_060),
            1_700_000_060_123
        );
        // 10^17 s: fits the token set's seconds, not `i64` milliseconds.
        let far = 100_000_000_000_000_000 + 1_700_000_000;
        assert_eq!(expiry_ms(1_700_000_000_123, 1_700_000_000, far), i64::MAX);
        assert_eq!(expiry_ms(5_000, 10, 1), -4_000);
    }

    #[test]
    fn cookie_attributes() {
        let c = binding_cookie(false, ProviderId::Slack, "ab", 600);
        assert_eq!(
            c,
            "picoauth_install_slack=ab; Max-Age=600; Path=/slack/; HttpOnly; SameSite=Lax"
        );
        assert!(binding_cookie(true, ProviderId::Pinterest, "ab", 0).ends_with("; Secure"));
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; picoauth_install_slack=cafe".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "picoauth_install_slack"), Some("cafe"));
        assert_eq!(cookie(&h, "picoauth_install_pinterest"), None);
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("slack:T1/a b"), "slack%3AT1%2Fa%20b");
    }
}
