//! Counting instructions with SysTick under qemu's `-icount shift=0`: [`start`] sets it
//! running and calibrates it, [`ticks`] since it started (wraps included), and
//! [`calibrate`], instructions per 1,000 ticks.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_semihosting::hprintln;

use crate::semihosting::fail;

static WRAPS: AtomicU32 = AtomicU32::new(0);
/// The SysTick reload value the harnesses set: the whole 24-bit range.
pub const RELOAD: u32 = 0x00ff_ffff;

/// Takes SysTick, starts it on the core clock over its whole range, then calibrates it:
/// returns it with the instructions per 1,000 ticks (printed too).
pub fn start() -> (SYST, u64) {
    let mut syst = cortex_m::Peripherals::take()
        .unwrap_or_else(|| fail("peripherals"))
        .SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_counter();
    // The counter reads 0 until its first reload; start from there with COUNTFLAG clear.
    while SYST::get_current() == 0 {}
    let _ = syst.has_wrapped();
    let per_k = calibrate(&mut syst);
    hprintln!("calibration: {} instructions per 1000 SysTick ticks", per_k);
    (syst, per_k)
}

/// SysTick ticks since it started: the 24-bit down-counter plus its wraps, seen through
/// COUNTFLAG. One wrap is 2^24 ticks (hundreds of millions of instructions), far more
/// than any measured call, so polling before and after each call sees every wrap.
pub fn ticks(syst: &mut SYST) -> u64 {
    let cur = SYST::get_current();
    if syst.has_wrapped() {
        WRAPS.fetch_add(1, Ordering::Relaxed);
        // The wrap may have come after `cur` was read: read again.
        let cur = SYST::get_current();
        return u64::from(WRAPS.load(Ordering::Relaxed)) * u64::from(RELOAD + 1)
            + u64::from(RELOAD - cur);
    }
    u64::from(WRAPS.load(Ordering::Relaxed)) * u64::from(RELOAD + 1) + u64::from(RELOAD - cur)
}

/// Instructions per 1,000 ticks, from a loop of exactly 2 instructions per turn.
pub fn calibrate(syst: &mut SYST) -> u64 {
    const TURNS: u32 = 1_000_000;
    let t0 = ticks(syst);
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "subs {0}, #1", "bne 1b", inout(reg) TURNS => _, options(nomem, nostack));
    }
    let t = ticks(syst) - t0;
    2 * u64::from(TURNS) * 1000 / t.max(1)
}
