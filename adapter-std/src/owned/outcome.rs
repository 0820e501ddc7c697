//! [`OwnedOutcome`]: a finished exchange copied out of the caller's buffer, with the
//! [`TokenSet`] (`expires_at` set) and every field; [`parse_body`] and
//! [`parse_response`] for saved bodies and responses.

use std::time::{SystemTime, UNIX_EPOCH};

use picoauth::exchange::{self, Answer, InterpretError, Outcome, ProviderError, Token};
use picoauth::http::response::{Response, ResponseReader, RetryAfter};
use picoauth::json::JsonStr;
use picoauth::provider::ProviderKind;

use super::fields::{
    decode, extensions, slack_metadata, team_fields, warnings_field, webhook_fields, with_unknown,
    Budget, Field, Fields, MAX_MEMBERS, SLACK_MERGED,
};
use super::secret::Secret;

/// A token set, owned, with `expires_at` computed when it was received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TokenSet {
    /// The access token (absent on a Slack user-scopes-only install: see `user`).
    pub access_token: Option<Secret>,
    /// `token_type` (`bot`, `user`, `bearer`, …).
    pub token_type: Option<String>,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<Secret>,
    /// `expires_in` seconds, as received.
    pub expires_in: Option<u64>,
    /// Unix time at which the access token expires (receipt time + `expires_in`).
    pub expires_at: Option<u64>,
    /// The granted scope.
    pub scope: Option<String>,
    /// An OpenID Connect `id_token`.
    pub id_token: Option<Secret>,
    /// Unix time at which the refresh token expires (Pinterest).
    pub refresh_token_expires_at: Option<u64>,
    /// Slack's `authed_user` token set.
    pub user: Option<Box<Self>>,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn secret_of(v: Option<JsonStr<'_>>) -> Option<Secret> {
    v.map(|s| Secret::new(decode(s)))
}

fn string_of(v: Option<JsonStr<'_>>) -> Option<String> {
    v.map(decode)
}

impl TokenSet {
    /// A set of the five members every provider's token answer may carry (RFC 6749
    /// §5.1), the rest empty.
    fn of(
        access_token: Option<JsonStr<'_>>,
        token_type: Option<JsonStr<'_>>,
        refresh_token: Option<JsonStr<'_>>,
        expires_in: Option<u64>,
        scope: Option<JsonStr<'_>>,
    ) -> Self {
        Self {
            access_token: secret_of(access_token),
            token_type: string_of(token_type),
            refresh_token: secret_of(refresh_token),
            expires_in,
            scope: string_of(scope),
            ..Self::default()
        }
    }

    fn with_expiry(mut self) -> Self {
        let now = now_unix();
        self.expires_at = self.expires_in.map(|e| now.saturating_add(e));
        self
    }

    /// Whether the access token has expired (false when no expiry is known).
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|t| now_unix() >= t)
    }
}

/// An exchange's outcome, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum OwnedOutcome {
    /// Tokens.
    Token {
        /// The HTTP status.
        status: u16,
        /// The token set.
        tokens: TokenSet,
        /// Every parsed field.
        fields: Fields,
    },
    /// The provider refused.
    Error {
        /// The HTTP status (Slack: 200).
        status: u16,
        /// The error code as sent (Pinterest's numeric code as text).
        code: String,
        /// A human description, when sent.
        description: Option<String>,
        /// The `WWW-Authenticate` challenge sent with the error (RFC 6749 §5.2 asks for
        /// one with a 401 `invalid_client` after Basic authentication).
        www_authenticate: Option<String>,
        /// Every parsed field.
        fields: Fields,
    },
    /// Rate limited.
    RateLimited {
        /// The HTTP status.
        status: u16,
        /// `Retry-After` in seconds, when sent as seconds.
        retry_after: Option<u64>,
        /// The error code, when a body came.
        code: Option<String>,
        /// Every parsed field.
        fields: Fields,
    },
    /// An undocumented status with a body that is no error shape.
    HttpError {
        /// The HTTP status.
        status: u16,
        /// The `WWW-Authenticate` challenge, when one came (a 401 without an error body).
        www_authenticate: Option<String>,
    },
}

impl OwnedOutcome {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Token { status, .. }
            | Self::Error { status, .. }
            | Self::RateLimited { status, .. }
            | Self::HttpError { status, .. } => *status,
        }
    }

    /// The `WWW-Authenticate` challenge that came with an error or unexpected status.
    pub fn www_authenticate(&self) -> Option<&str> {
        match self {
            Self::Error {
                www_authenticate, ..
            }
            | Self::HttpError {
                www_authenticate, ..
            } => www_authenticate.as_deref(),
            _ => None,
        }
    }

    /// The token set, for a token outcome.
    pub fn tokens(&self) -> Option<&TokenSet> {
        match self {
            Self::Token { tokens, .. } => Some(tokens),
            _ => None,
        }
    }

    /// The provider's error code, for an error or a rate limit with a body.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Error { code, .. } => Some(code),
            Self::RateLimited { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// `token`, `error`, `rate_limited` or `http_error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Token { .. } => "token",
            Self::Error { .. } => "error",
            Self::RateLimited { .. } => "rate_limited",
            Self::HttpError { .. } => "http_error",
        }
    }

    /// Copies a finished exchange: the outcome as [`from_outcome`](Self::from_outcome)
    /// does, and the response's `WWW-Authenticate` challenge for an error or an
    /// unexpected status.
    pub fn from_answer(answer: &Answer<'_>) -> Self {
        Self::copy(
            &answer.outcome,
            answer.response.www_authenticate,
            &mut Budget::new(),
        )
    }

    /// Copies a borrowed core outcome: every member the body had, the ones the
    /// provider model names typed, the others verbatim. Past [`MAX_MEMBERS`] members
    /// of the latter, the rest are left out (the typed ones are all kept). The outcome
    /// has no response head, so no `WWW-Authenticate`
    /// ([`from_answer`](Self::from_answer) has one).
    pub fn from_outcome(o: &Outcome<'_>) -> Self {
        Self::copy(o, None, &mut Budget::new())
    }

    /// As [`from_outcome`](Self::from_outcome), refusing a body with more than
    /// [`MAX_MEMBERS`] members the provider model does not name.
    ///
    /// # Errors
    /// [`ParseError::TooManyMembers`].
    pub fn try_from_outcome(o: &Outcome<'_>) -> Result<Self, ParseError> {
        Self::try_copy(o, None)
    }

    /// As [`copy`](Self::copy), refusing a body past the member budget.
    fn try_copy(o: &Outcome<'_>, www_authenticate: Option<&str>) -> Result<Self, ParseError> {
        let mut budget = Budget::new();
        let copied = Self::copy(o, www_authenticate, &mut budget);
        if budget.exceeded {
            return Err(ParseError::TooManyMembers);
        }
        Ok(copied)
    }

    /// The owned copy of `o`; `www_authenticate` is the response head's challenge,
    /// kept for an error or an unexpected status.
    fn copy(o: &Outcome<'_>, www_authenticate: Option<&str>, budget: &mut Budget) -> Self {
        let www_authenticate = www_authenticate.map(str::to_owned);
        match o {
            Outcome::Token { status, token } => {
                let (tokens, fields) = token_parts(token, budget);
                Self::Token {
                    status: *status,
                    tokens: tokens.with_expiry(),
                    fields,
                }
            }
            Outcome::Error { status, error } => {
                let (code, description, fields) = error_parts(error, budget);
                Self::Error {
                    status: *status,
                    code,
                    description,
                    www_authenticate,
                    fields,
                }
            }
            Outcome::RateLimited {
                status,
                retry_after,
                error,
            } => {
                let (code, fields) = match error {
                    Some(e) => {
                        let (c, _, f) = error_parts(e, budget);
                        (Some(c), f)
                    }
                    None => (None, Fields::default()),
                };
                Self::RateLimited {
                    status: *status,
                    retry_after: match retry_after {
                        Some(RetryAfter::Seconds(s)) => Some(u64::from(*s)),
                        _ => None,
                    },
                    code,
                    fields,
                }
            }
            _ => Self::HttpError {
                status: o.status(),
                www_authenticate,
            },
        }
    }
}

/// Why a saved response could not be parsed.
#[derive(Debug)]
pub enum ParseError {
    /// The HTTP framing was malformed or incomplete.
    Response(picoauth::http::response::ResponseError),
    /// The body was not the provider's JSON.
    Interpret(InterpretError),
    /// The body has more than [`MAX_MEMBERS`] members (and list elements) that the
    /// provider model does not name.
    TooManyMembers,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Response(e) => write!(f, "malformed HTTP response: {e}"),
            Self::Interpret(e) => write!(f, "{e}"),
            Self::TooManyMembers => write!(
                f,
                "the body has more than {MAX_MEMBERS} members the provider model does not name"
            ),
        }
    }
}

impl core::error::Error for ParseError {}

/// Interprets a body as `kind`'s answer with HTTP `status` (no `Content-Type`).
///
/// # Errors
/// When the body is not the provider's JSON and the status is a success.
pub fn parse_body(
    kind: ProviderKind,
    status: u16,
    body: &[u8],
) -> Result<OwnedOutcome, ParseError> {
    let o =
        exchange::interpret(kind, &Response::new(status, body)).map_err(ParseError::Interpret)?;
    OwnedOutcome::try_from_outcome(&o)
}

/// Interprets a whole saved HTTP response (the connection closing at its end).
///
/// # Errors
/// Malformed framing, or a body that is not the provider's JSON.
pub fn parse_response(kind: ProviderKind, raw: &[u8]) -> Result<OwnedOutcome, ParseError> {
    // Room beyond the input, so a declared length past its end reads as truncated.
    let mut buf = vec![0u8; raw.len().saturating_add(64 * 1024)];
    let mut reader = ResponseReader::new(&mut buf);
    let (_, status) = reader.feed(raw).map_err(ParseError::Response)?;
    if status != picoauth::http::response::Status::Complete {
        let _complete = reader.finish().map_err(ParseError::Response)?;
    }
    let resp = reader.response().ok_or(ParseError::Response(
        picoauth::http::response::ResponseError::Truncated,
    ))?;
    let o = exchange::interpret(kind, &resp).map_err(ParseError::Interpret)?;
    OwnedOutcome::try_copy(&o, resp.www_authenticate)
}

fn token_parts(t: &Token<'_>, budget: &mut Budget) -> (TokenSet, Fields) {
    let mut f = Fields::default();
    let set =
        match t {
            Token::SlackV2(t) => {
                f.bool("ok", Some(true));
                f.secret("access_token", t.access_token.map(|a| a.expose()));
                f.str("token_type", t.token_type);
                f.str("scope", t.scope);
                f.str("bot_user_id", t.bot_user_id);
                f.str("app_id", t.app_id);
                let team = t
                    .team
                    .map(|x| with_unknown(team_fields(x.id, x.name), &t.object, "team", budget));
                f.object("team", team);
                let enterprise = t.enterprise.map(|x| {
                    with_unknown(team_fields(x.id, x.name), &t.object, "enterprise", budget)
                });
                f.object("enterprise", enterprise);
                f.bool("is_enterprise_install", t.is_enterprise_install);
                let user = t.authed_user.map(|u| {
                    let mut uf = Fields::default();
                    uf.str("id", u.id);
                    uf.str("scope", u.scope);
                    uf.secret("access_token", u.access_token.map(|a| a.expose()));
                    uf.str("token_type", u.token_type);
                    uf.secret("refresh_token", u.refresh_token.map(|a| a.expose()));
                    uf.int("expires_in", u.expires_in);
                    let uf = with_unknown(uf, &t.object, "authed_user", budget);
                    f.object("authed_user", Some(uf));
                    Box::new(
                        TokenSet::of(
                            u.access_token.map(|a| a.expose()),
                            u.token_type,
                            u.refresh_token.map(|a| a.expose()),
                            u.expires_in,
                            u.scope,
                        )
                        .with_expiry(),
                    )
                });
                let webhook = t.incoming_webhook.as_ref().map(|w| {
                    with_unknown(webhook_fields(w), &t.object, "incoming_webhook", budget)
                });
                f.object("incoming_webhook", webhook);
                f.secret("refresh_token", t.refresh_token.map(|a| a.expose()));
                f.int("expires_in", t.expires_in);
                warnings_field(&mut f, &t.warnings);
                extensions(&mut f, &t.object, SLACK_MERGED, budget);
                slack_metadata(&mut f, &t.object, budget);
                TokenSet {
                    user,
                    ..TokenSet::of(
                        t.access_token.map(|a| a.expose()),
                        t.token_type,
                        t.refresh_token.map(|a| a.expose()),
                        t.expires_in,
                        t.scope,
                    )
                }
            }
            Token::SlackV1(t) => {
                f.secret("access_token", Some(t.access_token.expose()));
                f.str("scope", t.scope);
                f.str("user_id", t.user_id);
                f.str("team_id", t.team_id);
                f.str("team_name", t.team_name);
                f.str("enterprise_id", t.enterprise_id);
                let webhook = t.incoming_webhook.as_ref().map(|w| {
                    with_unknown(webhook_fields(w), &t.object, "incoming_webhook", budget)
                });
                f.object("incoming_webhook", webhook);
                let bot = t.bot.map(|b| {
                    let mut bf = Fields::default();
                    bf.str("bot_user_id", b.bot_user_id);
                    bf.secret("bot_access_token", b.bot_access_token.map(|a| a.expose()));
                    with_unknown(bf, &t.object, "bot", budget)
                });
                f.object("bot", bot);
                f.str("token_type", t.token_type);
                f.int("expires_in", t.expires_in);
                warnings_field(&mut f, &t.warnings);
                extensions(&mut f, &t.object, SLACK_MERGED, budget);
                slack_metadata(&mut f, &t.object, budget);
                TokenSet::of(
                    Some(t.access_token.expose()),
                    t.token_type,
                    None,
                    t.expires_in,
                    t.scope,
                )
            }
            Token::Pinterest(t) => {
                f.secret("access_token", Some(t.access_token.expose()));
                f.secret("refresh_token", t.refresh_token.map(|a| a.expose()));
                f.str("response_type", t.response_type);
                f.str("token_type", t.token_type);
                f.int("expires_in", t.expires_in);
                f.int("refresh_token_expires_in", t.refresh_token_expires_in);
                f.int("refresh_token_expires_at", t.refresh_token_expires_at);
                f.str("scope", t.scope);
                extensions(&mut f, &t.object, &[], budget);
                let refresh_at = t.refresh_token_expires_at.or_else(|| {
                    t.refresh_token_expires_in
                        .map(|e| now_unix().saturating_add(e))
                });
                TokenSet {
                    refresh_token_expires_at: refresh_at,
                    ..TokenSet::of(
                        Some(t.access_token.expose()),
                        t.token_type,
                        t.refresh_token.map(|a| a.expose()),
                        t.expires_in,
                        t.scope,
                    )
                }
            }
            Token::Rfc6749(t) => {
                use picoauth::json::rfc6749::TokenType;
                let token_type = match t.token_type {
                    TokenType::Bearer => "Bearer".to_owned(),
                    TokenType::Other(s) => decode(s),
                    _ => String::new(),
                };
                f.secret("access_token", Some(t.access_token.expose()));
                f.push("token_type", Field::Str(token_type.clone()));
                f.int("expires_in", t.expires_in);
                f.secret("refresh_token", t.refresh_token.map(|a| a.expose()));
                f.str("scope", t.scope);
                f.secret("id_token", t.id_token.map(|a| a.expose()));
                extensions(
                    &mut f,
                    &t.object,
                    &[
                        "access_token",
                        "token_type",
                        "expires_in",
                        "refresh_token",
                        "scope",
                        "id_token",
                    ],
                    budget,
                );
                TokenSet {
                    token_type: Some(token_type),
                    id_token: secret_of(t.id_token.map(|a| a.expose())),
                    ..TokenSet::of(
                        Some(t.access_token.expose()),
                        None,
                        t.refresh_token.map(|a| a.expose()),
                        t.expires_in,
                        t.scope,
                    )
                }
            }
            _ => TokenSet::default(),
        };
    (set, f)
}

fn error_parts(e: &ProviderError<'_>, budget: &mut Budget) -> (String, Option<String>, Fields) {
    let mut f = Fields::default();
    match e {
        ProviderError::Slack(e) => {
            let code = e.code.to_string();
            f.bool("ok", Some(false));
            f.push("error", Field::Str(code.clone()));
            f.str("error_description", e.description);
            warnings_field(&mut f, &e.warnings);
            extensions(&mut f, &e.object, SLACK_MERGED, budget);
            slack_metadata(&mut f, &e.object, budget);
            (code, string_of(e.description), f)
        }
        ProviderError::Pinterest(e) => {
            f.int("code", Some(e.code));
            f.str("message", Some(e.message));
            extensions(&mut f, &e.object, &[], budget);
            (e.code.to_string(), Some(decode(e.message)), f)
        }
        ProviderError::Rfc6749(e) => {
            let code = e.code.to_string();
            f.push("error", Field::Str(code.clone()));
            f.str("error_description", e.description);
            f.str("error_uri", e.uri);
            extensions(
                &mut f,
                &e.object,
                &["error", "error_description", "error_uri"],
                budget,
            );
            (code, string_of(e.description), f)
        }
        _ => (String::new(), None, f),
    }
}
