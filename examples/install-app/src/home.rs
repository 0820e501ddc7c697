//! The home page (installations, no secret shown) and the success page.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use picoauth::token_set::Slot;
use picoauth_std::tokens::{now_ms, InstallationKey, Status, Stored, TokenStore};

use crate::config::ProviderId;
use crate::html::{escape, page};
use crate::introspect::{self, Liveness};
use crate::App;

/// "in 41 s", "3 s ago", "no expiry".
fn relative(at_ms: Option<i64>, now_ms: i64) -> String {
    match at_ms {
        None => "no expiry".into(),
        Some(t) if t >= now_ms => format!("in {} s", t.saturating_sub(now_ms) / 1000),
        Some(t) => format!("expired {} s ago", now_ms.saturating_sub(t) / 1000),
    }
}

/// The team (Slack) or account (Pinterest) an installation is for.
fn who(key: &InstallationKey) -> String {
    match key {
        InstallationKey::Slack {
            enterprise_id,
            team_id,
            user_id,
            ..
        } => {
            let mut s = match (team_id, enterprise_id) {
                (Some(t), _) => format!("team {t}"),
                (None, Some(e)) => format!("organization {e}"),
                (None, None) => "unknown team".into(),
            };
            if let Some(u) = user_id {
                s.push_str(&format!(", user {u}"));
            }
            s
        }
        InstallationKey::Caller(k) => format!("account {k}"),
        _ => key.store_key(),
    }
}

async fn row<S: TokenStore>(app: &App<S>, s: &Stored, now: i64) -> String {
    let i = &s.installation;
    let user_expiry = i.tokens.credential(Slot::User).map(|c| {
        relative(
            c.access_expires_at
                .and_then(|e| i64::try_from(e).ok())
                .map(|e| e.saturating_mul(1000)),
            now,
        )
    });
    let (status, reason) = match &i.status {
        Status::Active => ("active", String::new()),
        Status::NeedsReauthorization { reason } => ("needs reauthorization", reason.clone()),
        _ => ("unknown", String::new()),
    };
    // One API-style call with a live token, handed out by the manager (which
    // refreshes first if the token would not last the leeway).
    let (live_attr, live_text) = match (&app.config.introspect_url, &i.status) {
        (Some(url), Status::Active) => match app.manager.access_token(&i.key).await {
            Ok(token) => match introspect::check(&app.client, url, token.expose()).await {
                Liveness::Live => ("yes", "live (auth.test ok)".to_owned()),
                Liveness::Dead(why) => ("no", format!("refused: {why}")),
            },
            Err(e) => ("no", format!("no token: {e}")),
        },
        (Some(_), _) => ("no", "not checked".into()),
        (None, _) => ("unknown", "no introspection endpoint configured".into()),
    };
    let provider = match i.provider {
        picoauth::provider::ProviderKind::Pinterest => "Pinterest",
        picoauth::provider::ProviderKind::SlackV2 | picoauth::provider::ProviderKind::SlackV1 => {
            "Slack"
        }
        _ => "other",
    };
    format!(
        "<tr class=\"installation\" data-provider=\"{provider}\" data-key=\"{key}\" \
         data-generation=\"{generation}\" data-live=\"{live_attr}\" data-status=\"{status}\">\
         <td>{provider}</td><td>{who}</td><td>{status}{reason}</td><td>{main}</td><td>{user}</td>\
         <td>{generation}</td><td class=\"{class}\">{live}</td></tr>",
        key = escape(&i.key.store_key()),
        generation = s.generation,
        who = escape(&who(&i.key)),
        reason = if reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", escape(&reason))
        },
        main = escape(&relative(s.expires_ms, now)),
        user = escape(&user_expiry.unwrap_or_else(|| "—".into())),
        class = if live_attr == "yes" { "live" } else { "dead" },
        live = escape(&live_text),
    )
}

/// `GET /`.
pub(crate) async fn home<S: TokenStore>(State(app): State<Arc<App<S>>>) -> Response {
    let now = now_ms();
    let mut buttons = String::new();
    for id in ProviderId::ALL {
        if app.config.provider(id).is_some() {
            let label = match id {
                ProviderId::Slack => "Add to Slack",
                ProviderId::Pinterest => "Connect Pinterest",
            };
            buttons.push_str(&format!(
                "<a id=\"install-{slug}\" class=\"button {slug}\" href=\"/{slug}/install\">{label}</a>",
                slug = id.slug()
            ));
        }
    }
    let body = match app.manager.store().list().await {
        Ok(list) if list.is_empty() => {
            format!("<p>{buttons}</p><p id=\"empty\">No installations yet.</p>")
        }
        Ok(list) => {
            let mut rows = String::new();
            for s in &list {
                rows.push_str(&row(&app, s, now).await);
            }
            let counters = app.manager.counters();
            format!(
                "<p>{buttons}</p><table id=\"installations\"><tr><th>provider</th>\
                 <th>team / account</th><th>status</th><th>bot / main token expires</th>\
                 <th>user token expires</th><th>generation</th><th>token check</th></tr>{rows}</table>\
                 <p id=\"counters\">Refreshes by this process: {refreshes}. The page reloads every \
                 {every} s; tokens are refreshed in the background before they expire.</p>",
                refreshes = counters.refreshes,
                every = app.config.page_refresh_secs,
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "listing installations");
            "<p class=\"error\" id=\"store-failed\">The installations could not be read.</p>".into()
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("Installations", &body, app.config.page_refresh_secs)),
    )
        .into_response()
}

/// `GET /installed?provider=…&key=…`.
pub(crate) async fn installed(Query(q): Query<HashMap<String, String>>) -> Response {
    let provider = q
        .get("provider")
        .and_then(|p| ProviderId::ALL.into_iter().find(|id| id.slug() == p))
        .map_or("The provider", ProviderId::name);
    let key = q.get("key").map(String::as_str).unwrap_or("");
    let body = format!(
        "<p id=\"installed\">{} installation <code>{}</code> saved. Its tokens are kept \
         alive in the background.</p><p><a id=\"home\" href=\"/\">See all installations</a></p>",
        escape(provider),
        escape(key)
    );
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(page("Installed", &body, 0)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(relative(None, 0), "no expiry");
        assert_eq!(relative(Some(5_000), 1_000), "in 4 s");
        assert_eq!(relative(Some(1_000), 4_000), "expired 3 s ago");
        // A row's expiry (store data) far in the past or future: no overflow.
        assert_eq!(
            relative(Some(i64::MIN), 4_000),
            format!("expired {} s ago", i64::MAX / 1000)
        );
        assert_eq!(
            relative(Some(i64::MAX), -4_000),
            format!("in {} s", i64::MAX / 1000)
        );
    }

    #[test]
    fn who_names_team_or_account() {
        let k = InstallationKey::slack(None, Some("T1"), None, false).unwrap();
        assert_eq!(who(&k), "team T1");
        let k = InstallationKey::caller("pinterest-abc").unwrap();
        assert_eq!(who(&k), "account pinterest-abc");
    }
}
