//! The `picoauth` command: `demo`, `request`, `exchange`, `parse` and `serve`.
//!
//! Secrets never come from the command line (they would sit in the shell history and
//! in `ps`, where any local user reads them): the client secret, the refresh token,
//! the authorization code and the PKCE verifier are read from environment variables
//! named with `--client-secret-env`, `--refresh-token-env`, `--code-env` and
//! `--code-verifier-env`, or the code from standard input (`--code-stdin`).
//!
//! Exit status: 0 token, 2 usage, 3 provider error, 4 rate limited, 5 transport, TLS,
//! malformed or unexpected response. Every non-zero exit writes a one-line reason on
//! stderr.

use core::time::Duration;
use std::io::{Read as _, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use picoauth::provider::{AuthMethod, Endpoint, Provider, ProviderKind};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth::ClientSecret;

use picoauth_std::owned::OwnedOutcome;
use zeroize::Zeroizing;

mod demo;
pub mod json;
mod login;
mod provision;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod tokens;

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
    /// Start the install web app ("Add to Slack", "Connect Pinterest", installations
    /// kept alive) against the built-in provider, and print the URL to open. The app
    /// listens on `PICOAUTH_APP_LISTEN` (default 127.0.0.1:3000) and stores
    /// installations in `PICOAUTH_STORE_URL` (default `sqlite:picoauth-install-app.db`).
    App {
        /// How long the built-in provider's access tokens live, in seconds (2 to
        /// 315360000, ten years).
        #[arg(long, default_value_t = 30)]
        token_lifetime: u64,
    },
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
    /// The token store: list, show, refresh and keep refreshing installations.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[command(subcommand)]
    Tokens(crate::tokens::TokensCommand),
    /// Run the built-in local provider in the foreground (for tests in a namespace).
    Serve {
        /// Address to listen on: loopback only, unless
        /// `--danger-listen-beyond-loopback` is given.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: core::net::SocketAddr,
        /// Allow a `--listen` address other than loopback. The built-in provider has
        /// well-known client secrets, approves every authorize request and prints live
        /// codes: anyone who reaches the address gets tokens. Only for an isolated
        /// network (a test namespace).
        #[arg(long)]
        danger_listen_beyond_loopback: bool,
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
    /// Any RFC 6749 server.
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
    /// Authorization code grant: the environment variable holding the code (never the
    /// code itself on the command line, where `ps` shows it to every local user).
    #[arg(long, group = "grant")]
    code_env: Option<String>,
    /// Authorization code grant: read the code from the first line of standard input.
    #[arg(long, group = "grant")]
    code_stdin: bool,
    /// The redirect URI of the authorize request (with a code grant).
    #[arg(long)]
    redirect_uri: Option<String>,
    /// The environment variable holding the PKCE code verifier (with a code grant).
    #[arg(long)]
    code_verifier_env: Option<String>,
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
    /// Extra body parameter NAME=VALUE (repeatable). Printed as sent: give a secret
    /// one with --param-env.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Extra body parameter NAME whose value is in the environment variable VAR
    /// (NAME=VAR, repeatable), for a secret such as `client_assertion`: never on the
    /// command line, printed redacted.
    #[arg(long = "param-env", value_parser = parse_param, value_name = "NAME=VAR")]
    param_envs: Vec<(String, String)>,
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
    // The secrets are wiped when the inputs are dropped.
    secret: Option<Zeroizing<String>>,
    auth: AuthMethod,
    refresh_token: Option<Zeroizing<String>>,
    code: Option<Zeroizing<String>>,
    code_verifier: Option<Zeroizing<String>>,
    /// The `--param-env` parameters: name and secret value.
    secret_params: Vec<(String, Zeroizing<String>)>,
    common: Common,
}

impl Inputs {
    fn from_common(common: Common) -> Result<Self, Usage> {
        let kind = common.provider.kind();
        let read_env = |name: &str| {
            std::env::var(name)
                .map(Zeroizing::new)
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
        let code = if common.code_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Usage(format!("--code-stdin: {e}")))?;
            let line = Zeroizing::new(line);
            Some(Zeroizing::new(
                line.trim_end_matches(['\r', '\n']).to_owned(),
            ))
        } else {
            common.code_env.as_deref().map(read_env).transpose()?
        };
        let code_verifier = common
            .code_verifier_env
            .as_deref()
            .map(read_env)
            .transpose()?;
        let secret_params = common
            .param_envs
            .iter()
            .map(|(name, var)| Ok((name.clone(), read_env(var)?)))
            .collect::<Result<Vec<_>, Usage>>()?;
        if code.is_none() && refresh_token.is_none() && !common.client_credentials {
            return Err(Usage(
                "choose a grant: --code-env, --code-stdin, --refresh-token-env or --client-credentials"
                    .to_owned(),
            ));
        }
        if code.is_none() && (common.redirect_uri.is_some() || code_verifier.is_some()) {
            return Err(Usage(
                "--redirect-uri and --code-verifier-env go with a code grant (--code-env or --code-stdin)"
                    .to_owned(),
            ));
        }
        if kind == ProviderKind::Rfc6749 && common.token_url.is_none() {
            return Err(Usage(
                "--token-url is required for --provider oauth2".to_owned(),
            ));
        }
        let preset = Provider::preset(kind);
        let auth = match common.auth {
            Some(AuthArg::Basic) => AuthMethod::Basic,
            Some(AuthArg::Post) => AuthMethod::Post,
            Some(AuthArg::None) => AuthMethod::None,
            None if secret.is_none() => AuthMethod::None,
            None => preset.map_or(AuthMethod::Basic, |p| p.default_auth),
        };
        if auth == AuthMethod::None && preset.is_some_and(|p| p.client_auth_required) {
            return Err(Usage(format!(
                "--provider {} requires client authentication: give --client-secret-env NAME{}",
                kind.name(),
                if secret.is_some() {
                    " and not --auth none"
                } else {
                    ""
                }
            )));
        }
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
            code,
            code_verifier,
            secret_params,
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
        let secret = self.secret.as_deref().map(|s| ClientSecret::new(s));
        let auth = ClientAuth::from_method(self.auth, &self.client_id, secret)
            .ok_or_else(|| Usage("this --auth needs --client-secret-env".to_owned()))?;
        let c = &self.common;
        let grant = if let Some(code) = &self.code {
            let mut g = Grant::authorization_code(code);
            if let Some(u) = &c.redirect_uri {
                g = g.with_redirect_uri(u);
            }
            if let Some(v) = &self.code_verifier {
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
        let secret_params = self
            .secret_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let extra: Vec<(&str, &str)> = c
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(secret_params)
            .collect();
        let req = TokenRequest::new(&provider, auth, grant)
            .with_extra(&extra)
            .continuous_refresh(c.continuous_refresh);
        req.validate()
            .map_err(|e| Usage(format!("cannot build the request: {e}")))?;
        Ok(f(&req))
    }
}

/// The request with its secrets redacted by structure, not by searching for their
/// values: the `Authorization` field's credentials, and the value of every body
/// parameter the encoder marks as secret ([`picoauth::request::SECRET_PARAMS`]) or
/// named in `secret_names` (the `--param-env` ones). Everything else (`Host`,
/// `redirect_uri`, …) is printed exactly as sent.
fn redact_request(wire: &[u8], secret_names: &[&str]) -> String {
    let split = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(wire.len(), |i| i + 4);
    let (head, body) = wire.split_at(split);
    let mut out = String::new();
    for line in String::from_utf8_lossy(head).split_inclusive("\r\n") {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("authorization") => {
                let scheme = value.trim().split(' ').next().unwrap_or("");
                out.push_str(&format!("{name}: {scheme} [redacted]\r\n"));
            }
            _ => out.push_str(line),
        }
    }
    let body = String::from_utf8_lossy(body);
    let pairs: Vec<String> = body
        .split('&')
        .map(|pair| {
            // Names are compared decoded: the encoder may have escaped them.
            let Some(((name, value), (raw_name, _))) = form_urlencoded::parse(pair.as_bytes())
                .next()
                .zip(pair.split_once('='))
            else {
                return pair.to_owned();
            };
            let name: &str = &name;
            if picoauth::request::SECRET_PARAMS.contains(&name) || secret_names.contains(&name) {
                let value = Zeroizing::new(value.into_owned());
                format!("{raw_name}={}", picoauth_std::owned::redacted(&value))
            } else {
                pair.to_owned()
            }
        })
        .collect();
    out.push_str(&pairs.join("&"));
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
        Command::App { token_lifetime } => picoauth_install_app::launcher::run_command(&[
            "--local".to_owned(),
            "--token-lifetime".to_owned(),
            token_lifetime.to_string(),
        ]),
        Command::Login(args) => crate::login::run(args, out, err),
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        Command::Tokens(cmd) => crate::tokens::run(cmd, out, err),
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
            danger_listen_beyond_loopback,
            ca_out,
            names,
        } => {
            if !listen.ip().is_loopback() && !danger_listen_beyond_loopback {
                return usage(
                    err,
                    &Usage(format!(
                        "--listen {listen} is not a loopback address: the built-in provider hands \
                         out tokens to anyone who reaches it (add --danger-listen-beyond-loopback \
                         only inside an isolated network)"
                    )),
                );
            }
            crate::demo::serve(listen, &ca_out, names, out, err)
        }
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
    let text = inputs.with_request(|req| {
        let len = req.encoded_len().map_err(|e| Usage(e.to_string()))?;
        let mut buf = zeroize::Zeroizing::new(vec![0u8; len]);
        let n = req.encode(&mut buf).map_err(|e| Usage(e.to_string()))?;
        let wire = buf.get(..n).unwrap_or(&[]);
        Ok::<String, Usage>(if show_secrets {
            String::from_utf8_lossy(wire).into_owned()
        } else {
            let names: Vec<&str> = inputs
                .secret_params
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            redact_request(wire, &names)
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

/// Prints an outcome as the command's one JSON object on `out`, and for anything but
/// a token one line on `err` that says why the exit status is not 0; returns the
/// exit status.
pub fn print_outcome(
    o: &OwnedOutcome,
    show_secrets: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let _ = writeln!(out, "{}", json::outcome_json(o, show_secrets));
    let status = o.status();
    let (code, why) = match o {
        OwnedOutcome::Token { .. } => return EXIT_TOKEN,
        OwnedOutcome::Error {
            code, description, ..
        } => (
            EXIT_PROVIDER_ERROR,
            match description {
                Some(d) => format!("the provider refused (HTTP {status}): {code}: {d}"),
                None => format!("the provider refused (HTTP {status}): {code}"),
            },
        ),
        OwnedOutcome::RateLimited { retry_after, .. } => (
            EXIT_RATE_LIMITED,
            match retry_after {
                Some(s) => format!("rate limited (HTTP {status}); retry after {s} s"),
                None => format!("rate limited (HTTP {status})"),
            },
        ),
        _ => (
            EXIT_FAILURE,
            format!("unexpected answer: HTTP {status} without a token or an error body"),
        ),
    };
    // One line: a provider's description could hold line breaks.
    let why: String = why
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let _ = writeln!(err, "picoauth: {why}");
    code
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
        Ok(Ok(o)) => print_outcome(&o, show_secrets, out, err),
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
        Ok(o) => print_outcome(&o, show_secrets, out, err),
        Err(e) => {
            let _ = writeln!(err, "picoauth: {e}");
            EXIT_FAILURE
        }
    }
}
