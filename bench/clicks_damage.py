# The damage of issue 15's click bar, shared by bench/clicks.py and
# bench/clicks_oracle.py so both see the same 200 clicks: the eleven
# real-music tracks in full, alternating 48 kHz/24-bit and 44.1 kHz/16-bit;
# 200 seeded clicks of 1-20 samples of uniform noise, peak -30 to -6 dB
# against the RMS of the 10 ms around, one channel each, at least 100 ms
# apart, only where that RMS is -60 dBFS or more.
import glob, os
import numpy as np
from scipy.io import wavfile


def tracks(music):
    """[(name, path, rate, int samples, full scale)] in name order."""
    names = sorted(os.path.basename(p) for p in glob.glob(music + "/wav48/*.wav"))
    out = []
    for i, n in enumerate(names):
        sub = "wav48" if i % 2 == 0 else "wav44"
        r, x = wavfile.read(f"{music}/{sub}/{n}")
        full = 2.0**31 if x.dtype == np.int32 else 2.0**15
        out.append((n[:-4], f"{music}/{sub}/{n}", r, x, full))
    return out


def damage(tr, seed=15, n=200):
    """The damaged tracks (float, full scale 1) and the clicks
    [(track, channel, start sample, length, dB against the local RMS)]."""
    rng = np.random.default_rng(seed)
    lens = np.array([len(t[3]) for t in tr])
    w = lens / lens.sum()
    clicks = []
    dam = [t[3].astype(np.float64) / t[4] for t in tr]
    while len(clicks) < n:
        t = int(rng.choice(len(tr), p=w))
        rate = tr[t][2]
        x = dam[t]
        pos = int(rng.integers(rate, len(x) - rate))
        ch = int(rng.integers(2))
        if any(c[0] == t and abs(c[2] - pos) < 0.1 * rate for c in clicks):
            continue
        h = int(0.005 * rate)
        lvl = np.sqrt(np.mean(x[pos - h:pos + h, ch] ** 2))
        if lvl < 1e-3:
            continue
        L = int(rng.integers(1, 21))
        db = rng.uniform(-30, -6)
        v = rng.uniform(-1, 1, L)
        v /= np.abs(v).max()
        x[pos:pos + L, ch] += v * lvl * 10 ** (db / 20)
        clicks.append((t, ch, pos, L, db))
    return dam, clicks


BANDS = [(-30, -24), (-24, -18), (-18, -12), (-12, -6)]
