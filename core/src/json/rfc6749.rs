//! RFC 6749 §5.1 token and §5.2 error bodies (plus the RFC 8628 device-flow codes).
//!
//! ```
//! use picoauth::json::rfc6749::{self, Rfc6749ErrorCode, Rfc6749, TokenType};
//! let body = br#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600}"#;
//! let Rfc6749::Token(t) = rfc6749::parse(body).unwrap() else { panic!() };
//! assert_eq!(t.token_type, TokenType::Bearer);
//! assert_eq!(t.expires_in, Some(3600));
//! let Rfc6749::Error(e) = rfc6749::parse(br#"{"error":"slow_down"}"#).unwrap() else { panic!() };
//! assert_eq!(e.code, Rfc6749ErrorCode::SlowDown);
//! ```

use super::fields::{fields, opt_str, opt_u64, root, Field as _};
use super::value::Object;
use super::{AccessToken, IdToken, JsonError, JsonStr, RefreshToken, Scopes};
use crate::codes::codes;

/// An RFC 6749 token-endpoint answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfc6749<'b> {
    /// §5.1 success.
    Token(TokenResponse<'b>),
    /// §5.2 error.
    Error(ErrorResponse<'b>),
}

/// A §5.1 access token response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse<'b> {
    /// `access_token`.
    pub access_token: AccessToken<'b>,
    /// `token_type` (required by §5.1).
    pub token_type: TokenType<'b>,
    /// Seconds until the access token expires (a number, or a digit string).
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    pub refresh_token: Option<RefreshToken<'b>>,
    /// Space-separated granted scopes; see [`scopes`](Self::scopes).
    pub scope: Option<JsonStr<'b>>,
    /// OpenID Connect `id_token`.
    pub id_token: Option<IdToken<'b>>,
    /// The whole object, to read extension members such as `example_parameter`.
    pub object: Object<'b>,
}

impl<'b> TokenResponse<'b> {
    /// The granted scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes::of(self.scope)
    }
}

/// A `token_type`; compared case-insensitively (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenType<'b> {
    /// `Bearer` in any case (RFC 6750).
    Bearer,
    /// Any other type, verbatim.
    Other(JsonStr<'b>),
}

impl<'b> TokenType<'b> {
    /// Classifies a `token_type` value.
    pub fn from_wire(s: JsonStr<'b>) -> Self {
        if s.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else {
            Self::Other(s)
        }
    }
}

/// A §5.2 error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorResponse<'b> {
    /// `error`.
    pub code: Rfc6749ErrorCode<'b>,
    /// `error_description`.
    pub description: Option<JsonStr<'b>>,
    /// `error_uri`.
    pub uri: Option<JsonStr<'b>>,
    /// The whole object, to read extension members.
    pub object: Object<'b>,
}

codes! {
    /// An RFC 6749 §5.2 (and RFC 8628 §3.5) `error` code.
    Rfc6749ErrorCode(Other: JsonStr<'b>, |s| s.raw()) {
        /// `invalid_request`.
        InvalidRequest = "invalid_request",
        /// `invalid_client`.
        InvalidClient = "invalid_client",
        /// `invalid_grant`: bad, expired or revoked code or refresh token.
        InvalidGrant = "invalid_grant",
        /// `unauthorized_client`.
        UnauthorizedClient = "unauthorized_client",
        /// `unsupported_grant_type`.
        UnsupportedGrantType = "unsupported_grant_type",
        /// `invalid_scope`.
        InvalidScope = "invalid_scope",
        /// `access_denied`.
        AccessDenied = "access_denied",
        /// `server_error`.
        ServerError = "server_error",
        /// `temporarily_unavailable`.
        TemporarilyUnavailable = "temporarily_unavailable",
        /// `authorization_pending` (RFC 8628): keep polling.
        AuthorizationPending = "authorization_pending",
        /// `slow_down` (RFC 8628): poll less often.
        SlowDown = "slow_down",
        /// `expired_token` (RFC 8628): the device code expired.
        ExpiredToken = "expired_token",
    }
}

fields! {
    Member {
        AccessToken = "access_token",
        TokenType = "token_type",
        ExpiresIn = "expires_in",
        RefreshToken = "refresh_token",
        Scope = "scope",
        IdToken = "id_token",
        Error = "error",
        ErrorDescription = "error_description",
        ErrorUri = "error_uri",
    }
}

/// Parses an RFC 6749 token-endpoint body.
///
/// A body with `error` is an error, even if it also has an `access_token` (a token
/// inside an error answer is not trusted). Otherwise `access_token` and
/// `token_type` are required; a body with neither `error` nor `access_token` is
/// [`JsonError::MissingField`] `"access_token"`.
pub fn parse(body: &[u8]) -> Result<Rfc6749<'_>, JsonError> {
    let (mut access_token, mut token_type, mut expires_in) = (None, None, None);
    let (mut refresh_token, mut scope, mut id_token) = (None, None, None);
    let (mut error, mut description, mut uri) = (None, None, None);
    let object = root(body, |f: Member, v| {
        let name = f.wire();
        match f {
            Member::AccessToken => access_token = opt_str(v, name)?.map(AccessToken::new),
            Member::TokenType => token_type = opt_str(v, name)?.map(TokenType::from_wire),
            Member::ExpiresIn => expires_in = opt_u64(v, name)?,
            Member::RefreshToken => refresh_token = opt_str(v, name)?.map(RefreshToken::new),
            Member::Scope => scope = opt_str(v, name)?,
            Member::IdToken => id_token = opt_str(v, name)?.map(IdToken::new),
            Member::Error => error = opt_str(v, name)?,
            Member::ErrorDescription => description = opt_str(v, name)?,
            Member::ErrorUri => uri = opt_str(v, name)?,
        }
        Ok(())
    })?;
    if let Some(code) = error {
        return Ok(Rfc6749::Error(ErrorResponse {
            code: Rfc6749ErrorCode::from_wire(code),
            description,
            uri,
            object,
        }));
    }
    let access_token = access_token.ok_or(JsonError::MissingField {
        field: "access_token",
    })?;
    let token_type = token_type.ok_or(JsonError::MissingField {
        field: "token_type",
    })?;
    Ok(Rfc6749::Token(TokenResponse {
        access_token,
        token_type,
        expires_in,
        refresh_token,
        scope,
        id_token,
        object,
    }))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::json::value::Value;

    #[test]
    fn token_type_rules() {
        for (tt, bearer) in [
            ("bearer", true),
            ("BEARER", true),
            ("bEaReR", true),
            ("B\\u0045arer", true),
            ("mac", false),
            ("bearer ", false),
        ] {
            let body = std::format!(r#"{{"access_token":"a","token_type":"{tt}"}}"#);
            let Ok(Rfc6749::Token(t)) = parse(body.as_bytes()) else {
                panic!("{tt}")
            };
            assert_eq!(t.token_type == TokenType::Bearer, bearer, "{tt}");
        }
        assert_eq!(
            parse(br#"{"access_token":"a","token_type":123}"#),
            Err(JsonError::WrongType {
                field: "token_type"
            })
        );
        assert_eq!(
            parse(br#"{"access_token":"a"}"#),
            Err(JsonError::MissingField {
                field: "token_type"
            })
        );
        assert_eq!(
            parse(br#"{"token_type":"bearer"}"#),
            Err(JsonError::MissingField {
                field: "access_token"
            })
        );
    }

    #[test]
    fn error_wins_and_extensions_are_reachable() {
        let Ok(Rfc6749::Error(e)) =
            parse(br#"{"access_token":"a","token_type":"bearer","error":"access_denied","x":[1]}"#)
        else {
            panic!()
        };
        assert_eq!(e.code, Rfc6749ErrorCode::AccessDenied);
        assert!(matches!(e.object.get("x"), Some(Value::Array(_))));
        let Ok(Rfc6749::Token(t)) = parse(br#"{"access_token":"a","token_type":"bearer","id_token":"eyJhbGciOi.x.y","example_parameter":"example_value"}"#) else {
            panic!()
        };
        assert!(
            matches!(t.object.get("example_parameter"), Some(Value::String(s)) if s == "example_value")
        );
        assert_eq!(t.id_token.unwrap().expose(), "eyJhbGciOi.x.y");
        assert_eq!(
            parse(br#"{"access_token":"a","token_type":"bearer","id_token":"1","id_token":"2"}"#),
            Err(JsonError::DuplicateField { field: "id_token" })
        );
    }
}
