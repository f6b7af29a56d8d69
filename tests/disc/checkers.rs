//! The written CUE, TOC and PQ sheets against golden files and the
//! independent readers: cdrdao (show-toc, toc2cddb), cuetools
//! (cuebreakpoints, cueprint), shntool (shnsplit) and, with the `libcue`
//! feature, libcue. A reader that is not installed is skipped with a
//! `SKIP` line.

use std::path::Path;
use std::process::{Command, Output};

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::DiscLayout;

use super::{authored, golden, image_sample};
use crate::util::have_tool;

#[test]
fn golden_cue_toc_pq_sheets() {
    let (dir, _layout, done) = authored("golden");
    for name in ["album.cue", "album.toc", "pq-sheet.txt", "pq-sheet.html"] {
        golden(name, &std::fs::read(dir.join(name)).unwrap());
    }
    let warnings: Vec<String> = done.warnings.iter().map(ToString::to_string).collect();
    golden("warnings.txt", (warnings.join("\n") + "\n").as_bytes());
    // The CUE is Latin-1 without a BOM, LF only.
    let cue = std::fs::read(dir.join("album.cue")).unwrap();
    assert!(!cue.contains(&b'\r') && cue[0] == b'R');
    assert!(cue.windows(9).any(|w| w == b"Caf\xe9 Noir"));
    // The HTML escapes what it shows and carries no clock.
    let html = std::fs::read_to_string(dir.join("pq-sheet.html")).unwrap();
    assert!(html.contains("Guest &amp; The Band"));
    assert!(!html.contains("<script") && !html.contains("http"));
}

pub(crate) fn run(dir: &Path, tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A CD-Text value as the CUE sheet documents writing it: cut to 80
/// characters, `"` as `'`, a space after a trailing `\`.
pub(crate) fn cue_value(s: &str) -> String {
    let mut v: String = s.chars().take(80).collect();
    if v.ends_with('\\') {
        if v.chars().count() == 80 {
            v.pop();
        }
        v.push(' ');
    }
    v.replace('"', "'")
}

/// `m:ss.ff` (cuebreakpoints) to frames.
pub(crate) fn breakpoint_frames(s: &str) -> u32 {
    let (m, rest) = s.split_once(':').unwrap();
    let (sec, ff) = rest.split_once('.').unwrap();
    m.parse::<u32>().unwrap() * 4500 + sec.parse::<u32>().unwrap() * 75 + ff.parse::<u32>().unwrap()
}

/// The number in "00:02:00(   150)".
pub(crate) fn paren_frames(line: &str) -> u32 {
    let (_, r) = line.split_once('(').unwrap();
    r.trim_end_matches(')').trim().parse().unwrap()
}

#[test]
fn cdrdao_reads_the_toc() {
    if !have_tool("cdrdao", "cdrdao_reads_the_toc") {
        return;
    }
    let (dir, l, _) = authored("cdrdao");
    let out = run(&dir, "cdrdao", &["show-toc", "album.toc"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cdrdao show-toc: {stderr}");
    assert!(
        !stderr.contains("ERROR") && !stderr.contains("WARNING"),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TOC TYPE: CD_DA"));
    assert!(text.contains("CATALOG NUMBER: 5012345678900"));
    // Per track: (start, pregap, indexes 02.., end, isrc, copy, pre).
    let mut seen = Vec::new();
    for block in text.split("TRACK ").skip(1) {
        let mut start = None;
        let (mut pregap, mut end, mut isrc) = (0, None, None);
        let mut indexes = Vec::new();
        for line in block.lines().map(str::trim) {
            if line.starts_with("START") {
                start = Some(paren_frames(line));
            } else if line.starts_with("PREGAP") {
                pregap = paren_frames(line);
            } else if line.starts_with("INDEX") {
                indexes.push(paren_frames(line));
            } else if line.starts_with("END") {
                end = Some(paren_frames(line));
            } else if let Some(i) = line.strip_prefix("ISRC ") {
                isrc = Some(i.replace(' ', ""));
            }
        }
        seen.push((
            start.unwrap(),
            pregap,
            indexes,
            end.unwrap(),
            isrc,
            block.contains("COPY PERMITTED"),
            !block.contains("NO PRE-EMPHASIS"),
        ));
    }
    assert_eq!(seen.len(), l.tracks.len());
    for (t, s) in l.tracks.iter().zip(&seen) {
        let want = (
            t.start_frame,
            t.pregap_frames,
            t.indexes[1..].to_vec(),
            t.end_frame(),
            t.isrc.clone(),
            t.control.copy_permitted,
            t.control.pre_emphasis,
        );
        assert_eq!(s, &want, "cdrdao's track {}", t.number);
    }
    eprintln!("cdrdao show-toc: {} tracks agree", seen.len());

    // toc2cddb reads the TOC's CD-Text back (Latin-1) and the offsets.
    if !have_tool("toc2cddb", "cdrdao_reads_the_toc (toc2cddb)") {
        return;
    }
    let out = run(&dir, "toc2cddb", &["album.toc"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cddb = latin1(&out.stdout);
    let offsets: Vec<u32> = cddb
        .lines()
        .filter_map(|x| x.strip_prefix("# ")?.trim().parse().ok())
        .collect();
    let want: Vec<u32> = l.tracks.iter().map(|t| t.start_frame + 150).collect();
    assert_eq!(offsets, want, "toc2cddb offsets (lead-in of 150 added)");
    assert!(cddb.contains("DTITLE=The Example Band / Night Drive\n"));
    let text = l.text.as_ref().unwrap();
    for (i, f) in text.tracks.iter().enumerate() {
        // cdrdao reads the `\134` glassmaster writes for `\` back as `\`.
        let want = f.text(TextField::Title).unwrap();
        assert!(
            cddb.contains(&format!("TTITLE{i}={want}\n")),
            "TTITLE{i}={want} in\n{cddb}"
        );
    }
}

#[test]
fn cuetools_read_the_cue() {
    if !have_tool("cuebreakpoints", "cuetools_read_the_cue") {
        return;
    }
    let (dir, l, _) = authored("cuetools");
    let out = run(&dir, "cuebreakpoints", &["album.cue"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "cuebreakpoints stderr"
    );
    let got: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(breakpoint_frames)
        .collect();
    let want: Vec<u32> = l.tracks[1..].iter().map(|t| t.start_frame).collect();
    assert_eq!(got, want, "cuebreakpoints: INDEX 01 of tracks 2..");
    let out = run(&dir, "cuebreakpoints", &["--prepend-gaps", "album.cue"]);
    let got: Vec<u32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(breakpoint_frames)
        .collect();
    let want: Vec<u32> = l.tracks[1..].iter().map(|t| t.pregap_frame()).collect();
    assert_eq!(got, want, "cuebreakpoints --prepend-gaps: INDEX 00");

    let out = run(
        &dir,
        "cueprint",
        &[
            "-i",
            "cue",
            "-d",
            "%N|%T|%P|%S\n",
            "-t",
            "%n|%i|%t|%p|%s\n",
            "album.cue",
        ],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "cueprint stderr");
    let printed = latin1(&out.stdout);
    let mut lines = printed.lines();
    assert_eq!(
        lines.next(),
        Some("12|Night Drive|The Example Band|Various Writers")
    );
    let text = l.text.as_ref().unwrap();
    for (t, f) in l.tracks.iter().zip(&text.tracks) {
        let value = |x: TextField| cue_value(f.text(x).unwrap_or(""));
        let want = format!(
            "{}|{}|{}|{}|{}",
            t.number,
            t.isrc.as_deref().unwrap_or(""),
            value(TextField::Title),
            value(TextField::Performer),
            value(TextField::Songwriter)
        );
        assert_eq!(
            lines.next(),
            Some(want.as_str()),
            "cueprint track {}",
            t.number
        );
    }
    eprintln!(
        "cuebreakpoints and cueprint agree on {} tracks",
        l.tracks.len()
    );
}

/// (samples, first, last) of a 16-bit stereo WAV.
fn wav_facts(path: &Path) -> (u64, (i16, i16), (i16, i16)) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 44_100, 16)
    );
    let n = u64::from(r.duration());
    let v: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    (n, (v[0], v[1]), (v[v.len() - 2], v[v.len() - 1]))
}

fn check_split(path: &Path, l: &DiscLayout, from: u32, to: u32) {
    let (n, first, last) = wav_facts(path);
    assert_eq!(n, u64::from(to - from) * 588, "{}", path.display());
    assert_eq!(
        first,
        image_sample(l, u64::from(from) * 588),
        "{} first",
        path.display()
    );
    assert_eq!(
        last,
        image_sample(l, u64::from(to) * 588 - 1),
        "{} last",
        path.display()
    );
}

#[test]
fn shnsplit_cuts_at_index_01() {
    if !have_tool("shnsplit", "shnsplit_cuts_at_index_01") {
        return;
    }
    let (dir, l, _) = authored("shnsplit");
    std::fs::create_dir_all(dir.join("split")).unwrap();
    let out = run(
        &dir,
        "shnsplit",
        &[
            "-q",
            "-d",
            "split",
            "-f",
            "album.cue",
            "-o",
            "wav",
            "album.wav",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Track 1's pregap comes out as track 00, every pause goes with the
    // track before it.
    check_split(&dir.join("split/split-track00.wav"), &l, 0, 150);
    for (k, t) in l.tracks.iter().enumerate() {
        let end = l
            .tracks
            .get(k + 1)
            .map_or(l.total_frames, |n| n.start_frame);
        let path = dir.join(format!("split/split-track{:02}.wav", t.number));
        check_split(&path, &l, t.start_frame, end);
        if t.pregap_frames > 0 || k == 0 {
            // A track after a pause begins with its own first sample.
            let (_, first, _) = wav_facts(&path);
            assert_eq!(
                first,
                super::audio_sample(t.number, 0),
                "{}",
                path.display()
            );
        }
    }
    eprintln!(
        "shnsplit cut {} tracks at their INDEX 01 frames",
        l.tracks.len()
    );
}

#[cfg(feature = "libcue")]
#[test]
fn libcue_reads_the_cue() {
    let (dir, l, _) = authored("libcue");
    let sheet = latin1(&std::fs::read(dir.join("album.cue")).unwrap());
    let disc = glassmaster::disc::libcue::parse(&sheet).unwrap();
    assert_eq!(disc.catalog.as_deref(), Some("5012345678900"));
    assert_eq!(disc.text.title.as_deref(), Some("Night Drive"));
    // libcue 2.2 reads REM GENRE but takes COMPOSER, ARRANGER and MESSAGE
    // only as bare commands, which cuetools rejects: the REM lines are
    // skipped as comments.
    assert_eq!(disc.text.message, None);
    assert_eq!(disc.text.songwriter.as_deref(), Some("Various Writers"));
    assert_eq!(disc.text.genre.as_deref(), Some("Rock Music"));
    assert_eq!(disc.tracks.len(), l.tracks.len());
    let text = l.text.as_ref().unwrap();
    for ((t, c), f) in l.tracks.iter().zip(&disc.tracks).zip(&text.tracks) {
        assert_eq!(c.filename, "album.wav");
        assert_eq!(c.isrc, t.isrc, "track {}", t.number);
        assert_eq!(c.start, i64::from(t.start_frame), "track {}", t.number);
        let want: Vec<(u32, i64)> = t
            .numbered_indexes()
            .into_iter()
            .map(|(n, f)| (u32::from(n), i64::from(f)))
            .collect();
        assert_eq!(c.indexes, want, "track {} indexes", t.number);
        assert_eq!(c.pre_emphasis, t.control.pre_emphasis);
        assert_eq!(c.copy_permitted, t.control.copy_permitted);
        let title = cue_value(f.text(TextField::Title).unwrap());
        assert_eq!(c.text.title.as_deref(), Some(title.as_str()));
        assert_eq!(c.text.performer.as_deref(), f.text(TextField::Performer));
        assert_eq!(c.text.songwriter.as_deref(), f.text(TextField::Songwriter));
        assert_eq!(c.text.composer, None);
    }
}

#[test]
fn ffprobe_reads_the_image() {
    if !have_tool("ffprobe", "ffprobe_reads_the_image") {
        return;
    }
    let (dir, l, _) = authored("ffprobe");
    let out = run(
        &dir,
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,channels,duration_ts",
            "-of",
            "csv=p=0",
            "album.wav",
        ],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pcm_s16le,44100,2,{}", l.image_samples())
    );
}
