//! What the Cortex-M harness binaries (`vectors`, `verify`, `boot`) share: the fixtures
//! with their expected answers, the painted-stack meter, the semihosting exit, and
//! SysTick instruction counting. The `probe` binary uses none of it, so its `.text`
//! holds only what it measures.
#![no_std]

pub mod fixtures;
pub mod semihosting;
pub mod stack;
pub mod systick;
