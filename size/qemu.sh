#!/usr/bin/env bash
# The core's test vectors on an emulated Cortex-M3 (qemu lm3s6965evb, semihosting):
# prints "N passed, N failed" and the peak stack of encode and parse; the exit
# status is the harness's.
set -euo pipefail
cd "$(dirname "$0")"
. ./qemu-setup.sh
cargo build -q --release --locked --bin vectors --target thumbv7m-none-eabi
timeout 120 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
  -semihosting-config enable=on,target=native \
  -kernel "$CARGO_TARGET_DIR/thumbv7m-none-eabi/release/vectors"
