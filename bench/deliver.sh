#!/usr/bin/env bash
# Benchmark: the streaming encoders against the reference command-line
# encoders on a 60-minute album (the real-music tracks, repeated until the
# album is at least an hour long), in one run:
#   FLAC: glassmaster's encoder (`spotify`: 24-bit FLAC at the source rate)
#         on the 48 kHz 24-bit WAVs vs `flac -5` file after file;
#   MP3:  the `promo-mp3` bundle (320 kbps CBR, each file decoded again and
#         its true peak measured) on the 44.1 kHz WAVs vs `lame -b 320`
#         file after file.
# Ours runs the deliver_bench example (the library's TrackEncoder, files
# JOBS at a time, default one per core; the reference encoders use one
# core). All the WAVs are read once before timing, so that both sides find
# them in the page cache. Our FLACs are checked with `flac -t` afterwards
# (untimed), and the highest decoded true peak of our MP3s is printed.
#
# Usage: bench/deliver.sh [JOBS]     Needs flac, lame, ffprobe and the
# real-music tracks (shared/testdata/real-music.sh; an existing
# target/real-music, or /work/main/target/real-music, is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
. bench/common.sh
for tool in flac lame ffprobe; do
  command -v "$tool" >/dev/null || { echo "bench/deliver.sh needs $tool"; exit 1; }
done

cargo build --release --quiet --example deliver_bench
real_music
hour_album target/bench-deliver48 "$MUSIC/wav48" 48000
hour_album target/bench-deliver44 "$MUSIC/wav44" 44100
F48=(target/bench-deliver48/*.wav)
F44=(target/bench-deliver44/*.wav)
OUT=target/bench-deliver-out
rm -rf "$OUT"; mkdir -p "$OUT/ours-flac" "$OUT/ours-mp3" "$OUT/flac" "$OUT/lame"
echo "FLAC album: ${#F48[@]} files, $(album_secs 48000 "${F48[@]}") s of 48 kHz 24-bit; MP3 album: ${#F44[@]} files, $(album_secs 44100 "${F44[@]}") s of 44.1 kHz 16-bit; $(nproc) cores, JOBS=$JOBS"

cat "${F48[@]}" "${F44[@]}" >/dev/null  # warm the page cache for both sides
now() { date +%s.%N; }
t0=$(now)
target/release/examples/deliver_bench -j "$JOBS" spotify "$OUT/ours-flac" "${F48[@]}" >"$OUT/ours-flac.log"
t1=$(now)
for f in "${F48[@]}"; do flac -5 -s -f -o "$OUT/flac/$(basename "$f" .wav).flac" "$f" 2>>"$OUT/flac.log"; done
t2=$(now)
target/release/examples/deliver_bench -j "$JOBS" promo-mp3 "$OUT/ours-mp3" "${F44[@]}" >"$OUT/ours-mp3.log"
t3=$(now)
for f in "${F44[@]}"; do lame --quiet -b 320 "$f" "$OUT/lame/$(basename "$f" .wav).mp3"; done
t4=$(now)
size() { du -sb "$1" | cut -f1; }
reenc=$(awk '{for(i=1;i<=NF;i++) if($i=="re-encodes") s+=$(i+1)} END{print s+0}' "$OUT/ours-mp3.log")
toppeak=$(awk '{for(i=1;i<=NF;i++) if($i=="peak" && (m=="" || $(i+1)>m)) m=$(i+1)} END{print m}' "$OUT/ours-mp3.log")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" \
    -v so="$(size "$OUT/ours-flac")" -v sf="$(size "$OUT/flac")" -v r="$reenc" 'BEGIN {
  printf "FLAC ours:  %7.2f s  (deliver_bench spotify, 24-bit FLAC)\n", b - a;
  printf "flac -5:    %7.2f s  (file after file)\n", c - b;
  printf "FLAC ratio: %7.3f  (ours / flac -5; size ours / flac -5 %.3f)\n", (b - a) / (c - b), so / sf;
  printf "MP3 ours:   %7.2f s  (deliver_bench promo-mp3: LAME 320k CBR + decode + true peak; %d re-encodes)\n", d - c, r;
  printf "lame -b 320:%7.2f s  (file after file)\n", e - d;
  printf "MP3 ratio:  %7.3f  (ours / lame)\n", (d - c) / (e - d);
}'
echo "highest decoded true peak of our MP3s: $toppeak dBTP"
if flac -t -s "$OUT"/ours-flac/*.flac; then echo "flac -t: all of our FLACs decode and match their MD5"; else echo "flac -t FAILED"; exit 1; fi
