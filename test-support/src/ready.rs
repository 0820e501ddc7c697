//! Running a future whose I/O is always ready (an in-memory transport or flash
//! double) to completion, with no executor.

use core::future::Future;
use core::task::{Context, Poll, Waker};

/// Polls `f` until it is ready. Its I/O must never wait: a future still pending after
/// 16 polls is a bug in the test double, and panics instead of spinning forever.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("an always-ready future did not complete");
}
