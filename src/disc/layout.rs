//! The Red Book layout: where every track, pause and index of the disc
//! falls, in frames of 588 samples (1/75 s) counted from 00:00:00 with
//! track 1's pregap included, and where each track's samples and the
//! silence between them go in the image (`album.wav`, `IMAGE.DAT`).
//!
//! Built from frame arithmetic alone, never from audio: the caller gives
//! each track's mastered length in samples at 44.1 kHz and streams the
//! image as [`ImageSpan`] says (silence, then the track's samples, then
//! [`DiscLayout::tail_silence`] after the last track).
//!
//! Rules:
//! - the pause before a track is `pregap_s` or `cd.gap_s`, rounded to the
//!   nearest frame; track 1's must be at least 150 frames (2 s);
//! - a track that is not a segue starts on a frame: the track before it is
//!   padded with silence to its frame boundary, then the pause follows;
//! - a segue track has no pause and no silence: the audio runs on, and its
//!   INDEX 01 is the frame nearest to the sample where it begins (ties go
//!   to the later frame). [`ImageSpan::boundary_offset`] says how far the
//!   true start is from that frame (at most 294 samples either way);
//! - extra indexes (seconds from INDEX 01) go to the nearest frame and must
//!   be strictly increasing (one frame apart at least) and inside their
//!   track, INDEX 99 the last;
//! - a hidden track (HTOA) lies in track 1's pregap: after the pause,
//!   its samples, padded with silence to the frame of INDEX 01, so that
//!   INDEX 00 stays at 00:00:00 and the pregap is the pause plus the
//!   hidden audio;
//! - 1 to 99 tracks, each at least 300 frames (4 s) from INDEX 01 to the
//!   next track's start, at most 79:57:74 in all (a warning past 74:00),
//!   an MCN of 13 digits with a right check digit, ISRCs `CCXXXYYNNNNN`.

use serde::Serialize;
use thiserror::Error;

use super::cdtext::{self, CdText, CdTextBlock, Fields, Genre};
use super::ddp::{self, Control};
use super::from_manifest::{disc_input, layout_input};
use super::text::{latin1, DiscWarning};
use crate::manifest::diagnostic::num;
use crate::manifest::model::Manifest;
use crate::manifest::time::frames_to_msf;
use crate::manifest::validate::{MAX_DISC_FRAMES, MIN_TRACK_FRAMES, WARN_DISC_FRAMES};

/// Samples (per channel) in one frame at 44.1 kHz.
pub const SAMPLES_PER_FRAME: u64 = 588;
/// Frames in one second.
pub const FRAMES_PER_SECOND: u32 = 75;
/// The longest pause taken at all (80 minutes); past it the disc could
/// not hold it anyway.
pub const MAX_PAUSE_S: f64 = 4800.0;
/// Index points a track may have after INDEX 01 (INDEX 02 to 99).
pub const MAX_EXTRA_INDEXES: usize = 98;
/// The least pause before track 1, in frames (2 s).
pub const MIN_FIRST_PAUSE: u32 = 150;

/// One track as the layout needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackInput {
    /// Shown in errors ("track 3 (\"Outro\")").
    pub title: String,
    /// Mastered length in samples per channel at 44.1 kHz.
    pub samples: u64,
    /// The pause before the track in seconds; `None`: the disc's `gap_s`.
    pub pregap_s: Option<f64>,
    /// No pause before this track: the previous track's audio runs into it.
    pub segue: bool,
    /// INDEX 02, 03, ... in seconds from INDEX 01.
    pub indexes_s: Vec<f64>,
    /// 12 characters; dashes are allowed and dropped.
    pub isrc: Option<String>,
    pub pre_emphasis: bool,
    pub copy_permitted: bool,
}

/// The whole disc as the layout needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayoutInput {
    /// Pause before each track that is not a segue and has no own pregap.
    pub gap_s: f64,
    /// Media Catalogue Number (UPC/EAN of 13 digits).
    pub mcn: Option<String>,
    pub tracks: Vec<TrackInput>,
    /// CD-Text, written when present (track entries in track order).
    pub text: Option<DiscText>,
    /// Hidden track one audio: placed in track 1's pregap, after its pause.
    pub hidden: Option<HiddenInput>,
}

/// Audio hidden in track 1's pregap (HTOA), as the layout needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HiddenInput {
    /// Shown on the PQ sheet and in report.json (CD-Text has no entry for it).
    pub title: String,
    /// Mastered length in samples per channel at 44.1 kHz.
    pub samples: u64,
}

/// Where the hidden audio lies: after track 1's pause (`silence_before`
/// zero samples from 00:00:00), its samples, then track 1's
/// [`ImageSpan::silence_before`] pads it to the frame of INDEX 01.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenSpan {
    pub title: String,
    /// Frame where the hidden audio begins (= the pause before it).
    pub start_frame: u32,
    /// Frames from its start to track 1's INDEX 01.
    pub frames: u32,
    pub image: ImageSpan,
}

/// CD-Text of the disc: one English block, Latin-1 text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscText {
    /// Title, performer, songwriter, composer, arranger, message of the
    /// disc (`code` is left empty: the MCN is taken from the layout).
    pub disc: Fields,
    /// One per track, in track order (`code` left empty: the ISRC is taken
    /// from the layout).
    pub tracks: Vec<Fields>,
    pub genre: Option<Genre>,
}

/// Where a track's samples go in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageSpan {
    /// Zero samples to write before the track's audio (the previous
    /// track's padding to its frame boundary plus this track's pause).
    pub silence_before: u64,
    /// Sample offset of the track's first sample in the image.
    pub audio_start: u64,
    /// The track's samples.
    pub audio_samples: u64,
    /// `audio_start - start_frame * 588`: 0 unless the track is a segue
    /// (then within -294..=294).
    pub boundary_offset: i64,
}

/// One track of the disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaidTrack {
    pub number: u8,
    pub title: String,
    /// Frames of INDEX 00 (the pause) before INDEX 01.
    pub pregap_frames: u32,
    /// INDEX 01, absolute from 00:00:00.
    pub start_frame: u32,
    /// INDEX 01 to the next track's INDEX 00 (or 01), or to the lead-out.
    pub length_frames: u32,
    /// Absolute frames of INDEX 01, 02, ...
    pub indexes: Vec<u32>,
    /// 12 characters, no dashes.
    pub isrc: Option<String>,
    pub control: Control,
    pub segue: bool,
    pub image: ImageSpan,
}

impl LaidTrack {
    /// Frame of INDEX 00 (= INDEX 01 when there is no pause).
    pub fn pregap_frame(&self) -> u32 {
        self.start_frame - self.pregap_frames
    }
    /// The frame after the track's last one.
    pub fn end_frame(&self) -> u32 {
        self.start_frame + self.length_frames
    }
    /// Every index with its number: (0, pause) when there is one, then
    /// (1, start), (2, ..), ...
    pub fn numbered_indexes(&self) -> Vec<(u8, u32)> {
        let mut v = Vec::with_capacity(self.indexes.len() + 1);
        if self.pregap_frames > 0 {
            v.push((0, self.pregap_frame()));
        }
        v.extend(
            self.indexes
                .iter()
                .enumerate()
                .map(|(i, &f)| (i as u8 + 1, f)),
        );
        v
    }
    /// The report.json `tracks[].cd` fields.
    pub fn report(&self) -> TrackCdReport {
        TrackCdReport {
            start_frame: self.start_frame,
            pregap_frames: self.pregap_frames,
            length_frames: self.length_frames,
            indexes: self.indexes.clone(),
        }
    }
}

/// The disc in frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscLayout {
    pub tracks: Vec<LaidTrack>,
    /// The lead-out frame = frames in the image.
    pub total_frames: u32,
    /// 13 digits.
    pub mcn: Option<String>,
    /// Zero samples after the last track's audio, to the frame boundary.
    pub tail_silence: u64,
    /// CD-Text, Latin-1 only.
    pub text: Option<DiscText>,
    /// Things that are allowed but worth saying (past 74 minutes, text
    /// changed to fit Latin-1).
    pub warnings: Vec<DiscWarning>,
    /// The hidden track in track 1's pregap, when there is one.
    pub hidden: Option<HiddenSpan>,
}

/// report.json `tracks[].cd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackCdReport {
    pub start_frame: u32,
    pub pregap_frames: u32,
    pub length_frames: u32,
    pub indexes: Vec<u32>,
}

/// report.json `cd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscCdReport {
    pub total_frames: u32,
    pub mcn: Option<String>,
}

/// A disc that breaks the Red Book, or an input the layout cannot place.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum LayoutError {
    #[error("the disc has {count} tracks; a CD holds 1 to 99")]
    TrackCount { count: usize },
    #[error("{} lengths were given for {tracks} tracks", lengths)]
    LengthCount { tracks: usize, lengths: usize },
    #[error("the manifest has no `cd` section")]
    NoCd,
    #[error("track {track} ({title:?}) is {:.2} s long; a CD track must be at least 4 s", f64::from(*frames) / 75.0)]
    TrackTooShort {
        track: u8,
        title: String,
        frames: u32,
    },
    #[error("the disc runs {} (mm:ss:ff); a CD holds at most 79:57:74", frames_to_msf(*frames))]
    DiscTooLong { frames: u64 },
    #[error("track 1 ({title:?}) has a pause of {} s before it; a CD needs at least 2 s (150 frames) there", num(*seconds))]
    FirstPause { title: String, seconds: f64 },
    #[error("track 1 ({title:?}) cannot be a segue: nothing comes before it")]
    FirstSegue { title: String },
    #[error("track {track} ({title:?}): a pause of {} s is not between 0 s and a whole disc (4800 s)", num(*seconds))]
    BadPause {
        track: u8,
        title: String,
        seconds: f64,
    },
    #[error("MCN {value:?} is not 13 digits with a right GS1 check digit")]
    Mcn { value: String },
    #[error("track {track} ({title:?}): ISRC {value:?} is not CC-XXX-YY-NNNNN (12 characters without dashes)")]
    Isrc {
        track: u8,
        title: String,
        value: String,
    },
    #[error("track {track} ({title:?}): INDEX {index:02} at {} s {problem}", num(*seconds))]
    Index {
        track: u8,
        title: String,
        index: u8,
        seconds: f64,
        problem: String,
    },
    #[error("track {track} ({title:?}) has {count} index points after INDEX 01; a CD track holds at most 98 more (INDEX 02 to 99)")]
    TooManyIndexes {
        track: u8,
        title: String,
        count: usize,
    },
    #[error("CD-Text: {0}")]
    CdText(#[from] cdtext::CdTextError),
    #[error("CD-Text has {text} track entries for {tracks} tracks")]
    TextCount { text: usize, tracks: usize },
    #[error("the hidden track {title:?} has no audio")]
    HiddenEmpty { title: String },
}

fn round_frames(seconds: f64) -> i64 {
    (seconds * f64::from(FRAMES_PER_SECOND)).round() as i64
}

/// `CCXXXYYNNNNN` from an ISRC with or without dashes.
fn plain_isrc(track: u8, title: &str, value: &str) -> Result<String, LayoutError> {
    let plain: String = value.chars().filter(|c| *c != '-').collect();
    // Dashes only where CC-XXX-YY-NNNNN has them.
    let dashes_ok = !value.contains('-')
        || (value.len() == 15
            && value
                .char_indices()
                .all(|(i, c)| (c == '-') == matches!(i, 2 | 6 | 9)));
    if dashes_ok && ddp::isrc_valid(&plain) {
        Ok(plain)
    } else {
        Err(LayoutError::Isrc {
            track,
            title: title.to_string(),
            value: value.to_string(),
        })
    }
}

impl DiscLayout {
    /// Lays out the disc, checking every Red Book rule.
    pub fn new(input: &LayoutInput) -> Result<DiscLayout, LayoutError> {
        let n = input.tracks.len();
        if n == 0 || n > 99 {
            return Err(LayoutError::TrackCount { count: n });
        }
        if let Some(text) = &input.text {
            if text.tracks.len() != n {
                return Err(LayoutError::TextCount {
                    text: text.tracks.len(),
                    tracks: n,
                });
            }
        }
        let mcn = match &input.mcn {
            Some(m) if !ddp::upc_valid(m) => return Err(LayoutError::Mcn { value: m.clone() }),
            m => m.clone(),
        };
        let mut tracks: Vec<LaidTrack> = Vec::with_capacity(n);
        // The image position just after the last sample written so far.
        let mut pos: u64 = 0;
        let mut hidden = None;
        for (i, t) in input.tracks.iter().enumerate() {
            let number = (i + 1) as u8;
            let title = t.title.clone();
            let pause_s = t.pregap_s.unwrap_or(input.gap_s);
            if !(0.0..=MAX_PAUSE_S).contains(&pause_s) {
                return Err(LayoutError::BadPause {
                    track: number,
                    title,
                    seconds: pause_s,
                });
            }
            let pause = round_frames(pause_s) as u32;
            let (silence_before, start_frame, pregap_frames, offset) = if i == 0 {
                if t.segue {
                    return Err(LayoutError::FirstSegue { title });
                }
                if pause < MIN_FIRST_PAUSE {
                    return Err(LayoutError::FirstPause {
                        title,
                        seconds: pause_s,
                    });
                }
                match &input.hidden {
                    None => (u64::from(pause) * SAMPLES_PER_FRAME, pause, pause, 0),
                    Some(h) => {
                        let span = hidden_span(h, pause)?;
                        let pregap = pause + span.frames;
                        let pad = u64::from(pregap) * SAMPLES_PER_FRAME
                            - span.image.audio_start
                            - h.samples;
                        pos = span.image.audio_start + h.samples;
                        hidden = Some(span);
                        (pad, pregap, pregap, 0)
                    }
                }
            } else if t.segue {
                // Nearest frame; a tie (294 samples in) goes to the later one.
                let frame = (pos + SAMPLES_PER_FRAME / 2) / SAMPLES_PER_FRAME;
                let offset = pos as i64 - (frame * SAMPLES_PER_FRAME) as i64;
                (0, frame as u32, 0, offset)
            } else {
                let pad = pos.next_multiple_of(SAMPLES_PER_FRAME) - pos;
                let silence = pad + u64::from(pause) * SAMPLES_PER_FRAME;
                let frame = ((pos + silence) / SAMPLES_PER_FRAME) as u32;
                (silence, frame, pause, 0)
            };
            let audio_start = pos + silence_before;
            pos = audio_start + t.samples;
            let isrc = match &t.isrc {
                Some(v) => Some(plain_isrc(number, &t.title, v)?),
                None => None,
            };
            tracks.push(LaidTrack {
                number,
                title,
                pregap_frames,
                start_frame,
                length_frames: 0,
                indexes: vec![start_frame],
                isrc,
                control: Control {
                    pre_emphasis: t.pre_emphasis,
                    copy_permitted: t.copy_permitted,
                    ..Control::default()
                },
                segue: t.segue,
                image: ImageSpan {
                    silence_before,
                    audio_start,
                    audio_samples: t.samples,
                    boundary_offset: offset,
                },
            });
        }
        let total = pos.div_ceil(SAMPLES_PER_FRAME);
        if total > MAX_DISC_FRAMES {
            return Err(LayoutError::DiscTooLong { frames: total });
        }
        let total_frames = total as u32;
        let mut warnings = Vec::new();
        if total > WARN_DISC_FRAMES {
            warnings.push(DiscWarning::Long {
                frames: total_frames,
            });
        }
        for i in 0..n {
            let end = tracks
                .get(i + 1)
                .map_or(total_frames, LaidTrack::pregap_frame);
            let t = &mut tracks[i];
            let length = end.saturating_sub(t.start_frame);
            if u64::from(length) < MIN_TRACK_FRAMES || end < t.start_frame {
                return Err(LayoutError::TrackTooShort {
                    track: t.number,
                    title: t.title.clone(),
                    frames: length,
                });
            }
            t.length_frames = length;
            let extra = input.tracks[i].indexes_s.len();
            if extra > MAX_EXTRA_INDEXES {
                return Err(LayoutError::TooManyIndexes {
                    track: t.number,
                    title: t.title.clone(),
                    count: extra,
                });
            }
            for (k, &s) in input.tracks[i].indexes_s.iter().enumerate() {
                let index = (k + 2) as u8;
                let bad = |problem: String| LayoutError::Index {
                    track: t.number,
                    title: t.title.clone(),
                    index,
                    seconds: s,
                    problem,
                };
                if !s.is_finite() || s <= 0.0 {
                    return Err(bad("is not after INDEX 01".into()));
                }
                let frame = i64::from(t.start_frame) + round_frames(s);
                let prev = *t.indexes.last().unwrap_or(&t.start_frame);
                if frame <= i64::from(prev) {
                    return Err(bad(format!(
                        "falls on frame {frame}, not after the index before it (frame {prev})"
                    )));
                }
                if frame >= i64::from(end) {
                    return Err(bad(format!(
                        "is past the track's end ({:.2} s after INDEX 01)",
                        f64::from(length) / 75.0
                    )));
                }
                t.indexes.push(frame as u32);
            }
        }
        let text = input.text.as_ref().map(|t| latin1_text(t, &mut warnings));
        Ok(DiscLayout {
            tracks,
            total_frames,
            mcn,
            tail_silence: u64::from(total_frames) * SAMPLES_PER_FRAME - pos,
            text,
            warnings,
            hidden,
        })
    }

    /// Lays out the manifest's CD from each track's mastered length in
    /// samples at 44.1 kHz (in manifest order).
    pub fn from_manifest(m: &Manifest, samples: &[u64]) -> Result<DiscLayout, LayoutError> {
        DiscLayout::new(&layout_input(m, samples)?)
    }

    /// Lays out disc `disc` of the manifest from the mastered lengths of
    /// its tracks, and on disc 1 of the hidden track
    /// ([`super::from_manifest::disc_input`]).
    pub fn from_manifest_disc(
        m: &Manifest,
        disc: u32,
        samples: &[u64],
        hidden: Option<u64>,
    ) -> Result<DiscLayout, LayoutError> {
        DiscLayout::new(&disc_input(m, disc, samples, hidden)?)
    }

    /// Samples per channel in the image (= `total_frames * 588`).
    pub fn image_samples(&self) -> u64 {
        u64::from(self.total_frames) * SAMPLES_PER_FRAME
    }

    /// report.json `cd`.
    pub fn report(&self) -> DiscCdReport {
        DiscCdReport {
            total_frames: self.total_frames,
            mcn: self.mcn.clone(),
        }
    }

    /// The CD-Text of the disc for the packs (MCN and ISRCs as the 0x8E
    /// codes), or `None` without text.
    pub fn cdtext(&self) -> Option<CdText> {
        let text = self.text.as_ref()?;
        let mut block = CdTextBlock::new(1, self.tracks.len() as u8);
        block.disc = text.disc.clone();
        block.disc.code = None;
        block.tracks = text.tracks.clone();
        let any_isrc = self.tracks.iter().any(|t| t.isrc.is_some());
        if self.mcn.is_some() || any_isrc {
            block.disc.code = Some(self.mcn.clone().unwrap_or_default());
            for (f, t) in block.tracks.iter_mut().zip(&self.tracks) {
                f.code = Some(t.isrc.clone().unwrap_or_default());
            }
        }
        block.genre = text.genre.clone();
        Some(CdText {
            blocks: vec![block],
        })
    }

    /// The layout for [`ddp::write::write_fileset`].
    pub fn to_ddp(&self, master_id: &str) -> Result<ddp::write::DiscLayout, LayoutError> {
        let cdtext = match self.cdtext() {
            Some(t) => Some(t.encode()?),
            None => None,
        };
        Ok(ddp::write::DiscLayout {
            upc: self.mcn.clone(),
            master_id: master_id.to_string(),
            tracks: self
                .tracks
                .iter()
                .map(|t| ddp::write::LayoutTrack {
                    number: t.number,
                    indexes: t
                        .numbered_indexes()
                        .into_iter()
                        .map(|(number, frame)| ddp::Index { number, frame })
                        .collect(),
                    isrc: t.isrc.clone(),
                    control: t.control,
                })
                .collect(),
            total_sectors: self.total_frames,
            cdtext,
        })
    }
}

/// The hidden audio after a pause of `pause` frames.
fn hidden_span(h: &HiddenInput, pause: u32) -> Result<HiddenSpan, LayoutError> {
    if h.samples == 0 {
        return Err(LayoutError::HiddenEmpty {
            title: h.title.clone(),
        });
    }
    let frames = h.samples.div_ceil(SAMPLES_PER_FRAME);
    if frames > MAX_DISC_FRAMES {
        return Err(LayoutError::DiscTooLong { frames });
    }
    let frames = frames as u32;
    let silence = u64::from(pause) * SAMPLES_PER_FRAME;
    Ok(HiddenSpan {
        title: h.title.clone(),
        start_frame: pause,
        frames,
        image: ImageSpan {
            silence_before: silence,
            audio_start: silence,
            audio_samples: h.samples,
            boundary_offset: 0,
        },
    })
}

fn latin1_text(t: &DiscText, warnings: &mut Vec<DiscWarning>) -> DiscText {
    let mut out = t.clone();
    let mut fix = |track: Option<u8>, f: &mut Fields| {
        for field in cdtext::TextField::ALL {
            if let Some(s) = f.get_mut(field) {
                let (fixed, changed) = latin1(s);
                if changed {
                    warnings.push(DiscWarning::NotLatin1 {
                        track,
                        field: field.name(),
                        from: s.clone(),
                        to: fixed.clone(),
                    });
                    *s = fixed;
                }
            }
        }
    };
    fix(None, &mut out.disc);
    for (i, f) in out.tracks.iter_mut().enumerate() {
        fix(Some(i as u8 + 1), f);
    }
    if let Some(g) = &mut out.genre {
        let (fixed, changed) = latin1(&g.text);
        if changed {
            warnings.push(DiscWarning::NotLatin1 {
                track: None,
                field: "GENRE",
                from: g.text.clone(),
                to: fixed.clone(),
            });
            g.text = fixed;
        }
    }
    out
}
