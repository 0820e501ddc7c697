//! The request as the endpoint handlers see it, the reply they build, and the parts every
//! provider shares: form parsing, content-type checks and client authentication.

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use super::state::State;
use super::{AuthMethod, ClientRegistration};

/// A request with its body read in full.
pub(super) struct HttpRequest {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) authorization: Option<String>,
    pub(super) body: Vec<u8>,
}

/// A reply to send.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
    /// Send the body with `Transfer-Encoding: chunked`, in several chunks.
    pub(super) chunked: bool,
}

impl Reply {
    /// A JSON reply.
    pub(super) fn json(status: u16, content_type: &str, body: String) -> Self {
        Self {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into_bytes(),
            chunked: false,
        }
    }

    /// Adds a header.
    pub(super) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// What the `Content-Type` of a token request says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ContentType {
    /// `application/x-www-form-urlencoded`, with an acceptable charset or none.
    Form,
    /// No `Content-Type` header.
    Missing,
    /// A form, but with a charset other than UTF-8 / ISO-8859-1.
    BadCharset,
    /// Another media type.
    Other,
}

impl HttpRequest {
    /// Classifies the `Content-Type` header.
    pub(super) fn content_type(&self) -> ContentType {
        let Some(value) = self.content_type.as_deref() else {
            return ContentType::Missing;
        };
        let mut parts = value.split(';');
        let media = parts.next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return ContentType::Other;
        }
        for param in parts {
            if let Some((name, val)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("charset") {
                    let val = val.trim().trim_matches('"');
                    if !val.eq_ignore_ascii_case("utf-8") && !val.eq_ignore_ascii_case("iso-8859-1")
                    {
                        return ContentType::BadCharset;
                    }
                }
            }
        }
        ContentType::Form
    }

    /// The body as a form (empty if the content type is not a form).
    pub(super) fn form(&self) -> Form {
        if self.content_type() == ContentType::Form {
            Form::parse(&self.body)
        } else {
            Form::default()
        }
    }

    /// The client credentials the request carries.
    pub(super) fn credentials(&self, form: &Form) -> Credentials {
        Credentials {
            basic: self.authorization.as_deref().and_then(decode_basic),
            body_id: form.get("client_id").map(str::to_owned),
            body_secret: form.get("client_secret").map(str::to_owned),
        }
    }
}

/// A form-urlencoded body.
#[derive(Debug, Default)]
pub(super) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses `application/x-www-form-urlencoded` bytes (`+` and `%20` both decode to a space).
    pub(super) fn parse(bytes: &[u8]) -> Self {
        Self {
            pairs: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    /// The first value of `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub(super) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first parameter name that occurs more than once (RFC 6749 §3.2 forbids repeats).
    pub(super) fn repeated(&self) -> Option<&str> {
        self.pairs.iter().enumerate().find_map(|(i, (k, _))| {
            self.pairs
                .iter()
                .skip(i.saturating_add(1))
                .any(|(other, _)| other == k)
                .then_some(k.as_str())
        })
    }
}

/// Credentials found in a request.
#[derive(Debug)]
pub(super) struct Credentials {
    /// `Some(Ok((id, secret)))` for a well-formed Basic header, `Some(Err(()))` for a broken one.
    pub(super) basic: Option<Result<(String, String), ()>>,
    pub(super) body_id: Option<String>,
    pub(super) body_secret: Option<String>,
}

/// Why client authentication failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AuthError {
    /// Basic and body credentials at once.
    Both,
    /// An `Authorization: Basic` header that does not decode.
    MalformedBasic,
    /// No client id at all.
    Missing,
    /// The client id is not registered.
    UnknownClient,
    /// Wrong or missing secret (or a secret sent for a public client).
    BadSecret,
}

/// An authenticated (or, for public clients, identified) client.
#[derive(Debug)]
pub(super) struct Client {
    pub(super) registration: ClientRegistration,
    /// A public client: it proved nothing, so it must use PKCE.
    pub(super) public: bool,
}

impl Credentials {
    /// How the credentials were presented, for the request log.
    pub(super) fn method(&self) -> AuthMethod {
        match (&self.basic, &self.body_id, &self.body_secret) {
            (Some(_), None, None) => AuthMethod::Basic,
            (Some(Ok((id, _))), Some(body_id), None) if id == body_id => AuthMethod::Basic,
            (Some(_), _, _) => AuthMethod::Both,
            (None, Some(_), Some(_)) | (None, None, Some(_)) => AuthMethod::Body,
            (None, Some(_), None) => AuthMethod::PublicClient,
            (None, None, None) => AuthMethod::None,
        }
    }

    /// Whether a Basic header (well-formed or not) was sent.
    pub(super) fn used_basic(&self) -> bool {
        self.basic.is_some()
    }

    /// The client id the request names, however it was sent.
    pub(super) fn claimed_id(&self) -> Option<&str> {
        match &self.basic {
            Some(Ok((id, _))) => Some(id),
            _ => self.body_id.as_deref(),
        }
    }

    /// Authenticates against the registrations in `state`.
    pub(super) fn authenticate(&self, state: &State) -> Result<Client, AuthError> {
        let (id, secret) = match (&self.basic, &self.body_id, &self.body_secret) {
            // RFC 6749 §2.3.1: one method per request. A body `client_id` equal to the Basic id
            // (and no body secret) is tolerated: §4.1.3 does not forbid repeating it.
            (Some(Ok((id, secret))), body_id, None)
                if body_id.as_deref().is_none_or(|b| b == id) =>
            {
                (id.as_str(), Some(secret.as_str()))
            }
            (Some(Err(())), None, None) => return Err(AuthError::MalformedBasic),
            (Some(_), _, _) => return Err(AuthError::Both),
            (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
            (None, None, _) => return Err(AuthError::Missing),
        };
        let registration = state.client(id).ok_or(AuthError::UnknownClient)?;
        match (&registration.client_secret, secret) {
            (Some(expected), Some(given)) if expected == given => Ok(Client {
                registration: registration.clone(),
                public: false,
            }),
            // A public client may send Basic with an empty secret, or no secret at all.
            (None, None) => Ok(Client {
                registration: registration.clone(),
                public: true,
            }),
            (None, Some("")) => Ok(Client {
                registration: registration.clone(),
                public: true,
            }),
            _ => Err(AuthError::BadSecret),
        }
    }
}

/// Decodes an `Authorization` header value per RFC 6749 §2.3.1.
///
/// `None` if the scheme is not Basic (e.g. a bearer token). Each of id and secret is
/// form-urlencoded-decoded after base64 (`+` and `%20` both give a space). Written by hand rather
/// than with `form_urlencoded::parse`, which would split a component at a raw `=` or `&`.
pub(super) fn decode_basic(value: &str) -> Option<Result<(String, String), ()>> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    Some(decode_basic_credentials(rest.trim()))
}

fn decode_basic_credentials(b64: &str) -> Result<(String, String), ()> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| ())?;
    let text = String::from_utf8(raw).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    Ok((form_decode_component(id)?, form_decode_component(secret)?))
}

fn form_decode_component(s: &str) -> Result<String, ()> {
    let plus_as_space = s.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ())
}

/// Scope tokens, split on spaces and commas (Slack and Pinterest use commas).
pub(super) fn scope_tokens(scope: &str) -> impl Iterator<Item = &str> {
    scope.split([' ', ',']).filter(|t| !t.is_empty())
}

/// Whether every token of `requested` is in `granted`.
pub(super) fn scope_within(requested: &str, granted: &str) -> bool {
    scope_tokens(requested).all(|r| scope_tokens(granted).any(|g| g == r))
}

/// PKCE S256: `BASE64URL-NOPAD(SHA256(verifier)) == challenge` (RFC 7636 §4.6).
pub(super) fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_plus_and_percent20_both_mean_space() {
        let plus = "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==";
        let pct = "Basic MVBwRyUyRlElMjAxOnolMkZ0WjlWd0ZacUFwbUlRJTJCWkgxSTVwTGslMkZ1QjR1ZCUzQVgyJTJGOGJMJTJCd2ZGVHQxckZ3JTNE";
        let want = Ok((
            "1PpG/Q 1".to_owned(),
            "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=".to_owned(),
        ));
        assert_eq!(decode_basic(plus), Some(want.clone()));
        assert_eq!(decode_basic(pct), Some(want));
        assert_eq!(decode_basic("Bearer abc"), None);
        assert_eq!(decode_basic("Basic !!!"), Some(Err(())));
    }

    #[test]
    fn pkce_rfc7636_vector() {
        assert!(pkce_s256_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_s256_matches(
            "x",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn repeated_parameters_found() {
        assert_eq!(Form::parse(b"a=1&b=2&a=3").repeated(), Some("a"));
        assert_eq!(Form::parse(b"a=1&b=2").repeated(), None);
    }

    #[test]
    fn scope_subset() {
        assert!(scope_within("read", "read write"));
        assert!(scope_within("a,b", "b a"));
        assert!(!scope_within("read admin", "read write"));
    }
}
