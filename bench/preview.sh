#!/usr/bin/env bash
# Benchmark: what the codec preview adds to `glassmaster build --only
# masters`, on a 60-minute album of 48 kHz 24-bit WAVs (the real-music
# tracks, repeated until the album is at least an hour long), in one run.
#
# Usage: bench/preview.sh [JOBS]   (run from anywhere; JOBS defaults to 2)
#        ONCE=1 bench/preview.sh    the eleven tracks once (16 min), quicker.
#        PER_CODEC=1 ...            also one store at a time (see the end).
#        PASSAGES=0 ...             without the third build, which previews
#                                   passages (`codec_preview_passages: true`)
#                                   and compares them with the whole tracks.
#        CODECS="mp3, vorbis, opus" ...  only these codecs of the stores'
#                                   streams (`report: codec_preview_codecs`;
#                                   default all four).
# The manifest is bench/master.sh's (album mode, -14 LUFS, -1 dBTP, EQ +
# compressor + limiter) with three stores, whose profiles stream six
# encodes of four codecs: spotify (Ogg Vorbis 320 kbps and AAC 256 kbps,
# 44.1 kHz), youtube (Opus 160 kbps, 48 kHz; AAC 128 kbps, 44.1 kHz),
# soundcloud (MP3 128 kbps and AAC 160 kbps, 44.1 kHz). With `--only
# masters` the bundles are not made; the preview still runs on every
# master. The builds run with `--timings`, so the stage tables
# show where the preview's time goes ("codec preview" is the sink's own
# stage: resampling, encoding, and at the track's end decoding and
# metering).
# Needs ffmpeg (ffprobe) and what shared/testdata/real-music.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-2}
ALBUM=target/bench-preview
. bench/common.sh

[ "${NO_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin glassmaster
real_music
if [ "${ONCE:-0}" = 1 ]; then
  ALBUM=target/bench-preview-once
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
report:
  codec_preview_codecs: [CODECS]
streaming:
  - profile: spotify
  - profile: youtube
  - profile: soundcloud
tracks:
YAML
  for f in "${FILES[@]}"; do
    b=$(basename "$f" .wav)
    printf '  - file: "mixes/%s.wav"\n    title: "%s"\n' "$b" "$b"
  done
} | sed "s/\[CODECS\]/[${CODECS:-mp3, vorbis, opus, aac}]/" >"$ALBUM/album.yaml"
echo "album: ${#FILES[@]} files, $((secs / 60)) min $((secs % 60)) s of 48 kHz 24-bit stereo; $(nproc) cores, -j $JOBS"

now() { date +%s.%N; }
# Both read the WAVs from the page cache.
cat "${FILES[@]}" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(now)
/usr/bin/time -f "%U %S" -o "$ALBUM/plain.cpu" \
  target/release/glassmaster build "$ALBUM/album.yaml" --only masters --no-preview --timings \
  -o "$ALBUM/plain" --force -j "$JOBS" 2>"$ALBUM/plain.err"
t1=$(now)
/usr/bin/time -f "%U %S" -o "$ALBUM/preview.cpu" \
  target/release/glassmaster build "$ALBUM/album.yaml" --only masters --timings \
  -o "$ALBUM/preview" --force -j "$JOBS" 2>"$ALBUM/preview.err"
t2=$(now)
if [ "${PASSAGES:-1}" = 1 ]; then
  # The same build previewing passages (`codec_preview_passages: true`),
  # and what they miss of the whole tracks' figures.
  sed 's/^report:/report:\n  codec_preview_passages: true/' "$ALBUM/album.yaml" >"$ALBUM/passages.yaml"
  /usr/bin/time -f "%U %S" -o "$ALBUM/passages.cpu" \
    target/release/glassmaster build "$ALBUM/passages.yaml" --only masters --timings \
    -o "$ALBUM/passages" --force -j "$JOBS" 2>"$ALBUM/passages.err"
fi
t3=$(now)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep "codec preview" "$ALBUM/preview.err" | head -5 || true
read -r pu ps <"$ALBUM/plain.cpu"
read -r qu qs <"$ALBUM/preview.cpu"
plain=$(echo "$t1 - $t0" | bc -l)
with=$(echo "$t2 - $t1" | bc -l)
codecs=$(python3 -c "
import json,sys
r=json.load(open('$ALBUM/preview/report.json'))
ok=sorted({(c['codec'],c['bitrate_kbps'],c['sample_rate']) for t in r['tracks'] for c in t.get('codecs',[]) if c['available']})
print(len(ok), ', '.join('%s %dk %d'%c for c in ok))
over=[(t['number'],c['codec']) for t in r['tracks'] for c in t.get('codecs',[]) if c['available'] and c['clipped_on_sample']+c['clipped_inter_sample']>0]
print('tracks x codecs that clip:', len(over))
")
echo "codecs previewed: $codecs"
printf 'build --only masters --no-preview: %.1f s wall (CPU user %s s, sys %s s)\n' "$plain" "$pu" "$ps"
printf 'build --only masters (preview):    %.1f s wall (CPU user %s s, sys %s s)\n' "$with" "$qu" "$qs"
printf 'the preview adds %.0f %% (target at most 50 %%)\n' "$(echo "($with - $plain) / $plain * 100" | bc -l)"
if [ "${PASSAGES:-1}" = 1 ]; then
  read -r fu fs <"$ALBUM/passages.cpu"
  pass=$(echo "$t3 - $t2" | bc -l)
  printf 'build --only masters (preview of passages): %.1f s wall (CPU user %s s, sys %s s): adds %.0f %%\n' \
    "$pass" "$fu" "$fs" "$(echo "($pass - $plain) / $plain * 100" | bc -l)"
  python3 - "$ALBUM/passages/report.json" "$ALBUM/preview/report.json" <<'PY'
import json, sys
p, w = (json.load(open(f)) for f in sys.argv[1:3])
overs = lambda c: c['clipped_on_sample'] + c['clipped_inter_sample']
rows = {}
for tp, tw in zip(p['tracks'], w['tracks']):
    for cp, cw in zip(tp['codecs'], tw['codecs']):
        key = '%s %dk %d' % (cp['codec'], cp['bitrate_kbps'], cp['sample_rate'])
        rows.setdefault(key, []).append((cp['true_peak_dbtp'] - cw['true_peak_dbtp'],
                                         (overs(cp) > 0) == (overs(cw) > 0), overs(cw) > 0,
                                         cp['frames'] / cw['frames']))
print('passages against the whole track (decoded true peak, passages minus whole; clip flags):')
for key, r in sorted(rows.items()):
    d = [x[0] for x in r]
    print('  %-16s %d tracks, %.0f %% previewed: %+.2f to %+.2f dB (mean %+.2f); whole clips %d, flags agree %d of %d'
          % (key, len(r), 100 * sum(x[3] for x in r) / len(r), min(d), max(d), sum(d) / len(d),
             sum(x[2] for x in r), sum(x[1] for x in r), len(r)))
PY
fi
echo "stage table of the preview build: $ALBUM/preview.err"

# PER_CODEC=1: where the preview's time goes, codec by codec: the same
# build with one store at a time (spotify: Vorbis 320, youtube: Opus 160,
# soundcloud: MP3 128), the "codec preview" stage's CPU of each, and the
# decode and metering alone, estimated by `glassmaster analyze` (decode
# and the full meter) of the encodes that build kept.
if [ "${PER_CODEC:-0}" = 1 ]; then
  for store in spotify youtube soundcloud; do
    sed "/^streaming:/,/^tracks:/c\\streaming:\\n  - profile: $store\\ntracks:" "$ALBUM/album.yaml" >"$ALBUM/$store.yaml"
    rm -rf "$ALBUM/kept-$store" && mkdir -p "$ALBUM/kept-$store"
    GLASSMASTER_PREVIEW_DIR="$ALBUM/kept-$store" target/release/glassmaster build "$ALBUM/$store.yaml" \
      --only masters --timings -o "$ALBUM/out-$store" --force -j "$JOBS" 2>"$ALBUM/$store.err"
    cpu=$(awk '$1 == "codec" && $2 == "preview" {print $3; exit}' "$ALBUM/$store.err")
    /usr/bin/time -f "%U %S" -o "$ALBUM/analyze-$store.cpu" \
      target/release/glassmaster analyze -j "$JOBS" --json "$ALBUM/kept-$store"/* >/dev/null 2>&1 || true
    read -r au as <"$ALBUM/analyze-$store.cpu"
    echo "$store: codec preview stage ${cpu} s CPU; analyze of its encodes (decode + full meter; it cannot read Opus) ${au} s user"
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
