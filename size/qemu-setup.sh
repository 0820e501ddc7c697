# Sourced (from this folder) by qemu.sh, qemu-verify.sh and qemu-boot.sh: the target directory, the
# thumbv7m-none-eabi target, qemu-system-arm installed if missing, and `run_icount`
# (the instruction-counting run of qemu-verify.sh and qemu-boot.sh).
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/size"
rustup target add thumbv7m-none-eabi >/dev/null 2>&1 || true
if ! command -v qemu-system-arm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
fi

# Builds the harness binary $1 (profile `verify`) and runs it on an emulated Cortex-M3
# (qemu mps2-an385, semihosting, `-icount shift=0`: instructions counted through
# SysTick) for at most $2 seconds. Exit status: the harness's.
run_icount() {
  cargo build -q --profile verify --locked --bin "$1" --target thumbv7m-none-eabi
  timeout "$2" qemu-system-arm -cpu cortex-m3 -machine mps2-an385 -nographic -icount shift=0 \
    -semihosting-config enable=on,target=native \
    -kernel "$CARGO_TARGET_DIR/thumbv7m-none-eabi/verify/$1"
}
