#!/usr/bin/env bash
# picoauth-embassy's certificate verifier on an emulated Cortex-M3 (qemu mps2-an385,
# semihosting, `-icount shift=0`): instructions and peak stack of a Slack-shaped RSA
# chain plus its RSA-PSS CertificateVerify, of a P-256 chain plus its ECDSA one, and of
# a P-256 ECDHE for comparison. Exit status: the harness's (it checks the results).
set -euo pipefail
cd "$(dirname "$0")"
. ./qemu-setup.sh
cargo build -q --profile verify --locked --bin verify --target thumbv7m-none-eabi
timeout 600 qemu-system-arm -cpu cortex-m3 -machine mps2-an385 -nographic -icount shift=0 \
  -semihosting-config enable=on,target=native \
  -kernel "$CARGO_TARGET_DIR/thumbv7m-none-eabi/verify/verify"
