//! Owned results for std users: the token set with `expires_at`, every parsed field
//! under the provider's own names, redacted `Debug`, and `serde::Serialize`.

use std::time::{SystemTime, UNIX_EPOCH};

use picoauth::exchange::{self, Answer, InterpretError, Outcome, ProviderError, Token};
use picoauth::http::response::{Response, ResponseReader, RetryAfter};
use picoauth::json::JsonStr;
use picoauth::provider::ProviderKind;
use serde::Serialize;
use serde_json::{Map, Value};

/// An owned secret: `Debug` and `Display` show at most a short prefix; `Serialize`
/// writes the value itself (for storage), and [`expose`](Self::expose) reads it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(")?;
        picoauth::secret::fmt_redacted(f, self.0.chars())?;
        f.write_str(")")
    }
}

impl core::fmt::Display for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        picoauth::secret::fmt_redacted(f, self.0.chars())
    }
}

/// `s` redacted as the core redacts secrets.
pub fn redacted(s: &str) -> String {
    Secret::new(s).to_string()
}

/// One parsed field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A string, unescaped.
    Str(String),
    /// A secret string.
    Secret(Secret),
    /// A number.
    Int(i64),
    /// A number above `i64::MAX`, kept exactly.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// A nested object.
    Object(Fields),
    /// A list.
    List(Vec<Self>),
}

/// Parsed fields under the provider's own names, in the provider's model order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(pub Vec<(String, Field)>);

impl Fields {
    fn push(&mut self, name: &str, v: Field) {
        self.0.push((name.to_owned(), v));
    }
    fn str(&mut self, name: &str, v: Option<JsonStr<'_>>) {
        if let Some(v) = v {
            self.push(name, Field::Str(decode(v)));
        }
    }
    fn secret(&mut self, name: &str, v: Option<JsonStr<'_>>) {
        if let Some(v) = v {
            self.push(name, Field::Secret(Secret(decode(v))));
        }
    }
    fn int(&mut self, name: &str, v: Option<impl Into<i128>>) {
        if let Some(v) = v {
            self.push(name, int_field(v.into()));
        }
    }
    fn bool(&mut self, name: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.push(name, Field::Bool(v));
        }
    }
    fn object(&mut self, name: &str, v: Option<Self>) {
        if let Some(v) = v {
            self.push(name, Field::Object(v));
        }
    }

    /// The fields as a JSON object; secrets redacted unless `show_secrets`.
    pub fn to_json(&self, show_secrets: bool) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), field_json(v, show_secrets)))
                .collect::<Map<_, _>>(),
        )
    }

    /// A field by name.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

fn field_json(f: &Field, show: bool) -> Value {
    match f {
        Field::Str(s) => Value::String(s.clone()),
        Field::Secret(s) if show => Value::String(s.expose().to_owned()),
        Field::Secret(s) => Value::String(s.to_string()),
        Field::Int(i) => Value::from(*i),
        Field::UInt(u) => Value::from(*u),
        Field::Bool(b) => Value::Bool(*b),
        Field::Object(o) => o.to_json(show),
        Field::List(l) => Value::Array(l.iter().map(|x| field_json(x, show)).collect()),
    }
}

/// An integer as the field that holds it exactly (`i64`, or `u64` above `i64::MAX`;
/// the core's integers are `i64` or `u64`, so nothing is clamped).
fn int_field(v: i128) -> Field {
    match (i64::try_from(v), u64::try_from(v)) {
        (Ok(i), _) => Field::Int(i),
        (_, Ok(u)) => Field::UInt(u),
        // Not reachable from the core's types; kept exact as text all the same.
        _ => Field::Str(v.to_string()),
    }
}

fn decode(s: JsonStr<'_>) -> String {
    s.chars().collect()
}

/// A token set, owned, with `expires_at` computed when it was received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

fn opt_secret(v: Option<JsonStr<'_>>) -> Option<Secret> {
    v.map(|s| Secret(decode(s)))
}

fn opt_string(v: Option<JsonStr<'_>>) -> Option<String> {
    v.map(decode)
}

impl TokenSet {
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

    /// The command line's JSON object:
    /// `{"outcome":…,"http_status":N,"retry_after":N,"www_authenticate":…,"fields":{…}}`
    /// (`retry_after` and `www_authenticate` only when present).
    pub fn to_json(&self, show_secrets: bool) -> Value {
        let mut m = Map::new();
        m.insert("outcome".into(), Value::from(self.kind()));
        m.insert("http_status".into(), Value::from(self.status()));
        if let Self::RateLimited {
            retry_after: Some(r),
            ..
        } = self
        {
            m.insert("retry_after".into(), Value::from(*r));
        }
        if let Some(w) = self.www_authenticate() {
            m.insert("www_authenticate".into(), Value::from(w));
        }
        let fields = match self {
            Self::Token { fields, .. }
            | Self::Error { fields, .. }
            | Self::RateLimited { fields, .. } => fields.to_json(show_secrets),
            Self::HttpError { .. } => Value::Object(Map::new()),
        };
        m.insert("fields".into(), fields);
        Value::Object(m)
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

fn team_fields(id: Option<JsonStr<'_>>, name: Option<JsonStr<'_>>) -> Fields {
    let mut f = Fields::default();
    f.str("id", id);
    f.str("name", name);
    f
}

fn webhook_fields(w: &picoauth::json::slack::IncomingWebhook<'_>) -> Fields {
    let mut f = Fields::default();
    f.str("channel", w.channel);
    f.str("channel_id", w.channel_id);
    f.str("configuration_url", w.configuration_url);
    f.secret("url", w.url.map(|u| u.expose()));
    f
}

/// Slack's `warning` and `response_metadata.warnings`, merged in order, each once.
fn warnings_field(f: &mut Fields, w: &picoauth::json::slack::Warnings<'_>) {
    let mut list: Vec<Field> = Vec::new();
    for x in w.iter() {
        let text = match x {
            picoauth::json::slack::SlackWarning::Other(s) => decode(s),
            known => known.as_str().to_owned(),
        };
        let item = Field::Str(text);
        if !list.contains(&item) {
            list.push(item);
        }
    }
    if !list.is_empty() {
        f.push("warnings", Field::List(list));
    }
}

/// The members Slack's envelope carries that `warnings` replaces.
const SLACK_MERGED: &[&str] = &["warning", "response_metadata"];

/// The most members and list elements copied from the parts of a body the provider
/// model does not name (extension members and what they nest), per body. Copying is
/// linear in the body; past this cap [`parse_body`] and [`parse_response`] refuse the
/// body with [`ParseError::TooManyMembers`], and the clients' outcomes
/// ([`OwnedOutcome::from_outcome`]) keep the first ones only.
pub const MAX_MEMBERS: usize = 4096;

/// Whether a member named `name` holds a secret: `*token*` (but not `token_type`),
/// `*secret*`, `*password*`, `code`, or a webhook's `url`. Such string values are
/// redacted unless secrets are asked for.
pub fn is_secret_name(name: &str, in_webhook: bool) -> bool {
    let n = name.to_ascii_lowercase();
    (n.contains("token") && n != "token_type")
        || n.contains("secret")
        || n.contains("password")
        || n == "code"
        || (in_webhook && n == "url")
}

/// What is left of [`MAX_MEMBERS`] while copying one body.
struct Budget {
    left: usize,
    exceeded: bool,
}

impl Budget {
    const fn new() -> Self {
        Self {
            left: MAX_MEMBERS,
            exceeded: false,
        }
    }

    /// Takes one member; `false` once the cap is reached.
    fn take(&mut self) -> bool {
        if self.left == 0 {
            self.exceeded = true;
            return false;
        }
        self.left -= 1;
        true
    }
}

/// Copies a JSON value the provider model does not name; `name` is its member name
/// (for redaction), `in_webhook` whether it lies in a webhook object.
fn value_field(
    name: &str,
    v: picoauth::json::value::Value<'_>,
    in_webhook: bool,
    budget: &mut Budget,
) -> Option<Field> {
    use picoauth::json::value::Value;
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Field::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Field::Int(i),
            (None, Some(u)) => Field::UInt(u),
            _ => Field::Str(n.as_str().to_owned()),
        },
        Value::String(s) if is_secret_name(name, in_webhook) => Field::Secret(Secret(decode(s))),
        Value::String(s) => Field::Str(decode(s)),
        Value::Object(o) => {
            let webhook = in_webhook || name.to_ascii_lowercase().contains("webhook");
            let mut f = Fields::default();
            for (k, v) in o.members() {
                if !budget.take() {
                    break;
                }
                let k = decode(k);
                if let Some(v) = value_field(&k, v, webhook, budget) {
                    f.0.push((k, v));
                }
            }
            Field::Object(f)
        }
        Value::Array(a) => {
            let mut list = Vec::new();
            for v in a.elements() {
                if !budget.take() {
                    break;
                }
                list.extend(value_field(name, v, in_webhook, budget));
            }
            Field::List(list)
        }
    })
}

/// Adds every member of `o` that `f` does not hold yet and `skip` does not name,
/// verbatim (secret-named ones as secrets).
fn extensions(
    f: &mut Fields,
    o: &picoauth::json::value::Object<'_>,
    skip: &[&str],
    budget: &mut Budget,
) {
    for (k, v) in o.members() {
        let k = decode(k);
        if skip.contains(&k.as_str()) || f.get(&k).is_some() {
            continue;
        }
        if !budget.take() {
            break;
        }
        if let Some(v) = value_field(&k, v, false, budget) {
            f.0.push((k, v));
        }
    }
}

/// `fields` of the known object `name` of `parent`, with the members the provider model
/// does not name added verbatim (a field Slack adds inside `authed_user`, say).
fn with_unknown(
    mut fields: Fields,
    parent: &picoauth::json::value::Object<'_>,
    name: &str,
    budget: &mut Budget,
) -> Fields {
    if let Some(picoauth::json::value::Value::Object(o)) = parent.get(name) {
        if name.contains("webhook") {
            // Every member of a webhook object goes through the webhook redaction rule.
            for (k, v) in o.members() {
                let k = decode(k);
                if fields.get(&k).is_some() || !budget.take() {
                    continue;
                }
                if let Some(v) = value_field(&k, v, true, budget) {
                    fields.0.push((k, v));
                }
            }
        } else {
            extensions(&mut fields, &o, &[], budget);
        }
    }
    fields
}

/// Slack's `response_metadata` without its `warnings` (merged into `warnings`), when
/// anything else is in it.
fn slack_metadata(f: &mut Fields, o: &picoauth::json::value::Object<'_>, budget: &mut Budget) {
    use picoauth::json::value::Value;
    let Some(Value::Object(meta)) = o.get("response_metadata") else {
        return;
    };
    let mut m = Fields::default();
    extensions(&mut m, &meta, &["warnings"], budget);
    if !m.0.is_empty() {
        f.push("response_metadata", Field::Object(m));
    }
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
                        TokenSet {
                            access_token: secret_of(u.access_token.map(|a| a.expose())),
                            token_type: string_of(u.token_type),
                            refresh_token: secret_of(u.refresh_token.map(|a| a.expose())),
                            expires_in: u.expires_in,
                            scope: string_of(u.scope),
                            ..TokenSet::default()
                        }
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
                    access_token: secret_of(t.access_token.map(|a| a.expose())),
                    token_type: string_of(t.token_type),
                    refresh_token: secret_of(t.refresh_token.map(|a| a.expose())),
                    expires_in: t.expires_in,
                    scope: string_of(t.scope),
                    user,
                    ..TokenSet::default()
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
                TokenSet {
                    access_token: secret_of(Some(t.access_token.expose())),
                    token_type: string_of(t.token_type),
                    expires_in: t.expires_in,
                    scope: string_of(t.scope),
                    ..TokenSet::default()
                }
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
                    access_token: secret_of(Some(t.access_token.expose())),
                    token_type: string_of(t.token_type),
                    refresh_token: secret_of(t.refresh_token.map(|a| a.expose())),
                    expires_in: t.expires_in,
                    scope: string_of(t.scope),
                    refresh_token_expires_at: refresh_at,
                    ..TokenSet::default()
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
                    access_token: secret_of(Some(t.access_token.expose())),
                    token_type: Some(token_type),
                    refresh_token: secret_of(t.refresh_token.map(|a| a.expose())),
                    expires_in: t.expires_in,
                    scope: string_of(t.scope),
                    id_token: secret_of(t.id_token.map(|a| a.expose())),
                    ..TokenSet::default()
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

use {opt_secret as secret_of, opt_string as string_of};

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"ok":true,"access_token":"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy","token_type":"bot","refresh_token":"xoxe-1-My0xLTEyMzQ1Njc4OTAxMi0xMjM0","expires_in":43200,"authed_user":{"id":"U1","access_token":"xoxp-1234567890-abcdefghijkl","refresh_token":"xoxe-1-userrefreshsecretvalue"},"incoming_webhook":{"url":"https:\/\/hooks.slack.com\/services\/T000\/B000\/XXXXSECRETXXXX"}}"#;
    const SECRETS: &[&str] = &[
        "pdFZKVeTuE8sk7oOcBrzbqgy",
        "My0xLTEyMzQ1Njc4OTAxMi0xMjM0",
        "abcdefghijkl",
        "userrefreshsecretvalue",
        "XXXXSECRETXXXX",
    ];

    #[test]
    fn unknown_members_inside_known_objects_are_printed_and_redacted_by_name() {
        let body = br##"{"ok":true,"access_token":"xoxb-1","token_type":"bot","team":{"id":"T1","name":"n","domain":"acme"},"enterprise":null,"authed_user":{"id":"U1","new_field":"x","id_token":"USERIDTOKENSECRET"},"incoming_webhook":{"url":"https://hooks.example/HOOKSECRET","channel":"#c"}}"##;
        let o = parse_body(ProviderKind::SlackV2, 200, body).unwrap();
        let json = o.to_json(false);
        assert_eq!(json["fields"]["team"]["domain"], "acme", "{json}");
        assert_eq!(json["fields"]["authed_user"]["new_field"], "x", "{json}");
        assert_eq!(
            json["fields"]["incoming_webhook"]["channel"], "#c",
            "{json}"
        );
        let text = json.to_string();
        for s in ["USERIDTOKENSECRET", "HOOKSECRET"] {
            assert!(!text.contains(s), "{s} leaks: {text}");
        }
        assert!(o.to_json(true).to_string().contains("USERIDTOKENSECRET"));

        let v1 = br#"{"access_token":"xoxp-1","scope":"read","bot":{"bot_user_id":"B1","bot_access_token":"xoxb-BOTSECRET","bot_extra":"y"}}"#;
        let o = parse_body(ProviderKind::SlackV1, 200, v1).unwrap();
        let json = o.to_json(false);
        assert_eq!(json["fields"]["bot"]["bot_extra"], "y", "{json}");
        assert!(!json.to_string().contains("BOTSECRET"));
    }

    #[test]
    fn debug_and_json_never_show_secrets_unless_asked() {
        let o = parse_body(ProviderKind::SlackV2, 200, BODY).unwrap();
        let debug = format!("{o:?} {:?}", o.tokens());
        let json = o.to_json(false).to_string();
        for s in SECRETS {
            assert!(!debug.contains(s), "Debug leaks {s}: {debug}");
            assert!(!json.contains(s), "JSON leaks {s}: {json}");
        }
        let shown = o.to_json(true).to_string();
        for s in SECRETS {
            assert!(shown.contains(s), "--show-secrets must show {s}");
        }
        // Storage: Serialize writes the real values, and `expires_at` is set.
        let t = o.tokens().unwrap();
        let stored = serde_json::to_string(t).unwrap();
        assert!(stored.contains("pdFZKVeTuE8sk7oOcBrzbqgy"));
        let at = t.expires_at.unwrap();
        assert!(at >= now_unix() + 43_190 && at <= now_unix() + 43_200);
        assert!(!t.is_expired());
        assert_eq!(
            t.user
                .as_ref()
                .unwrap()
                .refresh_token
                .as_ref()
                .unwrap()
                .expose(),
            "xoxe-1-userrefreshsecretvalue"
        );
    }
}
