# Sourced (from this folder) by qemu.sh, qemu-verify.sh and qemu-boot.sh: the target directory, the
# thumbv7m-none-eabi target, and qemu-system-arm installed if missing.
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/size"
rustup target add thumbv7m-none-eabi >/dev/null 2>&1 || true
if ! command -v qemu-system-arm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
fi
