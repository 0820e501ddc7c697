//! What a refused refresh means: a person must re-authorize, wait and retry, or a
//! failure to report.

use core::time::Duration;

use picoauth::exchange::{Outcome, ProviderError};
use picoauth::http::response::RetryAfter;

/// Slack and RFC 6749 codes that mean the refresh token (or the installation) is
/// gone: retrying cannot help, a person must install the app again.
pub const REAUTHORIZATION_CODES: &[&str] = &[
    "invalid_grant",
    "invalid_refresh_token",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "invalid_auth",
    "app_uninstalled",
];

/// A refresh answer that is not a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The installation needs a person (the code says why).
    NeedsReauthorization(String),
    /// HTTP 429 or Slack `ratelimited`, with the wait asked for.
    RateLimited(Option<Duration>),
    /// Anything else (a client misconfiguration, a 5xx): reported, retried later.
    Failed(String),
}

/// Classifies a refresh answer that is not a token.
pub fn classify(outcome: &Outcome<'_>) -> Refusal {
    match outcome {
        Outcome::RateLimited { retry_after, .. } => Refusal::RateLimited(match retry_after {
            Some(RetryAfter::Seconds(s)) => Some(Duration::from_secs(u64::from(*s))),
            _ => None,
        }),
        Outcome::Error { error, status } => {
            let code = match error {
                ProviderError::Slack(e) => e.code.as_str().to_owned(),
                ProviderError::Rfc6749(e) => e.code.as_str().to_owned(),
                ProviderError::Pinterest(e) => {
                    // Pinterest names no codes for this: its answer to a dead refresh
                    // token is a 400 whose message names the refresh token.
                    let message: String = e.message.chars().collect();
                    if *status == 400 && message.to_ascii_lowercase().contains("refresh token") {
                        return Refusal::NeedsReauthorization(message);
                    }
                    return Refusal::Failed(format!("pinterest {}: {message}", e.code));
                }
                _ => return Refusal::Failed(format!("HTTP {status}")),
            };
            if REAUTHORIZATION_CODES.contains(&code.as_str()) {
                Refusal::NeedsReauthorization(code)
            } else {
                Refusal::Failed(code)
            }
        }
        Outcome::HttpError { status } => Refusal::Failed(format!("HTTP {status}")),
        Outcome::Token { .. } => Refusal::Failed("unexpected token".into()),
        _ => Refusal::Failed("unexpected outcome".into()),
    }
}
