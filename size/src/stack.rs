//! Peak stack use by painting: the free stack below the caller is filled with a
//! pattern, the measured function runs, and the lowest overwritten word tells how
//! deep it went. Hand-written (a few lines) because the usual crates paint the whole
//! stack once at boot, and here each call is measured on its own.

/// How much free stack below the caller is painted and checked.
const DEPTH: usize = 8 * 1024;
const PAINT: u32 = 0x5AA5_C33C;

/// Runs `f` and returns its result with the bytes of stack it used (from the
/// caller's stack pointer down to the deepest word it wrote, call overhead included).
#[inline(never)]
pub fn peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    peak_within(DEPTH, f)
}

/// [`peak`] with `depth` bytes of free stack painted and checked instead of 8 KiB.
#[inline(never)]
pub fn peak_within<R>(depth: usize, f: impl FnOnce() -> R) -> (R, usize) {
    let sp: usize;
    // SAFETY: reads the stack pointer register; no memory is touched.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    let bottom = (sp - depth) & !3;
    // Paint [bottom, sp - 16): everything below the live frame is free stack. The
    // loop itself makes no calls, so it writes nothing below `sp`.
    let mut p = bottom;
    while p < sp - 16 {
        // SAFETY: `p` is word-aligned free stack inside RAM (the harness uses far
        // less than 64 KiB - DEPTH for statics), below the live frames.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    let r = f();
    let mut p = bottom;
    // SAFETY: as above; reading the words painted a moment ago.
    while p < sp - 16 && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    (r, sp - p)
}
