//! The disc stage: Red Book layout, CUE, TOC, PQ sheet and DDP written
//! for a generated 12-track album, checked against golden files and the
//! independent readers (cdrdao, cuetools, shntool, libcue, md5sum). The
//! layout rules and Red Book errors are in `disc/redbook.rs`, the CUE/TOC
//! checkers in `disc/checkers.rs`, the DDP and `ddp` CLI in
//! `disc/ddp_cli.rs`, a bounded fuzz of the CUE readers in `disc/cue_fuzz.rs`.

pub(crate) mod checkers;
mod cue_fuzz;
pub(crate) mod ddp_cli;
mod redbook;

use std::io::Write;
use std::path::{Path, PathBuf};

use glassmaster::disc::cdtext::{Fields, Genre};
use glassmaster::disc::layout::{DiscText, SAMPLES_PER_FRAME};
use glassmaster::disc::{author, AuthorOptions, DiscLayout, LayoutInput, TrackInput};

use crate::util::scratch;

pub const UPC: &str = "5012345678900";

/// Samples of `secs` seconds plus `extra`.
fn len(secs: f64, extra: u64) -> u64 {
    (secs * 44_100.0) as u64 + extra
}

/// (title, samples, pregap_s, segue, indexes_s, isrc, PRE, DCP)
type Row = (
    &'static str,
    u64,
    Option<f64>,
    bool,
    &'static [f64],
    Option<&'static str>,
    bool,
    bool,
);

/// The test album: a segue (tracks 3 and 11), INDEX 02 and 03 (track 4),
/// pauses of 0.5 s, 3 s and 0 s, a dashed ISRC, a track without one,
/// pre-emphasis and copy flags, lengths off the frame grid, a title ending
/// in `\` (the CUE adds a space after it, the TOC writes it `\134`).
pub fn album_input() -> LayoutInput {
    let rows: [Row; 12] = [
        ("Say \"Hello\"", len(5.0, 100), None, false, &[], Some("GBAYE2600001"), false, false),
        ("Café Noir", len(6.0, 7), Some(0.5), false, &[], Some("GB-AYE-26-00002"), false, true),
        ("Segue Into", len(5.5, 300), None, true, &[], Some("GBAYE2600003"), false, true),
        ("Indexed", len(8.0, 1), Some(3.0), false, &[2.0, 4.5], Some("GBAYE2600004"), false, false),
        ("Dvořák in Łódź", len(4.5, 0), None, false, &[], Some("GBAYE2600005"), false, false),
        ("No Pause", len(5.0, 588), Some(0.0), false, &[], None, false, false),
        ("Emphasis", len(5.0, 33), None, false, &[], Some("GBAYE2600007"), true, false),
        ("Emphasis Copy", len(5.0, 44), None, false, &[], Some("GBAYE2600008"), true, true),
        (
            "A Title Far Longer Than Eighty Characters, Which A CUE Sheet In CDRWIN's Dialect Cannot Hold",
            len(4.2, 5),
            None,
            false,
            &[1.0],
            Some("GBAYE2600009"),
            false,
            false,
        ),
        ("東京 “Night”", len(5.0, 200), Some(1.0), false, &[], Some("GBAYE2600010"), false, false),
        ("Runs On", len(6.0, 400), None, true, &[3.0], Some("GBAYE2600011"), false, false),
        (r"Outro \", len(7.25, 11), None, false, &[], Some("GBAYE2600012"), false, false),
    ];
    let tracks: Vec<TrackInput> = rows
        .iter()
        .map(
            |&(title, samples, pregap_s, segue, ix, isrc, pre, dcp)| TrackInput {
                title: title.into(),
                samples,
                pregap_s,
                segue,
                indexes_s: ix.to_vec(),
                isrc: isrc.map(str::to_string),
                pre_emphasis: pre,
                copy_permitted: dcp,
            },
        )
        .collect();
    let text_tracks = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Fields {
            title: Some(r.0.to_string()),
            performer: Some(if i == 6 {
                "Guest & The Band".into()
            } else {
                "The Example Band".into()
            }),
            songwriter: Some(format!("Writer {}", i + 1)),
            composer: (i % 3 == 0).then(|| "Zoë Composer".to_string()),
            arranger: (i == 4).then(|| "Arr. O'Neil".to_string()),
            ..Fields::default()
        })
        .collect();
    LayoutInput {
        gap_s: 2.0,
        mcn: Some(UPC.into()),
        tracks,
        text: Some(DiscText {
            disc: Fields {
                title: Some("Night Drive".into()),
                performer: Some("The Example Band".into()),
                songwriter: Some("Various Writers".into()),
                message: Some("Mastered by glassmaster".into()),
                ..Fields::default()
            },
            tracks: text_tracks,
            genre: Some(Genre {
                code: 23,
                text: "Rock Music".into(),
            }),
        }),
        hidden: None,
    }
}

pub fn album() -> DiscLayout {
    DiscLayout::new(&album_input()).expect("the test album is a valid disc")
}

/// The audio sample (L, R) of track `track` (1-based) at `pos` samples
/// into it: never (0, 0), so silence and audio are told apart, and every
/// sample says which track and where.
pub fn audio_sample(track: u8, pos: u64) -> (i16, i16) {
    let l = (pos & 0xFFFF) as u16 as i16;
    let r = (0x4000 | (u16::from(track) << 8) | ((pos >> 16) as u16 & 0xFF)) as i16;
    (l, r)
}

/// What the image holds at sample `at`.
pub fn image_sample(layout: &DiscLayout, at: u64) -> (i16, i16) {
    for t in &layout.tracks {
        let s = t.image;
        if at >= s.audio_start && at < s.audio_start + s.audio_samples {
            return audio_sample(t.number, at - s.audio_start);
        }
    }
    (0, 0)
}

/// Writes `album.wav` the way the build does: per track its silence, then
/// its samples, then the tail silence.
pub fn write_image(path: &Path, layout: &DiscLayout) {
    let bytes = layout.image_samples() * 4;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(&glassmaster::disc::ddp::wav_header(bytes as u32))
        .unwrap();
    let mut written = 0u64;
    for t in &layout.tracks {
        for _ in 0..t.image.silence_before {
            w.write_all(&[0; 4]).unwrap();
        }
        written += t.image.silence_before;
        assert_eq!(written, t.image.audio_start);
        for p in 0..t.image.audio_samples {
            let (l, r) = audio_sample(t.number, p);
            w.write_all(&l.to_le_bytes()).unwrap();
            w.write_all(&r.to_le_bytes()).unwrap();
        }
        written += t.image.audio_samples;
    }
    for _ in 0..layout.tail_silence {
        w.write_all(&[0; 4]).unwrap();
    }
    written += layout.tail_silence;
    assert_eq!(written, layout.image_samples());
    assert_eq!(written % SAMPLES_PER_FRAME, 0);
    w.flush().unwrap();
}

/// A scratch `cd/` folder with album.wav and everything `author` writes.
pub fn authored(tag: &str) -> (PathBuf, DiscLayout, glassmaster::disc::Authored) {
    let dir = scratch(&format!("disc-{tag}"));
    let layout = album();
    write_image(&dir.join("album.wav"), &layout);
    let done = author(
        &dir,
        &layout,
        &AuthorOptions {
            title: "unused".into(),
            artist: "unused".into(),
            ..AuthorOptions::default()
        },
    )
    .unwrap();
    (dir, layout, done)
}

/// Compares bytes with `tests/fixtures/disc/NAME`; GLASSMASTER_BLESS=1
/// rewrites the file.
pub fn golden(name: &str, got: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/disc")
        .join(name);
    if std::env::var_os("GLASSMASTER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "{}: no golden file (run with GLASSMASTER_BLESS=1)",
            path.display()
        )
    });
    assert!(
        got == want.as_slice(),
        "{} differs:\n--- got\n{}\n--- want\n{}",
        path.display(),
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(&want)
    );
}

/// Frames as `mm:ss:ff`.
pub fn msf(f: u32) -> String {
    format!("{:02}:{:02}:{:02}", f / 4500, (f / 75) % 60, f % 75)
}
