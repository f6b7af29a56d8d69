#!/usr/bin/env bash
# Benchmark of the ceiling on all eleven real-music tracks: each set (48 kHz
# 24-bit and 44.1 kHz 16-bit) mastered loud (album mode, -9 LUFS, -1 dBTP)
# into masters, a CD image (CUE + WAV) and two FLAC bundles (bandcamp: 24
# bit at the master's rate; flac-44k: 44.1 kHz 16 bit, resampled); every file
# then read by ffmpeg (`ebur128=peak=true`, its 4x-at-192k true peak) and
# by SoX (`rate -v -b 99.7` to 16x, then the sample peak: a band-limited
# reconstruction we did not write). Prints one line per file and the
# number over -1.0 by either reader.
#
# Usage: bench/ceiling.sh   (run from anywhere; takes a few minutes)
# Needs ffmpeg, sox and what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=target/bench-ceiling
. bench/common.sh

cargo build --release --quiet --bin glassmaster
real_music
rm -rf "$BENCH" && mkdir -p "$BENCH"

ffmpeg_tp() {
  ffmpeg -hide_banner -nostats -nostdin -i "$1" -af ebur128=peak=true:metadata=1,ametadata=mode=print:file=- \
    -f null - 2>/dev/null | sed -n 's/^lavfi.r128.true_peak=//p' | tail -1 \
    | awk '{ printf "%.2f", 20 * log($1) / log(10) }'
}
sox_16x() {
  local rate
  rate=$(soxi -r "$1")
  sox "$1" -n rate -v -b 99.7 $((rate * 16)) stats 2>&1 | awk '/^Pk lev dB/ {print $4}'
}

over=0
files=0
for set in wav48 wav44; do
  dir="$BENCH/$set"
  mkdir -p "$dir"
  {
    cat <<'YAML'
glassmaster: 1
release:
  title: Ceiling
  artist: Real Music
mastering:
  loudness_mode: album
  target_lufs: -9.0
  true_peak_dbtp: -1.0
  chain:
    - limiter: { release_ms: 50, lookahead_ms: 5 }
cd:
  formats: [cue]
streaming:
  - profile: bandcamp
  - profile: custom
    name: flac-44k
    format: flac
    sample_rate: 44100
    bit_depth: 16
tracks:
YAML
    for f in "$MUSIC/$set"/*.wav; do
      printf '  - file: "%s"\n    title: "%s"\n' "$(realpath "$f")" "$(basename "$f" .wav)"
    done
  } >"$dir/album.yaml"
  target/release/glassmaster build "$dir/album.yaml" -o "$dir/out" --force 2>"$dir/build.err" \
    || { cat "$dir/build.err"; exit 1; }
  while IFS= read -r -d '' f; do
    a=$(ffmpeg_tp "$f")
    b=$(sox_16x "$f")
    files=$((files + 1))
    flag=$(awk -v a="$a" -v b="$b" 'BEGIN { print (a > -1.0 || b > -1.0) ? "OVER" : "ok" }')
    [ "$flag" = ok ] || over=$((over + 1))
    printf '%-6s %-60s ffmpeg %7s dBTP  sox 16x %7s dBFS  %s\n' "$set" "${f#"$dir/out/"}" "$a" "$b" "$flag"
  done < <(find "$dir/out" -type f \( -name '*.wav' -o -name '*.flac' \) -print0 | sort -z)
done
echo "$files files, $over over -1.0 by ffmpeg or by sox at 16x"
