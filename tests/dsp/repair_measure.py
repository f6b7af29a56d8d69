# Independent measurements for tests/dsp/repair.rs (numpy/scipy, not the
# code under test). Usage:
#   python3 repair_measure.py hum CLEAN DAMAGED OUT F0 HARMONICS Q SKIP_S
#   python3 repair_measure.py snr CLEAN DAMAGED OUT [FROM_S]
#   python3 repair_measure.py hum CLEAN DAMAGED OUT F0 HARMONICS Q SKIP_S OUT_CLEAN
#   python3 repair_measure.py change CLEAN OUT
#   python3 repair_measure.py declip CLEAN CLIPPED OUT...
# Prints one JSON object.
import json
import sys

import numpy as np
from scipy.io import wavfile


def read(path):
    rate, x = wavfile.read(path)
    x = x.astype(np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return rate, x


def line(x, rate, f, skip):
    """Amplitude of the component at exactly f Hz (Hann-weighted
    projection over x[skip:], both channels summed in power)."""
    seg = x[skip:]
    n = len(seg)
    w = np.hanning(n)
    t = (np.arange(n) + skip) / rate
    e = np.exp(-2j * np.pi * f * t) * w
    amp = 2 * np.abs(e @ seg) / w.sum()
    return float(np.sqrt(np.mean(amp ** 2)))


def third_octaves(x, rate, skip):
    seg = x[skip:]
    w = np.hanning(len(seg))[:, None]
    p = (np.abs(np.fft.rfft(seg * w, axis=0)) ** 2).sum(axis=1)
    f = np.fft.rfftfreq(len(seg), 1 / rate)
    out = []
    for k in range(-16, 13):  # 25 Hz .. 16 kHz
        fc = 1000 * 2 ** (k / 3)
        lo, hi = fc * 2 ** (-1 / 6), fc * 2 ** (1 / 6)
        if hi > 0.45 * rate:
            break
        m = (f >= lo) & (f < hi)
        out.append((fc, lo, hi, float(p[m].sum())))
    return out


def lag_of(out, clean):
    """The shift of out against clean (samples, + = out late) by
    cross-correlation of the mid channels over the first 20 s."""
    n = min(len(out), len(clean), 20 * 48000)
    a = out[:n].mean(axis=1)
    b = clean[:n].mean(axis=1)
    m = 1 << int(np.ceil(np.log2(2 * n)))
    c = np.fft.irfft(np.fft.rfft(a, m) * np.conj(np.fft.rfft(b, m)), m)
    c = np.concatenate([c[-8192:], c[:8193]])
    return int(np.argmax(c)) - 8192


def snr(clean, x, lag, start=0):
    e = 8192
    n = min(len(clean), len(x) - lag) - e
    e = max(e, start)
    c = clean[e:n]
    y = x[e + lag:n + lag]
    return float(10 * np.log10((c ** 2).sum() / ((y - c) ** 2).sum()))


mode = sys.argv[1]
if mode == "hum":
    f0, harm, q, skip_s = sys.argv[5:9]
    rate, clean = read(sys.argv[2])
    _, dam = read(sys.argv[3])
    _, out = read(sys.argv[4])
    # The stage is linear: the hum it leaves is its output on the damaged
    # track less its output on the clean one (OUT_CLEAN), and the music it
    # changed does not count as hum left.
    _, outc = read(sys.argv[9])
    n = min(len(clean), len(out), len(outc))
    clean, dam, out, outc = clean[:n], dam[:n], out[:n], outc[:n]
    f0, harm, q = float(f0), int(harm), float(q)
    skip = int(float(skip_s) * rate)
    freqs = [f0 * k for k in range(1, harm + 2)]
    lines = []
    for f in freqs:
        before = line(dam - clean, rate, f, skip)
        after = line(out - outc, rate, f, skip)
        lines.append({"hz": f, "before": before, "after": after,
                      "reduction_db": float(20 * np.log10(before / max(after, 1e-300)))})
    bc, bo = third_octaves(clean, rate, skip), third_octaves(out, rate, skip)
    bands = []
    for (fc, lo, hi, pc), (_, _, _, po) in zip(bc, bo):
        near = any(lo <= f < hi for f in freqs)
        bands.append({"hz": fc, "near_notch": near,
                      "diff_db": float(10 * np.log10(po / pc)) if pc > 0 and po > 0 else None})
    print(json.dumps({"lines": lines, "bands": bands}))
elif mode == "snr":
    rate, clean = read(sys.argv[2])
    _, dam = read(sys.argv[3])
    _, out = read(sys.argv[4])
    start = int(float(sys.argv[5]) * rate) if len(sys.argv) > 5 else 0
    lag = lag_of(out[start:], clean[start:])
    print(json.dumps({"before_db": snr(clean, dam, 0, start),
                      "after_db": snr(clean, out, lag, start), "lag": lag}))
elif mode == "change":
    rate, clean = read(sys.argv[2])
    _, out = read(sys.argv[3])
    n = min(len(clean), len(out))
    d = out[:n] - clean[:n]
    rms = float(10 * np.log10(max((d ** 2).mean(), 1e-300)))
    rel = float(10 * np.log10(max((d ** 2).sum(), 1e-300) / (clean[:n] ** 2).sum()))
    print(json.dumps({"diff_dbfs": rms, "diff_re_signal_db": rel, "lag": lag_of(out, clean)}))
elif mode == "declip":
    # Error energy against the clean file, clipped and each output, and
    # each output's shift (cross-correlation); the reduction in dB.
    rate, clean = read(sys.argv[2])
    _, clip = read(sys.argv[3])
    n = len(clean)
    e0 = float(((clip[:n] - clean) ** 2).sum())
    outs = []
    for path in sys.argv[4:]:
        _, out = read(path)
        m = min(n, len(out))
        e = float(((out[:m] - clean[:m]) ** 2).sum())
        clipped = np.abs(clip[:m]) >= np.abs(clip).max() * (1 - 1e-6)
        outs.append({"error": e, "reduction_db": float(10 * np.log10(e0 / e)),
                     "length": len(out), "lag": lag_of(out, clean),
                     "reliable_changed": int((out[:m][~clipped] != clip[:m][~clipped]).sum())})
    print(json.dumps({"clipped_error": e0, "clipped_fraction": float(
        (np.abs(clip) >= np.abs(clip).max() * (1 - 1e-6)).mean()), "outs": outs}))
