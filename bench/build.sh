#!/usr/bin/env bash
# Benchmark (issue 17): the whole `glassmaster build --timings` against the
# chain a user would script for less work, in one run on this machine, on
# an hour of the real-music tracks (48 kHz 24-bit WAVs, repeated until the
# album lasts at least 60 minutes).
#
# glassmaster: masters (album mode, -14 LUFS, -1 dBTP, a high-pass EQ and
#   the limiter), the CD (album.wav image, DDP, CUE, TOC), a Spotify FLAC
#   bundle, an Apple Digital Masters WAV bundle and a promo MP3 bundle, with
#   a 3000x3000 cover; the stage table of --timings is printed.
# The DIY chain, file after file on one core, as a user scripts it:
#   1. ffmpeg two-pass loudnorm (I=-14, TP=-1, linear) with a 25 Hz
#      high-pass, to a 24-bit 48 kHz master;
#   2. sox `rate -v 44100` + `dither -s` to 16 bit for the CD;
#   3. `flac -5` of the master (the FLAC bundle); the master copied (WAV);
#   4. `lame -b 320` of the master (the MP3 bundle, via ffmpeg's libmp3lame
#      when lame is absent);
#   5. sox joins the CD tracks into one image.
# It makes no DDP, CUE, TOC, tags, sheets, report or checks: less work.
#
# Usage: bash bench/build.sh [JOBS]   (JOBS defaults to nproc)
#        ONCE=1 bash bench/build.sh   the eleven tracks once (16 min)
# Needs ffmpeg, sox, flac (and lame or ffmpeg with libmp3lame).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
W=target/bench-build
. bench/common.sh

[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin glassmaster
GM=$PWD/target/release/glassmaster
real_music
if [ "${ONCE:-0}" = 1 ]; then
  ALBUM=$W/once
  mkdir -p "$ALBUM"
  ln -sfn "$(realpath "$MUSIC/wav48")" "$ALBUM/mixes"
else
  ALBUM=$W/hour
  hour_album "$ALBUM/mixes" "$MUSIC/wav48" 48000
fi
FILES=("$ALBUM"/mixes/*.wav)
secs=$(album_secs 48000 "${FILES[@]}")
[ -f "$ALBUM/cover.png" ] ||
  ffmpeg -v error -nostdin -y -f lavfi -i "testsrc2=s=3000x3000" -frames:v 1 "$ALBUM/cover.png"
{
  cat <<'YAML'
glassmaster: 1
release:
  title: Benchmark
  artist: Real Music
  upc: "5012345678900"
  artwork: cover.png
isrc: { registrant: GB-AYE, year: 26, first: 1 }
mastering:
  loudness_mode: album
  target_lufs: -14.0
  true_peak_dbtp: -1.0
  chain:
    - eq:
        - { type: highpass, freq_hz: 25, q: 0.707 }
    - limiter: { release_ms: 50, lookahead_ms: 5 }
cd:
  gap_s: 2.0
  formats: [ddp, cue, toc]
streaming:
  - profile: spotify
  - profile: apple-digital-masters
  - profile: promo-mp3
# The DIY chain encodes no store previews: the comparison leaves the codec
# preview out (bench/preview.sh measures it).
report: { codec_preview: false }
tracks:
YAML
  for f in "${FILES[@]}"; do
    b=$(basename "$f" .wav)
    printf '  - file: "mixes/%s.wav"\n    title: "%s"\n' "$b" "$b"
  done
} >"$ALBUM/album.yaml"
echo "album: ${#FILES[@]} files, $((secs / 60)) min $((secs % 60)) s of 48 kHz 24-bit stereo; $(nproc) cores, -j $JOBS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }

# glassmaster
rm -rf "$ALBUM/out"
t0=$(now)
"$GM" -q build "$ALBUM/album.yaml" -o "$ALBUM/out" -j "$JOBS" --timings 2>"$ALBUM/timings.txt"
t1=$(now)
ours=$(echo "$t1 - $t0" | bc)

# The DIY chain.
D=$ALBUM/diy
rm -rf "$D"
mkdir -p "$D/masters" "$D/cd" "$D/flac" "$D/wav" "$D/mp3"
mp3() {
  if command -v lame >/dev/null; then lame --quiet -b 320 "$1" "$2"
  else ffmpeg -v error -nostdin -y -i "$1" -c:a libmp3lame -b:a 320k "$2"; fi
}
t2=$(now)
for f in "${FILES[@]}"; do
  b=$(basename "$f" .wav)
  json=$(ffmpeg -hide_banner -nostdin -i "$f" -af "highpass=f=25,loudnorm=I=-14:TP=-1:LRA=20:print_format=json" -f null - 2>&1 |
    sed -n '/^{/,/^}/p')
  get() { echo "$json" | sed -n "s/.*\"$1\" : \"\\(.*\\)\".*/\\1/p"; }
  ffmpeg -v error -nostdin -y -i "$f" -af "highpass=f=25,loudnorm=I=-14:TP=-1:LRA=20:linear=true:measured_I=$(get input_i):measured_TP=$(get input_tp):measured_LRA=$(get input_lra):measured_thresh=$(get input_thresh):offset=$(get target_offset)" \
    -ar 48000 -c:a pcm_s24le "$D/masters/$b.wav"
  sox "$D/masters/$b.wav" -b 16 "$D/cd/$b.wav" rate -v 44100 dither -s
  flac -5 -s -f -o "$D/flac/$b.flac" "$D/masters/$b.wav"
  cp "$D/masters/$b.wav" "$D/wav/$b.wav"
  mp3 "$D/masters/$b.wav" "$D/mp3/$b.mp3"
done
sox "$D"/cd/*.wav "$D/album.wav"
t3=$(now)
diy=$(echo "$t3 - $t2" | bc)

echo
cat "$ALBUM/timings.txt"
echo
printf "glassmaster build (masters, CD image+DDP+CUE+TOC, FLAC, WAV and MP3 bundles, report): %8.1f s\n" "$ours"
printf "DIY chain (ffmpeg loudnorm x2, sox rate+dither, flac -5, lame -b 320, sox join):     %8.1f s\n" "$diy"
echo "ratio (glassmaster / DIY): $(echo "scale=3; $ours / $diy" | bc) (issue 17's goal: 1/6 = 0.167 or less)"
rm -rf "$D" "$ALBUM/out"
