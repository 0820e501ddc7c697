//! Slack `oauth.v2.access` and legacy `oauth.access` bodies.
//!
//! Slack answers errors with `ok:false` and HTTP 200, so `ok` decides between
//! token and error, not the status. The token-rotation refresh grant may also answer
//! with an RFC 6749 shaped `{"error":"invalid_grant","error_description":"…"}` and
//! no `ok`; that is an error too.
//!
//! ```
//! use picoauth::json::slack::{self, SlackErrorCode, SlackV2};
//! let body = br#"{"ok":false,"error":"invalid_code","warning":"superfluous_charset"}"#;
//! let SlackV2::Error(e) = slack::parse_v2(body).unwrap() else { panic!() };
//! assert_eq!(e.code, SlackErrorCode::InvalidCode);
//! assert_eq!(e.code.as_str(), "invalid_code");
//! assert_eq!(e.warnings.iter().next(), Some(slack::SlackWarning::SuperfluousCharset));
//! ```

use super::fields::{fields, opt_bool, opt_object, opt_str, opt_str_array, opt_u64, root, Field};
use super::reader::Reader;
use super::value::{Array, Elements, Object, Value};
use super::{AccessToken, JsonError, JsonStr, RefreshToken, Scopes, WebhookUrl};
use crate::codes::codes;

/// An `oauth.v2.access` answer.
// The token variant is a few hundred bytes of borrowed slices; without `alloc`
// there is nothing to box it in, and the answer is returned by value once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackV2<'b> {
    /// `ok:true`.
    Token(SlackV2Token<'b>),
    /// `ok:false`, or no `ok` but an `error`.
    Error(SlackError<'b>),
}

/// The token part of an `oauth.v2.access` answer.
///
/// Every field is optional: a user-scopes-only install has no top-level
/// `access_token`, and `{"ok":true}` alone is a valid (if useless) answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SlackV2Token<'b> {
    /// The bot token (`xoxb-…`), or the user token on a user-token refresh.
    pub access_token: Option<AccessToken<'b>>,
    /// `bot` or `user`.
    pub token_type: Option<JsonStr<'b>>,
    /// Comma-separated granted scopes; see [`scopes`](Self::scopes).
    pub scope: Option<JsonStr<'b>>,
    /// The bot user's id.
    pub bot_user_id: Option<JsonStr<'b>>,
    /// The app's id.
    pub app_id: Option<JsonStr<'b>>,
    /// The workspace.
    pub team: Option<Team<'b>>,
    /// The Enterprise Grid organization (`null` → `None`).
    pub enterprise: Option<Enterprise<'b>>,
    /// Whether the app was installed on a whole organization.
    pub is_enterprise_install: Option<bool>,
    /// The installing user and their user token, if user scopes were asked.
    pub authed_user: Option<AuthedUser<'b>>,
    /// The incoming webhook created by the install.
    pub incoming_webhook: Option<IncomingWebhook<'b>>,
    /// The rotation refresh token (`xoxe-1-…`) when token rotation is on.
    pub refresh_token: Option<RefreshToken<'b>>,
    /// Seconds until `access_token` expires, when token rotation is on.
    pub expires_in: Option<u64>,
    /// Warnings Slack attached to the answer.
    pub warnings: Warnings<'b>,
    /// The whole object, to read members this model does not name.
    pub object: Object<'b>,
}

impl<'b> SlackV2Token<'b> {
    /// The granted scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes::of(self.scope)
    }
}

/// A workspace (`team`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Team<'b> {
    /// `T…` id.
    pub id: Option<JsonStr<'b>>,
    /// Display name.
    pub name: Option<JsonStr<'b>>,
}

/// An Enterprise Grid organization (`enterprise`). Empty strings stay `Some("")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Enterprise<'b> {
    /// `E…` id.
    pub id: Option<JsonStr<'b>>,
    /// Display name.
    pub name: Option<JsonStr<'b>>,
}

/// The installing user (`authed_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuthedUser<'b> {
    /// `U…` or `W…` id.
    pub id: Option<JsonStr<'b>>,
    /// Comma-separated user scopes.
    pub scope: Option<JsonStr<'b>>,
    /// The user token (`xoxp-…`), if user scopes were granted.
    pub access_token: Option<AccessToken<'b>>,
    /// `user`.
    pub token_type: Option<JsonStr<'b>>,
    /// The user token's rotation refresh token.
    pub refresh_token: Option<RefreshToken<'b>>,
    /// Seconds until the user token expires.
    pub expires_in: Option<u64>,
}

impl<'b> AuthedUser<'b> {
    /// The granted user scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes::of(self.scope)
    }
}

/// The incoming webhook created by an install with the `incoming-webhook` scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct IncomingWebhook<'b> {
    /// Channel name (`#general`).
    pub channel: Option<JsonStr<'b>>,
    /// Channel id.
    pub channel_id: Option<JsonStr<'b>>,
    /// Where the user manages the webhook.
    pub configuration_url: Option<JsonStr<'b>>,
    /// The webhook URL; a secret.
    pub url: Option<WebhookUrl<'b>>,
}

/// The legacy `bot` object of `oauth.access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Bot<'b> {
    /// The bot user's id.
    pub bot_user_id: Option<JsonStr<'b>>,
    /// The bot token (`xoxb-…`).
    pub bot_access_token: Option<AccessToken<'b>>,
}

/// A Slack error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlackError<'b> {
    /// The `error` code; [`SlackErrorCode::Other`] with an empty string when `ok`
    /// was `false` but no `error` was given.
    pub code: SlackErrorCode<'b>,
    /// `error_description`, sent by the RFC 6749 shaped refresh errors.
    pub description: Option<JsonStr<'b>>,
    /// Warnings Slack attached to the answer.
    pub warnings: Warnings<'b>,
    /// The whole object, to read members this model does not name.
    pub object: Object<'b>,
}

codes! {
    /// A Slack `error` code: every code of the `oauth.v2.access` and `oauth.access`
    /// docs plus the common Web API ones.
    SlackErrorCode(Other: JsonStr<'b>, |s| s.raw()) {
        /// `invalid_code`: the `code` was invalid (or already used).
        InvalidCode = "invalid_code",
        /// `bad_redirect_uri`: `redirect_uri` differs from the authorize request's.
        BadRedirectUri = "bad_redirect_uri",
        /// `invalid_client_id`.
        InvalidClientId = "invalid_client_id",
        /// `bad_client_secret`.
        BadClientSecret = "bad_client_secret",
        /// `invalid_grant_type`.
        InvalidGrantType = "invalid_grant_type",
        /// `oauth_authorization_url_mismatch`: the flow started on the v1 authorize URL.
        OauthAuthorizationUrlMismatch = "oauth_authorization_url_mismatch",
        /// `preview_feature_not_available`.
        PreviewFeatureNotAvailable = "preview_feature_not_available",
        /// `invalid_arguments`.
        InvalidArguments = "invalid_arguments",
        /// `invalid_arg_name`.
        InvalidArgName = "invalid_arg_name",
        /// `invalid_array_arg`.
        InvalidArrayArg = "invalid_array_arg",
        /// `invalid_charset`.
        InvalidCharset = "invalid_charset",
        /// `invalid_form_data`.
        InvalidFormData = "invalid_form_data",
        /// `invalid_post_type`.
        InvalidPostType = "invalid_post_type",
        /// `missing_post_type`.
        MissingPostType = "missing_post_type",
        /// `team_added_to_org`: the workspace is migrating to an organization.
        TeamAddedToOrg = "team_added_to_org",
        /// `request_timeout`: the POST data was missing or truncated.
        RequestTimeout = "request_timeout",
        /// `fatal_error`.
        FatalError = "fatal_error",
        /// `invalid_auth`.
        InvalidAuth = "invalid_auth",
        /// `not_authed`.
        NotAuthed = "not_authed",
        /// `ratelimited`: retry after the `Retry-After` delay.
        Ratelimited = "ratelimited",
        /// `invalid_refresh_token`.
        InvalidRefreshToken = "invalid_refresh_token",
        /// `invalid_grant` (RFC 6749 shaped refresh error).
        InvalidGrant = "invalid_grant",
    }
}

codes! {
    /// One Slack warning.
    SlackWarning(Other: JsonStr<'b>, |s| s.raw()) {
        /// `missing_charset`.
        MissingCharset = "missing_charset",
        /// `superfluous_charset`.
        SuperfluousCharset = "superfluous_charset",
    }
}

/// The warnings of an answer: the comma-separated top-level `warning` followed by
/// the `response_metadata.warnings` array. Nothing is stored; iterating lexes the
/// borrowed text again.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Warnings<'b> {
    csv: Option<JsonStr<'b>>,
    list: Option<Array<'b>>,
}

impl<'b> Warnings<'b> {
    /// The warnings, in order.
    pub fn iter(&self) -> WarningsIter<'b> {
        WarningsIter {
            csv: Scopes::of(self.csv),
            list: self.list.map(|a| a.elements()),
        }
    }

    /// Whether there is no warning at all.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl core::fmt::Debug for Warnings<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'b> IntoIterator for Warnings<'b> {
    type Item = SlackWarning<'b>;
    type IntoIter = WarningsIter<'b>;

    fn into_iter(self) -> WarningsIter<'b> {
        self.iter()
    }
}

/// Iterator over [`Warnings`].
#[derive(Debug, Clone)]
pub struct WarningsIter<'b> {
    csv: Scopes<'b>,
    list: Option<Elements<'b>>,
}

impl<'b> Iterator for WarningsIter<'b> {
    type Item = SlackWarning<'b>;

    fn next(&mut self) -> Option<SlackWarning<'b>> {
        if let Some(s) = self.csv.next() {
            return Some(SlackWarning::from_wire(s));
        }
        let list = self.list.as_mut()?;
        loop {
            // Elements were checked to be strings; empty ones are skipped.
            match list.next()? {
                Value::String(s) if !s.is_empty() => return Some(SlackWarning::from_wire(s)),
                _ => {}
            }
        }
    }
}

/// Declares the known members of a Slack answer: the envelope's (read by
/// [`Envelope::member`]), then the version's own.
macro_rules! answer_fields {
    ($name:ident { $($variant:ident = $wire:literal,)* }) => {
        fields! {
            $name {
                Ok = "ok",
                Error = "error",
                ErrorDescription = "error_description",
                Warning = "warning",
                ResponseMetadata = "response_metadata",
                $($variant = $wire,)*
            }
        }
    };
}

answer_fields! {
    V2Field {
        AccessToken = "access_token",
        TokenType = "token_type",
        Scope = "scope",
        BotUserId = "bot_user_id",
        AppId = "app_id",
        Team = "team",
        Enterprise = "enterprise",
        IsEnterpriseInstall = "is_enterprise_install",
        AuthedUser = "authed_user",
        IncomingWebhook = "incoming_webhook",
        RefreshToken = "refresh_token",
        ExpiresIn = "expires_in",
    }
}

fields! {
    IdNameField {
        Id = "id",
        Name = "name",
    }
}

fields! {
    UserField {
        Id = "id",
        Scope = "scope",
        AccessToken = "access_token",
        TokenType = "token_type",
        RefreshToken = "refresh_token",
        ExpiresIn = "expires_in",
    }
}

fields! {
    WebhookField {
        Channel = "channel",
        ChannelId = "channel_id",
        ConfigurationUrl = "configuration_url",
        Url = "url",
    }
}

fields! {
    MetaField {
        Warnings = "warnings",
    }
}

fields! {
    BotField {
        BotUserId = "bot_user_id",
        BotAccessToken = "bot_access_token",
    }
}

/// The members shared by v1 and v2 envelopes: `ok`, `error`, warnings.
#[derive(Default)]
struct Envelope<'b> {
    ok: Option<bool>,
    error: Option<JsonStr<'b>>,
    description: Option<JsonStr<'b>>,
    warnings: Warnings<'b>,
}

impl<'b> Envelope<'b> {
    /// The error, if the envelope says this is one; `Ok(None)` for a success.
    /// `require_ok`: an answer with neither `ok` nor `error` is rejected.
    /// `object` is the whole answer, kept in the error.
    fn error(
        &self,
        object: Object<'b>,
        require_ok: bool,
    ) -> Result<Option<SlackError<'b>>, JsonError> {
        let code = match (self.ok, self.error) {
            (Some(true), _) => return Ok(None),
            (Some(false), code) => code.unwrap_or(JsonStr::EMPTY),
            (None, Some(code)) => code,
            (None, None) if require_ok => return Err(JsonError::MissingField { field: "ok" }),
            (None, None) => return Ok(None),
        };
        Ok(Some(SlackError {
            code: SlackErrorCode::from_wire(code),
            description: self.description,
            warnings: self.warnings,
            object,
        }))
    }

    /// Reads the value of the member called `name` if it is one of the envelope's
    /// (`ok`, `error`, `error_description`, `warning`, `response_metadata`), which
    /// both versions share; `false` for any other member.
    fn member(&mut self, name: &'static str, v: &mut Reader<'b>) -> Result<bool, JsonError> {
        match name {
            "ok" => self.ok = opt_bool(v, name)?,
            "error" => self.error = opt_str(v, name)?,
            "error_description" => self.description = opt_str(v, name)?,
            "warning" => self.warnings.csv = opt_str(v, name)?,
            "response_metadata" => response_metadata(v, &mut self.warnings)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Reads a Slack answer: the envelope's members into an [`Envelope`], every other
/// known member with `each`. The error if the envelope says the answer is one
/// (`require_ok`: see [`Envelope::error`]), otherwise its warnings and the whole
/// object.
fn answer<'b, F: Field>(
    body: &'b [u8],
    require_ok: bool,
    mut each: impl FnMut(F, &mut Reader<'b>) -> Result<(), JsonError>,
) -> Result<Result<(Warnings<'b>, Object<'b>), SlackError<'b>>, JsonError> {
    let mut env = Envelope::default();
    let object = root(body, |f: F, v| {
        if env.member(f.wire(), v)? {
            return Ok(());
        }
        each(f, v)
    })?;
    Ok(match env.error(object, require_ok)? {
        Some(e) => Err(e),
        None => Ok((env.warnings, object)),
    })
}

/// A nested object read into a default `T` by `each`, or `None` for `null`.
fn opt_model<'b, T: Default, F: Field>(
    r: &mut Reader<'b>,
    field: &'static str,
    mut each: impl FnMut(&mut T, F, &mut Reader<'b>) -> Result<(), JsonError>,
) -> Result<Option<T>, JsonError> {
    let mut t = T::default();
    let present = opt_object(r, field, |f, v| each(&mut t, f, v))?;
    Ok(present.then_some(t))
}

fn response_metadata<'b>(r: &mut Reader<'b>, warnings: &mut Warnings<'b>) -> Result<(), JsonError> {
    opt_object(r, "response_metadata", |f: MetaField, r| {
        match f {
            MetaField::Warnings => warnings.list = opt_str_array(r, f.wire())?,
        }
        Ok(())
    })
    .map(|_| ())
}

/// Reads `{id, name}` (team, enterprise).
type IdName<'b> = (Option<JsonStr<'b>>, Option<JsonStr<'b>>);

fn id_name<'b>(r: &mut Reader<'b>, field: &'static str) -> Result<Option<IdName<'b>>, JsonError> {
    opt_model(r, field, |(id, name), f: IdNameField, v| {
        match f {
            IdNameField::Id => *id = opt_str(v, f.wire())?,
            IdNameField::Name => *name = opt_str(v, f.wire())?,
        }
        Ok(())
    })
}

fn authed_user<'b>(
    r: &mut Reader<'b>,
    field: &'static str,
) -> Result<Option<AuthedUser<'b>>, JsonError> {
    opt_model(r, field, |u: &mut AuthedUser<'b>, f: UserField, v| {
        let name = f.wire();
        match f {
            UserField::Id => u.id = opt_str(v, name)?,
            UserField::Scope => u.scope = opt_str(v, name)?,
            UserField::AccessToken => u.access_token = opt_str(v, name)?.map(AccessToken::new),
            UserField::TokenType => u.token_type = opt_str(v, name)?,
            UserField::RefreshToken => u.refresh_token = opt_str(v, name)?.map(RefreshToken::new),
            UserField::ExpiresIn => u.expires_in = opt_u64(v, name)?,
        }
        Ok(())
    })
}

fn incoming_webhook<'b>(
    r: &mut Reader<'b>,
    field: &'static str,
) -> Result<Option<IncomingWebhook<'b>>, JsonError> {
    opt_model(
        r,
        field,
        |w: &mut IncomingWebhook<'b>, f: WebhookField, v| {
            let name = f.wire();
            match f {
                WebhookField::Channel => w.channel = opt_str(v, name)?,
                WebhookField::ChannelId => w.channel_id = opt_str(v, name)?,
                WebhookField::ConfigurationUrl => w.configuration_url = opt_str(v, name)?,
                WebhookField::Url => w.url = opt_str(v, name)?.map(WebhookUrl::new),
            }
            Ok(())
        },
    )
}

fn bot<'b>(r: &mut Reader<'b>, field: &'static str) -> Result<Option<Bot<'b>>, JsonError> {
    opt_model(r, field, |b: &mut Bot<'b>, f: BotField, v| {
        let name = f.wire();
        match f {
            BotField::BotUserId => b.bot_user_id = opt_str(v, name)?,
            BotField::BotAccessToken => {
                b.bot_access_token = opt_str(v, name)?.map(AccessToken::new)
            }
        }
        Ok(())
    })
}

/// Parses an `oauth.v2.access` body (code exchange or token rotation).
///
/// `ok:true` gives a token, `ok:false` an error; without `ok`, an `error` member
/// makes it an error and its absence is [`JsonError::MissingField`] `"ok"`. Every
/// known member is type-checked whichever way the answer goes.
pub fn parse_v2(body: &[u8]) -> Result<SlackV2<'_>, JsonError> {
    let mut t = SlackV2Token::default();
    let said = answer(body, true, |f: V2Field, v| {
        let name = f.wire();
        match f {
            V2Field::Ok
            | V2Field::Error
            | V2Field::ErrorDescription
            | V2Field::Warning
            | V2Field::ResponseMetadata => {} // the envelope's, read by `answer`
            V2Field::AccessToken => t.access_token = opt_str(v, name)?.map(AccessToken::new),
            V2Field::TokenType => t.token_type = opt_str(v, name)?,
            V2Field::Scope => t.scope = opt_str(v, name)?,
            V2Field::BotUserId => t.bot_user_id = opt_str(v, name)?,
            V2Field::AppId => t.app_id = opt_str(v, name)?,
            V2Field::Team => t.team = id_name(v, name)?.map(|(id, name)| Team { id, name }),
            V2Field::Enterprise => {
                t.enterprise = id_name(v, name)?.map(|(id, name)| Enterprise { id, name });
            }
            V2Field::IsEnterpriseInstall => t.is_enterprise_install = opt_bool(v, name)?,
            V2Field::AuthedUser => {
                t.authed_user = authed_user(v, name)?;
            }
            V2Field::IncomingWebhook => {
                t.incoming_webhook = incoming_webhook(v, name)?;
            }
            V2Field::RefreshToken => t.refresh_token = opt_str(v, name)?.map(RefreshToken::new),
            V2Field::ExpiresIn => t.expires_in = opt_u64(v, name)?,
        }
        Ok(())
    })?;
    let (warnings, object) = match said {
        Ok(success) => success,
        Err(e) => return Ok(SlackV2::Error(e)),
    };
    t.warnings = warnings;
    t.object = object;
    Ok(SlackV2::Token(t))
}

/// A legacy `oauth.access` answer.
// The token variant is a few hundred bytes of borrowed slices; without `alloc`
// there is nothing to box it in, and the answer is returned by value once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackV1<'b> {
    /// A token.
    Token(SlackV1Token<'b>),
    /// `ok:false`, or an `error`.
    Error(SlackError<'b>),
}

/// The token part of a legacy `oauth.access` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlackV1Token<'b> {
    /// The user (or workspace-app) token (`xoxp-…`).
    pub access_token: AccessToken<'b>,
    /// Comma-separated granted scopes.
    pub scope: Option<JsonStr<'b>>,
    /// The installing user's id.
    pub user_id: Option<JsonStr<'b>>,
    /// The workspace id.
    pub team_id: Option<JsonStr<'b>>,
    /// The workspace name.
    pub team_name: Option<JsonStr<'b>>,
    /// The organization id (`null` → `None`).
    pub enterprise_id: Option<JsonStr<'b>>,
    /// The incoming webhook created by the install.
    pub incoming_webhook: Option<IncomingWebhook<'b>>,
    /// The bot user and its token.
    pub bot: Option<Bot<'b>>,
    /// `token_type`, sent by workspace apps.
    pub token_type: Option<JsonStr<'b>>,
    /// Seconds until the token expires, when given.
    pub expires_in: Option<u64>,
    /// Warnings Slack attached to the answer.
    pub warnings: Warnings<'b>,
    /// The whole object, to read members this model does not name (`ok` among them).
    pub object: Object<'b>,
}

impl<'b> SlackV1Token<'b> {
    /// The granted scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes::of(self.scope)
    }
}

answer_fields! {
    V1Field {
        AccessToken = "access_token",
        Scope = "scope",
        UserId = "user_id",
        TeamId = "team_id",
        TeamName = "team_name",
        EnterpriseId = "enterprise_id",
        IncomingWebhook = "incoming_webhook",
        Bot = "bot",
        TokenType = "token_type",
        ExpiresIn = "expires_in",
    }
}

/// Parses a legacy `oauth.access` body.
///
/// `ok` may be absent (old answers and the docs' example have none): then the
/// answer is a success unless it has an `error`. A success without `access_token`
/// is [`JsonError::MissingField`].
pub fn parse_v1(body: &[u8]) -> Result<SlackV1<'_>, JsonError> {
    let mut access_token = None;
    let mut t = SlackV1Token {
        access_token: AccessToken::new(JsonStr::EMPTY),
        scope: None,
        user_id: None,
        team_id: None,
        team_name: None,
        enterprise_id: None,
        incoming_webhook: None,
        bot: None,
        token_type: None,
        expires_in: None,
        warnings: Warnings::default(),
        object: Object::default(),
    };
    let said = answer(body, false, |f: V1Field, v| {
        let name = f.wire();
        match f {
            V1Field::Ok
            | V1Field::Error
            | V1Field::ErrorDescription
            | V1Field::Warning
            | V1Field::ResponseMetadata => {} // the envelope's, read by `answer`
            V1Field::AccessToken => access_token = opt_str(v, name)?.map(AccessToken::new),
            V1Field::Scope => t.scope = opt_str(v, name)?,
            V1Field::UserId => t.user_id = opt_str(v, name)?,
            V1Field::TeamId => t.team_id = opt_str(v, name)?,
            V1Field::TeamName => t.team_name = opt_str(v, name)?,
            V1Field::EnterpriseId => t.enterprise_id = opt_str(v, name)?,
            V1Field::IncomingWebhook => {
                t.incoming_webhook = incoming_webhook(v, name)?;
            }
            V1Field::Bot => t.bot = bot(v, name)?,
            V1Field::TokenType => t.token_type = opt_str(v, name)?,
            V1Field::ExpiresIn => t.expires_in = opt_u64(v, name)?,
        }
        Ok(())
    })?;
    let (warnings, object) = match said {
        Ok(success) => success,
        Err(e) => return Ok(SlackV1::Error(e)),
    };
    t.access_token = access_token.ok_or(JsonError::MissingField {
        field: "access_token",
    })?;
    t.warnings = warnings;
    t.object = object;
    Ok(SlackV1::Token(t))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, vec::Vec};

    fn v2_token(body: &[u8]) -> SlackV2Token<'_> {
        match parse_v2(body) {
            Ok(SlackV2::Token(t)) => t,
            other => panic!("{other:?}"),
        }
    }

    fn v2_error(body: &[u8]) -> SlackError<'_> {
        match parse_v2(body) {
            Ok(SlackV2::Error(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ok_decides() {
        let t = v2_token(br#"{"ok":true,"error":"ignored","access_token":"xoxb-1"}"#);
        assert_eq!(
            t.access_token.map(|a| a.expose()),
            Some(JsonStr::from_validated("xoxb-1"))
        );
        let e = v2_error(br#"{"ok":false,"access_token":"xoxb-1","error":"invalid_code"}"#);
        assert_eq!(e.code, SlackErrorCode::InvalidCode);
        let e = v2_error(br#"{"ok":false}"#);
        assert_eq!(e.code.as_str(), "");
        let e =
            v2_error(br#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#);
        assert_eq!(e.code, SlackErrorCode::InvalidGrant);
        assert_eq!(e.description.unwrap(), "Invalid refresh token");
        assert_eq!(
            parse_v2(b"{}"),
            Err(JsonError::MissingField { field: "ok" })
        );
        assert_eq!(
            parse_v2(br#"{"ok":null}"#),
            Err(JsonError::MissingField { field: "ok" })
        );
    }

    #[test]
    fn every_documented_code_round_trips() {
        for code in [
            "invalid_code",
            "bad_redirect_uri",
            "invalid_client_id",
            "bad_client_secret",
            "invalid_grant_type",
            "oauth_authorization_url_mismatch",
            "preview_feature_not_available",
            "invalid_arguments",
            "invalid_arg_name",
            "invalid_array_arg",
            "invalid_charset",
            "invalid_form_data",
            "invalid_post_type",
            "missing_post_type",
            "team_added_to_org",
            "request_timeout",
            "fatal_error",
            "invalid_auth",
            "not_authed",
            "ratelimited",
            "invalid_refresh_token",
            "invalid_grant",
        ] {
            let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
            let e = v2_error(body.as_bytes());
            assert!(!matches!(e.code, SlackErrorCode::Other(_)), "{code}");
            assert_eq!(e.code.as_str(), code);
            assert_eq!(format!("{}", e.code), code);
        }
        let e = v2_error(br#"{"ok":false,"error":"brand_new\u005fcode"}"#);
        assert!(matches!(e.code, SlackErrorCode::Other(s) if s == "brand_new_code"));
        assert_eq!(format!("{}", e.code), "brand_new_code");
        // Escapes are decoded before matching known codes.
        let e = v2_error(br#"{"ok":false,"error":"invalid\u005fcode"}"#);
        assert_eq!(e.code, SlackErrorCode::InvalidCode);
    }

    #[test]
    fn wrong_types_and_duplicates() {
        assert_eq!(
            parse_v2(br#"{"ok":"yes"}"#),
            Err(JsonError::WrongType { field: "ok" })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"team":"x"}"#),
            Err(JsonError::WrongType { field: "team" })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"team":{"id":1}}"#),
            Err(JsonError::WrongType { field: "id" })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"access_token":"a","access_token":"b"}"#),
            Err(JsonError::DuplicateField {
                field: "access_token"
            })
        );
        // A duplicate spelled with an escape is still a duplicate.
        assert_eq!(
            parse_v2(br#"{"ok":true,"access_token":"a","access\u005ftoken":"b"}"#),
            Err(JsonError::DuplicateField {
                field: "access_token"
            })
        );
        // Null then value is a duplicate too.
        assert_eq!(
            parse_v2(br#"{"ok":true,"refresh_token":null,"refresh_token":"b"}"#),
            Err(JsonError::DuplicateField {
                field: "refresh_token"
            })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"authed_user":{"access_token":"a","access_token":"b"}}"#),
            Err(JsonError::DuplicateField {
                field: "access_token"
            })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"expires_in":-1}"#),
            Err(JsonError::InvalidInteger {
                field: "expires_in"
            })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"expires_in":18446744073709551616}"#),
            Err(JsonError::InvalidInteger {
                field: "expires_in"
            })
        );
        assert_eq!(
            parse_v2(br#"{"ok":true,"response_metadata":{"warnings":[1]}}"#),
            Err(JsonError::WrongType { field: "warnings" })
        );
        assert_eq!(parse_v2(b"[]"), Err(JsonError::NotAnObject));
        // Unknown members may repeat and hold anything valid.
        let t = v2_token(br#"{"ok":true,"x":1,"x":[{"y":null}],"needed":"a"}"#);
        assert!(t.access_token.is_none());
    }

    #[test]
    fn warnings_from_both_places() {
        let t = v2_token(
            br#"{"ok":true,"warning":"missing_charset,superfluous_charset","response_metadata":{"warnings":["missing_charset","odd"],"messages":["m"]}}"#,
        );
        let w: Vec<_> = t.warnings.iter().collect();
        assert_eq!(w.len(), 4);
        assert_eq!(w[0], SlackWarning::MissingCharset);
        assert_eq!(w[1], SlackWarning::SuperfluousCharset);
        assert_eq!(w[2], SlackWarning::MissingCharset);
        assert!(matches!(w[3], SlackWarning::Other(s) if s == "odd"));
        assert_eq!(w[3].as_str(), "odd");
        assert!(!t.warnings.is_empty());
        assert!(v2_token(br#"{"ok":true,"warning":""}"#).warnings.is_empty());
        assert!(v2_token(br#"{"ok":true}"#).warnings.is_empty());
    }

    #[test]
    fn v1_ok_optional() {
        let SlackV1::Token(t) = parse_v1(br#"{"access_token":"xoxp-1","scope":"read"}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.access_token.expose(), "xoxp-1");
        assert!(t.scopes().contains("read"));
        let SlackV1::Error(e) = parse_v1(br#"{"error":"invalid_code"}"#).unwrap() else {
            panic!()
        };
        assert_eq!(e.code, SlackErrorCode::InvalidCode);
        assert_eq!(
            parse_v1(br#"{"ok":true}"#),
            Err(JsonError::MissingField {
                field: "access_token"
            })
        );
        assert_eq!(
            parse_v1(br#"{"ok":true,"bot":[]}"#),
            Err(JsonError::WrongType { field: "bot" })
        );
    }
}
