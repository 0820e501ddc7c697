//! The long run: the refresh loop on the embassy executor (std), embassy-net on a TAP
//! device in a network namespace this test creates and deletes, against the built-in
//! provider with 3-second access tokens and strictly single-use (rotating) Slack
//! refresh tokens, over a file-backed NOR-flash double, with the device "powered off"
//! (its executor torn down: no task of it is ever polled again, its RAM is gone) and
//! booted again many times.
//!
//! ```text
//!  netns picoauth-rl-<pid>
//!  ┌──────────────────────────────────────────────────────────────────────┐
//!  │ tapN 192.0.2.1/24  ← the local provider on :8443 (auth.test), DNS :53  │
//!  │ embassy-net 192.0.2.2/24 on tapN; boot N gets a fresh tapN (the TAP of │
//!  │ a torn-down boot stays open in its frozen task, so it is left down)    │
//!  └──────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The device's loop: wait until a refresh is due (`refresh_due_at`), `access_token()`
//! (refreshing and persisting when due), then one API call, `POST /api/auth.test` with
//! the token (`bearer_post`). At its phase points the device asks the harness whether
//! to go on: the harness cuts power there (or a random time after, while the device
//! waits or the API call runs). Cut points, all outside the answer-to-flash window:
//! before the refresh request is sent, while waiting, after the answer is on flash,
//! during the API call. Asserted: the installation is never lost (no refusal, the
//! provider still holds a live refresh token for it at the end), every API call's
//! token is live (`auth.test` says `ok`), each refresh replaced a token in the last
//! leeway (+1 s of clock granularity) of its life (one refresh per lifetime), and the
//! refresh count and every interval between refreshes are within bounds derived from
//! the run time, the token lifetime, the leeway and the 1-s clock.
//!
//! Then one cut inside the window: the flash double holds the next write (the
//! provider has answered, the new set is not on flash) and power is cut there. The
//! next boot has the old refresh token: its first refresh is refused
//! (`invalid_refresh_token`), the loop reports `NeedsReauthorization`, sends no
//! further request, and a further reboot starts in that state without sending any.
//!
//! Run: `sudo PICOAUTH_REQUIRE_NETNS=1 cargo test -p picoauth-embassy --features
//! persist --test refresh_netns -- --nocapture` (`PICOAUTH_LONG_RUN_SECS`, default 60,
//! sets the run time; `PICOAUTH_LONG_RUN_SEED` replays a cut plan).

mod flash;

use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use core::time::Duration;
use std::sync::mpsc;
use std::time::Instant;

use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_net_tuntap::TunTapDevice;
use embassy_time::Timer;
use flash::{TestFlash, LEN};
use picoauth::exchange::Token;
use picoauth::json::slack::{self, SlackV2};
use picoauth::provider::{Endpoint, Provider, SLACK_V2};
use picoauth::request::ClientAuth;
use picoauth::token_set::TokenSet;
use picoauth_embassy::persist::TokenStore;
use picoauth_embassy::refresh::{Reauthorization, State};
use picoauth_embassy::{
    anchor_from_trusted_cert, bearer_post, CertificateDer, Config, EmbassyNet, RefreshError,
    RefreshLoop, Storage, TrustAnchor, UnixClock,
};
use picoauth_local_provider::{self as local_provider, LocalProvider, LocalProviderConfig};
use picoauth_test_support::netns::{
    ip, is_child, stack_config, Dns, NetnsRun, SystemClock, LINUX_IP,
};
use picoauth_test_support::ready::block_on;

const TEST_NAME: &str = "refresh_loop_survives_power_cuts_in_a_netns";
const PORT: u16 = 8443;
const HOST: &str = "auth.test";
const LABEL: &str = "device";
/// Access-token lifetime at the provider.
const LIFETIME: u64 = 3;
/// Refresh when the token expires within this many seconds.
const LEEWAY: u64 = 1;
const MIN_CUTS: usize = 20;
/// An API call at least this often (ms) while the token is fresh.
const API_EVERY_MS: u64 = 700;
/// Task pools: one device task and one network task per boot.
const MAX_BOOTS: usize = 60;

type Set = TokenSet<512, 128>;

#[test]
fn refresh_loop_survives_power_cuts_in_a_netns() {
    if is_child() {
        child();
        return;
    }
    let run = NetnsRun {
        test_name: TEST_NAME,
        ns_prefix: "picoauth-rl",
        tap: "tap0",
        hard_timeout: Duration::from_secs(200),
    };
    let Some((ok, out)) = run.run() else {
        return;
    };
    assert!(ok, "child in the namespace failed or timed out:\n{out}");
    for marker in ["PASS long run", "PASS cut inside the window"] {
        assert!(
            out.contains(marker),
            "missing {marker:?} in child output:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Inside the namespace.

/// Where the device asks the harness whether to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the next refresh (the harness may cut during the wait).
    Waiting,
    /// A refresh is due; the request has not been sent.
    BeforeRequest,
    /// A refresh answer is on flash (`access_token` returned a new token).
    AfterFlash,
    /// An API call is about to start (the harness may cut while it runs).
    ApiCall,
}

const PHASES: [Phase; 4] = [
    Phase::Waiting,
    Phase::BeforeRequest,
    Phase::AfterFlash,
    Phase::ApiCall,
];

enum Event {
    Booted {
        boot: usize,
        state: State,
    },
    Gate {
        boot: usize,
        phase: Phase,
    },
    Api {
        boot: usize,
        ok: bool,
        token_tail: String,
    },
    Refused {
        boot: usize,
        error: String,
    },
    Reauthorization {
        boot: usize,
        reason: Reauthorization,
    },
}

/// What every boot's tasks share with the harness.
struct Shared {
    flash: TestFlash,
    anchors: &'static [TrustAnchor<'static>],
    events: mpsc::Sender<Event>,
    /// The harness's answer to the current gate: 0 waiting, 1 go.
    go: AtomicU8,
}

struct Boot {
    n: usize,
    done: &'static AtomicBool,
    thread: std::thread::JoinHandle<()>,
}

static PROVIDER: Provider<'static> = SLACK_V2.with_endpoint(Endpoint {
    tls: true,
    host: HOST,
    port: PORT,
    path: local_provider::SLACK_V2_TOKEN_PATH,
});

static AUTH_TEST: Endpoint<'static> = Endpoint {
    tls: true,
    host: HOST,
    port: PORT,
    path: "/api/auth.test",
};

fn auth() -> ClientAuth<'static> {
    ClientAuth::basic(
        local_provider::SLACK_ROTATING_CLIENT_ID,
        local_provider::SLACK_ROTATING_CLIENT_SECRET.into(),
    )
}

/// xorshift64*: the cut plan (seeded, printed, replayable).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 32) % n
    }
}

/// Wall-clock seconds and milliseconds, for the log.
fn stamp() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:03}", d.as_secs() % 1000, d.subsec_millis())
}

fn tap_name(boot: usize) -> String {
    format!("tap{boot}")
}

/// Moves the Linux side to a fresh TAP for `boot` (the previous one stays open in the
/// frozen task of the torn-down boot; it is taken down and loses the address).
fn fresh_tap(boot: usize) {
    let linux = format!(
        "{}.{}.{}.{}/24",
        LINUX_IP[0], LINUX_IP[1], LINUX_IP[2], LINUX_IP[3]
    );
    let old = tap_name(boot - 1);
    let new = tap_name(boot);
    ip(&["addr", "del", &linux, "dev", &old]).expect("address off the old TAP");
    ip(&["link", "set", &old, "down"]).expect("old TAP down");
    ip(&["tuntap", "add", "dev", &new, "mode", "tap"]).expect("new TAP");
    ip(&["addr", "add", &linux, "dev", &new]).expect("address on the new TAP");
    ip(&["link", "set", &new, "up"]).expect("new TAP up");
}

/// Boots the device: a new executor on a new thread, a new network stack on `tapN`.
fn boot(n: usize, shared: &'static Shared) -> Boot {
    eprintln!("boot {n}");
    if n > 0 {
        fresh_tap(n);
    }
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let thread = std::thread::spawn(move || {
        let device = TunTapDevice::new(&tap_name(n)).expect("open the TAP");
        // Leaked: a torn-down executor is never dropped, its tasks never polled again.
        let executor = Box::leak(Box::new(embassy_executor::Executor::new()));
        executor.run_until(
            |spawner| {
                spawner.spawn(tick(done).expect("spawn tick"));
                spawner.spawn(device_task(spawner, device, shared, n).expect("spawn device"));
            },
            || done.load(Ordering::SeqCst),
        );
    });
    Boot { n, done, thread }
}

/// Power off: the executor stops at its next wake-up (at most one tick later) and is
/// never run again.
fn cut(b: Boot) {
    eprintln!("cut boot {}", b.n);
    b.done.store(true, Ordering::SeqCst);
    b.thread.join().expect("boot thread");
}

/// Wakes the executor every 2 ms so that a cut takes effect at once.
#[embassy_executor::task(pool_size = MAX_BOOTS)]
async fn tick(done: &'static AtomicBool) {
    while !done.load(Ordering::SeqCst) {
        Timer::after_millis(2).await;
    }
}

#[embassy_executor::task(pool_size = MAX_BOOTS)]
async fn net_task(mut runner: Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

/// Asks the harness whether to go on past `phase`; a cut never answers.
async fn gate(shared: &Shared, boot: usize, phase: Phase) {
    shared.go.store(0, Ordering::SeqCst);
    eprintln!("  {} boot {boot} at {phase:?}", stamp());
    let _ = shared.events.send(Event::Gate { boot, phase });
    while shared.go.load(Ordering::SeqCst) == 0 {
        Timer::after_millis(1).await;
    }
}

#[embassy_executor::task(pool_size = MAX_BOOTS)]
async fn device_task(spawner: Spawner, device: TunTapDevice, shared: &'static Shared, boot: usize) {
    let net_config = stack_config();
    // A new seed per boot: TCP ports and sequence numbers differ from the last life's.
    let seed = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
    let resources: &'static mut StackResources<4> = Box::leak(Box::new(StackResources::new()));
    let (stack, runner) = embassy_net::new(device, net_config, resources, seed);
    spawner.spawn(net_task(runner).expect("spawn net task"));
    stack.wait_config_up().await;
    eprintln!("  boot {boot}: network up");

    let mut store = TokenStore::new(shared.flash.clone(), 0..LEN as u32).expect("store");
    let mut work = vec![0u8; 4096];
    let config: &'static Config<'static, SystemClock> =
        Box::leak(Box::new(Config::new(shared.anchors, SystemClock)));
    let refresh_storage: &'static mut Storage = Box::leak(Box::new(Storage::new()));
    let (buffers, buf) = refresh_storage.split();
    let mut net = EmbassyNet {
        stack,
        config,
        buffers,
        rng: rand_core::OsRng,
    };
    let mut api_storage = Box::new(Storage::new());

    let mut lp: RefreshLoop<'_, TestFlash, SystemClock, 512, 128> =
        RefreshLoop::open(&mut store, &PROVIDER, auth(), LEEWAY, &mut work)
            .await
            .expect("open the refresh loop");
    let _ = shared.events.send(Event::Booted {
        boot,
        state: lp.state(),
    });
    if boot == 0 {
        // A token that would split the request head is refused before anything is sent.
        let (buffers, abuf) = api_storage.split();
        let r = bearer_post(
            stack,
            &AUTH_TEST,
            "xoxe.xoxb-1\r\nX-Injected: 1",
            config,
            buffers,
            rand_core::OsRng,
            abuf,
        )
        .await;
        if !matches!(
            r,
            Err(picoauth_embassy::Error::Exchange(
                picoauth::exchange::ExchangeError::Encode(
                    picoauth::EncodeError::InvalidHeaderValue
                )
            ))
        ) {
            let _ = shared.events.send(Event::Refused {
                boot,
                error: format!("header injection not refused: {:?}", r.map(|x| x.status)),
            });
        }
    }
    loop {
        let now = SystemClock::now();
        match lp.refresh_due_at() {
            Some(due) if due > now => {
                gate(shared, boot, Phase::Waiting).await;
                // Sleep to the second the refresh is due (the clock counts seconds), or
                // for the next API call with the same token, whichever comes first.
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                Timer::after_millis((due * 1000).saturating_sub(ms).min(API_EVERY_MS)).await;
                if SystemClock::now() >= due {
                    continue;
                }
            }
            Some(_) => gate(shared, boot, Phase::BeforeRequest).await,
            None => {}
        }
        let before = lp
            .token_set()
            .credential(picoauth::token_set::Slot::Main)
            .map(|c| c.access_token.clone());
        let token = match lp.access_token(&mut net, buf).await {
            Ok(t) => t.clone(),
            Err(RefreshError::NeedsReauthorization(reason)) => {
                let _ = shared.events.send(Event::Reauthorization { boot, reason });
                Timer::after_millis(200).await;
                continue;
            }
            Err(e) => {
                eprintln!("  {} boot {boot} refresh failed: {e}", stamp());
                let _ = shared.events.send(Event::Refused {
                    boot,
                    error: e.to_string(),
                });
                Timer::after_millis(200).await;
                continue;
            }
        };
        if before.as_ref() != Some(&token) {
            gate(shared, boot, Phase::AfterFlash).await;
        }
        gate(shared, boot, Phase::ApiCall).await;
        let (buffers, abuf) = api_storage.split();
        let r = bearer_post(
            stack,
            &AUTH_TEST,
            token.expose(),
            config,
            buffers,
            rand_core::OsRng,
            abuf,
        )
        .await;
        eprintln!(
            "  {} boot {boot} API: {:?}",
            stamp(),
            r.as_ref().map(|x| x.status)
        );
        let ok = matches!(&r, Ok(resp) if resp.status == 200
            && core::str::from_utf8(resp.body).is_ok_and(|b| b.contains("\"ok\":true")));
        let tail = token.expose();
        let _ = shared.events.send(Event::Api {
            boot,
            ok,
            token_tail: tail[tail.len().saturating_sub(6)..].to_owned(),
        });
        api_storage.wipe();
    }
}

/// A CA certificate as a one-anchor list, leaked to `'static`.
fn anchor(der: Vec<u8>) -> &'static [TrustAnchor<'static>] {
    let cert: &'static CertificateDer<'static> =
        Box::leak(Box::new(CertificateDer::from(der.leak() as &[u8])));
    let anchor = anchor_from_trusted_cert(cert).expect("the provider's CA parses as an anchor");
    Box::leak(Box::new([anchor]))
}

fn token_requests(provider: &LocalProvider) -> usize {
    provider
        .request_log()
        .iter()
        .filter(|r| r.path == local_provider::SLACK_V2_TOKEN_PATH)
        .count()
}

#[allow(clippy::too_many_lines)] // one scenario, read top to bottom
fn child() {
    let run_secs: u64 = std::env::var("PICOAUTH_LONG_RUN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("PICOAUTH_LONG_RUN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand_core::RngCore::next_u64(&mut rand_core::OsRng) | 1);
    println!("cut plan seed {seed} (PICOAUTH_LONG_RUN_SEED), run {run_secs} s");
    let mut rng = Rng(seed);

    let linux_ip = core::net::Ipv4Addr::from(LINUX_IP);
    let provider = LocalProvider::start(LocalProviderConfig {
        addr: (linux_ip, PORT).into(),
        leaf_names: vec![HOST.into()],
        ..LocalProviderConfig::default()
    })
    .expect("start the local provider inside the namespace");
    provider.set_access_lifetime(Some(Duration::from_secs(LIFETIME)));
    let dns = Dns::start();

    // Provisioning: the installation's first answer, on the file-backed flash.
    let flash_path = std::env::temp_dir().join(format!("picoauth-rl-{}.flash", std::process::id()));
    let _ = std::fs::remove_file(&flash_path);
    let flash = TestFlash::file(&flash_path);
    let answer = provider.issue_installation(
        local_provider::ProviderKind::Slack,
        local_provider::SLACK_ROTATING_CLIENT_ID,
        LABEL,
    );
    let SlackV2::Token(t) = slack::parse_v2(answer.as_bytes()).expect("parse") else {
        panic!("not a token: {answer}")
    };
    let set: Set = TokenSet::from_token(&Token::SlackV2(t), SystemClock::now()).expect("set");
    let mut work = vec![0u8; 4096];
    let mut store = TokenStore::new(flash.clone(), 0..LEN as u32).expect("store");
    block_on(store.save(&set, &mut work)).expect("provision");
    drop(store);

    let (tx, rx) = mpsc::channel();
    let shared: &'static Shared = Box::leak(Box::new(Shared {
        flash: flash.clone(),
        anchors: anchor(provider.ca_cert_der()),
        events: tx,
        go: AtomicU8::new(0),
    }));

    // ---- the long run: cuts outside the window.
    let started = Instant::now();
    let mut boots = 0usize;
    let mut current = boot(0, shared);
    boots += 1;
    let mut cuts: Vec<(usize, Phase)> = Vec::new();
    let mut api_calls = 0usize;
    let mut dead_api_calls = Vec::new();
    let mut failures = Vec::new();
    // The plan for this boot: cut at the k-th gate of `phase`.
    let plan = |rng: &mut Rng| (PHASES[rng.below(4) as usize], 1 + rng.below(2) as usize);
    let (mut phase_to_cut, mut nth) = plan(&mut rng);
    let mut seen = 0usize;
    let run_for = Duration::from_secs(run_secs);
    loop {
        let running_long_enough = started.elapsed() >= run_for && cuts.len() >= MIN_CUTS;
        if running_long_enough || boots >= MAX_BOOTS - 4 {
            break;
        }
        let event = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the device went quiet for 20 s");
        match event {
            Event::Booted { state, boot } => {
                if state != State::Active {
                    failures.push(format!("boot {boot} started in {state:?}"));
                }
            }
            Event::Api {
                ok,
                token_tail,
                boot,
            } => {
                api_calls += 1;
                if !ok {
                    dead_api_calls.push(format!("boot {boot}: token …{token_tail}"));
                }
            }
            Event::Refused { boot, error } => failures.push(format!("boot {boot}: {error}")),
            Event::Reauthorization { boot, reason } => {
                failures.push(format!("boot {boot}: needs reauthorization ({reason})"));
            }
            Event::Gate { boot: b, phase } => {
                if b != current.n {
                    continue;
                }
                if phase == phase_to_cut {
                    seen += 1;
                }
                if phase != phase_to_cut || seen < nth {
                    shared.go.store(1, Ordering::SeqCst);
                    continue;
                }
                // Cut here: at the gate (before the request, after the answer is on
                // flash), or a random moment into the wait or the API call.
                match phase {
                    Phase::Waiting | Phase::ApiCall => {
                        shared.go.store(1, Ordering::SeqCst);
                        // An API call takes 5-20 ms here; the wait up to 700 ms.
                        let max_ms = if phase == Phase::Waiting { 700 } else { 8 };
                        std::thread::sleep(Duration::from_millis(rng.below(max_ms)));
                    }
                    Phase::BeforeRequest | Phase::AfterFlash => {}
                }
                cut(current);
                cuts.push((b, phase));
                current = boot(boots, shared);
                boots += 1;
                (phase_to_cut, nth) = plan(&mut rng);
                seen = 0;
            }
        }
    }
    // Let the last boot settle into a quiet state: stop at its next wait.
    loop {
        match rx
            .recv_timeout(Duration::from_secs(20))
            .expect("device quiet")
        {
            Event::Gate {
                phase: Phase::Waiting,
                boot,
            } if boot == current.n => break,
            Event::Gate { .. } => shared.go.store(1, Ordering::SeqCst),
            Event::Api {
                ok,
                token_tail,
                boot,
            } => {
                api_calls += 1;
                if !ok {
                    dead_api_calls.push(format!("boot {boot}: token …{token_tail}"));
                }
            }
            Event::Refused { boot, error } => failures.push(format!("boot {boot}: {error}")),
            Event::Reauthorization { boot, reason } => {
                failures.push(format!("boot {boot}: needs reauthorization ({reason})"));
            }
            Event::Booted { .. } => {}
        }
    }
    let elapsed = started.elapsed();
    cut(current);
    let refreshes = provider.refresh_count(LABEL);
    let log = provider.refresh_log(LABEL);
    let times: Vec<Instant> = log.iter().map(|r| r.at).collect();
    let per_phase: Vec<(Phase, usize)> = PHASES
        .iter()
        .map(|p| (*p, cuts.iter().filter(|(_, q)| q == p).count()))
        .collect();
    let min_gap = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .unwrap_or_default();
    let max_gap = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    println!(
        "long run: {elapsed:.1?}, {boots} boots, {} cuts {per_phase:?}, {api_calls} API calls, \
         {refreshes} refreshes (gaps {min_gap:.2?}..{max_gap:.2?}), flash {} writes {} erases",
        cuts.len(),
        flash.0.writes.load(Ordering::SeqCst),
        flash.0.erases.load(Ordering::SeqCst),
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        dead_api_calls.is_empty(),
        "API calls with a dead token: {dead_api_calls:#?}"
    );
    assert!(cuts.len() >= MIN_CUTS, "only {} cuts", cuts.len());
    for (p, n) in &per_phase {
        assert!(*n > 0, "no cut at {p:?}: {per_phase:?}");
    }
    assert!(api_calls > 0, "no API call");
    assert!(
        provider.installation_is_live(LABEL),
        "the installation was lost"
    );
    // Bounds from the lifetime, the leeway and the 1-s clock: a token issued at real
    // time t (clock second floor(t)) is refreshed once the clock reads floor(t) +
    // LIFETIME - LEEWAY, i.e. between LIFETIME - LEEWAY - 1 and LIFETIME - LEEWAY
    // seconds after it was issued (later only while the device is powered off or
    // busy). So no two refreshes are closer than LIFETIME - LEEWAY - 1 s (no retry
    // storm, no refresh of a fresh token after a reboot), and over the run there are
    // at most elapsed / (LIFETIME - LEEWAY - 1) + 1 of them and at least
    // elapsed / LIFETIME - 1 (every token lives LIFETIME s; API calls went on all run).
    let floor_gap = Duration::from_secs(LIFETIME - LEEWAY - 1);
    assert!(
        min_gap + Duration::from_millis(50) >= floor_gap,
        "two refreshes {min_gap:?} apart"
    );
    // One refresh per token lifetime: each refresh replaced a token in the last
    // LEEWAY s of its life (+1 s: the clock counts whole seconds), never a fresher one.
    let left: Vec<i64> = log.iter().filter_map(|r| r.replaced_left_ms).collect();
    assert_eq!(
        left.len() as u64,
        refreshes,
        "the provider logged every refresh"
    );
    let max_left = left.iter().copied().max().unwrap_or_default();
    let min_left = left.iter().copied().min().unwrap_or_default();
    println!("replaced tokens had {min_left}..={max_left} ms left");
    assert!(
        max_left <= ((LEEWAY + 1) * 1000) as i64 + 100,
        "a refresh replaced a token with {max_left} ms left"
    );
    let secs = elapsed.as_secs_f64();
    let upper = (secs / (LIFETIME - LEEWAY - 1) as f64).floor() as u64 + 1;
    let lower = ((secs / LIFETIME as f64).floor() as u64).saturating_sub(1);
    assert!(
        (lower..=upper).contains(&refreshes),
        "{refreshes} refreshes in {secs:.1} s, want {lower}..={upper}"
    );
    println!(
        "PASS long run ({} cuts, {refreshes} refreshes in {secs:.1} s: {:.2} per {LIFETIME}-s lifetime, bounds {lower}..={upper})",
        cuts.len(),
        refreshes as f64 * LIFETIME as f64 / secs
    );

    // ---- one cut inside the window: the provider has answered, flash not yet written.
    flash.0.hold.store(true, Ordering::SeqCst);
    let before_requests = token_requests(&provider);
    let before_refreshes = provider.refresh_count(LABEL);
    let writes_before = flash.0.writes.load(Ordering::SeqCst);
    current = boot(boots, shared);
    boots += 1;
    let window_start = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Gate { .. }) => shared.go.store(1, Ordering::SeqCst),
            Ok(Event::Api {
                ok: false,
                token_tail,
                ..
            }) => panic!("dead token …{token_tail}"),
            Ok(Event::Refused { error, .. }) => panic!("{error}"),
            _ => {}
        }
        // The provider has answered (rotated) and the device is at the flash write
        // of that answer, which the double holds: cut now.
        if provider.refresh_count(LABEL) > before_refreshes
            && flash.0.held.load(Ordering::SeqCst) > 0
        {
            break;
        }
        assert!(
            window_start.elapsed() < Duration::from_secs(10),
            "no refresh"
        );
    }
    cut(current);
    flash.0.hold.store(false, Ordering::SeqCst);
    assert_eq!(
        flash.0.writes.load(Ordering::SeqCst),
        writes_before,
        "the answer must not be on flash"
    );
    assert_eq!(token_requests(&provider), before_requests + 1);
    // Reboot: the old refresh token is presented once, refused, and never again.
    current = boot(boots, shared);
    boots += 1;
    let mut reason = None;
    let mut refused_at = None;
    let give_up = Instant::now() + Duration::from_secs(15);
    // Until the refusal, then 3 s more: the loop must stay quiet.
    while refused_at.is_none_or(|t: Instant| t.elapsed() < Duration::from_secs(3)) {
        assert!(Instant::now() < give_up, "no refusal within 15 s");
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Gate { .. }) => shared.go.store(1, Ordering::SeqCst),
            Ok(Event::Reauthorization { reason: r, .. }) => {
                reason.get_or_insert(r);
                refused_at.get_or_insert_with(Instant::now);
            }
            Ok(Event::Refused { error, .. }) => panic!("{error}"),
            _ => {}
        }
    }
    assert_eq!(reason, Some(Reauthorization::InvalidRefreshToken));
    assert_eq!(
        token_requests(&provider),
        before_requests + 2,
        "one refused refresh after the reboot, no retry"
    );
    cut(current);
    // And after one more reboot it starts refused, without a request.
    current = boot(boots, shared);
    loop {
        match rx
            .recv_timeout(Duration::from_secs(20))
            .expect("device quiet")
        {
            Event::Booted { state, .. } => {
                assert_eq!(
                    state,
                    State::NeedsReauthorization(Reauthorization::InvalidRefreshToken)
                );
            }
            Event::Gate { .. } => shared.go.store(1, Ordering::SeqCst),
            Event::Reauthorization { .. } => break,
            Event::Api { .. } | Event::Refused { .. } => panic!("the device went on"),
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    cut(current);
    assert_eq!(token_requests(&provider), before_requests + 2);
    println!(
        "PASS cut inside the window (provider answered, flash write held, power cut): \
         next boot refused once with invalid_refresh_token, no retry, sticky across a reboot"
    );
    drop(dns);
    let _ = std::fs::remove_file(&flash_path);
}
