//! The `picoauth` command from outside: `parse` on saved bodies and responses,
//! `request` bytes and their redaction, `exchange` against the local provider, and
//! the exit statuses.

use picoauth_cli as cli;
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use serde_json::Value;

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["picoauth"];
    argv.extend_from_slice(args);
    let code = cli::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {s}"))
}

#[test]
fn parse_slack_v2_body_unescapes_and_redacts() {
    let path = fixture("slack-v2-spec-example-bot-and-user.json");
    let (code, out, _) = run(&["parse", "--provider", "slack-v2", "--body", &path]);
    assert_eq!(code, cli::EXIT_TOKEN);
    let v = json(&out);
    assert_eq!(v["outcome"], "token");
    assert_eq!(v["http_status"], 200);
    let f = &v["fields"];
    assert_eq!(f["team"]["name"], "Slack Softball Team");
    assert_eq!(f["enterprise"]["id"], "E12345678");
    assert_eq!(f["authed_user"]["id"], "U1234");
    assert_eq!(f["access_token"], "xoxb…[redacted]");
    assert!(!out.contains("pdFZKVeTuE8sk7oOcBrzbqgy"), "{out}");
    assert!(v.get("retry_after").is_none());
    let (_, shown, _) = run(&[
        "parse",
        "--provider",
        "slack-v2",
        "--body",
        "--show-secrets",
        &path,
    ]);
    let v = json(&shown);
    assert_eq!(
        v["fields"]["access_token"],
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
    );
    assert_eq!(v["fields"]["authed_user"]["access_token"], "xoxp-1234");

    // `\/`-escaped webhook URLs come out unescaped; `enterprise: null` is left out.
    let path = fixture("slack-v2-oauth2-slack-php-incoming-webhook-escaped.json");
    let (code, out, _) = run(&[
        "parse",
        "--provider",
        "slack-v2",
        "--body",
        "--show-secrets",
        &path,
    ]);
    assert_eq!(code, 0);
    let v = json(&out);
    let url = v["fields"]["incoming_webhook"]["url"].as_str().unwrap();
    assert!(url.starts_with("https://") && !url.contains('\\'), "{url}");
    assert!(v["fields"].get("enterprise").is_none());
}

#[test]
fn parse_errors_and_exit_statuses() {
    let (code, out, _) = run(&[
        "parse",
        "--provider",
        "slack-v2",
        "--body",
        &fixture("slack-v2-spec-error-invalid-client-id.json"),
    ]);
    assert_eq!(code, cli::EXIT_PROVIDER_ERROR);
    let v = json(&out);
    assert_eq!(
        (v["outcome"].as_str(), v["fields"]["error"].as_str()),
        (Some("error"), Some("invalid_client_id"))
    );
    assert_eq!(v["fields"]["ok"], false);

    let (code, out, _) = run(&[
        "parse",
        "--provider",
        "pinterest",
        "--body",
        "--status",
        "429",
        &fixture("pinterest-openapi-error-429-rate-limit-escaped-newline.json"),
    ]);
    assert_eq!(code, cli::EXIT_RATE_LIMITED);
    let v = json(&out);
    assert_eq!(v["outcome"], "rate_limited");
    assert_eq!(v["fields"]["code"], 8);
    assert!(
        v["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds one\nof"),
        "decoded \\n: {v}"
    );

    let (code, out, _) = run(&[
        "parse",
        "--provider",
        "oauth2",
        "--body",
        "--status",
        "400",
        &fixture("oauth2rs-error-custom-code-with-uri.json"),
    ]);
    assert_eq!(code, cli::EXIT_PROVIDER_ERROR);
    let v = json(&out);
    assert_eq!(v["fields"]["error"], "too_light");
    assert!(v["fields"]["error_uri"].is_string());

    // Not JSON: exit 5 with a one-line reason.
    let (code, out, err) = run(&[
        "parse",
        "--provider",
        "oauth2",
        "--body",
        &fixture("oauth2rs-broken-json.json"),
    ]);
    assert_eq!(code, cli::EXIT_FAILURE);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("200"), "{err}");
}

#[test]
fn parse_a_whole_saved_response() {
    let dir = std::env::temp_dir().join(format!("picoauth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("slack-429.http");
    std::fs::write(
        &raw,
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 30\r\ncontent-type: application/json\r\ncontent-length: 34\r\n\r\n{\"ok\":false,\"error\":\"ratelimited\"}",
    )
    .unwrap();
    let (code, out, _) = run(&["parse", "--provider", "slack-v2", raw.to_str().unwrap()]);
    assert_eq!(code, cli::EXIT_RATE_LIMITED);
    let v = json(&out);
    assert_eq!(
        (v["http_status"].as_u64(), v["retry_after"].as_u64()),
        (Some(429), Some(30))
    );

    let chunked = dir.join("pin.http");
    let body = std::fs::read_to_string(fixture("pinterest-docs-client-credentials.json")).unwrap();
    let mut s = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for c in body.as_bytes().chunks(10) {
        s += &format!("{:x}\r\n{}\r\n", c.len(), core::str::from_utf8(c).unwrap());
    }
    s += "0\r\n\r\n";
    std::fs::write(&chunked, s).unwrap();
    let (code, out, _) = run(&[
        "parse",
        "--provider",
        "pinterest",
        chunked.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["outcome"], "token");

    // The recorded oidc-provider 401: the challenge is part of the output.
    let denied = dir.join("oidc-401.http");
    let body = std::fs::read_to_string(fixture("oidc-provider-bad-secret.json")).unwrap();
    let www = r#"Basic realm="https://127.0.0.1:40803", error="invalid_client", error_description="client authentication failed""#;
    std::fs::write(
        &denied,
        format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {www}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["parse", "--provider", "oauth2", denied.to_str().unwrap()]);
    assert_eq!(code, cli::EXIT_PROVIDER_ERROR, "{out}");
    let v = json(&out);
    assert_eq!(
        (v["http_status"].as_u64(), v["www_authenticate"].as_str()),
        (Some(401), Some(www))
    );
    assert_eq!(v["fields"]["error"], "invalid_client");

    let truncated = dir.join("cut.http");
    std::fs::write(
        &truncated,
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"access",
    )
    .unwrap();
    let (code, _, err) = run(&["parse", "--provider", "oauth2", truncated.to_str().unwrap()]);
    assert_eq!(code, cli::EXIT_FAILURE);
    assert!(
        err.contains("closed before the response was complete"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn request_prints_exact_bytes_with_secrets_redacted() {
    // SAFETY of the environment: each test uses its own variable names.
    std::env::set_var("PICOAUTH_TEST_REQ_SECRET", "secret");
    let args = [
        "request",
        "--provider",
        "slack-v2",
        "--client-id",
        "111.222",
        "--client-secret-env",
        "PICOAUTH_TEST_REQ_SECRET",
        "--code",
        "ccdaa72ad-long-code",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("POST /api/oauth.v2.access HTTP/1.1\r\nHost: slack.com\r\nAuthorization: Basic [redacted]\r\n"), "{out}");
    assert!(!out.contains("MTExLjIyMjpzZWNyZXQ="));
    assert!(
        !out.contains("ccdaa72ad-long-code"),
        "the code is a secret too: {out}"
    );
    let mut shown = args.to_vec();
    shown.push("--show-secrets");
    let (_, out, _) = run(&shown);
    assert!(
        out.contains("Authorization: Basic MTExLjIyMjpzZWNyZXQ=\r\n"),
        "{out}"
    );
    assert!(out.ends_with("code=ccdaa72ad-long-code\n"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(&[
        "request",
        "--provider",
        "oauth2",
        "--client-id",
        "x",
        "--client-credentials",
    ]);
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(err.contains("--token-url"), "{err}");
    let (code, _, _) = run(&[
        "request",
        "--provider",
        "nope",
        "--client-id",
        "x",
        "--code",
        "c",
    ]);
    assert_eq!(code, cli::EXIT_USAGE);
    let (code, _, err) = run(&["request", "--provider", "slack-v2", "--client-id", "x"]);
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(err.contains("grant"), "{err}");
    let (code, _, err) = run(&[
        "request",
        "--provider",
        "slack-v2",
        "--client-id",
        "x",
        "--client-secret-env",
        "PICOAUTH_TEST_UNSET_VARIABLE",
        "--code",
        "c",
    ]);
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(err.contains("PICOAUTH_TEST_UNSET_VARIABLE"), "{err}");
    // Secrets are never taken on the command line.
    let (code, _, _) = run(&[
        "request",
        "--provider",
        "slack-v2",
        "--client-id",
        "x",
        "--client-secret",
        "s",
        "--code",
        "c",
    ]);
    assert_eq!(code, cli::EXIT_USAGE);
    let (code, _, err) = run(&[
        "request",
        "--provider",
        "oauth2",
        "--token-url",
        "http://example.com/token",
        "--client-id",
        "x",
        "--client-credentials",
    ]);
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn exchange_against_the_local_provider() {
    let p = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("picoauth-cli-ex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, p.ca_cert_pem()).unwrap();
    let url = format!("{}/v5/oauth/token", p.base_url());
    std::env::set_var("PICOAUTH_TEST_PIN_SECRET", lp::PINTEREST_CLIENT_SECRET);
    let refresh = p.issue_refresh_token(lp::ProviderKind::Pinterest, lp::PINTEREST_CLIENT_ID, None);
    std::env::set_var("PICOAUTH_TEST_PIN_REFRESH", &refresh);
    let base = [
        "exchange",
        "--provider",
        "pinterest",
        "--token-url",
        &url,
        "--client-id",
        lp::PINTEREST_CLIENT_ID,
        "--client-secret-env",
        "PICOAUTH_TEST_PIN_SECRET",
        "--ca-cert",
        ca.to_str().unwrap(),
        "--timeout",
        "10",
    ];
    let mut args = base.to_vec();
    args.extend([
        "--refresh-token-env",
        "PICOAUTH_TEST_PIN_REFRESH",
        "--continuous-refresh",
    ]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["outcome"], "token");
    assert!(v["fields"]["access_token"]
        .as_str()
        .unwrap()
        .ends_with("[redacted]"));
    assert!(v["fields"]["refresh_token_expires_in"].is_number(), "{v}");

    let mut args = base.to_vec();
    args.extend([
        "--client-credentials",
        "--scope",
        "boards:read",
        "--show-secrets",
    ]);
    let (code, out, _) = run(&args);
    assert_eq!(code, 0);
    assert!(json(&out)["fields"]["access_token"]
        .as_str()
        .unwrap()
        .starts_with("pinc_"));

    // A provider error exits 3; an untrusted server exits 5 with one line.
    std::env::set_var("PICOAUTH_TEST_PIN_BAD", "wrong");
    let mut args = base.to_vec();
    args[8] = "PICOAUTH_TEST_PIN_BAD";
    args.push("--client-credentials");
    let (code, out, _) = run(&args);
    assert_eq!(code, cli::EXIT_PROVIDER_ERROR);
    assert_eq!(json(&out)["http_status"], 401);
    let mut args: Vec<&str> = base
        .iter()
        .copied()
        .filter(|a| *a != "--ca-cert" && *a != ca.to_str().unwrap())
        .collect();
    args.push("--client-credentials");
    let (code, _, err) = run(&args);
    assert_eq!(code, cli::EXIT_FAILURE);
    assert!(err.contains("TLS"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
