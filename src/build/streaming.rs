//! The streaming bundles of a build: planned before mastering (profiles
//! resolved, artwork checked, file names made), fed by each render (one
//! [`BundleSink`] per track and bundle), and finished after it (tags with
//! ReplayGain from the measured masters, cover, metadata sheets, every
//! delivered file measured again: resampling and lossy encoding both move
//! the true peak).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::BuildError;
use crate::audio::Block;
use crate::deliver::artwork::{self, Cover};
use crate::deliver::ddex;
use crate::deliver::naming::{self, NameFields};
use crate::deliver::sheet::{self, Credit, SheetRelease, SheetRow};
use crate::deliver::tags::{self, ReplayGain, TrackTags};
use crate::deliver::{resolve_spec, DeliverError, Encoded, ResolvedBundle, TrackEncoder};
use crate::manifest::model::{AudioFormat, Manifest};
use crate::master::{MasterError, Sink};
use crate::report::model::{BundleFile, BundleReport, CoverReport};
use crate::timings::span;

/// One bundle, planned.
pub struct Bundle {
    pub spec: ResolvedBundle,
    /// `streaming/NAME`, relative to the build folder.
    pub dir: String,
    /// Per track, the file's name in the bundle folder.
    pub files: Vec<String>,
    pub cover: Option<Cover>,
    /// The encoders' results, per track (the last render wins).
    pub slots: Vec<Arc<Mutex<Option<Encoded>>>>,
    /// `MessageCreatedDateTime` of the bundle's DDEX message, when it has
    /// one (`ddex: true`).
    pub ddex_created: Option<String>,
}

fn deliver_err(e: DeliverError) -> BuildError {
    BuildError::Invalid(e.to_string())
}

/// Resolves every bundle and checks its artwork; artwork errors fail the
/// build before any audio is processed, warnings are returned.
/// `covers` keeps the covers made, for the next user of the same image
/// (the store lint's artwork rules).
pub fn plan(
    manifest: &Manifest,
    covers: &mut artwork::Covers,
) -> Result<(Vec<Bundle>, Vec<String>), BuildError> {
    let mut bundles = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for spec in &manifest.streaming {
        let mut b = resolve_spec(spec).map_err(deliver_err)?;
        // Masters keep their source's rate.
        b.make_uniform(
            manifest
                .tracks
                .iter()
                .filter_map(|t| t.info.as_ref().map(|i| i.sample_rate)),
        );
        let art = crate::timings::time("bundles: artwork (decode, resize, encode)", None, || {
            artwork::process_with(manifest.release.artwork.as_deref(), &b.artwork, covers)
        });
        for f in &art.findings {
            let line = format!("bundle `{}`: {f}", b.name);
            if art.has_errors() && f.severity == crate::deliver::profile::Severity::Error {
                errors.push(line);
            } else {
                warnings.push(line);
            }
        }
        let album = &manifest.release.title;
        let files = manifest
            .tracks
            .iter()
            .map(|t| {
                let fields = NameFields {
                    disc: t.disc,
                    track: t.number,
                    artist: tags::display_artist(&t.artist, &t.featuring),
                    title: t.title.clone(),
                    album: album.clone(),
                    isrc: t
                        .isrc
                        .as_ref()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                    version: t.version.clone().unwrap_or_default(),
                    album_artist: manifest.release.artist.clone(),
                };
                naming::file_name(&b.naming, &fields, b.charset, b.extension())
            })
            .collect::<Vec<_>>();
        let mut seen = std::collections::HashSet::new();
        for f in &files {
            if !seen.insert(f) {
                errors.push(format!(
                    "bundle `{}`: two tracks would be written as \"{f}\"; make the naming template tell them apart",
                    b.name
                ));
            }
        }
        let ddex_created = match &manifest.ddex {
            Some(d) if d.bundles.contains(&b.name) => {
                let date = manifest
                    .release
                    .release_date
                    .as_deref()
                    .or(d.deals.first().map(|x| x.start_date.as_str()))
                    .unwrap_or("1970-01-01");
                let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
                Some(
                    ddex::created_at(epoch.as_deref(), date)
                        .map_err(|e| BuildError::Invalid(e.to_string()))?,
                )
            }
            _ => None,
        };
        bundles.push(Bundle {
            ddex_created,
            dir: format!("streaming/{}", b.name),
            slots: files.iter().map(|_| Arc::new(Mutex::new(None))).collect(),
            files,
            cover: art.cover,
            spec: b,
        });
    }
    if !errors.is_empty() {
        return Err(BuildError::Invalid(errors.join("\n")));
    }
    Ok((bundles, warnings))
}

/// A track's encoder for one bundle, as a render sink.
pub struct BundleSink {
    track: u32,
    /// For `build --timings`: the encoder's name.
    stage: &'static str,
    encoder: Option<TrackEncoder>,
    slot: Arc<Mutex<Option<Encoded>>>,
}

impl BundleSink {
    pub fn create(
        root: &Path,
        bundle: &Bundle,
        index: usize,
        track: u32,
        master_hz: u32,
    ) -> Result<BundleSink, MasterError> {
        let path = root.join(&bundle.dir).join(&bundle.files[index]);
        let encoder = TrackEncoder::create(&bundle.spec, master_hz, &path, u64::from(track))
            .map_err(|e| MasterError::Track {
                track,
                message: e.to_string(),
            })?;
        Ok(BundleSink {
            track,
            stage: encode_stage(bundle.spec.format),
            encoder: Some(encoder),
            slot: bundle.slots[index].clone(),
        })
    }
}

/// The stage `build --timings` charges a bundle's encoder to.
fn encode_stage(format: AudioFormat) -> &'static str {
    match format {
        AudioFormat::Wav => "encode: WAV",
        AudioFormat::Flac => "encode: FLAC",
        AudioFormat::Mp3 => "encode: MP3",
        AudioFormat::Ogg => "encode: Ogg Vorbis",
        AudioFormat::Opus => "encode: Opus",
        AudioFormat::Aac => "encode: AAC",
    }
}

impl Sink for BundleSink {
    fn stage(&self) -> &'static str {
        self.stage
    }

    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        let track = self.track;
        match self.encoder.as_mut() {
            Some(e) => e.write_block(block).map_err(|e| MasterError::Track {
                track,
                message: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        let track = self.track;
        if let Some(e) = self.encoder.take() {
            let enc = e.finish().map_err(|e| MasterError::Track {
                track,
                message: e.to_string(),
            })?;
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(enc);
        }
        Ok(())
    }
}

/// The masters' loudness and true peak, per track and for the album.
pub struct Levels {
    pub tracks: Vec<(Option<f64>, Option<f64>)>,
    pub album: (Option<f64>, Option<f64>),
}

/// Files written, each with its MD5 when it is already known.
pub type Written = Vec<(PathBuf, Option<String>)>;

/// Tags, covers and sheets of every bundle; each delivered file is
/// measured again for its sheet. Returns the files written (with the MD5
/// of those the sheets already hashed) and, per bundle, what report.json
/// records of it.
pub fn finish(
    root: &Path,
    manifest: &Manifest,
    bundles: &[Bundle],
    levels: &Levels,
) -> Result<(Written, Vec<BundleReport>), BuildError> {
    let disc_total = manifest.tracks.iter().map(|t| t.disc).max().unwrap_or(1);
    let mut written = Vec::new();
    let mut reports = Vec::new();
    for b in bundles {
        let dir = root.join(&b.dir);
        if let Some(c) = &b.cover {
            let _t = span("bundles: cover", None);
            written.push((c.write(&dir).map_err(deliver_err)?, None));
        }
        let rows: Vec<SheetRow> = manifest
            .tracks
            .par_iter()
            .enumerate()
            .map(|(i, t)| -> Result<SheetRow, BuildError> {
                let path = dir.join(&b.files[i]);
                let rg = match (levels.tracks[i], levels.album) {
                    ((Some(l), Some(p)), (Some(al), Some(ap))) => {
                        Some(ReplayGain::from_loudness(l, p, al, ap))
                    }
                    _ => None,
                };
                let on_disc = manifest.tracks.iter().filter(|x| x.disc == t.disc);
                let tt = TrackTags {
                    title: t.title.clone(),
                    version: t.version.clone(),
                    artist: t.artist.clone(),
                    featuring: t.featuring.clone(),
                    album: manifest.release.title.clone(),
                    album_artist: manifest.release.artist.clone(),
                    track_number: manifest
                        .tracks
                        .iter()
                        .filter(|x| x.disc == t.disc && x.number <= t.number)
                        .count() as u32,
                    track_total: on_disc.count() as u32,
                    disc_number: t.disc,
                    disc_total,
                    date: manifest.release.release_date.clone(),
                    genre: manifest.release.genre.clone(),
                    isrc: t.isrc.as_ref().map(|c| c.as_str().to_owned()),
                    barcode: manifest.release.upc.as_ref().map(|u| u.ean13().to_owned()),
                    label: manifest.release.label.clone(),
                    catalog_number: manifest.release.catalog_number.clone(),
                    composer: t.composer.clone(),
                    lyricist: t.lyricist.clone(),
                    copyright: manifest.release.copyright.clone(),
                    phonographic_copyright: manifest.release.phonographic_copyright.clone(),
                    explicit: t.explicit || manifest.release.explicit,
                    lyrics: t.lyrics.clone(),
                    language: manifest.release.language.clone(),
                    replay_gain: rg,
                };
                let t_tags = span("bundles: tags", Some(t.number));
                tags::write_tags(
                    &path,
                    b.spec.tags,
                    &tt,
                    b.cover.as_ref().map(|c| &c.jpeg[..]),
                )
                .map_err(deliver_err)?;
                drop(t_tags);
                let measured =
                    crate::timings::time("bundles: re-measure delivered", Some(t.number), || {
                        crate::deliver::analyze_delivered(&path, b.spec.format)
                    })?;
                let m = &measured.measurement;
                let mut credits = vec![Credit {
                    name: t.artist.clone(),
                    role: "artist".into(),
                }];
                for (names, role) in [
                    (t.featuring.clone(), "featured"),
                    (t.composer.iter().cloned().collect(), "composer"),
                    (t.lyricist.iter().cloned().collect(), "lyricist"),
                    (t.arranger.iter().cloned().collect(), "arranger"),
                    (t.producer.iter().cloned().collect(), "producer"),
                ] {
                    for name in names {
                        credits.push(Credit {
                            name,
                            role: role.into(),
                        });
                    }
                }
                Ok(SheetRow {
                    file: b.files[i].clone(),
                    disc: t.disc,
                    number: t.number,
                    title: t.title.clone(),
                    version: t.version.clone(),
                    artist: tags::display_artist(&t.artist, &t.featuring),
                    credits,
                    isrc: t.isrc.as_ref().map(|c| c.as_str().to_owned()),
                    explicit: t.explicit || manifest.release.explicit,
                    duration_s: m.duration_s,
                    integrated_lufs: m.integrated_lufs,
                    true_peak_dbtp: m.true_peak_dbtp,
                    md5: sheet::md5_file(&path).map_err(deliver_err)?,
                })
            })
            .collect::<Result<_, _>>()?;
        for r in &rows {
            written.push((dir.join(&r.file), Some(r.md5.clone())));
        }
        let sheets = sheet::write_sheets(
            &dir,
            &b.spec.name,
            &b.spec.profile,
            &SheetRelease::of(&manifest.release),
            &rows,
        )
        .map_err(deliver_err)?;
        written.extend(sheets.into_iter().map(|p| (p, None)));
        let mut report = bundle_report(b, &rows)?;
        if let Some(path) = write_ddex(&dir, manifest, b, &rows, &report)? {
            report.ddex = Some(format!("ddex/{}", ddex::MESSAGE_FILE));
            written.push((path, None));
        }
        reports.push(report);
    }
    Ok((written, reports))
}

/// report.json's record of a finished bundle.
fn bundle_report(b: &Bundle, rows: &[SheetRow]) -> Result<BundleReport, BuildError> {
    let files = rows
        .iter()
        .zip(&b.slots)
        .map(|(r, slot)| {
            let (rate, kbps) = slot
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|e| (e.sample_rate, e.bitrate_kbps))
                .ok_or_else(|| {
                    BuildError::Invalid(format!(
                        "bundle `{}`: {} was not encoded",
                        b.spec.name, r.file
                    ))
                })?;
            Ok(BundleFile {
                track: r.number,
                file: r.file.clone(),
                sample_rate: rate,
                duration_s: r.duration_s,
                integrated_lufs: r.integrated_lufs,
                true_peak_dbtp: r.true_peak_dbtp,
                bitrate_kbps: kbps,
            })
        })
        .collect::<Result<_, BuildError>>()?;
    let mp3 = b.spec.format.is_lossy();
    Ok(BundleReport {
        name: b.spec.name.clone(),
        profile: b.spec.profile.clone(),
        format: b.spec.format,
        bit_depth: (!mp3).then_some(b.spec.bit_depth),
        bitrate_kbps: mp3.then_some(b.spec.bitrate_kbps),
        tags: b.spec.tags,
        true_peak_ceiling_dbtp: b.spec.true_peak_dbtp,
        cover: b.cover.as_ref().map(|c| CoverReport {
            file: "cover.jpg".into(),
            width: c.width,
            height: c.height,
        }),
        files,
        ddex: None,
    })
}

/// The bundle's DDEX message in `DIR/ddex/`, when it asks for one: its
/// files as delivered (names, MD5s, sizes, measured durations) and cover.
fn write_ddex(
    dir: &Path,
    manifest: &Manifest,
    b: &Bundle,
    rows: &[SheetRow],
    report: &BundleReport,
) -> Result<Option<PathBuf>, BuildError> {
    let (Some(created), Some(d)) = (&b.ddex_created, &manifest.ddex) else {
        return Ok(None);
    };
    let size = |p: &Path| -> Result<u64, BuildError> {
        std::fs::metadata(p).map(|m| m.len()).map_err(|e| {
            deliver_err(DeliverError::Io {
                path: p.to_path_buf(),
                source: e,
            })
        })
    };
    let files = rows
        .iter()
        .zip(&report.files)
        .map(|(r, f)| {
            Ok(ddex::DeliveredFile {
                name: r.file.clone(),
                md5: r.md5.clone(),
                size: size(&dir.join(&r.file))?,
                duration_s: r.duration_s,
                sample_rate: f.sample_rate,
                // Blocks are stereo from decode to delivery.
                channels: 2,
            })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    let cover = match &b.cover {
        Some(c) => {
            let path = dir.join("cover.jpg");
            Some(ddex::CoverFile {
                name: "cover.jpg".into(),
                md5: sheet::md5_file(&path).map_err(deliver_err)?,
                size: size(&path)?,
                width: c.width,
                height: c.height,
            })
        }
        None => None,
    };
    let facts = ddex::BundleFiles {
        files,
        format: ddex::FileFormat {
            format: report.format,
            bit_depth: report.bit_depth,
            bitrate_kbps: report.bitrate_kbps,
        },
        cover,
        created: created.clone(),
    };
    let bytes =
        ddex::message(manifest, d, &facts).map_err(|e| BuildError::Invalid(e.to_string()))?;
    let folder = dir.join("ddex");
    let path = folder.join(ddex::MESSAGE_FILE);
    std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&path, bytes))
        .map_err(|e| {
            deliver_err(DeliverError::Io {
                path: path.clone(),
                source: e,
            })
        })?;
    Ok(Some(path))
}
