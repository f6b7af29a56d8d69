//! Issue 11 points 1 and 11: `build --only streaming --force` on a full
//! build makes the bundles again and keeps `cd/` and `masters/` byte for
//! byte, with report.json merged so that `verify` still passes; the file
//! count `build` prints is the one `verify` checks.

use super::verify::{copy_of_demo, manifest, root, verify};
use super::{gm, snapshot};

/// The "(N outputs" figure of build's last line.
fn built_count(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no `built` line:\n{stderr}"));
    let at = line.find(" outputs").expect("an output count");
    let head = &line[..at];
    head[head.rfind('(').unwrap() + 1..].parse().unwrap()
}

#[test]
fn only_streaming_keeps_the_cd_and_the_masters_and_verify_passes() {
    let out = copy_of_demo("only-streaming");
    let before = snapshot(&out);
    let kept = |snap: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        snap.iter()
            .filter(|(p, _)| p.starts_with("cd/") || p.starts_with("masters/"))
            .cloned()
            .collect()
    };
    // A tag fix: the bundles are made again, so mark their old bytes.
    let bundle = before
        .iter()
        .find(|(p, _)| p.starts_with("streaming/") && p.ends_with(".flac"))
        .map(|(p, _)| p.clone())
        .expect("a FLAC in the demo's bundles");
    std::fs::write(out.join(&bundle), b"stale").unwrap();
    let demo = manifest();
    let args = [
        "build",
        demo.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--only",
        "streaming",
        "--force",
    ];
    let o = gm(&root(), &args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let after = snapshot(&out);
    assert!(!kept(&before).is_empty());
    assert_eq!(kept(&before), kept(&after), "cd/ or masters/ changed");
    let rebuilt = after
        .iter()
        .find(|(p, _)| *p == bundle)
        .expect("the bundle again");
    assert_ne!(rebuilt.1, b"stale", "{bundle} was not made again");
    let (code, doc, verr) = verify(&out, &manifest());
    assert_eq!(code, Some(0), "verify after --only: {doc:#}\n{verr}");
    let report = super::report(&out);
    assert!(
        report["cd"]["total_frames"].as_u64().unwrap() > 0,
        "the CD merged in"
    );
    assert!(report["tracks"][0]["cd"]["start_frame"].is_u64());
    assert!(report["tracks"][0]["master"]["file"].is_string());
    // Point 11: one count.
    let checked = doc["files_checked"].as_u64().unwrap() as usize;
    assert_eq!(built_count(&stderr), checked, "{stderr}");
    assert_eq!(report["outputs"].as_array().unwrap().len(), checked);
    assert!(super::staging_left(out.parent().unwrap())
        .iter()
        .all(|n| n.ends_with(".lock")));
}
