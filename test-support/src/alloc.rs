//! A counting global allocator: every allocation (`alloc`, `alloc_zeroed`, `realloc`)
//! is counted for the whole process and for the thread that made it; everything is
//! forwarded unchanged to [`System`].
//!
//! A binary or test opts in with
//! `#[global_allocator] static GLOBAL: Counting = Counting;`, then reads [`total`]
//! (all threads: a client's background threads count too) or uses
//! [`count_on_this_thread`] (the test harness's own threads do not disturb it).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use std::alloc::System;

/// The counting allocator: see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

/// Allocations made by every thread of the process.
static TOTAL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` init: no lazy initialisation, so reading it never allocates.
    static ON_THIS_THREAD: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    TOTAL.fetch_add(1, Ordering::Relaxed);
    // `try_with`: during thread teardown the slot may be gone; those do not count here.
    let _ = ON_THIS_THREAD.try_with(|c| c.set(c.get().saturating_add(1)));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same layout as the caller's, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made so far by every thread, when [`Counting`] is the global allocator.
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}

/// Allocations made so far by the current thread, when [`Counting`] is the global
/// allocator.
pub fn on_this_thread() -> u64 {
    ON_THIS_THREAD.with(Cell::get)
}

/// Runs `f` and returns its result with the number of allocations the current thread
/// made meanwhile.
pub fn count_on_this_thread<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = on_this_thread();
    let r = f();
    (r, on_this_thread().saturating_sub(before))
}
