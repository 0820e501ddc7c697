//! A Slack v2 code exchange over reqwest: `TOKEN_URL` as the argument, `CLIENT_ID`,
//! `CLIENT_SECRET` and `CODE` from the environment.

use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};

fn main() -> std::process::ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| SLACK_V2_URL.to_owned());
    let (Ok(id), Ok(secret), Ok(code)) = (
        std::env::var("CLIENT_ID"),
        std::env::var("CLIENT_SECRET"),
        std::env::var("CODE"),
    ) else {
        eprintln!("set CLIENT_ID, CLIENT_SECRET and CODE");
        return std::process::ExitCode::from(2);
    };
    let Ok(endpoint) = Endpoint::parse(&url) else {
        eprintln!("not a token URL: {url}");
        return std::process::ExitCode::from(2);
    };
    let provider = SLACK_V2.with_endpoint(endpoint);
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(&id, secret.as_str().into()),
        Grant::authorization_code(&code),
    );
    let client = reqwest::blocking::Client::new();
    match picoauth_example_reqwest::exchange(&client, &req) {
        Ok(outcome) => {
            println!("{outcome:?}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("exchange failed: {e:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

const SLACK_V2_URL: &str = "https://slack.com/api/oauth.v2.access";
