//! Every fixture of `tests/fixtures/` with its provider, HTTP status and the answer
//! the core gives on the host (taken from the host run of `tests/tests/no_alloc.rs`).

use picoauth::provider::ProviderKind::{self, *};

use Shape::*;

/// What kind of answer an outcome is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A token answer.
    Token,
    /// The provider's error answer.
    Error,
    /// Rate limited (429 or the provider's own signal).
    RateLimited,
    /// An HTTP error without a provider error body.
    HttpError,
    /// No outcome: the exchange failed.
    Failed,
}

macro_rules! fx {
    ($name:literal, $kind:ident, $status:literal, $shape:ident) => {
        (
            $name,
            $kind,
            $status,
            $shape,
            include_bytes!(concat!("../../tests/fixtures/", $name)).as_slice(),
        )
    };
}

/// `(file, provider, HTTP status, expected answer, body)`.
#[rustfmt::skip] // a table: one fixture a line
pub const FIXTURES: &[(&str, ProviderKind, u16, Shape, &[u8])] = &[
    fx!("oauth2rs-broken-json.json", Rfc6749, 200, Failed),
    fx!("oauth2rs-client-credentials-basic-auth-response.json", Rfc6749, 200, Token),
    fx!("oauth2rs-complete-response.json", Rfc6749, 200, Token),
    fx!("oauth2rs-device-error-authorization-pending.json", Rfc6749, 400, Error),
    fx!("oauth2rs-device-error-slow-down.json", Rfc6749, 400, Error),
    fx!("oauth2rs-error-custom-code-with-uri.json", Rfc6749, 400, Error),
    fx!("oauth2rs-error-expired-code.json", Rfc6749, 400, Error),
    fx!("oauth2rs-error-invalid-request.json", Rfc6749, 400, Error),
    fx!("oauth2rs-error-nonstandard-shape.json", Rfc6749, 400, HttpError),
    fx!("oauth2rs-ext-complete-extra-fields.json", Rfc6749, 200, Token),
    fx!("oauth2rs-ext-custom-token-type-extra-field.json", Rfc6749, 200, Token),
    fx!("oauth2rs-minimal-token-type-uppercase.json", Rfc6749, 200, Token),
    fx!("oauth2rs-token-type-number.json", Rfc6749, 200, Failed),
    fx!("oidc-provider-bad-secret.json", Rfc6749, 401, Error),
    fx!("oidc-provider-client-credentials.json", Rfc6749, 200, Token),
    fx!("oidc-provider-code-basic.json", Rfc6749, 200, Token),
    fx!("oidc-provider-code-reused.json", Rfc6749, 400, Error),
    fx!("oidc-provider-grant-not-allowed.json", Rfc6749, 400, Error),
    fx!("oidc-provider-missing-code.json", Rfc6749, 400, Error),
    fx!("oidc-provider-pkce-wrong-verifier.json", Rfc6749, 400, Error),
    fx!("oidc-provider-refresh-wider-scope.json", Rfc6749, 400, Error),
    fx!("oidc-provider-refresh.json", Rfc6749, 200, Token),
    fx!("oidc-provider-unsupported-grant-type.json", Rfc6749, 400, Error),
    fx!("pinterest-docs-client-credentials.json", Pinterest, 200, Token),
    fx!("pinterest-docs-code-grant.json", Pinterest, 200, Token),
    fx!("pinterest-docs-refresh-continuous.json", Pinterest, 200, Token),
    fx!("pinterest-openapi-error-401-authentication-failed.json", Pinterest, 401, Error),
    fx!("pinterest-openapi-error-403-not-permitted.json", Pinterest, 403, Error),
    fx!("pinterest-openapi-error-429-rate-limit-escaped-newline.json", Pinterest, 429, RateLimited),
    fx!("pinterest-quickstart-code-exchange-extra-status.json", Pinterest, 200, Token),
    fx!("pinterest-quickstart-expires-in-as-string.json", Pinterest, 200, Token),
    fx!("pinterest-quickstart-refresh-continuous.json", Pinterest, 200, Token),
    fx!("pinterest-quickstart-refresh-no-refresh-token.json", Pinterest, 200, Token),
    fx!("rfc6749-4.1.4-access-token-response.json", Rfc6749, 200, Token),
    fx!("rfc6749-4.4.3-client-credentials-response.json", Rfc6749, 200, Token),
    fx!("rfc6749-5.2-error-invalid-request.json", Rfc6749, 400, Error),
    fx!("slack-v1-botonomous-docs-example-read-scope.json", SlackV1, 200, Token),
    fx!("slack-v1-botonomous-incoming-webhook-and-bot.json", SlackV1, 200, Token),
    fx!("slack-v1-captured-redacted-incoming-webhook-escaped.json", SlackV1, 200, Token),
    fx!("slack-v1-java-json-logs-all-fields.json", SlackV1, 200, Error),
    fx!("slack-v1-oauth2-slack-php-mock-expires-in.json", SlackV1, 200, Token),
    fx!("slack-v1-spec-example-no-ok-field.json", SlackV1, 200, Token),
    fx!("slack-v2-bolt-python-code-exchange.json", SlackV2, 200, Token),
    fx!("slack-v2-bolt-python-error-invalid-auth.json", SlackV2, 200, Error),
    fx!("slack-v2-bolt-python-rotation-bot-refresh.json", SlackV2, 200, Token),
    fx!("slack-v2-bolt-python-rotation-user-refresh.json", SlackV2, 200, Token),
    fx!("slack-v2-exchange-java-json-logs-all-fields.json", SlackV2, 200, Error),
    fx!("slack-v2-java-bolt-mock-code-exchange.json", SlackV2, 200, Token),
    fx!("slack-v2-java-json-logs-all-fields.json", SlackV2, 200, Error),
    fx!("slack-v2-oauth2-slack-php-enterprise-null.json", SlackV2, 200, Token),
    fx!("slack-v2-oauth2-slack-php-error-not-authed-401.json", SlackV2, 401, Error),
    fx!("slack-v2-oauth2-slack-php-incoming-webhook-escaped.json", SlackV2, 200, Token),
    fx!("slack-v2-python-sdk-error-invalid.json", SlackV2, 200, Error),
    fx!("slack-v2-python-sdk-error-ratelimited-429.json", SlackV2, 429, RateLimited),
    fx!("slack-v2-python-sdk-ok-true-only.json", SlackV2, 200, Token),
    fx!("slack-v2-python-sdk-rotation-refresh.json", SlackV2, 200, Token),
    fx!("slack-v2-recorded-429-empty-body.json", SlackV2, 429, RateLimited),
    fx!("slack-v2-recorded-error-not-authed.json", SlackV2, 200, Error),
    fx!("slack-v2-slack-go-enterprise-empty-strings.json", SlackV2, 200, Token),
    fx!("slack-v2-spec-error-invalid-client-id.json", SlackV2, 200, Error),
    fx!("slack-v2-spec-example-bot-and-user.json", SlackV2, 200, Token),
];
