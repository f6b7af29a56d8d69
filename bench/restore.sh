#!/usr/bin/env bash
# Benchmark: what the restoration detectors (issue 15) add to `check` on a
# 60-minute album of 48 kHz 24-bit WAVs (the real-music tracks, copied
# until the album is at least an hour long).
#
# Usage: bench/restore.sh [JOBS]    (run from anywhere; JOBS defaults to nproc)
# With:    `glassmaster check -j JOBS --json album.yaml` (report: defaults,
#          restoration on).
# Without: the same manifest with `report: {restoration: false}`.
# Each is run twice and the faster run is kept. Issue bar: the detectors
# add at most 50 % (ratio <= 1.5).
# Needs ffmpeg/ffprobe and what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
ALBUM=target/bench-album
. bench/common.sh

cargo build --release --quiet --bin glassmaster
real_music
hour_album "$ALBUM" "$MUSIC/wav48" 48000
FILES=("$ALBUM"/*.wav)
secs=$(album_secs 48000 "${FILES[@]}")
echo "album: ${#FILES[@]} files, $((secs / 60)) min $((secs % 60)) s of 48 kHz 24-bit stereo; $(nproc) cores"

manifest() { # manifest FILE REPORT_YAML
  {
    printf 'glassmaster: 1\nrelease:\n  title: Bench\n  artist: HR3\n%s' "$2"
    printf 'tracks:\n'
    local f
    for f in "${FILES[@]}"; do
      printf '  - file: %s\n    title: %s\n' "$(realpath "$f")" "$(basename "$f" .wav)"
    done
  } >"$1"
}
manifest target/bench-restore-on.yaml ''
manifest target/bench-restore-off.yaml $'report:\n  restoration: false\n'

now() { date +%s.%N; }
best() { # best MANIFEST: the faster of two runs, seconds
  local a b c t best=
  for _ in 1 2; do
    a=$(now)
    target/release/glassmaster check -j "$JOBS" --json "$1" >target/bench-restore.json 2>/dev/null || true
    b=$(now)
    t=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v m="$best" 'BEGIN { exit !(t < m) }'; then best=$t; fi
  done
  echo "$best"
}
off=$(best target/bench-restore-off.yaml)
on=$(best target/bench-restore-on.yaml)
awk -v on="$on" -v off="$off" 'BEGIN {
  printf "check, restoration off: %7.2f s\n", off;
  printf "check, restoration on:  %7.2f s\n", on;
  printf "ratio:                  %7.3f  (on / off; issue bar <= 1.5)\n", on / off;
}'
