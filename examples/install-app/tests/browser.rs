//! The install flow in a real browser: Debian's chromium, headless, driven through
//! chromedriver (WebDriver) by fantoccini, against the built-in provider and the app on
//! 127.0.0.1. Run by `.ci/browser` (which installs chromium and chromium-driver):
//!
//! ```text
//! cargo test -p picoauth-install-app --test browser -- --ignored --nocapture
//! ```
//!
//! Ignored in plain `cargo test` runs, which have no browser. `CHROMEDRIVER` and
//! `CHROMIUM` name the binaries (default `chromedriver`, and `/usr/bin/chromium` when it
//! exists); `SCREENSHOT_DIR` keeps screenshots (default `target/browser-screenshots`).
//!
//! Scenarios, in order, each checked on the pages and in the store:
//! 1. Deny on the consent page: the denial page, nothing stored.
//! 2. Slack: install page, consent page, Allow; the redirect is captured on its way
//!    into the app and held (as an attacker would keep his own link); replayed in a
//!    fresh browser profile (no cookie): refused, nothing stored; then let through in
//!    the browser that started it: installed; replayed there again: refused.
//! 3. Pinterest: install page, consent page, Allow: installed.
//! 4. The home page lists both with live tokens (the provider's introspection says so).
//! 5. Across two token lifetimes (4 s each), with the page reloading itself and no
//!    action taken, both installations are refreshed and still live.

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fantoccini::{Client, ClientBuilder, Locator};
use picoauth_install_app::{local, open_sqlite, App};
use picoauth_std::tokens::TokenStore;

const LIFETIME: Duration = Duration::from_secs(4);
const WHOLE_TEST: Duration = Duration::from_secs(150);
const STEP: Duration = Duration::from_secs(20);

/// chromedriver in its own process group, killed with everything it started (the
/// browser included) when dropped: on success, failure and panic alike.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        use rustix::process::{getpgid, kill_process_group, Pid, Signal};
        // The group chromedriver leads (it was spawned with `process_group(0)`), which
        // holds every chromium process it started. Sent with the kill system call on
        // that group id only, after checking it really is the group chromedriver leads
        // (so not ours), and never 1 (which would mean every process). Not through the
        // `kill` command: Debian bookworm's procps-ng 4.0.2 `kill -KILL -31281` sends
        // kill(-3, SIGKILL), and with a pid starting with 1, kill(-1): every process.
        let pid = Pid::from_child(&self.child);
        if pid != Pid::INIT && getpgid(Some(pid)).ok() == Some(pid) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn start_driver() -> Driver {
    use std::os::unix::process::CommandExt as _;
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "BROWSER CANNOT START: `{bin}` could not be run ({e}); install Debian's \
                 chromium and chromium-driver (.ci/browser does)"
            )
        });
    let driver = Driver { child, port };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "BROWSER CANNOT START: chromedriver did not listen on 127.0.0.1:{port} within 15 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

/// A headless browser session with a fresh profile in `profile`.
async fn browser(driver: &Driver, profile: &Path, spki: &str) -> Client {
    let args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1100,800".into(),
        format!("--user-data-dir={}", profile.display()),
        // Trust the built-in provider's certificate only (by its key), nothing else.
        format!("--ignore-certificate-errors-spki-list={spki}"),
    ];
    let mut options = serde_json::json!({ "args": args });
    let binary = std::env::var("CHROMIUM").ok().or_else(|| {
        Path::new("/usr/bin/chromium")
            .exists()
            .then(|| "/usr/bin/chromium".to_owned())
    });
    if let Some(b) = binary {
        options["binary"] = serde_json::Value::from(b);
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let session = tokio::time::timeout(
        Duration::from_secs(40),
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port)),
    )
    .await;
    match session {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => panic!("BROWSER CANNOT START: chromedriver could not start chromium: {e}"),
        Err(_) => panic!("BROWSER CANNOT START: no chromium session within 40 s"),
    }
}

/// Redirects into the app, captured on their way in; while `hold` is set the next one
/// is kept and answered by the capture itself (the app never sees it).
#[derive(Default)]
struct Capture {
    hold: bool,
    held: Option<String>,
    seen: Vec<String>,
}

async fn capture(State(cap): State<Arc<Mutex<Capture>>>, req: Request, next: Next) -> Response {
    let uri = req.uri().to_string();
    if req.uri().path().ends_with("/oauth_redirect") {
        let mut c = cap.lock().unwrap();
        c.seen.push(uri.clone());
        if c.hold {
            c.hold = false;
            c.held = Some(uri);
            return axum::response::Html("<p id=\"held\">held by the test</p>").into_response();
        }
    }
    next.run(req).await
}

async fn click(c: &Client, id: &str) {
    let el = c
        .wait()
        .at_most(STEP)
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id} on the page: {e}"));
    el.click()
        .await
        .unwrap_or_else(|e| panic!("clicking #{id}: {e}"));
}

async fn wait_for(c: &Client, id: &str) -> String {
    let el = c.wait().at_most(STEP).for_element(Locator::Id(id)).await;
    match el {
        Ok(el) => el.text().await.unwrap_or_default(),
        Err(e) => {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let src = c.source().await.unwrap_or_default();
            panic!("no #{id} at {url}: {e}\n{src}")
        }
    }
}

async fn screenshot(c: &Client, dir: &Path, name: &str) {
    match c.screenshot().await {
        Ok(png) => {
            let path = dir.join(name);
            std::fs::write(&path, png).unwrap();
            println!("screenshot: {}", path.display());
        }
        Err(e) => println!("screenshot {name} failed: {e}"),
    }
}

/// The installation rows on the page now: (provider, generation, live). The page
/// reloads itself, so a read that races a reload is tried again.
async fn rows(c: &Client) -> Vec<(String, i64, String)> {
    for _ in 0..20 {
        if let Some(r) = rows_once(c).await {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the installation rows could not be read");
}

async fn rows_once(c: &Client) -> Option<Vec<(String, i64, String)>> {
    let mut out = Vec::new();
    for tr in c.find_all(Locator::Css("tr.installation")).await.ok()? {
        let provider = tr.attr("data-provider").await.ok()??;
        let generation = tr.attr("data-generation").await.ok()??.parse().ok()?;
        let live = tr.attr("data-live").await.ok()??;
        out.push((provider, generation, live));
    }
    out.sort();
    Some(out)
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("SCREENSHOT_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "needs chromium and chromium-driver: run by .ci/browser"]
fn install_flow_in_a_real_browser() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let driver = start_driver();
    let result = runtime
        .block_on(async { tokio::time::timeout(WHOLE_TEST, scenarios(&driver, tmp.path())).await });
    // Browser and chromedriver go first, then the servers (with the runtime).
    drop(driver);
    drop(runtime);
    if result.is_err() {
        panic!("the browser test took longer than {WHOLE_TEST:?}");
    }
}

async fn scenarios(driver: &Driver, tmp: &Path) {
    let shots = screenshot_dir();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let provider = local::start_provider(&base, LIFETIME).expect("built-in provider starts");
    let db = tmp.join("app.db");
    let config = local::config(
        &provider,
        addr,
        &base,
        &format!("sqlite:{}", db.display()),
        LIFETIME,
    );
    let (store, used) = open_sqlite(db.to_str().unwrap()).unwrap();
    let app = App::new(config, store, used).unwrap();
    let cap = Arc::new(Mutex::new(Capture::default()));
    let router = app.router().layer(axum::middleware::from_fn_with_state(
        Arc::clone(&cap),
        capture,
    ));
    let refresher = app.manager().spawn_refresher();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let stored = || async { app.manager().store().list().await.unwrap() };

    let spki = provider.leaf_spki_sha256_base64();
    let b1 = browser(driver, &tmp.join("profile-1"), &spki).await;
    if let Some(caps) = b1.capabilities() {
        println!(
            "browser: {} {}",
            caps.get("browserName")
                .and_then(|v| v.as_str())
                .unwrap_or("?"),
            caps.get("browserVersion")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
        );
    }

    // 1. Deny.
    b1.goto(&format!("{base}/")).await.unwrap();
    wait_for(&b1, "empty").await;
    click(&b1, "install-pinterest").await;
    click(&b1, "install").await;
    wait_for(&b1, "deny").await;
    screenshot(&b1, &shots, "consent.png").await;
    click(&b1, "deny").await;
    let text = wait_for(&b1, "denied").await;
    println!("deny: {text}");
    assert!(text.contains("declined"), "{text}");
    screenshot(&b1, &shots, "denied.png").await;
    assert!(stored().await.is_empty(), "a denial stored something");
    println!("scenario deny: denial page shown, nothing stored");

    // 2. Slack, with the redirect held and replayed.
    cap.lock().unwrap().hold = true;
    b1.goto(&format!("{base}/slack/install")).await.unwrap();
    click(&b1, "install").await;
    click(&b1, "allow").await;
    wait_for(&b1, "held").await;
    let held = cap.lock().unwrap().held.clone().expect("a held redirect");
    let held_url = format!("{base}{held}");
    assert!(held.contains("code=") && held.contains("state="), "{held}");

    let b2 = browser(driver, &tmp.join("profile-2"), &spki).await;
    b2.goto(&held_url).await.unwrap();
    let text = wait_for(&b2, "not-this-browser").await;
    println!("fresh profile replay: {text}");
    screenshot(&b2, &shots, "replay-other-browser.png").await;
    assert!(
        stored().await.is_empty(),
        "a foreign browser's redirect stored something"
    );
    assert_eq!(
        app.used_states().count().await.unwrap(),
        0,
        "the nonce was burnt"
    );
    let _ = b2.close().await;
    println!("scenario replay in a fresh profile: refused, nothing stored");

    // The binding cookie as the browser holds it (WebDriver reads HttpOnly cookies).
    let binding = b1
        .get_named_cookie("picoauth_install_slack")
        .await
        .expect("the install page set the binding cookie");
    assert_eq!(binding.http_only(), Some(true));
    assert_eq!(format!("{:?}", binding.same_site()), "Some(Lax)");
    b1.goto(&held_url).await.unwrap();
    let text = wait_for(&b1, "installed").await;
    println!("slack: {text}");
    let after_install = stored().await;
    assert_eq!(after_install.len(), 1);
    let generation = after_install[0].generation;

    // Replayed in the same browser: the app dropped the cookie after use, so refused.
    b1.goto(&held_url).await.unwrap();
    let text = wait_for(&b1, "not-this-browser").await;
    println!("same-browser replay: {text}");
    // Even with the cookie put back, the state is single-use: refused.
    b1.goto(&format!("{base}/")).await.unwrap();
    b1.add_cookie(binding).await.expect("cookie restored");
    b1.goto(&held_url).await.unwrap();
    let text = wait_for(&b1, "replayed").await;
    println!("same-browser replay with the cookie restored: {text}");
    screenshot(&b1, &shots, "replay-same-browser.png").await;
    let again = stored().await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].generation, generation,
        "the replay wrote the installation"
    );
    println!("scenario replay after success: refused (cookie gone; state spent), nothing stored");

    // 3. Pinterest.
    b1.goto(&format!("{base}/pinterest/install")).await.unwrap();
    screenshot(&b1, &shots, "install-page.png").await;
    click(&b1, "install").await;
    click(&b1, "allow").await;
    let text = wait_for(&b1, "installed").await;
    println!("pinterest: {text}");
    assert_eq!(stored().await.len(), 2);

    // 4. Both listed, live.
    b1.goto(&format!("{base}/")).await.unwrap();
    wait_for(&b1, "installations").await;
    let before = rows(&b1).await;
    println!("rows: {before:?}");
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before.iter().all(|(_, _, live)| live == "yes"),
        "{before:?}"
    );
    assert_eq!(
        before.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["Pinterest", "Slack"]
    );
    screenshot(&b1, &shots, "home.png").await;
    let src = b1.source().await.unwrap();
    for s in stored().await {
        let t = s
            .installation
            .tokens
            .credential(picoauth::token_set::Slot::Main)
            .unwrap();
        assert!(
            !src.contains(t.access_token.expose()),
            "an access token is on the page"
        );
        if let Some(r) = &t.refresh_token {
            assert!(!src.contains(r.expose()), "a refresh token is on the page");
        }
    }
    println!("scenario both installed: listed, live, no secret on the page");

    // 5. Two lifetimes, no action: the page reloads itself.
    tokio::time::sleep(LIFETIME * 2 + Duration::from_secs(2)).await;
    let after = rows(&b1).await;
    println!(
        "rows after {:?}: {after:?}",
        LIFETIME * 2 + Duration::from_secs(2)
    );
    assert_eq!(after.len(), 2, "{after:?}");
    for ((p, g0, _), (_, g1, live)) in before.iter().zip(&after) {
        assert!(
            g1 - g0 >= 2,
            "{p}: generation {g0} -> {g1}: not refreshed twice"
        );
        assert_eq!(live, "yes", "{p} not live after two lifetimes");
    }
    screenshot(&b1, &shots, "home-after-refresh.png").await;
    println!(
        "scenario two lifetimes: refreshed without action (generations {:?} -> {:?}), live",
        before.iter().map(|r| r.1).collect::<Vec<_>>(),
        after.iter().map(|r| r.1).collect::<Vec<_>>()
    );

    let _ = b1.close().await;
    refresher.abort();
    let _ = stop_tx.send(());
    let _ = server.await;
    drop(provider);
}
