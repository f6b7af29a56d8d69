//! Issue 11 point 10: `build --dry-run --json` writes nothing (the folder
//! listings before and after) and its plan is what `build` then does: the
//! matching gains within 0.05 dB, the disc layout frame for frame, every
//! output accounted for. `build --json` prints the outputs it wrote.

use std::path::Path;

use super::{demo_build, gm, snapshot};
use crate::util::scratch;

fn listing(dir: &Path) -> Vec<String> {
    snapshot(dir).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn dry_run_writes_nothing_and_plans_what_build_does() {
    let (built, report) = demo_build();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = root.join("examples/demo");
    let dir = scratch("build-dry-run");
    let out = dir.join("out");
    let (demo_before, dir_before) = (snapshot(&demo), listing(&dir));
    let o = gm(
        &dir,
        &[
            "build",
            demo.join("album.yaml").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--dry-run",
            "--json",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(
        listing(&dir),
        dir_before,
        "the dry run wrote into {}",
        dir.display()
    );
    assert!(
        snapshot(&demo) == demo_before,
        "the dry run changed examples/demo"
    );
    assert!(!out.exists());
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();

    // The gains, as the build applied them.
    let planned = plan["tracks"].as_array().unwrap();
    let tracks = report["tracks"].as_array().unwrap();
    assert_eq!(planned.len(), tracks.len());
    for (p, t) in planned.iter().zip(tracks) {
        let (a, b) = (
            p["gain_db"].as_f64().unwrap(),
            t["master"]["gain_db"].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 0.05,
            "track {}: plan {a} dB, build {b} dB",
            t["number"]
        );
    }
    // The disc, frame for frame.
    assert_eq!(plan["cd"]["total_frames"], report["cd"]["total_frames"]);
    for (p, t) in plan["cd"]["tracks"].as_array().unwrap().iter().zip(tracks) {
        for key in ["start_frame", "pregap_frames", "length_frames", "indexes"] {
            assert_eq!(p[key], t["cd"][key], "track {} {key}", t["number"]);
        }
    }
    // Every planned file is written, and every output was planned.
    let files: Vec<&str> = plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in files.iter().filter(|f| !f.ends_with('/')) {
        assert!(built.join(f).is_file(), "planned {f} is not in the build");
    }
    for o in report["outputs"].as_array().unwrap() {
        let path = o["path"].as_str().unwrap();
        assert!(
            files
                .iter()
                .any(|f| *f == path || (f.ends_with('/') && path.starts_with(f))),
            "{path} was written but not planned: {files:?}"
        );
    }

    // `build --json`: the outputs it wrote, as report.json lists them.
    let o = gm(
        &dir,
        &[
            "build",
            demo.join("album.yaml").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--only",
            "masters",
            "--json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    let written = super::report(&out);
    assert_eq!(doc["outputs"], written["outputs"]);
    assert_eq!(doc["outputs"].as_array().unwrap().len(), tracks.len());
}
