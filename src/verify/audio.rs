//! Every master and delivered file decoded and measured again, against
//! report.json: the format (codec, rate, bits, plain PCM, MP3 bit rate),
//! integrated loudness, true peak and duration; for bundle files the tags
//! and embedded cover too, and each bundle's `cover.jpg` and sheets.
//!
//! A delivered file's decoded length is compared with its master's, not
//! with report.json (which records what the encoder made): the samples
//! decoded (for MP3, after the encoder delay and padding its LAME tag
//! gives, which the decoder trims) must be the master's length at the
//! delivered rate, within one sample. Names come from report.json and are
//! opened only through [`Scope`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lofty::file::TaggedFileExt;
use lofty::picture::PictureType;
use lofty::tag::{ItemKey, Tag};
use rayon::prelude::*;

use super::length::{length, master_length, MasterLength};
use super::scope::{plain_name, Scope};
use super::{
    close, problem, quoted, show, Problem, Verification, LOUDNESS_TOLERANCE_LU, PEAK_TOLERANCE_DB,
};
use crate::analysis::analyze_file_levels;
use crate::deliver::profile::TagSet;
use crate::manifest::model::AudioFormat;
use crate::report::model::{BundleFile, BundleReport, Report, TrackReport};

/// Largest difference in duration accepted, seconds.
const DURATION_TOLERANCE_S: f64 = 0.01;

enum Job<'a> {
    Master(&'a TrackReport, &'a str, PathBuf),
    Bundle(&'a Folder<'a>, Delivered<'a>),
}

/// One delivered file to measure: its entry, its track, its resolved path
/// and its master's length.
struct Delivered<'a> {
    f: &'a BundleFile,
    t: Option<&'a TrackReport>,
    path: PathBuf,
    master: Option<&'a MasterLength>,
}

/// A bundle and what its folder holds besides the audio, read once for
/// all of its files: the sheet's rows and the cover's bytes.
struct Folder<'a> {
    b: &'a BundleReport,
    sheet: Sheet,
    cover: Option<Vec<u8>>,
}

/// metadata.json as read.
enum Sheet {
    Missing,
    NotJson,
    /// Its `tracks`.
    Rows(Vec<serde_json::Value>),
}

impl<'a> Folder<'a> {
    /// The bundle's sheet and cover; `b.name` and the cover's name are
    /// plain names (checked by the caller).
    fn read(scope: &Scope, b: &'a BundleReport) -> Folder<'a> {
        let at = |name: &str| {
            scope
                .build_file(&format!("streaming/{}/{name}", b.name), "outputs")
                .ok()
        };
        let sheet = match at("metadata.json").map(std::fs::read_to_string) {
            // A missing sheet is named by the checksums.
            None | Some(Err(_)) => Sheet::Missing,
            Some(Ok(t)) => match serde_json::from_str::<serde_json::Value>(&t) {
                Ok(v) => Sheet::Rows(v["tracks"].as_array().cloned().unwrap_or_default()),
                Err(_) => Sheet::NotJson,
            },
        };
        let cover = b
            .cover
            .as_ref()
            .and_then(|c| at(&c.file))
            .and_then(|p| std::fs::read(p).ok());
        Folder { b, sheet, cover }
    }

    /// The display artist the sheet gives `file`.
    fn artist(&self, file: &str) -> Option<&str> {
        let Sheet::Rows(rows) = &self.sheet else {
            return None;
        };
        rows.iter().find(|r| r["file"] == file)?["artist"].as_str()
    }
}

pub(super) fn check(
    scope: &Scope,
    report: &Report,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
    v: &mut Verification,
) {
    let mut work: Vec<Job<'_>> = Vec::new();
    let mut lengths: BTreeMap<u32, MasterLength> = BTreeMap::new();
    for t in &report.tracks {
        let Some(rel) = t.master.file.as_deref() else {
            continue;
        };
        match scope.build_file(rel, &format!("tracks[{}].master.file", t.number)) {
            Ok(path) => {
                if let Some(l) = master_length(&path, rel) {
                    lengths.insert(t.number, l);
                }
                work.push(Job::Master(t, rel, path));
            }
            Err(p) => v.problems.push(p),
        }
    }
    // Bundles and files whose names are plain: the others are named.
    let mut folders: Vec<Folder<'_>> = Vec::new();
    for (i, b) in report.bundles.iter().enumerate() {
        let cover_ok = b.cover.as_ref().map_or(Ok(()), |c| {
            plain_name(&c.file, &format!("bundles[{i}].cover.file"))
        });
        match plain_name(&b.name, &format!("bundles[{i}].name")).and(cover_ok) {
            Ok(()) => folders.push(Folder::read(scope, b)),
            Err(p) => v.problems.push(p),
        }
    }
    let mut unmatched = 0usize;
    for folder in &folders {
        let i = report
            .bundles
            .iter()
            .position(|b| std::ptr::eq(b, folder.b))
            .unwrap_or(0);
        for (k, f) in folder.b.files.iter().enumerate() {
            let field = format!("bundles[{i}].files[{k}].file");
            let rel = format!("streaming/{}/{}", folder.b.name, f.file);
            let path =
                match plain_name(&f.file, &field).and_then(|()| scope.build_file(&rel, &field)) {
                    Ok(p) => p,
                    Err(p) => {
                        v.problems.push(p);
                        continue;
                    }
                };
            let master = lengths.get(&f.track);
            unmatched += usize::from(master.is_none());
            let t = report.tracks.iter().find(|t| t.number == f.track);
            work.push(Job::Bundle(folder, Delivered { f, t, path, master }));
        }
    }
    if unmatched > 0 {
        v.notes.push(format!(
            "{unmatched} delivered file(s) not compared in length with a master: the build holds none for their tracks"
        ));
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let run = |j: &Job<'_>| {
        let found = match j {
            Job::Master(t, rel, path) => master(path, t, rel),
            Job::Bundle(folder, d) => bundle_file(report, folder, d),
        };
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(n, work.len());
        found
    };
    let found: Vec<Vec<Problem>> = match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| work.par_iter().with_max_len(1).map(run).collect()),
        Err(_) => work.iter().map(run).collect(),
    };
    v.audio_checked += work.len();
    v.problems.extend(found.into_iter().flatten());
    for folder in &folders {
        v.problems.extend(bundle_folder(report, folder));
    }
}

/// Loudness, true peak and duration of `path` against the recorded ones.
fn levels(
    rel: &str,
    m: &crate::analysis::Measurement,
    lufs: Option<f64>,
    tp: Option<f64>,
    duration_s: f64,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if !close(m.integrated_lufs, lufs, LOUDNESS_TOLERANCE_LU) {
        out.push(problem(
            rel,
            "integrated_lufs",
            format!(
                "measures {} LUFS, report.json says {} (±{LOUDNESS_TOLERANCE_LU} LU)",
                show(m.integrated_lufs),
                show(lufs)
            ),
        ));
    }
    if !close(m.true_peak_dbtp, tp, PEAK_TOLERANCE_DB) {
        out.push(problem(
            rel,
            "true_peak_dbtp",
            format!(
                "measures {} dBTP, report.json says {} (±{PEAK_TOLERANCE_DB} dB)",
                show(m.true_peak_dbtp),
                show(tp)
            ),
        ));
    }
    if !close(Some(m.duration_s), Some(duration_s), DURATION_TOLERANCE_S) {
        out.push(problem(
            rel,
            "duration_s",
            format!("is {:.3} s, report.json says {duration_s:.2}", m.duration_s),
        ));
    }
    out
}

/// A plain-PCM WAV's header: format tag 1 and the bits wanted.
fn wav_format(path: &Path, rel: &str, bits: u16) -> Vec<Problem> {
    match crate::audio::read_wav_header(path) {
        Ok(h) => {
            let mut out = Vec::new();
            if h.format_tag != 1 {
                out.push(problem(
                    rel,
                    "format tag",
                    format!("is {:#06x}, plain PCM is 1", h.format_tag),
                ));
            }
            if h.bits != bits {
                out.push(problem(
                    rel,
                    "bits",
                    format!("{} bits a sample, the file should have {bits}", h.bits),
                ));
            }
            out
        }
        Err(e) => vec![problem(rel, "header", format!("cannot be read: {e}"))],
    }
}

fn master(path: &Path, t: &TrackReport, rel: &str) -> Vec<Problem> {
    if !path.is_file() {
        // Named by the checksums already.
        return Vec::new();
    }
    let mut out = wav_format(path, rel, 24);
    match analyze_file_levels(path) {
        Ok(a) => {
            if a.info.sample_rate != t.source.sample_rate {
                out.push(problem(
                    rel,
                    "sample rate",
                    format!(
                        "is {} Hz, the source's is {} Hz",
                        a.info.sample_rate, t.source.sample_rate
                    ),
                ));
            }
            out.extend(levels(
                rel,
                &a.measurement,
                t.master.integrated_lufs,
                t.master.true_peak_dbtp,
                t.master.duration_s,
            ));
        }
        Err(e) => out.push(problem(rel, "audio", format!("cannot be decoded: {e}"))),
    }
    out
}

fn bundle_file(report: &Report, folder: &Folder<'_>, d: &Delivered<'_>) -> Vec<Problem> {
    let Delivered { f, t, path, .. } = d;
    let (f, t, path) = (*f, *t, path.as_path());
    let b = folder.b;
    let rel = format!("streaming/{}/{}", b.name, f.file);
    if !path.is_file() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let codec = match b.format {
        AudioFormat::Wav => "pcm",
        AudioFormat::Flac => "flac",
        AudioFormat::Mp3 => "mp3",
        AudioFormat::Ogg => "vorbis",
        AudioFormat::Opus => "opus",
        AudioFormat::Aac => "aac",
    };
    match crate::deliver::analyze_delivered(path, b.format) {
        Ok(a) => {
            if let Some(m) = d.master {
                let rate = a.info.sample_rate;
                let got = (a.measurement.duration_s * f64::from(rate)).round() as u64;
                out.extend(length(&rel, got, rate, m));
            }
            if a.info.codec != codec {
                out.push(problem(
                    &rel,
                    "codec",
                    format!("is {}, bundle `{}` delivers {codec}", a.info.codec, b.name),
                ));
            }
            if a.info.sample_rate != f.sample_rate {
                out.push(problem(
                    &rel,
                    "sample rate",
                    format!(
                        "is {} Hz, report.json says {} Hz",
                        a.info.sample_rate, f.sample_rate
                    ),
                ));
            }
            if let (Some(want), AudioFormat::Flac) = (b.bit_depth, b.format) {
                if a.info.bit_depth != Some(want) {
                    out.push(problem(
                        &rel,
                        "bits",
                        format!(
                            "{:?} bits a sample, the bundle's are {want}",
                            a.info.bit_depth
                        ),
                    ));
                }
            }
            out.extend(levels(
                &rel,
                &a.measurement,
                f.integrated_lufs,
                f.true_peak_dbtp,
                f.duration_s,
            ));
            if b.format.is_lossy() {
                if let Some(tp) = a.measurement.true_peak_dbtp {
                    if tp > b.true_peak_ceiling_dbtp + PEAK_TOLERANCE_DB {
                        out.push(problem(
                            &rel,
                            "true_peak_dbtp",
                            format!(
                                "decodes to {tp:.2} dBTP, over the bundle's ceiling of {:.2} dBTP",
                                b.true_peak_ceiling_dbtp
                            ),
                        ));
                    }
                }
            }
        }
        Err(e) => out.push(problem(&rel, "audio", format!("cannot be decoded: {e}"))),
    }
    match b.format {
        AudioFormat::Wav => out.extend(wav_format(path, &rel, b.bit_depth.unwrap_or(24))),
        AudioFormat::Mp3 => {
            if let Some(want) = b.bitrate_kbps {
                match mp3_bitrate_kbps(path) {
                    Some(k) if k == want => {}
                    k => out.push(problem(
                        &rel,
                        "bit rate",
                        format!("first frame is {k:?} kbps, the bundle's is {want} kbps"),
                    )),
                }
            }
        }
        AudioFormat::Aac => out.extend(aac_bitrate(path, &rel, f, b.bitrate_kbps)),
        AudioFormat::Flac | AudioFormat::Ogg | AudioFormat::Opus => {}
    }
    if b.tags != TagSet::None {
        out.extend(tags(report, folder, f, t, path, &rel));
    }
    out
}

/// The tags of a delivered file against report.json and the bundle's
/// sheet: title, artist, album, track number, ISRC, barcode, and the
/// embedded front cover against `cover.jpg`.
fn tags(
    report: &Report,
    folder: &Folder<'_>,
    f: &BundleFile,
    t: Option<&TrackReport>,
    path: &Path,
    rel: &str,
) -> Vec<Problem> {
    let tagged = match lofty::read_from_path(path) {
        Ok(x) => x,
        Err(e) => return vec![problem(rel, "tags", format!("cannot be read: {e}"))],
    };
    let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) else {
        return vec![problem(rel, "tags", "the file carries none")];
    };
    let b = folder.b;
    let mut out = Vec::new();
    let mut want = |field: &str, got: Option<String>, expected: Option<&str>| {
        if got.as_deref() != expected {
            out.push(problem(
                rel,
                format!("{field} tag"),
                format!(
                    "is {}, report.json says {}",
                    quoted(got.as_deref()),
                    quoted(expected)
                ),
            ));
        }
    };
    let get = |k: ItemKey| tag.get_string(k).map(str::to_owned);
    let title = t.map(|t| t.title.as_str());
    want("title", get(ItemKey::TrackTitle), title);
    if b.tags == TagSet::RiffInfo {
        let isrc = get(ItemKey::Comment).and_then(|c| c.strip_prefix("ISRC ").map(str::to_owned));
        want("ISRC", isrc, t.and_then(|t| t.isrc.as_deref()));
        return out;
    }
    want(
        "album",
        get(ItemKey::AlbumTitle),
        Some(report.release.title.as_str()),
    );
    want(
        "ISRC",
        get(ItemKey::Isrc),
        t.and_then(|t| t.isrc.as_deref()),
    );
    want(
        "barcode",
        get(ItemKey::Barcode),
        report.release.upc.as_deref(),
    );
    let number = get(ItemKey::TrackNumber).map(|n| n.split('/').next().unwrap_or("").to_owned());
    // Tracks are numbered on their own disc.
    let disc_of = |n: u32| {
        report
            .tracks
            .iter()
            .find(|r| r.number == n)
            .map_or(1, |r| r.disc)
    };
    let disc = disc_of(f.track);
    let position = b
        .files
        .iter()
        .filter(|x| x.track <= f.track && disc_of(x.track) == disc)
        .count()
        .to_string();
    want("track number", number, Some(position.as_str()));
    let disc_tag = get(ItemKey::DiscNumber).map(|n| n.split('/').next().unwrap_or("").to_owned());
    want("disc number", disc_tag, Some(disc.to_string().as_str()));
    if let Some(artist) = folder.artist(&f.file) {
        want("artist", get(ItemKey::TrackArtist), Some(artist));
    }
    out.extend(embedded_cover(folder, tag, rel));
    out
}

fn embedded_cover(folder: &Folder<'_>, tag: &Tag, rel: &str) -> Vec<Problem> {
    let (Some(cover), Some(jpeg)) = (&folder.b.cover, &folder.cover) else {
        return Vec::new();
    };
    // MP4's `covr` has no picture type (lofty reads it as Other): there
    // the first picture is the cover.
    let mp4 = folder.b.tags == TagSet::Mp4;
    let front = tag
        .pictures()
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront || mp4);
    match front {
        None => vec![problem(rel, "cover", "no front cover is embedded")],
        Some(p) if p.data() != &jpeg[..] => vec![problem(
            rel,
            "cover",
            format!(
                "the embedded front cover is not the bundle's {}",
                cover.file
            ),
        )],
        Some(_) => Vec::new(),
    }
}

/// `cover.jpg` as report.json describes it, and each sheet's rows against
/// report.json's files and their checksums in `outputs` (the files
/// themselves were compared with `outputs` already).
fn bundle_folder(report: &Report, folder: &Folder<'_>) -> Vec<Problem> {
    let b = folder.b;
    let mut out = Vec::new();
    if let (Some(cover), Some(bytes)) = (&b.cover, &folder.cover) {
        let rel = format!("streaming/{}/{}", b.name, cover.file);
        match crate::deliver::artwork::inspect(bytes) {
            Ok(f) => {
                if f.format != crate::deliver::profile::ImageFormat::Jpeg {
                    out.push(problem(&rel, "format", "is not a JPEG"));
                }
                if (f.width, f.height) != (cover.width, cover.height) {
                    out.push(problem(
                        &rel,
                        "size",
                        format!(
                            "is {}x{}, report.json says {}x{}",
                            f.width, f.height, cover.width, cover.height
                        ),
                    ));
                }
                if !f.colour.is_rgb() {
                    out.push(problem(
                        &rel,
                        "colour",
                        format!("is {:?}, not RGB", f.colour),
                    ));
                }
            }
            Err(e) => out.push(problem(&rel, "image", e)),
        }
    }
    let rel = format!("streaming/{}/metadata.json", b.name);
    let rows = match &folder.sheet {
        Sheet::Missing => return out,
        Sheet::NotJson => {
            out.push(problem(&rel, "json", "is not JSON"));
            return out;
        }
        Sheet::Rows(rows) => rows,
    };
    if rows.len() != b.files.len() {
        out.push(problem(
            &rel,
            "tracks",
            format!(
                "{} rows, report.json has {} files",
                rows.len(),
                b.files.len()
            ),
        ));
    }
    for (row, f) in rows.iter().zip(&b.files) {
        let file = row["file"].as_str().unwrap_or_default();
        if file != f.file {
            out.push(problem(
                &rel,
                "file",
                format!("row {} names {file:?}, report.json {:?}", f.track, f.file),
            ));
            continue;
        }
        let path = format!("streaming/{}/{file}", b.name);
        let listed = report.outputs.iter().find(|o| o.path == path);
        if let (Some(o), Some(w)) = (listed, row["md5"].as_str()) {
            if o.md5 != w {
                out.push(problem(
                    &rel,
                    "md5",
                    format!("gives {file} {w}, report.json's outputs {}", o.md5),
                ));
            }
        }
    }
    out
}

/// An AAC file's average bit rate against the one the build recorded
/// (within 0.1 kbps, report.json's rounding), and never over the bundle's:
/// rusty_aac fills at most each frame's budget, so a quiet or silent
/// track averages less, and only the recorded figure can tell a file at
/// another bit rate from it.
fn aac_bitrate(path: &Path, rel: &str, f: &BundleFile, bundle: Option<u32>) -> Vec<Problem> {
    let k = match crate::deliver::encode::mp4_bitrate_kbps(path) {
        Ok(k) => k,
        Err(e) => return vec![problem(rel, "bit rate", format!("cannot be read: {e}"))],
    };
    let mut out = Vec::new();
    if let Some(want) = f.bitrate_kbps.filter(|w| (k - w).abs() > 0.1) {
        out.push(problem(
            rel,
            "bit rate",
            format!("averages {k:.2} kbps, report.json says {want:.2} kbps"),
        ));
    }
    if let Some(b) = bundle.filter(|&b| k > f64::from(b) * 1.01) {
        out.push(problem(
            rel,
            "bit rate",
            format!("averages {k:.2} kbps, over the bundle's {b} kbps"),
        ));
    }
    out
}

/// The bit rate of the first MPEG-1 Layer III frame after any ID3v2 tag.
fn mp3_bitrate_kbps(path: &Path) -> Option<u32> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let mut head = [0u8; 10];
    f.read_exact(&mut head).ok()?;
    let mut at = 0u64;
    if head.starts_with(b"ID3") {
        let size = head[6..10]
            .iter()
            .fold(0u64, |s, &b| (s << 7) | u64::from(b & 0x7f));
        at = 10 + size + if head[5] & 0x10 != 0 { 10 } else { 0 };
    }
    // The first frame header lies within the next few kilobytes.
    f.seek(SeekFrom::Start(at)).ok()?;
    let mut bytes = Vec::with_capacity(8192);
    f.take(8192).read_to_end(&mut bytes).ok()?;
    let h = bytes
        .windows(4)
        .find(|w| w[0] == 0xff && w[1] & 0xe0 == 0xe0)?;
    // MPEG-1 (version bits 11), Layer III (layer bits 01).
    if (h[1] >> 3) & 3 != 3 || (h[1] >> 1) & 3 != 1 {
        return None;
    }
    const KBPS: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    KBPS.get(usize::from(h[2] >> 4)).copied().filter(|k| *k > 0)
}
