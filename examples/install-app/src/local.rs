//! Running the app against the built-in provider (`picoauth-local-provider`): the
//! provider with its consent page on, short token lifetimes, registrations that
//! accept this app's redirect URIs, and the app's configuration pointing at it.

use core::net::SocketAddr;
use core::time::Duration;

use picoauth_local_provider::{self as lp, ClientRegistration, LocalProvider, LocalProviderConfig};
use picoauth_std::tokens::ManagerConfig;
use picoauth_std::Secret;

use crate::config::{Config, ProviderConfig, ProviderId};

/// Token-manager timing for access tokens living `lifetime`: refreshed when about
/// half of their life is left, looked for five times per lifetime (at most every 5 s).
pub fn manager_config_for(lifetime: Duration) -> ManagerConfig {
    let l = lifetime.max(Duration::from_secs(2));
    let exchange_timeout = (l / 2).min(Duration::from_secs(20));
    ManagerConfig {
        leeway: (l / 3).min(Duration::from_secs(120)),
        jitter: (l / 20).min(Duration::from_secs(60)),
        lease: exchange_timeout + Duration::from_secs(1),
        exchange_timeout,
        max_wait: (l * 2).min(Duration::from_secs(40)),
        window: (l / 10).min(Duration::from_secs(600)),
        concurrency: 4,
        interval: (l / 5).min(Duration::from_secs(5)),
    }
}

/// Starts the built-in provider on 127.0.0.1 (a free port) with the consent page on,
/// access tokens living `lifetime`, and its Slack (rotating) and Pinterest clients
/// accepting the redirect URIs under `app_base_url`.
///
/// # Errors
/// The provider cannot start.
pub fn start_provider(app_base_url: &str, lifetime: Duration) -> std::io::Result<LocalProvider> {
    let uris = |slug: &str| vec![format!("{app_base_url}/{slug}/oauth_redirect")];
    let clients = lp::default_clients()
        .into_iter()
        .map(|mut c| {
            if c.client_id == lp::SLACK_ROTATING_CLIENT_ID {
                c.redirect_uris = uris("slack");
            } else if c.client_id == lp::PINTEREST_CLIENT_ID {
                c.redirect_uris = uris("pinterest");
            }
            c
        })
        .collect::<Vec<ClientRegistration>>();
    let provider = LocalProvider::start(LocalProviderConfig {
        clients,
        consent_page: true,
        ..LocalProviderConfig::default()
    })?;
    provider.set_access_lifetime(Some(lifetime));
    Ok(provider)
}

/// The app's configuration for `provider` (see [`start_provider`]).
pub fn config(
    provider: &LocalProvider,
    listen: SocketAddr,
    base_url: &str,
    store_url: &str,
    lifetime: Duration,
) -> Config {
    let base = provider.base_url();
    Config {
        listen,
        base_url: base_url.trim_end_matches('/').to_owned(),
        store_url: store_url.to_owned(),
        state_key: None,
        state_lifetime_secs: 600,
        providers: vec![
            ProviderConfig {
                id: ProviderId::Slack,
                client_id: lp::SLACK_ROTATING_CLIENT_ID.into(),
                client_secret: Secret::new(lp::SLACK_ROTATING_CLIENT_SECRET),
                scopes: "commands,chat:write".into(),
                authorize_url: format!("{base}/oauth/v2/authorize"),
                token_url: format!("{base}{}", lp::SLACK_V2_TOKEN_PATH),
            },
            ProviderConfig {
                id: ProviderId::Pinterest,
                client_id: lp::PINTEREST_CLIENT_ID.into(),
                client_secret: Secret::new(lp::PINTEREST_CLIENT_SECRET),
                scopes: "boards:read,pins:read".into(),
                authorize_url: format!("{base}/oauth/"),
                token_url: format!("{base}{}", lp::PINTEREST_TOKEN_PATH),
            },
        ],
        extra_ca_pem: Some(provider.ca_cert_pem()),
        store_ca_pem: None,
        introspect_url: Some(format!("{base}/api/auth.test")),
        page_refresh_secs: 2,
        manager: manager_config_for(lifetime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_fits_inside_the_lifetime() {
        for secs in [2, 4, 60, 43_200] {
            let l = Duration::from_secs(secs);
            let c = manager_config_for(l);
            assert!(c.leeway + c.jitter + c.window < l, "{secs}");
            assert!(c.exchange_timeout < c.lease, "{secs}");
        }
    }
}
