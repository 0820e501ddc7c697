#!/usr/bin/env bash
# Reading the token set at boot on an emulated Cortex-M3 (qemu mps2-an385, semihosting,
# `-icount shift=0`): instructions and peak stack of the firmware example's boot path
# (provisioning check of an erased 64 KiB region, token set, client). Exit status: the
# harness's (it checks the results).
set -euo pipefail
cd "$(dirname "$0")"
. ./qemu-setup.sh
cargo build -q --profile verify --locked --bin boot --target thumbv7m-none-eabi
timeout 300 qemu-system-arm -cpu cortex-m3 -machine mps2-an385 -nographic -icount shift=0 \
  -semihosting-config enable=on,target=native \
  -kernel "$CARGO_TARGET_DIR/thumbv7m-none-eabi/verify/boot"
