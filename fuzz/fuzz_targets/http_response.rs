//! The incremental HTTP response reader, fed in fuzzer-chosen pieces three ways
//! (`feed` whole, `feed` in pieces, `spare()`/`advance()` in pieces): no panic, and
//! the same result every way. Input: `[capacity selector, n, sizes…, response…]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoauth_fuzz::{run_advance, run_feed, Framed};

fuzz_target!(|data: &[u8]| {
    let input = Framed::parse(data);
    let cap = input.capacity([4096, 1024, 256], usize::from);
    let (whole, whole_used) = run_feed(input.wire, &[], cap);
    let (split, split_used) = run_feed(input.wire, &input.sizes, cap);
    assert_eq!(whole, split, "feed: split result differs from whole");
    if whole.is_ok() {
        assert_eq!(whole_used, split_used, "feed: consumed bytes differ");
    }
    let advanced = run_advance(input.wire, &input.sizes, cap);
    assert_eq!(whole, advanced, "advance: result differs from feed");
    // Byte by byte re-parses the head on every byte (quadratic): short inputs only,
    // longer ones get single bytes when the fuzzer picks size 1.
    if input.wire.len() <= 256 {
        let bytewise = run_advance(input.wire, &[1], cap);
        assert_eq!(whole, bytewise, "byte by byte differs from feed");
    }
});
