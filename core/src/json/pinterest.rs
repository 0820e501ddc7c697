//! Pinterest v5 `POST /v5/oauth/token` bodies.
//!
//! ```
//! use picoauth::json::pinterest::{self, Pinterest};
//! let body = br#"{"access_token":"pina_x","expires_in":"2592000","scope":"boards:read,pins:read"}"#;
//! let Pinterest::Token(t) = pinterest::parse(body).unwrap() else { panic!() };
//! assert_eq!(t.expires_in, Some(2_592_000));
//! assert_eq!(t.scopes().count(), 2);
//! ```

use super::fields::{fields, opt_i64, opt_str, opt_u64, root, Field as _};
use super::{AccessToken, JsonError, JsonStr, RefreshToken, Scopes};

/// A Pinterest token-endpoint answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinterest<'b> {
    /// The body has an `access_token`.
    Token(PinterestToken<'b>),
    /// The body has `code` and `message` (Pinterest's `Error` schema).
    Error(PinterestError<'b>),
}

/// A Pinterest token.
///
/// Integer members accept a number or a string of digits: Pinterest's own
/// quickstart shows `"expires_in": "2592000"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PinterestToken<'b> {
    /// The access token (`pina_…`, `pinc_…`).
    pub access_token: AccessToken<'b>,
    /// The refresh token (`pinr_…`); absent on most refresh answers, where the
    /// old one stays valid.
    pub refresh_token: Option<RefreshToken<'b>>,
    /// The grant the token came from (`authorization_code`, `refresh_token`, …).
    pub response_type: Option<JsonStr<'b>>,
    /// `bearer`.
    pub token_type: Option<JsonStr<'b>>,
    /// Seconds until the access token expires.
    pub expires_in: Option<u64>,
    /// Seconds until the refresh token expires.
    pub refresh_token_expires_in: Option<u64>,
    /// Unix time at which the refresh token expires.
    pub refresh_token_expires_at: Option<u64>,
    /// Granted scopes, comma- or space-separated; see [`scopes`](Self::scopes).
    pub scope: Option<JsonStr<'b>>,
}

impl<'b> PinterestToken<'b> {
    /// The granted scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        self.scope.map_or(Scopes::EMPTY, |s| s.scopes())
    }
}

/// A Pinterest error (`{"code": 2, "message": "Authentication failed."}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PinterestError<'b> {
    /// Pinterest's numeric error code.
    pub code: i64,
    /// The human-readable message.
    pub message: JsonStr<'b>,
}

fields! {
    Member {
        AccessToken = "access_token",
        RefreshToken = "refresh_token",
        ResponseType = "response_type",
        TokenType = "token_type",
        ExpiresIn = "expires_in",
        RefreshTokenExpiresIn = "refresh_token_expires_in",
        RefreshTokenExpiresAt = "refresh_token_expires_at",
        Scope = "scope",
        Code = "code",
        Message = "message",
    }
}

/// Parses a Pinterest token-endpoint body.
///
/// A body with `access_token` is a token; otherwise one with both `code` and
/// `message` is an error; anything else is [`JsonError::MissingField`]
/// `"access_token"`. Every known member is type-checked either way.
pub fn parse(body: &[u8]) -> Result<Pinterest<'_>, JsonError> {
    let mut access_token = None;
    let (mut refresh_token, mut response_type, mut token_type, mut scope) =
        (None, None, None, None);
    let (mut expires_in, mut rt_expires_in, mut rt_expires_at) = (None, None, None);
    let (mut code, mut message) = (None, None);
    root(body, |f: Member, v| {
        let name = f.wire();
        match f {
            Member::AccessToken => access_token = opt_str(v, name)?.map(AccessToken::new),
            Member::RefreshToken => refresh_token = opt_str(v, name)?.map(RefreshToken::new),
            Member::ResponseType => response_type = opt_str(v, name)?,
            Member::TokenType => token_type = opt_str(v, name)?,
            Member::ExpiresIn => expires_in = opt_u64(v, name)?,
            Member::RefreshTokenExpiresIn => rt_expires_in = opt_u64(v, name)?,
            Member::RefreshTokenExpiresAt => rt_expires_at = opt_u64(v, name)?,
            Member::Scope => scope = opt_str(v, name)?,
            Member::Code => code = opt_i64(v, name)?,
            Member::Message => message = opt_str(v, name)?,
        }
        Ok(())
    })?;
    if let Some(access_token) = access_token {
        return Ok(Pinterest::Token(PinterestToken {
            access_token,
            refresh_token,
            response_type,
            token_type,
            expires_in,
            refresh_token_expires_in: rt_expires_in,
            refresh_token_expires_at: rt_expires_at,
            scope,
        }));
    }
    match (code, message) {
        (Some(code), Some(message)) => Ok(Pinterest::Error(PinterestError { code, message })),
        _ => Err(JsonError::MissingField {
            field: "access_token",
        }),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn integers_as_numbers_or_digit_strings() {
        let Ok(Pinterest::Token(t)) = parse(
            br#"{"access_token":"a","expires_in":"30","refresh_token_expires_in":40,"refresh_token_expires_at":"1730227664"}"#,
        ) else {
            panic!()
        };
        assert_eq!(t.expires_in, Some(30));
        assert_eq!(t.refresh_token_expires_in, Some(40));
        assert_eq!(t.refresh_token_expires_at, Some(1_730_227_664));
        for bad in [
            r#""""#,
            r#""-1""#,
            r#""+1""#,
            r#""1.0""#,
            r#""3 ""#,
            r#""\u0033""#,
            "-1",
            "1.5",
            "1e3",
        ] {
            let body = std::format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            assert_eq!(
                parse(body.as_bytes()),
                Err(JsonError::InvalidInteger {
                    field: "expires_in"
                }),
                "{bad}"
            );
        }
        assert_eq!(
            parse(br#"{"access_token":"a","expires_in":true}"#),
            Err(JsonError::WrongType {
                field: "expires_in"
            })
        );
    }

    #[test]
    fn token_or_error_by_content() {
        let Ok(Pinterest::Error(e)) = parse(br#"{"code":-3,"message":"m"}"#) else {
            panic!()
        };
        assert_eq!((e.code, e.message), (-3, JsonStr::from_validated("m")));
        assert_eq!(
            parse(br#"{"code":1}"#),
            Err(JsonError::MissingField {
                field: "access_token"
            })
        );
        assert_eq!(
            parse(br#"{"code":"1","message":"m"}"#),
            Err(JsonError::WrongType { field: "code" })
        );
        assert_eq!(
            parse(br#"{"access_token":null}"#),
            Err(JsonError::MissingField {
                field: "access_token"
            })
        );
        assert!(matches!(
            parse(br#"{"access_token":"a","code":1,"message":"m"}"#),
            Ok(Pinterest::Token(_))
        ));
    }
}
