#!/usr/bin/env bash
# Benchmark: `glassmaster build --only masters` against the two-pass ffmpeg
# loudnorm (linear) chain a user would script, on a 60-minute album of
# 48 kHz 24-bit WAVs (the real-music tracks, repeated until the album is at
# least an hour long), in one run on this machine.
#
# Usage: bench/master.sh [JOBS]   (run from anywhere; JOBS defaults to nproc)
#        ONCE=1 bench/master.sh 2   the eleven tracks once (16 min), quicker.
# Ours:   album mode, -14 LUFS, -1 dBTP, a chain with EQ + compressor +
#         limiter; `glassmaster build album.yaml --only masters -j JOBS`.
# ffmpeg: per file, pass 1 `loudnorm=I=-14:TP=-1:LRA=20:print_format=json`,
#         pass 2 with `linear=true` and the measured values, written as
#         24-bit WAV at 48 kHz (`-ar 48000`), file after file.
# Needs ffmpeg and what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
ALBUM=target/bench-master
. bench/common.sh

cargo build --release --quiet --bin glassmaster
real_music
if [ "${ONCE:-0}" = 1 ]; then
  ALBUM=target/bench-master-once
  mkdir -p "$ALBUM"
  ln -sfn "$(realpath "$MUSIC/wav48")" "$ALBUM/mixes"
else
  hour_album "$ALBUM/mixes" "$MUSIC/wav48" 48000
fi
FILES=("$ALBUM"/mixes/*.wav)
secs=$(album_secs 48000 "${FILES[@]}")
{
  cat <<'YAML'
glassmaster: 1
release:
  title: Benchmark
  artist: Real Music
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
  chain:
    - eq:
        - { type: highpass, freq_hz: 25, q: 0.707 }
        - { type: bell, freq_hz: 3000, gain_db: -1.5, q: 1.2 }
        - { type: highshelf, freq_hz: 10000, gain_db: 1.0 }
    - compressor: { threshold_db: -18, ratio: 2.0, attack_ms: 10, release_ms: 150, knee_db: 6 }
    - limiter: { release_ms: 50, lookahead_ms: 5 }
tracks:
YAML
  for f in "${FILES[@]}"; do
    b=$(basename "$f" .wav)
    printf '  - file: "mixes/%s.wav"\n    title: "%s"\n' "$b" "$b"
  done
} >"$ALBUM/album.yaml"
echo "album: ${#FILES[@]} files, $((secs / 60)) min $((secs % 60)) s of 48 kHz 24-bit stereo; $(nproc) cores, -j $JOBS"

now() { date +%s.%N; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(now)
/usr/bin/time -f "%U %S" -o "$ALBUM/ours.cpu" \
  target/release/glassmaster build "$ALBUM/album.yaml" --only masters -o "$ALBUM/out" --force -j "$JOBS" \
  2>"$ALBUM/ours.err"
t1=$(now)
grep -E "^built" "$ALBUM/ours.err" || true
read -r user sys <"$ALBUM/ours.cpu"
echo "glassmaster CPU: user $user s, system $sys s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

rm -rf "$ALBUM/ffmpeg" && mkdir -p "$ALBUM/ffmpeg"
field() { sed -n "s/.*\"$1\" : \"\\([^\"]*\\)\".*/\\1/p" "$2" | tail -1; }
for f in "${FILES[@]}"; do
  m="$ALBUM/ffmpeg/pass1.txt"
  ffmpeg -hide_banner -nostats -nostdin -i "$f" \
    -af loudnorm=I=-14:TP=-1:LRA=20:print_format=json -f null - 2>"$m"
  I=$(field input_i "$m"); TP=$(field input_tp "$m"); LRA=$(field input_lra "$m")
  TH=$(field input_thresh "$m"); OFF=$(field target_offset "$m")
  ffmpeg -hide_banner -nostats -nostdin -v error -y -i "$f" \
    -af "loudnorm=I=-14:TP=-1:LRA=20:measured_I=$I:measured_TP=$TP:measured_LRA=$LRA:measured_thresh=$TH:offset=$OFF:linear=true:print_format=summary" \
    -ar 48000 -c:a pcm_s24le "$ALBUM/ffmpeg/$(basename "$f")"
done
t2=$(now)

awk -v a="$t0" -v b="$t1" -v c="$t2" -v j="$JOBS" 'BEGIN {
  ours = b - a; ff = c - b;
  printf "glassmaster: %7.2f s  (build --only masters -j %s)\n", ours, j;
  printf "ffmpeg:      %7.2f s  (two-pass loudnorm linear, file after file)\n", ff;
  printf "ratio:       %7.2f x  (ffmpeg / glassmaster; target >= 5)\n", ff / ours;
}'
rm -rf "$ALBUM/ffmpeg" "$ALBUM/out"
