#!/usr/bin/env bash
# Benchmark: the repair stages (issue 15: dehum, denoise, declip) on the eleven
# real-music tracks (48 kHz 24-bit WAVs), one core, release build, one run.
#
# Usage: bench/repair.sh    (run from anywhere)
# Runs `cargo run --release --example repair_bench -- FILES...`: each file
# is decoded into memory (not timed), then each stage runs over it alone
# in decoder-sized blocks through a Chain (declip on the track hard-clipped
# 3 and 6 dB below its peak). Issue bar: each stage at least 20x real time
# per core. Then declip's error figures on the same eleven tracks whole,
# beside ffmpeg adeclip (tests/dsp/declip.rs with GLASSMASTER_DECLIP_FULL=1;
# numpy measures). Skip that part with QUICK=1.
# Needs what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

real_music
cargo build --release --quiet --example repair_bench
FILES=("$MUSIC"/wav48/*.wav)
echo "$(nproc) cores; one used"
target/release/examples/repair_bench "${FILES[@]}"
if [ -z "${QUICK:-}" ]; then
  GLASSMASTER_DECLIP_FULL=1 cargo test --release --quiet --test tests \
    declip_rebuilds -- --nocapture --test-threads 1 2>&1 | grep '^declip'
fi
