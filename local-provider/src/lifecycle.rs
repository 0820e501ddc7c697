//! Token lifecycle controls for tests of long-lived installations: configurable
//! access-token lifetimes (seconds, so 12 hours fit in 2 s), labelled installations
//! whose refreshes are counted, an introspection endpoint (`POST /api/auth.test`,
//! Slack's shape) that says whether an access token is live right now, and a hook
//! that holds the next refresh of an installation before it is processed.
//!
//! Refresh tokens of Slack and Pinterest (continuous refresh) are strictly
//! single-use: presenting one twice gives `invalid_refresh_token` /
//! `invalid_grant`-shaped errors (see `slack.rs`, `pinterest.rs`).

use core::time::Duration;
use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::request::{HttpRequest, Reply};
use super::state::{ProviderKind, State};
use super::LocalProvider;

/// Lifecycle state kept beside the grants.
#[derive(Default)]
pub(super) struct Lifecycle {
    /// Access-token lifetime for issued and refreshed tokens; `None`: each provider's own.
    access_lifetime: Option<Duration>,
    /// Label of each live refresh token issued for a labelled installation.
    labels: HashMap<String, String>,
    /// Issued access tokens: label (empty when unlabelled), expiry, and the expiry
    /// on the wall clock (for checks made later, in another process).
    access: HashMap<String, (String, Instant, SystemTime)>,
    /// Each refresh answered with a token, per label.
    refreshes: HashMap<String, Vec<RefreshRecord>>,
    /// Per label, when the access token of its latest issue or refresh expires.
    current: HashMap<String, Instant>,
    /// A one-shot delay for the next refresh of a label.
    delays: HashMap<String, Duration>,
    /// Refreshes held by a delay, per label.
    held: HashMap<String, u64>,
    /// Labels whose Slack refresh answers also carry a rotated user token.
    with_user: std::collections::HashSet<String>,
}

/// One refresh of a labelled installation that the provider answered with a token.
#[derive(Clone, Copy, Debug)]
pub struct RefreshRecord {
    /// When it was processed.
    pub at: Instant,
    /// How long the installation's access token that this refresh replaced (the one of
    /// its previous refresh or of its issue) still had to live, in ms (negative: it had
    /// expired). `None` for an installation the provider issued before it labelled it.
    pub replaced_left_ms: Option<i64>,
}

/// `exp - now` in ms, negative when `exp` has passed.
fn signed_ms(exp: Instant, now: Instant) -> i64 {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    match exp.checked_duration_since(now) {
        Some(left) => ms(left),
        None => -ms(now.duration_since(exp)),
    }
}

impl Lifecycle {
    /// The lifetime to announce, in seconds, where the provider's default is `default`.
    pub(super) fn lifetime_secs(&self, default: u64) -> u64 {
        self.access_lifetime.map_or(default, |d| d.as_secs().max(1))
    }

    /// Records a successful refresh from `old` to `new_refresh` (when it rotated) that
    /// issued `access` living `lifetime` seconds.
    pub(super) fn refreshed(
        &mut self,
        old: &str,
        new_refresh: Option<&str>,
        access: &str,
        lifetime: u64,
    ) {
        let label = match new_refresh {
            Some(new) => self.labels.remove(old).inspect(|l| {
                self.labels.insert(new.to_owned(), l.clone());
            }),
            None => self.labels.get(old).cloned(),
        }
        .unwrap_or_default();
        if label.is_empty() {
            self.issued(access, label, lifetime);
            return;
        }
        let now = Instant::now();
        let replaced_left_ms = self.current.get(&label).map(|&exp| signed_ms(exp, now));
        self.refreshes
            .entry(label.clone())
            .or_default()
            .push(RefreshRecord {
                at: now,
                replaced_left_ms,
            });
        self.issued_main(access, &label, lifetime);
    }

    /// As [`issued`](Self::issued), for the main access token of the installation
    /// labelled `label`: its next refresh is measured against this token's expiry.
    fn issued_main(&mut self, access: &str, label: &str, lifetime: u64) {
        let expires = self.issued(access, label.to_owned(), lifetime);
        self.current.insert(label.to_owned(), expires);
    }

    /// Records `access`, living `lifetime` seconds, and returns when it expires.
    fn issued(&mut self, access: &str, label: String, lifetime: u64) -> Instant {
        let now = Instant::now();
        // Forget dead tokens now and then so a very long run does not grow without
        // bound (a fleet test's tokens are all kept).
        if self.access.len() > 1_000_000 {
            self.access.retain(|_, (_, exp, _)| *exp > now);
        }
        let life = Duration::from_secs(lifetime);
        self.access.insert(
            access.to_owned(),
            (label, now + life, SystemTime::now() + life),
        );
        now + life
    }

    /// The delay to apply before processing a refresh that presents `refresh_token`.
    pub(super) fn take_delay(&mut self, refresh_token: &str) -> Option<Duration> {
        let label = self.labels.get(refresh_token)?.clone();
        let d = self.delays.remove(&label)?;
        *self.held.entry(label).or_default() += 1;
        Some(d)
    }

    /// The label of a live access token.
    fn live(&self, access: &str) -> Option<&str> {
        self.access
            .get(access)
            .filter(|(_, exp, _)| Instant::now() < *exp)
            .map(|(label, _, _)| label.as_str())
    }
}

#[derive(Serialize)]
struct AuthTest<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    installation: Option<&'a str>,
}

/// `POST /api/auth.test` with `Authorization: Bearer <access token>` (or `token` in the
/// form body, as Slack's Web API accepts it): `{"ok":true,
/// "installation":label}` while the token is live, `{"ok":false,"error":
/// "token_expired"|"invalid_auth"}` otherwise (HTTP 200, as Slack answers).
pub(super) fn auth_test(req: &HttpRequest, state: &State) -> Reply {
    let form = req.form();
    let token = req
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .or_else(|| form.get("token"))
        .unwrap_or("");
    let body = match state.lifecycle.live(token) {
        Some(label) => AuthTest {
            ok: true,
            error: None,
            installation: Some(label),
        },
        None if state.lifecycle.access.contains_key(token) => AuthTest {
            ok: false,
            error: Some("token_expired"),
            installation: None,
        },
        None => AuthTest {
            ok: false,
            error: Some("invalid_auth"),
            installation: None,
        },
    };
    Reply::json(
        200,
        "application/json; charset=utf-8",
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// For a Slack refresh presenting `old` of an installation issued with a user token:
/// a new user access token (live for `lifetime` seconds) and user refresh token.
pub(super) fn user_rotation(
    state: &mut State,
    old: &str,
    lifetime: u64,
) -> Option<(String, String)> {
    let label = state.lifecycle.labels.get(old)?.clone();
    if !state.lifecycle.with_user.contains(&label) {
        return None;
    }
    let access = format!("xoxe.xoxp-1-{}", state.random_hex(48));
    let refresh = format!("xoxe-1-{}", state.random_hex(40));
    state.lifecycle.issued(&access, label, lifetime);
    Some((access, refresh))
}

/// The refresh token a request presents, if it is a refresh.
pub(super) fn presented_refresh_token(req: &HttpRequest) -> Option<String> {
    let form = req.form();
    (form.get("grant_type") == Some("refresh_token"))
        .then(|| form.get("refresh_token").map(str::to_owned))
        .flatten()
}

impl LocalProvider {
    /// Sets the lifetime of access tokens issued from now on (`None`: the providers'
    /// own: 12 hours for Slack rotation, 30 days for Pinterest, 1 hour for RFC 6749).
    pub fn set_access_lifetime(&self, lifetime: Option<Duration>) {
        self.with_state(|s| s.lifecycle.access_lifetime = lifetime);
    }

    /// Creates an installation labelled `label` for `client_id` at `provider` (Slack
    /// with token rotation, or Pinterest with continuous refresh): a live access token
    /// and a single-use refresh token, returned as the provider's own token-answer JSON
    /// (so the caller reads it with the core's parser). Its refreshes are counted under
    /// `label`.
    pub fn issue_installation(
        &self,
        provider: ProviderKind,
        client_id: &str,
        label: &str,
    ) -> String {
        self.with_state(|s| {
            let refresh = s.issue_refresh_token(provider, client_id, None);
            let lifetime = s.lifecycle.lifetime_secs(match provider {
                ProviderKind::Slack => 43_200,
                ProviderKind::Pinterest => 2_592_000,
                _ => 3_600,
            });
            s.lifecycle.labels.insert(refresh.clone(), label.to_owned());
            let access = match provider {
                ProviderKind::Slack => format!("xoxe.xoxb-1-{}", s.random_hex(48)),
                ProviderKind::Pinterest => format!("pina_{}", s.random_hex(48)),
                _ => s.random_hex(32),
            };
            s.lifecycle.issued_main(&access, label, lifetime);
            match provider {
                ProviderKind::Slack => serde_json::json!({
                    "ok": true, "access_token": access, "token_type": "bot",
                    "refresh_token": refresh, "expires_in": lifetime,
                    "scope": "commands", "app_id": "A0LOCAL01", "bot_user_id": "U0LOCALBOT",
                    "team": {"id": "T0LOCAL01", "name": "picoauth local team"},
                })
                .to_string(),
                _ => serde_json::json!({
                    "access_token": access, "token_type": "bearer",
                    "refresh_token": refresh, "expires_in": lifetime, "scope": "pins:read",
                })
                .to_string(),
            }
        })
    }

    /// As [`issue_installation`](Self::issue_installation) for Slack, and every refresh
    /// answer of this installation also carries a rotated user token (`authed_user`
    /// with its own `refresh_token` and `expires_in`), as Slack answers for an app with
    /// user scopes.
    pub fn issue_slack_installation_with_user(&self, client_id: &str, label: &str) -> String {
        self.with_state(|s| {
            s.lifecycle.with_user.insert(label.to_owned());
        });
        self.issue_installation(ProviderKind::Slack, client_id, label)
    }

    /// Refreshes of the installation labelled `label` held so far by
    /// [`delay_next_refresh`](Self::delay_next_refresh).
    pub fn held_refreshes(&self, label: &str) -> u64 {
        self.with_state(|s| s.lifecycle.held.get(label).copied().unwrap_or(0))
    }

    /// Refreshes answered with a token for the installation labelled `label`.
    pub fn refresh_count(&self, label: &str) -> u64 {
        self.with_state(|s| {
            s.lifecycle
                .refreshes
                .get(label)
                .map_or(0, |v| u64::try_from(v.len()).unwrap_or(u64::MAX))
        })
    }

    /// Each refresh of the installation labelled `label` that was answered with a
    /// token, in order: when, and how long the access token it replaced still had.
    pub fn refresh_log(&self, label: &str) -> Vec<RefreshRecord> {
        self.with_state(|s| {
            s.lifecycle
                .refreshes
                .get(label)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// Refreshes answered with a token, per installation label.
    pub fn refresh_counts(&self) -> HashMap<String, u64> {
        self.with_state(|s| {
            s.lifecycle
                .refreshes
                .iter()
                .map(|(k, v)| (k.clone(), u64::try_from(v.len()).unwrap_or(u64::MAX)))
                .collect()
        })
    }

    /// Holds the next refresh of the installation labelled `label` for `delay` before
    /// it is processed (to kill a client mid-refresh).
    pub fn delay_next_refresh(&self, label: &str, delay: Duration) {
        self.with_state(|s| {
            s.lifecycle.delays.insert(label.to_owned(), delay);
        });
    }

    /// Whether `access_token` is live right now (the in-process twin of
    /// `POST /api/auth.test`).
    pub fn access_token_is_live(&self, access_token: &str) -> bool {
        self.with_state(|s| s.lifecycle.live(access_token).is_some())
    }

    /// When `access_token` expires (wall clock), if this provider issued it: a check
    /// made later can tell whether the token was live at a given moment.
    pub fn access_token_expires_at(&self, access_token: &str) -> Option<SystemTime> {
        self.with_state(|s| s.lifecycle.access.get(access_token).map(|(_, _, at)| *at))
    }

    /// Whether the installation labelled `label` still holds a live refresh token.
    pub fn installation_is_live(&self, label: &str) -> bool {
        self.with_state(|s| {
            s.lifecycle
                .labels
                .iter()
                .any(|(token, l)| l == label && s.refresh_token_is_live(token))
        })
    }
}
