//! The refresh loop against scripted in-memory providers ([`Stream`] transports):
//! refresh and persist before return, a flash failure hands nothing out, refusals
//! that need a person are typed and sticky (also across a reboot), 429 `Retry-After`
//! is honoured without touching the network, and the overall deadline ends an
//! exchange with a server that drips bytes or sends endless `1xx` answers.
//!
//! Run: `cargo test -p picoauth-embassy --features persist --test refresh_loop`

mod flash;

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use std::collections::VecDeque;
use std::time::Instant;

use embassy_time::{Duration, Timer};
use flash::{TestFlash, LEN};
use picoauth::exchange::{Answer, Outcome, Token};
use picoauth::json::slack::{self, SlackV2};
use picoauth::provider::{Provider, SLACK_V2};
use picoauth::request::{ClientAuth, TokenRequest};
use picoauth::token_set::{Slot, TokenSet, TokenSetError};
use picoauth_embassy::persist::{buffer_len, PersistError, TokenStore};
use picoauth_embassy::refresh::{classify, Reauthorization, Refusal, State};
use picoauth_embassy::{
    Error, OnAnswer, RefreshError, RefreshLoop, Stage, Stream, Transport, UnixClock,
    EARLIEST_CLOCK_TIME,
};
use picoauth_test_support::ready::block_on;

type Set = TokenSet<256, 64>;
type Loop<'a> = RefreshLoop<'a, TestFlash, TestClock, 256, 64>;

const START: u64 = 1_800_000_000;
const LEEWAY: u64 = 30;

thread_local! {
    static NOW: Cell<u64> = const { Cell::new(START) };
}

/// A wall clock the test sets (one per test thread).
struct TestClock;
impl UnixClock for TestClock {
    fn now() -> u64 {
        NOW.with(Cell::get)
    }
}

fn advance(secs: u64) {
    NOW.with(|n| n.set(n.get() + secs));
}

#[embassy_executor::task(pool_size = 16)]
async fn task(f: Pin<Box<dyn Future<Output = ()>>>, done: &'static AtomicBool) {
    f.await;
    done.store(true, Ordering::SeqCst);
}

/// Runs `f` on an embassy executor on this thread (its timers need one) until it ends;
/// a panic inside fails the test.
fn run(f: impl Future<Output = ()> + 'static) {
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let executor = Box::leak(Box::new(embassy_executor::Executor::new()));
    executor.run_until(
        |spawner| spawner.spawn(task(Box::pin(f), done).expect("spawn")),
        || done.load(Ordering::SeqCst),
    );
}

// ---------------------------------------------------------------------------------------
// Scripted providers.

/// What one connection's server does after reading the request.
#[derive(Clone)]
enum Script {
    /// Sends this whole response, then closes.
    Reply(Vec<u8>),
    /// Sends a response head promising a body, then one byte every `interval`, forever.
    Drip(core::time::Duration),
    /// Sends `100 Continue` every `interval`, forever.
    Interim(core::time::Duration),
}

struct Peer {
    script: Script,
    request: Vec<u8>,
    sent: usize,
}

impl embedded_io_async::ErrorType for Peer {
    type Error = embedded_io_async::ErrorKind;
}

impl embedded_io_async::Write for Peer {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.request.extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl embedded_io_async::Read for Peer {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match &self.script {
            Script::Reply(bytes) => {
                let rest = &bytes[self.sent..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.sent += n;
                Ok(n)
            }
            Script::Drip(interval) => {
                let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
                if self.sent == 0 {
                    buf[..head.len()].copy_from_slice(head);
                    self.sent = head.len();
                    return Ok(head.len());
                }
                Timer::after(Duration::from_micros(interval.as_micros() as u64)).await;
                buf[0] = b' ';
                self.sent += 1;
                Ok(1)
            }
            Script::Interim(interval) => {
                Timer::after(Duration::from_micros(interval.as_micros() as u64)).await;
                let line = b"HTTP/1.1 100 Continue\r\n\r\n";
                buf[..line.len()].copy_from_slice(line);
                self.sent += line.len();
                Ok(line.len())
            }
        }
    }
}

/// A transport whose connections are scripted, one script per exchange; counts them.
struct Scripted {
    scripts: VecDeque<Script>,
    requests: Vec<String>,
    read: core::time::Duration,
    total: core::time::Duration,
}

impl Scripted {
    fn new(scripts: impl IntoIterator<Item = Script>) -> Self {
        Self {
            scripts: scripts.into_iter().collect(),
            requests: Vec::new(),
            read: core::time::Duration::from_secs(5),
            total: core::time::Duration::from_secs(20),
        }
    }
}

impl Transport for Scripted {
    async fn exchange<'b, A: OnAnswer>(
        &mut self,
        req: &TokenRequest<'_>,
        buf: &'b mut [u8],
        on_answer: &mut A,
    ) -> Result<(Answer<'b>, A::Output), Error> {
        let script = self
            .scripts
            .pop_front()
            .expect("an exchange nobody scripted");
        let mut stream = Stream {
            io: Peer {
                script,
                request: Vec::new(),
                sent: 0,
            },
            read: Duration::from_micros(self.read.as_micros() as u64),
            total: Duration::from_micros(self.total.as_micros() as u64),
        };
        let r = stream.exchange(req, buf, on_answer).await;
        self.requests
            .push(String::from_utf8_lossy(&stream.io.request).into_owned());
        r
    }
}

fn http(status: &str, headers: &str, body: &str) -> Script {
    Script::Reply(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn slack_token(n: u32, lifetime: u64) -> String {
    format!(
        r#"{{"ok":true,"access_token":"xoxe.xoxb-1-access{n}","token_type":"bot","refresh_token":"xoxe-1-refresh{n}","expires_in":{lifetime},"scope":"commands","app_id":"A1","bot_user_id":"U1","team":{{"id":"T1","name":"t"}}}}"#
    )
}

fn slack_set(n: u32, lifetime: u64) -> Set {
    let body = slack_token(n, lifetime);
    let SlackV2::Token(t) = slack::parse_v2(body.as_bytes()).expect("parse") else {
        panic!("not a token")
    };
    TokenSet::from_token(&Token::SlackV2(t), TestClock::now()).expect("token set")
}

static PROVIDER: Provider<'static> = SLACK_V2;

fn auth() -> ClientAuth<'static> {
    ClientAuth::basic("111.222", "s3cret".into())
}

/// Flash with token set `n` provisioned.
fn provisioned(n: u32, lifetime: u64) -> TestFlash {
    let flash = TestFlash::new();
    let mut store = TokenStore::new(flash.clone(), 0..LEN as u32).expect("store");
    let mut work = [0u8; 2048];
    block_on(store.save(&slack_set(n, lifetime), &mut work)).expect("provision");
    flash
}

fn stored_access(flash: &TestFlash) -> String {
    let mut store = TokenStore::new(flash.clone(), 0..LEN as u32).expect("store");
    let mut work = [0u8; 2048];
    let set: Set = block_on(store.load(&mut work)).unwrap().unwrap();
    set.credential(Slot::Main)
        .unwrap()
        .access_token
        .expose()
        .to_owned()
}

// ---------------------------------------------------------------------------------------

/// The loop over `store`, refreshing at `provider` with [`auth`] and [`LEEWAY`].
async fn open<'a>(
    store: &'a mut TokenStore<TestFlash>,
    provider: &'a Provider<'a>,
    work: &'a mut [u8],
) -> Loop<'a> {
    RefreshLoop::open(store, provider, auth(), LEEWAY, work)
        .await
        .expect("open the loop")
}

fn store(flash: &TestFlash) -> TokenStore<TestFlash> {
    TokenStore::new(flash.clone(), 0..LEN as u32).expect("store")
}

#[test]
fn a_valid_token_needs_no_exchange_and_an_expiring_one_is_refreshed_and_persisted_first() {
    let flash = provisioned(1, 3600);
    let f = flash.clone();
    run(async move {
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut net = Scripted::new([http("200 OK", "", &slack_token(2, 3600))]);
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        assert_eq!(lp.state(), State::Active);
        assert_eq!(lp.refresh_due_at(), Some(START + 3600 - LEEWAY));
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access1");
        assert!(net.requests.is_empty(), "no exchange for a valid token");

        // Within the leeway: refreshed, and the answer is on flash when it returns.
        advance(3600 - LEEWAY);
        let writes_before = f.0.writes.load(Ordering::SeqCst);
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access2");
        assert!(f.0.writes.load(Ordering::SeqCst) > writes_before);
        assert_eq!(net.requests.len(), 1);
        assert!(
            net.requests[0].contains("refresh_token=xoxe-1-refresh1"),
            "{}",
            net.requests[0]
        );
        assert!(buf.iter().all(|&b| b == 0), "the exchange buffer is wiped");
    });
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access2");
}

#[test]
fn a_clock_not_set_hands_out_nothing_and_sends_nothing() {
    // Expired for a day by the real clock; a clock not set yet (SNTP has not
    // answered) reads a few seconds after 1970 and would call the token valid.
    let flash = provisioned(1, 3600);
    let f = flash.clone();
    run(async move {
        advance(86_400);
        let real = TestClock::now();
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut net = Scripted::new([http("200 OK", "", &slack_token(2, 3600))]);
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        for unset in [0, 42, EARLIEST_CLOCK_TIME - 1] {
            NOW.with(|n| n.set(unset));
            let e = lp.access_token(&mut net, &mut buf).await.unwrap_err();
            assert!(
                matches!(e, RefreshError::ClockNotSet { now } if now == unset),
                "{e:?}"
            );
            assert!(e.to_string().contains("clock not set"), "{e}");
            let e = lp
                .refresh(Slot::Main, &mut net, &mut buf)
                .await
                .unwrap_err();
            assert!(matches!(e, RefreshError::ClockNotSet { .. }), "{e:?}");
        }
        assert!(net.requests.is_empty(), "nothing sent without a clock");
        assert_eq!(lp.state(), State::Active, "not sticky");
        // Once the clock is set, the expired token is refreshed as usual.
        NOW.with(|n| n.set(real));
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access2");
        assert_eq!(net.requests.len(), 1);
    });
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access2");
}

#[test]
fn a_failed_flash_write_hands_out_nothing_and_the_answer_is_written_later() {
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    run(async move {
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut net = Scripted::new([http("200 OK", "", &slack_token(2, 3600))]);
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        f.0.fail.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            let r = lp.access_token(&mut net, &mut buf).await;
            assert!(
                matches!(r, Err(RefreshError::Persist(PersistError::Flash(_)))),
                "{r:?}"
            );
            assert!(lp.has_unsaved_answer(), "the answer is kept in RAM");
        }
        assert_eq!(
            net.requests.len(),
            1,
            "no new exchange while the write fails"
        );
        // Flash works again: the kept answer is written, then handed out.
        f.0.fail.store(false, Ordering::SeqCst);
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access2");
        assert!(!lp.has_unsaved_answer());
        assert_eq!(net.requests.len(), 1);
    });
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access2");
}

#[test]
fn a_failed_flash_write_then_a_power_cut_leaves_the_old_set() {
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    run(async move {
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut net = Scripted::new([http("200 OK", "", &slack_token(2, 3600))]);
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        f.0.fail.store(true, Ordering::SeqCst);
        let r = lp.access_token(&mut net, &mut buf).await;
        assert!(matches!(r, Err(RefreshError::Persist(_))), "{r:?}");
    });
    // Power cut (the loop and its RAM are gone): flash still holds the old set.
    flash.0.fail.store(false, Ordering::SeqCst);
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access1");
}

#[test]
fn an_answer_too_large_for_the_work_buffer_is_kept_in_ram_not_lost() {
    // `work` sized for the provisioned set, as the docs said; the refresh answer's
    // tokens are longer, so its encoding no longer fits.
    let fitted = buffer_len(slack_set(1, 60).encoded_len().unwrap());
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    run(async move {
        let mut net = Scripted::new([http("200 OK", "", &slack_token(1_000_000, 3600))]);
        let mut store = store(&f);
        let mut work = vec![0u8; fitted];
        let mut buf = [0u8; 4096];
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        for _ in 0..2 {
            let r = lp.access_token(&mut net, &mut buf).await.map(|_| ());
            assert!(
                matches!(
                    r,
                    Err(RefreshError::Persist(PersistError::BufferTooSmall(n))) if n > fitted
                ),
                "{r:?}"
            );
            // The provider has rotated: the new refresh token exists only in RAM now.
            assert!(lp.has_unsaved_answer(), "the answer is kept in RAM");
        }
        assert_eq!(
            net.requests.len(),
            1,
            "the dead refresh token is not sent again"
        );
        let main = lp.token_set().credential(Slot::Main).unwrap();
        assert_eq!(
            main.refresh_token.as_ref().unwrap().expose(),
            "xoxe-1-refresh1000000"
        );
        // The caller can still save it with a larger buffer.
        let kept = lp.token_set().clone();
        drop(lp);
        let mut larger = [0u8; 2048];
        store.save(&kept, &mut larger).await.unwrap();
    });
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access1000000");
}

#[test]
fn a_provider_of_another_kind_gets_no_refresh_token() {
    // A Slack token set, and a loop configured with an RFC 6749 provider: its answer
    // could never be applied to the set, so the refresh token must not be sent.
    static OTHER: Provider<'static> = picoauth::provider::Provider::rfc6749(
        picoauth::provider::Endpoint::https("slack.com", "/api/oauth.v2.access"),
    );
    const ANSWER: &str =
        r#"{"access_token":"at2","token_type":"Bearer","refresh_token":"rt2","expires_in":3600}"#;
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    run(async move {
        let mut net = Scripted::new([http("200 OK", "", ANSWER)]);
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut lp = open(&mut store, &OTHER, &mut work).await;
        let r = lp
            .access_token(&mut net, &mut [0u8; 4096])
            .await
            .map(|_| ());
        assert!(
            matches!(
                r,
                Err(RefreshError::Persist(PersistError::TokenSet(
                    TokenSetError::ProviderMismatch
                )))
            ),
            "{r:?}"
        );
        assert!(net.requests.is_empty(), "{:?}", net.requests);
    });
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access1");
}

#[test]
fn the_stores_working_buffer_keeps_no_token() {
    // The map's working buffer holds the encoded set (both tokens in clear) while it
    // is read or written; afterwards it holds nothing, on flash errors too.
    let has = |work: &[u8], token: &str| work.windows(token.len()).any(|w| w == token.as_bytes());
    let flash = provisioned(1, 60);
    let mut store = store(&flash);
    let mut work = [0u8; 2048];
    let _: Set = block_on(store.load(&mut work)).unwrap().unwrap();
    assert!(!has(&work, "xoxe-1-refresh1"), "load left the set in work");
    block_on(store.save(&slack_set(2, 60), &mut work)).unwrap();
    assert!(!has(&work, "xoxe-1-refresh2"), "save left the set in work");
    flash.0.fail.store(true, Ordering::SeqCst);
    assert!(block_on(store.save(&slack_set(3, 60), &mut work)).is_err());
    assert!(
        !has(&work, "xoxe-1-refresh3"),
        "a failed save left the set in work"
    );
}

#[test]
fn reauthorization_is_typed_sticky_and_survives_a_reboot() {
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    run(async move {
        let mut net = Scripted::new([
            http(
                "200 OK",
                "",
                r#"{"ok":false,"error":"invalid_refresh_token"}"#,
            ),
            http("200 OK", "", &slack_token(8, 3600)),
        ]);
        let mut buf = [0u8; 4096];
        for boot in 0..3 {
            // Each boot: a new store and loop over the same flash bytes.
            let mut store = store(&f);
            let mut work = [0u8; 2048];
            let mut lp = open(&mut store, &PROVIDER, &mut work).await;
            if boot > 0 {
                assert_eq!(
                    lp.state(),
                    State::NeedsReauthorization(Reauthorization::InvalidRefreshToken),
                    "remembered across reboot {boot}"
                );
                assert_eq!(lp.refresh_due_at(), None);
            }
            for _ in 0..5 {
                let r = lp.access_token(&mut net, &mut buf).await;
                assert!(
                    matches!(
                        r,
                        Err(RefreshError::NeedsReauthorization(
                            Reauthorization::InvalidRefreshToken
                        ))
                    ),
                    "{r:?}"
                );
            }
            assert_eq!(
                net.requests.len(),
                1,
                "only the first refresh went out (boot {boot})"
            );
        }
        // A new token set provisioned (another refresh token): the refusal no longer
        // applies.
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        store.save(&slack_set(7, 10), &mut work).await.unwrap();
        advance(10);
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        assert_eq!(lp.state(), State::Active);
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access8");
        assert_eq!(net.requests.len(), 2);
    });
}

#[test]
fn retry_after_is_honoured_without_touching_the_network() {
    let flash = provisioned(1, 60);
    advance(60);
    run(async move {
        let mut net = Scripted::new([
            http(
                "429 Too Many Requests",
                "Retry-After: 30\r\n",
                r#"{"ok":false,"error":"ratelimited"}"#,
            ),
            http("200 OK", "", &slack_token(2, 3600)),
        ]);
        let mut store = store(&flash);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        let r = lp.access_token(&mut net, &mut buf).await;
        assert!(
            matches!(
                r,
                Err(RefreshError::RateLimited {
                    retry_after_secs: 30
                })
            ),
            "{r:?}"
        );
        assert_eq!(lp.refresh_due_at(), Some(TestClock::now() + 30));
        for waited in [0, 10, 19] {
            advance(waited);
            let r = lp.access_token(&mut net, &mut buf).await;
            assert!(
                matches!(
                    r,
                    Err(RefreshError::RateLimited {
                        retry_after_secs: 1..=30
                    })
                ),
                "{r:?}"
            );
        }
        assert_eq!(net.requests.len(), 1, "no request while rate limited");
        advance(1);
        let t = lp.access_token(&mut net, &mut buf).await.unwrap();
        assert_eq!(t.expose(), "xoxe.xoxb-1-access2");
        assert_eq!(lp.state(), State::Active);
        assert_eq!(net.requests.len(), 2);
    });
}

fn timed_out_at_the_deadline(script: Script) {
    let flash = provisioned(1, 60);
    advance(60);
    let f = flash.clone();
    let started = Instant::now();
    run(async move {
        let mut net = Scripted::new([script]);
        // Each read succeeds well within its 1-s timeout; only the 2-s deadline can end it.
        net.read = core::time::Duration::from_secs(1);
        net.total = core::time::Duration::from_secs(2);
        let mut store = store(&f);
        let mut work = [0u8; 2048];
        let mut buf = [0u8; 4096];
        let mut lp = open(&mut store, &PROVIDER, &mut work).await;
        let r = lp.access_token(&mut net, &mut buf).await.map(|_| ());
        assert!(
            matches!(
                r,
                Err(RefreshError::Transport(Error::Timeout(Stage::Exchange)))
            ),
            "{r:?}"
        );
        assert_eq!(lp.state(), State::Active, "a timeout is not sticky");
    });
    let took = started.elapsed();
    assert!(
        took >= core::time::Duration::from_millis(1900)
            && took < core::time::Duration::from_secs(6),
        "ended after {took:?}"
    );
    assert_eq!(stored_access(&flash), "xoxe.xoxb-1-access1");
}

#[test]
fn the_deadline_ends_a_server_that_drips_bytes() {
    timed_out_at_the_deadline(Script::Drip(core::time::Duration::from_millis(100)));
}

#[test]
fn the_deadline_ends_endless_interim_answers() {
    // 300 ms apart: fewer than the core's 16-interim limit fit in the 2-s deadline, so
    // the deadline, not that limit, ends it.
    timed_out_at_the_deadline(Script::Interim(core::time::Duration::from_millis(300)));
}

#[test]
fn refusals_are_classified_with_the_typed_codes() {
    use picoauth::exchange::ProviderError;
    use picoauth::json::{pinterest, rfc6749};
    let now = START;
    let slack = |body: &'static str| {
        let SlackV2::Error(e) = slack::parse_v2(body.as_bytes()).unwrap() else {
            panic!("not an error")
        };
        classify(
            &Outcome::Error {
                status: 200,
                error: ProviderError::Slack(e),
            },
            now,
        )
    };
    for (code, want) in [
        (
            "invalid_refresh_token",
            Reauthorization::InvalidRefreshToken,
        ),
        ("invalid_grant", Reauthorization::InvalidGrant),
        ("token_revoked", Reauthorization::TokenRevoked),
        ("token_expired", Reauthorization::TokenExpired),
        ("invalid_auth", Reauthorization::InvalidAuth),
        ("account_inactive", Reauthorization::AccountInactive),
        ("app_uninstalled", Reauthorization::AppUninstalled),
    ] {
        let body: &'static str =
            Box::leak(format!(r#"{{"ok":false,"error":"{code}"}}"#).into_boxed_str());
        assert_eq!(
            slack(body),
            Some(Refusal::NeedsReauthorization(want)),
            "{code}"
        );
    }
    assert_eq!(
        slack(r#"{"ok":false,"error":"bad_client_secret"}"#),
        Some(Refusal::Other { status: 200 })
    );
    let rfc = rfc6749::parse(br#"{"error":"invalid_grant"}"#).unwrap();
    let rfc6749::Rfc6749::Error(e) = rfc else {
        panic!()
    };
    assert_eq!(
        classify(
            &Outcome::Error {
                status: 400,
                error: ProviderError::Rfc6749(e)
            },
            now
        ),
        Some(Refusal::NeedsReauthorization(Reauthorization::InvalidGrant))
    );
    let p = pinterest::parse(br#"{"code":1,"message":"Invalid refresh token."}"#).unwrap();
    let pinterest::Pinterest::Error(e) = p else {
        panic!()
    };
    assert_eq!(
        classify(
            &Outcome::Error {
                status: 400,
                error: ProviderError::Pinterest(e)
            },
            now
        ),
        Some(Refusal::NeedsReauthorization(
            Reauthorization::RefreshTokenRefused
        ))
    );
    assert_eq!(
        classify(
            &Outcome::RateLimited {
                status: 429,
                retry_after: None,
                error: None
            },
            now
        ),
        Some(Refusal::RateLimited {
            retry_after_secs: picoauth_embassy::refresh::DEFAULT_RETRY_AFTER_SECS
        })
    );
    assert_eq!(
        classify(&Outcome::HttpError { status: 502 }, now),
        Some(Refusal::Other { status: 502 })
    );
}
