//! The `picoauth` command: `demo`, `request`, `exchange`, `parse` and `serve`.
//!
//! Secrets never come from the command line (they would sit in the shell history and
//! in `ps`): the client secret and refresh token are read from environment variables
//! named with `--client-secret-env` and `--refresh-token-env`.
//!
//! Exit status: 0 token, 2 usage, 3 provider error, 4 rate limited, 5 transport, TLS,
//! malformed or unexpected response (a one-line reason on stderr).

use core::time::Duration;
use std::io::{Read as _, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use picoauth::provider::{AuthMethod, Endpoint, Provider, ProviderKind};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::ClientSecret;

use picoauth_std::owned::OwnedOutcome;

mod demo;
mod login;

/// Exit status for a token.
pub const EXIT_TOKEN: u8 = 0;
/// Exit status for a usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a provider error.
pub const EXIT_PROVIDER_ERROR: u8 = 3;
/// Exit status for a rate-limited answer.
pub const EXIT_RATE_LIMITED: u8 = 4;
/// Exit status for a transport, TLS or malformed-response failure.
pub const EXIT_FAILURE: u8 = 5;

/// OAuth 2.0 token exchanges for Slack, Pinterest and any RFC 6749 endpoint.
#[derive(Debug, Parser)]
#[command(name = "picoauth", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run real HTTPS exchanges against the built-in local provider (offline).
    Demo,
    /// Print the exact HTTP request that would be sent.
    Request {
        #[command(flatten)]
        common: Common,
        /// Print secrets instead of redacting them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Send the token request and print the outcome as JSON.
    Exchange {
        #[command(flatten)]
        common: Common,
        /// Print secrets instead of redacting them.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Parse a saved HTTP response (or only a body) and print the outcome as JSON.
    Parse {
        /// Which provider's format.
        #[arg(long, value_enum)]
        provider: ProviderArg,
        /// The input is only a body, not a whole HTTP response.
        #[arg(long)]
        body: bool,
        /// The HTTP status for `--body` input.
        #[arg(long, default_value_t = 200, requires = "body")]
        status: u16,
        /// Print secrets instead of redacting them.
        #[arg(long)]
        show_secrets: bool,
        /// The file to read, or `-` for standard input.
        #[arg(default_value = "-")]
        file: String,
    },
    /// Run the whole authorization-code flow: print the authorize URL, wait for the
    /// redirect on a loopback listener, check the state, exchange the code.
    Login(crate::login::LoginArgs),
    /// Run the built-in local provider in the foreground (for tests in a namespace).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: core::net::SocketAddr,
        /// Where to write the CA certificate (PEM).
        #[arg(long)]
        ca_out: PathBuf,
        /// DNS names (and IPs) for the server certificate.
        #[arg(long = "name")]
        names: Vec<String>,
    },
}

/// `--provider`: which provider's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    /// Slack v2 (`/oauth/v2/authorize`, `oauth.v2.access`).
    #[value(name = "slack-v2")]
    SlackV2,
    /// Legacy Slack (`/oauth/authorize`, `oauth.access`).
    #[value(name = "slack-v1")]
    SlackV1,
    /// Pinterest v5.
    Pinterest,
    /// Any RFC 6749 server (`--token-url` required).
    Oauth2,
}

impl ProviderArg {
    pub(crate) const fn kind(self) -> ProviderKind {
        match self {
            Self::SlackV2 => ProviderKind::SlackV2,
            Self::SlackV1 => ProviderKind::SlackV1,
            Self::Pinterest => ProviderKind::Pinterest,
            Self::Oauth2 => ProviderKind::Rfc6749,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuthArg {
    Basic,
    Post,
    None,
}

#[derive(Debug, Args)]
struct Common {
    /// The provider.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    /// The token endpoint URL (required for `oauth2`; overrides the preset otherwise).
    #[arg(long)]
    token_url: Option<String>,
    /// The client id.
    #[arg(long)]
    client_id: String,
    /// The environment variable holding the client secret.
    #[arg(long)]
    client_secret_env: Option<String>,
    /// Client authentication (default: the provider's preferred, Basic).
    #[arg(long, value_enum)]
    auth: Option<AuthArg>,
    /// Authorization code grant: the code.
    #[arg(long, group = "grant")]
    code: Option<String>,
    /// The redirect URI of the authorize request.
    #[arg(long, requires = "code")]
    redirect_uri: Option<String>,
    /// PKCE code verifier.
    #[arg(long, requires = "code")]
    code_verifier: Option<String>,
    /// Refresh grant: the environment variable holding the refresh token.
    #[arg(long, group = "grant")]
    refresh_token_env: Option<String>,
    /// Client credentials grant.
    #[arg(long, group = "grant")]
    client_credentials: bool,
    /// Scope for the refresh or client credentials grant.
    #[arg(long)]
    scope: Option<String>,
    /// Pinterest continuous refresh (a new refresh token on each refresh).
    #[arg(long)]
    continuous_refresh: bool,
    /// Extra body parameter NAME=VALUE (repeatable).
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Also trust this CA certificate (PEM).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// Overall timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| "expected NAME=VALUE".to_owned())
}

/// A usage problem found after argument parsing.
#[derive(Debug)]
struct Usage(String);

/// Owned inputs that the borrowed `TokenRequest` points into.
struct Inputs {
    kind: ProviderKind,
    token_url: Option<String>,
    client_id: String,
    secret: Option<String>,
    auth: AuthMethod,
    refresh_token: Option<String>,
    common: Common,
}

impl Inputs {
    fn from_common(common: Common) -> Result<Self, Usage> {
        let kind = common.provider.kind();
        let read_env = |name: &str| {
            std::env::var(name)
                .map_err(|_| Usage(format!("environment variable {name} is not set")))
        };
        let secret = common
            .client_secret_env
            .as_deref()
            .map(read_env)
            .transpose()?;
        let refresh_token = common
            .refresh_token_env
            .as_deref()
            .map(read_env)
            .transpose()?;
        if common.code.is_none() && refresh_token.is_none() && !common.client_credentials {
            return Err(Usage(
                "choose a grant: --code, --refresh-token-env or --client-credentials".to_owned(),
            ));
        }
        if kind == ProviderKind::Rfc6749 && common.token_url.is_none() {
            return Err(Usage(
                "--token-url is required for --provider oauth2".to_owned(),
            ));
        }
        let auth = match common.auth {
            Some(AuthArg::Basic) => AuthMethod::Basic,
            Some(AuthArg::Post) => AuthMethod::Post,
            Some(AuthArg::None) => AuthMethod::None,
            None if secret.is_none() => AuthMethod::None,
            None => Provider::preset(kind).map_or(AuthMethod::Basic, |p| p.default_auth),
        };
        if auth != AuthMethod::None && secret.is_none() {
            return Err(Usage(
                "--auth basic|post needs --client-secret-env".to_owned(),
            ));
        }
        Ok(Self {
            kind,
            token_url: common.token_url.clone(),
            client_id: common.client_id.clone(),
            secret,
            auth,
            refresh_token,
            common,
        })
    }

    fn with_request<R>(&self, f: impl FnOnce(&TokenRequest<'_>) -> R) -> Result<R, Usage> {
        let endpoint = match &self.token_url {
            Some(u) => Some(Endpoint::parse(u).map_err(|e| Usage(format!("--token-url: {e}")))?),
            None => None,
        };
        let provider = match (Provider::preset(self.kind), endpoint) {
            (Some(p), Some(e)) => p.with_endpoint(e),
            (Some(p), None) => p,
            (None, Some(e)) => Provider::rfc6749(e),
            (None, None) => return Err(Usage("--token-url is required".to_owned())),
        };
        let secret = self.secret.as_deref().map(ClientSecret::new);
        let auth = ClientAuth::from_method(self.auth, &self.client_id, secret)
            .ok_or_else(|| Usage("this --auth needs --client-secret-env".to_owned()))?;
        let c = &self.common;
        let grant = if let Some(code) = &c.code {
            let mut g = Grant::authorization_code(code);
            if let Some(u) = &c.redirect_uri {
                g = g.with_redirect_uri(u);
            }
            if let Some(v) = &c.code_verifier {
                g = g.with_code_verifier(v);
            }
            g
        } else if let Some(rt) = &self.refresh_token {
            Grant::refresh_token(rt)
        } else {
            Grant::client_credentials()
        };
        let grant = match &c.scope {
            Some(s) => grant.with_scope(s),
            None => grant,
        };
        let extra: Vec<(&str, &str)> = c
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = TokenRequest::new(&provider, auth, grant)
            .with_extra(&extra)
            .continuous_refresh(c.continuous_refresh);
        req.validate()
            .map_err(|e| Usage(format!("cannot build the request: {e}")))?;
        Ok(f(&req))
    }

    fn secrets(&self) -> Vec<String> {
        let mut v = Vec::new();
        v.extend(self.secret.clone());
        v.extend(self.refresh_token.clone());
        v.extend(self.common.code.clone());
        v.extend(self.common.code_verifier.clone());
        v
    }
}

/// Replaces every secret in `text`, in every encoding it may appear in, by a
/// redacted form. Used for `picoauth request` output.
fn redact_request(text: &str, req: &TokenRequest<'_>, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    if let Some(basic) = req.basic_auth() {
        let mut buf = vec![0u8; basic.encoded_len()];
        if let Ok(n) = basic.encode(&mut buf) {
            let v = String::from_utf8_lossy(&buf[..n]).into_owned();
            out = out.replace(&v, "Basic [redacted]");
        }
    }
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        let mut buf = vec![0u8; picoauth::form::encoded_len(s, picoauth::form::Space::Plus)];
        if let Ok(n) = picoauth::form::encode(s, &mut buf) {
            let enc = String::from_utf8_lossy(&buf[..n]).into_owned();
            out = out.replace(&enc, &picoauth_std::owned::redacted(s));
        }
    }
    out
}

/// Runs the command line `args` (the first is the program name), writing to `out`
/// and `err`, and returns the exit status.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_TOKEN
            };
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
            } else {
                let _ = out.write_all(text.as_bytes());
            }
            return code;
        }
    };
    match cli.command {
        Command::Demo => crate::demo::run(out, err),
        Command::Login(args) => crate::login::run(args, out, err),
        Command::Request {
            common,
            show_secrets,
        } => cmd_request(common, show_secrets, out, err),
        Command::Exchange {
            common,
            show_secrets,
        } => cmd_exchange(common, show_secrets, out, err),
        Command::Parse {
            provider,
            body,
            status,
            show_secrets,
            file,
        } => cmd_parse(provider.kind(), body, status, show_secrets, &file, out, err),
        Command::Serve {
            listen,
            ca_out,
            names,
        } => crate::demo::serve(listen, &ca_out, names, out, err),
    }
}

fn usage(err: &mut dyn Write, u: &Usage) -> u8 {
    let _ = writeln!(err, "picoauth: {}", u.0);
    EXIT_USAGE
}

fn cmd_request(common: Common, show_secrets: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let inputs = match Inputs::from_common(common) {
        Ok(i) => i,
        Err(u) => return usage(err, &u),
    };
    let secrets = inputs.secrets();
    let text = inputs.with_request(|req| {
        let len = req.encoded_len().map_err(|e| Usage(e.to_string()))?;
        let mut buf = vec![0u8; len];
        let n = req.encode(&mut buf).map_err(|e| Usage(e.to_string()))?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        Ok::<String, Usage>(if show_secrets {
            text
        } else {
            redact_request(&text, req, &secrets)
        })
    });
    match text {
        Ok(Ok(t)) => {
            let _ = out.write_all(t.as_bytes());
            let _ = out.write_all(b"\n");
            EXIT_TOKEN
        }
        Ok(Err(u)) | Err(u) => usage(err, &u),
    }
}

/// Prints an outcome as the command's one JSON object and returns its exit status.
pub fn print_outcome(o: &OwnedOutcome, show_secrets: bool, out: &mut dyn Write) -> u8 {
    let _ = writeln!(out, "{}", o.to_json(show_secrets));
    match o {
        OwnedOutcome::Token { .. } => EXIT_TOKEN,
        OwnedOutcome::Error { .. } => EXIT_PROVIDER_ERROR,
        OwnedOutcome::RateLimited { .. } => EXIT_RATE_LIMITED,
        // `OwnedOutcome` is non-exhaustive: an outcome this command does not know is
        // not a token.
        _ => EXIT_FAILURE,
    }
}

fn cmd_exchange(
    common: Common,
    show_secrets: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let ca = match &common.ca_cert {
        Some(p) => match std::fs::read(p) {
            Ok(b) => Some(b),
            Err(e) => return usage(err, &Usage(format!("--ca-cert {}: {e}", p.display()))),
        },
        None => None,
    };
    let timeout = Duration::from_secs(common.timeout.max(1));
    let inputs = match Inputs::from_common(common) {
        Ok(i) => i,
        Err(u) => return usage(err, &u),
    };
    let mut builder = picoauth_std::Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .total_timeout(timeout);
    if let Some(pem) = ca {
        builder = match builder.add_ca_pem(&pem) {
            Ok(b) => b,
            Err(e) => return usage(err, &Usage(format!("--ca-cert: {e}"))),
        };
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "picoauth: {e}");
            return EXIT_FAILURE;
        }
    };
    match inputs.with_request(|req| client.exchange(req)) {
        Err(u) => usage(err, &u),
        Ok(Err(e)) => {
            let _ = writeln!(err, "picoauth: {e}");
            EXIT_FAILURE
        }
        Ok(Ok(o)) => print_outcome(&o, show_secrets, out),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_parse(
    kind: ProviderKind,
    body_only: bool,
    status: u16,
    show_secrets: bool,
    file: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut input = Vec::new();
    let read = if file == "-" {
        std::io::stdin().read_to_end(&mut input).map(|_| ())
    } else {
        std::fs::read(file).map(|b| input = b)
    };
    if let Err(e) = read {
        return usage(err, &Usage(format!("{file}: {e}")));
    }
    let result = if body_only {
        picoauth_std::owned::parse_body(kind, status, &input)
    } else {
        picoauth_std::owned::parse_response(kind, &input)
    };
    match result {
        Ok(o) => print_outcome(&o, show_secrets, out),
        Err(e) => {
            let _ = writeln!(err, "picoauth: {e}");
            EXIT_FAILURE
        }
    }
}
