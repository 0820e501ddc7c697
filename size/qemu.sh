#!/usr/bin/env bash
# The core's test vectors on an emulated Cortex-M3 (qemu lm3s6965evb, semihosting):
# prints "N passed, N failed" and the peak stack of encode and parse; the exit
# status is the harness's.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/size"
rustup target add thumbv7m-none-eabi >/dev/null 2>&1 || true
if ! command -v qemu-system-arm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
fi
cargo build -q --release --locked --bin vectors --target thumbv7m-none-eabi
timeout 120 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
  -semihosting-config enable=on,target=native \
  -kernel "$CARGO_TARGET_DIR/thumbv7m-none-eabi/release/vectors"
