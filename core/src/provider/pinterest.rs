//! Pinterest v5: `POST https://api.pinterest.com/v5/oauth/token`.
//!
//! Basic authentication, `grant_type` always, and for the refresh grant the
//! optional `continuous_refresh=true` (see
//! [`TokenRequest::continuous_refresh`](crate::request::TokenRequest::continuous_refresh)).

use super::{AuthMethod, Endpoint, GrantTypeParam, Grants, Provider, ProviderKind};

/// Pinterest v5 token endpoint.
pub const PINTEREST: Provider<'static> = Provider {
    kind: ProviderKind::Pinterest,
    endpoint: Endpoint::https("api.pinterest.com", "/v5/oauth/token"),
    default_auth: AuthMethod::Basic,
    grant_type: GrantTypeParam::Always,
    grants: Grants {
        authorization_code: true,
        refresh_token: true,
        client_credentials: true,
    },
    pkce: false,
    // Pinterest authenticates every token request with Basic client credentials.
    client_auth_required: true,
};
