//! What a `TokenManager` did, counted.

use core::sync::atomic::{AtomicU64, Ordering};

/// Live counters (atomics); read a [`CounterSnapshot`] with
/// [`TokenManager::counters`](super::TokenManager::counters).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) refreshes: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) reauthorizations: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) lease_lost: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) busy_waits: AtomicU64,
    pub(crate) slowest_exchange_ms: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CounterSnapshot {
    /// Refreshes the provider answered with tokens, committed.
    pub refreshes: u64,
    /// Refreshes that failed (transport, unknown outcome, other provider errors).
    pub failures: u64,
    /// Installations marked `needs_reauthorization`.
    pub reauthorizations: u64,
    /// Refreshes answered with a rate limit.
    pub rate_limited: u64,
    /// Refreshes whose lease was lost before the answer could be committed.
    pub lease_lost: u64,
    /// `access_token` calls answered from memory, no database round trip.
    pub cache_hits: u64,
    /// Times a caller waited for another process's claim.
    pub busy_waits: u64,
    /// The longest refresh exchange so far, from its start to the provider's answer,
    /// in ms. The manager dates a new token's expiry from the exchange's start (the
    /// provider's clock started later), so a token is refreshed up to this much earlier
    /// in its provider-side life than the leeway alone asks.
    pub slowest_exchange_ms: u64,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Raises `c` to `v` if `v` is larger.
    pub(crate) fn raise(c: &AtomicU64, v: u64) {
        c.fetch_max(v, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            refreshes: g(&self.refreshes),
            failures: g(&self.failures),
            reauthorizations: g(&self.reauthorizations),
            rate_limited: g(&self.rate_limited),
            lease_lost: g(&self.lease_lost),
            cache_hits: g(&self.cache_hits),
            busy_waits: g(&self.busy_waits),
            slowest_exchange_ms: g(&self.slowest_exchange_ms),
        }
    }
}
