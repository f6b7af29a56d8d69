//! Issue 13 side by side with Matchering 2 (the short version of
//! bench/match.sh; skipped without `pip install matchering` or ffmpeg):
//! one real-music excerpt (25 s, 44.1 kHz 16-bit, as Matchering works at 44.1 kHz) altered by a +5 dB shelf at
//! 150 Hz, matched to its original by both tools. Measured by the test's
//! own FFT (tonal.rs `bands_db`) and by ffmpeg's EBU R128 meter:
//! glassmaster is at least as close to the reference, lands within 0.2 LU
//! of the manifest's -14 LUFS and under its -1 dBTP ceiling. Matchering's
//! distance, loudness and true peak are printed beside ours.

use std::process::Command;

use super::tonal::{bands_db, biquad, distance, manifest, read_wav, write_wav24};
use super::{build_ok, ffmpeg_r128};
use crate::dsp::ceiling::real_music;
use crate::util::{have_python, have_tool, scratch};

const RATE: u32 = 44_100;

#[test]
fn closer_to_the_reference_than_matchering_on_target_and_under_the_ceiling() {
    if !have_tool("ffmpeg", "matchering comparison") {
        return;
    }
    if !have_python("matchering", "matchering comparison") {
        return;
    }
    let Some(b) = real_music("wav44", "hr3-jungle.wav", 20.0, 25.0, -6.0) else {
        return;
    };
    let orig = [b.left, b.right];
    let mut alt = orig.clone();
    alt.iter_mut()
        .for_each(|ch| biquad(ch, f64::from(RATE), "shelf", 150.0, 5.0, 0.707));
    let dir = scratch("tonal-matchering");
    write_wav24(&dir.join("orig.wav"), RATE, &[&orig[0], &orig[1]]);
    write_wav24(&dir.join("alt.wav"), RATE, &[&alt[0], &alt[1]]);
    let text = manifest(
        &["alt.wav"],
        "  match: { to: reference, reference: [orig.wav], strength: 1 }\n",
    )
    .replace(
        "loudness_mode: album\n  target_lufs: -20",
        "loudness_mode: track\n  target_lufs: -14\n  true_peak_dbtp: -1",
    );
    std::fs::write(dir.join("m.yaml"), text).unwrap();
    let (_, _) = build_ok(&dir, "m.yaml", "out", &[]);
    let ours = super::masters(&dir.join("out"))[0].clone();
    let o = Command::new("python3")
        .current_dir(&dir)
        .args([
            "-c",
            "import matchering as mg; mg.process(target='alt.wav', reference='orig.wav', results=[mg.pcm24('mg.wav')])",
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "matchering failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reference = bands_db(&orig, RATE);
    let d = |p: &std::path::Path| distance(&bands_db(&read_wav(p), RATE), &reference);
    let (before, d_ours, d_mg) = (d(&dir.join("alt.wav")), d(&ours), d(&dir.join("mg.wav")));
    let r_ours = ffmpeg_r128(std::slice::from_ref(&ours), &dir);
    let r_mg = ffmpeg_r128(&[dir.join("mg.wav")], &dir);
    eprintln!(
        "altered {before:.2} dB from the reference; glassmaster {d_ours:.2} dB, {:.2} LUFS, {:.1} dBTP; matchering {d_mg:.2} dB, {:.2} LUFS, {:.1} dBTP",
        r_ours.i, r_ours.tp_printed, r_mg.i, r_mg.tp_printed
    );
    assert!(
        d_ours <= d_mg,
        "ours {d_ours:.2} dB, matchering {d_mg:.2} dB"
    );
    assert!(d_ours < 0.25 * before);
    assert!((r_ours.i + 14.0).abs() <= 0.2, "{} LUFS", r_ours.i);
    assert!(r_ours.tp_printed <= -1.0, "{} dBTP", r_ours.tp_printed);
}
