//! Power loss at every write: a NOR-flash double cuts power at the N-th word
//! write or page erase of a sequence of refresh-and-persist steps, for every N from
//! 0 to past the last write, in three ways (the N-th operation does not happen; it
//! happens but is reported failed; it is torn: half a word programmed, half a page
//! erased); the flash is then "rebooted" (the map reopened on the
//! same bytes) and must hold the complete old or the complete new token set.
//! Also measures flash wear per refresh.
//!
//! Run: `cargo test -p picoauth-embassy --features persist --test power_loss -- --nocapture`

use embedded_storage_async::nor_flash::NorFlashErrorKind;
use picoauth::exchange::Token;
use picoauth::json::pinterest::{self, Pinterest};
use picoauth::token_set::{Slot, TokenSet};
use picoauth_embassy::persist::{buffer_len, PersistError, TokenStore};

use picoauth_test_support::flash::{CutFlash, PAGE, WORD};
use picoauth_test_support::ready::block_on;

const PAGES: usize = 4;
/// Refreshes in the interrupted sequence: enough to fill the pages and make the map
/// erase and garbage-collect several times.
const REFRESHES: usize = 24;
const BUF: usize = 2048;

type Set = TokenSet<256, 64>;

/// The provider's answer to refresh number `i`: a new access token and a rotated
/// refresh token, each 80+ bytes like Pinterest's.
fn answer_json(i: usize) -> String {
    format!(
        r#"{{"access_token":"pina_{i:04}_{}","refresh_token":"pinr_{i:04}_{}","expires_in":2592000,"refresh_token_expires_in":31536000,"scope":"boards:read pins:read"}}"#,
        "A".repeat(80),
        "R".repeat(80)
    )
}

fn with_token<R>(json: &str, f: impl FnOnce(&Token<'_>) -> R) -> R {
    let Ok(Pinterest::Token(t)) = pinterest::parse(json.as_bytes()) else {
        panic!("test answer does not parse: {json}");
    };
    f(&Token::Pinterest(t))
}

fn range() -> core::ops::Range<u32> {
    0..(PAGE * PAGES) as u32
}

/// Provisioned flash (the first set stored) and the expected set after each refresh:
/// `sets[0]` provisioned, `sets[i + 1]` after refresh `i`.
fn provisioned() -> (Vec<u8>, Vec<Set>) {
    let first = with_token(&answer_json(9999), |t| Set::from_token(t, 1_000)).unwrap();
    let mut sets = vec![first.clone()];
    let mut cur = first;
    for i in 0..REFRESHES {
        with_token(&answer_json(i), |t| cur.apply(t, 2_000 + i as u64)).unwrap();
        sets.push(cur.clone());
    }
    let mut store =
        TokenStore::new(CutFlash::new(vec![0xFF; PAGE * PAGES], None), range()).unwrap();
    let mut buf = [0u8; BUF];
    block_on(store.save(&sets[0], &mut buf)).unwrap();
    (store.into_flash().mem, sets)
}

/// Runs the refreshes on `mem` with power cut after `budget` operations. Returns the
/// flash, the number of refreshes that completed, and the double's counters.
fn refresh_run(mem: Vec<u8>, start: &Set, budget: Option<usize>, mode: u8) -> (CutFlash, usize) {
    let mut flash = CutFlash::new(mem, budget);
    flash.lands = mode == 1;
    flash.torn = mode == 2;
    let mut store = TokenStore::new(flash, range()).unwrap();
    let mut set = start.clone();
    let mut buf = [0u8; BUF];
    let mut done = 0;
    for i in 0..REFRESHES {
        let before = set.clone();
        let r = with_token(&answer_json(i), |t| {
            block_on(store.apply_refresh(&mut set, t, 2_000 + i as u64, Slot::Main, &mut buf))
                .map(|c| c.access_token.expose().to_owned())
        });
        match r {
            Ok(access) => {
                assert!(access.starts_with(&format!("pina_{i:04}_")));
                done += 1;
            }
            Err(e) => {
                assert_eq!(e, PersistError::Flash(NorFlashErrorKind::Other));
                // The caller's set is untouched when the persist failed.
                assert!(set == before, "set changed by a failed persist");
                break;
            }
        }
    }
    (store.into_flash(), done)
}

#[test]
fn power_cut_at_every_write_leaves_old_or_new() {
    let (mem0, sets) = provisioned();
    let (full, done) = refresh_run(mem0.clone(), &sets[0], None, 0);
    assert_eq!(done, REFRESHES);
    let total = full.words_written + full.erases;
    assert!(
        full.erases > 0,
        "the sequence must reach page erases (garbage collection)"
    );
    assert_eq!(full.double_writes, 0);

    let (mut old, mut new, mut points) = (0usize, 0usize, 0usize);
    for (n, mode) in (0..=total).flat_map(|n| [(n, 0), (n, 1), (n, 2)]) {
        points += 1;
        let (cut, done) = refresh_run(mem0.clone(), &sets[0], Some(n), mode);
        assert!(n == total || cut.off, "cut {n} never happened");
        // Reboot: the same bytes, power back.
        let mut store = TokenStore::new(CutFlash::new(cut.mem, None), range()).unwrap();
        let mut buf = [0u8; BUF];
        let got: Set = block_on(store.load(&mut buf))
            .unwrap_or_else(|e| panic!("cut {n} mode {mode}: load failed: {e}"))
            .unwrap_or_else(|| panic!("cut {n} mode {mode}: token set missing"));
        // `done` refreshes completed; the one in flight may or may not have landed.
        if got == sets[done] {
            old += 1;
        } else if done < REFRESHES && got == sets[done + 1] {
            new += 1;
        } else {
            panic!("cut {n} mode {mode}: read back neither the old nor the new set");
        }
        // The map is usable after the reboot: another refresh persists.
        let mut set = got;
        let json = answer_json(500);
        let access = with_token(&json, |t| {
            block_on(store.apply_refresh(&mut set, t, 9_000, Slot::Main, &mut buf))
                .map(|c| c.access_token.expose().to_owned())
        })
        .unwrap_or_else(|e| panic!("cut {n} mode {mode}: refresh after reboot failed: {e}"));
        assert!(access.starts_with("pina_0500_"));
        let reread: Set = block_on(store.load(&mut buf)).unwrap().unwrap();
        assert!(reread == set, "cut {n}: refresh after reboot not read back");
    }
    println!(
        "power_loss: {points} interruption points (cut before, after or tearing each of the {total} operations \
         ({} word writes + {} page erases over {REFRESHES} refreshes) and after the last); \
         read back the old set {old} times, the new set {new} times",
        full.words_written,
        full.erases
    );
    assert_eq!(old + new, points);
    // Cuts during a refresh's last word write (the item's commit) land the new set.
    assert!(old > 0 && new > 0);
    assert!(
        full.erases >= 2,
        "garbage collection must be reached more than once"
    );
}

#[test]
fn flash_wear_per_refresh() {
    const N: usize = 1_000;
    let (mem0, sets) = provisioned();
    let encoded = sets[1].encoded_len().unwrap();
    assert!(buffer_len(encoded) <= BUF);
    let mut store = TokenStore::new(CutFlash::new(mem0, None), range()).unwrap();
    let mut set = sets[0].clone();
    let mut buf = [0u8; BUF];
    for i in 0..N {
        let json = answer_json(i % 10_000);
        with_token(&json, |t| {
            block_on(store.apply_refresh(&mut set, t, 2_000 + i as u64, Slot::Main, &mut buf))
                .map(|_| ())
        })
        .unwrap();
    }
    let back: Set = block_on(store.load(&mut buf)).unwrap().unwrap();
    assert!(back == set);
    let flash = store.into_flash();
    let bytes_per_refresh = flash.words_written * WORD / N;
    println!(
        "flash wear ({PAGES} pages of {PAGE} bytes, {WORD}-byte words, token set encoded in {encoded} bytes): \
         {bytes_per_refresh} bytes written per refresh, {} page erases per {N} refreshes",
        flash.erases
    );
    assert_eq!(flash.double_writes, 0);
    // Each refresh writes the item (header, key, value) and little else.
    assert!(bytes_per_refresh >= encoded && bytes_per_refresh < encoded + 64);
    assert!(flash.erases > 0 && flash.erases <= N);
}

#[test]
fn refused_answer_writes_nothing() {
    let (mem0, sets) = provisioned();
    let mut store = TokenStore::new(CutFlash::new(mem0, None), range()).unwrap();
    let mut set = sets[0].clone();
    let mut buf = [0u8; BUF];
    // A Slack answer for a Pinterest set: typed error, nothing written.
    let slack = br#"{"ok":true,"access_token":"xoxb-1","token_type":"bot","scope":"chat:write"}"#;
    let Ok(picoauth::json::slack::SlackV2::Token(t)) = picoauth::json::slack::parse_v2(slack)
    else {
        panic!("slack fixture");
    };
    let r =
        block_on(store.apply_refresh(&mut set, &Token::SlackV2(t), 3_000, Slot::Main, &mut buf));
    assert!(matches!(r, Err(PersistError::TokenSet(_))));
    assert!(set == sets[0]);
    let flash = store.into_flash();
    assert_eq!(flash.words_written, 0);
    assert_eq!(flash.erases, 0);
}

#[test]
fn small_buffer_is_a_typed_error() {
    let (mem0, sets) = provisioned();
    let mut store = TokenStore::new(CutFlash::new(mem0, None), range()).unwrap();
    let mut buf = [0u8; 64];
    let r = block_on(store.save(&sets[1], &mut buf));
    assert!(matches!(r, Err(PersistError::BufferTooSmall(n)) if n > 64));
    // And a range that is not two pages is refused.
    assert!(matches!(
        TokenStore::new(CutFlash::new(vec![0xFF; PAGE], None), 0..PAGE as u32),
        Err(PersistError::Storage)
    ));
}
