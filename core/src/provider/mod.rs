//! Token endpoints as `const` data: where they live, how clients authenticate, and
//! their quirks.
//!
//! ```
//! use picoauth::provider::{self, Endpoint, Provider};
//! assert_eq!(provider::SLACK_V2.endpoint.host, "slack.com");
//! let generic = Provider::rfc6749(Endpoint::parse("https://auth.example.com:8443/oauth/token").unwrap());
//! assert_eq!(generic.endpoint.port, 8443);
//! ```

mod endpoint;
pub mod pinterest;
pub mod rfc6749;
pub mod slack;

pub use endpoint::{Endpoint, EndpointError};
pub use pinterest::PINTEREST;
pub use slack::{SLACK_V1, SLACK_V2};

/// Which provider's wire format a token endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProviderKind {
    /// Slack `oauth.v2.access` (code exchange and token rotation).
    SlackV2,
    /// The legacy Slack `oauth.access`.
    SlackV1,
    /// Pinterest v5 `POST /v5/oauth/token`.
    Pinterest,
    /// Any RFC 6749 token endpoint.
    Rfc6749,
}

impl ProviderKind {
    /// The short name used on the command line: `slack-v2`, `slack-v1`, `pinterest`, `oauth2`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SlackV2 => "slack-v2",
            Self::SlackV1 => "slack-v1",
            Self::Pinterest => "pinterest",
            Self::Rfc6749 => "oauth2",
        }
    }
}

/// Where client credentials go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthMethod {
    /// HTTP Basic per RFC 6749 §2.3.1 (`client_secret_basic`), the preferred way.
    Basic,
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Post,
    /// A public client: only `client_id` in the body, protected by PKCE.
    None,
}

/// When `grant_type` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GrantTypeParam {
    /// Always (RFC 6749, Pinterest).
    Always,
    /// Only for the refresh grant (Slack `oauth.v2.access`: a code exchange without
    /// `grant_type` is what Slack documents).
    RefreshOnly,
    /// Never (Slack legacy `oauth.access` knows only the code).
    Never,
}

/// Which grants a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Grants {
    /// `authorization_code`.
    pub authorization_code: bool,
    /// `refresh_token`.
    pub refresh_token: bool,
    /// `client_credentials`.
    pub client_credentials: bool,
}

/// A token endpoint and its conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Provider<'a> {
    /// The wire format of its answers.
    pub kind: ProviderKind,
    /// Where the token endpoint is.
    pub endpoint: Endpoint<'a>,
    /// The client authentication the provider documents as preferred.
    pub default_auth: AuthMethod,
    /// When `grant_type` is sent.
    pub grant_type: GrantTypeParam,
    /// The grants it accepts.
    pub grants: Grants,
    /// Whether it accepts PKCE `code_verifier` on the code exchange.
    pub pkce: bool,
    /// Whether every token request must authenticate the client (Basic or Post): a
    /// public client is refused with
    /// [`EncodeError::ClientAuthRequired`](crate::EncodeError::ClientAuthRequired).
    pub client_auth_required: bool,
}

impl<'a> Provider<'a> {
    /// A generic RFC 6749 token endpoint.
    pub const fn rfc6749(endpoint: Endpoint<'a>) -> Self {
        rfc6749::provider(endpoint)
    }

    /// The same provider at another endpoint (a proxy, a test server).
    #[must_use]
    pub const fn with_endpoint<'b>(self, endpoint: Endpoint<'b>) -> Provider<'b> {
        Provider {
            kind: self.kind,
            endpoint,
            default_auth: self.default_auth,
            grant_type: self.grant_type,
            grants: self.grants,
            pkce: self.pkce,
            client_auth_required: self.client_auth_required,
        }
    }

    /// The preset for a provider kind; `None` for [`ProviderKind::Rfc6749`], which has
    /// no default endpoint.
    pub const fn preset(kind: ProviderKind) -> Option<Provider<'static>> {
        match kind {
            ProviderKind::SlackV2 => Some(SLACK_V2),
            ProviderKind::SlackV1 => Some(SLACK_V1),
            ProviderKind::Pinterest => Some(PINTEREST),
            ProviderKind::Rfc6749 => None,
        }
    }
}
