#!/usr/bin/env bash
# The core's .text share in a minimal thumbv7em-none-eabihf binary (opt-level "z",
# fat LTO, codegen-units 1, panic abort): the size probe built with and without the
# core calls (encode + parse for every provider); the share is the difference.
# Also lists the largest picoauth symbols. Fails when the share exceeds the goal.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never
target=thumbv7em-none-eabihf
goal=12288                                   # the issue's goal (reported)
limit=${PICOAUTH_TEXT_LIMIT:-32768}          # the CI ceiling (fails above it)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}/size"
rustup target add "$target" >/dev/null 2>&1 || true

size_tool=$(command -v arm-none-eabi-size || command -v llvm-size || true)
nm_tool=$(command -v arm-none-eabi-nm || command -v llvm-nm || true)
if [ -z "$size_tool" ] || [ -z "$nm_tool" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils-arm-none-eabi >/dev/null
  size_tool=arm-none-eabi-size; nm_tool=arm-none-eabi-nm
fi

elf=$CARGO_TARGET_DIR/$target/release/probe
cargo build -q --release --locked --bin probe --target "$target"
cp "$elf" "$CARGO_TARGET_DIR/probe-without-core.elf"
cargo build -q --release --locked --bin probe --target "$target" --features with-core
cp "$elf" "$CARGO_TARGET_DIR/probe-with-core.elf"
cargo build -q --release --locked --bin probe --target "$target" --features encode
cp "$elf" "$CARGO_TARGET_DIR/probe-encode.elf"
cargo build -q --release --locked --bin probe --target "$target" --features parse
cp "$elf" "$CARGO_TARGET_DIR/probe-parse.elf"
cargo build -q --release --locked --bin probe --target "$target" --features with-core,slack-only
cp "$elf" "$CARGO_TARGET_DIR/probe-slack-only.elf"

text() { "$size_tool" -A "$1" | awk '$1 == ".text" { print $2 }'; }
rodata() { "$size_tool" -A "$1" | awk '$1 == ".rodata" { print $2 }'; }
base=$(text "$CARGO_TARGET_DIR/probe-without-core.elf")
with=$(text "$CARGO_TARGET_DIR/probe-with-core.elf")
base_ro=$(rodata "$CARGO_TARGET_DIR/probe-without-core.elf"); base_ro=${base_ro:-0}
with_ro=$(rodata "$CARGO_TARGET_DIR/probe-with-core.elf"); with_ro=${with_ro:-0}
share=$((with - base))
echo "probe without core: .text $base B, .rodata $base_ro B"
echo "probe with core:    .text $with B, .rodata $with_ro B"
kib() { awk -v s="$1" 'BEGIN{printf "%.1f KiB", s/1024}'; }
enc=$(( $(text "$CARGO_TARGET_DIR/probe-encode.elf") - base ))
par=$(( $(text "$CARGO_TARGET_DIR/probe-parse.elf") - base ))
echo "core share:         .text $share B ($(kib "$share")), .rodata $((with_ro - base_ro)) B"
echo "  encode alone:     .text $enc B ($(kib "$enc"))"
echo "  parse alone:      .text $par B ($(kib "$par"))"
one=$(( $(text "$CARGO_TARGET_DIR/probe-slack-only.elf") - base ))
echo "one provider known at compile time (Slack v2, Basic, code): .text $one B ($(kib "$one"))"
if [ "$share" -le "$goal" ]; then
  echo "goal .text <= $goal B: met"
else
  echo "goal .text <= $goal B: NOT met, over by $((share - goal)) B (CI ceiling $limit B)"
fi
echo
echo "largest symbols in the probe with the core (nm --size-sort, top 15):"
"$nm_tool" --size-sort --radix=d -C "$CARGO_TARGET_DIR/probe-with-core.elf" | grep -i ' [tT] ' | tail -15
if [ "$share" -gt "$limit" ]; then
  echo "FAIL: the core's .text share $share B exceeds the ceiling $limit B" >&2
  exit 1
fi
