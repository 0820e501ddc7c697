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
use super::value::Object;
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
    /// The whole object, to read members this model does not name.
    pub object: Object<'b>,
}

impl<'b> PinterestToken<'b> {
    /// The granted scopes (empty when `scope` is absent).
    pub fn scopes(&self) -> Scopes<'b> {
        Scopes::of(self.scope)
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
    /// The whole object, to read members this model does not name.
    pub object: Object<'b>,
}

impl PinterestError<'_> {
    /// The code as a typed value: the codes Pinterest's OpenAPI description gives as
    /// `Error` examples are named, any other is kept as [`PinterestErrorCode::Other`].
    pub const fn kind(&self) -> PinterestErrorCode {
        PinterestErrorCode::from_code(self.code)
    }
}

/// A Pinterest error code. Pinterest publishes no list of codes; these are the ones
/// its OpenAPI description (`pinterest/api-description`, `v5/openapi.json`) shows in
/// its `Error` examples: 2 and 29 on the OAuth endpoints (`/oauth/token/revoke`, whose
/// `Error` schema is also `/oauth/token`'s `default` answer) and 8 for a rate limit.
/// Unknown codes are kept verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PinterestErrorCode {
    /// `2`: "Authentication failed."
    AuthenticationFailed,
    /// `8`: "This request exceeded a rate limit."
    RateLimited,
    /// `29`: "You are not permitted to access that resource."
    NotPermitted,
    /// Any other code, as received.
    Other(i64),
}

impl PinterestErrorCode {
    /// The typed value of a numeric code.
    pub const fn from_code(code: i64) -> Self {
        match code {
            2 => Self::AuthenticationFailed,
            8 => Self::RateLimited,
            29 => Self::NotPermitted,
            other => Self::Other(other),
        }
    }

    /// The numeric code, as sent.
    pub const fn code(self) -> i64 {
        match self {
            Self::AuthenticationFailed => 2,
            Self::RateLimited => 8,
            Self::NotPermitted => 29,
            Self::Other(c) => c,
        }
    }

    /// A short name for a known code (`authentication_failed`, `rate_limited`,
    /// `not_permitted`); `None` for [`Other`](Self::Other).
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::AuthenticationFailed => Some("authentication_failed"),
            Self::RateLimited => Some("rate_limited"),
            Self::NotPermitted => Some("not_permitted"),
            Self::Other(_) => None,
        }
    }
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
    let object = root(body, |f: Member, v| {
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
            object,
        }));
    }
    match (code, message) {
        (Some(code), Some(message)) => Ok(Pinterest::Error(PinterestError {
            code,
            message,
            object,
        })),
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
    fn documented_error_codes_are_typed_and_unknown_ones_kept() {
        let cases = [
            (2, PinterestErrorCode::AuthenticationFailed),
            (8, PinterestErrorCode::RateLimited),
            (29, PinterestErrorCode::NotPermitted),
            (-3, PinterestErrorCode::Other(-3)),
            (1234, PinterestErrorCode::Other(1234)),
        ];
        for (code, want) in cases {
            let body = std::format!(r#"{{"code":{code},"message":"m"}}"#);
            let Ok(Pinterest::Error(e)) = parse(body.as_bytes()) else {
                panic!()
            };
            assert_eq!(e.kind(), want);
            assert_eq!(e.kind().code(), code);
        }
        assert_eq!(
            PinterestErrorCode::NotPermitted.name(),
            Some("not_permitted")
        );
        assert_eq!(PinterestErrorCode::Other(5).name(), None);
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
