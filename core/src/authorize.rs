//! Authorize URLs (step one of the code flow), written into a caller buffer with every
//! parameter form-encoded.
//!
//! | flavour | default base URL | parameters, in order |
//! |---|---|---|
//! | Slack v2 | `https://slack.com/oauth/v2/authorize` | `client_id`, `scope`, `user_scope`, `redirect_uri`, `state`, `team` |
//! | Slack v1 (legacy) | `https://slack.com/oauth/authorize` | `client_id`, `scope`, `redirect_uri`, `state`, `team` |
//! | Pinterest | `https://www.pinterest.com/oauth/` | `client_id`, `redirect_uri`, `response_type=code`, `scope`, `state` |
//! | RFC 6749 §4.1.1 | the caller's | `response_type=code`, `client_id`, `state`, `redirect_uri`, `scope`, `code_challenge`, `code_challenge_method=S256` |
//!
//! Extra parameters follow, in the order given.
//!
//! Encoding choices: every name and value is encoded as
//! `application/x-www-form-urlencoded` ([`crate::form`]), so `:`, `/` and `,` become
//! `%3A`, `%2F` and `%2C`, and a space `+`. Provider documentation often shows these
//! characters raw (Pinterest's `scope=ads:read,ads:write`, `redirect_uri=https://…`);
//! the encoded form decodes to the same values and is what a URL parser expects.
//! Scopes are taken as a list and joined with the provider's separator: a comma for
//! Slack and Pinterest, a space for RFC 6749.
//!
//! ```
//! use picoauth::authorize::AuthorizeRequest;
//! let req = AuthorizeRequest::pinterest("1234567")
//!     .with_redirect_uri("https://example.com/")
//!     .with_scopes(&["ads:read", "ads:write"])
//!     .with_state("hello");
//! let mut buf = [0u8; 256];
//! let n = req.encode(&mut buf).unwrap();
//! assert_eq!(n, req.encoded_len().unwrap());
//! assert_eq!(
//!     &buf[..n],
//!     b"https://www.pinterest.com/oauth/?client_id=1234567&redirect_uri=https%3A%2F%2Fexample.com%2F\
//!       &response_type=code&scope=ads%3Aread%2Cads%3Awrite&state=hello"
//! );
//! ```

use core::fmt;

use crate::error::BufferTooSmall;
use crate::form::{self, Space};
use crate::pkce::CodeChallenge;
use crate::provider::{Endpoint, EndpointError, ProviderKind};
use crate::request::MAX_VALUE_LEN;
use crate::sink::{count_with, encode_with, Sink};

/// Slack's v2 authorize URL.
pub const SLACK_V2_AUTHORIZE_URL: &str = "https://slack.com/oauth/v2/authorize";
/// Slack's legacy authorize URL.
pub const SLACK_V1_AUTHORIZE_URL: &str = "https://slack.com/oauth/authorize";
/// Pinterest's authorize URL.
pub const PINTEREST_AUTHORIZE_URL: &str = "https://www.pinterest.com/oauth/";

/// Why an authorize URL could not be encoded. On every error the output is untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthorizeError {
    /// The output buffer is too small; `needed` bytes would have been written.
    BufferTooSmall {
        /// The exact length of the URL.
        needed: usize,
    },
    /// The base URL was refused (see [`Endpoint::parse`]).
    Url(EndpointError),
    /// A required value is empty (`client_id`).
    Empty {
        /// The parameter's name.
        what: &'static str,
    },
    /// A value is longer than [`MAX_VALUE_LEN`].
    ValueTooLong {
        /// The parameter's name.
        what: &'static str,
    },
    /// A scope is empty, or holds the separator, a control character, `"` or `\`.
    InvalidScope,
    /// The parameter is not part of this provider's authorize request
    /// (`user_scope` and `team` are Slack's, `code_challenge` is RFC 6749's).
    Unsupported {
        /// The parameter's name.
        what: &'static str,
    },
    /// An extra parameter has an empty name or repeats one picoauth writes.
    InvalidExtraParam,
    /// The base URL's query already carries a parameter picoauth writes (`state`,
    /// `redirect_uri`, …): the URL would hold it twice, and which one a server reads is
    /// anyone's guess. `what` names it.
    ParamInBaseUrl {
        /// The parameter's name.
        what: &'static str,
    },
}

impl AuthorizeError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::BufferTooSmall { .. } => "output buffer too small",
            Self::Url(e) => e.as_str(),
            Self::Empty { .. } => "required value is empty",
            Self::ValueTooLong { .. } => "value too long",
            Self::InvalidScope => "invalid scope",
            Self::Unsupported { .. } => "parameter not supported by this provider",
            Self::InvalidExtraParam => "extra parameter is empty or repeats a standard one",
            Self::ParamInBaseUrl { .. } => "the base URL already carries a parameter picoauth sets",
        }
    }
}

impl fmt::Display for AuthorizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::Url(e) => write!(f, "authorize URL: {e}"),
            Self::Empty { what } => write!(f, "{what} is empty"),
            Self::ValueTooLong { what } => write!(f, "{what} is too long"),
            Self::Unsupported { what } => write!(f, "{what} is not supported by this provider"),
            Self::ParamInBaseUrl { what } => {
                write!(
                    f,
                    "the base URL already has a {what} parameter, which picoauth sets"
                )
            }
            other => f.write_str(other.as_str()),
        }
    }
}

impl core::error::Error for AuthorizeError {}

impl From<BufferTooSmall> for AuthorizeError {
    fn from(BufferTooSmall { needed }: BufferTooSmall) -> Self {
        Self::BufferTooSmall { needed }
    }
}

impl From<EndpointError> for AuthorizeError {
    fn from(e: EndpointError) -> Self {
        Self::Url(e)
    }
}

/// The parameters picoauth writes into an authorize URL.
const RESERVED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "scope",
    "user_scope",
    "state",
    "team",
    "response_type",
    "code_challenge",
    "code_challenge_method",
];

/// Whether the query-string name `raw`, percent-decoded (`+` as space), is `want`.
fn decoded_eq(raw: &str, want: &str) -> bool {
    let mut raw = raw.bytes();
    let mut want = want.bytes();
    loop {
        let got = match raw.next() {
            None => return want.next().is_none(),
            Some(b'%') => {
                let hex = |b: Option<u8>| b.and_then(|b| char::from(b).to_digit(16));
                match (hex(raw.next()), hex(raw.next())) {
                    // Both digits are below 16, so the byte fits.
                    (Some(h), Some(l)) => u8::try_from(h * 16 + l).unwrap_or(0),
                    _ => return false,
                }
            }
            Some(b'+') => b' ',
            Some(b) => b,
        };
        if want.next() != Some(got) {
            return false;
        }
    }
}

/// An authorize request, ready to encode as a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizeRequest<'a> {
    kind: ProviderKind,
    base_url: &'a str,
    client_id: &'a str,
    redirect_uri: Option<&'a str>,
    scopes: &'a [&'a str],
    user_scopes: &'a [&'a str],
    state: Option<&'a str>,
    team: Option<&'a str>,
    code_challenge: Option<CodeChallenge>,
    extra: &'a [(&'a str, &'a str)],
}

impl<'a> AuthorizeRequest<'a> {
    const fn new(kind: ProviderKind, base_url: &'a str, client_id: &'a str) -> Self {
        Self {
            kind,
            base_url,
            client_id,
            redirect_uri: None,
            scopes: &[],
            user_scopes: &[],
            state: None,
            team: None,
            code_challenge: None,
            extra: &[],
        }
    }

    /// Slack v2 (`https://slack.com/oauth/v2/authorize`).
    pub const fn slack(client_id: &'a str) -> Self {
        Self::new(ProviderKind::SlackV2, SLACK_V2_AUTHORIZE_URL, client_id)
    }

    /// Pinterest (`https://www.pinterest.com/oauth/`).
    pub const fn pinterest(client_id: &'a str) -> Self {
        Self::new(ProviderKind::Pinterest, PINTEREST_AUTHORIZE_URL, client_id)
    }

    /// RFC 6749 §4.1.1 at the caller's `authorize_url` (`https://…`, or `http://` on
    /// loopback; it may carry a query of its own).
    pub const fn rfc6749(authorize_url: &'a str, client_id: &'a str) -> Self {
        Self::new(ProviderKind::Rfc6749, authorize_url, client_id)
    }

    /// The request for a provider kind at its default URL; `None` for
    /// [`ProviderKind::Rfc6749`], which has none (use [`rfc6749`](Self::rfc6749)).
    pub const fn for_provider(kind: ProviderKind, client_id: &'a str) -> Option<Self> {
        match kind {
            ProviderKind::SlackV2 => Some(Self::slack(client_id)),
            ProviderKind::SlackV1 => Some(Self::new(
                ProviderKind::SlackV1,
                SLACK_V1_AUTHORIZE_URL,
                client_id,
            )),
            ProviderKind::Pinterest => Some(Self::pinterest(client_id)),
            ProviderKind::Rfc6749 => None,
        }
    }

    /// Another base URL, same parameters (a proxy or a test server such as
    /// `https://localhost:PORT/oauth/v2/authorize`).
    #[must_use]
    pub const fn with_base_url(mut self, url: &'a str) -> Self {
        self.base_url = url;
        self
    }

    /// `redirect_uri`.
    #[must_use]
    pub const fn with_redirect_uri(mut self, uri: &'a str) -> Self {
        self.redirect_uri = Some(uri);
        self
    }

    /// `scope`, joined with the provider's separator.
    #[must_use]
    pub const fn with_scopes(mut self, scopes: &'a [&'a str]) -> Self {
        self.scopes = scopes;
        self
    }

    /// Slack's `user_scope` (comma-separated user-token scopes).
    #[must_use]
    pub const fn with_user_scopes(mut self, scopes: &'a [&'a str]) -> Self {
        self.user_scopes = scopes;
        self
    }

    /// `state`.
    #[must_use]
    pub const fn with_state(mut self, state: &'a str) -> Self {
        self.state = Some(state);
        self
    }

    /// Slack's `team` (pre-selects a workspace).
    #[must_use]
    pub const fn with_team(mut self, team: &'a str) -> Self {
        self.team = Some(team);
        self
    }

    /// PKCE: `code_challenge` and `code_challenge_method=S256` (RFC 6749 flavour only).
    #[must_use]
    pub const fn with_code_challenge(mut self, challenge: CodeChallenge) -> Self {
        self.code_challenge = Some(challenge);
        self
    }

    /// Extra parameters, written last in the order given (e.g. OpenID Connect's
    /// `nonce`, Pinterest's `refreshable`). Names picoauth writes are refused.
    #[must_use]
    pub const fn with_extra(mut self, extra: &'a [(&'a str, &'a str)]) -> Self {
        self.extra = extra;
        self
    }

    /// The provider flavour.
    pub const fn kind(&self) -> ProviderKind {
        self.kind
    }

    const fn separator(&self) -> char {
        match self.kind {
            ProviderKind::Rfc6749 => ' ',
            _ => ',',
        }
    }

    const fn is_slack(&self) -> bool {
        matches!(self.kind, ProviderKind::SlackV2 | ProviderKind::SlackV1)
    }

    fn reserved(&self, name: &str) -> bool {
        RESERVED.contains(&name)
    }

    /// The first parameter of the base URL's query that picoauth also writes; names
    /// are compared after percent-decoding (`st%61te` is `state`).
    fn reserved_in_base(&self) -> Option<&'static str> {
        let query = self.base_url.split_once('?')?.1;
        query
            .split('&')
            .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
            .find_map(|name| RESERVED.iter().copied().find(|r| decoded_eq(name, r)))
    }

    /// Checks everything that can make the URL invalid.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), AuthorizeError> {
        // Also refuses a fragment, userinfo, spaces and control characters.
        Endpoint::parse(self.base_url)?;
        if let Some(what) = self.reserved_in_base() {
            return Err(AuthorizeError::ParamInBaseUrl { what });
        }
        if self.client_id.is_empty() {
            return Err(AuthorizeError::Empty { what: "client_id" });
        }
        let sep = self.separator();
        let scope_ok = |s: &&str| {
            !s.is_empty()
                && s.len() <= MAX_VALUE_LEN
                && !s
                    .chars()
                    .any(|c| c == sep || c == '"' || c == '\\' || c.is_control())
        };
        if !self.scopes.iter().all(scope_ok) || !self.user_scopes.iter().all(scope_ok) {
            return Err(AuthorizeError::InvalidScope);
        }
        if !self.user_scopes.is_empty() && self.kind != ProviderKind::SlackV2 {
            return Err(AuthorizeError::Unsupported { what: "user_scope" });
        }
        if self.team.is_some() && !self.is_slack() {
            return Err(AuthorizeError::Unsupported { what: "team" });
        }
        if self.code_challenge.is_some() && self.kind != ProviderKind::Rfc6749 {
            return Err(AuthorizeError::Unsupported {
                what: "code_challenge",
            });
        }
        for (what, v) in [
            ("client_id", Some(self.client_id)),
            ("redirect_uri", self.redirect_uri),
            ("state", self.state),
            ("team", self.team),
        ] {
            if v.is_some_and(|v| v.len() > MAX_VALUE_LEN) {
                return Err(AuthorizeError::ValueTooLong { what });
            }
        }
        if self.scopes.len() > MAX_VALUE_LEN || self.user_scopes.len() > MAX_VALUE_LEN {
            return Err(AuthorizeError::ValueTooLong { what: "scope" });
        }
        for &(name, value) in self.extra {
            if name.is_empty() || self.reserved(name) {
                return Err(AuthorizeError::InvalidExtraParam);
            }
            if name.len() > MAX_VALUE_LEN || value.len() > MAX_VALUE_LEN || self.extra.len() > 64 {
                return Err(AuthorizeError::ValueTooLong {
                    what: "extra parameter",
                });
            }
        }
        Ok(())
    }

    fn emit(&self, sink: &mut dyn Sink) {
        sink.put_str(self.base_url);
        // A base that already has a query gets `&` before the first parameter, unless
        // it ends in `?` or `&` already.
        let first = match self.base_url.find('?') {
            None => {
                sink.put(b'?');
                true
            }
            Some(i) => self.base_url.len() == i + 1 || self.base_url.ends_with('&'),
        };
        let mut sep_buf = [0u8; 4];
        let mut q = Query {
            sink,
            first,
            sep: self.separator().encode_utf8(&mut sep_buf),
        };
        match self.kind {
            ProviderKind::SlackV2 | ProviderKind::SlackV1 => {
                q.param("client_id", Some(self.client_id));
                q.list("scope", self.scopes);
                q.list("user_scope", self.user_scopes);
                q.param("redirect_uri", self.redirect_uri);
                q.param("state", self.state);
                q.param("team", self.team);
            }
            ProviderKind::Pinterest => {
                q.param("client_id", Some(self.client_id));
                q.param("redirect_uri", self.redirect_uri);
                q.param("response_type", Some("code"));
                q.list("scope", self.scopes);
                q.param("state", self.state);
            }
            ProviderKind::Rfc6749 => {
                q.param("response_type", Some("code"));
                q.param("client_id", Some(self.client_id));
                q.param("state", self.state);
                q.param("redirect_uri", self.redirect_uri);
                q.list("scope", self.scopes);
                if let Some(c) = &self.code_challenge {
                    q.param("code_challenge", Some(c.as_str()));
                    q.param("code_challenge_method", Some(c.method()));
                }
            }
        }
        for &(name, value) in self.extra {
            q.param(name, Some(value));
        }
    }

    /// The exact length of the URL.
    ///
    /// # Errors
    /// See [`validate`](Self::validate).
    pub fn encoded_len(&self) -> Result<usize, AuthorizeError> {
        self.validate()?;
        Ok(count_with(|sink| self.emit(sink)))
    }

    /// Writes the URL into `out` and returns its length.
    ///
    /// # Errors
    /// See [`validate`](Self::validate); [`AuthorizeError::BufferTooSmall`] with the
    /// exact size needed leaves `out` untouched.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, AuthorizeError> {
        self.validate()?;
        Ok(encode_with(out, |sink| self.emit(sink))?)
    }
}

/// Writes `name=value` pairs of a query.
struct Query<'s, 'p> {
    sink: &'s mut dyn Sink,
    first: bool,
    sep: &'p str,
}

impl Query<'_, '_> {
    fn name(&mut self, name: &str) {
        if !self.first {
            self.sink.put(b'&');
        }
        self.first = false;
        form::emit(self.sink, name, Space::Plus);
        self.sink.put(b'=');
    }

    fn param(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.name(name);
            form::emit(self.sink, v, Space::Plus);
        }
    }

    fn list(&mut self, name: &str, list: &[&str]) {
        if list.is_empty() {
            return;
        }
        self.name(name);
        for (i, s) in list.iter().enumerate() {
            if i > 0 {
                form::emit(self.sink, self.sep, Space::Plus);
            }
            form::emit(self.sink, s, Space::Plus);
        }
    }
}
