# Issue 15's declick bar ("after declick, the error around each click
# against the clean original is at least 20 dB lower than the damaged
# file's"): what AR interpolation could reach with everything known. An
# upper bound for any declick that rebuilds the damaged samples from an AR
# model (ffmpeg adeclick, RX-style least-squares AR interpolation, ours):
# each of bench/clicks_damage.py's 200 clicks is rebuilt by least-squares
# AR interpolation (Janssen/Vaseghi: the samples that minimise the model's
# prediction error, the others held) with
#  - the place and length of the click known exactly (no detection), and
#  - the AR model of order P fitted on the CLEAN audio (4096 samples, Hann,
#    centred on the click; autocorrelation + Levinson), so the damage never
#    spoils it.
# The error is taken over the click and 2 ms either side, against the clean
# track: damaged (the click's energy) over repaired, in dB.
#   python3 bench/declick_oracle.py MUSIC_DIR [SEED] [ORDERS, e.g. 32,64,256]
import json, sys
import numpy as np
from scipy.linalg import solve_toeplitz

from clicks_damage import BANDS, damage, tracks

music = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 15
orders = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "32,64,256").split(",")]
W = 4096
win = np.sin(np.pi * (np.arange(W) + 0.5) / W) ** 2


def fit(seg, P):
    y = seg * win
    r = np.array([y[: W - k] @ y[k:] for k in range(P + 1)])
    r[0] *= 1 + 1e-9
    return np.concatenate([[1.0], solve_toeplitz(r[:P], -r[1 : P + 1])])


def interpolate(x, a, pos, L):
    """x with x[pos:pos+L] replaced by the least-squares AR interpolation."""
    P = len(a) - 1
    # The prediction errors that see a missing sample, e[n] = sum_k a_k
    # x[n-k] for n in [pos, pos+L+P): split into known and missing parts.
    n = np.arange(pos, pos + L + P)
    A = np.zeros((len(n), L))
    b = np.zeros(len(n))
    for r, t in enumerate(n):
        for k in range(P + 1):
            i = t - k
            if pos <= i < pos + L:
                A[r, i - pos] += a[k]
            else:
                b[r] += a[k] * x[i]
    sol, *_ = np.linalg.lstsq(A, -b, rcond=None)
    y = x.copy()
    y[pos : pos + L] = sol
    return y


tr = tracks(music)
dam, clicks = damage(tr, seed)
res = {P: [] for P in orders}
for (t, ch, pos, L, db) in clicks:
    rate, full = tr[t][2], tr[t][4]
    xc = tr[t][3][:, ch].astype(np.float64) / full
    xd = dam[t][:, ch]
    m = int(0.002 * rate)
    lo, hi = pos - m, pos + L + m
    ed = np.sum((xd[lo:hi] - xc[lo:hi]) ** 2)
    for P in orders:
        a = fit(xc[pos + L // 2 - W // 2 : pos + L // 2 + W // 2], P)
        off = max(P, m) + 4
        y = interpolate(xd[pos - off : pos + L + off].copy(), a, off, L)
        er = np.sum((y[off - m : off + L + m] - xc[pos - m : pos + L + m]) ** 2)
        res[P].append((db, L, 10 * np.log10(ed / max(er, 1e-30))))
out = {"seed": seed, "clicks": len(clicks), "orders": {}}
for P in orders:
    g = np.array([r[2] for r in res[P]])
    ok = int(np.sum(g >= 20))
    by = {}
    for lo_, hi_ in BANDS:
        sel = np.array([r[2] for r in res[P] if lo_ <= r[0] < hi_])
        by[f"{lo_}..{hi_}"] = [int(np.sum(sel >= 20)), len(sel), round(float(np.median(sel)), 1)]
    byL = {}
    for a_, b_ in ((1, 5), (6, 10), (11, 15), (16, 20)):
        sel = np.array([r[2] for r in res[P] if a_ <= r[1] <= b_])
        byL[f"{a_}..{b_}"] = [int(np.sum(sel >= 20)), len(sel), round(float(np.median(sel)), 1)]
    out["orders"][P] = {"20dB_or_better": ok, "median_db": round(float(np.median(g)), 1),
                        "min_db": round(float(g.min()), 1), "by_db": by, "by_length": byL}
    print(f"AR({P}): {ok}/{len(g)} clicks repaired 20 dB or better; median {np.median(g):.1f} dB, "
          f"worst {g.min():.1f} dB")
    for k, v in by.items():
        print(f"  click {k} dB: {v[0]}/{v[1]} (median {v[2]} dB)")
    for k, v in byL.items():
        print(f"  length {k} samples: {v[0]}/{v[1]} (median {v[2]} dB)")
print(json.dumps(out))
