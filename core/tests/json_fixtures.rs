//! Every real provider body in `tests/fixtures/` through the right parser, with
//! concrete field assertions, plus property tests of the JSON layer.

use picoauth::json::{
    pinterest::{self, Pinterest, PinterestError, PinterestToken},
    rfc6749::{self, ErrorResponse, Rfc6749, Rfc6749ErrorCode, TokenResponse, TokenType},
    slack::{
        self, SlackError, SlackErrorCode, SlackV1, SlackV1Token, SlackV2, SlackV2Token,
        SlackWarning,
    },
    value::{self, Value},
    JsonError, JsonStr,
};
use proptest::prelude::*;

/// A fixture's bytes; the coverage test looks for `fx!("NAME")` in this file.
macro_rules! fx {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/", $name))
    };
}

fn v2_token(body: &[u8]) -> SlackV2Token<'_> {
    match slack::parse_v2(body) {
        Ok(SlackV2::Token(t)) => t,
        other => panic!("{other:?}"),
    }
}

fn v2_error(body: &[u8]) -> SlackError<'_> {
    match slack::parse_v2(body) {
        Ok(SlackV2::Error(e)) => e,
        other => panic!("{other:?}"),
    }
}

fn v1_token(body: &[u8]) -> SlackV1Token<'_> {
    match slack::parse_v1(body) {
        Ok(SlackV1::Token(t)) => t,
        other => panic!("{other:?}"),
    }
}

fn pin_token(body: &[u8]) -> PinterestToken<'_> {
    match pinterest::parse(body) {
        Ok(Pinterest::Token(t)) => t,
        other => panic!("{other:?}"),
    }
}

fn pin_error(body: &[u8]) -> PinterestError<'_> {
    match pinterest::parse(body) {
        Ok(Pinterest::Error(e)) => e,
        other => panic!("{other:?}"),
    }
}

fn rfc_token(body: &[u8]) -> TokenResponse<'_> {
    match rfc6749::parse(body) {
        Ok(Rfc6749::Token(t)) => t,
        other => panic!("{other:?}"),
    }
}

fn rfc_error(body: &[u8]) -> ErrorResponse<'_> {
    match rfc6749::parse(body) {
        Ok(Rfc6749::Error(e)) => e,
        other => panic!("{other:?}"),
    }
}

fn s(v: Option<JsonStr<'_>>) -> String {
    v.map(|s| s.to_string()).unwrap_or_else(|| "<none>".into())
}

fn scopes(v: impl Iterator<Item = JsonStr<'static>>) -> Vec<String> {
    v.map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------- Slack v2

/// The seeds' documented answer, as shipped in three test suites.
fn assert_seed_example(t: &SlackV2Token<'_>, bot_token: &str, scope: &str) {
    assert_eq!(t.access_token.unwrap().expose(), bot_token);
    assert_eq!(t.token_type.unwrap(), "bot");
    assert_eq!(t.scope.unwrap(), scope);
    assert_eq!(t.bot_user_id.unwrap(), "U0KRQLJ9H");
    assert_eq!(t.app_id.unwrap(), "A0KRD7HC3");
    let team = t.team.unwrap();
    assert_eq!(team.name.unwrap(), "Slack Softball Team");
    assert_eq!(team.id.unwrap(), "T9TK3CUKW");
    let ent = t.enterprise.unwrap();
    assert_eq!(ent.name.unwrap(), "slack-sports");
    assert_eq!(ent.id.unwrap(), "E12345678");
    let u = t.authed_user.unwrap();
    assert_eq!(u.id.unwrap(), "U1234");
    assert_eq!(u.scope.unwrap(), "chat:write");
    assert_eq!(u.access_token.unwrap().expose(), "xoxp-1234");
    assert_eq!(u.token_type.unwrap(), "user");
    assert!(u.refresh_token.is_none() && u.expires_in.is_none());
    assert!(t.refresh_token.is_none() && t.expires_in.is_none());
    assert!(t.incoming_webhook.is_none() && t.is_enterprise_install.is_none());
    assert!(t.warnings.is_empty());
}

#[test]
fn slack_v2_spec_example_bot_and_user() {
    let t = v2_token(fx!("slack-v2-spec-example-bot-and-user.json"));
    assert_seed_example(
        &t,
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        "commands,incoming-webhook",
    );
    assert_eq!(scopes(t.scopes()), ["commands", "incoming-webhook"]);
}

#[test]
fn slack_v2_bolt_python_code_exchange() {
    let t = v2_token(fx!("slack-v2-bolt-python-code-exchange.json"));
    assert_seed_example(
        &t,
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        "chat:write,commands",
    );
}

#[test]
fn slack_v2_java_bolt_mock_code_exchange() {
    let t = v2_token(fx!("slack-v2-java-bolt-mock-code-exchange.json"));
    assert_seed_example(&t, "xoxb-this-is-valid", "commands,incoming-webhook");
}

#[test]
fn slack_v2_rotation_bot_and_user_refresh() {
    let t = v2_token(fx!("slack-v2-bolt-python-rotation-bot-refresh.json"));
    assert_eq!(t.access_token.unwrap().expose(), "xoxb-valid-refreshed");
    assert_eq!(
        t.refresh_token.unwrap().expose(),
        "xoxe-1-valid-bot-refreshed"
    );
    assert_eq!(t.expires_in, Some(43200));
    assert_eq!(t.token_type.unwrap(), "bot");
    assert!(t.authed_user.is_none());
    assert_eq!(t.team.unwrap().id.unwrap(), "T9TK3CUKW");

    let t = v2_token(fx!("slack-v2-bolt-python-rotation-user-refresh.json"));
    assert_eq!(t.access_token.unwrap().expose(), "xoxp-valid-refreshed");
    assert_eq!(
        t.refresh_token.unwrap().expose(),
        "xoxe-1-valid-user-refreshed"
    );
    assert_eq!(t.token_type.unwrap(), "user");
    assert_eq!(scopes(t.scopes()), ["search:read"]);
    assert!(t.bot_user_id.is_none());
}

#[test]
fn slack_v2_python_sdk_rotation_refresh() {
    let t = v2_token(fx!("slack-v2-python-sdk-rotation-refresh.json"));
    assert_eq!(t.access_token.unwrap().expose(), "xoxe.xoxb-1-yyy");
    assert_eq!(t.refresh_token.unwrap().expose(), "xoxe-1-yyy");
    assert_eq!(t.expires_in, Some(43201));
    assert_eq!(t.app_id.unwrap(), "A111");
    assert_eq!(t.bot_user_id.unwrap(), "UB111");
    assert_eq!(t.is_enterprise_install, Some(false));
    assert_eq!(t.enterprise.unwrap().name.unwrap(), "Sandbox Org");
    assert_eq!(t.team.unwrap().name.unwrap(), "Testing Workspace");
    assert_eq!(
        scopes(t.scopes()),
        ["app_mentions:read", "chat:write", "commands"]
    );
    let u = t.authed_user.unwrap();
    assert_eq!(u.id.unwrap(), "W111");
    assert_eq!(u.access_token.unwrap().expose(), "xoxe.xoxp-1-xxx");
    assert_eq!(u.refresh_token.unwrap().expose(), "xoxe-1-xxx");
    assert_eq!(u.expires_in, Some(43200));
    assert_eq!(scopes(u.scopes()), ["search:read"]);
}

#[test]
fn slack_v2_ok_true_only() {
    let t = v2_token(fx!("slack-v2-python-sdk-ok-true-only.json"));
    // Nothing but the whole object, which holds `ok`.
    let mut bare = t;
    bare.object = SlackV2Token::default().object;
    assert_eq!(bare, SlackV2Token::default());
    assert_eq!(t.object.raw(), r#"{"ok":true}"#);
    assert!(t.access_token.is_none() && t.team.is_none() && t.scopes().next().is_none());
}

#[test]
fn slack_v2_enterprise_null_and_empty_strings() {
    let t = v2_token(fx!("slack-v2-oauth2-slack-php-enterprise-null.json"));
    assert!(t.enterprise.is_none());
    assert!(t.team.is_none() && t.token_type.is_none());
    assert_eq!(t.is_enterprise_install, Some(false));
    assert_eq!(t.access_token.unwrap().expose(), "sample-token-0");
    assert_eq!(
        scopes(t.scopes()),
        ["commands", "users:read.email", "users:read"]
    );
    let u = t.authed_user.unwrap();
    assert_eq!(u.access_token.unwrap().expose(), "authed_user_token");
    assert_eq!(u.scopes().count(), 4);

    let t = v2_token(fx!("slack-v2-slack-go-enterprise-empty-strings.json"));
    let ent = t.enterprise.unwrap();
    assert_eq!(ent.id.unwrap(), "");
    assert_eq!(ent.name.unwrap(), "");
    assert_eq!(t.team.unwrap().name.unwrap(), "Test Team");
    assert_eq!(t.access_token.unwrap().expose(), "xoxb-test-token");
    let u = t.authed_user.unwrap();
    assert_eq!(u.id.unwrap(), "U0KRQLJ9H");
    assert!(u.access_token.is_none() && u.scope.is_none());
}

#[test]
fn slack_v2_incoming_webhook_escaped() {
    let t = v2_token(fx!(
        "slack-v2-oauth2-slack-php-incoming-webhook-escaped.json"
    ));
    assert_eq!(t.access_token.unwrap().expose(), "parent_sample-token");
    assert!(t.enterprise.is_none());
    let w = t.incoming_webhook.unwrap();
    assert_eq!(w.channel.unwrap(), "#ch-xxxxx");
    assert_eq!(w.channel_id.unwrap(), "xxxxx-ch-id");
    let conf = w.configuration_url.unwrap();
    assert!(conf.has_escapes());
    assert_eq!(conf, "https://intelcues.slack.com/services/xx");
    let url = w.url.unwrap();
    assert_eq!(
        url.expose(),
        "https://hooks.slack.com/services/xx/B04HY08G1C2/xx"
    );
    assert_eq!(
        url.expose().raw(),
        r"https:\/\/hooks.slack.com\/services\/xx\/B04HY08G1C2\/xx"
    );
    let mut buf = [0u8; 64];
    assert_eq!(
        url.expose().decode_into(&mut buf),
        Ok("https://hooks.slack.com/services/xx/B04HY08G1C2/xx")
    );
    let dbg = format!("{w:?}");
    assert!(!dbg.contains("B04HY08G1C2"), "{dbg}");
    assert!(dbg.contains("intelcues"), "{dbg}");
}

#[test]
fn slack_v2_errors() {
    let cases: [(&[u8], SlackErrorCode<'static>); 5] = [
        (
            fx!("slack-v2-bolt-python-error-invalid-auth.json"),
            SlackErrorCode::InvalidAuth,
        ),
        (
            fx!("slack-v2-oauth2-slack-php-error-not-authed-401.json"),
            SlackErrorCode::NotAuthed,
        ),
        (
            fx!("slack-v2-recorded-error-not-authed.json"),
            SlackErrorCode::NotAuthed,
        ),
        (
            fx!("slack-v2-python-sdk-error-ratelimited-429.json"),
            SlackErrorCode::Ratelimited,
        ),
        (
            fx!("slack-v2-spec-error-invalid-client-id.json"),
            SlackErrorCode::InvalidClientId,
        ),
    ];
    for (body, code) in cases {
        let e = v2_error(body);
        assert_eq!(e.code, code);
        assert!(e.description.is_none() && e.warnings.is_empty());
    }
    let e = v2_error(fx!("slack-v2-python-sdk-error-invalid.json"));
    assert!(matches!(e.code, SlackErrorCode::Other(c) if c == "invalid"));
    assert_eq!(e.code.as_str(), "invalid");
}

#[test]
fn slack_v2_recorded_429_empty_body() {
    let body = fx!("slack-v2-recorded-429-empty-body.json");
    assert!(body.is_empty());
    assert_eq!(slack::parse_v2(body), Err(JsonError::Empty));
    assert_eq!(slack::parse_v1(body), Err(JsonError::Empty));
}

#[test]
fn slack_v2_java_json_logs_all_fields() {
    for body in [
        &fx!("slack-v2-java-json-logs-all-fields.json")[..],
        &fx!("slack-v2-exchange-java-json-logs-all-fields.json")[..],
    ] {
        // ok:false with an empty error: an error whose code is the empty string.
        let e = v2_error(body);
        assert!(matches!(e.code, SlackErrorCode::Other(c) if c.is_empty()));
        assert_eq!(e.code.as_str(), "");
        assert!(e.description.is_none());
        // "warning": "" and "warnings": [] are no warning at all.
        assert!(e.warnings.is_empty());
    }
}

// ---------------------------------------------------------------- Slack v1

#[test]
fn slack_v1_spec_example_no_ok_field() {
    let t = v1_token(fx!("slack-v1-spec-example-no-ok-field.json"));
    assert_eq!(t.access_token.expose(), "xoxp-XXXXXXXX-XXXXXXXX-XXXXX");
    assert!(t.enterprise_id.is_none());
    assert_eq!(t.scope.unwrap(), "groups:write");
    assert_eq!(t.team_id.unwrap(), "TXXXXXXXXX");
    assert_eq!(t.team_name.unwrap(), "Wyld Stallyns LLC");
    assert!(t.bot.is_none() && t.incoming_webhook.is_none() && t.user_id.is_none());
}

#[test]
fn slack_v1_botonomous_docs_example() {
    let t = v1_token(fx!("slack-v1-botonomous-docs-example-read-scope.json"));
    assert_eq!(t.access_token.expose(), "xoxp-23984754863-2348975623103");
    assert_eq!(scopes(t.scopes()), ["read"]);
    assert!(t.token_type.is_none() && t.expires_in.is_none());
}

#[test]
fn slack_v1_incoming_webhook_and_bot() {
    let t = v1_token(fx!("slack-v1-botonomous-incoming-webhook-and-bot.json"));
    assert_eq!(t.access_token.expose(), "xoxp-XXXXXXXX-XXXXXXXX-XXXXX");
    assert_eq!(scopes(t.scopes()), ["incoming-webhook", "commands", "bot"]);
    assert_eq!(t.team_name.unwrap(), "Team Installing Your Hook");
    assert_eq!(t.team_id.unwrap(), "XXXXXXXXXX");
    let w = t.incoming_webhook.unwrap();
    assert_eq!(
        w.url.unwrap().expose(),
        "https://hooks.slack.com/TXXXXX/BXXXXX/XXXXXXXXXX"
    );
    assert_eq!(w.channel.unwrap(), "#channel-it-will-post-to");
    assert!(w.channel_id.is_none());
    assert_eq!(
        w.configuration_url.unwrap(),
        "https://teamname.slack.com/services/BXXXXX"
    );
    let b = t.bot.unwrap();
    assert_eq!(b.bot_user_id.unwrap(), "UTTTTTTTTTTR");
    assert_eq!(
        b.bot_access_token.unwrap().expose(),
        "xoxb-XXXXXXXXXXXX-TTTTTTTTTTTTTT"
    );
    let dbg = format!("{t:?}");
    assert!(
        !dbg.contains("TTTTTTTTTTTTTT") && !dbg.contains("XXXXXXXX-XXXXX"),
        "{dbg}"
    );
}

#[test]
fn slack_v1_captured_escaped_webhook() {
    let t = v1_token(fx!(
        "slack-v1-captured-redacted-incoming-webhook-escaped.json"
    ));
    assert_eq!(t.user_id.unwrap(), "UBD-------");
    assert_eq!(t.team_name.unwrap(), "team-----");
    let w = t.incoming_webhook.unwrap();
    assert_eq!(w.channel_id.unwrap(), "CC----");
    assert_eq!(
        w.configuration_url.unwrap(),
        "https://team-----.slack.com/services/BG---"
    );
    assert_eq!(
        w.url.unwrap().expose(),
        "https://hooks.slack.com/services/TB----/BG---/ILZXD"
    );
}

#[test]
fn slack_v1_mock_expires_in() {
    let t = v1_token(fx!("slack-v1-oauth2-slack-php-mock-expires-in.json"));
    assert_eq!(t.access_token.expose(), "mock_access_token");
    assert_eq!(t.expires_in, Some(3600));
}

#[test]
fn slack_v1_java_json_logs_all_fields() {
    let body = fx!("slack-v1-java-json-logs-all-fields.json");
    let Ok(SlackV1::Error(e)) = slack::parse_v1(body) else {
        panic!()
    };
    assert_eq!(e.code.as_str(), "");
    assert!(e.warnings.is_empty());
    // The same body as v2 also reads (unknown v1 members are skipped).
    let e = v2_error(body);
    assert_eq!(e.code.as_str(), "");
}

// ---------------------------------------------------------------- Pinterest

#[test]
fn pinterest_docs_examples() {
    let t = pin_token(fx!("pinterest-docs-code-grant.json"));
    assert_eq!(
        t.access_token.expose(),
        "{access_token_string_with_'pina'_prefix}"
    );
    assert_eq!(
        t.refresh_token.unwrap().expose(),
        "{refresh_token_string_with_'pinr'_prefix}"
    );
    assert_eq!(t.response_type.unwrap(), "authorization_code");
    assert_eq!(t.token_type.unwrap(), "bearer");
    assert_eq!(t.expires_in, Some(2_592_000));
    assert_eq!(t.refresh_token_expires_in, Some(31_536_000));
    assert!(t.refresh_token_expires_at.is_none());
    assert_eq!(
        scopes(t.scopes()),
        ["boards:read", "boards:write", "pins:read"]
    );

    let t = pin_token(fx!("pinterest-docs-client-credentials.json"));
    assert_eq!(
        t.access_token.expose(),
        "{access_token_string_with_'pinc'_prefix}"
    );
    assert!(t.refresh_token.is_none());
    assert_eq!(t.response_type.unwrap(), "client_credentials");
    assert_eq!(t.scopes().count(), 4);

    let t = pin_token(fx!("pinterest-docs-refresh-continuous.json"));
    assert_eq!(t.response_type.unwrap(), "refresh_token");
    assert_eq!(t.refresh_token_expires_in, Some(5_184_000));
    assert_eq!(t.refresh_token_expires_at, Some(1_730_227_664));
    assert!(t.refresh_token.is_some());
}

#[test]
fn pinterest_quickstart_examples() {
    let t = pin_token(fx!("pinterest-quickstart-code-exchange-extra-status.json"));
    assert_eq!(t.access_token.expose(), "test-access-token");
    assert_eq!(t.refresh_token.unwrap().expose(), "test-refresh-token");
    assert_eq!(t.scope.unwrap(), "test-scope");
    assert!(t.token_type.is_none() && t.expires_in.is_none());

    let t = pin_token(fx!("pinterest-quickstart-expires-in-as-string.json"));
    assert_eq!(t.expires_in, Some(2_592_000));
    assert_eq!(t.refresh_token_expires_in, Some(31_536_000));
    assert_eq!(t.token_type.unwrap(), "bearer");

    let t = pin_token(fx!("pinterest-quickstart-refresh-continuous.json"));
    assert_eq!(t.access_token.expose(), "pina_new-access-token");
    assert_eq!(t.refresh_token.unwrap().expose(), "pinr_new-refresh-token");
    assert_eq!(
        scopes(t.scopes()),
        ["users:read", "pins:read", "boards:read"]
    );

    let t = pin_token(fx!("pinterest-quickstart-refresh-no-refresh-token.json"));
    assert_eq!(t.access_token.expose(), "pina_new-access-token-2");
    assert!(t.refresh_token.is_none());
}

#[test]
fn pinterest_errors() {
    let e = pin_error(fx!(
        "pinterest-openapi-error-401-authentication-failed.json"
    ));
    assert_eq!(e.code, 2);
    assert_eq!(e.message, "Authentication failed.");
    let e = pin_error(fx!("pinterest-openapi-error-403-not-permitted.json"));
    assert_eq!(e.code, 29);
    assert_eq!(e.message, "You are not permitted to access that resource.");
    let e = pin_error(fx!(
        "pinterest-openapi-error-429-rate-limit-escaped-newline.json"
    ));
    assert_eq!(e.code, 8);
    assert!(e.message.has_escapes());
    assert_eq!(
        e.message.to_string(),
        "This request exceeded a rate limit. This can happen if the client exceeds one\nof the published rate limits within a short time window."
    );
}

// ---------------------------------------------------------------- RFC 6749

#[test]
fn rfc6749_examples() {
    let t = rfc_token(fx!("rfc6749-4.1.4-access-token-response.json"));
    assert_eq!(t.access_token.expose(), "2YotnFZFEjr1zCsicMWpAA");
    assert!(matches!(t.token_type, TokenType::Other(s) if s == "example"));
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(t.refresh_token.unwrap().expose(), "tGzv3JOkF0XG5Qx2TlKWIA");
    assert!(
        matches!(t.object.get("example_parameter"), Some(Value::String(v)) if v == "example_value")
    );

    let t = rfc_token(fx!("rfc6749-4.4.3-client-credentials-response.json"));
    assert!(t.refresh_token.is_none());
    assert_eq!(t.expires_in, Some(3600));

    let e = rfc_error(fx!("rfc6749-5.2-error-invalid-request.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::InvalidRequest);
    assert!(e.description.is_none() && e.uri.is_none());
}

/// What panva's oidc-provider (an independent, certified implementation) sent the
/// interop peer's requests, recorded by `tests/interop/capture_fixtures.py`.
#[test]
fn oidc_provider_answers() {
    let t = rfc_token(fx!("oidc-provider-code-basic.json"));
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(t.expires_in, Some(600));
    assert_eq!(s(t.scope), "api:read api:write");
    assert_eq!(t.scopes().count(), 2);
    let first_refresh = s(t.refresh_token.map(|r| r.expose()));
    assert_eq!(first_refresh.len(), 43);
    assert!(t.id_token.is_none());

    // The refresh narrows the scope and (no rotation configured) repeats the refresh token.
    let t = rfc_token(fx!("oidc-provider-refresh.json"));
    assert_eq!(s(t.scope), "api:read");
    assert_eq!(s(t.refresh_token.map(|r| r.expose())), first_refresh);

    let t = rfc_token(fx!("oidc-provider-client-credentials.json"));
    assert!(t.refresh_token.is_none());
    assert_eq!((t.token_type, t.expires_in), (TokenType::Bearer, Some(600)));

    let errors: [(&[u8], Rfc6749ErrorCode<'_>, &str); 6] = [
        (
            fx!("oidc-provider-code-reused.json"),
            Rfc6749ErrorCode::InvalidGrant,
            "grant request is invalid",
        ),
        (
            fx!("oidc-provider-pkce-wrong-verifier.json"),
            Rfc6749ErrorCode::InvalidGrant,
            "grant request is invalid",
        ),
        (
            fx!("oidc-provider-bad-secret.json"),
            Rfc6749ErrorCode::InvalidClient,
            "client authentication failed",
        ),
        (
            fx!("oidc-provider-grant-not-allowed.json"),
            Rfc6749ErrorCode::InvalidRequest,
            "requested grant type is not allowed for this client",
        ),
        (
            fx!("oidc-provider-unsupported-grant-type.json"),
            Rfc6749ErrorCode::UnsupportedGrantType,
            "unsupported grant_type requested",
        ),
        (
            fx!("oidc-provider-missing-code.json"),
            Rfc6749ErrorCode::InvalidRequest,
            "missing required parameter 'code'",
        ),
    ];
    for (body, code, description) in errors {
        let e = rfc_error(body);
        assert_eq!((e.code, s(e.description).as_str()), (code, description));
        assert!(e.uri.is_none());
    }

    // An extension member on an error: the scope that was refused.
    let e = rfc_error(fx!("oidc-provider-refresh-wider-scope.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::InvalidScope);
    assert_eq!(s(e.description), "refresh token missing requested scope");
    assert!(matches!(e.object.get("scope"), Some(Value::String(v)) if v == "api:admin"));
}

#[test]
fn oauth2rs_tokens() {
    let t = rfc_token(fx!("oauth2rs-minimal-token-type-uppercase.json"));
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(t.access_token.expose(), "12/34");
    assert!(t.scope.is_none() && t.expires_in.is_none());

    let t = rfc_token(fx!("oauth2rs-complete-response.json"));
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(scopes(t.scopes()), ["read", "write"]);
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(t.refresh_token.unwrap().expose(), "foobar");

    let t = rfc_token(fx!("oauth2rs-client-credentials-basic-auth-response.json"));
    assert_eq!(scopes(t.scopes()), ["read", "write"]);
    assert!(t.refresh_token.is_none() && t.expires_in.is_none());

    let t = rfc_token(fx!("oauth2rs-ext-custom-token-type-extra-field.json"));
    assert!(matches!(t.token_type, TokenType::Other(s) if s == "green"));
    assert!(matches!(t.object.get("height"), Some(Value::Number(n)) if n.as_u64() == Some(10)));

    let t = rfc_token(fx!("oauth2rs-ext-complete-extra-fields.json"));
    assert!(matches!(t.token_type, TokenType::Other(s) if s == "red"));
    assert_eq!(t.refresh_token.unwrap().expose(), "foobar");
    assert!(matches!(t.object.get("shape"), Some(Value::String(v)) if v == "round"));
}

#[test]
fn oauth2rs_errors() {
    let e = rfc_error(fx!("oauth2rs-error-invalid-request.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::InvalidRequest);
    assert_eq!(s(e.description), "stuff happened");
    let e = rfc_error(fx!("oauth2rs-error-expired-code.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::InvalidRequest);
    assert_eq!(s(e.description), "Expired code.");
    let e = rfc_error(fx!("oauth2rs-error-custom-code-with-uri.json"));
    assert!(matches!(e.code, Rfc6749ErrorCode::Other(c) if c == "too_light"));
    assert_eq!(e.code.as_str(), "too_light");
    assert_eq!(s(e.uri), "https://errors");
    let e = rfc_error(fx!("oauth2rs-device-error-authorization-pending.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::AuthorizationPending);
    assert_eq!(s(e.description), "Still waiting for user");
    let e = rfc_error(fx!("oauth2rs-device-error-slow-down.json"));
    assert_eq!(e.code, Rfc6749ErrorCode::SlowDown);
    assert_eq!(s(e.description), "Woah there partner");
}

#[test]
fn oauth2rs_bad_bodies() {
    assert_eq!(
        rfc6749::parse(fx!("oauth2rs-token-type-number.json")),
        Err(JsonError::WrongType {
            field: "token_type"
        })
    );
    assert_eq!(
        rfc6749::parse(fx!("oauth2rs-error-nonstandard-shape.json")),
        Err(JsonError::MissingField {
            field: "access_token"
        })
    );
    let broken = fx!("oauth2rs-broken-json.json");
    assert_eq!(
        rfc6749::parse(broken),
        Err(JsonError::UnexpectedByte { offset: 0 })
    );
    assert!(slack::parse_v2(broken).is_err());
    assert!(pinterest::parse(broken).is_err());
}

// ---------------------------------------------------------------- cross-cutting

#[test]
fn every_fixture_is_covered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");
    // rustfmt may break `fx!(...)` over lines; compare without whitespace.
    let this: String = include_str!("json_fixtures.rs")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        n += 1;
        assert!(
            this.contains(&format!("fx!(\"{name}\")")),
            "fixture {name} has no test"
        );
    }
    assert!(n >= 50, "only {n} fixtures found");
}

#[test]
fn no_debug_output_holds_a_token() {
    let body = fx!("slack-v2-python-sdk-rotation-refresh.json");
    let Ok(answer) = slack::parse_v2(body) else {
        panic!()
    };
    let dbg = format!("{answer:?}");
    for secret in [
        "xoxe.xoxb-1-yyy",
        "xoxe-1-yyy",
        "xoxe.xoxp-1-xxx",
        "xoxe-1-xxx",
        "1-yyy",
        "1-xxx",
    ] {
        assert!(!dbg.contains(secret), "{secret} in {dbg}");
    }
    assert!(dbg.contains("AccessToken(xox…[redacted])"), "{dbg}");
    assert!(dbg.contains("Testing Workspace"), "{dbg}");

    let t = rfc_token(fx!("oauth2rs-complete-response.json"));
    let dbg = format!("{t:?} {} {}", t.access_token, t.refresh_token.unwrap());
    assert!(!dbg.contains("12/34") && !dbg.contains("foobar"), "{dbg}");

    let t = pin_token(fx!("pinterest-quickstart-refresh-continuous.json"));
    let dbg = format!("{t:?}");
    assert!(
        !dbg.contains("new-access-token") && !dbg.contains("new-refresh-token"),
        "{dbg}"
    );
}

#[test]
fn errors_never_carry_body_bytes() {
    // A token inside an invalid body: the error's text must not show it.
    let body = br#"{"ok":true,"access_token":"xoxb-SECRET","access_token":"xoxb-OTHER"}"#;
    let e = slack::parse_v2(body).unwrap_err();
    assert_eq!(
        e,
        JsonError::DuplicateField {
            field: "access_token"
        }
    );
    let text = format!("{e} {e:?}");
    assert!(
        !text.contains("SECRET") && !text.contains("OTHER"),
        "{text}"
    );
    let e = slack::parse_v2(br#"{"access_token":"xoxb-SECRET\q"}"#).unwrap_err();
    assert_eq!(e, JsonError::InvalidEscape { offset: 28 });
    assert_eq!(e.to_string(), "invalid escape in JSON string at byte 28");
}

#[test]
fn truncated_fixtures_are_errors() {
    for body in [
        &fx!("slack-v2-spec-example-bot-and-user.json")[..],
        &fx!("pinterest-openapi-error-429-rate-limit-escaped-newline.json")[..],
    ] {
        let end = body.iter().rposition(|&b| b == b'}').unwrap();
        for n in 0..=end {
            assert!(slack::parse_v2(&body[..n]).is_err(), "prefix {n}");
            assert!(pinterest::parse(&body[..n]).is_err(), "prefix {n}");
            assert!(rfc6749::parse(&body[..n]).is_err(), "prefix {n}");
        }
    }
}

#[test]
fn slack_warning_kinds() {
    let body = br#"{"ok":false,"error":"invalid_charset","warning":"missing_charset","response_metadata":{"warnings":["superfluous_charset"]}}"#;
    let e = v2_error(body);
    assert_eq!(e.code, SlackErrorCode::InvalidCharset);
    let w: Vec<_> = e.warnings.iter().collect();
    assert_eq!(
        w,
        [
            SlackWarning::MissingCharset,
            SlackWarning::SuperfluousCharset
        ]
    );
}

// ---------------------------------------------------------------- properties

fn json_string(v: &str) -> String {
    serde_json::to_string(v).unwrap()
}

/// serde_json escapes only what it must; also try the fully `\u`-escaped form.
fn ascii_escaped(v: &str) -> String {
    let mut out = String::from("\"");
    for unit in v.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

proptest! {
    #[test]
    fn strings_round_trip(v in any::<String>()) {
        for text in [json_string(&v), ascii_escaped(&v)] {
            let Ok(Value::String(s)) = value::parse_document(text.as_bytes()) else {
                panic!("{text:?} rejected");
            };
            prop_assert_eq!(s.chars().collect::<String>(), v.clone());
            prop_assert_eq!(s.decoded_len(), v.len());
            prop_assert!(s == v.as_str());
            prop_assert_eq!(s.to_string(), v.clone());
            prop_assert_eq!(format!("{s:?}"), format!("{v:?}"));
            let mut buf = vec![0u8; v.len()];
            prop_assert_eq!(s.decode_into(&mut buf), Ok(v.as_str()));
            if !v.is_empty() {
                let mut short = vec![0u8; v.len() - 1];
                prop_assert_eq!(
                    s.decode_into(&mut short),
                    Err(picoauth::BufferTooSmall { needed: v.len() })
                );
            }
        }
    }

    #[test]
    fn lexer_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let r = value::parse_document(&bytes);
        let strict = serde_json::from_slice::<serde_json::Value>(&bytes);
        // Same verdict as serde_json, except for nesting (serde allows 128 levels).
        prop_assert_eq!(r.is_ok(), strict.is_ok(), "{:?} vs {:?}", r, strict);
        let _ = slack::parse_v2(&bytes);
        let _ = slack::parse_v1(&bytes);
        let _ = pinterest::parse(&bytes);
        let _ = rfc6749::parse(&bytes);
    }

    #[test]
    fn lexer_agrees_with_serde_on_json_like_input(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\""),
                Just("\\"), Just("u"), Just("d83d"), Just("de00"), Just("0"), Just("-"),
                Just("."), Just("e"), Just("1"), Just(" "), Just("true"), Just("null"),
                Just("\"a\""), Just("\"k\":"), Just("n"),
            ],
            0..24,
        )
    ) {
        let text: String = parts.concat();
        let r = value::parse_document(text.as_bytes());
        let strict = serde_json::from_str::<serde_json::Value>(&text);
        prop_assert_eq!(r.is_ok(), strict.is_ok(), "{:?}: {:?} vs {:?}", text, r, strict);
    }

    #[test]
    fn differential_token_objects(
        access in "[ -~]{1,40}",
        refresh in proptest::option::of("\\PC{0,20}"),
        scope in proptest::option::of("[a-z:]{1,8}( [a-z:]{1,8}){0,3}"),
        expires in proptest::option::of(any::<u64>()),
        expires_as_string in any::<bool>(),
        bearer_case in "(?i:bearer)",
        extra in any::<String>(),
    ) {
        let mut obj = serde_json::Map::new();
        obj.insert("access_token".into(), access.clone().into());
        obj.insert("token_type".into(), bearer_case.into());
        obj.insert("zz_extra".into(), serde_json::json!({"nested": [extra.clone(), 1.5e3, null, {"x": true}]}));
        if let Some(r) = &refresh {
            obj.insert("refresh_token".into(), r.clone().into());
        }
        if let Some(sc) = &scope {
            obj.insert("scope".into(), sc.clone().into());
        }
        if let Some(e) = expires {
            let v = if expires_as_string { e.to_string().into() } else { e.into() };
            obj.insert("expires_in".into(), v);
        }
        let body = serde_json::to_vec_pretty(&serde_json::Value::Object(obj)).unwrap();

        let t = rfc_token(&body);
        prop_assert_eq!(t.access_token.expose().to_string(), access.clone());
        prop_assert_eq!(t.token_type, TokenType::Bearer);
        prop_assert_eq!(t.refresh_token.map(|r| r.expose().to_string()), refresh.clone());
        prop_assert_eq!(t.scope.map(|s| s.to_string()), scope.clone());
        prop_assert_eq!(t.expires_in, expires);
        let want: Vec<&str> = scope.as_deref().map(|s| s.split(' ').collect()).unwrap_or_default();
        prop_assert_eq!(t.scopes().map(|s| s.to_string()).collect::<Vec<_>>(), want);

        let p = pin_token(&body);
        prop_assert_eq!(p.access_token.expose().to_string(), access.clone());
        prop_assert_eq!(p.expires_in, expires);

        // The redacted Debug never shows a long-enough token.
        if access.len() >= 20 {
            let dbg = format!("{:?}", t.access_token);
            prop_assert!(!dbg.contains(&access), "{}", dbg);
        }
    }
}
