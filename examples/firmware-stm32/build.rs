//! Records the build time: the example's clock starts from it (see `BuildTimeClock`).

use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    println!("cargo:rustc-env=PICOAUTH_BUILD_UNIX_TIME={now}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PICOAUTH_HOST");
}
