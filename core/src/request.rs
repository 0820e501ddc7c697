//! Token requests: which grant, which client authentication, and their encodings.
//!
//! A [`TokenRequest`] encodes to the form body, to the `Authorization` header value,
//! or to the whole HTTP/1.1 request. Each has an exact `*_len()` and an encoder into
//! a caller-supplied buffer that is left untouched on any error.
//!
//! ```
//! use picoauth::provider::PINTEREST;
//! use picoauth::request::{ClientAuth, Grant, TokenRequest};
//!
//! let req = TokenRequest::new(
//!     &PINTEREST,
//!     ClientAuth::basic("test-app-id", "test-app-secret".into()),
//!     Grant::client_credentials().with_scope("user_accounts:read,pins:read,boards:read"),
//! );
//! let mut body = [0u8; 128];
//! let n = req.encode_body(&mut body).unwrap();
//! assert_eq!(
//!     &body[..n],
//!     b"grant_type=client_credentials&scope=user_accounts%3Aread%2Cpins%3Aread%2Cboards%3Aread"
//! );
//! ```

use core::fmt;

use crate::basic::BasicAuth;
use crate::form::{self, Space};
use crate::provider::{AuthMethod, EndpointError, GrantTypeParam, Provider, ProviderKind};
use crate::secret::SecretStr;
use crate::sink::{count_with, encode_with, Sink};
use crate::{ClientSecret, EncodeError};

/// The longest parameter value (or path) accepted, in bytes before encoding.
///
/// Real codes and tokens are well under 1 KiB; anything near this is a bug or an attack.
pub const MAX_VALUE_LEN: usize = 4096;

/// The `User-Agent` sent unless the caller sets one.
pub const DEFAULT_USER_AGENT: &str = concat!("picoauth/", env!("CARGO_PKG_VERSION"));

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth<'a> {
    /// HTTP Basic per RFC 6749 §2.3.1 (`client_secret_basic`): preferred by Slack,
    /// required by Pinterest.
    Basic {
        /// The client id.
        client_id: &'a str,
        /// The client secret.
        client_secret: ClientSecret<'a>,
    },
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Post {
        /// The client id.
        client_id: &'a str,
        /// The client secret.
        client_secret: ClientSecret<'a>,
    },
    /// A public client (RFC 6749 §2.1): only `client_id` in the body; use PKCE.
    Public {
        /// The client id.
        client_id: &'a str,
    },
}

impl<'a> ClientAuth<'a> {
    /// HTTP Basic credentials.
    pub const fn basic(client_id: &'a str, client_secret: ClientSecret<'a>) -> Self {
        Self::Basic {
            client_id,
            client_secret,
        }
    }

    /// Credentials in the body.
    pub const fn post(client_id: &'a str, client_secret: ClientSecret<'a>) -> Self {
        Self::Post {
            client_id,
            client_secret,
        }
    }

    /// A public client.
    pub const fn public(client_id: &'a str) -> Self {
        Self::Public { client_id }
    }

    /// Builds the authentication for `method`; `None` when a confidential method has no secret.
    pub const fn from_method(
        method: AuthMethod,
        client_id: &'a str,
        client_secret: Option<ClientSecret<'a>>,
    ) -> Option<Self> {
        match (method, client_secret) {
            (AuthMethod::Basic, Some(s)) => Some(Self::basic(client_id, s)),
            (AuthMethod::Post, Some(s)) => Some(Self::post(client_id, s)),
            (AuthMethod::None, _) => Some(Self::public(client_id)),
            _ => None,
        }
    }

    /// The client id.
    pub const fn client_id(&self) -> &'a str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }

    /// The method.
    pub const fn method(&self) -> AuthMethod {
        match self {
            Self::Basic { .. } => AuthMethod::Basic,
            Self::Post { .. } => AuthMethod::Post,
            Self::Public { .. } => AuthMethod::None,
        }
    }
}

/// What is exchanged for tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant<'a> {
    /// `authorization_code` (RFC 6749 §4.1.3).
    AuthorizationCode {
        /// The code from the redirect.
        code: SecretStr<'a>,
        /// Required when the authorize request carried one.
        redirect_uri: Option<&'a str>,
        /// PKCE (RFC 7636) verifier.
        code_verifier: Option<SecretStr<'a>>,
    },
    /// `refresh_token` (RFC 6749 §6; Slack token rotation).
    RefreshToken {
        /// The refresh token.
        refresh_token: SecretStr<'a>,
        /// A narrower scope, if wanted.
        scope: Option<&'a str>,
    },
    /// `client_credentials` (RFC 6749 §4.4).
    ClientCredentials {
        /// The scope wanted.
        scope: Option<&'a str>,
    },
}

impl<'a> Grant<'a> {
    /// An authorization code grant.
    pub const fn authorization_code(code: &'a str) -> Self {
        Self::AuthorizationCode {
            code: SecretStr::new(code),
            redirect_uri: None,
            code_verifier: None,
        }
    }

    /// A refresh grant.
    pub const fn refresh_token(refresh_token: &'a str) -> Self {
        Self::RefreshToken {
            refresh_token: SecretStr::new(refresh_token),
            scope: None,
        }
    }

    /// A client credentials grant.
    pub const fn client_credentials() -> Self {
        Self::ClientCredentials { scope: None }
    }

    /// Sets `redirect_uri` (code grant only; ignored otherwise).
    #[must_use]
    pub const fn with_redirect_uri(self, uri: &'a str) -> Self {
        match self {
            Self::AuthorizationCode {
                code,
                code_verifier,
                ..
            } => Self::AuthorizationCode {
                code,
                redirect_uri: Some(uri),
                code_verifier,
            },
            other => other,
        }
    }

    /// Sets the PKCE `code_verifier` (code grant only; ignored otherwise).
    #[must_use]
    pub const fn with_code_verifier(self, verifier: &'a str) -> Self {
        match self {
            Self::AuthorizationCode {
                code, redirect_uri, ..
            } => Self::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier: Some(SecretStr::new(verifier)),
            },
            other => other,
        }
    }

    /// Sets `scope` (refresh and client credentials grants; ignored for a code).
    #[must_use]
    pub const fn with_scope(self, s: &'a str) -> Self {
        match self {
            Self::RefreshToken { refresh_token, .. } => Self::RefreshToken {
                refresh_token,
                scope: Some(s),
            },
            Self::ClientCredentials { .. } => Self::ClientCredentials { scope: Some(s) },
            other => other,
        }
    }

    /// The `grant_type` value.
    pub const fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::ClientCredentials { .. } => "client_credentials",
        }
    }

    /// The grant's own form parameters, in the order they are sent, each with the
    /// check [`TokenRequest::validate`] gives it; an absent optional one is `None`.
    fn params(&self) -> [Option<(&'static str, &'a str, Check)>; 3] {
        match *self {
            Self::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => [
                Some(("code", code.expose(), Check::Required)),
                code_verifier.map(|v| ("code_verifier", v.expose(), Check::Verifier)),
                redirect_uri.map(|u| ("redirect_uri", u, Check::Optional)),
            ],
            Self::RefreshToken {
                refresh_token,
                scope,
            } => [
                Some(("refresh_token", refresh_token.expose(), Check::Required)),
                scope.map(|s| ("scope", s, Check::Optional)),
                None,
            ],
            Self::ClientCredentials { scope } => {
                [scope.map(|s| ("scope", s, Check::Optional)), None, None]
            }
        }
    }
}

/// How [`TokenRequest::validate`] checks a grant's form parameter.
#[derive(Clone, Copy)]
enum Check {
    /// Must not be empty.
    Required,
    /// May be absent, but not empty.
    Optional,
    /// The PKCE verifier: checked as one (RFC 7636 §4.1), after the others.
    Verifier,
}

/// Parameter names picoauth writes itself; an extra parameter may not repeat them.
const RESERVED: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "continuous_refresh",
];

/// The body parameters that carry a secret: what a printout of a request redacts.
/// Client credentials in the `Authorization` field are secret too.
pub const SECRET_PARAMS: &[&str] = &["client_secret", "code", "code_verifier", "refresh_token"];

/// Extra body parameters. `Debug` shows their names and redacted values: a name
/// picoauth does not know (`client_assertion`, `password`, …) may carry a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Extra<'a>(&'a [(&'a str, &'a str)]);

impl fmt::Debug for Extra<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = self.0.iter().map(|&(n, v)| (n, SecretStr::new(v)));
        f.debug_map().entries(redacted).finish()
    }
}

/// A token request, ready to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    provider: Provider<'a>,
    auth: ClientAuth<'a>,
    grant: Grant<'a>,
    extra: Extra<'a>,
    user_agent: &'a str,
    always_grant_type: bool,
    continuous_refresh: bool,
}

impl<'a> TokenRequest<'a> {
    /// A request to `provider`'s token endpoint.
    pub const fn new(provider: &Provider<'a>, auth: ClientAuth<'a>, grant: Grant<'a>) -> Self {
        Self {
            provider: *provider,
            auth,
            grant,
            extra: Extra(&[]),
            user_agent: DEFAULT_USER_AGENT,
            always_grant_type: false,
            continuous_refresh: false,
        }
    }

    /// Extra body parameters, sent last in the order given (e.g. Pinterest's
    /// `refresh_on`). Names picoauth sends itself are refused at encoding.
    #[must_use]
    pub const fn with_extra(mut self, extra: &'a [(&'a str, &'a str)]) -> Self {
        self.extra = Extra(extra);
        self
    }

    /// Replaces the `User-Agent`.
    #[must_use]
    pub const fn with_user_agent(mut self, ua: &'a str) -> Self {
        self.user_agent = ua;
        self
    }

    /// Sends `grant_type` even where the provider needs none (Slack's code exchange).
    #[must_use]
    pub const fn always_send_grant_type(mut self) -> Self {
        self.always_grant_type = true;
        self
    }

    /// Pinterest's continuous refresh: the refresh grant also returns a new refresh
    /// token (`continuous_refresh=true`). Refused for other providers and grants.
    #[must_use]
    pub const fn continuous_refresh(mut self, on: bool) -> Self {
        self.continuous_refresh = on;
        self
    }

    /// The provider.
    pub const fn provider(&self) -> &Provider<'a> {
        &self.provider
    }

    /// The grant.
    pub const fn grant(&self) -> &Grant<'a> {
        &self.grant
    }

    /// The client authentication.
    pub const fn auth(&self) -> &ClientAuth<'a> {
        &self.auth
    }

    fn sends_grant_type(&self) -> bool {
        self.always_grant_type
            || match self.provider.grant_type {
                GrantTypeParam::Always => true,
                GrantTypeParam::RefreshOnly => matches!(self.grant, Grant::RefreshToken { .. }),
                GrantTypeParam::Never => false,
            }
    }

    /// Checks everything that can make the request invalid.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), EncodeError> {
        self.provider.endpoint.validate()?;
        if !self.provider.endpoint.tls && !self.provider.endpoint.is_loopback() {
            return Err(EndpointError::InsecureUrl.into());
        }
        if self.user_agent.len() > MAX_VALUE_LEN
            || self.user_agent.bytes().any(|b| b < b' ' || b == 0x7f)
        {
            return Err(EncodeError::InvalidHeaderValue);
        }
        let grants = self.provider.grants;
        let supported = match self.grant {
            Grant::AuthorizationCode { code_verifier, .. } => {
                grants.authorization_code && (code_verifier.is_none() || self.provider.pkce)
            }
            Grant::RefreshToken { .. } => grants.refresh_token,
            Grant::ClientCredentials { .. } => grants.client_credentials,
        };
        if !supported {
            return Err(EncodeError::UnsupportedGrant);
        }
        required("client_id", self.auth.client_id())?;
        match self.auth {
            ClientAuth::Basic { client_secret, .. } | ClientAuth::Post { client_secret, .. } => {
                required("client_secret", client_secret.expose())?;
            }
            ClientAuth::Public { .. } if self.provider.client_auth_required => {
                return Err(EncodeError::ClientAuthRequired);
            }
            ClientAuth::Public { .. } => {}
        }
        for (name, value, check) in self.grant.params().into_iter().flatten() {
            match check {
                Check::Required => required(name, value)?,
                Check::Optional => optional(name, Some(value))?,
                Check::Verifier => {} // below
            }
        }
        // The verifier after the others, so that their errors come first.
        if let Grant::AuthorizationCode {
            code_verifier: Some(v),
            ..
        } = self.grant
        {
            crate::pkce::validate_verifier(v.expose())
                .map_err(|_| EncodeError::InvalidCodeVerifier)?;
        }
        if self.continuous_refresh
            && !(self.provider.kind == ProviderKind::Pinterest
                && matches!(self.grant, Grant::RefreshToken { .. }))
        {
            return Err(EncodeError::InvalidExtraParam);
        }
        for &(name, value) in self.extra.0 {
            if name.is_empty() || RESERVED.contains(&name) {
                return Err(EncodeError::InvalidExtraParam);
            }
            if name.len() > MAX_VALUE_LEN || value.len() > MAX_VALUE_LEN {
                return Err(EncodeError::ValueTooLong {
                    what: "extra parameter",
                });
            }
        }
        Ok(())
    }

    fn emit_body(&self, sink: &mut dyn Sink) {
        let mut first = true;
        let mut param = |sink: &mut dyn Sink, name: &str, value: &str| {
            if !first {
                sink.put(b'&');
            }
            first = false;
            form::emit(sink, name, Space::Plus);
            sink.put(b'=');
            form::emit(sink, value, Space::Plus);
        };
        if self.sends_grant_type() {
            param(sink, "grant_type", self.grant.grant_type());
        }
        for (name, value, _) in self.grant.params().into_iter().flatten() {
            param(sink, name, value);
        }
        match self.auth {
            ClientAuth::Basic { .. } => {}
            ClientAuth::Post {
                client_id,
                client_secret,
            } => {
                param(sink, "client_id", client_id);
                param(sink, "client_secret", client_secret.expose());
            }
            ClientAuth::Public { client_id } => param(sink, "client_id", client_id),
        }
        if self.continuous_refresh {
            param(sink, "continuous_refresh", "true");
        }
        for &(name, value) in self.extra.0 {
            param(sink, name, value);
        }
    }

    /// The exact length of the form body.
    ///
    /// # Errors
    /// See [`validate`](Self::validate).
    pub fn body_len(&self) -> Result<usize, EncodeError> {
        self.validate()?;
        Ok(count_with(|sink| self.emit_body(sink)))
    }

    /// Writes the form body into `out`.
    ///
    /// # Errors
    /// See [`validate`](Self::validate); [`EncodeError::BufferTooSmall`] leaves `out` untouched.
    pub fn encode_body(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.validate()?;
        Ok(encode_with(out, |sink| self.emit_body(sink))?)
    }

    /// The `Authorization` header value, when the client uses HTTP Basic.
    pub const fn basic_auth(&self) -> Option<BasicAuth<'a>> {
        match self.auth {
            ClientAuth::Basic {
                client_id,
                client_secret,
            } => Some(BasicAuth::new(client_id, client_secret)),
            _ => None,
        }
    }

    pub(crate) fn emit_request(&self, sink: &mut dyn Sink, body_len: usize) {
        self.emit_head(sink, body_len);
        self.emit_body(sink);
    }

    /// The request line and headers, for a body of `body_len` bytes.
    fn emit_head(&self, sink: &mut dyn Sink, body_len: usize) {
        crate::http::request::emit_head(
            sink,
            &self.provider.endpoint,
            self.basic_auth().as_ref(),
            body_len,
            self.user_agent,
        );
    }

    /// The body length and the whole request's length: the body is counted once,
    /// the head only around it.
    fn lengths(&self) -> Result<(usize, usize), EncodeError> {
        let body = self.body_len()?;
        let head = count_with(|sink| self.emit_head(sink, body));
        Ok((body, head.saturating_add(body)))
    }

    /// The exact length of the whole HTTP/1.1 request.
    ///
    /// # Errors
    /// See [`validate`](Self::validate).
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        self.lengths().map(|(_, total)| total)
    }

    /// Writes the whole HTTP/1.1 request (head and body) into `out`.
    ///
    /// # Errors
    /// See [`validate`](Self::validate); [`EncodeError::BufferTooSmall`] with the
    /// exact size needed leaves `out` untouched.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let (body, needed) = self.lengths()?;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = crate::sink::Write::new(out);
        self.emit_request(&mut w, body);
        Ok(w.pos)
    }
}

fn required(what: &'static str, v: &str) -> Result<(), EncodeError> {
    if v.is_empty() {
        return Err(EncodeError::Empty { what });
    }
    optional(what, Some(v))
}

fn optional(what: &'static str, v: Option<&str>) -> Result<(), EncodeError> {
    match v {
        Some(v) if v.len() > MAX_VALUE_LEN => Err(EncodeError::ValueTooLong { what }),
        Some("") => Err(EncodeError::Empty { what }),
        _ => Ok(()),
    }
}
