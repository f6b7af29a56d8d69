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
MUSIC=target/real-music
ALBUM=target/bench-album

cargo build --release --quiet --bin glassmaster
# shared/ lies beside the repository.
SCRIPT=../shared/testdata/real-music.sh
[ -f "$SCRIPT" ] || SCRIPT=/work/shared/testdata/real-music.sh
bash "$SCRIPT" "$MUSIC" >/dev/null

if [ ! -f "$ALBUM/.ready" ]; then
  rm -rf "$ALBUM"
  mkdir -p "$ALBUM"
  total=0
  copy=1
  while [ "$total" -lt 3600 ]; do
    for f in "$MUSIC"/wav48/*.wav; do
      cp "$f" "$ALBUM/c${copy}-$(basename "$f")"
      frames=$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$f")
      total=$((total + frames / 48000))
    done
    copy=$((copy + 1))
  done
  touch "$ALBUM/.ready"
fi
FILES=("$ALBUM"/*.wav)
secs=0
for f in "${FILES[@]}"; do
  d=$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$f")
  secs=$((secs + d / 48000))
done
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
