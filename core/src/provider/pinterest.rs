//! Pinterest v5: `POST https://api.pinterest.com/v5/oauth/token`.
//!
//! Basic authentication, `grant_type` always, and for the refresh grant the
//! optional `continuous_refresh=true` (see
//! [`TokenRequest::continuous_refresh`](crate::request::TokenRequest::continuous_refresh)).

use super::{Endpoint, Provider, ProviderKind};

/// Pinterest v5 token endpoint.
///
/// RFC 6749's conventions (Basic, `grant_type` always, every grant), without PKCE.
pub const PINTEREST: Provider<'static> = Provider {
    kind: ProviderKind::Pinterest,
    pkce: false,
    // Pinterest authenticates every token request with Basic client credentials.
    client_auth_required: true,
    ..Provider::rfc6749(Endpoint::https("api.pinterest.com", "/v5/oauth/token"))
};
