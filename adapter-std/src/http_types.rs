//! Bring your own HTTP client (feature `http`): a [`TokenRequest`] as an
//! [`http::Request`], and an [`http::Response`] read as an [`OwnedOutcome`].
//!
//! For a service that already runs reqwest, hyper, ureq or axum's client: picoauth
//! decides what to send and what the answer means, your client moves the bytes.
//!
//! ```no_run
//! # fn send(_: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> { unimplemented!() }
//! use picoauth::provider::SLACK_V2;
//! use picoauth::request::{ClientAuth, Grant, TokenRequest};
//!
//! let secret = std::env::var("SLACK_CLIENT_SECRET").unwrap();
//! let req = TokenRequest::new(&SLACK_V2, ClientAuth::basic("111.222", secret.as_str().into()),
//!                             Grant::authorization_code("ccdaa72ad"));
//! let http_req = picoauth_std::http_types::to_request(&req).unwrap();
//! // Your client: the body is handed over as it sends it.
//! let http_resp = send(http_req.map(picoauth_std::http_types::FormBody::into_vec));
//! let outcome = picoauth_std::http_types::from_response(SLACK_V2.kind, &http_resp).unwrap();
//! ```
//!
//! Both directions go through the core's own encoder and response reader, so a request
//! built here is byte for byte what [`Client`](crate::Client) sends, and an answer is
//! judged by the same rules (Slack's HTTP 200 `ok:false`, `Retry-After`,
//! `WWW-Authenticate`, the JSON media type).

use core::fmt;

use http::header::{HeaderName, HeaderValue};
use picoauth::provider::ProviderKind;
use picoauth::request::TokenRequest;
use picoauth::EncodeError;
use zeroize::{Zeroize as _, Zeroizing};

use crate::owned::{parse_response, OwnedOutcome, ParseError};

/// Why a [`TokenRequest`] could not become an [`http::Request`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ToRequestError {
    /// The core refused the request (an empty code, a bad URL, …).
    Encode(EncodeError),
    /// The `http` crate refused a part of it (not expected for a request the core
    /// encoded; kept so that nothing panics).
    Http(http::Error),
}

impl fmt::Display for ToRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "{e}"),
            Self::Http(e) => write!(f, "http: {e}"),
        }
    }
}

impl core::error::Error for ToRequestError {}

/// A token request's form body: it holds the code or refresh token, and the client
/// secret when the provider takes it in the body. `Debug` shows its length only, and
/// the bytes are wiped when it is dropped, until [`into_vec`](Self::into_vec) hands
/// them to your HTTP client.
pub struct FormBody(Zeroizing<Vec<u8>>);

impl FormBody {
    /// The bytes (`application/x-www-form-urlencoded`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, for a client that takes a `Vec<u8>` body (`reqwest`, `hyper` through
    /// `Full::from`): from here on they are the client's, and are not wiped.
    pub fn into_vec(mut self) -> Vec<u8> {
        core::mem::take(&mut *self.0)
    }
}

impl AsRef<[u8]> for FormBody {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for FormBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FormBody({} bytes, redacted)", self.0.len())
    }
}

/// The token request as an [`http::Request`]: `POST` to the absolute token URL, the
/// same headers picoauth sends itself (`Authorization: Basic …` where the client uses
/// it, marked sensitive; `Content-Type`, `Accept`, `User-Agent`; `Host` and
/// `Content-Length` are left to your client) and the form body as a [`FormBody`], so
/// `Debug` on the request shows no secret. Hand it to your client with
/// `request.map(FormBody::into_vec)`.
///
/// The scratch buffer the core encoded into is wiped before returning.
///
/// # Errors
/// [`ToRequestError::Encode`] for a request the core refuses.
pub fn to_request(req: &TokenRequest<'_>) -> Result<http::Request<FormBody>, ToRequestError> {
    let len = req.encoded_len().map_err(ToRequestError::Encode)?;
    let mut raw = vec![0u8; len];
    let result = req
        .encode(&mut raw)
        .map_err(ToRequestError::Encode)
        .and_then(|n| build(req, &raw[..n]));
    raw.zeroize();
    result
}

fn build(req: &TokenRequest<'_>, raw: &[u8]) -> Result<http::Request<FormBody>, ToRequestError> {
    // The core wrote this head itself; it is parsed only to hand its headers over.
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(head_len)) = parsed.parse(raw) else {
        return Err(ToRequestError::Encode(EncodeError::InvalidHeaderValue));
    };
    let endpoint = &req.provider().endpoint;
    let scheme = if endpoint.tls { "https" } else { "http" };
    let default_port = if endpoint.tls { 443 } else { 80 };
    let uri = if endpoint.port == default_port {
        format!("{scheme}://{}{}", endpoint.host, endpoint.path)
    } else {
        format!(
            "{scheme}://{}:{}{}",
            endpoint.host, endpoint.port, endpoint.path
        )
    };
    let mut builder = http::Request::post(uri);
    for h in parsed.headers.iter() {
        if h.name.eq_ignore_ascii_case("host") || h.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(http::Error::from);
        let value = HeaderValue::from_bytes(h.value).map_err(http::Error::from);
        match (name, value) {
            (Ok(n), Ok(mut v)) => {
                if n == http::header::AUTHORIZATION {
                    v.set_sensitive(true);
                }
                builder = builder.header(n, v);
            }
            (Err(e), _) | (_, Err(e)) => return Err(ToRequestError::Http(e)),
        }
    }
    builder
        .body(FormBody(Zeroizing::new(raw[head_len..].to_vec())))
        .map_err(ToRequestError::Http)
}

/// Reads an [`http::Response`] (status, headers, and the whole body as your client
/// received it, de-chunked) as the provider `kind`'s outcome.
///
/// The response is handed to the core's HTTP reader with a `Content-Length` framing,
/// so the header rules are the ones [`Client`](crate::Client) applies.
///
/// # Errors
/// [`ParseError`] for malformed headers or a body that is not the provider's JSON.
pub fn from_response<B: AsRef<[u8]>>(
    kind: ProviderKind,
    response: &http::Response<B>,
) -> Result<OwnedOutcome, ParseError> {
    let body = response.body().as_ref();
    let mut raw = Vec::with_capacity(body.len().saturating_add(512));
    raw.extend_from_slice(format!("HTTP/1.1 {}\r\n", response.status().as_u16()).as_bytes());
    for (name, value) in response.headers() {
        // The body is already de-framed by the caller's client: only our length counts.
        if name == http::header::CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
            continue;
        }
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    raw.extend_from_slice(body);
    let outcome = parse_response(kind, &raw);
    raw.zeroize();
    outcome
}
