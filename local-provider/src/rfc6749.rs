//! A plain RFC 6749 token endpoint: `POST /oauth/token`.
//!
//! Errors follow §5.2: `400` with `invalid_request`, `invalid_grant`, `unsupported_grant_type`,
//! `invalid_scope` or `unauthorized_client`; `401 invalid_client`, with
//! `WWW-Authenticate: Basic realm="picoauth-local"` when the client tried Basic. Every answer
//! carries `Cache-Control: no-store` and `Pragma: no-cache` (§5.1).

use serde::Serialize;

use super::request::{scope_within, AuthError, ContentType, HttpRequest, Reply};
use super::state::{default_scope, CodeError, ProviderKind, State};

const JSON: &str = "application/json;charset=UTF-8";
/// Access token lifetime, seconds.
const EXPIRES_IN: u64 = 3600;
/// The realm in `WWW-Authenticate`.
const REALM: &str = r#"Basic realm="picoauth-local""#;

#[derive(Serialize)]
struct Success<'a> {
    access_token: String,
    token_type: &'a str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: &'a str,
}

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
}

fn no_store(reply: Reply) -> Reply {
    reply
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache")
}

fn error(status: u16, code: &str, description: &str) -> Reply {
    let body = serde_json::to_string(&OAuthError {
        error: code,
        error_description: description,
    })
    .unwrap_or_default();
    no_store(Reply::json(status, JSON, body))
}

fn invalid_client(used_basic: bool, description: &str) -> Reply {
    let reply = error(401, "invalid_client", description);
    if used_basic {
        reply.with_header("www-authenticate", REALM)
    } else {
        reply
    }
}

/// `POST /oauth/token`.
pub(super) fn token(req: &HttpRequest, state: &mut State) -> Reply {
    if req.method != "POST" {
        return error(405, "invalid_request", "the token endpoint takes POST")
            .with_header("allow", "POST");
    }
    if req.content_type() != ContentType::Form {
        return error(
            400,
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let form = req.form();
    if form.repeated().is_some() {
        return error(
            400,
            "invalid_request",
            "a parameter was sent more than once",
        );
    }
    let creds = req.credentials(&form);
    let client = match creds.authenticate(state) {
        Ok(client) => client,
        Err(AuthError::Both) => {
            return error(
                400,
                "invalid_request",
                "use one client authentication method, not Basic and body credentials",
            )
        }
        Err(AuthError::MalformedBasic) => {
            return invalid_client(true, "malformed Basic credentials")
        }
        Err(AuthError::Missing) => return invalid_client(false, "client authentication required"),
        Err(AuthError::UnknownClient | AuthError::BadSecret) => {
            return invalid_client(creds.used_basic(), "client authentication failed")
        }
    };
    let client_id = client.registration.client_id.clone();
    match form.get("grant_type") {
        None => error(400, "invalid_request", "missing grant_type"),
        Some("authorization_code") => {
            let code = form.get("code");
            let grant = match state.redeem_form_code(&form, &client.registration, client.public) {
                Ok(grant) => grant,
                Err(CodeError::Missing) => return error(400, "invalid_request", "missing code"),
                Err(e) => return error(400, "invalid_grant", code_error_description(e)),
            };
            let scope = grant
                .scope
                .unwrap_or_else(|| default_scope(ProviderKind::Rfc6749).to_owned());
            let (refresh, reply) = issue_tokens(state, &client_id, &scope, &scope);
            if let Some(code) = code {
                state.link_code(code, &refresh);
            }
            reply
        }
        Some("refresh_token") => {
            let Some(old) = form.get("refresh_token") else {
                return error(400, "invalid_request", "missing refresh_token");
            };
            let granted = match state.refresh_grant(old) {
                Some(g) if g.provider == ProviderKind::Rfc6749 && g.client_id == client_id => {
                    g.scope.clone()
                }
                _ => return error(400, "invalid_grant", "unknown or revoked refresh token"),
            };
            let scope = match form.get("scope") {
                Some(asked) if !scope_within(asked, &granted) => {
                    return error(400, "invalid_scope", "scope exceeds the original grant")
                }
                Some(asked) => asked.to_owned(),
                None => granted.clone(),
            };
            // Rotation: the new refresh token keeps the original scope (§6).
            state.revoke_refresh(old);
            issue_tokens(state, &client_id, &granted, &scope).1
        }
        Some("client_credentials") => {
            if client.public {
                return error(
                    400,
                    "unauthorized_client",
                    "public clients may not use client_credentials",
                );
            }
            let scope = form
                .get("scope")
                .unwrap_or(default_scope(ProviderKind::Rfc6749))
                .to_owned();
            ok(&Success {
                access_token: state.random_hex(32),
                token_type: "Bearer",
                expires_in: EXPIRES_IN,
                refresh_token: None,
                scope: &scope,
            })
        }
        Some(_) => error(400, "unsupported_grant_type", "unsupported grant_type"),
    }
}

fn code_error_description(e: CodeError) -> &'static str {
    match e {
        CodeError::Missing => "missing code",
        CodeError::Unknown => "unknown authorization code",
        CodeError::Reused => "authorization code already used",
        CodeError::WrongClient => "authorization code was issued to another client",
        CodeError::RedirectMismatch => "redirect_uri does not match the authorization request",
        CodeError::PkceMismatch => "PKCE verification failed",
        CodeError::UnexpectedVerifier => "code_verifier sent for a code without a challenge",
        CodeError::PkceRequired => "public clients must use PKCE",
    }
}

/// A fresh refresh token for `client_id`, stored with the scope `granted`, and the
/// success answer carrying it with a fresh access token for `scope`.
fn issue_tokens(state: &mut State, client_id: &str, granted: &str, scope: &str) -> (String, Reply) {
    let refresh = state.random_hex(32);
    state.store_refresh(&refresh, ProviderKind::Rfc6749, client_id, granted);
    let reply = ok(&Success {
        access_token: state.random_hex(32),
        token_type: "Bearer",
        expires_in: EXPIRES_IN,
        refresh_token: Some(refresh.clone()),
        scope,
    });
    (refresh, reply)
}

fn ok(body: &Success<'_>) -> Reply {
    no_store(Reply::json(
        200,
        JSON,
        serde_json::to_string(body).unwrap_or_default(),
    ))
}
