//! The whole exchange driver (blocking and async) over an in-memory transport that
//! replays the input as the server's answer, for every provider: no panic, no hang,
//! the request written is exactly the encoded one, and the outcome does not depend on
//! the read sizes. Input: `[buffer selector, n, read sizes…, server bytes…]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoauth::exchange::{asynch, blocking};
use picoauth_fuzz::{block_on, check_result, requests, Framed, Replay};

fuzz_target!(|data: &[u8]| {
    let input = Framed::parse(data);
    let cap = input.capacity([4096, 1024, 512], |rest| 256 + usize::from(rest) * 8);
    for req in requests() {
        let expected = req.encoded_len().ok().and_then(|n| {
            let mut v = vec![0u8; n];
            req.encode(&mut v).ok().map(|m| {
                assert_eq!(m, n);
                v
            })
        });

        let mut buf_a = vec![0u8; cap];
        let mut io_a = Replay::new(input.wire, &input.sizes);
        let a = blocking::exchange(&mut io_a, &req, &mut buf_a);
        check_result(&a);
        match (&expected, &a) {
            (Some(want), _) if want.len() <= cap => assert_eq!(&io_a.written, want),
            _ => assert!(io_a.written.is_empty(), "wrote a request that did not fit"),
        }

        let mut buf_b = vec![0u8; cap];
        let mut io_b = Replay::new(input.wire, &[]);
        let b = blocking::exchange(&mut io_b, &req, &mut buf_b);
        assert!(a == b, "read sizes change the outcome:\n{a:?}\n{b:?}");

        let mut buf_c = vec![0u8; cap];
        let mut io_c = Replay::new(input.wire, &input.sizes);
        let c = block_on(asynch::exchange(&mut io_c, &req, &mut buf_c));
        assert!(a == c, "async differs from blocking:\n{a:?}\n{c:?}");
        assert_eq!(io_a.reads, io_c.reads);
    }
});
