//! The authorize endpoints: a consent page with Allow / Deny buttons, or (the default, for
//! tests that drive the flow without a browser) approval at once.
//!
//! `GET /authorize` (RFC 6749 §4.1.1), `GET /oauth/v2/authorize` (Slack, where `response_type`
//! may be left out) and `GET /oauth/` (Pinterest, which also accepts `consumer_id` for
//! `client_id`). An unknown client or an unregistered / missing redirect URI gets `400` with a
//! JSON error and no redirect (§4.1.2.1); other errors redirect with `error=…&state=…`.
//!
//! With [`super::LocalProviderConfig::consent_page`] (or `LocalProvider::set_consent_page`),
//! a valid `GET` answers `200` with an HTML consent page instead of the redirect. Its form
//! posts the same parameters back to the same path with `decision=allow` or `decision=deny`;
//! the `POST` is checked exactly as the `GET` was, then redirects with `code` and `state`
//! (allow) or `error=access_denied` and `state` (deny), as Slack's and Pinterest's pages do.
//! The consent form carries no CSRF token of its own: this provider has no user sessions.

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

/// Escapes text for HTML element content and double-quoted attribute values
/// (`& < > " '`).
fn html_escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// The consent page for `params` (the authorize parameters, echoed as hidden fields).
fn consent_page(path: &str, slack: bool, client_id: &str, params: &Form) -> Reply {
    let provider = match (slack, path) {
        (true, _) => "Slack",
        (false, "/oauth/" | "/oauth") => "Pinterest",
        _ => "the local provider",
    };
    let scope = params
        .get("scope")
        .filter(|s| !s.is_empty())
        .unwrap_or("(the default scope)");
    let mut hidden = String::new();
    for (k, v) in params.pairs() {
        if k == "decision" {
            continue;
        }
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(k),
            html_escape(v)
        ));
    }
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Authorize {client} on {provider}</title>\
<style>body{{font-family:sans-serif;max-width:36em;margin:3em auto;}}\
button{{font-size:1.1em;padding:.4em 1.4em;margin-right:1em;}}\
#allow{{background:#007a5a;color:#fff;border:0;}}</style></head><body>\
<h1>{provider} (picoauth local provider)</h1>\
<p>The app <strong id=\"client\">{client}</strong> asks for access with the scopes \
<code id=\"scope\">{scope}</code>.</p>\
<form method=\"post\" action=\"{action}\">{hidden}\
<button id=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
</form></body></html>",
        client = html_escape(client_id),
        scope = html_escape(scope),
        action = html_escape(path),
    );
    Reply {
        status: 200,
        headers: vec![
            ("content-type", "text/html; charset=utf-8".to_owned()),
            ("cache-control", "no-store".to_owned()),
        ],
        body: body.into_bytes(),
        chunked: false,
    }
}

/// Handles an authorize request. `slack` makes `response_type` optional.
pub(super) fn authorize(req: &HttpRequest, state: &mut State, slack: bool) -> Reply {
    let posted = match req.method.as_str() {
        "GET" | "HEAD" => false,
        "POST" => true,
        _ => {
            return page_error(
                "invalid_request",
                "the authorize endpoint takes GET or POST",
            )
            .with_header("allow", "GET, POST")
        }
    };
    let query = if posted {
        req.form()
    } else {
        Form::parse(req.query.as_deref().unwrap_or("").as_bytes())
    };
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
    if posted {
        match query.get("decision") {
            Some("allow") => {}
            Some("deny") => return fail("access_denied"),
            _ => return page_error("invalid_request", "decision must be allow or deny"),
        }
    } else if state.consent_page {
        return consent_page(&req.path, slack, client_id, &query);
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

#[cfg(test)]
mod tests {
    use super::html_escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
