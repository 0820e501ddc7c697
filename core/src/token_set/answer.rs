//! Where each credential of a token body goes: the provider's shape read into at most
//! one [`Slot::Main`] and one [`Slot::User`] credential.
//!
//! Slack's `oauth.v2.access` answer can carry two token sets: the top-level one (the
//! bot token, or the user token when `token_type` is `user`, as a user-token refresh
//! answers) and `authed_user` (the installing user's token, with its own
//! `refresh_token` and `expires_in` under token rotation).

use super::credential::Incoming;
use super::Slot;
use crate::exchange::Token;
use crate::json::rfc6749::TokenType;
use crate::json::JsonStr;

/// The credentials in `token`, by slot.
pub(crate) fn credentials<'b>(token: &Token<'b>) -> [Option<Incoming<'b>>; 2] {
    let mut out = [None, None];
    match token {
        Token::SlackV2(t) => {
            if let Some(access_token) = t.access_token {
                let user = t.token_type.is_some_and(|k| k.eq_ignore_ascii_case("user"));
                let slot = if user { Slot::User } else { Slot::Main };
                out[slot.index()] = Some(Incoming {
                    refresh_token: t.refresh_token,
                    expires_in: t.expires_in,
                    ..Incoming::new(access_token, t.scope, t.token_type)
                });
            }
            if let Some(u) = t.authed_user {
                if let Some(access_token) = u.access_token {
                    out[Slot::User.index()] = Some(Incoming {
                        refresh_token: u.refresh_token,
                        expires_in: u.expires_in,
                        ..Incoming::new(access_token, u.scope, u.token_type)
                    });
                }
            }
        }
        Token::SlackV1(t) => {
            out[0] = Some(Incoming::new(t.access_token, t.scope, t.token_type));
        }
        Token::Pinterest(t) => {
            out[0] = Some(Incoming {
                refresh_token: t.refresh_token,
                expires_in: t.expires_in,
                refresh_expires_in: t.refresh_token_expires_in,
                refresh_expires_at: t.refresh_token_expires_at,
                ..Incoming::new(t.access_token, t.scope, t.token_type)
            });
        }
        Token::Rfc6749(t) => {
            let token_type = match t.token_type {
                TokenType::Bearer => JsonStr::from_validated("Bearer"),
                TokenType::Other(s) => s,
            };
            out[0] = Some(Incoming {
                refresh_token: t.refresh_token,
                expires_in: t.expires_in,
                ..Incoming::new(t.access_token, t.scope, Some(token_type))
            });
        }
    }
    out
}
