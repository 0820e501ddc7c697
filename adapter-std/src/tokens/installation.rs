//! Installations: who a token set belongs to, keyed as Slack keys them or by a key
//! the caller chooses, and whether it still works.

use core::fmt;

use picoauth::exchange::{Outcome, Token};
use picoauth::provider::ProviderKind;
use serde::{Deserialize, Serialize};

use super::StoredTokenSet;

/// The longest caller-chosen key, in bytes.
pub const MAX_CALLER_KEY: usize = 200;

/// How an installation is found again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InstallationKey {
    /// Slack's keys (as Bolt keys its installation stores): an org-wide install is
    /// keyed by its enterprise id (no team); a workspace install by enterprise (when
    /// on Enterprise Grid) and team; a user-token install also by the user id.
    Slack {
        /// `enterprise.id`.
        enterprise_id: Option<String>,
        /// `team.id` (`None` for an org-wide install).
        team_id: Option<String>,
        /// `authed_user.id`, for user-token installs.
        user_id: Option<String>,
        /// `is_enterprise_install`.
        is_enterprise_install: bool,
    },
    /// A key chosen by the caller (Pinterest and RFC 6749 providers).
    Caller(String),
}

/// Why a key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// A caller key is empty, longer than [`MAX_CALLER_KEY`], or holds a control
    /// character.
    InvalidCallerKey,
    /// A Slack id is empty or holds something other than ASCII letters and digits.
    InvalidSlackId,
    /// A Slack key names neither an enterprise nor a team.
    NoSlackTeam,
    /// A stored key string is not one [`InstallationKey::store_key`] writes.
    Unparsable,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCallerKey => "a caller key must be 1-200 bytes without control characters",
            Self::InvalidSlackId => "a Slack id holds ASCII letters and digits only",
            Self::NoSlackTeam => "a Slack key needs an enterprise id or a team id",
            Self::Unparsable => "not an installation key",
        })
    }
}

impl core::error::Error for KeyError {}

fn slack_id(id: Option<&str>) -> Result<Option<String>, KeyError> {
    match id {
        None => Ok(None),
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Ok(Some(s.to_owned()))
        }
        Some(_) => Err(KeyError::InvalidSlackId),
    }
}

impl InstallationKey {
    /// A caller-chosen key.
    ///
    /// # Errors
    /// [`KeyError::InvalidCallerKey`].
    pub fn caller(key: &str) -> Result<Self, KeyError> {
        if key.is_empty() || key.len() > MAX_CALLER_KEY || key.chars().any(char::is_control) {
            return Err(KeyError::InvalidCallerKey);
        }
        Ok(Self::Caller(key.to_owned()))
    }

    /// A Slack key. An org-wide install (`is_enterprise_install`) drops the team id.
    ///
    /// # Errors
    /// [`KeyError::InvalidSlackId`], [`KeyError::NoSlackTeam`].
    pub fn slack(
        enterprise_id: Option<&str>,
        team_id: Option<&str>,
        user_id: Option<&str>,
        is_enterprise_install: bool,
    ) -> Result<Self, KeyError> {
        let enterprise_id = slack_id(enterprise_id)?;
        let team_id = if is_enterprise_install {
            None
        } else {
            slack_id(team_id)?
        };
        if enterprise_id.is_none() && team_id.is_none() {
            return Err(KeyError::NoSlackTeam);
        }
        Ok(Self::Slack {
            enterprise_id,
            team_id,
            user_id: slack_id(user_id)?,
            is_enterprise_install,
        })
    }

    /// The one string a store keys the row by: `slack:E|T|U|0|1` (empty parts for
    /// absent ids) or `caller:KEY`.
    pub fn store_key(&self) -> String {
        match self {
            Self::Slack {
                enterprise_id,
                team_id,
                user_id,
                is_enterprise_install,
            } => format!(
                "slack:{}|{}|{}|{}",
                enterprise_id.as_deref().unwrap_or(""),
                team_id.as_deref().unwrap_or(""),
                user_id.as_deref().unwrap_or(""),
                u8::from(*is_enterprise_install)
            ),
            Self::Caller(k) => format!("caller:{k}"),
        }
    }

    /// Reads a [`store_key`](Self::store_key) string back.
    ///
    /// # Errors
    /// [`KeyError::Unparsable`] or the error of the key's constructor.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        if let Some(k) = s.strip_prefix("caller:") {
            return Self::caller(k);
        }
        let rest = s.strip_prefix("slack:").ok_or(KeyError::Unparsable)?;
        let parts: Vec<&str> = rest.split('|').collect();
        let [e, t, u, flag] = parts[..] else {
            return Err(KeyError::Unparsable);
        };
        let opt = |p: &'_ str| (!p.is_empty()).then(|| p.to_owned());
        let flag = match flag {
            "0" => false,
            "1" => true,
            _ => return Err(KeyError::Unparsable),
        };
        Self::slack(
            opt(e).as_deref(),
            opt(t).as_deref(),
            opt(u).as_deref(),
            flag,
        )
    }
}

impl fmt::Display for InstallationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.store_key())
    }
}

/// Whether an installation still works.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Status {
    /// Its tokens work (or can be refreshed).
    Active,
    /// The provider refused its refresh token (`invalid_grant`,
    /// `invalid_refresh_token`, `token_revoked`, …): a person must install the app
    /// again. Never retried.
    NeedsReauthorization {
        /// The provider's error code (or Pinterest's message).
        reason: String,
    },
}

impl Status {
    /// `active` or `needs_reauthorization`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReauthorization { .. } => "needs_reauthorization",
        }
    }
}

/// What is known about an installation besides its tokens (no secrets).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallationInfo {
    /// Slack `app_id`.
    pub app_id: Option<String>,
    /// Slack `bot_user_id`.
    pub bot_user_id: Option<String>,
    /// The bot (or main) token's scopes.
    pub scopes: Option<String>,
    /// Slack `authed_user.scope`.
    pub user_scopes: Option<String>,
}

/// An installation: its key, provider, facts, status and token set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    /// How it is found.
    pub key: InstallationKey,
    /// The wire format of its provider.
    pub provider: ProviderKind,
    /// Facts from the install answer.
    pub info: InstallationInfo,
    /// Whether it works.
    pub status: Status,
    /// Its tokens (`Debug` redacts them).
    pub tokens: StoredTokenSet,
}

/// Why an answer could not become an installation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallError {
    /// The answer is not a token, or does not fit the token-set model.
    TokenSet(picoauth::token_set::TokenSetError),
    /// The key is invalid, or a Slack answer names no team or enterprise.
    Key(KeyError),
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenSet(e) => write!(f, "token set: {e}"),
            Self::Key(e) => write!(f, "installation key: {e}"),
        }
    }
}

impl core::error::Error for InstallError {}

impl Installation {
    /// An active installation from a token answer read at `now` (Unix seconds).
    /// A Slack `oauth.v2.access` answer is keyed from its own ids (`key` is ignored
    /// then and may be `None`); other providers need `key`.
    ///
    /// # Errors
    /// [`InstallError`].
    pub fn from_outcome(
        outcome: &Outcome<'_>,
        key: Option<InstallationKey>,
        now: u64,
    ) -> Result<Self, InstallError> {
        let tokens = StoredTokenSet::from_outcome(outcome, now).map_err(InstallError::TokenSet)?;
        let mut info = InstallationInfo::default();
        let own = |s: Option<picoauth::json::JsonStr<'_>>| s.map(|s| s.chars().collect::<String>());
        let key = match outcome {
            Outcome::Token {
                token: Token::SlackV2(t),
                ..
            } => {
                info.app_id = own(t.app_id);
                info.bot_user_id = own(t.bot_user_id);
                info.scopes = own(t.scope);
                info.user_scopes = t.authed_user.and_then(|u| own(u.scope));
                let user_install = t.access_token.is_none();
                let user_id = t
                    .authed_user
                    .and_then(|u| own(u.id))
                    .filter(|_| user_install);
                InstallationKey::slack(
                    own(t.enterprise.and_then(|e| e.id)).as_deref(),
                    own(t.team.and_then(|e| e.id)).as_deref(),
                    user_id.as_deref(),
                    t.is_enterprise_install.unwrap_or(false),
                )
                .map_err(InstallError::Key)?
            }
            Outcome::Token { token, .. } => {
                if let Token::Pinterest(t) = token {
                    info.scopes = own(t.scope);
                } else if let Token::Rfc6749(t) = token {
                    info.scopes = own(t.scope);
                }
                key.ok_or(InstallError::Key(KeyError::InvalidCallerKey))?
            }
            _ => {
                return Err(InstallError::TokenSet(
                    picoauth::token_set::TokenSetError::NotAToken,
                ))
            }
        };
        Ok(Self {
            key,
            provider: tokens.provider(),
            info,
            status: Status::Active,
            tokens,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An RFC 6749 installation keyed `caller:k`, read at `now` from an answer with a
    /// refresh token and `expires_in`.
    pub(crate) fn rfc6749_installation(expires_in: u64, now: u64) -> Installation {
        let body = format!(
            r#"{{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":{expires_in}}}"#
        );
        let Ok(picoauth::json::rfc6749::Rfc6749::Token(t)) =
            picoauth::json::rfc6749::parse(body.as_bytes())
        else {
            panic!("{body}")
        };
        let o = Outcome::Token {
            status: 200,
            token: Token::Rfc6749(t),
        };
        Installation::from_outcome(&o, Some(InstallationKey::caller("k").unwrap()), now).unwrap()
    }

    #[test]
    fn keys_round_trip_and_refuse_bad_input() {
        let k = InstallationKey::slack(Some("E1"), Some("T1"), None, false).unwrap();
        assert_eq!(k.store_key(), "slack:E1|T1||0");
        assert_eq!(InstallationKey::parse(&k.store_key()).unwrap(), k);
        let org = InstallationKey::slack(Some("E1"), Some("T1"), Some("U9"), true).unwrap();
        assert_eq!(org.store_key(), "slack:E1||U9|1");
        assert_eq!(InstallationKey::parse(&org.store_key()).unwrap(), org);
        let c = InstallationKey::caller("pinterest/user 42").unwrap();
        assert_eq!(InstallationKey::parse(&c.store_key()).unwrap(), c);
        assert_eq!(InstallationKey::caller(""), Err(KeyError::InvalidCallerKey));
        assert_eq!(
            InstallationKey::caller("a\nb"),
            Err(KeyError::InvalidCallerKey)
        );
        assert_eq!(
            InstallationKey::caller(&"x".repeat(201)),
            Err(KeyError::InvalidCallerKey)
        );
        assert_eq!(
            InstallationKey::slack(None, Some("T|1"), None, false),
            Err(KeyError::InvalidSlackId)
        );
        assert_eq!(
            InstallationKey::slack(None, None, Some("U1"), false),
            Err(KeyError::NoSlackTeam)
        );
        for bad in [
            "",
            "slack:",
            "slack:E|T|U|2",
            "slack:E|T|U",
            "other:x",
            "slack:|||0",
        ] {
            assert!(InstallationKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slack_answers_key_themselves() {
        let body =
            include_bytes!("../../../tests/fixtures/slack-v2-python-sdk-rotation-refresh.json");
        let picoauth::json::slack::SlackV2::Token(t) =
            picoauth::json::slack::parse_v2(body).unwrap()
        else {
            panic!()
        };
        let o = Outcome::Token {
            status: 200,
            token: Token::SlackV2(t),
        };
        let i = Installation::from_outcome(&o, None, 5).unwrap();
        assert_eq!(
            i.key,
            InstallationKey::slack(Some("E111"), Some("T111"), None, false).unwrap()
        );
        assert_eq!(i.info.bot_user_id.as_deref(), Some("UB111"));
        assert_eq!(i.info.user_scopes.as_deref(), Some("search:read"));
        assert_eq!(i.status, Status::Active);
        let d = format!("{i:?}");
        assert!(!d.contains("xoxe-1-xxx") && !d.contains("yyy"), "{d}");
    }
}
