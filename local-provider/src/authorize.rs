//! The authorize endpoints: they approve at once and redirect back with a code.
//!
//! `GET /authorize` (RFC 6749 §4.1.1), `GET /oauth/v2/authorize` (Slack, where `response_type`
//! may be left out) and `GET /oauth/` (Pinterest, which also accepts `consumer_id` for
//! `client_id`). An unknown client or an unregistered / missing redirect URI gets `400` with a
//! JSON error and no redirect (§4.1.2.1); other errors redirect with `error=…&state=…`.

use serde::Serialize;

use super::request::{Form, HttpRequest, Reply};
use super::state::State;

#[derive(Serialize)]
struct PageError<'a> {
    error: &'a str,
    error_description: &'a str,
}

fn page_error(code: &str, description: &str) -> Reply {
    let body = serde_json::to_string(&PageError {
        error: code,
        error_description: description,
    })
    .unwrap_or_default();
    Reply::json(400, "application/json", body)
}

fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Reply {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    Reply {
        status: 302,
        headers: vec![("location", location)],
        body: Vec::new(),
        chunked: false,
    }
}

/// Handles an authorize request. `slack` makes `response_type` optional.
pub(super) fn authorize(req: &HttpRequest, state: &mut State, slack: bool) -> Reply {
    if req.method != "GET" && req.method != "HEAD" {
        return page_error("invalid_request", "the authorize endpoint takes GET")
            .with_header("allow", "GET");
    }
    let query = Form::parse(req.query.as_deref().unwrap_or("").as_bytes());
    let Some(client_id) = query.get("client_id").or_else(|| query.get("consumer_id")) else {
        return page_error("invalid_request", "missing client_id");
    };
    let Some(client) = state.client(client_id).cloned() else {
        return page_error("invalid_client", "unknown client_id");
    };
    let redirect_uri = match query.get("redirect_uri") {
        Some(uri) => {
            if !client.redirect_uris.is_empty() && !client.redirect_uris.iter().any(|u| u == uri) {
                return page_error("invalid_request", "redirect_uri is not registered");
            }
            uri.to_owned()
        }
        None => match client.redirect_uris.as_slice() {
            [only] => only.clone(),
            _ => return page_error("invalid_request", "missing redirect_uri"),
        },
    };
    let state_param = query.get("state");
    let fail = |code: &str| {
        let mut params = vec![("error", code)];
        if let Some(s) = state_param {
            params.push(("state", s));
        }
        redirect(&redirect_uri, &params)
    };
    match query.get("response_type") {
        Some("code") => {}
        None if slack => {}
        None => return fail("invalid_request"),
        Some(_) => return fail("unsupported_response_type"),
    }
    let challenge = query.get("code_challenge");
    match (challenge, query.get("code_challenge_method")) {
        (Some(_), Some("S256")) | (None, None) => {}
        // Only S256 is offered; RFC 7636 §4.3 makes a missing method mean `plain`.
        _ => return fail("invalid_request"),
    }
    if client.client_secret.is_none() && challenge.is_none() {
        return fail("invalid_request");
    }
    let code = state.issue_code(
        client_id,
        query.get("redirect_uri"),
        challenge,
        query.get("scope"),
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = state_param {
        params.push(("state", s));
    }
    redirect(&redirect_uri, &params)
}
