//! Figures for BENCHMARKS.md (a benchmark, not a timed test):
//! `cargo bench -p picoauth-tests --bench token_lifecycle`.
//!
//! 1. `access_token` for a fresh token: time per call and database round trips.
//! 2. A refresh burst: N installations (default 10,000; `BURST`), all due, refreshed
//!    through the built-in provider by `refresh_if_due` with 64 at a time, on SQLite
//!    and on PostgreSQL (a private cluster like the fleet test's): refreshes per
//!    second and database round trips per refresh.

use core::time::Duration;
use std::time::Instant;

use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::tokens::{ManagerConfig, PostgresStore, SqliteStore, TokenManager, TokenStore};

use picoauth_test_support::lifecycle;
use picoauth_test_support::postgres::Cluster;

fn config() -> ManagerConfig {
    ManagerConfig {
        leeway: Duration::from_secs(1),
        jitter: Duration::ZERO,
        lease: Duration::from_secs(30),
        exchange_timeout: Duration::from_secs(20),
        max_wait: Duration::from_secs(60),
        window: Duration::from_secs(3600),
        concurrency: 64,
        interval: Duration::from_secs(1),
    }
}

async fn fresh<S: TokenStore + Clone>(name: &str, store: S, p: &LocalProvider) {
    let key = lifecycle::seed(&store, p, lp::ProviderKind::Slack, "fresh").await;
    let m = lifecycle::manager(store, &p.ca_cert_pem(), &p.base_url(), config(), false);
    m.access_token(&key).await.unwrap();
    let trips = m.store().round_trips();
    let n = 1_000_000u32;
    let t = Instant::now();
    for _ in 0..n {
        core::hint::black_box(m.access_token(&key).await.unwrap());
    }
    let per = t.elapsed() / n;
    println!(
        "access_token, fresh token ({name}): {:.2} us per call, {} database round trips in {n} calls",
        per.as_secs_f64() * 1e6,
        m.store().round_trips() - trips
    );
}

async fn burst<S: TokenStore + Clone>(name: &str, store: S, p: &LocalProvider, n: usize) {
    // Tokens of 1 s and a window of an hour: every installation is due.
    p.set_access_lifetime(Some(Duration::from_secs(1)));
    let t = Instant::now();
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        keys.push(lifecycle::seed(&store, p, lp::ProviderKind::Slack, &format!("b{i}")).await);
    }
    let seeded = t.elapsed();
    let m: TokenManager<S> =
        lifecycle::manager(store, &p.ca_cert_pem(), &p.base_url(), config(), false);
    let trips = m.store().round_trips();
    let t = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut set = tokio::task::JoinSet::new();
    for key in keys {
        let m = m.clone();
        let permit = std::sync::Arc::clone(&sem).acquire_owned().await.unwrap();
        set.spawn(async move {
            let _p = permit;
            m.refresh_if_due(&key, Duration::from_secs(3600)).await
        });
    }
    let mut failed = 0;
    while let Some(r) = set.join_next().await {
        if !matches!(r, Ok(Ok(_))) {
            failed += 1;
        }
    }
    let took = t.elapsed();
    let c = m.counters();
    let trips = m.store().round_trips() - trips;
    println!(
        "refresh burst ({name}): {n} installations (seeded in {:.1} s), {} refreshes in {:.2} s = \
         {:.0} refreshes/s, {:.2} database round trips per refresh, {failed} failed",
        seeded.as_secs_f64(),
        c.refreshes,
        took.as_secs_f64(),
        c.refreshes as f64 / took.as_secs_f64(),
        trips as f64 / c.refreshes.max(1) as f64,
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("BURST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Two threads for the provider: it answers 64 refreshes at a time.
    let p = LocalProvider::start(LocalProviderConfig {
        worker_threads: 2,
        ..LocalProviderConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let sqlite = SqliteStore::open(dir.path().join("fresh.db")).unwrap();
        fresh("sqlite", sqlite, &p).await;
        let sqlite = SqliteStore::open(dir.path().join("burst.db")).unwrap();
        burst("sqlite", sqlite, &p, n).await;
    });
    let cluster = Cluster::start();
    rt.block_on(async {
        let store = PostgresStore::connect(&cluster.conninfo(), 8)
            .await
            .unwrap();
        burst("postgres", store, &p, n).await;
    });
}
