//! What picoauth's tests, benches and fuzz targets share, written once:
//!
//! - [`replay`]: an in-memory `embedded-io` (and `embedded-io-async`) transport that
//!   replays a wire image, and one valid request per provider;
//! - [`sources`]: the real provider bodies of `tests/fixtures/` with the HTTP status
//!   `SOURCES.md` gives each;
//! - [`alloc`]: a counting `#[global_allocator]` (per process and per thread);
//! - [`node`]: the Node interop peer (`tests/interop/server.mjs`, panva's
//!   `oidc-provider`) and its line protocol;
//! - `netns` (feature `netns`): the network namespace with a TAP device, the test
//!   binary run again inside it, a DNS responder, the embassy-net stack and the
//!   executor loop that collects a client task's report lines.
//!
//! - `cli` (feature `cli`): the `picoauth` command run in process.
//! - [`ready`]: `block_on` for futures whose I/O is always ready.
//!
//! Not published: it exists for this repository's own tests.

pub mod alloc;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "netns")]
pub mod netns;
pub mod node;
pub mod ready;
pub mod replay;
pub mod sources;
