#!/usr/bin/env bash
# Benchmark: peak memory (/usr/bin/time -v) of `glassmaster build --only
# masters` on an 80-minute album of 96 kHz 24-bit stereo WAVs: 16 tracks of
# 5 minutes made by ffmpeg's lavfi sources (pink noise, a chord of sines and
# a pulsing envelope; deterministic seeds). Target: under 300 MB.
# The multi-GB sources and masters are deleted at the end.
#
# With `full`, the whole build instead: masters, the CD (album.wav, CUE,
# TOC, DDP) and three streaming bundles (spotify FLAC, apple-digital-masters
# WAV, promo-mp3), on 16 tracks of 4 min 55 s (78 min 40 s: with the gaps,
# the most a CD holds).
#
# Usage: bench/memory.sh [JOBS] [full]   (JOBS defaults to nproc)
# Needs ffmpeg and /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
MODE=${2:-masters}
ALBUM=target/bench-memory
SECS=300
ONLY=(--only masters)
if [ "$MODE" = full ]; then
  SECS=295
  ONLY=()
fi
cargo build --release --quiet --bin glassmaster
rm -rf "$ALBUM"
mkdir -p "$ALBUM/mixes"
trap 'rm -rf "$ALBUM"' EXIT

{
  cat <<'YAML'
glassmaster: 1
release:
  title: Memory
  artist: Generated
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
  chain:
    - eq:
        - { type: highpass, freq_hz: 25, q: 0.707 }
        - { type: bell, freq_hz: 3000, gain_db: -1.5, q: 1.2 }
    - compressor: { threshold_db: -18, ratio: 2.0, attack_ms: 10, release_ms: 150, knee_db: 6 }
    - limiter: { release_ms: 50, lookahead_ms: 5 }
YAML
  if [ "$MODE" = full ]; then
    cat <<'YAML'
cd:
  gap_s: 2.0
  formats: [ddp, cue, toc]
streaming:
  - profile: spotify
  - profile: apple-digital-masters
  - profile: promo-mp3
YAML
  fi
  echo "tracks:"
  for n in $(seq -w 1 16); do
    printf '  - file: "mixes/%s.wav"\n    title: "Track %s"\n' "$n" "$n"
  done
} >"$ALBUM/album.yaml"

if [ "$MODE" = full ]; then
  sed -i 's/^  artist: Generated$/  artist: Generated\n  upc: "5012345678900"\n  artwork: cover.png/' "$ALBUM/album.yaml"
  sed -i 's/^mastering:$/isrc: { registrant: GB-AYE, year: 26, first: 1 }\nmastering:/' "$ALBUM/album.yaml"
  ffmpeg -v error -nostdin -y -f lavfi -i "color=c=0x336699:s=3000x3000" -frames:v 1 "$ALBUM/cover.png"
fi
t0=$(date +%s)
for n in $(seq -w 1 16); do
  f=$((110 + 10#$n * 7))
  ffmpeg -v error -nostdin -y \
    -f lavfi -i "anoisesrc=d=$SECS:c=pink:r=96000:a=0.15:seed=$n" \
    -f lavfi -i "aevalsrc=0.2*sin(2*PI*$f*t)+0.12*sin(2*PI*$f*1.25*t)+0.1*sin(2*PI*$f*1.5*t)|0.2*sin(2*PI*$f*1.002*t)+0.12*sin(2*PI*$f*1.5*t):s=96000:d=$SECS" \
    -filter_complex "[0:a]volume='0.4+0.6*abs(sin(PI*t*2))':eval=frame,pan=stereo|c0=c0|c1=c0[n];[n][1:a]amix=inputs=2:normalize=0[a]" \
    -map "[a]" -ar 96000 -c:a pcm_s24le "$ALBUM/mixes/$n.wav"
done
t1=$(date +%s)
echo "album: 16 x $SECS s = $((16 * SECS / 60)) min $((16 * SECS % 60)) s of 96 kHz 24-bit stereo, $(du -sh "$ALBUM/mixes" | cut -f1) (made in $((t1 - t0)) s); -j $JOBS"

/usr/bin/time -v target/release/glassmaster build "$ALBUM/album.yaml" "${ONLY[@]}" -o "$ALBUM/out" -j "$JOBS" \
  2>"$ALBUM/time.txt" || { cat "$ALBUM/time.txt"; exit 1; }
grep -E "^built" "$ALBUM/time.txt" || true
grep -E "Elapsed|Maximum resident" "$ALBUM/time.txt"
du -sh "$ALBUM/out"/* 2>/dev/null || true
kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$ALBUM/time.txt")
awk -v kb="$kb" 'BEGIN { printf "peak RSS: %.1f MB (target < 300 MB)\n", kb / 1024 }'
