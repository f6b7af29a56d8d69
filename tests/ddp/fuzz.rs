//! A bounded fuzz of the DDP reader: a fileset written by our writer (two
//! tracks, CD-Text, UPC, ISRCs, a checksum list) has one of its files
//! mutated per case (`util::Mutator`: bit flips, insertions, deletions,
//! truncations, doubled runs, splices from the other files), then is
//! opened, verified, turned into a CUE sheet and now and then extracted
//! and run through `glassmaster ddp info` and `ddp verify`. No case may
//! panic; every refusal is an error with a message that names a file.

use std::path::Path;
use std::process::Command;

use glassmaster::disc::ddp::{cue_sheet, write_fileset, DdpFileset, WriteOptions};

use super::synth_image;
use super::write::synthetic_layout;
use crate::util::{bin, no_panic, scratch, Mutator};

const FILES: [&str; 5] = ["DDPID", "DDPMS", "PQDESCR", "CDTEXT.BIN", "CHECKSUM.MD5"];

/// Cases in all (600 per file).
const CASES: usize = 3000;

#[test]
fn mutated_filesets_are_clean_errors_never_panics() {
    let dir = scratch("ddp-fuzz");
    let set_dir = dir.join("set");
    std::fs::create_dir_all(&set_dir).unwrap();
    synth_image(&set_dir.join("IMAGE.DAT"), 850, 150);
    write_fileset(&set_dir, &synthetic_layout(), &WriteOptions::default()).unwrap();
    // The image stays out of the checksum list: hashing its 2.4 MB in every
    // case would cost most of the time and test nothing the mutations touch.
    let list = std::fs::read_to_string(set_dir.join("CHECKSUM.MD5")).unwrap();
    let list: String = list
        .lines()
        .filter(|l| !l.ends_with("IMAGE.DAT"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(set_dir.join("CHECKSUM.MD5"), list).unwrap();
    let valid: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(set_dir.join(f)).unwrap())
        .collect();
    assert!(DdpFileset::open(&set_dir).unwrap().verify().unwrap().ok());
    let mut fuzz = Mutator::new(0xD0D0_CAFE_F00D_1234, b" 0123456789:ADPQS\x8f\x80\x00\xff");
    let mut opened = 0;
    for case in 0..CASES {
        let k = case % FILES.len();
        let others: Vec<&[u8]> = valid.iter().map(Vec::as_slice).collect();
        let bytes = fuzz.mutate(&valid[k], &others);
        std::fs::write(set_dir.join(FILES[k]), &bytes).unwrap();
        let what = || {
            format!(
                "case {case}: {} = {:?}",
                FILES[k],
                String::from_utf8_lossy(&bytes)
            )
        };
        no_panic(what, || {
            if one_case(&set_dir, &dir, case) {
                opened += 1;
            }
        });
        std::fs::write(set_dir.join(FILES[k]), &valid[k]).unwrap();
    }
    // The mutations must not all be refused at the door.
    assert!(
        opened > CASES / 10,
        "only {opened} of {CASES} filesets opened"
    );
}

/// Opens, verifies and writes the CUE of the fileset in `set`; every 60th
/// case also extracts it and runs the command line on it. True when the
/// fileset opened.
fn one_case(set: &Path, scratch_dir: &Path, case: usize) -> bool {
    let clean = |e: &dyn std::fmt::Display| {
        let m = e.to_string();
        assert!(!m.trim().is_empty(), "an empty error");
        assert!(m.len() < 4000, "an error of {} bytes", m.len());
    };
    let fileset = match DdpFileset::open(set) {
        Ok(f) => f,
        Err(e) => {
            clean(&e);
            return false;
        }
    };
    match fileset.verify() {
        Ok(r) => {
            for c in r.failures() {
                assert!(!c.detail.is_empty() && !c.what.is_empty());
            }
        }
        Err(e) => clean(&e),
    }
    let cue = cue_sheet(&fileset);
    if let Err(e) = glassmaster::disc::cue::read(cue.as_bytes()) {
        clean(&e);
    }
    if case.is_multiple_of(60) {
        let out = scratch_dir.join("out");
        let _ = std::fs::remove_dir_all(&out);
        if let Err(e) = fileset.extract(&out) {
            clean(&e);
        }
        for cmd in ["info", "verify"] {
            let o = Command::new(bin())
                .args(["ddp", cmd])
                .arg(set)
                .output()
                .unwrap();
            let code = o.status.code();
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert!(
                matches!(code, Some(0 | 1)) && !stderr.contains("panicked"),
                "ddp {cmd}: {code:?} {stderr}"
            );
        }
    }
    true
}
