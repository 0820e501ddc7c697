//! Reading the token set at boot on an emulated Cortex-M3 (qemu mps2-an385, run with
//! `-icount shift=0` by `size/qemu-boot.sh`): the instructions and peak stack of a
//! normal boot of the firmware example's path: `provision::provision` finds the
//! provisioning region erased (and scans it to make sure), then `TokenStore::load`
//! reads the token set and `provision::load_client` the client id and secret.
//!
//! Setup, not measured: a provisioning image (a Pinterest-shaped set of 216 encoded
//! bytes) is moved into a map of 4 x 1 KiB pages in RAM, then 10 refreshes are
//! persisted, so the map holds superseded items as in service. The measured boot reads
//! a 64 KiB erased provisioning region kept in flash (as the example's 64 KiB sector).
//! Instructions are counted as in `verify.rs` (SysTick under `-icount shift=0`,
//! calibrated); a real STM32F4 adds flash wait states (5 at 168 MHz, mostly hidden by
//! its prefetch and ART cache), so these are instruction counts, not microseconds.
#![no_std]
#![no_main]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use picoauth::exchange::Token;
use picoauth::json::pinterest::{self, Pinterest};
use picoauth::provision::Image;
use picoauth::token_set::{Slot, TokenSet};
use picoauth::ClientSecret;
use picoauth_embassy::persist::TokenStore;
use picoauth_embassy::provision::{load_client, provision, Provisioned};
use picoauth_size::semihosting::{fail, halt};
use picoauth_size::stack;
use picoauth_size::systick::{start, ticks};

const PAGE: usize = 1024;
const MAP_PAGES: usize = 4;
/// The erased provisioning region read at boot: 64 KiB, in flash.
static BLANK_REGION: [u8; 64 * 1024] = [0xFF; 64 * 1024];

type Set = TokenSet<256, 64>;

#[derive(Debug)]
struct Refused;

impl NorFlashError for Refused {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// NOR flash in a byte slice (RAM for the map and the setup region, flash for the
/// erased region, which is only read).
struct Nor<'a> {
    mem: Option<&'a mut [u8]>,
    ro: &'a [u8],
}

impl ErrorType for Nor<'_> {
    type Error = Refused;
}

impl ReadNorFlash for Nor<'_> {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Refused> {
        let o = offset as usize;
        let src = match &self.mem {
            Some(m) => &m[..],
            None => self.ro,
        };
        bytes.copy_from_slice(src.get(o..o + bytes.len()).ok_or(Refused)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.as_ref().map_or(self.ro.len(), |m| m.len())
    }
}

impl NorFlash for Nor<'_> {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Refused> {
        let m = self.mem.as_mut().ok_or(Refused)?;
        m.get_mut(from as usize..to as usize)
            .ok_or(Refused)?
            .fill(0xFF);
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Refused> {
        let m = self.mem.as_mut().ok_or(Refused)?;
        let o = offset as usize;
        for (c, b) in m
            .get_mut(o..o + bytes.len())
            .ok_or(Refused)?
            .iter_mut()
            .zip(bytes)
        {
            *c &= *b;
        }
        Ok(())
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn answer(tag: u32, f: impl FnOnce(&Token<'_>)) {
    let mut json = [0u8; 256];
    let mut w = Cursor {
        buf: &mut json,
        at: 0,
    };
    let _ = core::fmt::write(
        &mut w,
        format_args!(
            r#"{{"access_token":"pina_{tag:04}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","refresh_token":"pinr_{tag:04}_RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR","expires_in":2592000,"scope":"boards:read pins:read"}}"#
        ),
    );
    let n = w.at;
    match pinterest::parse(&json[..n]) {
        Ok(Pinterest::Token(t)) => f(&Token::Pinterest(t)),
        _ => fail("answer"),
    }
}

/// The token map over all of `mem` (RAM standing in for the map's flash pages).
fn map(mem: &mut [u8]) -> TokenStore<Nor<'_>> {
    let len = mem.len() as u32;
    TokenStore::new(
        Nor {
            mem: Some(mem),
            ro: &[],
        },
        0..len,
    )
    .unwrap_or_else(|_| fail("store"))
}

struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.at + s.len();
        self.buf
            .get_mut(self.at..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.at = end;
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    let (mut syst, per_k) = start();
    let insns = |t: u64| t * per_k / 1000;

    // Setup: an image moved into the map, then 10 refreshes.
    let mut map_mem = [0xFFu8; PAGE * MAP_PAGES];
    let mut setup_region = [0xFFu8; PAGE * 2];
    let mut buf = [0u8; 4096];
    let mut set: Option<Set> = None;
    answer(9999, |t| set = Set::from_token(t, 1_000).ok());
    let Some(mut set) = set else { fail("set") };
    let mut encoded = [0u8; 512];
    let n = set.encode(&mut encoded).unwrap_or_else(|_| fail("encode"));
    let image = Image {
        id: 42,
        client_id: "1234567",
        client_secret: Some(ClientSecret::new("pinterest-client-secret")),
        token_set: &encoded[..n],
    };
    image
        .encode(&mut setup_region)
        .unwrap_or_else(|_| fail("image"));
    {
        let mut store = map(&mut map_mem);
        let mut region = Nor {
            mem: Some(&mut setup_region),
            ro: &[],
        };
        let r = block_on(provision::<_, _, 256, 64>(
            &mut region,
            0..(2 * PAGE) as u32,
            &mut store,
            &mut buf,
        ));
        if r != Ok(Provisioned::Moved { id: 42 }) {
            fail("provision");
        }
        for i in 0..10u32 {
            let mut ok = false;
            answer(i, |t| {
                ok = block_on(store.apply_refresh(
                    &mut set,
                    t,
                    2_000 + u64::from(i),
                    Slot::Main,
                    &mut buf,
                ))
                .is_ok();
            });
            if !ok {
                fail("refresh");
            }
        }
    }

    // The measured boot.
    let mut store = map(&mut map_mem);
    let mut blank = Nor {
        mem: None,
        ro: &BLANK_REGION,
    };
    let t0 = ticks(&mut syst);
    let (what, s_prov) = stack::peak_within(16 * 1024, || {
        block_on(provision::<_, _, 256, 64>(
            &mut blank,
            0..BLANK_REGION.len() as u32,
            &mut store,
            &mut buf,
        ))
    });
    let t1 = ticks(&mut syst);
    let (loaded, s_load) =
        stack::peak_within(16 * 1024, || block_on(store.load::<256, 64>(&mut buf)));
    let t2 = ticks(&mut syst);
    let loaded = match loaded {
        Ok(Some(l)) => l,
        _ => fail("load"),
    };
    let mut client_buf = [0u8; 1024];
    let (client_ok, s_client) = stack::peak_within(
        16 * 1024,
        || matches!(block_on(load_client(&mut store, &mut client_buf)), Ok(Some(c)) if c.client_id == "1234567"),
    );
    let t3 = ticks(&mut syst);
    hprintln!(
        "boot: provisioning check of a 64 KiB erased region {} instructions ({} B stack); token set load {} instructions ({} B stack); client load {} instructions ({} B stack); total {} instructions",
        insns(t1 - t0),
        s_prov,
        insns(t2 - t1),
        s_load,
        insns(t3 - t2),
        s_client,
        insns(t3 - t0)
    );
    if what == Ok(Provisioned::Nothing) && loaded == set && client_ok {
        hprintln!("boot: all checks passed");
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        fail("boot results");
    }
    halt()
}
