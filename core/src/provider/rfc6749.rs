//! A generic RFC 6749 token endpoint, given by its URL.

use super::{AuthMethod, Endpoint, GrantTypeParam, Grants, Provider, ProviderKind};

pub(super) const fn provider(endpoint: Endpoint<'_>) -> Provider<'_> {
    Provider {
        kind: ProviderKind::Rfc6749,
        endpoint,
        default_auth: AuthMethod::Basic,
        grant_type: GrantTypeParam::Always,
        grants: Grants {
            authorization_code: true,
            refresh_token: true,
            client_credentials: true,
        },
        pkce: true,
        client_auth_required: false,
    }
}
