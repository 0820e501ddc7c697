//! Slack: `oauth.v2.access` (with token rotation) and legacy `oauth.access`.
//!
//! Errors are HTTP 200 with `{"ok":false,"error":"<code>"}`, as Slack's Web API sends them.
//! Every body is serialized with `/` escaped as `\/`, the way slack.com writes JSON.

use serde::Serialize;

use super::request::{AuthError, ContentType, HttpRequest, Reply};
use super::state::{default_scope, CodeError, ProviderKind, State};
use super::RATELIMITED;

const JSON: &str = "application/json; charset=utf-8";
const TEAM_ID: &str = "T0LOCAL01";
const TEAM_NAME: &str = "picoauth local team";
const APP_ID: &str = "A0LOCAL01";
const BOT_USER_ID: &str = "U0LOCALBOT";
const USER_ID: &str = "U0LOCAL01";
/// Lifetime of rotating tokens, in seconds (12 hours).
const ROTATION_EXPIRES_IN: u64 = 43200;

#[derive(Serialize)]
struct Team<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AuthedUser<'a> {
    id: &'a str,
    scope: &'a str,
    access_token: String,
    token_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
}

#[derive(Serialize)]
struct IncomingWebhook {
    channel: &'static str,
    channel_id: &'static str,
    configuration_url: String,
    url: String,
}

#[derive(Serialize)]
struct V2Success<'a> {
    ok: bool,
    access_token: String,
    token_type: &'a str,
    scope: &'a str,
    bot_user_id: &'a str,
    app_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    team: Team<'a>,
    enterprise: Option<Team<'a>>,
    is_enterprise_install: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    authed_user: Option<AuthedUser<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incoming_webhook: Option<IncomingWebhook>,
}

impl<'a> V2Success<'a> {
    /// The bot token answer of this workspace and app, without a user token or webhook.
    fn bot(
        access_token: String,
        scope: &'a str,
        expires_in: Option<u64>,
        refresh_token: Option<String>,
    ) -> Self {
        Self {
            ok: true,
            access_token,
            token_type: "bot",
            scope,
            bot_user_id: BOT_USER_ID,
            app_id: APP_ID,
            expires_in,
            refresh_token,
            team: Team {
                id: TEAM_ID,
                name: TEAM_NAME,
            },
            enterprise: None,
            is_enterprise_install: false,
            authed_user: None,
            incoming_webhook: None,
        }
    }
}

#[derive(Serialize)]
struct V1Success<'a> {
    access_token: String,
    scope: &'a str,
    team_name: &'a str,
    team_id: &'a str,
    enterprise_id: Option<&'a str>,
}

#[derive(Serialize)]
struct SlackError<'a> {
    ok: bool,
    error: &'a str,
}

/// Serializes like slack.com: compact, with every `/` written as `\/`. Replacing after
/// serialization is sound because `/` can only occur inside JSON strings.
fn slack_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| String::from(r#"{"ok":false,"error":"fatal_error"}"#))
        .replace('/', "\\/")
}

/// `{"ok":false,"error":code}` with HTTP 200.
pub(super) fn error(code: &str) -> Reply {
    Reply::json(
        200,
        JSON,
        slack_json(&SlackError {
            ok: false,
            error: code,
        }),
    )
}

/// `429` with `Retry-After: 1`.
fn ratelimited() -> Reply {
    Reply::json(
        429,
        JSON,
        slack_json(&SlackError {
            ok: false,
            error: "ratelimited",
        }),
    )
    .with_header("retry-after", "1")
}

/// What a Slack token request asks for (`grant_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlackGrant {
    /// None given, or `authorization_code`.
    Code,
    /// `refresh_token` (only `oauth.v2.access` takes it).
    Refresh,
}

/// Checks shared by both Slack methods: method, content type, rate-limit trigger,
/// client, and a known `grant_type`.
fn preamble(
    req: &HttpRequest,
    state: &State,
) -> Result<(super::request::Form, super::request::Client, SlackGrant), Reply> {
    if req.method != "POST" {
        return Err(Reply::json(
            405,
            JSON,
            slack_json(&SlackError {
                ok: false,
                error: "invalid_arguments",
            }),
        )
        .with_header("allow", "POST"));
    }
    match req.content_type() {
        ContentType::Form => {}
        ContentType::Missing => return Err(error("missing_post_type")),
        ContentType::BadCharset => return Err(error("invalid_charset")),
        ContentType::Other => return Err(error("invalid_post_type")),
    }
    let form = req.form();
    let creds = req.credentials(&form);
    if form.get("code") == Some(RATELIMITED)
        || form.get("refresh_token") == Some(RATELIMITED)
        || creds.claimed_id() == Some(RATELIMITED)
    {
        return Err(ratelimited());
    }
    let client = creds.authenticate(state).map_err(|e| {
        error(match e {
            AuthError::Both => "invalid_arguments",
            AuthError::MalformedBasic | AuthError::Missing | AuthError::UnknownClient => {
                "invalid_client_id"
            }
            AuthError::BadSecret => "bad_client_secret",
        })
    })?;
    let grant = match form.get("grant_type") {
        None | Some("authorization_code") => SlackGrant::Code,
        Some("refresh_token") => SlackGrant::Refresh,
        Some(_) => return Err(error("invalid_grant_type")),
    };
    Ok((form, client, grant))
}

fn code_error(e: CodeError) -> Reply {
    error(match e {
        CodeError::RedirectMismatch => "bad_redirect_uri",
        CodeError::PkceRequired => "bad_client_secret",
        CodeError::Missing
        | CodeError::Unknown
        | CodeError::Reused
        | CodeError::WrongClient
        | CodeError::PkceMismatch
        | CodeError::UnexpectedVerifier => "invalid_code",
    })
}

/// `POST /api/oauth.v2.access`.
pub(super) fn oauth_v2_access(req: &HttpRequest, state: &mut State) -> Reply {
    let (form, client, grant) = match preamble(req, state) {
        Ok(ok) => ok,
        Err(reply) => return reply,
    };
    if grant == SlackGrant::Refresh {
        return refresh(&form, &client, state);
    }
    let code = form.get("code");
    let grant = match state.redeem_form_code(&form, &client.registration, client.public) {
        Ok(grant) => grant,
        Err(e) => return code_error(e),
    };
    let scope = grant
        .scope
        .clone()
        .unwrap_or_else(|| default_scope(ProviderKind::Slack).to_owned());
    let rotation = client.registration.slack_token_rotation;
    let (access_token, refresh_token, expires_in) = if rotation {
        let refresh = state.issue_refresh_token(
            ProviderKind::Slack,
            &client.registration.client_id,
            Some(&scope),
        );
        if let Some(code) = code {
            state.link_code(code, &refresh);
        }
        let lifetime = state.lifecycle.lifetime_secs(ROTATION_EXPIRES_IN);
        let access = format!("xoxe.xoxb-1-{}", state.random_hex(48));
        state.lifecycle.refreshed(&refresh, None, &access, lifetime);
        (access, Some(refresh), Some(lifetime))
    } else {
        (bot_token(state), None, None)
    };
    let webhook = scope
        .split(',')
        .any(|s| s == "incoming-webhook")
        .then(|| webhook(state));
    let user_token = format!("xoxp-{}-{}", state.serial(), state.random_hex(32));
    slack_ok(&V2Success {
        authed_user: Some(AuthedUser {
            id: USER_ID,
            scope: "identify",
            access_token: user_token,
            token_type: "user",
            refresh_token: None,
            expires_in: None,
        }),
        incoming_webhook: webhook,
        ..V2Success::bot(access_token, &scope, expires_in, refresh_token)
    })
}

fn slack_ok<T: Serialize>(body: &T) -> Reply {
    Reply::json(200, JSON, slack_json(body))
}

fn bot_token(state: &mut State) -> String {
    let team = state.serial();
    let bot = state.serial();
    format!("xoxb-{team}-{bot}-{}", state.random_hex(24))
}

fn webhook(state: &mut State) -> IncomingWebhook {
    IncomingWebhook {
        channel: "#general",
        channel_id: "C0LOCAL01",
        configuration_url: format!("https://{TEAM_ID}.slack.com/services/B0LOCAL01"),
        url: format!(
            "https://hooks.slack.com/services/{TEAM_ID}/B0LOCAL01/{}",
            state.random_hex(24)
        ),
    }
}

/// `grant_type=refresh_token`: rotates (the old refresh token dies).
fn refresh(
    form: &super::request::Form,
    client: &super::request::Client,
    state: &mut State,
) -> Reply {
    let Some(old) = form.get("refresh_token") else {
        return error("invalid_refresh_token");
    };
    let scope = match state.refresh_grant(old) {
        Some(g)
            if g.provider == ProviderKind::Slack
                && g.client_id == client.registration.client_id =>
        {
            g.scope.clone()
        }
        _ => return error("invalid_refresh_token"),
    };
    state.revoke_refresh(old);
    let new_refresh = format!("xoxe-1-{}", state.random_hex(40));
    state.store_refresh(
        &new_refresh,
        ProviderKind::Slack,
        &client.registration.client_id,
        &scope,
    );
    let access_token = format!("xoxe.xoxb-1-{}", state.random_hex(48));
    let lifetime = state.lifecycle.lifetime_secs(ROTATION_EXPIRES_IN);
    let user = super::lifecycle::user_rotation(state, old, lifetime);
    state
        .lifecycle
        .refreshed(old, Some(&new_refresh), &access_token, lifetime);
    slack_ok(&V2Success {
        authed_user: user.map(|(access_token, refresh_token)| AuthedUser {
            id: USER_ID,
            scope: "search:read",
            access_token,
            token_type: "user",
            refresh_token: Some(refresh_token),
            expires_in: Some(lifetime),
        }),
        ..V2Success::bot(access_token, &scope, Some(lifetime), Some(new_refresh))
    })
}

/// `POST /api/oauth.access` (legacy v1): code exchange only; the success body has no `ok`.
pub(super) fn oauth_access(req: &HttpRequest, state: &mut State) -> Reply {
    let (form, client) = match preamble(req, state) {
        Ok((form, client, SlackGrant::Code)) => (form, client),
        Ok(_) => return error("invalid_grant_type"),
        Err(reply) => return reply,
    };
    let grant = match state.redeem_form_code(&form, &client.registration, client.public) {
        Ok(grant) => grant,
        Err(e) => return code_error(e),
    };
    let scope = grant.scope.unwrap_or_else(|| "identify".to_owned());
    let access_token = format!(
        "xoxp-{}-{}-{}",
        state.serial(),
        state.serial(),
        state.random_hex(32)
    );
    slack_ok(&V1Success {
        access_token,
        scope: &scope,
        team_name: TEAM_NAME,
        team_id: TEAM_ID,
        enterprise_id: None,
    })
}
