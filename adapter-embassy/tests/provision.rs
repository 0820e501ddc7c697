//! Provisioning on first boot (feature `provision`): the image moved into the map bit
//! for bit, every bad image a typed error, a power cut at every flash operation of
//! the move and the erase still boots with the right token set, and the cost of
//! reading the token set at boot.
//!
//! Run: `cargo test -p picoauth-embassy --features provision --test provision -- --nocapture`

use core::cell::RefCell;
use std::rc::Rc;

use embedded_storage_async::nor_flash::{ErrorType, NorFlash, ReadNorFlash};
use picoauth::exchange::Token;
use picoauth::json::pinterest::{self, Pinterest};
use picoauth::provision::{Image, ImageError, HEADER_LEN, TRAILER_LEN};
use picoauth::token_set::{CodecError, Slot, TokenSet};
use picoauth::ClientSecret;
use picoauth_embassy::persist::{PersistError, TokenStore, REFUSAL_KEY};
use picoauth_embassy::provision::{
    load_client, provision, ProvisionError, Provisioned, CLIENT_KEY,
};
use sequential_storage::cache::Cache;
use sequential_storage::map::{MapConfig, MapStorage};

use picoauth_test_support::flash::{CutFlash, PowerOff, PAGE, WORD};
use picoauth_test_support::ready::block_on;

/// The map's pages, then the provisioning region's.
const MAP_PAGES: usize = 4;
const REGION_PAGES: usize = 2;
const BUF: usize = 4096;

type Set = TokenSet<256, 64>;

/// What a boot found: what provisioning did, the stored set, the stored client (id,
/// client id, secret).
type Boot = (
    Provisioned,
    Option<Set>,
    Option<(u64, String, Option<String>)>,
);

/// One part of a flash shared by the map and the provisioning region (one power
/// budget for both, as on a chip's internal flash).
#[derive(Clone)]
struct Part {
    flash: Rc<RefCell<CutFlash>>,
    base: u32,
    len: usize,
}

impl ErrorType for Part {
    type Error = PowerOff;
}

impl ReadNorFlash for Part {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), PowerOff> {
        // The double's futures are ready at once: no borrow is held across a wait.
        block_on(self.flash.borrow_mut().read(self.base + offset, bytes))
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl NorFlash for Part {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), PowerOff> {
        block_on(
            self.flash
                .borrow_mut()
                .erase(self.base + from, self.base + to),
        )
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), PowerOff> {
        block_on(self.flash.borrow_mut().write(self.base + offset, bytes))
    }
}

/// A device: the shared flash, its map part and its provisioning part.
struct Device {
    flash: Rc<RefCell<CutFlash>>,
}

impl Device {
    fn new(mem: Vec<u8>, budget: Option<usize>, mode: u8) -> Self {
        let mut f = CutFlash::new(mem, budget);
        f.lands = mode == 1;
        f.torn = mode == 2;
        Self {
            flash: Rc::new(RefCell::new(f)),
        }
    }

    fn blank() -> Self {
        Self::new(vec![0xFF; PAGE * (MAP_PAGES + REGION_PAGES)], None, 0)
    }

    fn map(&self) -> TokenStore<Part> {
        let part = Part {
            flash: Rc::clone(&self.flash),
            base: 0,
            len: PAGE * MAP_PAGES,
        };
        TokenStore::new(part, 0..(PAGE * MAP_PAGES) as u32).unwrap()
    }

    fn region(&self) -> Part {
        Part {
            flash: Rc::clone(&self.flash),
            base: (PAGE * MAP_PAGES) as u32,
            len: PAGE * REGION_PAGES,
        }
    }

    fn region_bytes(&self) -> Vec<u8> {
        self.flash.borrow().mem[PAGE * MAP_PAGES..].to_vec()
    }

    /// `probe-rs download` of an image file: the region erased, then written.
    fn flash_image(&self, image: &[u8]) {
        let mut f = self.flash.borrow_mut();
        let region = &mut f.mem[PAGE * MAP_PAGES..];
        region.fill(0xFF);
        region[..image.len()].copy_from_slice(image);
    }

    /// One boot: provisioning, then the token set and the client read back.
    fn boot(&self) -> Result<Boot, ProvisionError> {
        let mut store = self.map();
        let mut region = self.region();
        let mut buf = [0u8; BUF];
        let range = 0..(PAGE * REGION_PAGES) as u32;
        let what = block_on(provision::<_, _, 256, 64>(
            &mut region,
            range,
            &mut store,
            &mut buf,
        ))?;
        assert!(buf.iter().all(|&b| b == 0), "the buffer is wiped");
        let set = block_on(store.load::<256, 64>(&mut buf))?;
        let client = block_on(load_client(&mut store, &mut buf))?.map(|c| {
            (
                c.id,
                c.client_id.to_owned(),
                c.client_secret.map(|s| s.expose().to_owned()),
            )
        });
        Ok((what, set, client))
    }

    fn power_on(&self) {
        let mut f = self.flash.borrow_mut();
        f.off = false;
        f.budget = None;
        f.lands = false;
        f.torn = false;
    }
}

fn with_token<R>(json: &str, f: impl FnOnce(&Token<'_>) -> R) -> R {
    let Ok(Pinterest::Token(t)) = pinterest::parse(json.as_bytes()) else {
        panic!("test answer does not parse: {json}");
    };
    f(&Token::Pinterest(t))
}

fn answer_json(tag: &str) -> String {
    format!(
        r#"{{"access_token":"pina_{tag}_{}","refresh_token":"pinr_{tag}_{}","expires_in":2592000,"refresh_token_expires_in":31536000,"scope":"boards:read pins:read"}}"#,
        "A".repeat(80),
        "R".repeat(80)
    )
}

fn set(tag: &str) -> Set {
    with_token(&answer_json(tag), |t| Set::from_token(t, 1_000)).unwrap()
}

fn encoded(set: &Set) -> Vec<u8> {
    let mut out = vec![0u8; set.encoded_len().unwrap()];
    set.encode(&mut out).unwrap();
    out
}

fn image_bytes(id: u64, client_id: &str, secret: Option<&str>, token_set: &[u8]) -> Vec<u8> {
    let image = Image {
        id,
        client_id,
        client_secret: secret.map(ClientSecret::new),
        token_set,
    };
    let mut out = vec![0u8; image.encoded_len().unwrap()];
    image.encode(&mut out).unwrap();
    out
}

/// Rewrites the CRC after a test changed a byte.
fn reseal(image: &mut [u8]) {
    let n = image.len() - TRAILER_LEN;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&image[..n]);
    image[n..].copy_from_slice(&crc.to_le_bytes());
}

const ID: u64 = 0x5eed_0000_0000_0001;

#[test]
fn first_boot_moves_bit_for_bit_then_erases() {
    let dev = Device::blank();
    let first = set("first");
    let image = image_bytes(ID, "1234567", Some("pinterest-secret"), &encoded(&first));
    dev.flash_image(&image);

    let (what, stored, client) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Moved { id: ID });
    let stored = stored.unwrap();
    assert!(stored == first);
    assert_eq!(encoded(&stored), encoded(&first), "bit for bit");
    assert_eq!(
        client,
        Some((ID, "1234567".into(), Some("pinterest-secret".into())))
    );
    assert!(
        dev.region_bytes().iter().all(|&b| b == 0xFF),
        "region erased"
    );

    // A refresh, then a reboot: the region is empty, the refreshed set stays.
    let mut store = dev.map();
    let mut cur = stored;
    let mut buf = [0u8; BUF];
    with_token(&answer_json("second"), |t| {
        block_on(store.apply_refresh(&mut cur, t, 2_000, Slot::Main, &mut buf)).map(|_| ())
    })
    .unwrap();
    let (what, again, _) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Nothing);
    assert!(again.unwrap() == cur);

    // Re-provisioning with a new image replaces set and client.
    let third = set("third");
    dev.flash_image(&image_bytes(ID + 1, "other", None, &encoded(&third)));
    let (what, stored, client) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Moved { id: ID + 1 });
    assert!(stored.unwrap() == third);
    assert_eq!(client, Some((ID + 1, "other".into(), None)));
}

#[test]
fn blank_device_has_nothing() {
    let dev = Device::blank();
    assert_eq!(dev.boot().unwrap(), (Provisioned::Nothing, None, None));
}

/// Every bad image on a device never provisioned: a typed error, flash untouched.
#[test]
fn every_bad_image_is_a_typed_error() {
    let good = image_bytes(ID, "1234567", Some("s"), &encoded(&set("x")));
    let mut cases: Vec<(&str, Vec<u8>, ImageError)> = Vec::new();
    let mut b = good.clone();
    b[0] = b'Q';
    cases.push(("magic", b, ImageError::BadMagic));
    let mut b = good.clone();
    b[4] = 7;
    reseal(&mut b);
    cases.push(("version", b, ImageError::UnsupportedVersion(7)));
    let mut b = good.clone();
    b[5] = 1;
    reseal(&mut b);
    cases.push(("reserved", b, ImageError::Reserved));
    let mut b = good.clone();
    b[8..12].copy_from_slice(&((PAGE * REGION_PAGES) as u32).to_le_bytes());
    cases.push(("length past the region", b, ImageError::Length));
    let mut b = good.clone();
    b[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&900u16.to_le_bytes());
    reseal(&mut b);
    cases.push(("field length", b, ImageError::Length));
    let mut b = good.clone();
    let mid = b.len() / 2;
    b[mid] ^= 0x10;
    cases.push(("checksum", b, ImageError::Checksum));
    let mut b = good.clone();
    b[HEADER_LEN + 2] = 0xFF;
    reseal(&mut b);
    cases.push(("client id", b, ImageError::ClientId));
    let mut b = good.clone();
    b[HEADER_LEN + 2 + 7 + 2] = 0xFF;
    reseal(&mut b);
    cases.push(("client secret", b, ImageError::ClientSecret));
    let mut ts = encoded(&set("x"));
    ts[0] = 42;
    cases.push((
        "token-set version",
        image_bytes(ID, "1234567", Some("s"), &ts),
        ImageError::TokenSet(CodecError::UnknownVersion(42)),
    ));
    let ts = encoded(&set("x"));
    cases.push((
        "token-set truncated",
        image_bytes(ID, "1234567", Some("s"), &ts[..ts.len() - 3]),
        ImageError::TokenSet(CodecError::Malformed),
    ));
    // A token over the firmware's capacity: a set of 512-byte tokens into 256.
    let big: TokenSet<512, 64> = with_token(&answer_json(&"B".repeat(200)), |t| {
        TokenSet::from_token(t, 1_000)
    })
    .unwrap();
    let mut big_bytes = vec![0u8; big.encoded_len().unwrap()];
    big.encode(&mut big_bytes).unwrap();
    cases.push((
        "token over capacity",
        image_bytes(ID, "1234567", Some("s"), &big_bytes),
        ImageError::TokenSet(CodecError::Malformed),
    ));
    cases.push((
        "token set empty",
        image_bytes(ID, "1234567", Some("s"), &[]),
        ImageError::TokenSet(CodecError::Empty),
    ));

    for (name, bytes, want) in cases {
        let dev = Device::blank();
        dev.flash_image(&bytes);
        let before = dev.flash.borrow().mem.clone();
        assert_eq!(
            dev.boot().map(|r| r.0),
            Err(ProvisionError::Image(want)),
            "{name}"
        );
        assert!(dev.flash.borrow().mem == before, "{name}: flash untouched");
    }
}

#[test]
fn bad_range_and_small_buffer_are_typed_errors() {
    let dev = Device::blank();
    dev.flash_image(&image_bytes(ID, "1234567", Some("s"), &encoded(&set("x"))));
    let mut store = dev.map();
    let mut region = dev.region();
    let mut buf = [0u8; BUF];
    for range in [0..0, 1..PAGE as u32, 0..(PAGE * 3) as u32, 0..100] {
        assert_eq!(
            block_on(provision::<_, _, 256, 64>(
                &mut region,
                range.clone(),
                &mut store,
                &mut buf
            )),
            Err(ProvisionError::Range),
            "{range:?}"
        );
    }
    let range = 0..(PAGE * REGION_PAGES) as u32;
    let mut small = [0u8; 64];
    let r = block_on(provision::<_, _, 256, 64>(
        &mut region,
        range,
        &mut store,
        &mut small,
    ));
    let Err(ProvisionError::BufferTooSmall(n)) = r else {
        panic!("{r:?}")
    };
    assert!(n > 64 && n <= BUF, "{n}");
}

#[test]
fn corrupt_client_item_is_corrupted() {
    let dev = Device::blank();
    let mut buf = [0u8; BUF];
    // A client item that is not an image, written with the map's own crate.
    let config = MapConfig::<Part>::try_new(0..(PAGE * MAP_PAGES) as u32).unwrap();
    let mut raw =
        MapStorage::<u8, Part, _>::new(dev.map().into_flash(), config, Cache::new_uncached());
    block_on(raw.store_item(&mut buf, &CLIENT_KEY, &&b"not an image"[..])).unwrap();
    let mut store = dev.map();
    let r = block_on(load_client(&mut store, &mut buf));
    assert_eq!(r, Err(ProvisionError::Persist(PersistError::Corrupted)));
}

/// The client item and the refresh loop's refusal record live side by side in the map.
#[test]
fn client_item_leaves_the_refusal_record_alone() {
    let dev = Device::blank();
    let mut buf = [0u8; BUF];
    let config = MapConfig::<Part>::try_new(0..(PAGE * MAP_PAGES) as u32).unwrap();
    let mut raw =
        MapStorage::<u8, Part, _>::new(dev.map().into_flash(), config, Cache::new_uncached());
    block_on(raw.store_item(&mut buf, &REFUSAL_KEY, &&b"refusal"[..])).unwrap();
    dev.flash_image(&image_bytes(ID, "1234567", Some("s"), &encoded(&set("x"))));
    let (what, _, client) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Moved { id: ID });
    assert_eq!(client.unwrap().1, "1234567");
    let got: Option<&[u8]> = block_on(raw.fetch_item(&mut buf, &REFUSAL_KEY)).unwrap();
    assert_eq!(got, Some(&b"refusal"[..]));
}

#[test]
fn bad_image_on_a_provisioned_device_is_discarded() {
    let dev = Device::blank();
    dev.flash_image(&image_bytes(ID, "1234567", Some("s"), &encoded(&set("x"))));
    dev.boot().unwrap();
    let mut b = image_bytes(ID + 5, "1234567", Some("s"), &encoded(&set("y")));
    let n = b.len();
    b[n / 2..].fill(0xFF); // half erased
    dev.flash_image(&b);
    let (what, stored, _) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Discarded(ImageError::Checksum));
    assert!(stored.unwrap() == set("x"));
    assert!(dev.region_bytes().iter().all(|&b| b == 0xFF));

    // An erased header with secret bytes left after it: found and erased.
    let mut b = image_bytes(ID + 6, "1234567", Some("s"), &encoded(&set("y")));
    let half = b.len() / 2;
    b[..half].fill(0xFF);
    dev.flash_image(&b);
    let (what, _, _) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::Cleared);
    assert!(dev.region_bytes().iter().all(|&b| b == 0xFF));
}

/// A power cut at every word write and page erase of the first boot (move into the
/// map, mark, erase), in the three ways the double knows: the next boot always ends
/// with the image's set and client in the map and the region erased. The same on a
/// device re-provisioned over a refreshed set.
#[test]
fn power_cut_at_every_step_of_provisioning() {
    let old = set("old");
    let new = set("new");
    // A secret long enough that the image runs past half a page: a torn erase (the
    // double erases the first half) then leaves bytes after an erased header.
    let secret = "S".repeat(400);
    let image = image_bytes(ID + 9, "1234567", Some(&secret), &encoded(&new));
    assert!(image.len() > PAGE / 2);

    // Starting flash: blank, and provisioned with `old` (then refreshed) under
    // another id.
    let blank = Device::blank();
    let re = Device::blank();
    re.flash_image(&image_bytes(ID, "1234567", Some("s"), &encoded(&old)));
    re.boot().unwrap();
    let starts = [
        ("first provisioning", blank.flash.borrow().mem.clone()),
        ("re-provisioning", re.flash.borrow().mem.clone()),
    ];

    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    let mut points = 0;
    for (name, start) in &starts {
        // The operations of an uninterrupted first boot.
        let dev = Device::new(start.clone(), None, 0);
        dev.flash_image(&image);
        dev.boot().unwrap();
        let ops = {
            let f = dev.flash.borrow();
            f.words_written + f.erases
        };
        for budget in 0..=ops {
            for mode in 0..3u8 {
                let dev = Device::new(start.clone(), Some(budget), mode);
                dev.flash_image(&image);
                let first = dev.boot();
                let cut = dev.flash.borrow().off;
                dev.power_on();
                let (what, stored, client) = dev.boot().unwrap_or_else(|e| {
                    panic!("{name}: cut after {budget} ops (mode {mode}): reboot failed: {e}")
                });
                assert!(
                    stored.as_ref() == Some(&new),
                    "{name}: cut after {budget} (mode {mode}): wrong set"
                );
                assert_eq!(
                    client,
                    Some((ID + 9, "1234567".into(), Some(secret.clone()))),
                    "{name}: cut after {budget} (mode {mode})"
                );
                assert!(
                    dev.region_bytes().iter().all(|&b| b == 0xFF),
                    "{name}: cut after {budget} (mode {mode}): region left with bytes"
                );
                if cut {
                    points += 1;
                    let key = format!("{:?}", what)
                        .split([' ', '('])
                        .next()
                        .unwrap()
                        .to_owned();
                    *outcomes.entry(key).or_default() += 1;
                } else {
                    assert!(first.is_ok());
                }
            }
        }
    }
    println!("provisioning power cuts: {points} interruption points, reboot outcomes {outcomes:?}");
    // The window between "moved into the map" and "region erased" was hit.
    assert!(
        outcomes.get("AlreadyMoved").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("Moved").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("Cleared").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
}

/// The named case: power is cut after the set and the client are in the map and before
/// the region is erased (the first page erase does not happen). The next boot finds
/// the image already moved, only erases, and boots with the image's set.
#[test]
fn power_cut_between_move_and_erase_boots_with_the_set() {
    let new = set("new");
    let image = image_bytes(ID + 3, "1234567", Some("s3"), &encoded(&new));
    let probe = Device::blank();
    probe.flash_image(&image);
    probe.boot().unwrap();
    let writes = probe.flash.borrow().words_written;

    let dev = Device::new(
        vec![0xFF; PAGE * (MAP_PAGES + REGION_PAGES)],
        Some(writes),
        0,
    );
    dev.flash_image(&image);
    let first = dev.boot();
    assert_eq!(
        first.map(|r| r.0),
        Err(ProvisionError::Region(
            embedded_storage_async::nor_flash::NorFlashErrorKind::Other
        ))
    );
    assert!(
        Image::parse(&dev.region_bytes()).is_ok(),
        "the image is still there"
    );
    dev.power_on();
    let (what, stored, client) = dev.boot().unwrap();
    assert_eq!(what, Provisioned::AlreadyMoved { id: ID + 3 });
    assert!(stored.unwrap() == new);
    assert_eq!(client.unwrap().2.as_deref(), Some("s3"));
    assert!(dev.region_bytes().iter().all(|&b| b == 0xFF));
}

/// The cost of reading the token set at boot on the host double: the flash reads (calls
/// and bytes) of a normal boot (region erased: scanned; map read for the set and the
/// client), and the host time per boot. The bytes are what a device reads; the time
/// is a host's, not a device's.
#[test]
fn boot_read_cost() {
    let dev = Device::blank();
    dev.flash_image(&image_bytes(
        ID,
        "1234567",
        Some("pinterest-secret"),
        &encoded(&set("x")),
    ));
    dev.boot().unwrap();
    // Refresh a few times so the map holds superseded items, as in service.
    let mut store = dev.map();
    let mut cur = set("x");
    let mut buf = [0u8; BUF];
    for i in 0..10 {
        with_token(&answer_json(&format!("r{i}")), |t| {
            block_on(store.apply_refresh(&mut cur, t, 2_000 + i, Slot::Main, &mut buf)).map(|_| ())
        })
        .unwrap();
    }
    drop(store);
    let count = |dev: &Device| {
        let f = dev.flash.borrow();
        (f.reads, f.bytes_read)
    };
    let (r0, b0) = count(&dev);
    let (what, stored, client) = dev.boot().unwrap();
    let (r1, b1) = count(&dev);
    assert_eq!(what, Provisioned::Nothing);
    assert!(stored.unwrap() == cur);
    assert!(client.is_some());

    // The same without the provisioning scan: the map alone.
    let mut store = dev.map();
    let (r2, b2) = count(&dev);
    let _ = block_on(store.load::<256, 64>(&mut buf)).unwrap().unwrap();
    let (r3, b3) = count(&dev);

    let n = 1_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        dev.boot().unwrap();
    }
    let per_boot = t.elapsed() / n;
    println!(
        "boot read: provisioning check + token set + client: {} flash reads, {} bytes \
         (of which the token set alone: {} reads, {} bytes); host time per boot {:?} \
         ({} encoded set bytes, map of {} x {} B pages after 10 refreshes)",
        r1 - r0,
        b1 - b0,
        r3 - r2,
        b3 - b2,
        per_boot,
        encoded(&cur).len(),
        MAP_PAGES,
        PAGE
    );
}
