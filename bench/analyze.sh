#!/usr/bin/env bash
# Benchmark: glassmaster's analysis against ffmpeg's ebur128 filter on a
# 60-minute album of 48 kHz 24-bit WAVs (the real-music tracks, copied
# until the album is at least an hour long).
#
# Usage: bench/analyze.sh [JOBS]    (run from anywhere; JOBS defaults to nproc)
# Ours:   `glassmaster analyze -j JOBS --json FILES...` (files in parallel).
# ffmpeg: `ffmpeg -nostats -i F -af ebur128=peak=true -f null -`, one file
#         after another (the filter is single-threaded).
# Needs ffmpeg and what shared/testdata/real-music.sh needs.
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

now() { date +%s.%N; }

OURS=(target/release/glassmaster analyze -j "$JOBS" --json)

t0=$(now)
"${OURS[@]}" "${FILES[@]}" >target/bench-ours.json 2>target/bench-ours.err
t1=$(now)
for f in "${FILES[@]}"; do
  ffmpeg -nostats -hide_banner -i "$f" -af ebur128=peak=true -f null - 2>>target/bench-ffmpeg.log
done
t2=$(now)
: >target/bench-ffmpeg.log

awk -v a="$t0" -v b="$t1" -v c="$t2" -v cmd="${OURS[*]}" 'BEGIN {
  ours = b - a; ff = c - b;
  printf "ours:   %7.2f s  (%s)\n", ours, cmd;
  printf "ffmpeg: %7.2f s  (ffmpeg -af ebur128=peak=true, file after file)\n", ff;
  printf "ratio:  %7.3f  (ours / ffmpeg; target <= 0.333)\n", ours / ff;
}'
