//! The app's command line: configured from the environment, or `--local` against the
//! built-in provider with the URL to open printed.
//!
//! ```text
//! picoauth-install-app            # configured from the environment (see the README)
//! picoauth-install-app --local    # against the built-in provider, printing the URL to open
//! picoauth app                    # the same as --local, from the picoauth command
//! ```

use core::time::Duration;

use crate::{local, open_postgres, open_sqlite, App, Config};

const USAGE: &str = "usage: picoauth-install-app [--local [--token-lifetime SECS]]\n\
  Without --local the app is configured from environment variables (see the README).\n\
  --local starts the built-in provider too (consent page on, tokens living SECS, default 30,\n\
  2 to 315360000) and prints the URL to open.";

/// The longest `--token-lifetime`, ten years: the provider's and the token manager's
/// timing adds and doubles it, which a lifetime near `u64::MAX` seconds overflows.
const MAX_TOKEN_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

async fn shutdown_signal() {
    // Ctrl-C ends the app; if the handler cannot be installed, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        core::future::pending::<()>().await;
    }
}

async fn run(config: Config) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let store_url = config.store_url.clone();
    let served = if store_url.starts_with("postgres://") || store_url.starts_with("postgresql://") {
        let (store, used) = open_postgres(&store_url, config.store_ca_pem.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let app = App::new(config, store, used).map_err(|e| e.to_string())?;
        app.serve(listener, shutdown_signal()).await
    } else {
        let path = store_url.strip_prefix("sqlite:").ok_or_else(|| {
            // Not echoed: a mistyped PostgreSQL URL still holds its password.
            format!(
                "PICOAUTH_STORE_URL must be sqlite:PATH or postgres://…, not {}",
                crate::config::shown_store_url(&store_url)
            )
        })?;
        let (store, used) = open_sqlite(path).map_err(|e| e.to_string())?;
        let app = App::new(config, store, used).map_err(|e| e.to_string())?;
        app.serve(listener, shutdown_signal()).await
    };
    served.map_err(|e| format!("serving: {e}"))
}

/// Runs the app as the command line `args` (without the program name) says, until
/// Ctrl-C; returns the exit status (0 after Ctrl-C, 2 for a usage or configuration
/// error, 1 when it could not start or serve). Used by the `picoauth-install-app`
/// binary and by `picoauth app`.
pub fn run_command(args: &[String]) -> u8 {
    let mut local_mode = false;
    let mut lifetime = Duration::from_secs(30);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--local" => local_mode = true,
            "--token-lifetime" => match it.next().and_then(|s| s.parse::<u64>().ok()) {
                Some(s) if (2..=MAX_TOKEN_LIFETIME_SECS).contains(&s) => {
                    lifetime = Duration::from_secs(s);
                }
                _ => {
                    eprintln!(
                        "--token-lifetime takes a number of seconds (2 to \
                         {MAX_TOKEN_LIFETIME_SECS})\n{USAGE}"
                    );
                    return 2;
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return 2;
            }
        }
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration: {e}");
            return 2;
        }
    };
    // The provider must outlive the runtime's use of it: keep it here.
    let mut _provider = None;
    let config = if local_mode {
        let provider = match local::start_provider(&config.base_url, lifetime) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("the built-in provider could not start: {e}");
                return 1;
            }
        };
        let c = local::config(
            &provider,
            config.listen,
            &config.base_url,
            &config.store_url,
            lifetime,
        );
        println!(
            "built-in provider at {} (consent page on, access tokens live {} s)",
            provider.base_url(),
            lifetime.as_secs()
        );
        _provider = Some(provider);
        c
    } else {
        config
    };
    if config.providers.is_empty() {
        eprintln!(
            "no provider configured: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, or \
             PINTEREST_CLIENT_ID and PINTEREST_CLIENT_SECRET (or use --local)"
        );
        return 2;
    }
    println!("open {}/ in a browser (Ctrl-C to stop)", config.base_url);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_lifetime_out_of_range_is_a_usage_error() {
        for bad in ["1", "x", "18446744073709551615", "315360001"] {
            let args = ["--local", "--token-lifetime", bad].map(String::from);
            assert_eq!(super::run_command(&args), 2, "{bad}");
        }
    }

    #[test]
    fn a_mistyped_store_url_is_not_echoed() {
        let config = crate::config::tests::with_store_url("postgress://app:db-pw-hunter2@db/app");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt.block_on(super::run(config)).unwrap_err();
        assert!(
            e.contains("PICOAUTH_STORE_URL") && !e.contains("hunter2"),
            "{e}"
        );
    }
}
