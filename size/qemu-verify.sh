#!/usr/bin/env bash
# picoauth-embassy's certificate verifier on an emulated Cortex-M3 (qemu mps2-an385,
# semihosting, `-icount shift=0`): instructions and peak stack of a Slack-shaped RSA
# chain plus its RSA-PSS CertificateVerify, of a P-256 chain plus its ECDSA one, and of
# a P-256 ECDHE for comparison. Exit status: the harness's (it checks the results).
set -euo pipefail
cd "$(dirname "$0")"
. ./qemu-setup.sh
run_icount verify 600
