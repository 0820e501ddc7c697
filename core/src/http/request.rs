//! The HTTP/1.1 request head of a token request.
//!
//! ```text
//! POST /api/oauth.v2.access HTTP/1.1
//! Host: slack.com
//! Authorization: Basic MTExLjIyMjpzZWNyZXQ=
//! Content-Type: application/x-www-form-urlencoded
//! Accept: application/json
//! Content-Length: 14
//! User-Agent: picoauth/0.1.0
//!
//! code=ccdaa72ad
//! ```
//!
//! No `charset` parameter is sent: Slack answers `superfluous_charset` for one on a
//! form body. Everything written here was validated by
//! [`TokenRequest::validate`](crate::request::TokenRequest::validate), so no CR, LF
//! or NUL reaches the head.

use crate::basic::BasicAuth;
use crate::provider::Endpoint;
use crate::sink::Sink;

/// The form body's media type.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

pub(crate) fn emit_head(
    sink: &mut dyn Sink,
    endpoint: &Endpoint<'_>,
    basic: Option<&BasicAuth<'_>>,
    body_len: usize,
    user_agent: &str,
) {
    sink.put_str("POST ");
    sink.put_str(endpoint.path);
    sink.put_str(" HTTP/1.1\r\nHost: ");
    sink.put_str(endpoint.host);
    if !endpoint.default_port() {
        sink.put(b':');
        sink.put_decimal(usize::from(endpoint.port));
    }
    sink.put_str("\r\n");
    if let Some(b) = basic {
        sink.put_str("Authorization: ");
        sink.put_basic(b);
        sink.put_str("\r\n");
    }
    sink.put_str("Content-Type: ");
    sink.put_str(FORM_CONTENT_TYPE);
    sink.put_str("\r\nAccept: application/json\r\nContent-Length: ");
    sink.put_decimal(body_len);
    sink.put_str("\r\n");
    if !user_agent.is_empty() {
        sink.put_str("User-Agent: ");
        sink.put_str(user_agent);
        sink.put_str("\r\n");
    }
    sink.put_str("\r\n");
}
