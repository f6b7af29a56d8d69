//! `declip` on real music (issue 15): excerpts hard-clipped 3 and 6 dB
//! below their own sample peak (in f64, here), rebuilt by our stage
//! (`threshold: auto`, the levels learned by [`ClipLearner`] as the
//! learning pass does) and by ffmpeg's `adeclip` (its defaults) from the
//! same f32 file; the error energy against the unclipped excerpt, before
//! and after, measured by numpy (`repair_measure.py declip`). The bar: at
//! least 6 dB lower, and at least as low as adeclip's. Our output must be
//! aligned and keep every sample under the clip level bit for bit; on an
//! unclipped excerpt the stage learns nothing and changes nothing.
//!
//! CI runs 10 s of three tracks (48 and 44.1 kHz).
//! `GLASSMASTER_DECLIP_FULL=1` (bench/repair.sh) runs the eleven 48 kHz
//! tracks whole instead. Run with `-- --nocapture` for the figures.

use std::path::PathBuf;

use glassmaster::audio::Block;
use glassmaster::dsp::{ClipLearner, ClipLevels, Declip, DeclipParams, Stage};

use super::ceiling::real_music;
use super::repair::{blocks, ffmpeg, measure, p, through, tools, write_f32, TRACKS};
use crate::util::scratch;

fn learn(x: &Block) -> ClipLevels {
    let mut l = ClipLearner::new(None, true);
    for b in blocks(x) {
        l.add(&b);
    }
    l.finish()
}

pub(crate) fn declip(rate: u32, x: &Block) -> Block {
    let d = Declip::new(rate, DeclipParams::default(), &learn(x)).unwrap();
    through(Stage::Declip(Box::new(d)), x)
}

fn excerpts(full: bool) -> Vec<(String, u32, Block)> {
    let mut out = Vec::new();
    if full {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/real-music/wav48");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".wav"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for n in names {
            if let Some(b) = real_music("wav48", &n, 0.0, 1e7, 0.0) {
                out.push((n, 48_000, b));
            }
        }
    } else {
        for (sub, name, from, rate) in TRACKS {
            if let Some(b) = real_music(sub, name, from, 10.0, 0.0) {
                out.push((name.to_owned(), rate, b));
            }
        }
    }
    out
}

#[test]
fn declip_rebuilds_clipped_real_music_better_than_adeclip() {
    if !tools("declip") {
        return;
    }
    let full = std::env::var_os("GLASSMASTER_DECLIP_FULL").is_some();
    let tracks = excerpts(full);
    if tracks.is_empty() {
        return;
    }
    let dir = scratch("repair-declip");
    for db in [3.0, 6.0] {
        let (mut e_clip, mut e_ours, mut e_ff) = (0.0, 0.0, 0.0);
        for (i, (name, rate, clean)) in tracks.iter().enumerate() {
            let peak = clean
                .left
                .iter()
                .chain(&clean.right)
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let level = peak * 10f64.powf(-db / 20.0);
            let clipped = Block {
                left: clean.left.iter().map(|v| v.clamp(-level, level)).collect(),
                right: clean.right.iter().map(|v| v.clamp(-level, level)).collect(),
            };
            let ours = declip(*rate, &clipped);
            for (o, c) in ours
                .left
                .iter()
                .zip(&clipped.left)
                .chain(ours.right.iter().zip(&clipped.right))
            {
                if c.abs() < level {
                    assert_eq!(o, c, "{name}: a sample under the clip level changed");
                } else {
                    assert!(o * c.signum() >= level, "{name}: rebuilt under the level");
                }
            }
            let files: Vec<PathBuf> = ["clean", "clipped", "ours", "adeclip"]
                .iter()
                .map(|s| dir.join(format!("{i}-{db}-{s}.wav")))
                .collect();
            write_f32(&files[0], *rate, clean);
            write_f32(&files[1], *rate, &clipped);
            write_f32(&files[2], *rate, &ours);
            ffmpeg(&files[1], "adeclip", &files[3]);
            let m = measure(&[
                "declip",
                p(&files[0]),
                p(&files[1]),
                p(&files[2]),
                p(&files[3]),
            ]);
            let e0 = m["clipped_error"].as_f64().unwrap();
            let (mo, mf) = (&m["outs"][0], &m["outs"][1]);
            assert_eq!(mo["lag"].as_i64(), Some(0), "{name}: {m}");
            assert_eq!(mo["length"].as_u64(), Some(clean.len() as u64));
            println!(
                "declip {name} clipped {db} dB ({:.2} % of samples): error {:.2} dB lower with declip, {:.2} dB with adeclip (lag {})",
                100.0 * m["clipped_fraction"].as_f64().unwrap(),
                mo["reduction_db"].as_f64().unwrap(),
                mf["reduction_db"].as_f64().unwrap(),
                mf["lag"]
            );
            e_clip += e0;
            e_ours += mo["error"].as_f64().unwrap();
            e_ff += mf["error"].as_f64().unwrap();
        }
        let (ours, theirs) = (
            10.0 * (e_clip / e_ours).log10(),
            10.0 * (e_clip / e_ff).log10(),
        );
        println!(
            "declip, all {} tracks clipped {db} dB: error energy {ours:.2} dB lower with declip, {theirs:.2} dB with adeclip",
            tracks.len()
        );
        assert!(ours >= 6.0, "clipped {db} dB: only {ours:.2} dB");
        assert!(
            ours >= theirs,
            "clipped {db} dB: ours {ours:.2}, adeclip {theirs:.2}"
        );
    }
}

#[test]
fn declip_leaves_unclipped_real_music_alone() {
    // The excerpts as they are: no plateau at the peak, nothing learned,
    // the stage a bypass (bit-identical).
    for (name, rate, clean) in excerpts(false) {
        let levels = learn(&clean);
        assert!(levels.is_empty(), "{name}: {levels:?}");
        assert_eq!(declip(rate, &clean).left, clean.left, "{name}");
    }
}
