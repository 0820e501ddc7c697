//! Idle connections kept for reuse, a few per host and port, shared by the blocking
//! and the async client.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// How many idle connections a client keeps per host and port unless told otherwise
/// ([`ClientBuilder::max_idle_per_host`](crate::ClientBuilder::max_idle_per_host)).
pub const DEFAULT_MAX_IDLE_PER_HOST: usize = 8;

/// Idle connections by host and port, at most `max_per_host` each; the most recently
/// returned one is taken first (the likeliest to be still open).
///
/// The lock is never held across I/O or an `.await`: taking and returning are a few
/// vector operations, so one std mutex serves both clients.
pub(crate) struct IdlePool<C> {
    max_per_host: usize,
    idle: Mutex<HashMap<(String, u16), Vec<C>>>,
}

impl<C> IdlePool<C> {
    /// An empty pool keeping at most `max_per_host` idle connections per host and port
    /// (0: none are kept).
    pub(crate) fn new(max_per_host: usize) -> Self {
        Self {
            max_per_host,
            idle: Mutex::new(HashMap::new()),
        }
    }

    /// An idle connection to `key` that `usable` accepts; the ones it refuses on the
    /// way (closed by the server meanwhile) are dropped.
    pub(crate) fn take(&self, key: &(String, u16), usable: impl Fn(&C) -> bool) -> Option<C> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(key)?;
        while let Some(c) = list.pop() {
            if usable(&c) {
                return Some(c);
            }
        }
        None
    }

    /// Keeps `conn` for reuse, or drops it (closing it) when `key` already has
    /// `max_per_host` idle connections.
    pub(crate) fn put(&self, key: (String, u16), conn: C) {
        if self.max_per_host == 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.entry(key).or_default();
        if list.len() < self.max_per_host {
            list.push(conn);
        }
    }

    /// Idle connections kept for `key` now.
    #[cfg(test)]
    pub(crate) fn idle(&self, key: &(String, u16)) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::IdlePool;

    fn key() -> (String, u16) {
        ("slack.com".to_owned(), 443)
    }

    #[test]
    fn keeps_at_most_max_per_host_and_hands_out_the_latest_first() {
        let pool = IdlePool::new(2);
        pool.put(key(), 1);
        pool.put(key(), 2);
        pool.put(key(), 3);
        assert_eq!(pool.idle(&key()), 2);
        assert_eq!(pool.take(&key(), |_| true), Some(2));
        assert_eq!(pool.take(&key(), |_| true), Some(1));
        assert_eq!(pool.take(&key(), |_| true), None);
    }

    #[test]
    fn refused_connections_are_dropped_on_the_way() {
        let pool = IdlePool::new(4);
        for c in 1..=3 {
            pool.put(key(), c);
        }
        // 3 and 2 were closed by the server meanwhile.
        assert_eq!(pool.take(&key(), |&c| c == 1), Some(1));
        assert_eq!(pool.idle(&key()), 0);
    }

    #[test]
    fn hosts_and_ports_are_kept_apart_and_zero_keeps_none() {
        let pool = IdlePool::new(1);
        pool.put(key(), 1);
        pool.put(("slack.com".to_owned(), 8443), 2);
        assert_eq!(
            pool.take(&("slack.com".to_owned(), 8443), |_| true),
            Some(2)
        );
        assert_eq!(pool.take(&key(), |_| true), Some(1));
        let none = IdlePool::new(0);
        none.put(key(), 1);
        assert_eq!(none.take(&key(), |_| true), None);
    }
}
