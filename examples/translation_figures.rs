//! Prints the playback translation figures of the given files (as
//! `check` measures sources, restoration detectors included) and the
//! measuring pass's time with and without them:
//! `cargo run --release --example translation_figures -- a.wav b.flac`.

use std::time::Instant;

use glassmaster::analysis::{analyze_file_with_extras, Extras};

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let mut losses = Vec::new();
    let mut rows = Vec::new();
    for p in &paths {
        // `check`'s defaults: the restoration detectors at 5 ms dropouts.
        let off = Extras {
            min_dropout_ms: Some(5.0),
            translation: false,
        };
        let on = Extras {
            translation: true,
            ..off
        };
        let t0 = Instant::now();
        let plain = analyze_file_with_extras(p, off, &mut |_| {}).expect("decodes");
        let t1 = Instant::now();
        let f = analyze_file_with_extras(p, on, &mut |_| {}).expect("decodes");
        let t2 = Instant::now();
        let t = f.measurement.translation.clone().expect("translation");
        losses.push(t.phone_loss_lu);
        rows.push((p.clone(), t, plain.measurement.duration_s, t1 - t0, t2 - t1));
    }
    let vs = glassmaster::analysis::translation::phone_vs_album(&losses);
    for ((p, t, d, a, b), v) in rows.iter().zip(vs) {
        println!(
            "{}: mono {:?} LU, corr {:?}, phone {:?} LU (vs album {:?}), low share {:.1} % corr {:?} peak-to-loudness {:?} dB, PSR min {:?} median {:?} dB; {d:.0} s metered in {:.2} s, {:.2} s with translation",
            p.file_name().unwrap().to_string_lossy(),
            t.mono_loss_lu.map(r2),
            t.band_correlation.map(|c| c.map(r2)),
            t.phone_loss_lu.map(r2),
            v.map(r2),
            t.low_end_share_pct,
            t.low_end_correlation.map(r2),
            t.low_end_peak_to_loudness_db.map(r2),
            t.psr_min_db.map(r2),
            t.psr_median_db.map(r2),
            a.as_secs_f64(),
            b.as_secs_f64(),
        );
    }
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
