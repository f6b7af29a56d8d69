#!/usr/bin/env bash
# Tonal matching to a reference, side by side with Matchering 2 (issue 13),
# on the eleven real-music tracks (44.1 kHz 16-bit). Each track is altered
# by sox (odd tracks: +5 dB bass shelf at 150 Hz; even ones: -5 dB bell at
# 2.5 kHz, Q 1; both 6 dB quieter), then matched to its original by
#   matchering:  mg.process(target=altered, reference=original, pcm24)
#   glassmaster: build with mastering.match {to: reference, reference:
#                [original], strength: 1}, loudness_mode track at -14 LUFS,
#                ceiling -1 dBTP
# and both results are measured by the same independent FFT (numpy, Welch
# 16384-point Hann, 1/3-octave bands 31.5 Hz-16 kHz, each spectrum's mean
# over the bands removed, RMS of the difference to the original), by
# ffmpeg's ebur128 (integrated loudness, true peak); files decoded by ffmpeg. Wall time of each tool
# per track. Needs `pip install matchering` on the python3 on PATH and
# /usr/bin/python3 with numpy.
#
#   bash bench/match.sh            (all eleven; N=3 for the first three)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
real_music
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
GM=$PWD/target/release/glassmaster
W=target/bench-match
rm -rf "$W"
mkdir -p "$W"
N=${N:-11}
python3 -c 'import matchering' || { echo "SKIP: pip install matchering" >&2; exit 0; }

measure_py='
import sys, subprocess, numpy as np
def load(p):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", p, "-f", "f32le", "-ac", "2", "-ar", "44100", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.float32).astype(np.float64).reshape(-1, 2).T, 44100
def bands(p):
    x, rate = load(p); n = 16384; win = np.hanning(n + 1)[:n]; power = np.zeros(n // 2 + 1)
    for c in x:
        for s in range(0, len(c) - n, n // 2):
            power += np.abs(np.fft.rfft(c[s:s+n] * win)) ** 2
    f = np.arange(n // 2 + 1) * rate / n
    db = []
    for k in range(2, 28):
        c = 1000 * 10 ** ((k - 17) / 10); lo, hi = c / 10 ** 0.05, c * 10 ** 0.05
        db.append(10 * np.log10(power[(f >= lo) & (f < hi)].sum()))
    db = np.array(db); return db - db.mean()
ref = bands(sys.argv[1])
for p in sys.argv[2:]:
    d = bands(p) - ref; d -= d.mean()
    print("%.2f" % np.sqrt((d ** 2).mean()), end=" ")
print()
'
ebur() { # integrated LUFS and true peak dBTP by ffmpeg
  ffmpeg -hide_banner -nostats -nostdin -i "$1" -af ebur128=peak=true -f null - 2>&1 |
    awk '/I:/ {i=$2} /Peak:/ {p=$2} END {print i, p}'
}
printf "%-22s %7s %7s %7s %8s %8s %7s %7s %6s %6s\n" track altered ours mg "ours LU" "mg LU" "ours TP" "mg TP" ours_s mg_s
i=0
for src in "$MUSIC"/wav44/*.wav; do
  i=$((i + 1)); [ "$i" -le "$N" ] || break
  name=$(basename "$src" .wav); d=$W/$name; mkdir -p "$d"
  cp "$src" "$d/orig.wav"
  if [ $((i % 2)) -eq 1 ]; then fx="bass +5 150 0.7q"; else fx="equalizer 2500 1q -5"; fi
  sox "$d/orig.wav" -b 24 "$d/alt.wav" gain -6 $fx
  t0=$(date +%s.%N)
  python3 -c "import matchering as mg; mg.log(print); mg.process(target='$d/alt.wav', reference='$d/orig.wav', results=[mg.pcm24('$d/mg.wav')])" >/dev/null 2>&1
  t1=$(date +%s.%N)
  cat > "$d/m.yaml" <<YAML
glassmaster: 1
release: { title: Bench, artist: Bench }
mastering:
  loudness_mode: track
  target_lufs: -14
  true_peak_dbtp: -1
  match: { to: reference, reference: [orig.wav], strength: 1 }
tracks:
  - { file: alt.wav, title: Alt }
YAML
  t2=$(date +%s.%N)
  (cd "$d" && "$GM" -q build m.yaml -o out >/dev/null)
  t3=$(date +%s.%N)
  ours=$(ls "$d"/out/masters/*.wav)
  read -r da dours dmg < <(/usr/bin/python3 -c "$measure_py" "$d/orig.wav" "$d/alt.wav" "$ours" "$d/mg.wav")
  read -r lo po < <(ebur "$ours"); read -r lm pm < <(ebur "$d/mg.wav")
  printf "%-22s %7s %7s %7s %8s %8s %7s %7s %6.1f %6.1f\n" "$name" "$da" "$dours" "$dmg" "$lo" "$lm" "$po" "$pm" \
    "$(echo "$t3 - $t2" | bc)" "$(echo "$t1 - $t0" | bc)"
done
