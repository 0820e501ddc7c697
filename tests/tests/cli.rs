//! The `picoauth` command from outside: `parse` on saved bodies and responses,
//! `request` bytes and their redaction, `exchange` against the local provider, and
//! the exit statuses.

use picoauth_cli as cli;
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_test_support::cli::run;
use serde_json::Value;

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
    std::env::set_var("PICOAUTH_TEST_REQ_CODE", "ccdaa72ad-long-code");
    let args = [
        "request",
        "--provider",
        "slack-v2",
        "--client-id",
        "111.222",
        "--client-secret-env",
        "PICOAUTH_TEST_REQ_SECRET",
        "--code-env",
        "PICOAUTH_TEST_REQ_CODE",
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

/// A secret extra parameter comes from the environment (`--param-env NAME=VAR`), is
/// sent, and is printed redacted, even under a name the encoder escapes; a `--param`
/// is printed as sent.
#[test]
fn param_env_values_are_sent_and_printed_redacted() {
    std::env::set_var(
        "PICOAUTH_TEST_PARAM_ASSERTION",
        "eyJhbGciOi.assertion-value",
    );
    std::env::set_var("PICOAUTH_TEST_PARAM_ODD", "odd-secret-value");
    let oauth2 = [
        "request",
        "--provider",
        "oauth2",
        "--token-url",
        "https://auth.example.com/token",
        "--client-id",
        "app",
        "--client-credentials",
    ];
    let args = [
        &oauth2[..],
        &[
            "--param",
            "resource=https://api.example.com",
            "--param-env",
            "client_assertion=PICOAUTH_TEST_PARAM_ASSERTION",
            "--param-env",
            "odd name=PICOAUTH_TEST_PARAM_ODD",
        ],
    ]
    .concat();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("resource=https%3A%2F%2Fapi.example.com"),
        "{out}"
    );
    assert!(out.contains("&client_assertion=eyJh…[redacted]"), "{out}");
    assert!(out.contains("&odd+name=odd-…[redacted]"), "{out}");
    assert!(!out.contains("assertion-value"), "{out}");
    assert!(!out.contains("secret-value"), "{out}");
    let mut shown = args.clone();
    shown.push("--show-secrets");
    let (_, out, _) = run(&shown);
    assert!(
        out.ends_with("&client_assertion=eyJhbGciOi.assertion-value&odd+name=odd-secret-value\n"),
        "{out}"
    );
    let unset = [
        &oauth2[..],
        &["--param-env", "client_assertion=PICOAUTH_TEST_PARAM_UNSET"],
    ]
    .concat();
    let (code, _, err) = run(&unset);
    assert_eq!(code, cli::EXIT_USAGE);
    assert!(err.contains("PICOAUTH_TEST_PARAM_UNSET"), "{err}");
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
        "--client-credentials",
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
        "--client-credentials",
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
        "--client-credentials",
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

// ---------------------------------------------------------------------------------
// Issue 18: the built `picoauth` binary, run as a user (or an attacker) would.

use core::time::Duration;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// The `picoauth` binary of this build, built once if a bare `cargo test -p` did
/// not build it (the tests crate cannot name another package's binary).
fn picoauth_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Another build of the command (e.g. the one before a fix) to compare with.
        if let Some(p) = std::env::var_os("PICOAUTH_BIN") {
            return PathBuf::from(p);
        }
        // target/<profile>/deps/cli-… → target/<profile>/picoauth
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap().to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-q", "-p", "picoauth-cli", "--bin", "picoauth"])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the picoauth binary failed");
        profile_dir.join(format!("picoauth{}", std::env::consts::EXE_SUFFIX))
    })
}

/// Runs the binary with `envs` and `stdin`, killing it after `limit`.
fn bin_full(
    args: &[&str],
    envs: &[(&str, &str)],
    stdin: &[u8],
    limit: Duration,
) -> (i32, String, String, Duration) {
    let mut child = Command::new(picoauth_bin())
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn picoauth");
    let start = Instant::now();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    let out = child.stdout.take().unwrap();
    let errp = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
    let err_t = std::thread::spawn(move || std::io::read_to_string(errp).unwrap_or_default());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("picoauth {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    (
        status.code().unwrap_or(-1),
        out_t.join().unwrap(),
        err_t.join().unwrap(),
        took,
    )
}

fn bin(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let (c, o, e, _) = bin_full(args, envs, b"", Duration::from_secs(60));
    (c, o, e)
}

fn tmp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("picoauth-cli18-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A non-zero exit left exactly one line on stderr.
fn one_line(err: &str) {
    assert_eq!(err.lines().count(), 1, "stderr: {err:?}");
    assert!(err.starts_with("picoauth: "), "stderr: {err:?}");
}

#[test]
fn i18_2_request_redaction_is_structural() {
    // A one-letter secret: nothing else in the request may change.
    let (code, out, err) = bin(
        &[
            "request",
            "--provider",
            "oauth2",
            "--token-url",
            "https://server.example.com/token",
            "--client-id",
            "client",
            "--client-secret-env",
            "SEC",
            "--auth",
            "post",
            "--code-env",
            "CODE",
            "--redirect-uri",
            "https://server.example.com/cb",
        ],
        &[("SEC", "x"), ("CODE", "e")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Host: server.example.com\r\n"), "{out}");
    assert!(
        out.contains("redirect_uri=https%3A%2F%2Fserver.example.com%2Fcb"),
        "{out}"
    );
    assert!(out.contains("client_secret=[redacted]"), "{out}");
    assert!(out.contains("code=[redacted]"), "{out}");
    assert!(out.contains("grant_type=authorization_code"), "{out}");
    // A secret that is a prefix of another: the longer one is not half printed.
    let (code, out, err) = bin(
        &[
            "request",
            "--provider",
            "oauth2",
            "--token-url",
            "https://server.example.com/token",
            "--client-id",
            "client",
            "--client-secret-env",
            "SEC",
            "--refresh-token-env",
            "RT",
        ],
        &[("SEC", "abc"), ("RT", "abcdefSECRETrefresh999")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("SECRETrefresh999"), "{out}");
    assert!(!out.contains("defSECRET"), "{out}");
    assert!(out.contains("Authorization: Basic [redacted]\r\n"), "{out}");
    assert!(out.contains("refresh_token=abcd…[redacted]"), "{out}");
}

#[test]
fn i18_3_code_and_verifier_never_on_argv() {
    let base = [
        "request",
        "--provider",
        "oauth2",
        "--token-url",
        "https://server.example.com/token",
        "--client-id",
        "client",
    ];
    // The argv forms are gone.
    let mut a = base.to_vec();
    a.extend(["--code", "SECRETCODE123"]);
    let (code, out, err) = bin(&a, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("--code"), "{err}");
    assert!(!out.contains("SECRETCODE123"));
    let mut a = base.to_vec();
    a.extend(["--code-env", "C", "--code-verifier", "v"]);
    assert_eq!(bin(&a, &[("C", "c")]).0, 2);
    // From the environment, and from standard input.
    let verifier = "V".repeat(43);
    let mut a = base.to_vec();
    a.extend([
        "--code-env",
        "C",
        "--code-verifier-env",
        "V",
        "--show-secrets",
    ]);
    let (code, out, err) = bin(&a, &[("C", "SECRETCODE123"), ("V", &verifier)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("code=SECRETCODE123"), "{out}");
    assert!(out.contains(&format!("code_verifier={verifier}")), "{out}");
    let mut a = base.to_vec();
    a.extend(["--code-stdin", "--show-secrets"]);
    let (code, out, err, _) = bin_full(&a, &[], b"STDINCODE42\n", Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("code=STDINCODE42&") || out.ends_with("code=STDINCODE42\n"),
        "{out}"
    );
    // The help says where secrets come from.
    let (_, help, _) = bin(&["request", "--help"], &[]);
    assert!(
        help.contains("--code-env") && help.contains("--code-stdin"),
        "{help}"
    );
}

#[test]
fn i18_4_secret_named_members_are_redacted_unless_asked() {
    let token = tmp_file(
        "ext-token.json",
        br#"{"access_token":"AT1234567890","token_type":"Bearer","session_token":"SESSIONSECRET123","nested":{"client_secret":"NESTEDSECRET456","password":"PASSWORD789","n":1},"device_code":"DEVICECODE000"}"#,
    );
    let err_body = tmp_file(
        "ext-error.json",
        br#"{"error":"invalid_grant","refresh_token":"LEAKEDREFRESH111","code":"LEAKEDCODE222"}"#,
    );
    let limited = tmp_file(
        "ext-429.json",
        br#"{"error":"slow_down","id_token":"LEAKEDIDTOKEN333"}"#,
    );
    let secrets = [
        "SESSIONSECRET123",
        "NESTEDSECRET456",
        "PASSWORD789",
        "LEAKEDREFRESH111",
        "LEAKEDCODE222",
        "LEAKEDIDTOKEN333",
    ];
    let mut all = String::new();
    let mut shown = String::new();
    for (file, status) in [(&token, "200"), (&err_body, "400"), (&limited, "429")] {
        let f = file.to_str().unwrap();
        let args = [
            "parse",
            "--provider",
            "oauth2",
            "--body",
            "--status",
            status,
            f,
        ];
        let (_, out, _) = bin(&args, &[]);
        all += &out;
        let mut a = args.to_vec();
        a.push("--show-secrets");
        shown += &bin(&a, &[]).1;
    }
    for s in secrets {
        assert!(!all.contains(s), "{s} printed: {all}");
        assert!(shown.contains(s), "--show-secrets must show {s}: {shown}");
    }
    // Names that only look alike stay as they are.
    assert!(all.contains(r#""n":1"#), "{all}");
    assert!(all.contains(r#""error":"invalid_grant""#), "{all}");
}

#[test]
fn i18_6_a_huge_timeout_does_not_panic() {
    let p = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let ca = tmp_file("ca-timeout.pem", p.ca_cert_pem().as_bytes());
    let url = format!("{}/v5/oauth/token", p.base_url());
    let (code, out, err) = bin(
        &[
            "exchange",
            "--provider",
            "pinterest",
            "--token-url",
            &url,
            "--client-id",
            lp::PINTEREST_CLIENT_ID,
            "--client-secret-env",
            "S",
            "--client-credentials",
            "--ca-cert",
            ca.to_str().unwrap(),
            "--timeout",
            "18446744073709551615",
        ],
        &[("S", lp::PINTEREST_CLIENT_SECRET)],
    );
    assert_eq!(code, 0, "{out} {err}");
    assert!(!err.contains("panicked"), "{err}");
    // The library too.
    let client = picoauth_std::Client::builder()
        .total_timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .read_timeout(Duration::MAX)
        .add_ca_pem(p.ca_cert_pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let provider = picoauth::provider::PINTEREST
        .with_endpoint(picoauth::provider::Endpoint::parse(&url).unwrap());
    let req = picoauth::request::TokenRequest::new(
        &provider,
        picoauth::request::ClientAuth::basic(
            lp::PINTEREST_CLIENT_ID,
            picoauth::ClientSecret::new(lp::PINTEREST_CLIENT_SECRET),
        ),
        picoauth::request::Grant::client_credentials(),
    );
    assert!(client.exchange(&req).unwrap().tokens().is_some());
}

#[test]
fn i18_7_an_interim_response_flood_is_refused_fast() {
    let mut flood = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(5 * 1024 * 1024 / 25);
    flood.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    let f = tmp_file("flood.txt", &flood);
    let (code, _, err, took) = bin_full(
        &["parse", "--provider", "oauth2", f.to_str().unwrap()],
        &[],
        b"",
        Duration::from_secs(60),
    );
    assert_eq!(code, 5);
    one_line(&err);
    assert!(err.contains("interim"), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn i18_9_nested_extension_members_are_capped() {
    // 10 MB of shallowly nested extension members.
    let mut body = br#"{"access_token":"a","token_type":"bearer""#.to_vec();
    let mut i = 0;
    while body.len() < 10 * 1024 * 1024 {
        body.extend_from_slice(format!(r#","k{i}":{{"a":{{"b":1}}}}"#).as_bytes());
        i += 1;
    }
    body.push(b'}');
    let f = tmp_file("nested.json", &body);
    let (code, out, err, took) = bin_full(
        &[
            "parse",
            "--provider",
            "oauth2",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
        b"",
        Duration::from_secs(120),
    );
    assert_eq!(code, 5, "{}", &out[..out.len().min(200)]);
    one_line(&err);
    assert!(err.contains("4096 members"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    // Under the cap, every member is printed.
    let mut body = br#"{"access_token":"a","token_type":"bearer""#.to_vec();
    for i in 0..1000 {
        body.extend_from_slice(format!(r#","k{i}":{{"a":[1,2]}}"#).as_bytes());
    }
    body.push(b'}');
    let f = tmp_file("nested-ok.json", &body);
    let (code, out, err) = bin(
        &[
            "parse",
            "--provider",
            "oauth2",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["fields"]["k999"]["a"][1], 2);
}

#[test]
fn i18_10_plain_http_needs_a_real_loopback_host() {
    let (code, _, err) = bin(
        &[
            "request",
            "--provider",
            "oauth2",
            "--token-url",
            "http://127.0.0.1.1.1/token",
            "--client-id",
            "c",
            "--client-credentials",
        ],
        &[],
    );
    assert_eq!(code, 2);
    one_line(&err);
    assert!(err.contains("loopback"), "{err}");
}

#[test]
fn i18_11_authorize_url_with_own_state_is_refused() {
    let (code, _, err) = bin(
        &[
            "login",
            "--provider",
            "oauth2",
            "--client-id",
            "c",
            "--listen",
            "127.0.0.1:0",
            "--authorize-url",
            "https://127.0.0.1:9/authorize?state=attacker",
            "--token-url",
            "https://127.0.0.1:9/token",
            "--timeout",
            "5",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("state"), "{err}");
    assert!(!err.contains("Open this URL"), "{err}");
}

#[test]
fn i18_12_serve_refuses_non_loopback_without_the_danger_flag() {
    let ca = std::env::temp_dir().join(format!("picoauth-cli18-serve-{}.pem", std::process::id()));
    let (code, out, err) = bin(
        &[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--ca-out",
            ca.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}");
    one_line(&err);
    assert!(err.contains("--danger-listen-beyond-loopback"), "{err}");
    assert!(!out.contains("code "), "{out}");
    assert!(!ca.exists());
}

#[test]
fn i18_13_large_integers_are_printed_exactly() {
    let f = tmp_file(
        "u64.json",
        br#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551615,"ext":9223372036854775808}"#,
    );
    let (code, out, err) = bin(
        &[
            "parse",
            "--provider",
            "oauth2",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(r#""expires_in":18446744073709551615"#),
        "{out}"
    );
    assert!(out.contains(r#""ext":9223372036854775808"#), "{out}");
}

#[test]
fn i18_14_every_member_is_printed() {
    // Slack v2: an unknown member, and one warning sent in both places.
    let f = tmp_file(
        "slack-extra.json",
        br#"{"ok":true,"access_token":"xoxb-1","app_id":"A1","new_thing":{"x":1},"warning":"superfluous_charset","response_metadata":{"warnings":["superfluous_charset","missing_charset"],"next_cursor":""}}"#,
    );
    let (code, out, err) = bin(
        &[
            "parse",
            "--provider",
            "slack-v2",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["fields"]["new_thing"]["x"], 1, "{v}");
    assert_eq!(
        v["fields"]["warnings"],
        serde_json::json!(["superfluous_charset", "missing_charset"])
    );
    assert_eq!(v["fields"]["response_metadata"]["next_cursor"], "", "{v}");
    // Legacy Slack: `ok` as sent.
    let f = tmp_file(
        "slack-v1.json",
        br#"{"ok":true,"access_token":"xoxp-1","team_id":"T1","scope":"read"}"#,
    );
    let (_, out, _) = bin(
        &[
            "parse",
            "--provider",
            "slack-v1",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(json(&out)["fields"]["ok"], true, "{out}");
    // Slack error with an unknown member.
    let f = tmp_file(
        "slack-err.json",
        br#"{"ok":false,"error":"invalid_code","needed":"x"}"#,
    );
    let (code, out, _) = bin(
        &[
            "parse",
            "--provider",
            "slack-v2",
            "--body",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 3);
    assert_eq!(json(&out)["fields"]["needed"], "x", "{out}");
    // Pinterest: a token's unknown `status`, an error's unknown member.
    let (_, out, _) = bin(
        &[
            "parse",
            "--provider",
            "pinterest",
            "--body",
            &fixture("pinterest-quickstart-code-exchange-extra-status.json"),
        ],
        &[],
    );
    assert!(json(&out)["fields"].get("status").is_some(), "{out}");
    let f = tmp_file(
        "pin-err.json",
        br#"{"code":2,"message":"Authentication failed.","details":["a"]}"#,
    );
    let (code, out, _) = bin(
        &[
            "parse",
            "--provider",
            "pinterest",
            "--body",
            "--status",
            "401",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 3);
    assert_eq!(json(&out)["fields"]["details"][0], "a", "{out}");
}

#[test]
fn i18_15_every_non_zero_exit_says_why() {
    let cases: [(&str, &str, &[u8]); 3] = [
        ("500", "oauth2", b"<html>oops</html>"),
        (
            "400",
            "oauth2",
            br#"{"error":"invalid_grant","error_description":"line one\nline two"}"#,
        ),
        ("429", "pinterest", br#"{"code":8,"message":"slow"}"#),
    ];
    for (status, provider, body) in cases {
        let f = tmp_file(&format!("exit-{status}.txt"), body);
        let (code, _, err) = bin(
            &[
                "parse",
                "--provider",
                provider,
                "--body",
                "--status",
                status,
                f.to_str().unwrap(),
            ],
            &[],
        );
        assert_ne!(code, 0);
        one_line(&err);
    }
    let f = tmp_file("exit-500b.txt", b"<html>oops</html>");
    let (code, _, err) = bin(
        &[
            "parse",
            "--provider",
            "oauth2",
            "--body",
            "--status",
            "500",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 5);
    assert!(err.contains("500"), "{err}");
}

#[test]
fn i18_16_parse_help_names_only_its_options() {
    let (code, help, _) = bin(&["parse", "--help"], &[]);
    assert_eq!(code, 0);
    assert!(!help.contains("--token-url"), "{help}");
    assert!(help.contains("--provider"), "{help}");
}

#[test]
fn i18_17_providers_requiring_a_secret_say_which_option_is_missing() {
    for provider in ["slack-v1", "pinterest"] {
        let (code, _, err) = bin(
            &[
                "request",
                "--provider",
                provider,
                "--client-id",
                "c",
                "--code-env",
                "C",
            ],
            &[("C", "code")],
        );
        assert_eq!(code, 2, "{provider}");
        one_line(&err);
        assert!(err.contains("--client-secret-env"), "{err}");
    }
    // Slack v2 documents the secret as optional.
    let (code, _, err) = bin(
        &[
            "request",
            "--provider",
            "slack-v2",
            "--client-id",
            "c",
            "--code-env",
            "C",
        ],
        &[("C", "code")],
    );
    assert_eq!(code, 0, "{err}");
}

/// `picoauth login` started as a user would, without `--browser-follow`: the test plays
/// the browser (and the attacker). Returns the child, the authorize URL and the
/// redirect URI it printed, and the rest of its stderr as lines.
fn start_login(
    p: &LocalProvider,
    ca: &Path,
    timeout: &str,
) -> (
    std::process::Child,
    String,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead as _;
    let mut child = Command::new(picoauth_bin())
        .args([
            "login",
            "--provider",
            "slack-v2",
            "--client-id",
            lp::SLACK_CLIENT_ID,
            "--client-secret-env",
            "S",
            "--listen",
            "127.0.0.1:0",
            "--authorize-url",
            &format!("{}/oauth/v2/authorize", p.base_url()),
            "--token-url",
            &format!("{}/api/oauth.v2.access", p.base_url()),
            "--ca-cert",
            ca.to_str().unwrap(),
            "--timeout",
            timeout,
        ])
        .env("S", lp::SLACK_CLIENT_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut url, mut redirect) = (String::new(), String::new());
    while redirect.is_empty() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("login prints its URL");
        if line.trim_start().starts_with("https://") {
            url = line.trim().to_owned();
        }
        if let Some(r) = line.strip_prefix("Waiting for the redirect to ") {
            redirect = r.trim_end_matches(" …").to_owned();
        }
    }
    (child, url, redirect, rx)
}

/// Sends one raw request to the login listener and returns the status line.
fn hit(addr: &str, request: &str) -> String {
    use std::io::Read as _;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.lines().next().unwrap_or("").to_owned()
}

fn wait_child(child: &mut std::process::Child, limit: Duration) -> (i32, Duration) {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s.code().unwrap_or(-1), start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("login still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn login_provider() -> (LocalProvider, PathBuf) {
    let mut clients = lp::default_clients();
    for c in &mut clients {
        c.redirect_uris.clear();
    }
    let p = LocalProvider::start(LocalProviderConfig {
        clients,
        ..Default::default()
    })
    .unwrap();
    let ca = tmp_file(
        &format!("login-ca-{}.pem", p.port()),
        p.ca_cert_pem().as_bytes(),
    );
    (p, ca)
}

#[test]
fn i18_8_forged_callbacks_and_idle_connections_do_not_end_or_stall_the_login() {
    let (p, ca) = login_provider();
    let (mut child, url, redirect, _err) = start_login(&p, &ca, "20");
    let started = Instant::now();
    let addr = redirect
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/callback"))
        .unwrap()
        .to_owned();
    let state = url
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("state="))
        .unwrap()
        .to_owned();
    // Five idle connections that never send a byte.
    let idle: Vec<_> = (0..5)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    // A forged state and a missing one are refused, and the login goes on.
    let forged = hit(
        &addr,
        "GET /callback?code=evil&state=forged HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(forged.contains(" 400 "), "{forged}");
    let missing = hit(&addr, "GET /callback?code=evil HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(missing.contains(" 400 "), "{missing}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "a forged callback ended the login"
    );
    // The real redirect, at once, despite the idle connections.
    let code = p.issue_code(lp::SLACK_CLIENT_ID, Some(&redirect), None, None);
    let real = hit(
        &addr,
        &format!("GET /callback?code={code}&state={state} HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert!(real.contains(" 200 "), "{real}");
    let (status, _) = wait_child(&mut child, Duration::from_secs(30));
    assert_eq!(status, 0);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(json(&out)["outcome"], "token", "{out}");
    drop(idle);
}

#[test]
fn i18_8_a_dripping_client_cannot_stretch_the_timeout() {
    let (p, ca) = login_provider();
    let (mut child, _, redirect, _err) = start_login(&p, &ca, "3");
    let addr = redirect
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/callback"))
        .unwrap()
        .to_owned();
    let drip = std::thread::spawn(move || {
        let Ok(mut s) = std::net::TcpStream::connect(&addr) else {
            return;
        };
        for b in b"GET /callback?code=x&state=y HTTP/1.1\r\nHost: x\r\n\r\n" {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(400));
        }
    });
    let (status, took) = wait_child(&mut child, Duration::from_secs(30));
    assert_eq!(status, 5);
    assert!(took < Duration::from_secs(6), "{took:?}");
    drop(drip);
}

/// `picoauth app` starts the install app against the built-in provider and prints the
/// URL to open; the page there offers both installs (issue 17).
#[test]
fn app_starts_the_install_app_and_prints_the_url_to_open() {
    use std::io::{BufRead as _, BufReader, Read as _};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(picoauth_bin())
        .args(["app", "--token-lifetime", "5"])
        .env("PICOAUTH_APP_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "PICOAUTH_STORE_URL",
            format!("sqlite:{}", dir.path().join("app.db").display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed on every path, also when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut child = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix("open ") {
                    break rest.split(' ').next().unwrap().to_owned();
                }
            }
            Err(_) => {
                let _ = child.0.kill();
                let mut e = String::new();
                let _ = child.0.stderr.take().unwrap().read_to_string(&mut e);
                panic!("`picoauth app` printed no URL within 60 s; stderr: {e}");
            }
        }
    };
    assert_eq!(url, format!("http://127.0.0.1:{port}/"));
    // A plain HTTP/1.1 GET of the page on loopback.
    let page = (0..50)
        .find_map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok().or_else(|| {
                std::thread::sleep(Duration::from_millis(100));
                None
            })?;
            write!(s, "GET /slack/install HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
            let mut r = String::new();
            s.read_to_string(&mut r).ok()?;
            Some(r)
        })
        .expect("the app answers on its port");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Add to Slack"), "{page}");
}
