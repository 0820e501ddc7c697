//! What the Cortex-M harness binaries (`vectors`, `verify`) share: the fixtures with
//! their expected answers, the painted-stack meter, and the semihosting exit. The
//! `probe` binary uses none of it, so its `.text` holds only what it measures.
#![no_std]

pub mod fixtures;
pub mod semihosting;
pub mod stack;
