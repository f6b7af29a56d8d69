#!/usr/bin/env bash
# Benchmark: the repair stages (issue 15: dehum, denoise) on the eleven
# real-music tracks (48 kHz 24-bit WAVs), one core, release build, one run.
#
# Usage: bench/repair.sh    (run from anywhere)
# Runs `cargo run --release --example repair_bench -- FILES...`: each file
# is decoded into memory (not timed), then each stage runs over it alone
# in decoder-sized blocks through a Chain. Issue bar: each stage at least
# 20x real time per core.
# Needs what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

real_music
cargo build --release --quiet --example repair_bench
FILES=("$MUSIC"/wav48/*.wav)
echo "$(nproc) cores; one used"
target/release/examples/repair_bench "${FILES[@]}"
