//! The CD outputs against report.json, for every disc (`cd/`, or each
//! `cd/disc-N/` of a set): the image's format and length, the
//! DDP fileset's own checks, IMAGE.DAT byte for byte against album.wav's
//! data, and every track's indexes and ISRC and the MCN in the DDP PQ
//! table, the CUE sheet and the TOC (whose track lengths are compared
//! too). Files are opened only through [`Scope`].

use std::io::{Seek, SeekFrom};
use std::path::Path;

use super::scope::Scope;
use super::{problem, quoted, Problem, Verification};
use crate::disc::cue::ReadTrack;
use crate::disc::ddp::DdpFileset;
use crate::disc::text::msf;
use crate::report::model::{Report, TrackReport};

/// Bytes of one CD frame of audio.
const FRAME_BYTES: u64 = 2352;

/// One disc as report.json records it: `cd` and every track for a single
/// disc, each `discs` entry and its tracks for a set.
struct Disc<'r> {
    /// Its folder (`cd`, `cd/disc-2`).
    dir: String,
    /// Where report.json holds its figures (`cd`, `discs[2]`).
    field: String,
    total_frames: u64,
    mcn: Option<String>,
    tracks: Vec<&'r TrackReport>,
}

impl Disc<'_> {
    fn file(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }
}

/// The discs report.json records: its `discs` list when the CD is a set,
/// else `cd` with every track.
fn discs(report: &Report) -> Vec<Disc<'_>> {
    match (&report.cd, report.discs.as_slice()) {
        (_, d) if d.len() > 1 => d
            .iter()
            .map(|d| Disc {
                dir: d.dir.clone(),
                field: format!("discs[{}]", d.disc),
                total_frames: d.total_frames,
                mcn: d.mcn.clone(),
                tracks: report.tracks.iter().filter(|t| t.disc == d.disc).collect(),
            })
            .collect(),
        (Some(cd), _) => vec![Disc {
            dir: "cd".into(),
            field: "cd".into(),
            total_frames: cd.total_frames,
            mcn: cd.mcn.clone(),
            tracks: report.tracks.iter().collect(),
        }],
        (None, _) => Vec::new(),
    }
}

pub(super) fn check(scope: &Scope, report: &Report, v: &mut Verification) {
    for disc in discs(report) {
        check_disc(scope, report, &disc, v);
    }
}

fn check_disc(scope: &Scope, report: &Report, disc: &Disc<'_>, v: &mut Verification) {
    let (wav_name, cue_name, toc_name, ddp_name) = (
        disc.file("album.wav"),
        disc.file("album.cue"),
        disc.file("album.toc"),
        disc.file("ddp"),
    );
    let (wav_rel, cue_rel, toc_rel, ddp_rel) = (
        wav_name.as_str(),
        cue_name.as_str(),
        toc_name.as_str(),
        ddp_name.as_str(),
    );
    v.problems.extend(layout(disc));
    let listed = |prefix: &str| report.outputs.iter().any(|o| o.path.starts_with(prefix));
    let want_bytes = disc.total_frames * FRAME_BYTES;
    let mut wav_data = None;
    // A name that leads out was named by the checksums, and is not read.
    let wav = scope.build_file(wav_rel, "outputs").ok();
    if let (true, Some(wav)) = (listed(wav_rel), &wav) {
        match crate::audio::read_wav_header(wav) {
            Ok(h) => {
                let mut fmt = |field: &str, got: u64, want: u64| {
                    if got != want {
                        v.problems.push(problem(
                            wav_rel,
                            field,
                            format!("is {got}, a CD image has {want}"),
                        ));
                    }
                };
                fmt("format tag", h.format_tag.into(), 1);
                fmt("channels", h.channels.into(), 2);
                fmt("sample rate", h.sample_rate.into(), 44_100);
                fmt("bits", h.bits.into(), 16);
                if h.data_len != want_bytes {
                    v.problems.push(problem(
                        wav_rel,
                        "length",
                        format!(
                            "{} bytes of audio, report.json's {} frames need {want_bytes}",
                            h.data_len, disc.total_frames
                        ),
                    ));
                }
                wav_data = Some((wav.clone(), h.data_offset));
            }
            Err(e) => v
                .problems
                .push(problem(wav_rel, "header", format!("cannot be read: {e}"))),
        }
    }
    if listed(&format!("{ddp_rel}/")) {
        check_ddp(scope, disc, wav_data, v);
    }
    if listed(cue_rel) {
        if let Ok(path) = scope.build_file(cue_rel, "outputs") {
            check_cue(&path, disc, v);
        }
    }
    if listed(toc_rel) {
        if let Ok(path) = scope.build_file(toc_rel, "outputs") {
            check_toc(&path, disc, v);
        }
    }
}

/// report.json's CD layout against the Red Book: at most 99 tracks, each
/// at least 4 s, the first after a pause of at least 2 s, tracks one after
/// another with no hole or overlap, indexes rising inside their track, the
/// disc within 79:57:74.
fn layout(disc: &Disc<'_>) -> Vec<Problem> {
    use crate::disc::layout::MIN_FIRST_PAUSE;
    use crate::manifest::validate::{MAX_DISC_FRAMES, MIN_TRACK_FRAMES};
    let mut out = Vec::new();
    let mut bad = |field: String, m: String| out.push(problem("report.json", field, m));
    let cds: Vec<_> = disc.tracks.iter().filter_map(|t| t.cd.as_ref()).collect();
    let total = &format!("{}.total_frames", disc.field);
    // report.json's place of the disc's k-th track.
    let at = |k: usize| disc.tracks.get(k).map_or(k as u32 + 1, |t| t.number);
    if cds.len() != disc.tracks.len() || cds.is_empty() || cds.len() > 99 {
        bad(
            "tracks".into(),
            format!("{} tracks on the disc: a CD holds 1 to 99", cds.len()),
        );
        return out;
    }
    if disc.total_frames > MAX_DISC_FRAMES {
        bad(
            total.clone(),
            format!(
                "{} ({}), past the Red Book's 79:57:74",
                disc.total_frames,
                msf(disc.total_frames as u32)
            ),
        );
    }
    if cds[0].start_frame < u64::from(MIN_FIRST_PAUSE) {
        bad(
            format!("tracks[{}].cd.start_frame", at(0)),
            format!(
                "is {}: track 1 starts after at least {MIN_FIRST_PAUSE} frames (2 s)",
                cds[0].start_frame
            ),
        );
    }
    let mut end = 0u64;
    for (i, c) in cds.iter().enumerate() {
        let n = at(i);
        if c.length_frames < MIN_TRACK_FRAMES {
            bad(
                format!("tracks[{n}].cd.length_frames"),
                format!(
                    "is {}: a track lasts at least 4 s (300 frames)",
                    c.length_frames
                ),
            );
        }
        let pregap_at = c.start_frame.checked_sub(c.pregap_frames);
        if pregap_at != Some(end) {
            bad(
                format!("tracks[{n}].cd.pregap_frames"),
                format!(
                    "track {n}'s pregap starts at {pregap_at:?}, the disc before it ends at {end}"
                ),
            );
        }
        let rising = c.indexes.first() == Some(&c.start_frame)
            && c.indexes.windows(2).all(|w| w[0] < w[1])
            && c.indexes
                .last()
                .is_some_and(|&l| l < c.start_frame + c.length_frames);
        if !rising {
            bad(
                format!("tracks[{n}].cd.indexes"),
                format!(
                    "{:?} do not start at INDEX 01 ({}) and rise inside the track",
                    c.indexes, c.start_frame
                ),
            );
        }
        end = c.start_frame + c.length_frames;
    }
    if end != disc.total_frames {
        bad(
            total.clone(),
            format!("is {}, the last track ends at {end}", disc.total_frames),
        );
    }
    out
}

fn check_ddp(
    scope: &Scope,
    disc: &Disc<'_>,
    wav_data: Option<(std::path::PathBuf, u64)>,
    v: &mut Verification,
) {
    let (wav_name, ddp_name) = (disc.file("album.wav"), disc.file("ddp"));
    let (wav_rel, ddp_rel) = (wav_name.as_str(), ddp_name.as_str());
    // The reader opens the fileset's files by name: none may lead out.
    if let Err(out) = scope.folder_closed(ddp_rel) {
        v.problems.push(problem(
            out,
            "file",
            "leads out of the build folder through a symbolic link: the fileset was not read",
        ));
        return;
    }
    let Ok(ddp) = scope.build_file(ddp_rel, "outputs") else {
        return;
    };
    let set = match DdpFileset::open(ddp) {
        Ok(s) => s,
        Err(e) => {
            v.problems
                .push(problem(ddp_rel, "fileset", format!("cannot be read: {e}")));
            return;
        }
    };
    match set.verify() {
        Ok(r) => {
            for c in r.failures() {
                v.problems
                    .push(problem(ddp_rel, c.what.clone(), c.detail.clone()));
            }
        }
        Err(e) => v.problems.push(problem(
            ddp_rel,
            "checksums",
            format!("cannot be checked: {e}"),
        )),
    }
    let image = format!(
        "{ddp_rel}/{}",
        set.image_path()
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    );
    if u64::from(set.lead_out()) != disc.total_frames {
        v.problems.push(problem(
            format!("{ddp_rel}/{}", set.pq_file()),
            "lead-out",
            format!(
                "at {} ({}), report.json's disc ends at {} ({})",
                set.lead_out(),
                msf(set.lead_out()),
                disc.total_frames,
                msf(disc.total_frames as u32)
            ),
        ));
    }
    if set.upc() != disc.mcn.as_deref() {
        v.problems.push(problem(
            format!("{ddp_rel}/{}", set.pq_file()),
            "MCN",
            format!(
                "is {}, report.json says {}",
                quoted(set.upc()),
                quoted(disc.mcn.as_deref())
            ),
        ));
    }
    let pq = format!("{ddp_rel}/{}", set.pq_file());
    let ddp_tracks: Vec<ReadTrack> = set
        .tracks()
        .iter()
        .map(|t| ReadTrack {
            number: t.number,
            isrc: t.isrc.clone(),
            indexes: t.indexes.iter().map(|i| (i.number, i.frame)).collect(),
        })
        .collect();
    v.problems
        .extend(compare_tracks(&pq, &ddp_tracks, &disc.tracks));
    if let Some((wav, offset)) = wav_data {
        if let Some(p) = same_audio(&wav, offset, &set.image_path(), &image, wav_rel) {
            v.problems.push(p);
        }
    }
}

fn check_cue(path: &Path, disc: &Disc<'_>, v: &mut Verification) {
    let cue_name = disc.file("album.cue");
    let cue_rel = cue_name.as_str();
    let sheet = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| crate::disc::cue::read(&b))
    {
        Ok(s) => s,
        Err(e) => {
            v.problems
                .push(problem(cue_rel, "sheet", format!("cannot be read: {e}")));
            return;
        }
    };
    v.problems.extend(same_disc(
        cue_rel,
        &sheet.files,
        sheet.catalog.as_deref(),
        &sheet.tracks,
        disc,
    ));
}

/// A sheet (CUE or TOC) against report.json: the one image it names, the
/// catalog number, every track's ISRC and indexes.
fn same_disc(
    file: &str,
    images: &[String],
    catalog: Option<&str>,
    tracks: &[ReadTrack],
    disc: &Disc<'_>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if images != ["album.wav"] {
        out.push(problem(
            file,
            "FILE",
            format!("names {images:?}, the image is album.wav"),
        ));
    }
    if catalog != disc.mcn.as_deref() {
        out.push(problem(
            file,
            "CATALOG",
            format!(
                "is {}, report.json says {}",
                quoted(catalog),
                quoted(disc.mcn.as_deref())
            ),
        ));
    }
    out.extend(compare_tracks(file, tracks, &disc.tracks));
    out
}

/// The TOC against report.json: the image it names, the catalog number,
/// every track's ISRC and indexes, and where each track ends.
fn check_toc(path: &Path, disc: &Disc<'_>, v: &mut Verification) {
    let toc_name = disc.file("album.toc");
    let toc_rel = toc_name.as_str();
    let frames = u32::try_from(disc.total_frames).unwrap_or(u32::MAX);
    let toc = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| super::toc::read(&b, frames))
    {
        Ok(t) => t,
        Err(e) => {
            v.problems
                .push(problem(toc_rel, "toc", format!("cannot be read: {e}")));
            return;
        }
    };
    let images: Vec<String> = toc.file.iter().cloned().collect();
    v.problems.extend(same_disc(
        toc_rel,
        &images,
        toc.catalog.as_deref(),
        &toc.tracks,
        disc,
    ));
    for (i, (end, t)) in toc.ends.iter().zip(&disc.tracks).enumerate() {
        let Some(cd) = &t.cd else { continue };
        let want = cd.start_frame + cd.length_frames;
        if u64::from(*end) != want {
            v.problems.push(problem(
                toc_rel,
                format!("track {:02} length", i + 1),
                format!(
                    "the track ends at {} ({}), report.json's at {want} ({})",
                    end,
                    msf(*end),
                    msf(want as u32)
                ),
            ));
        }
    }
}

/// Tracks as a PQ table or a CUE sheet gives them — number, ISRC and
/// `(index, frame)` with index 00 first when there is a pregap — against
/// report.json.
fn compare_tracks(file: &str, got: &[ReadTrack], want: &[&TrackReport]) -> Vec<Problem> {
    let mut out = Vec::new();
    if got.len() != want.len() {
        out.push(problem(
            file,
            "tracks",
            format!("{} tracks, report.json has {}", got.len(), want.len()),
        ));
    }
    for (i, (ReadTrack { isrc, indexes, .. }, t)) in got.iter().zip(want).enumerate() {
        let n = i + 1;
        let Some(cd) = &t.cd else { continue };
        if isrc.as_deref() != t.isrc.as_deref() {
            out.push(problem(
                file,
                format!("track {n:02} ISRC"),
                format!(
                    "is {}, report.json says {}",
                    quoted(isrc.as_deref()),
                    quoted(t.isrc.as_deref())
                ),
            ));
        }
        let mut expected: Vec<(u8, u32)> = Vec::new();
        if cd.pregap_frames > 0 {
            expected.push((0, (cd.start_frame - cd.pregap_frames) as u32));
        }
        for (k, f) in cd.indexes.iter().enumerate() {
            expected.push((k as u8 + 1, *f as u32));
        }
        if *indexes != expected {
            let show = |x: &[(u8, u32)]| {
                x.iter()
                    .map(|(i, f)| format!("{i:02} {}", msf(*f)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(problem(
                file,
                format!("track {n:02} indexes"),
                format!(
                    "are [{}], report.json says [{}]",
                    show(indexes),
                    show(&expected)
                ),
            ));
        }
    }
    out
}

/// `None` when IMAGE.DAT holds the very bytes of album.wav's data chunk;
/// otherwise the first difference.
fn same_audio(
    wav: &Path,
    offset: u64,
    image: &Path,
    image_name: &str,
    wav_rel: &str,
) -> Option<Problem> {
    let open =
        |p: &Path| std::fs::File::open(p).map(|f| std::io::BufReader::with_capacity(1 << 20, f));
    let (mut a, mut b) = match (open(wav), open(image)) {
        (Ok(a), Ok(b)) => (a, b),
        (_, Err(e)) | (Err(e), _) => {
            return Some(problem(
                image_name,
                "audio",
                format!("cannot be compared: {e}"),
            ))
        }
    };
    if let Err(e) = a.seek(SeekFrom::Start(offset)) {
        return Some(problem(wav_rel, "audio", format!("cannot be read: {e}")));
    }
    let mut x = vec![0u8; 1 << 20];
    let mut y = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        let n = crate::audio::read_full(&mut a, &mut x);
        let m = crate::audio::read_full(&mut b, &mut y);
        let (n, m) = match (n, m) {
            (Ok(n), Ok(m)) => (n, m),
            (Err(e), _) | (_, Err(e)) => {
                return Some(problem(image_name, "audio", format!("cannot be read: {e}")))
            }
        };
        if let Some(k) = x[..n.min(m)]
            .iter()
            .zip(&y[..n.min(m)])
            .position(|(p, q)| p != q)
        {
            let byte = at + k as u64;
            return Some(problem(
                image_name,
                "audio",
                format!(
                    "differs from {wav_rel}'s data at byte {byte} (frame {}, {})",
                    byte / FRAME_BYTES,
                    msf((byte / FRAME_BYTES) as u32)
                ),
            ));
        }
        if n != m {
            return Some(problem(
                image_name,
                "audio",
                format!(
                    "{} bytes, {wav_rel}'s data {} bytes",
                    at + m as u64,
                    at + n as u64
                ),
            ));
        }
        if n == 0 {
            return None;
        }
        at += n as u64;
    }
}
