//! Fleets: 4 OS processes × 16 tasks call `access_token` for 200 installations whose
//! access tokens live 2 s, for 30 s, on one SQLite file and on a real PostgreSQL
//! server (a private cluster, see `picoauth_test_support::postgres`), against the built-in provider
//! with strict single-use refresh tokens (Slack rotation and Pinterest continuous
//! refresh). Checked: every token returned is live at the provider when returned
//! (its introspection endpoint says so), every refresh the provider answered was
//! committed by exactly one process, no installation was refreshed twice within one
//! token lifetime, and none ends `needs_reauthorization`. Then one process is killed
//! with SIGKILL while the provider holds its refresh (the delay hook): its claim
//! expires, another process refreshes, nothing is lost.
//!
//! The processes are this test binary run again with `FLEET_CHILD` set (the ignored
//! `fleet_child` test). `FLEET_SECS` shortens the run for local experiments.

use core::time::Duration;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};
use picoauth_std::tokens::{
    now_ms, Claim, Committed, Completion, InstallationKey, ManagerConfig, ManagerError,
    PostgresStore, SqliteStore, Status, TokenStore,
};
use serde::{Deserialize, Serialize};

use picoauth_test_support::lifecycle;
use picoauth_test_support::postgres::Cluster;

const PROCESSES: usize = 4;
const TASKS: usize = 16;
const INSTALLATIONS: usize = 200;
const LIFETIME: Duration = Duration::from_secs(2);

/// One fleet at a time: the machine has two cores.
static SERIAL: Mutex<()> = Mutex::new(());

fn label(n: usize) -> String {
    format!("i{n:03}")
}

fn config() -> ManagerConfig {
    ManagerConfig {
        leeway: Duration::from_millis(1000),
        jitter: Duration::from_millis(50),
        // Generous: an exchange given up after the provider rotated the refresh token
        // loses the installation (the outcome is unknown), so a loaded machine must
        // not time it out.
        lease: Duration::from_secs(15),
        exchange_timeout: Duration::from_secs(10),
        max_wait: Duration::from_secs(30),
        window: Duration::from_millis(50),
        concurrency: 8,
        interval: Duration::from_millis(100),
    }
}

/// The kill test's timing: a 3-s lease, so the takeover comes quickly.
fn kill_config() -> ManagerConfig {
    ManagerConfig {
        lease: Duration::from_secs(3),
        exchange_timeout: Duration::from_secs(2),
        ..config()
    }
}

/// What a child reports.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Report {
    calls: u64,
    /// Introspection said "not live" within the leeway of the call's start.
    dead: u64,
    /// Introspection said "not live", but answered after the leeway had passed (a
    /// loaded machine): decided by the exact check on `handed` instead.
    late: u64,
    /// Every token handed out, with the wall-clock time (Unix ms) `access_token` was
    /// called: the token was returned later than that, so the manager's promise (valid
    /// for at least the leeway when returned) implies it is valid for the leeway from
    /// this time. Measured before the call, so a task resumed late on a loaded machine
    /// cannot make a good token look stale.
    handed: Vec<(String, i64)>,
    errors: u64,
    first_errors: Vec<String>,
    refreshes: u64,
    reauthorizations: u64,
    failures: u64,
    lease_lost: u64,
    busy_waits: u64,
    cache_hits: u64,
    slowest_exchange_ms: u64,
    /// Each refresh this process committed: installation (store key), the generation it
    /// wrote, and how long its exchange took (ms), from the manager's `refreshed` event.
    exchanges: Vec<(String, i64, u64)>,
    elapsed_ms: u64,
}

enum Spec {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Spec {
    fn env(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(c) => format!("postgres:{c}"),
        }
    }
}

struct Parent {
    lp: LocalProvider,
    ca: tempfile::NamedTempFile,
    spec: Spec,
}

impl Parent {
    fn spawn(&self, mode: &str, secs: u64, key: Option<&str>) -> Child {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = Command::new(exe);
        cmd.args([
            "fleet_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("FLEET_CHILD", mode)
        .env("FLEET_STORE", self.spec.env())
        .env("FLEET_BASE", self.lp.base_url())
        .env("FLEET_CA", self.ca.path())
        .env("FLEET_SECS", secs.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        if let Some(k) = key {
            cmd.env("FLEET_KEY", k);
        }
        cmd.spawn().unwrap()
    }
}

/// Waits for `child` (at most `limit`) and returns its report.
fn report(mut child: Child, limit: Duration) -> Report {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The harness may have written `test fleet_child ... ` before it.
            if let Some(at) = line.find("FLEET-RESULT ") {
                let json = &line[at + "FLEET-RESULT ".len()..];
                found = serde_json::from_str::<Report>(json).ok();
            }
        }
        let _ = tx.send(found);
    });
    let r = rx.recv_timeout(limit);
    if r.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let r = r.unwrap_or_else(|_| panic!("a fleet process ran over {limit:?}"));
    assert!(status.success(), "a fleet process failed: {status}");
    r.expect("the fleet process printed no report")
}

async fn open(spec: &Spec) -> Store {
    match spec {
        Spec::Sqlite(p) => Store::Sqlite(SqliteStore::open(p).unwrap()),
        Spec::Postgres(c) => Store::Postgres(PostgresStore::connect(c, 4).await.unwrap()),
    }
}

enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

fn run_fleet(spec: Spec) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let secs: u64 = std::env::var("FLEET_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let lp = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    lp.set_access_lifetime(Some(LIFETIME));
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), lp.ca_cert_pem()).unwrap();
    let parent = Parent { lp, ca, spec };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(open(&parent.spec)) {
        Store::Sqlite(s) => fleet(&parent, &rt, &s, secs),
        Store::Postgres(s) => fleet(&parent, &rt, &s, secs),
    }
}

fn fleet<S: TokenStore>(p: &Parent, rt: &tokio::runtime::Runtime, store: &S, secs: u64) {
    // Half Slack (rotation), half Pinterest (continuous refresh).
    rt.block_on(async {
        for n in 0..INSTALLATIONS {
            let kind = if n % 2 == 0 {
                lp::ProviderKind::Slack
            } else {
                lp::ProviderKind::Pinterest
            };
            lifecycle::seed(store, &p.lp, kind, &label(n)).await;
        }
    });
    let start = Instant::now();
    let children: Vec<Child> = (0..PROCESSES).map(|_| p.spawn("run", secs, None)).collect();
    let reports: Vec<Report> = children
        .into_iter()
        .map(|c| report(c, Duration::from_secs(secs + 90)))
        .collect();
    let elapsed = start.elapsed();
    let total = |f: fn(&Report) -> u64| reports.iter().map(f).sum::<u64>();
    let provider_refreshes: u64 = (0..INSTALLATIONS)
        .map(|n| p.lp.refresh_count(&label(n)))
        .sum();
    // Exact: the provider's own expiry of each token is at least the leeway after the
    // moment `access_token` was called (the manager promises the leeway at the moment it
    // returns, which is later): so every token was live when returned.
    let cfg = config();
    let leeway_ms = i64::try_from(cfg.leeway.as_millis()).unwrap();
    let mut stale = Vec::new();
    for (t, at) in reports.iter().flat_map(|r| &r.handed) {
        // How long after its expiry (ms) it was returned; `None`: an unknown token.
        let late = p.lp.access_token_expires_at(t).map(|exp| {
            let exp = exp
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            *at + leeway_ms - i64::try_from(exp).unwrap()
        });
        if late.is_none_or(|l| l >= 0) {
            stale.push(late);
        }
    }
    let stored = rt.block_on(store.list()).unwrap();
    // One refresh per lifetime: a refresh may start when the manager's expiry of the
    // token it replaces is within leeway + jitter + window (`ahead`); that expiry is
    // dated from the start of the exchange that got the token, which took `d` ms, so
    // the provider's own clock for it started at most `d` later. At the provider, the
    // replaced token must have had at most `ahead + d` ms left (plus a few ms of clock
    // truncation): more would be a second refresh inside one lifetime. `d` comes from
    // the committing process's `refreshed` event (generation g + 1 replaced the token
    // of generation g; generation 1 is the seed, whose exchange time is not known).
    let ahead = i64::try_from((cfg.leeway + cfg.jitter + cfg.window).as_millis()).unwrap();
    let took: std::collections::HashMap<(&str, i64), u64> = reports
        .iter()
        .flat_map(|r| &r.exchanges)
        .map(|(k, g, ms)| ((k.as_str(), *g), *ms))
        .collect();
    let lifetime_ms = i64::try_from(LIFETIME.as_millis()).unwrap();
    let mut early = Vec::new();
    let mut checked = 0u64;
    // Refreshes whose bound is a lifetime or more (a very slow previous exchange on a
    // loaded machine): not early, but not telling one lifetime from two either.
    let mut loose = 0u64;
    let mut most_left = i64::MIN;
    let mut least_left = i64::MAX;
    let mut after_expiry = 0u64;
    let mut fewest = u64::MAX;
    let mut most = 0;
    let mut broken = Vec::new();
    for n in 0..INSTALLATIONS {
        let l = label(n);
        let row = stored
            .iter()
            .find(|s| s.installation.key == InstallationKey::caller(&l).unwrap())
            .unwrap();
        let count = p.lp.refresh_count(&l);
        let live = p.lp.installation_is_live(&l);
        if row.installation.status != Status::Active
            || !live
            || u64::try_from(row.generation - 1).unwrap() != count
        {
            broken.push(format!(
                "{l}: {:?}, live {live}, generation {}, provider refreshes {count}",
                row.installation.status, row.generation
            ));
        }
        fewest = fewest.min(count);
        most = most.max(count);
        let store_key = InstallationKey::caller(&l).unwrap().store_key();
        for (i, r) in p.lp.refresh_log(&l).iter().enumerate() {
            let left = r
                .replaced_left_ms
                .expect("the provider labelled every fleet installation at issue");
            most_left = most_left.max(left);
            least_left = least_left.min(left);
            if left < 0 {
                after_expiry += 1;
            }
            // Refresh i wrote generation i + 2 and replaced the token of generation i + 1.
            let replaced = i64::try_from(i).unwrap() + 1;
            if replaced == 1 {
                continue;
            }
            let d = took
                .get(&(store_key.as_str(), replaced))
                .unwrap_or_else(|| panic!("{l}: no refreshed event for generation {replaced}"));
            let bound = ahead + i64::try_from(*d).unwrap() + 5;
            checked += 1;
            if bound >= lifetime_ms {
                loose += 1;
            }
            if left > bound {
                early.push(format!(
                    "{l}: refresh {i} with {left} ms left, bound {bound} ms"
                ));
            }
        }
    }
    let summary = format!(
        "fleet ({}): {PROCESSES} processes x {TASKS} tasks, {INSTALLATIONS} installations, \
         {}-s tokens, {:.1} s: {} access_token calls, {} valid for less than the leeway, {} dead at \
         introspection within the leeway ({} more answered late), {} errors, {} refreshes \
         (provider {provider_refreshes}, per installation {fewest}..={most}; the token each \
         replaced had {least_left}..={most_left} ms left at the provider, {after_expiry} after its \
         expiry; {checked} checked against ahead {ahead} ms + the previous exchange's time, \
         {} early, {loose} with a bound of a lifetime or more; slowest exchange {} ms), \
         {} needs_reauthorization, {} lease lost, {} busy waits, {} cache hits",
        p.spec.env().split(':').next().unwrap_or(""),
        LIFETIME.as_secs(),
        elapsed.as_secs_f64(),
        total(|r| r.calls),
        stale.len(),
        total(|r| r.dead),
        total(|r| r.late),
        total(|r| r.errors),
        total(|r| r.refreshes),
        early.len(),
        reports.iter().map(|r| r.slowest_exchange_ms).max().unwrap_or(0),
        total(|r| r.reauthorizations),
        total(|r| r.lease_lost),
        total(|r| r.busy_waits),
        total(|r| r.cache_hits),
    );
    println!("{summary}");
    for r in &reports {
        println!(
            "  process: {} calls, {} refreshes, {} busy waits, {} cache hits, {} failures",
            r.calls, r.refreshes, r.busy_waits, r.cache_hits, r.failures
        );
    }
    assert!(
        stale.is_empty(),
        "{summary}\nvalid for less than the leeway by this many ms (None: unknown token): {stale:?}"
    );
    assert!(broken.is_empty(), "{summary}\n{broken:#?}");
    for r in &reports {
        assert!(r.first_errors.is_empty(), "{:?}", r.first_errors);
    }
    assert!(total(|r| r.calls) > 10 * secs, "{summary}");
    assert_eq!(total(|r| r.dead), 0, "{summary}");
    assert_eq!(total(|r| r.errors), 0, "{summary}");
    assert_eq!(total(|r| r.reauthorizations), 0, "{summary}");
    assert_eq!(total(|r| r.refreshes), provider_refreshes, "{summary}");
    // Exactly one refresh per lifetime: no refresh token was ever presented twice
    // (strict single use would have answered `invalid_refresh_token`: 0
    // reauthorizations, 0 failures); every refresh the provider answered was committed
    // once (generations above); and no refresh came before the last `bound` ms of the
    // token it replaced. With `bound` shorter than a lifetime, every token issued was
    // replaced by at most one refresh, in its own last part.
    assert_eq!(total(|r| r.failures), 0, "{summary}");
    assert!(early.is_empty(), "{summary}\nrefreshed early: {early:#?}");
    assert_eq!(
        checked + INSTALLATIONS as u64,
        provider_refreshes,
        "{summary}\nevery refresh after the first of each installation is checked"
    );
    // `loose` is reported, not asserted: on a loaded machine an exchange can take
    // longer than lifetime - ahead, and such a refresh is checked against a bound of
    // a lifetime or more (still not early by the manager's rule).
    if loose * 10 > checked {
        println!(
            "note: {loose} of {checked} refreshes followed an exchange slower than lifetime - \
             ahead (a loaded machine): for those, one lifetime is not told from two"
        );
    }
    assert!(fewest >= 1, "{summary}");

    kill_mid_refresh(p, rt, store);
}

/// SIGKILL one process while the provider holds its refresh: another takes over.
fn kill_mid_refresh<S: TokenStore>(p: &Parent, rt: &tokio::runtime::Runtime, store: &S) {
    let l = label(0);
    let key = InstallationKey::caller(&l).unwrap();
    let before = p.lp.refresh_count(&l);
    let hold = Duration::from_secs(8);
    p.lp.delay_next_refresh(&l, hold);
    let mut a = p.spawn("hold", 30, Some(&l));
    let t0 = Instant::now();
    while p.lp.held_refreshes(&l) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the refresh never reached the provider"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let held_at = Instant::now();
    a.kill().unwrap(); // SIGKILL
    let _ = a.wait();
    // The killed process refreshed ahead of the expiry by its own jitter; wait until
    // the stored token is due for any process (within the leeway), so the next one
    // must refresh too. The killed claim's 3-s lease is still running then.
    let expires_ms = rt.block_on(store.get(&key)).unwrap().unwrap().expires_ms;
    if let Some(exp) = expires_ms {
        let due = exp - i64::try_from(kill_config().leeway.as_millis()).unwrap() + 10;
        let wait = due - now_ms();
        if wait > 0 {
            std::thread::sleep(Duration::from_millis(u64::try_from(wait).unwrap()));
        }
    }
    let b = p.spawn("once", 30, Some(&l));
    let r = report(b, Duration::from_secs(60));
    let took = held_at.elapsed();
    assert_eq!(r.calls, 1, "{r:?}");
    assert_eq!(r.dead, 0, "the taken-over token is live: {r:?}");
    assert_eq!(r.errors, 0, "{r:?}");
    assert_eq!(r.refreshes, 1, "{r:?}");
    assert!(r.busy_waits > 0, "it waited for the dead claim: {r:?}");
    assert!(
        took < hold,
        "refreshed before the held request was released: {took:?}"
    );
    assert_eq!(p.lp.refresh_count(&l), before + 1);
    // Once the dead process's request is released, the provider refuses its spent
    // refresh token; nothing is lost.
    std::thread::sleep(hold.saturating_sub(held_at.elapsed()) + Duration::from_millis(500));
    let row = rt.block_on(store.get(&key)).unwrap().unwrap();
    assert_eq!(row.installation.status, Status::Active);
    assert!(p.lp.installation_is_live(&l));
    assert_eq!(p.lp.refresh_count(&l), before + 1);
    assert_eq!(u64::try_from(row.generation - 1).unwrap(), before + 1);
    println!(
        "kill -9 mid-refresh ({}): the other process refreshed {:.1} s after the kill \
         (lease 3 s), installation active and live",
        p.spec.env().split(':').next().unwrap_or(""),
        took.as_secs_f64()
    );
}

#[test]
fn fleet_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_fleet(Spec::Sqlite(dir.path().join("fleet.db")));
}

#[test]
fn fleet_on_postgres() {
    let cluster = Cluster::start();
    run_fleet(Spec::Postgres(cluster.conninfo()));
}

/// A refresh written together with a deferral (a later token of the set was rate
/// limited) keeps that deferral in both stores: the installation is not due before it.
async fn refreshed_with_a_deferral<S: TokenStore>(store: &S, p: &LocalProvider) {
    let key = lifecycle::seed(store, p, lp::ProviderKind::Slack, "deferral").await;
    let Claim::Claimed(stored) = store
        .claim(&key, "owner", Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("the new installation could not be claimed");
    };
    let retry_at_ms = now_ms() + 60_000;
    let completion = Completion::Refreshed {
        installation: Box::new(stored.installation.clone()),
        // Expired: due at once but for the deferral.
        expires_ms: Some(now_ms() - 1),
        retry_at_ms: Some(retry_at_ms),
    };
    let committed = store
        .complete(&key, "owner", stored.generation, completion)
        .await
        .unwrap();
    assert_eq!(committed, Committed::Yes);
    let after = store.get(&key).await.unwrap().unwrap();
    assert_eq!(after.retry_at_ms, Some(retry_at_ms));
    assert_eq!(after.generation, stored.generation + 1);
    assert!(store.due(i64::MAX, 10).await.unwrap().is_empty());
}

#[test]
fn a_refresh_keeps_its_deferral_in_both_stores() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let lp = LocalProvider::start(LocalProviderConfig::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("deferral.db")).unwrap();
    rt.block_on(refreshed_with_a_deferral(&sqlite, &lp));
    let cluster = Cluster::start();
    rt.block_on(async {
        let pg = PostgresStore::connect(&cluster.conninfo(), 1)
            .await
            .unwrap();
        refreshed_with_a_deferral(&pg, &lp).await;
    });
}

/// The fleet process (run by the tests above with `FLEET_CHILD` set).
#[test]
#[ignore = "run by the fleet tests as a child process"]
fn fleet_child() {
    let Ok(mode) = std::env::var("FLEET_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let spec = var("FLEET_STORE");
    let spec = if let Some(p) = spec.strip_prefix("sqlite:") {
        Spec::Sqlite(p.into())
    } else {
        Spec::Postgres(spec.strip_prefix("postgres:").unwrap().to_owned())
    };
    let events = Events::install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        match open(&spec).await {
            Store::Sqlite(s) => child(s, &mode, &events).await,
            Store::Postgres(s) => child(s, &mode, &events).await,
        }
    });
    println!("FLEET-RESULT {}", serde_json::to_string(&report).unwrap());
}

async fn child<S: TokenStore + Clone>(store: S, mode: &str, events: &Events) -> Report {
    let base = std::env::var("FLEET_BASE").unwrap();
    let ca = std::fs::read_to_string(std::env::var("FLEET_CA").unwrap()).unwrap();
    let secs: u64 = std::env::var("FLEET_SECS").unwrap().parse().unwrap();
    let cfg = if mode == "run" {
        config()
    } else {
        kill_config()
    };
    let m = lifecycle::manager(store, &ca, &base, cfg, true);
    let start = Instant::now();
    let mut report = Report::default();
    let check = |t: &str| {
        let c = lifecycle::client(&ca, Duration::from_secs(5));
        let base = base.clone();
        let t = t.to_owned();
        async move { lifecycle::live_at_provider(&c, &base, &t).await }
    };
    match mode {
        "run" => {
            let bg = m.spawn_refresher();
            let deadline = start + Duration::from_secs(secs);
            let tasks: Vec<_> = (0..TASKS)
                .map(|task| {
                    let m = m.clone();
                    let base = base.clone();
                    let ca = ca.clone();
                    tokio::spawn(async move {
                        let client = lifecycle::client(&ca, Duration::from_secs(5));
                        let mut r = Report::default();
                        let mut x = u64::from(std::process::id()) * 7919 + task as u64 + 1;
                        while Instant::now() < deadline {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let n = usize::try_from(x % INSTALLATIONS as u64).unwrap();
                            let key = InstallationKey::caller(&label(n)).unwrap();
                            let handed = now_ms();
                            match m.access_token(&key).await {
                                Ok(t) => {
                                    r.calls += 1;
                                    r.handed.push((t.expose().to_owned(), handed));
                                    if !lifecycle::live_at_provider(&client, &base, t.expose())
                                        .await
                                    {
                                        if now_ms() - handed < 1000 {
                                            r.dead += 1;
                                        } else {
                                            r.late += 1;
                                        }
                                    }
                                }
                                Err(e) => {
                                    r.errors += 1;
                                    if r.first_errors.len() < 5 {
                                        r.first_errors.push(format!("{}: {e}", label(n)));
                                    }
                                }
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        r
                    })
                })
                .collect();
            for t in tasks {
                let r = t.await.unwrap();
                report.calls += r.calls;
                report.dead += r.dead;
                report.late += r.late;
                report.handed.extend(r.handed);
                report.errors += r.errors;
                report.first_errors.extend(r.first_errors);
            }
            bg.abort();
            m.idle().await;
        }
        "hold" => {
            // Ask until the refresh starts; the provider holds it; the parent kills us.
            let key = InstallationKey::caller(&std::env::var("FLEET_KEY").unwrap()).unwrap();
            loop {
                let _ = m.access_token(&key).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        _ => {
            let key = InstallationKey::caller(&std::env::var("FLEET_KEY").unwrap()).unwrap();
            let asked = now_ms();
            match m.access_token(&key).await {
                Ok(t) => {
                    report.calls = 1;
                    report.handed.push((t.expose().to_owned(), asked));
                    if !check(t.expose()).await {
                        report.dead = 1;
                    }
                }
                Err(ManagerError::NeedsReauthorization { reason }) => {
                    report.errors = 1;
                    report
                        .first_errors
                        .push(format!("needs reauthorization: {reason}"));
                }
                Err(e) => {
                    report.errors = 1;
                    report.first_errors.push(e.to_string());
                }
            }
        }
    }
    let c = m.counters();
    report.refreshes = c.refreshes;
    report.reauthorizations = c.reauthorizations;
    report.failures = c.failures;
    report.lease_lost = c.lease_lost;
    report.busy_waits = c.busy_waits;
    report.cache_hits = c.cache_hits;
    report.slowest_exchange_ms = c.slowest_exchange_ms;
    report.exchanges = events.refreshed();
    report.elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap();
    report
}

/// A child's `tracing` output, captured to read the manager's `refreshed` events.
#[derive(Clone, Default)]
struct Events(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Events {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Events {
    /// Captures this process's events at debug level and above.
    fn install() -> Self {
        let events = Self::default();
        let writer = events.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        events
    }

    /// Each `refreshed` event: installation, generation written, exchange time (ms).
    fn refreshed(&self) -> Vec<(String, i64, u64)> {
        let text = String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned();
        text.lines()
            .filter(|line| line.contains(": refreshed "))
            .map(|line| {
                let field = |name: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(name))
                        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                };
                (
                    field("installation=").to_owned(),
                    field("generation=").parse().unwrap(),
                    field("exchange_ms=").parse().unwrap(),
                )
            })
            .collect()
    }
}
