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
//! - `flash` (feature `flash`): a NOR-flash double that loses power after a budget of
//!   operations (picoauth-embassy's power-loss and provisioning tests);
//! - `postgres` (feature `postgres`): a private PostgreSQL cluster in a temporary
//!   directory, removed on every path;
//! - `lifecycle` (feature `lifecycle`): installations seeded from the built-in provider,
//!   provider settings and managers for the token-lifecycle tests.
//! - [`ready`]: `block_on` for futures whose I/O is always ready.
//!
//! Not published: it exists for this repository's own tests.

pub mod alloc;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "flash")]
pub mod flash;
#[cfg(feature = "lifecycle")]
pub mod lifecycle;
#[cfg(feature = "netns")]
pub mod netns;
pub mod node;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod ready;
pub mod replay;
pub mod sources;
