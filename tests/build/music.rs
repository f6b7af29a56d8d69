//! Music-like test signals from fixed seeds: a chord progression with
//! harmonics, kick and snare transients, hi-hats, noise bursts and an
//! optional saturation for dense, loud material; scaled to a chosen
//! integrated loudness and written as plain PCM with glassmaster's
//! `WavWriter`.

use std::f64::consts::TAU;
use std::path::Path;

use glassmaster::analysis::Meter;
use glassmaster::audio::{Block, WavFormat, WavWriter};

/// xorshift64*: the same noise on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// How a piece sounds.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub bpm: f64,
    /// MIDI note of the progression's root.
    pub root: f64,
    /// Levels of the parts (linear, before scaling to loudness).
    pub pad: f64,
    pub kick: f64,
    pub snare: f64,
    pub hat: f64,
    pub bursts: f64,
    /// Saturation (tanh) drive of the bed; 0 = none. Dense, loud pieces
    /// use 2..6.
    pub drive: f64,
}

impl Style {
    /// A sparse piece: a soft pad with occasional hits (high crest).
    pub const SPARSE: Style = Style {
        bpm: 84.0,
        root: 50.0,
        pad: 0.25,
        kick: 0.9,
        snare: 0.5,
        hat: 0.05,
        bursts: 0.1,
        drive: 0.0,
    };
    /// A band: everything at moderate levels.
    pub const BAND: Style = Style {
        bpm: 118.0,
        root: 45.0,
        pad: 0.35,
        kick: 0.8,
        snare: 0.6,
        hat: 0.15,
        bursts: 0.2,
        drive: 0.0,
    };
    /// Dense and loud: a wall of harmonics and noise, saturated.
    pub const DENSE: Style = Style {
        bpm: 140.0,
        root: 40.0,
        pad: 0.8,
        kick: 1.0,
        snare: 0.8,
        hat: 0.3,
        bursts: 0.6,
        drive: 4.0,
    };
}

fn midi(note: f64) -> f64 {
    440.0 * 2f64.powf((note - 69.0) / 12.0)
}

/// Attack-decay envelope.
fn env(t: f64, attack: f64, decay: f64) -> f64 {
    if t < 0.0 {
        0.0
    } else if t < attack {
        t / attack
    } else {
        (-(t - attack) / decay).exp()
    }
}

/// `secs` of a piece in `style` at `rate`, stereo, unscaled.
pub fn compose(rate: u32, secs: f64, seed: u64, style: Style) -> Block {
    let mut rng = Rng::new(seed);
    let n = (secs * f64::from(rate)) as usize;
    let fs = f64::from(rate);
    let beat = 60.0 / style.bpm;
    let bar = 4.0 * beat;
    // i - vi - IV - V (in semitones from the root), triads.
    let progression: [[f64; 3]; 4] = [
        [0.0, 4.0, 7.0],
        [9.0, 12.0, 16.0],
        [5.0, 9.0, 12.0],
        [7.0, 11.0, 14.0],
    ];
    // Noise bursts: random starts, 0.2..0.6 s long.
    let bursts: Vec<(f64, f64, f64)> = (0..(secs / 2.0) as usize)
        .map(|_| {
            let start = (rng.next() * 0.5 + 0.5) * secs;
            let len = 0.2 + 0.2 * (rng.next() + 1.0);
            let pan = rng.next() * 0.6;
            (start, len, pan)
        })
        .collect();
    let mut out = Block::with_capacity(n);
    let (mut lp_l, mut lp_r, mut prev_hat) = (0.0f64, 0.0f64, 0.0f64);
    let detune = 1.0 + 0.002 * (rng.next() + 1.0);
    for i in 0..n {
        let t = i as f64 / fs;
        let tb = t % beat;
        let beat_no = (t / beat) as u64;
        let chord = progression[((t / bar) as usize) % 4];
        let tbar = t % bar;
        // Pad: three notes, six harmonics each (1/h), slow attack per bar.
        let mut pl = 0.0;
        let mut pr = 0.0;
        let pad_env = env(tbar, 0.08, bar * 0.8) * 0.6 + 0.4;
        for (k, &semi) in chord.iter().enumerate() {
            let f = midi(style.root + 12.0 + semi);
            for h in 1..=6 {
                let hf = f64::from(h);
                if f * hf > fs * 0.45 {
                    break;
                }
                let a = 1.0 / hf;
                pl += a * (TAU * f * hf * t + k as f64).sin();
                pr += a * (TAU * f * hf * detune * t + 0.3 * hf).sin();
            }
        }
        let pad = style.pad * pad_env / 6.0;
        // Kick on beats 1 and 3: a falling sine, fast decay.
        let kick = if beat_no.is_multiple_of(2) {
            let ph = TAU * (45.0 * tb + 80.0 * 0.04 * (1.0 - (-tb / 0.04).exp()));
            style.kick * ph.sin() * env(tb, 0.002, 0.18)
        } else {
            0.0
        };
        // Snare on 2 and 4: noise plus a 190 Hz body.
        let noise = rng.next();
        let snare = if beat_no % 2 == 1 {
            style.snare * (0.7 * noise + 0.3 * (TAU * 190.0 * tb).sin()) * env(tb, 0.001, 0.09)
        } else {
            0.0
        };
        // Hi-hat on eighths: differentiated noise, very short.
        let th = t % (beat / 2.0);
        let hn = rng.next();
        let hat = style.hat * (hn - prev_hat) * 0.5 * env(th, 0.0005, 0.025);
        prev_hat = hn;
        // Noise bursts: low-passed noise swells.
        let mut burst = 0.0;
        let mut bpan = 0.0;
        for &(s, len, pan) in &bursts {
            if t >= s && t < s + len {
                let x = (t - s) / len;
                burst += (std::f64::consts::PI * x).sin();
                bpan = pan;
            }
        }
        lp_l += 0.15 * (rng.next() - lp_l);
        lp_r += 0.15 * (rng.next() - lp_r);
        let bl = style.bursts * burst * lp_l * 2.0 * (1.0 - bpan);
        let br = style.bursts * burst * lp_r * 2.0 * (1.0 + bpan);
        // The bed (pad, hats, bursts) is saturated; the drums stay on top
        // of it, so that even a dense track keeps transients.
        let mut l = pad * pl + hat + bl;
        let mut r = pad * pr + hat * 0.8 + br;
        if style.drive > 0.0 {
            l = (style.drive * l).tanh() / style.drive.tanh();
            r = (style.drive * r).tanh() / style.drive.tanh();
        }
        out.left.push(l + kick + snare * 0.9);
        out.right.push(r + kick + snare * 1.1);
    }
    out
}

/// Integrated loudness and sample peak of a block, by glassmaster's meter
/// (only used to set the generated levels; the tests measure with ffmpeg).
pub fn loudness(b: &Block, rate: u32) -> (f64, f64) {
    let mut m = Meter::new(rate).unwrap();
    m.add(b);
    let (meas, _) = m.finish();
    let peak = b
        .left
        .iter()
        .chain(&b.right)
        .fold(0.0f64, |a, &x| a.max(x.abs()));
    (meas.integrated_lufs.unwrap(), 20.0 * peak.log10())
}

fn scale(b: &mut Block, g: f64) {
    for x in b.left.iter_mut().chain(b.right.iter_mut()) {
        *x *= g;
    }
}

/// Scales a piece to `lufs`; where that would take a sample over
/// `max_peak_dbfs`, the peaks are clipped there and the level corrected
/// (a few rounds). Returns the loudness and sample peak reached.
pub fn level(b: &mut Block, rate: u32, lufs: f64, max_peak_dbfs: f64) -> (f64, f64) {
    let ceiling = 10f64.powf(max_peak_dbfs / 20.0);
    for _ in 0..6 {
        let (l, _) = loudness(b, rate);
        scale(b, 10f64.powf((lufs - l) / 20.0));
        let mut clipped = false;
        for x in b.left.iter_mut().chain(b.right.iter_mut()) {
            if x.abs() > ceiling {
                *x = ceiling.copysign(*x);
                clipped = true;
            }
        }
        if !clipped {
            break;
        }
    }
    loudness(b, rate)
}

/// A 2nd-order Butterworth low-pass at `f` Hz (RBJ cookbook), in place;
/// twice for -24 dB/octave.
pub fn lowpass(x: &mut [f64], rate: u32, f: f64) {
    let w = TAU * f / f64::from(rate);
    let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let cos = w.cos();
    let a0 = 1.0 + alpha;
    let b0 = (1.0 - cos) / 2.0 / a0;
    let b1 = (1.0 - cos) / a0;
    let a1 = -2.0 * cos / a0;
    let a2 = (1.0 - alpha) / a0;
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    for s in x.iter_mut() {
        let y = b0 * *s + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = *s;
        y2 = y1;
        y1 = y;
        *s = y;
    }
}

/// Writes a block as plain PCM (`channels` 1 takes the left channel).
pub fn write(path: &Path, b: &Block, rate: u32, channels: u16, format: WavFormat) {
    let mut w = WavWriter::create(path, rate, channels, format).unwrap();
    w.write_block(b).unwrap();
    w.finalize().unwrap();
}

/// One generated source.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub title: String,
    pub rate: u32,
    pub channels: u16,
    pub lufs: f64,
    pub peak_dbfs: f64,
    pub secs: f64,
    /// More YAML for the track's manifest entry (e.g. `gain_db`).
    pub extra: String,
}

/// Generates a piece and writes it to `dir/file`; returns what it is.
#[allow(clippy::too_many_arguments)]
pub fn make(
    dir: &Path,
    file: &str,
    title: &str,
    rate: u32,
    channels: u16,
    secs: f64,
    seed: u64,
    style: Style,
    lufs: f64,
    max_peak_dbfs: f64,
) -> Source {
    let mut b = compose(rate, secs, seed, style);
    if channels == 1 {
        b.right = b.left.clone();
    }
    let (l, p) = level(&mut b, rate, lufs, max_peak_dbfs);
    write(&dir.join(file), &b, rate, channels, WavFormat::Int24);
    Source {
        file: file.into(),
        title: title.into(),
        rate,
        channels,
        lufs: l,
        peak_dbfs: p,
        secs,
        extra: String::new(),
    }
}
