//! The build's vinyl and cassette step. During mastering each track's
//! master is spooled as a 24-bit WAV for the sides (and, when the vinyl
//! uses the masters, measured for the vinyl checks); a vinyl section with
//! its own `chain` or `true_peak_dbtp` gets its own render of every track
//! instead, after the masters. Then each medium's sides are laid out from
//! the rendered lengths, judged again against the medium's limits (the
//! manifest's check could not know a length only decoding tells), and
//! written: `vinyl/side-A.wav` ..., `vinyl/tracks/A1 Title.wav` ...,
//! `vinyl/cutting-sheet.{txt,html}`; `cassette/side-A.wav`, `side-B.wav`,
//! `cassette/duplication-sheet.{txt,html}`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::sinks::MasterWav;
use super::BuildError;
use crate::analog::checks::{vinyl_checks, CheckedTrack, VinylFigures, VinylMeter};
use crate::analog::sheet::{write_sheets, SheetInfo};
use crate::analog::sides::{gap_frames, Limits, Verdict};
use crate::analog::write::{premaster_frames, write_side};
use crate::analog::{balanced_split, lay_out, side_name, table, AnalogError, Medium, Side};
use crate::audio::Block;
use crate::deliver::naming::sanitize;
use crate::deliver::profile::Charset;
use crate::manifest::model::{Manifest, Mastering, Track};
use crate::master::{self, MasterError, Sink, TrackPlan};
use crate::report::checks::Check;
use crate::report::model::{AnalogPlaced, AnalogReport, AnalogSide, VinylTrackFigures};

type Slot = Arc<Mutex<Option<VinylFigures>>>;

/// What the mastering pass must feed for the analogue media.
pub struct Analog {
    work: PathBuf,
    vinyl: bool,
    cassette: bool,
    /// The vinyl checks measure the masters (no render of its own).
    meter_masters: bool,
    figures: Vec<Slot>,
}

/// What the step made.
pub struct AnalogOutcome {
    pub files: Vec<PathBuf>,
    pub checks: Vec<Check>,
    pub warnings: Vec<String>,
    pub vinyl: Option<AnalogReport>,
    pub cassette: Option<AnalogReport>,
}

fn analog_err(e: AnalogError) -> BuildError {
    BuildError::Invalid(e.to_string())
}

impl Analog {
    pub fn new(manifest: &Manifest, vinyl: bool, cassette: bool, work: &Path) -> Analog {
        let vinyl = vinyl && manifest.vinyl.is_some();
        let cassette = cassette && manifest.cassette.is_some();
        let own = manifest.vinyl.as_ref().is_some_and(|v| v.own_render());
        Analog {
            work: work.to_owned(),
            vinyl,
            cassette,
            meter_masters: vinyl && !own,
            figures: manifest
                .tracks
                .iter()
                .map(|_| Arc::new(Mutex::new(None)))
                .collect(),
        }
    }

    fn master_spool(&self, track: u32) -> PathBuf {
        self.work.join(format!("analog-master-{track:02}.wav"))
    }

    fn vinyl_spool(&self, track: u32) -> PathBuf {
        self.work.join(format!("analog-vinyl-{track:02}.wav"))
    }

    /// The sinks to add to a track's mastering render.
    pub fn master_sinks(&self, plan: &TrackPlan) -> Result<Vec<Box<dyn Sink>>, MasterError> {
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if self.cassette || self.meter_masters {
            sinks.push(Box::new(MasterWav::create(
                &self.master_spool(plan.number),
                plan.number,
                plan.info.sample_rate,
            )?));
        }
        if self.meter_masters {
            sinks.push(Box::new(MeterSink::new(plan, &self.figures)?));
        }
        Ok(sinks)
    }

    /// After mastering: the vinyl's own render when it has one, then the
    /// side files, per-track files and sheets of each medium.
    pub fn finish(
        &self,
        manifest: &Manifest,
        root: &Path,
        jobs: usize,
        progress: &dyn super::BuildProgress,
    ) -> Result<AnalogOutcome, BuildError> {
        let mut out = AnalogOutcome {
            files: Vec::new(),
            checks: Vec::new(),
            warnings: Vec::new(),
            vinyl: None,
            cassette: None,
        };
        if let (true, Some(v)) = (self.vinyl, &manifest.vinyl) {
            let spools: Vec<PathBuf> = if v.own_render() {
                out.warnings
                    .extend(self.render_vinyl(manifest, jobs, progress)?);
                manifest
                    .tracks
                    .iter()
                    .map(|t| self.vinyl_spool(t.number))
                    .collect()
            } else {
                manifest
                    .tracks
                    .iter()
                    .map(|t| self.master_spool(t.number))
                    .collect()
            };
            let limits = table::vinyl_limits(v.size, v.rpm).ok_or_else(|| {
                BuildError::Invalid(format!(
                    "no side lengths for a {}\" record at {} rpm",
                    v.size, v.rpm
                ))
            })?;
            let medium = MediumJob {
                medium: Medium::Vinyl,
                dir: root.join("vinyl"),
                format: format!("{}\" {}", v.size, table::rpm_name(v.rpm)),
                limits: Limits {
                    recommended: Some(limits.recommended),
                    maximum: limits.maximum,
                },
                gap_s: v.gap_s,
                per_track: true,
                sheet: "cutting-sheet",
            };
            let Written {
                sides,
                mut report,
                track_files,
            } = medium.write(manifest, &v.sides, &spools, &mut out)?;
            let figures: Vec<VinylFigures> = self
                .figures
                .iter()
                .map(|s| {
                    s.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .unwrap_or_default()
                })
                .collect();
            let checked: Vec<CheckedTrack<'_>> = sides
                .iter()
                .flat_map(|s| {
                    s.tracks.iter().enumerate().map(|(k, p)| CheckedTrack {
                        number: manifest.tracks[p.track].number,
                        title: &manifest.tracks[p.track].title,
                        side: &s.name,
                        last_on_side: k + 1 == s.tracks.len(),
                        figures: figures[p.track],
                    })
                })
                .collect();
            let mut checks = vinyl_checks(&checked);
            checks.sort_by_key(|c| c.track);
            let sentences: Vec<String> = checks
                .iter()
                .map(|c| format!("{} ({})", c.message, c.id))
                .collect();
            out.files
                .extend(medium.sheets(manifest, &sides, &track_files, &sentences)?);
            out.checks.extend(checks);
            report.own_render = v.own_render();
            report.figures = manifest
                .tracks
                .iter()
                .zip(&figures)
                .map(|(t, f)| VinylTrackFigures {
                    track: t.number,
                    low_correlation: f.low_correlation,
                    low_side_db: f.low_side_db,
                    hf_peak_dbfs: f.hf_peak_dbfs,
                })
                .collect();
            out.vinyl = Some(report);
        }
        if let (true, Some(c)) = (self.cassette, &manifest.cassette) {
            let spools: Vec<PathBuf> = manifest
                .tracks
                .iter()
                .map(|t| self.master_spool(t.number))
                .collect();
            let medium = MediumJob {
                medium: Medium::Cassette,
                dir: root.join("cassette"),
                format: c.length.clone(),
                limits: Limits {
                    recommended: None,
                    maximum: c.side_minutes,
                },
                gap_s: c.gap_s,
                per_track: false,
                sheet: "duplication-sheet",
            };
            let sides = match &c.sides {
                Some(s) => s.clone(),
                None => {
                    let frames = spools
                        .iter()
                        .map(|p| premaster_frames(p))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(analog_err)?;
                    let rate = manifest
                        .tracks
                        .first()
                        .and_then(|t| t.info.as_ref())
                        .map_or(44_100, |i| i.sample_rate);
                    let k = balanced_split(&frames, gap_frames(c.gap_s, rate));
                    let b: Vec<usize> = (k..frames.len()).collect();
                    let mut v = vec![(0..k).collect::<Vec<_>>()];
                    if !b.is_empty() {
                        v.push(b);
                    }
                    v
                }
            };
            let w = medium.write(manifest, &sides, &spools, &mut out)?;
            out.files
                .extend(medium.sheets(manifest, &w.sides, &w.track_files, &[])?);
            out.cassette = Some(w.report);
        }
        Ok(out)
    }

    /// Renders every track with the vinyl's chain and ceiling (the
    /// masters' loudness target and mode), spooled and measured.
    fn render_vinyl(
        &self,
        manifest: &Manifest,
        jobs: usize,
        progress: &dyn super::BuildProgress,
    ) -> Result<Vec<String>, BuildError> {
        let v = manifest
            .vinyl
            .as_ref()
            .expect("render_vinyl runs with a vinyl section");
        let mastering = Mastering {
            chain: v
                .chain
                .clone()
                .unwrap_or_else(|| manifest.mastering.chain.clone()),
            true_peak_dbtp: v
                .true_peak_dbtp
                .unwrap_or(manifest.mastering.true_peak_dbtp),
            ..manifest.mastering.clone()
        };
        let plans: Vec<TrackPlan> = manifest
            .tracks
            .iter()
            .map(|t| {
                let t = Track {
                    chain: if v.chain.is_some() {
                        None
                    } else {
                        t.chain.clone()
                    },
                    ..t.clone()
                };
                TrackPlan::new(&t, &mastering)
            })
            .collect::<Result<_, _>>()?;
        let make = |plan: &TrackPlan| -> Result<Vec<Box<dyn Sink>>, MasterError> {
            Ok(vec![
                Box::new(MasterWav::create(
                    &self.vinyl_spool(plan.number),
                    plan.number,
                    plan.info.sample_rate,
                )?),
                Box::new(MeterSink::new(plan, &self.figures)?),
            ])
        };
        let total: u64 = plans.iter().map(|p| p.info.frames.unwrap_or(0)).sum();
        progress.stage("vinyl premaster", total * 2);
        let advance = |n: u64| progress.advance(n);
        let result = master::master_album(&plans, &mastering, jobs, &make, &advance)?;
        Ok(result
            .warnings
            .iter()
            .map(|w| format!("vinyl premaster: {w}"))
            .collect())
    }
}

/// A medium's sides as written, their report and, per album track, its
/// per-track file (relative to the medium's folder).
struct Written {
    sides: Vec<Side>,
    report: AnalogReport,
    track_files: Vec<Option<String>>,
}

/// One medium's outputs.
struct MediumJob {
    medium: Medium,
    dir: PathBuf,
    format: String,
    limits: Limits,
    gap_s: f64,
    per_track: bool,
    sheet: &'static str,
}

impl MediumJob {
    /// Lays out and writes the side files (and per-track files); returns
    /// the sides and their report.
    fn write(
        &self,
        manifest: &Manifest,
        sides: &[Vec<usize>],
        spools: &[PathBuf],
        out: &mut AnalogOutcome,
    ) -> Result<Written, BuildError> {
        let name = self.medium.as_str();
        std::fs::create_dir_all(&self.dir).map_err(|e| BuildError::io(&self.dir, e))?;
        let frames = spools
            .iter()
            .map(|p| premaster_frames(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(analog_err)?;
        let mut laid = Vec::new();
        let mut errors = Vec::new();
        for (i, list) in sides.iter().enumerate() {
            let rate = manifest.tracks[list[0]]
                .info
                .as_ref()
                .map_or(44_100, |info| info.sample_rate);
            let mut side = lay_out(
                std::slice::from_ref(list),
                &frames,
                rate,
                gap_frames(self.gap_s, rate),
            )
            .remove(0);
            side.name = side_name(i);
            // Lengths the manifest's check could not know (decoded only).
            let unsure = list.iter().any(|&k| {
                manifest.tracks[k]
                    .info
                    .as_ref()
                    .and_then(|i| i.frames)
                    .is_none()
            });
            let long = crate::analog::sheet::clock(side.frames, rate);
            match self.limits.judge(side.minutes()) {
                Verdict::OverMaximum => errors.push(format!(
                    "{name} side {} is {long} long; a {} holds at most {:.1} minutes per side",
                    side.name, self.format, self.limits.maximum
                )),
                Verdict::OverRecommended if unsure => out.warnings.push(format!(
                    "{name} side {} is {long} long, over the {:.1} minutes recommended for {}",
                    side.name,
                    self.limits.recommended.unwrap_or_default(),
                    self.format
                )),
                _ => {}
            }
            laid.push(side);
        }
        if !errors.is_empty() {
            return Err(BuildError::Invalid(errors.join("\n")));
        }
        let mut track_files: Vec<Option<String>> = vec![None; manifest.tracks.len()];
        let mut report_sides = Vec::new();
        for side in &laid {
            let file = format!("side-{}.wav", side.name);
            let path = self.dir.join(&file);
            write_side(&path, side, spools).map_err(analog_err)?;
            out.files.push(path);
            let mut placed = Vec::new();
            for (k, p) in side.tracks.iter().enumerate() {
                let position = format!("{}{}", side.name, k + 1);
                let t = &manifest.tracks[p.track];
                if self.per_track {
                    let rel = format!(
                        "tracks/{}.wav",
                        sanitize(&format!("{position} {}", t.title), Charset::Any)
                    );
                    let dst = self.dir.join(&rel);
                    if let Some(parent) = dst.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
                    }
                    std::fs::copy(&spools[p.track], &dst).map_err(|e| BuildError::io(&dst, e))?;
                    out.files.push(dst);
                    track_files[p.track] = Some(rel);
                }
                placed.push(AnalogPlaced {
                    track: t.number,
                    position,
                    start_frame: p.start,
                    frames: p.frames,
                    file: track_files[p.track].clone(),
                });
            }
            report_sides.push(AnalogSide {
                name: side.name.clone(),
                file: format!("{name}/{file}"),
                sample_rate: side.rate,
                frames: side.frames,
                duration_s: side.frames as f64 / f64::from(side.rate),
                tracks: placed,
            });
        }
        let report = AnalogReport {
            format: self.format.clone(),
            own_render: false,
            gap_s: self.gap_s,
            sides: report_sides,
            figures: Vec::new(),
        };
        Ok(Written {
            sides: laid,
            report,
            track_files,
        })
    }

    /// Writes the sheet of the laid-out sides.
    fn sheets(
        &self,
        manifest: &Manifest,
        sides: &[Side],
        track_files: &[Option<String>],
        checks: &[String],
    ) -> Result<Vec<PathBuf>, BuildError> {
        let titles: Vec<String> = manifest.tracks.iter().map(|t| t.title.clone()).collect();
        let side_files: Vec<String> = sides
            .iter()
            .map(|s| format!("side-{}.wav", s.name))
            .collect();
        let info = SheetInfo {
            medium: self.medium,
            title: &manifest.release.title,
            artist: &manifest.release.artist,
            format: self.format.clone(),
            limits: self.limits,
            titles: &titles,
            track_files,
            side_files: &side_files,
            checks,
        };
        write_sheets(&self.dir, self.sheet, &info, sides).map_err(analog_err)
    }
}

/// Feeds a render to a [`VinylMeter`]; the last render's figures win.
struct MeterSink {
    meter: VinylMeter,
    slot: Slot,
}

impl MeterSink {
    fn new(plan: &TrackPlan, slots: &[Slot]) -> Result<MeterSink, MasterError> {
        Ok(MeterSink {
            meter: VinylMeter::new(plan.info.sample_rate).map_err(|source| MasterError::Dsp {
                track: plan.number,
                source,
            })?,
            slot: slots[(plan.number - 1) as usize].clone(),
        })
    }
}

impl Sink for MeterSink {
    fn stage(&self) -> &'static str {
        "analog: meter"
    }

    fn write(&mut self, block: &Block) -> Result<(), MasterError> {
        self.meter.add(block);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MasterError> {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.meter.finish());
        Ok(())
    }
}
