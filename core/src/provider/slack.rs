//! Slack: `oauth.v2.access` (with token rotation) and the legacy `oauth.access`.
//!
//! Slack recommends HTTP Basic for the client credentials, accepts
//! `application/x-www-form-urlencoded` only, and answers errors with HTTP 200 and
//! `"ok": false`, so the body decides, not the status.

use super::{AuthMethod, Endpoint, GrantTypeParam, Grants, Provider, ProviderKind};

/// Slack `https://slack.com/api/oauth.v2.access`: code exchange, and
/// `grant_type=refresh_token` for token rotation. `grant_type` is sent for the
/// refresh grant only (a code exchange needs none).
pub const SLACK_V2: Provider<'static> = Provider {
    kind: ProviderKind::SlackV2,
    endpoint: Endpoint::https("slack.com", "/api/oauth.v2.access"),
    default_auth: AuthMethod::Basic,
    grant_type: GrantTypeParam::RefreshOnly,
    grants: Grants {
        authorization_code: true,
        refresh_token: true,
        client_credentials: false,
    },
    pkce: false,
    // Seed 001: `client_secret` is Optional for `oauth.v2.access`.
    client_auth_required: false,
};

/// The legacy Slack `https://slack.com/api/oauth.access`: code exchange only.
pub const SLACK_V1: Provider<'static> = Provider {
    kind: ProviderKind::SlackV1,
    endpoint: Endpoint::https("slack.com", "/api/oauth.access"),
    default_auth: AuthMethod::Basic,
    grant_type: GrantTypeParam::Never,
    grants: Grants {
        authorization_code: true,
        refresh_token: false,
        client_credentials: false,
    },
    pkce: false,
    // Seed 002: `client_secret` is Required for the legacy `oauth.access`.
    client_auth_required: true,
};
