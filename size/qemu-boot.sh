#!/usr/bin/env bash
# Reading the token set at boot on an emulated Cortex-M3 (qemu mps2-an385, semihosting,
# `-icount shift=0`): instructions and peak stack of the firmware example's boot path
# (provisioning check of an erased 64 KiB region, token set, client). Exit status: the
# harness's (it checks the results).
set -euo pipefail
cd "$(dirname "$0")"
. ./qemu-setup.sh
run_icount boot 300
