//! report.json of a build: cli.md's fields filled from what the build
//! measured and made, and the normalisation preview of each store.

use super::{cd, sinks, streaming};
use crate::manifest::model::Manifest;
use crate::master;
use crate::report::checks::Check;
use crate::report::{model, Report};

/// How each store will move the album and each track (from the
/// profiles' normalisation rules and the measured masters).
pub(super) fn normalisation_rows(
    bundles: &[streaming::Bundle],
    result: &master::AlbumResult,
    listed: usize,
) -> Vec<model::NormalisationRow> {
    use crate::deliver::normalise::{preview, Level};
    let level = |l: Option<f64>, p: Option<f64>| {
        Some(Level {
            integrated_lufs: l?,
            true_peak_dbtp: p?,
        })
    };
    let Some(album) = level(result.album.integrated_lufs, result.album.true_peak_dbtp) else {
        return Vec::new();
    };
    let Some(tracks) = result.tracks[..listed]
        .iter()
        .map(|t| level(t.master.integrated_lufs, t.master.true_peak_dbtp))
        .collect::<Option<Vec<_>>>()
    else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for b in bundles {
        let Ok(profile) = crate::deliver::Profile::builtin(&b.spec.profile) else {
            continue;
        };
        if !seen.insert(profile.name.clone()) {
            continue;
        }
        let Some(p) = preview(&profile, album, &tracks) else {
            continue;
        };
        rows.push(model::NormalisationRow {
            profile: p.profile.clone(),
            track: None,
            gain_db: p.album.gain_db,
            playback: model::Playback::Album,
        });
        for (view, gains) in [
            (model::Playback::Album, &p.tracks),
            (model::Playback::Playlist, &p.playlist),
        ] {
            for (t, g) in result.tracks.iter().zip(gains) {
                rows.push(model::NormalisationRow {
                    profile: p.profile.clone(),
                    track: Some(t.number),
                    gain_db: g.gain_db,
                    playback: view,
                });
            }
        }
    }
    rows
}

/// report.json: cli.md's fields, filled from what the build measured.
pub(super) fn make_report(
    manifest: &Manifest,
    result: &master::AlbumResult,
    checks: &[Check],
    outputs: &[(String, String)],
    cd: Option<&(Vec<cd::BuiltDisc>, Vec<sinks::CdSegment>)>,
    normalisation: Vec<model::NormalisationRow>,
) -> Report {
    // Each track's disc and its place on it.
    let on_disc = |i: usize| {
        let (discs, _) = cd?;
        discs.iter().find_map(|d| {
            let k = d.tracks.iter().position(|&t| t == i)?;
            Some(&d.layout.tracks[k])
        })
    };
    let figures: Vec<_> = result
        .tracks
        .iter()
        .take(manifest.tracks.len())
        .map(|r| r.master.translation.as_ref())
        .collect();
    let mut translation = crate::report::translation::album(&figures).into_iter();
    let tracks = manifest
        .tracks
        .iter()
        .zip(&result.tracks)
        .enumerate()
        .map(|(i, (t, r))| model::TrackReport {
            translation: translation.next().flatten(),
            number: t.number,
            title: t.title.clone(),
            artist: t.artist.clone(),
            isrc: t.isrc.as_ref().map(|c| c.as_str().to_owned()),
            source: model::SourceFigures::from_measurement(
                t.file.display().to_string().replace('\\', "/"),
                &r.source,
            ),
            master: model::MasterFigures {
                chain_lufs: r.pre.integrated_lufs,
                wanted_lufs: r.wanted_lufs,
                renders: r.renders as u32,
                ..model::MasterFigures::from_measurement(r.gain_db, &r.master)
            },
            disc: t.disc,
            cd: cd.zip(on_disc(i)).map(|((_, segments), laid)| {
                let c = laid.report();
                model::TrackCd {
                    start_frame: u64::from(c.start_frame),
                    pregap_frames: u64::from(c.pregap_frames),
                    length_frames: u64::from(c.length_frames),
                    indexes: c.indexes.iter().map(|&f| u64::from(f)).collect(),
                    true_peak_dbtp: segments[i].measurement.true_peak_dbtp,
                    reconstructed_peak_dbfs: segments[i].measurement.reconstructed_peak_dbfs,
                }
            }),
            tonal_match: t
                .tonal_match(&manifest.mastering)
                .zip(r.tonal.as_ref())
                .map(|(m, tr)| crate::report::matching::MatchReport::new(m, tr)),
            restoration: r.master.restoration.clone(),
            codecs: Vec::new(),
        })
        .collect();
    Report {
        glassmaster_version: env!("CARGO_PKG_VERSION").to_owned(),
        manifest: manifest
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        release: model::ReleaseInfo {
            title: manifest.release.title.clone(),
            artist: manifest.release.artist.clone(),
            upc: manifest.release.upc.as_ref().map(|u| u.ean13().to_owned()),
        },
        album: model::AlbumReport {
            target_lufs: manifest.mastering.target_lufs,
            loudness_mode: manifest.mastering.loudness_mode,
            integrated_lufs: result.album.integrated_lufs,
            true_peak_dbtp: result.album.true_peak_dbtp,
            loudness_range_lu: result.album.loudness_range_lu,
            loudness_spread_lu: result.album.loudness_spread_lu,
            duration_s: result.tracks[..manifest.tracks.len()]
                .iter()
                .map(|t| t.master.duration_s)
                .sum(),
            true_peak_ceiling_dbtp: manifest.mastering.true_peak_dbtp,
        },
        tracks,
        cd: cd.filter(|(discs, _)| discs.len() == 1).map(|(discs, _)| {
            let c = discs[0].layout.report();
            model::CdReport {
                total_frames: u64::from(c.total_frames),
                mcn: c.mcn,
            }
        }),
        discs: cd.map_or_else(Vec::new, |(discs, segments)| {
            let formats = manifest.cd.as_ref().map_or(&[][..], |c| &c.formats);
            discs
                .iter()
                .map(|d| cd::disc_report(d, segments, formats))
                .collect()
        }),
        checks: checks.iter().cloned().map(Into::into).collect(),
        outputs: outputs
            .iter()
            .map(|(path, md5)| model::OutputEntry {
                path: path.clone(),
                md5: md5.clone(),
            })
            .collect(),
        thresholds: manifest.report.clone(),
        normalisation,
        bundles: Vec::new(),
        vinyl: None,
        cassette: None,
        timings: None,
    }
}
