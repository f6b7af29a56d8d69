# Issue 15's click bar: is 95 % recall at <= 1 false per 10 min reachable by
# any detector that works on an AR model's prediction error? An upper bound:
# the AR model of order P is fitted on the CLEAN audio (4096 samples, Hann,
# centred on each 2048-sample hop, autocorrelation + Levinson), so the
# damage never spoils the model; the detector is told where each click
# starts and how long it is.
#
# Statistic (the GLRT of an unknown burst of L samples at p under the
# model, Vaseghi/Godsill): with e = A(z) x the prediction error and
# g = A(1/z) e (the two-sided matched filter), T_L(p) = g_w' Q_L^-1 g_w / s^2,
# g_w = g[p..p+L), Q_L the L x L Toeplitz matrix of A's autocorrelation,
# s = 1.4826 x median |e| of the clean error per 256 samples, the largest
# of the start's block and its neighbours
# (a robust local scale). T_L is the error energy that the best burst of L
# samples at p would remove; chi-square with L degrees of freedom for
# Gaussian error. Two thresholds, each the largest value on the clean
# tracks that leaves at most 1 false detection per 10 minutes (per hop of
# 2048 samples: the hop maxima of the clean tracks, sorted):
#  - "known L": one threshold per length L, the click judged at its own L
#    (an upper bound: a real detector does not know L);
#  - "any L": z = max over L of the Wilson-Hilferty normal score of T_L, a
#    click found when z within 2 ms of it, any L, is over the threshold
#    (what a GLRT detector over L = 1..20 with the clean model would do).
#   python3 bench/clicks_oracle.py MUSIC_DIR [ORDER] [SEED]
# Prints per level band what each could find, and one JSON line.
import json, sys, time
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.linalg import solve_toeplitz, toeplitz
from scipy.signal import lfilter

from clicks_damage import BANDS, damage, tracks

music = sys.argv[1]
P = int(sys.argv[2]) if len(sys.argv) > 2 else 32
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 15
H, W, LMAX, SB = 2048, 4096, 20, 512
win = np.sin(np.pi * (np.arange(W) + 0.5) / W) ** 2


def fit(seg):
    y = seg * win
    r = np.array([y[: W - k] @ y[k:] for k in range(P + 1)])
    if r[0] <= 0:
        return None
    r[0] *= 1 + 1e-6
    c = solve_toeplitz(r[:P], -r[1 : P + 1])
    return np.concatenate([[1.0], c])


def wh(T, L):
    """Wilson-Hilferty: chi-square(L) to a normal score."""
    v = 2.0 / (9 * L)
    return (np.cbrt(np.maximum(T, 0) / L) - (1 - v)) / np.sqrt(v)


def stats(x, s0, a, sig):
    """T_L for every start in [s0, s0+H), L = 1..LMAX (H x LMAX)."""
    seg = x[s0 - 2 * P : s0 + H + LMAX + 2 * P]
    e = lfilter(a, 1.0, seg)[P:]  # valid from s0 - P
    g = np.correlate(e, a, "valid")  # g[i] at s0 - P + i
    g = g[P : P + H + LMAX]
    G = sliding_window_view(g, LMAX)[:H]
    ra = np.correlate(a, a, "full")[P:]
    ra = np.concatenate([ra, np.zeros(LMAX)])
    Q = toeplitz(ra[:LMAX])
    out = np.empty((H, LMAX))
    for L in range(1, LMAX + 1):
        Qi = np.linalg.inv(Q[:L, :L])
        GL = G[:, :L]
        out[:, L - 1] = ((GL @ Qi) * GL).sum(1)
    return out / sig[:, None] ** 2


t0 = time.time()
tr = tracks(music)
dam, clicks = damage(tr, seed)
hopmax_known = []  # per hop, max T_L per L (clean)
hopmax_any = []  # per hop, max z (clean)
res_clicks = []  # (band db, L, T_L at its place and length, max z within 2 ms)
minutes = 0.0
for t, (name, path, rate, xi, full) in enumerate(tr):
    minutes += len(xi) / rate / 60
    for ch in range(2):
        xc = xi[:, ch].astype(np.float64) / full
        xd = dam[t][:, ch]
        mine = [c for c in clicks if c[0] == t and c[1] == ch]
        N = len(xc)
        for s0 in range(W, N - W - H, H):
            c0 = s0 + H // 2 - W // 2
            a = fit(xc[c0 : c0 + W])
            if a is None:
                continue
            # robust scale of the clean error per 256 samples; at each
            # start the largest of its block and the blocks either side
            B = SB // 2
            e = lfilter(a, 1.0, xc[s0 - B - P : s0 + H + B])[P:]
            sb = 1.4826 * np.median(np.abs(e.reshape(-1, B)), axis=1)
            j = np.arange(H) // B + 1
            sig = np.maximum(np.maximum(sb[j - 1], sb[j]), sb[j + 1])
            sig = np.maximum(sig, 1e-9)
            S = stats(xc, s0, a, sig)
            hopmax_known.append(S.max(0))
            z = np.max(wh(S, np.arange(1, LMAX + 1)), axis=1)
            hopmax_any.append(z.max())
            for c in mine:
                if s0 <= c[2] < s0 + H:
                    Sd = stats(xd, s0, a, sig)
                    i = c[2] - s0
                    T = Sd[i, c[3] - 1]
                    zd = np.max(wh(Sd, np.arange(1, LMAX + 1)), axis=1)
                    w2 = int(0.002 * rate)
                    zmax = zd[max(0, i - w2) : i + w2 + 1].max()
                    res_clicks.append((c[4], c[3], float(T), float(zmax), name))
    print(f"  {name}: {time.time() - t0:.0f} s", file=sys.stderr, flush=True)

hk = np.array(hopmax_known)
ha = np.array(hopmax_any)
allowed = int(np.floor(minutes / 10))  # false detections allowed in total
thr_known = np.sort(hk, axis=0)[-(allowed + 1)]  # per L: the (allowed+1)-th largest
thr_any = np.sort(ha)[-(allowed + 1)]
found_known = [r for r in res_clicks if r[2] > thr_known[r[1] - 1]]
found_any = [r for r in res_clicks if r[3] > thr_any]
out = {"order": P, "seed": seed, "minutes": round(minutes, 2), "allowed_false": allowed,
       "clicks": len(res_clicks), "known_L": len(found_known), "any_L": len(found_any), "by_db": {},
       "thr_known_dB": [round(10 * np.log10(v), 1) for v in thr_known], "thr_any_z": round(float(thr_any), 2)}
print(f"order {P}, {minutes:.1f} min, {len(res_clicks)} clicks judged, at most {allowed} false on the clean tracks")
for lo, hi in BANDS:
    sel = [r for r in res_clicks if lo <= r[0] < hi]
    k = sum(1 for r in found_known if lo <= r[0] < hi)
    a_ = sum(1 for r in found_any if lo <= r[0] < hi)
    out["by_db"][f"{lo}..{hi}"] = [k, a_, len(sel)]
    print(f"  {lo}..{hi} dB: known L {k}/{len(sel)}, any L {a_}/{len(sel)}")
print(f"  all: known L {len(found_known)}/{len(res_clicks)}, any L {len(found_any)}/{len(res_clicks)}")
print(f"  thresholds known L (dB of T_L): {out['thr_known_dB']}; any L z > {thr_any:.2f}")
# the same with no false detection allowed at all, and with 10x more
for k_ in (0, 10 * allowed + 9):
    tk = np.sort(hk, axis=0)[-(k_ + 1)]
    ta = np.sort(ha)[-(k_ + 1)]
    print(f"  with {k_} false: known L {sum(1 for r in res_clicks if r[2] > tk[r[1]-1])}, "
          f"any L {sum(1 for r in res_clicks if r[3] > ta)}")
print(f"  {time.time() - t0:.0f} s", file=sys.stderr)
print(json.dumps(out))
