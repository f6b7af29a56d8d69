//! The CD step of `build`: each disc of the release laid out on its own
//! from its tracks' CD audio (and, on disc 1, the hidden track's, in
//! track 1's pregap), its image streamed into `cd/` (one disc) or
//! `cd/disc-N/` (a set of several), then its CUE, TOC, PQ sheets and DDP
//! fileset written around it by [`crate::disc::author()`]. Track numbers
//! start from 1 on every disc; the MCN is on every disc.

use std::io::{Read, Write};
use std::path::Path;

use super::sinks::CdSegment;
use super::{mkdir, BuildError};
use crate::disc::layout::DiscLayout;
use crate::manifest::model::Manifest;
use crate::report::model;

/// One disc as built.
pub struct BuiltDisc {
    pub disc: u32,
    /// The disc's folder relative to the build folder (`cd`, `cd/disc-2`).
    pub dir: String,
    pub layout: DiscLayout,
    /// The manifest indexes of its tracks, in disc order.
    pub tracks: Vec<usize>,
    /// The hidden track's segment (disc 1 only).
    pub hidden: Option<usize>,
}

/// The folder of disc `disc` when the release has `count` discs.
pub fn disc_dir(disc: u32, count: usize) -> String {
    if count > 1 {
        format!("cd/disc-{disc}")
    } else {
        "cd".to_owned()
    }
}

/// Lays out and writes every disc. `segments`: the CD audio of each
/// track in manifest order, then the hidden track's when there is one.
pub fn write_discs(
    manifest: &Manifest,
    root: &Path,
    segments: &[CdSegment],
) -> Result<(Vec<BuiltDisc>, Vec<String>), BuildError> {
    let discs = manifest.discs();
    let hidden_at = manifest.hidden_as_track().map(|_| manifest.tracks.len());
    let mut built = Vec::with_capacity(discs.len());
    let mut warnings = Vec::new();
    for &disc in &discs {
        let tracks: Vec<usize> = (0..manifest.tracks.len())
            .filter(|&i| manifest.tracks[i].disc == disc)
            .collect();
        let hidden = hidden_at.filter(|_| disc == 1);
        let samples: Vec<u64> = tracks.iter().map(|&i| segments[i].samples).collect();
        let hidden_samples = hidden.map(|h| segments[h].samples);
        let layout = DiscLayout::from_manifest_disc(manifest, disc, &samples, hidden_samples)?;
        let dir = disc_dir(disc, discs.len());
        let cd_dir = root.join(&dir);
        mkdir(&cd_dir)?;
        let mut order: Vec<&CdSegment> = Vec::with_capacity(tracks.len() + 1);
        order.extend(hidden.map(|h| &segments[h]));
        order.extend(tracks.iter().map(|&i| &segments[i]));
        write_image(&cd_dir.join("album.wav"), &layout, &order)?;
        let cd = manifest
            .cd
            .as_ref()
            .expect("a CD is only written with a cd section");
        let title = if discs.len() > 1 {
            format!("{} (Disc {disc})", manifest.release.title)
        } else {
            manifest.release.title.clone()
        };
        let authored = crate::disc::author::author(
            &cd_dir,
            &layout,
            &crate::disc::author::AuthorOptions {
                formats: cd.formats.clone(),
                title,
                artist: manifest.release.artist.clone(),
                catalog_number: manifest.release.catalog_number.clone().unwrap_or_default(),
                ..Default::default()
            },
        )?;
        let on = if discs.len() > 1 {
            format!("disc {disc}")
        } else {
            "the CD".to_owned()
        };
        warnings.extend(authored.warnings.iter().map(|w| format!("{on}: {w}")));
        built.push(BuiltDisc {
            disc,
            dir,
            layout,
            tracks,
            hidden,
        });
    }
    Ok((built, warnings))
}

/// Streams the image: silence and each segment where the layout puts
/// them (`segments`: the hidden track's first when there is one, then the
/// disc's tracks), then the tail to the frame boundary.
fn write_image(wav: &Path, layout: &DiscLayout, segments: &[&CdSegment]) -> Result<(), BuildError> {
    let data_bytes = layout.image_samples() * 4;
    let header_len = u32::try_from(data_bytes)
        .map_err(|_| BuildError::Invalid("the CD image is over 4 GiB".into()))?;
    let file = std::fs::File::create(wav).map_err(|e| BuildError::io(wav, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let io = |e| BuildError::io(wav, e);
    out.write_all(&crate::disc::ddp::wav_header(header_len))
        .map_err(io)?;
    let zeros = vec![0u8; 1 << 16];
    let write_zeros =
        |out: &mut std::io::BufWriter<std::fs::File>, samples: u64| -> Result<(), BuildError> {
            let mut left = samples * 4;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                out.write_all(&zeros[..n])
                    .map_err(|e| BuildError::io(wav, e))?;
                left -= n as u64;
            }
            Ok(())
        };
    let mut spans: Vec<u64> = Vec::with_capacity(segments.len());
    spans.extend(layout.hidden.as_ref().map(|h| h.image.silence_before));
    spans.extend(layout.tracks.iter().map(|t| t.image.silence_before));
    let mut buf = vec![0u8; 1 << 20];
    for (silence, seg) in spans.into_iter().zip(segments) {
        write_zeros(&mut out, silence)?;
        let mut f = std::fs::File::open(&seg.path).map_err(|e| BuildError::io(&seg.path, e))?;
        loop {
            let n = f.read(&mut buf).map_err(|e| BuildError::io(&seg.path, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(io)?;
        }
    }
    write_zeros(&mut out, layout.tail_silence)?;
    out.flush().map_err(io)?;
    Ok(())
}

/// report.json's `discs` entry of a built disc: its length, MCN, folder
/// and files, and the hidden track when it has one.
pub fn disc_report(
    d: &BuiltDisc,
    segments: &[CdSegment],
    formats: &[crate::manifest::model::CdFormat],
) -> model::DiscReport {
    use crate::manifest::model::CdFormat;
    let c = d.layout.report();
    let file = |name: &str| format!("{}/{name}", d.dir);
    let has = |f: CdFormat| formats.contains(&f);
    model::DiscReport {
        disc: d.disc,
        dir: d.dir.clone(),
        total_frames: u64::from(c.total_frames),
        mcn: c.mcn,
        tracks: d.tracks.len() as u32,
        image: file("album.wav"),
        cue: has(CdFormat::Cue).then(|| file("album.cue")),
        toc: has(CdFormat::Toc).then(|| file("album.toc")),
        ddp: has(CdFormat::Ddp).then(|| file("ddp")),
        pq_sheet: vec![file("pq-sheet.txt"), file("pq-sheet.html")],
        hidden: d
            .layout
            .hidden
            .as_ref()
            .zip(d.hidden)
            .map(|(h, i)| model::HiddenReport {
                title: h.title.clone(),
                start_frame: u64::from(h.start_frame),
                length_frames: u64::from(h.frames),
                samples: h.image.audio_samples,
                true_peak_dbtp: segments[i].measurement.true_peak_dbtp,
            }),
    }
}
