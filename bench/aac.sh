#!/usr/bin/env bash
# Benchmark: glassmaster's AAC (the `promo-aac` bundle: rusty_aac AAC-LC
# 256 kbps CBR in .m4a, each file decoded again and its true peak
# measured) against ffmpeg's native `aac` encoder at 256 kbps, on the
# real-music tracks (both sets: 48 kHz 24-bit and 44.1 kHz 16-bit), in
# one run.
#
# Both encoders get the same input: each track turned down 6 dB (ffmpeg
# `volume`, 32-bit float WAV), so that no real track comes near the
# -1 dBTP ceiling and glassmaster encodes it at 0 dB gain (the script
# checks that in its log: "re-encodes 0" and no gain). Then, untimed,
# every file of both encoders is decoded by ffmpeg, aligned to its input
# (cross-correlation, lag searched over +-4096 samples; both files carry an
# edit list, so the lag should be 0) and the difference taken; its
# loudness is measured by ffmpeg's ebur128 (integrated, LUFS: the
# artefact level) and its power against the input's by numpy (SNR, dB).
# Lower artefact loudness and higher SNR are better.
#
# Timing: ours runs the deliver_bench example (files JOBS at a time,
# default one per core; rusty_aac also splits each segment's frames over
# the cores); ffmpeg runs file after file (its AAC encoder uses one core),
# as bench/deliver.sh times lame and flac. All WAVs are read once before
# timing so that both sides find them in the page cache.
#
# Usage: bench/aac.sh [JOBS]    Needs ffmpeg, python3 with numpy, and the
# real-music tracks (shared/testdata/real-music.sh; an existing
# target/real-music is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-$(nproc)}
KBPS=256
. bench/common.sh
for tool in ffmpeg python3; do
  command -v "$tool" >/dev/null || { echo "bench/aac.sh needs $tool"; exit 1; }
done
python3 -c 'import numpy' || { echo "bench/aac.sh needs numpy"; exit 1; }

cargo build --release --quiet --example deliver_bench
real_music
IN=target/bench-aac-in
OUT=target/bench-aac-out
rm -rf "$OUT"; mkdir -p "$IN" "$OUT/ours" "$OUT/ffmpeg"
for set in wav48 wav44; do
  for f in "$MUSIC/$set"/*.wav; do
    g="$IN/$set-$(basename "$f")"
    [ -f "$g" ] || ffmpeg -v error -y -i "$f" -af volume=-6dB -c:a pcm_f32le "$g"
  done
done
FILES=("$IN"/*.wav)
echo "${#FILES[@]} files, $(album_secs 48000 "$IN"/wav48-*.wav) s at 48 kHz + $(album_secs 44100 "$IN"/wav44-*.wav) s at 44.1 kHz (turned down 6 dB, float); AAC-LC $KBPS kbps; $(nproc) cores, JOBS=$JOBS"

cat "${FILES[@]}" >/dev/null
now() { date +%s.%N; }
t0=$(now)
target/release/examples/deliver_bench -j "$JOBS" promo-aac "$OUT/ours" "${FILES[@]}" >"$OUT/ours.log"
t1=$(now)
for f in "${FILES[@]}"; do
  ffmpeg -v error -y -i "$f" -c:a aac -b:a "${KBPS}k" "$OUT/ffmpeg/$(basename "$f" .wav).m4a"
done
t2=$(now)
reenc=$(awk '{for(i=1;i<=NF;i++) if($i=="re-encodes") s+=$(i+1)} END{print s+0}' "$OUT/ours.log")
gained=$(awk '{for(i=1;i<=NF;i++) if($i=="gain" && $(i+1)!="0.00") n++} END{print n+0}' "$OUT/ours.log")
[ "$gained" = 0 ] || echo "WARNING: $gained of our files were encoded with a gain (the comparison is then not like for like)"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v r="$reenc" 'BEGIN {
  printf "AAC ours:    %7.2f s  (deliver_bench promo-aac: rusty_aac + MP4 + decode + true peak; %d re-encodes)\n", b - a, r;
  printf "ffmpeg aac:  %7.2f s  (file after file, -b:a '"$KBPS"'k)\n", c - b;
  printf "ratio:       %7.3f  (ours / ffmpeg)\n", (b - a) / (c - b);
}'

# deliver_bench names files "NN Bench - STEM.m4a" in argument order.
python3 - "$OUT" "${FILES[@]}" <<'EOF'
import os, re, subprocess, sys, tempfile
import numpy as np

out, files = sys.argv[1], sys.argv[2:]

def decode(path):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-ac", "2", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 2).astype(np.float64)

def rate_of(path):
    return int(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                               "stream=sample_rate", "-of", "csv=p=0", path],
                              check=True, capture_output=True, text=True).stdout.strip())

def lag_of(src, dec):
    # Cross-correlation of the mono sums over the first 20 s.
    n = min(len(src), len(dec), 20 * 48000)
    a, b = src[:n].sum(1), dec[:n].sum(1)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    c = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.r_[np.arange(0, 4097), np.arange(-4096, 0)]
    return int(lags[np.argmax(c[lags])])

def lufs(diff, rate):
    with tempfile.NamedTemporaryFile(suffix=".f32") as t:
        t.write(diff.astype("<f4").tobytes()); t.flush()
        err = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-f", "f32le", "-ar", str(rate), "-ac", "2",
                              "-i", t.name, "-af", "ebur128", "-f", "null", "-"],
                             capture_output=True, text=True).stderr
    m = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", err)
    return float(m[-1]) if m else float("-inf")

rows = []
print("%-28s %6s %10s %10s %8s %8s %7s %7s" % ("track", "rate", "ours LUFS", "ffm LUFS", "ours SNR", "ffm SNR", "lag", "len±"))
for i, f in enumerate(files):
    stem = os.path.basename(f)[:-4]
    rate = rate_of(f)
    src = decode(f)
    res = []
    for enc, path in (("ours", "%s/ours/%02d Bench - %s.m4a" % (out, i + 1, stem)),
                      ("ffmpeg", "%s/ffmpeg/%s.m4a" % (out, stem))):
        dec = decode(path)
        lag = lag_of(src, dec)
        a0, b0 = max(0, -lag), max(0, lag)
        n = min(len(src) - a0, len(dec) - b0)
        d = dec[b0:b0 + n] - src[a0:a0 + n]
        snr = 10 * np.log10(np.sum(src[a0:a0 + n] ** 2) / max(np.sum(d ** 2), 1e-30))
        res.append((lufs(d, rate), snr, lag, len(dec) - len(src)))
    rows.append(res)
    (lo, so, go, no), (lf, sf, gf, nf) = res
    print("%-28s %6d %10.2f %10.2f %8.2f %8.2f %3d/%-3d %3d/%-3d" % (stem, rate, lo, lf, so, sf, go, gf, no, nf))
lo = np.array([r[0][0] for r in rows]); lf = np.array([r[1][0] for r in rows])
so = np.array([r[0][1] for r in rows]); sf = np.array([r[1][1] for r in rows])
print("mean artefact loudness: ours %.2f LUFS, ffmpeg %.2f LUFS (ours - ffmpeg %.2f LU; ours quieter on %d of %d)"
      % (lo.mean(), lf.mean(), lo.mean() - lf.mean(), int(np.sum(lo < lf)), len(lo)))
print("mean SNR: ours %.2f dB, ffmpeg %.2f dB" % (so.mean(), sf.mean()))
EOF
