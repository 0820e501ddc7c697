//! One API-style call per installation with its live access token: `POST` to an
//! `auth.test`-style endpoint (Slack's shape: the token in the form body, `{"ok":true}`
//! while it is live, `{"ok":false,"error":"token_expired"}` otherwise).
//!
//! The call goes through picoauth's own HTTPS client (the only HTTP client in this
//! app's dependencies), reading the answer with the Slack parser: an `ok:true` body is
//! a token answer to it, an `ok:false` body an error with the code. The request's
//! Basic credentials are a placeholder the endpoint ignores.

use picoauth::exchange::Outcome;
use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_std::asynch::Client;

/// What the endpoint said of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// `ok:true`.
    Live,
    /// `ok:false` with this code, or a transport failure (its message).
    Dead(String),
}

/// Asks `url` whether `token` is live.
pub(crate) async fn check(client: &Client, url: &str, token: &str) -> Liveness {
    let Ok(endpoint) = Endpoint::parse(url) else {
        return Liveness::Dead("bad introspection URL".into());
    };
    let provider = SLACK_V2.with_endpoint(endpoint);
    let extra = [("token", token)];
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic("introspection", "-".into()),
        Grant::authorization_code("introspection"),
    )
    .with_extra(&extra);
    let answer = client
        .exchange_with(&req, |o| match o {
            Outcome::Token { .. } => Liveness::Live,
            other => Liveness::Dead(describe(other)),
        })
        .await;
    answer.unwrap_or_else(|e| Liveness::Dead(e.to_string()))
}

/// A provider's refusal in words (its error code, or the HTTP status).
pub(crate) fn describe(outcome: &Outcome<'_>) -> String {
    use picoauth_std::tokens::{classify, Refusal};
    match classify(outcome) {
        Refusal::RateLimited(_) => "rate limited".into(),
        Refusal::NeedsReauthorization(code) | Refusal::Failed(code) => code,
    }
}
