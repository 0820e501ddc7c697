//! Pinterest v5: `POST /v5/oauth/token`.
//!
//! HTTP Basic only. Errors are `{"code":N,"message":"…"}`: code 2 `Authentication failed.` with
//! 401 (from Pinterest's OpenAPI description); other failures use code 1 with 400 and a message
//! of this provider's own wording. Every answer is sent with `Transfer-Encoding: chunked`.

use serde::Serialize;

use super::request::{scope_tokens, scope_within, ContentType, HttpRequest, Reply};
use super::state::{default_scope, ProviderKind, State};

const JSON: &str = "application/json";
/// Access token lifetime, seconds (30 days).
const EXPIRES_IN: u64 = 2_592_000;
/// Refresh token lifetime after a code grant, seconds (365 days).
const REFRESH_EXPIRES_IN_CODE: u64 = 31_536_000;
/// Refresh token lifetime after a continuous refresh, seconds (60 days).
const REFRESH_EXPIRES_IN_CONTINUOUS: u64 = 5_184_000;

#[derive(Serialize)]
struct Success<'a> {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    response_type: &'a str,
    token_type: &'a str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_at: Option<u64>,
    scope: String,
}

#[derive(Serialize)]
struct PinError<'a> {
    code: u32,
    message: &'a str,
}

fn chunked(mut reply: Reply) -> Reply {
    reply.chunked = true;
    reply
}

fn error(status: u16, code: u32, message: &str) -> Reply {
    let body = serde_json::to_string(&PinError { code, message }).unwrap_or_default();
    chunked(Reply::json(status, JSON, body))
}

fn auth_failed() -> Reply {
    error(401, 2, "Authentication failed.")
}

fn invalid(message: &str) -> Reply {
    error(400, 1, message)
}

/// Pinterest scopes are written with spaces in answers; requests may use commas.
fn normalize_scope(scope: &str) -> String {
    scope_tokens(scope).collect::<Vec<_>>().join(" ")
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `POST /v5/oauth/token`.
pub(super) fn token(req: &HttpRequest, state: &mut State) -> Reply {
    if req.method != "POST" {
        return error(405, 1, "Method not allowed. Use POST.").with_header("allow", "POST");
    }
    if req.content_type() != ContentType::Form {
        return invalid("Content-Type must be application/x-www-form-urlencoded.");
    }
    let form = req.form();
    let creds = req.credentials(&form);
    // Basic only: body credentials, with or without Basic, are refused.
    if !creds.used_basic() {
        return auth_failed();
    }
    if creds.body_secret.is_some() {
        return invalid("Send client credentials in the Authorization header only.");
    }
    let Ok(client) = creds.authenticate(state) else {
        return auth_failed();
    };
    if client.public {
        return auth_failed();
    }
    let client_id = client.registration.client_id.clone();
    match form.get("grant_type") {
        None => invalid("Missing parameter: grant_type."),
        Some("authorization_code") => {
            if form.get("redirect_uri").is_none() {
                return invalid("Missing parameter: redirect_uri.");
            }
            let code = form.get("code");
            let Ok(grant) = state.redeem_form_code(&form, &client.registration, false) else {
                return invalid("Invalid authorization code.");
            };
            let scope = normalize_scope(
                grant
                    .scope
                    .as_deref()
                    .unwrap_or(default_scope(ProviderKind::Pinterest)),
            );
            let refresh = format!("pinr_{}", state.random_hex(48));
            state.store_refresh(&refresh, ProviderKind::Pinterest, &client_id, &scope);
            if let Some(code) = code {
                state.link_code(code, &refresh);
            }
            let access_token = format!("pina_{}", state.random_hex(48));
            let lifetime = state.lifecycle.lifetime_secs(EXPIRES_IN);
            state
                .lifecycle
                .refreshed(&refresh, None, &access_token, lifetime);
            ok(&Success {
                access_token,
                refresh_token: Some(refresh),
                response_type: "authorization_code",
                token_type: "bearer",
                expires_in: lifetime,
                refresh_token_expires_in: Some(REFRESH_EXPIRES_IN_CODE),
                refresh_token_expires_at: None,
                scope,
            })
        }
        Some("refresh_token") => {
            let Some(old) = form.get("refresh_token") else {
                return invalid("Missing parameter: refresh_token.");
            };
            let granted = match state.refresh_grant(old) {
                Some(g) if g.provider == ProviderKind::Pinterest && g.client_id == client_id => {
                    g.scope.clone()
                }
                _ => return invalid("Invalid refresh token."),
            };
            let scope = match form.get("scope") {
                Some(asked) if !scope_within(asked, &granted) => {
                    return invalid("Requested scope exceeds the granted scope.")
                }
                Some(asked) => normalize_scope(asked),
                None => granted.clone(),
            };
            let continuous = form
                .get("continuous_refresh")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let (refresh_token, expires_in, expires_at) = if continuous {
                state.revoke_refresh(old);
                let new = format!("pinr_{}", state.random_hex(48));
                state.store_refresh(&new, ProviderKind::Pinterest, &client_id, &granted);
                (
                    Some(new),
                    Some(REFRESH_EXPIRES_IN_CONTINUOUS),
                    Some(now_unix().saturating_add(REFRESH_EXPIRES_IN_CONTINUOUS)),
                )
            } else {
                (None, None, None)
            };
            let access_token = format!("pina_{}", state.random_hex(48));
            let lifetime = state.lifecycle.lifetime_secs(EXPIRES_IN);
            state
                .lifecycle
                .refreshed(old, refresh_token.as_deref(), &access_token, lifetime);
            ok(&Success {
                access_token,
                refresh_token,
                response_type: "refresh_token",
                token_type: "bearer",
                expires_in: lifetime,
                refresh_token_expires_in: expires_in,
                refresh_token_expires_at: expires_at,
                scope,
            })
        }
        Some("client_credentials") => {
            let scope = normalize_scope(
                form.get("scope")
                    .unwrap_or(default_scope(ProviderKind::Pinterest)),
            );
            ok(&Success {
                access_token: format!("pinc_{}", state.random_hex(48)),
                refresh_token: None,
                response_type: "client_credentials",
                token_type: "bearer",
                expires_in: EXPIRES_IN,
                refresh_token_expires_in: None,
                refresh_token_expires_at: None,
                scope,
            })
        }
        Some(_) => invalid("Unsupported grant_type."),
    }
}

fn ok(body: &Success<'_>) -> Reply {
    chunked(Reply::json(
        200,
        JSON,
        serde_json::to_string(body).unwrap_or_default(),
    ))
}
