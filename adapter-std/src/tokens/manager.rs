//! `TokenManager`: hands out access tokens valid for at least the leeway, refreshing
//! first when needed, with at most one refresh per installation in flight across all
//! processes sharing the store.
//!
//! The path of `access_token(key)`:
//! 1. The in-memory copy, if valid for the leeway plus this installation's jitter:
//!    no database round trip.
//! 2. Otherwise the installation's in-process single-flight lock: one task refreshes,
//!    the others wait and then find the new token in memory.
//! 3. The row (another process may have refreshed): used if fresh. The background
//!    refresher skips this read: its rows are due, so it claims at once and the claim
//!    returns the row (two database round trips per refresh instead of three).
//! 4. A claim (lease) on the row. Busy: wait for the other owner (or its lease to
//!    expire) and read again. Claimed: refresh at the provider, then write the answer
//!    and drop the lease in one atomic step, and only then hand the token out.
//!
//! A refusal that needs a person (see [`REAUTHORIZATION_CODES`]) marks the
//! installation `needs_reauthorization` and is never retried; a 429 defers the
//! installation by its `Retry-After`. When the user token's refresh fails after the
//! main token's succeeded, the main token's answer (its refresh token rotated by the
//! provider) is written with the failure, never dropped.
//!
//! [`REAUTHORIZATION_CODES`]: super::REAUTHORIZATION_CODES

use core::hash::{BuildHasher as _, Hasher as _};
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use picoauth::provider::{
    AuthMethod, Endpoint, Provider, ProviderKind, PINTEREST, SLACK_V1, SLACK_V2,
};
use picoauth::request::ClientAuth;
use picoauth::token_set::Slot;

use super::counters::{CounterSnapshot, Counters};
use super::installation::{InstallationKey, Status};
use super::refusal::{classify, Refusal};
use super::store::{
    millis, now_ms, secs_to_ms, Claim, Committed, Completion, StoreError, Stored, TokenStore,
};
use super::StoredTokenSet;
use crate::asynch::Client;
use crate::owned::Secret;

/// How to reach a provider's token endpoint for refreshes.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    /// The provider's wire format.
    pub kind: ProviderKind,
    /// The token endpoint URL.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret (`None` for a public client).
    pub client_secret: Option<Secret>,
    /// How the client authenticates.
    pub auth: AuthMethod,
    /// Pinterest only: ask for a rotated refresh token (`continuous_refresh=true`).
    pub continuous_refresh: bool,
}

/// Timing of a [`TokenManager`].
#[derive(Clone, Copy, Debug)]
pub struct ManagerConfig {
    /// A token handed out is valid for at least this long.
    pub leeway: Duration,
    /// Refresh up to this much earlier than the leeway asks, at random per
    /// installation, so that a fleet's refreshes spread out.
    pub jitter: Duration,
    /// How long a claim holds; a crashed refresher's claim expires after it. Keep it
    /// above the exchange timeout.
    pub lease: Duration,
    /// The exchange's total timeout (below `lease`).
    pub exchange_timeout: Duration,
    /// How long `access_token` waits for another owner's refresh or a rate limit.
    pub max_wait: Duration,
    /// The background refresher refreshes installations expiring within
    /// `leeway + jitter + window`.
    pub window: Duration,
    /// Refreshes the background refresher runs at once.
    pub concurrency: usize,
    /// How often the background refresher looks for due installations.
    pub interval: Duration,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(120),
            jitter: Duration::from_secs(60),
            lease: Duration::from_secs(30),
            exchange_timeout: Duration::from_secs(20),
            max_wait: Duration::from_secs(40),
            window: Duration::from_secs(600),
            concurrency: 8,
            interval: Duration::from_secs(5),
        }
    }
}

/// Why no token could be handed out.
#[derive(Debug)]
#[non_exhaustive]
pub enum ManagerError {
    /// No such installation.
    NotFound,
    /// The installation needs a person to authorize the app again.
    NeedsReauthorization {
        /// The provider's code.
        reason: String,
    },
    /// The provider rate-limited the refresh and the current token is not valid for
    /// the leeway; retry after this long.
    RateLimited(Duration),
    /// Another process held the claim for longer than `max_wait`.
    Busy,
    /// No [`ProviderSettings`] for the installation's provider.
    NoProvider(ProviderKind),
    /// The refresh failed at the transport (an unknown outcome included: never
    /// retried at once).
    Exchange(crate::Error),
    /// The provider refused for a reason that needs no person.
    Refused(String),
    /// The answer did not fit the token-set model.
    TokenSet(picoauth::token_set::TokenSetError),
    /// The claim was lost before the answer could be committed.
    LeaseLost,
    /// The store failed.
    Store(StoreError),
}

impl core::fmt::Display for ManagerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such installation"),
            Self::NeedsReauthorization { reason } => {
                write!(f, "installation needs reauthorization ({reason})")
            }
            Self::RateLimited(d) => write!(f, "rate limited, retry in {d:?}"),
            Self::Busy => f.write_str("another process is refreshing"),
            Self::NoProvider(k) => write!(f, "no provider settings for {}", k.name()),
            Self::Exchange(e) => write!(f, "refresh: {e}"),
            Self::Refused(c) => write!(f, "refresh refused: {c}"),
            Self::TokenSet(e) => write!(f, "token set: {e}"),
            Self::LeaseLost => f.write_str("claim lost before commit"),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for ManagerError {}

impl From<StoreError> for ManagerError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The in-memory state of one installation.
#[derive(Default)]
struct Entry {
    /// In-process single flight.
    flight: Arc<tokio::sync::Mutex<()>>,
    cached: Mutex<Option<Cached>>,
    /// This installation's refresh-ahead jitter, in ms.
    jitter_ms: i64,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    expires_ms: Option<i64>,
}

impl Entry {
    fn fresh(&self, now: i64, ahead_ms: i64) -> Option<Secret> {
        let c = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        c.as_ref()
            .filter(|c| {
                c.expires_ms
                    .is_none_or(|e| now.saturating_add(ahead_ms) < e)
            })
            .map(|c| c.token.clone())
    }

    fn set(&self, c: Option<Cached>) {
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = c;
    }
}

/// The slot handed out: the main (bot) token, or the user token of a user-only install.
fn primary(tokens: &StoredTokenSet) -> Slot {
    if tokens.credential(Slot::Main).is_some() {
        Slot::Main
    } else {
        Slot::User
    }
}

fn cached_of(stored: &Stored) -> Option<Cached> {
    let tokens = &stored.installation.tokens;
    let c = tokens.credential(primary(tokens))?;
    Some(Cached {
        token: Secret::new(c.access_token.expose()),
        expires_ms: stored
            .expires_ms
            .or_else(|| c.access_expires_at.map(secs_to_ms)),
    })
}

struct Inner<S> {
    store: S,
    client: Client,
    providers: HashMap<ProviderKind, ProviderSettings>,
    config: ManagerConfig,
    owner: String,
    entries: Mutex<HashMap<InstallationKey, Arc<Entry>>>,
    counters: Counters,
    /// Refreshes running now (see [`TokenManager::idle`]).
    in_flight: core::sync::atomic::AtomicUsize,
}

/// Keeps installations alive: see the module docs. Cheap to clone (shared state).
pub struct TokenManager<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for TokenManager<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> core::fmt::Debug for TokenManager<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenManager")
            .field("owner", &self.inner.owner)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A random number from the OS-seeded `RandomState` (no `rand` dependency needed
/// for jitter and owner ids).
fn random_u64(salt: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(salt);
    h.finish()
}

impl<S: TokenStore> TokenManager<S> {
    /// A manager over `store`, refreshing through `client` at `providers`. The
    /// `client`'s total timeout should be below `config.lease`.
    pub fn new(
        store: S,
        client: Client,
        providers: impl IntoIterator<Item = ProviderSettings>,
        config: ManagerConfig,
    ) -> Self {
        let owner = format!(
            "{}-{:016x}",
            std::process::id(),
            random_u64(b"picoauth-owner")
        );
        Self {
            inner: Arc::new(Inner {
                store,
                client,
                providers: providers.into_iter().map(|p| (p.kind, p)).collect(),
                config,
                owner,
                entries: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                in_flight: core::sync::atomic::AtomicUsize::new(0),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// This manager's claim owner id (process id and a random part).
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The counters so far.
    pub fn counters(&self) -> CounterSnapshot {
        self.inner.counters.snapshot()
    }

    fn entry(&self, key: &InstallationKey) -> Arc<Entry> {
        let mut map = self
            .inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(key.clone()).or_insert_with(|| {
            let span = millis(self.inner.config.jitter).max(0);
            let r = random_u64(key.store_key().as_bytes());
            Arc::new(Entry {
                jitter_ms: if span == 0 {
                    0
                } else {
                    i64::try_from(r % u64::try_from(span).unwrap_or(1)).unwrap_or(0)
                },
                ..Entry::default()
            })
        }))
    }

    /// An access token of `key` valid for at least the leeway, refreshed first when
    /// needed (see the module docs).
    ///
    /// # Errors
    /// [`ManagerError`]; `NeedsReauthorization` is final until the installation is
    /// put again.
    pub async fn access_token(&self, key: &InstallationKey) -> Result<Secret, ManagerError> {
        let entry = self.entry(key);
        let ahead = millis(self.inner.config.leeway).saturating_add(entry.jitter_ms);
        if let Some(t) = entry.fresh(now_ms(), ahead) {
            Counters::bump(&self.inner.counters.cache_hits);
            return Ok(t);
        }
        self.detached(key, entry, ahead, true).await
    }

    /// Runs the slow path in its own task, so that a caller that gives up (a timeout,
    /// a dropped request) cannot cancel a refresh between the provider's answer and
    /// its commit: that answer would be lost with the spent refresh token.
    async fn detached(
        &self,
        key: &InstallationKey,
        entry: Arc<Entry>,
        ahead: i64,
        foreground: bool,
    ) -> Result<Secret, ManagerError> {
        let this = self.clone();
        let key = key.clone();
        let task = tokio::spawn(async move {
            let _flight = Arc::clone(&entry.flight).lock_owned().await;
            if foreground {
                if let Some(t) = entry.fresh(now_ms(), ahead) {
                    return Ok(t);
                }
            }
            this.inner.in_flight.fetch_add(1, Ordering::SeqCst);
            let r = this.refresh_locked(&key, &entry, ahead, foreground).await;
            this.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            r
        });
        task.await
            .map_err(|e| ManagerError::Store(StoreError::Backend(Box::new(e))))?
    }

    /// Waits until no refresh is running (for a graceful shutdown: stop calling and
    /// stop the background refresher first).
    pub async fn idle(&self) {
        while self.inner.in_flight.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Refreshes `key` now if its token expires within the leeway, jitter and
    /// `window` (the background refresher's step). It does not wait for another
    /// owner's claim: that owner is refreshing already.
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token); [`ManagerError::Busy`] when another
    /// owner holds the claim and the token is not valid for the leeway.
    pub async fn refresh_if_due(
        &self,
        key: &InstallationKey,
        window: Duration,
    ) -> Result<Secret, ManagerError> {
        let entry = self.entry(key);
        // Saturating: a caller's huge window (`Duration::MAX`) means "whatever the expiry".
        let ahead = millis(self.inner.config.leeway)
            .saturating_add(entry.jitter_ms)
            .saturating_add(millis(window));
        self.detached(key, entry, ahead, false).await
    }

    /// Steps 3 and 4 of the module docs, under the single-flight lock.
    async fn refresh_locked(
        &self,
        key: &InstallationKey,
        entry: &Entry,
        ahead: i64,
        wait_busy: bool,
    ) -> Result<Secret, ManagerError> {
        let cfg = &self.inner.config;
        let store = &self.inner.store;
        let deadline = now_ms().saturating_add(millis(cfg.max_wait));
        let leeway = millis(cfg.leeway);
        // The background refresher claims first; a caller reads first (its row is
        // often fresh already, refreshed by another process, and a read is no write).
        let mut claim_first = !wait_busy;
        loop {
            if !claim_first {
                if let Some(t) = self.unclaimed(key, entry, ahead, deadline).await? {
                    return Ok(t);
                }
            }
            claim_first = false;
            match store.claim(key, &self.inner.owner, cfg.lease).await? {
                Claim::Missing => return Err(ManagerError::NotFound),
                Claim::Busy { until_ms } => {
                    let now = now_ms();
                    // Another owner is refreshing. A token still valid for the leeway
                    // is what the caller asked for; the background refresher does
                    // not wait for another owner at all.
                    if let Some(t) = entry.fresh(now, leeway) {
                        return Ok(t);
                    }
                    if !wait_busy {
                        return Err(ManagerError::Busy);
                    }
                    Counters::bump(&self.inner.counters.busy_waits);
                    if now >= deadline {
                        return Err(ManagerError::Busy);
                    }
                    // Poll for the other owner's commit, at most until its lease ends.
                    sleep_ms((until_ms - now).clamp(5, 50)).await;
                }
                Claim::Claimed(stored) => {
                    entry.set(cached_of(&stored));
                    let now = now_ms();
                    // Active and not deferred by a 429: a stale token is refreshed now.
                    let refreshable = stored.installation.status == Status::Active
                        && stored.retry_at_ms.is_none_or(|r| r <= now);
                    if refreshable && entry.fresh(now, ahead).is_none() {
                        return self.refresh_claimed(key, entry, *stored).await;
                    }
                    // Nothing to refresh now: give the claim back as it was.
                    let retry_at_ms = stored.retry_at_ms;
                    self.complete(key, &stored, Completion::Release { retry_at_ms })
                        .await?;
                    if let Some(t) = entry.fresh(now_ms(), ahead).filter(|_| refreshable) {
                        return Ok(t);
                    }
                    // Reauthorization or a deferral: the read above reports it.
                }
            }
        }
    }

    /// Step 3 of the module docs: the row, read without a claim. `Some`: the answer
    /// (a fresh token, or after waiting out a deferral); `None`: claim and refresh.
    async fn unclaimed(
        &self,
        key: &InstallationKey,
        entry: &Entry,
        ahead: i64,
        deadline: i64,
    ) -> Result<Option<Secret>, ManagerError> {
        let store = &self.inner.store;
        let leeway = millis(self.inner.config.leeway);
        loop {
            let stored = store.get(key).await?.ok_or(ManagerError::NotFound)?;
            if let Status::NeedsReauthorization { reason } = &stored.installation.status {
                entry.set(None);
                return Err(ManagerError::NeedsReauthorization {
                    reason: reason.clone(),
                });
            }
            entry.set(cached_of(&stored));
            if let Some(t) = entry.fresh(now_ms(), ahead) {
                return Ok(Some(t));
            }
            let now = now_ms();
            if let Some(retry_at) = stored.retry_at_ms.filter(|&r| r > now) {
                if let Some(t) = entry.fresh(now, leeway) {
                    return Ok(Some(t));
                }
                if retry_at > deadline {
                    return Err(ManagerError::RateLimited(Duration::from_millis(
                        u64::try_from(retry_at - now).unwrap_or(0),
                    )));
                }
                sleep_ms(retry_at - now).await;
                continue;
            }
            return Ok(None);
        }
    }

    async fn complete(
        &self,
        key: &InstallationKey,
        stored: &Stored,
        completion: Completion,
    ) -> Result<Committed, ManagerError> {
        Ok(self
            .inner
            .store
            .complete(key, &self.inner.owner, stored.generation, completion)
            .await?)
    }

    /// Refreshes a claimed installation and ends the claim.
    async fn refresh_claimed(
        &self,
        key: &InstallationKey,
        entry: &Entry,
        stored: Stored,
    ) -> Result<Secret, ManagerError> {
        let kind = stored.installation.provider;
        let Some(settings) = self.inner.providers.get(&kind) else {
            self.complete(key, &stored, Completion::Release { retry_at_ms: None })
                .await?;
            return Err(ManagerError::NoProvider(kind));
        };
        let tokens = &stored.installation.tokens;
        let main = primary(tokens);
        let now_s = u64::try_from(now_ms() / 1000).unwrap_or(0);
        let leeway_s = self.inner.config.leeway.as_secs().saturating_add(1);
        let mut slots = vec![main];
        slots.extend(Slot::ALL.into_iter().filter(|&s| s != main).filter(|&s| {
            tokens
                .credential(s)
                .is_some_and(|c| c.needs_refresh(now_s, leeway_s))
        }));
        let mut updated = tokens.clone();
        let mut expires_ms = stored.expires_ms;
        // How long the main token's exchange took: its expiry is dated from the start.
        let mut exchange_ms = 0;
        // Whether a slot was refreshed: the provider has spent (rotated) its refresh
        // token, so a later slot's failure must not drop its answer.
        let mut refreshed_any = false;
        for slot in slots {
            // A slot an earlier answer renewed (Slack's bot refresh may carry the user
            // token) is not refreshed again: that would spend its new refresh token.
            let renewed = !updated
                .credential(slot)
                .is_some_and(|c| c.needs_refresh(now_s, leeway_s));
            if slot != main && refreshed_any && renewed {
                continue;
            }
            let start = now_ms();
            let answer = self.exchange(settings, &updated, slot, start).await;
            let took = u64::try_from(now_ms() - start).unwrap_or(0);
            Counters::raise(&self.inner.counters.slowest_exchange_ms, took);
            // Borrowed: the tokens are copied only when a failure has to write them.
            let progress = refreshed_any.then_some((&updated, expires_ms));
            match answer {
                Ok(Ok(next)) => {
                    if slot == main {
                        exchange_ms = took;
                        expires_ms = next
                            .credential(main)
                            .and_then(|c| c.access_expires_at)
                            .map(|s| precise_expiry(start, s));
                    }
                    updated = next;
                    refreshed_any = true;
                }
                Ok(Err(Refusal::NeedsReauthorization(reason))) => {
                    Counters::bump(&self.inner.counters.reauthorizations);
                    tracing::warn!(installation = %key, %reason, "refresh refused: needs reauthorization");
                    let completion = Completion::NeedsReauthorization {
                        reason: reason.clone(),
                    };
                    self.end_failed(key, entry, &stored, progress, completion)
                        .await?;
                    entry.set(None);
                    return Err(ManagerError::NeedsReauthorization { reason });
                }
                Ok(Err(Refusal::RateLimited(wait))) => {
                    Counters::bump(&self.inner.counters.rate_limited);
                    let wait = wait.unwrap_or(Duration::from_secs(1));
                    tracing::info!(installation = %key, wait_ms = millis(wait), "refresh rate limited");
                    let completion = Completion::Release {
                        retry_at_ms: Some(now_ms().saturating_add(millis(wait))),
                    };
                    self.end_failed(key, entry, &stored, progress, completion)
                        .await?;
                    return entry
                        .fresh(now_ms(), millis(self.inner.config.leeway))
                        .ok_or(ManagerError::RateLimited(wait));
                }
                Ok(Err(Refusal::Failed(code))) => {
                    Counters::bump(&self.inner.counters.failures);
                    tracing::warn!(installation = %key, %code, "refresh refused");
                    let completion = Completion::Release { retry_at_ms: None };
                    self.end_failed(key, entry, &stored, progress, completion)
                        .await?;
                    return Err(ManagerError::Refused(code));
                }
                Err(e) => {
                    Counters::bump(&self.inner.counters.failures);
                    tracing::warn!(installation = %key, error = %e, "refresh failed");
                    let completion = Completion::Release { retry_at_ms: None };
                    self.end_failed(key, entry, &stored, progress, completion)
                        .await?;
                    return Err(e);
                }
            }
        }
        let mut installation = stored.installation.clone();
        installation.tokens = updated;
        let completion = Completion::Refreshed {
            installation: Box::new(installation.clone()),
            expires_ms,
            retry_at_ms: None,
        };
        match self.complete(key, &stored, completion).await? {
            Committed::Yes => {
                Counters::bump(&self.inner.counters.refreshes);
                tracing::debug!(
                    installation = %key,
                    generation = stored.generation + 1,
                    exchange_ms,
                    "refreshed"
                );
                let now = Stored {
                    installation,
                    generation: stored.generation + 1,
                    expires_ms,
                    retry_at_ms: None,
                };
                let cached = cached_of(&now);
                entry.set(cached.clone());
                cached.map(|c| c.token).ok_or(ManagerError::NotFound)
            }
            Committed::LeaseLost => {
                Counters::bump(&self.inner.counters.lease_lost);
                tracing::error!(installation = %key, "claim lost before the refresh answer was committed");
                entry.set(None);
                Err(ManagerError::LeaseLost)
            }
        }
    }

    /// Ends the claim after a slot's exchange failed: with `completion`, or, when an
    /// earlier slot was refreshed (`progress`: the tokens so far and the main token's
    /// expiry), by writing those tokens (with the status `completion` gives) so that
    /// the refresh tokens the provider rotated for them are not lost. A 429's deferral
    /// is written with them.
    async fn end_failed(
        &self,
        key: &InstallationKey,
        entry: &Entry,
        stored: &Stored,
        progress: Option<(&StoredTokenSet, Option<i64>)>,
        completion: Completion,
    ) -> Result<(), ManagerError> {
        let Some((tokens, expires_ms)) = progress else {
            self.complete(key, stored, completion).await?;
            return Ok(());
        };
        let mut installation = stored.installation.clone();
        installation.tokens = tokens.clone();
        let mut retry_at_ms = None;
        match completion {
            Completion::NeedsReauthorization { reason } => {
                installation.status = Status::NeedsReauthorization { reason };
            }
            Completion::Release { retry_at_ms: r } => retry_at_ms = r,
            Completion::Refreshed { .. } => {}
        }
        let refreshed = Completion::Refreshed {
            installation: Box::new(installation.clone()),
            expires_ms,
            retry_at_ms,
        };
        if self.complete(key, stored, refreshed).await? == Committed::Yes
            && installation.status == Status::Active
        {
            Counters::bump(&self.inner.counters.refreshes);
            entry.set(cached_of(&Stored {
                installation,
                generation: stored.generation.saturating_add(1),
                expires_ms,
                retry_at_ms,
            }));
        }
        Ok(())
    }

    /// One refresh exchange of `slot`: the updated token set, or the refusal.
    async fn exchange(
        &self,
        settings: &ProviderSettings,
        tokens: &StoredTokenSet,
        slot: Slot,
        start_ms: i64,
    ) -> Result<Result<StoredTokenSet, Refusal>, ManagerError> {
        let endpoint = Endpoint::parse(&settings.token_url)
            .map_err(|_| ManagerError::Refused("invalid token URL".into()))?;
        let provider: Provider<'_> = match settings.kind {
            ProviderKind::SlackV2 => SLACK_V2.with_endpoint(endpoint),
            ProviderKind::SlackV1 => SLACK_V1.with_endpoint(endpoint),
            ProviderKind::Pinterest => PINTEREST.with_endpoint(endpoint),
            ProviderKind::Rfc6749 => Provider::rfc6749(endpoint),
        };
        let secret = settings.client_secret.as_ref().map(|s| s.expose().into());
        let auth = ClientAuth::from_method(settings.auth, &settings.client_id, secret)
            .ok_or_else(|| ManagerError::Refused("client secret missing".into()))?;
        let mut req = tokens
            .refresh_request(slot, &provider, auth)
            .map_err(ManagerError::TokenSet)?;
        if settings.kind == ProviderKind::Pinterest && settings.continuous_refresh {
            req = req.continuous_refresh(true);
        }
        // The same `now` as the caller's `start_ms`, so the precise expiry it derives
        // from the token set's seconds cannot be off by a second tick.
        let now_s = u64::try_from(start_ms / 1000).unwrap_or(0);
        let answer = tokio::time::timeout(
            self.inner.config.exchange_timeout,
            self.inner.client.exchange_with(&req, |o| match o {
                picoauth::exchange::Outcome::Token { token, .. } => {
                    let mut next = tokens.clone();
                    Ok(next.apply(token, now_s).map(|()| next))
                }
                other => Err(classify(other)),
            }),
        )
        .await
        .map_err(|_| {
            ManagerError::Exchange(crate::Error::OutcomeUnknown(Box::new(
                crate::Error::Timeout,
            )))
        })?
        .map_err(ManagerError::Exchange)?;
        match answer {
            Ok(Ok(next)) => Ok(Ok(next)),
            Ok(Err(e)) => Err(ManagerError::TokenSet(e)),
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// Starts the background refresher: every `interval`, the installations expiring
    /// within `leeway + jitter + window` are refreshed, `concurrency` at a time.
    /// Abort the returned handle to stop it.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let cfg = this.inner.config;
            // Bounded: `Semaphore::new` panics past `MAX_PERMITS`.
            let concurrency = cfg
                .concurrency
                .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
            let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
            loop {
                let horizon = now_ms()
                    .saturating_add(millis(cfg.leeway))
                    .saturating_add(millis(cfg.jitter))
                    .saturating_add(millis(cfg.window));
                match this
                    .inner
                    .store
                    .due(horizon, concurrency.saturating_mul(16))
                    .await
                {
                    Ok(keys) => {
                        let mut tasks = tokio::task::JoinSet::new();
                        for key in keys {
                            let Ok(permit) = Arc::clone(&sem).acquire_owned().await else {
                                return;
                            };
                            let this = this.clone();
                            tasks.spawn(async move {
                                let _permit = permit;
                                if let Err(e) = this.refresh_if_due(&key, cfg.window).await {
                                    tracing::debug!(installation = %key, error = %e, "background refresh");
                                }
                            });
                        }
                        while tasks.join_next().await.is_some() {}
                    }
                    Err(e) => tracing::warn!(error = %e, "background refresher: store"),
                }
                tokio::time::sleep(cfg.interval).await;
            }
        })
    }
}

/// When a token expiring at `expires_at` (Unix seconds, as the token set keeps it,
/// built at `start_ms / 1000` floored) expires, counted from the precise `start_ms`;
/// `i64::MAX` at most (a provider's huge `expires_in` saturates, never overflows).
fn precise_expiry(start_ms: i64, expires_at: u64) -> i64 {
    let lifetime_ms = secs_to_ms(expires_at).saturating_sub(start_ms / 1000 * 1000);
    start_ms.saturating_add(lifetime_ms)
}

async fn sleep_ms(ms: i64) {
    tokio::time::sleep(Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::installation::tests::rfc6749_installation;

    #[test]
    fn a_huge_expires_in_saturates_the_cached_expiry() {
        // 10^17 s fits the token set's seconds and `i64`, not `i64` milliseconds.
        let stored = Stored {
            installation: rfc6749_installation(100_000_000_000_000_000, 1_700_000_000),
            generation: 1,
            expires_ms: None,
            retry_at_ms: None,
        };
        let cached = cached_of(&stored).unwrap();
        assert_eq!(cached.expires_ms, Some(i64::MAX));
        assert_eq!(
            precise_expiry(1_700_000_000_123, 100_000_000_000_000_000),
            i64::MAX
        );
        assert_eq!(
            precise_expiry(1_700_000_000_123, 1_700_000_060),
            1_700_000_060_123
        );
        let normal = Stored {
            installation: rfc6749_installation(60, 1_700_000_000),
            ..stored
        };
        assert_eq!(
            cached_of(&normal).unwrap().expires_ms,
            Some(1_700_000_060_000)
        );
    }

    /// A caller's huge durations (`Duration::MAX`) mean "no practical limit", never an
    /// overflow: a leeway and window past `i64` milliseconds, a refresher horizon and
    /// batch past any expiry.
    #[cfg(feature = "sqlite")]
    #[test]
    fn huge_durations_saturate() {
        let dir = std::env::temp_dir().join(format!("picoauth-manager-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = super::super::SqliteStore::open(dir.join("t.db")).unwrap();
            let client = crate::Client::builder().build_async().unwrap();
            let config = ManagerConfig {
                leeway: Duration::MAX,
                jitter: Duration::MAX,
                window: Duration::MAX,
                concurrency: usize::MAX,
                ..ManagerConfig::default()
            };
            // A token endpoint that refuses connections: the refresh gets that far.
            let settings = ProviderSettings {
                kind: ProviderKind::Rfc6749,
                token_url: "https://127.0.0.1:9/token".into(),
                client_id: "c".into(),
                client_secret: None,
                auth: AuthMethod::None,
                continuous_refresh: false,
            };
            let installation = rfc6749_installation(60, 1_700_000_000);
            store.put(&installation, None).await.unwrap();
            let m = TokenManager::new(store, client, [settings], config);
            assert!(
                matches!(
                    m.access_token(&installation.key).await,
                    Err(ManagerError::Exchange(_))
                ),
                "the refresh did not reach the exchange"
            );
            let key = InstallationKey::caller("none").unwrap();
            assert!(matches!(
                m.access_token(&key).await,
                Err(ManagerError::NotFound)
            ));
            assert!(matches!(
                m.refresh_if_due(&key, Duration::MAX).await,
                Err(ManagerError::NotFound)
            ));
            let refresher = m.spawn_refresher();
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(!refresher.is_finished(), "the refresher ended");
            refresher.abort();
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
