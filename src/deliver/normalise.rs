//! The normalisation preview: how much each store will turn each track
//! and the album down (negative) or up (positive) when it plays them, from
//! the profile's `loudness` data and the measured masters.
//!
//! gain = target − loudness, where loudness is the album's integrated
//! loudness for a store that plays albums with one gain (`mode: album`)
//! and the track's own otherwise. A positive gain is 0 when the store
//! never turns up (`turns_up: false`), and otherwise stops where the true
//! peak would pass `up_limit_dbtp` (Spotify: 1 dB of headroom, -1 dBTP);
//! in album mode the album's peak limits the album gain.
//!
//! Two views: album playback (the album played in order, where a store in
//! album mode applies one gain to every track) and playlist playback (a
//! track on its own, in a playlist, on shuffle or in a radio, where every
//! store that normalises uses the track's own loudness).

use serde::Serialize;

use super::profile::{NormaliseMode, Profile};

/// Loudness and true peak of one programme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Level {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
}

/// The gain a store applies to one programme.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StoreGain {
    /// dB; negative turns down.
    pub gain_db: f64,
    /// The gain was cut by the store's peak limit or its no-turn-up rule.
    pub limited: bool,
}

/// One store's preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub profile: String,
    pub target_lufs: f64,
    pub mode: NormaliseMode,
    /// The album's gain (in track mode: what an album-mode player would do
    /// is not the store's behaviour, so this is the album as one programme).
    pub album: StoreGain,
    /// Per track, in order: what the store applies to the track when it
    /// plays the album (in album mode, the album's gain).
    pub tracks: Vec<StoreGain>,
    /// Per track, in order: what the store applies to the track played on
    /// its own (playlist, shuffle): the track's own gain in either mode.
    pub playlist: Vec<StoreGain>,
}

/// The gain for `level` at `target`, with the store's up rules.
pub fn store_gain(target: f64, level: Level, turns_up: bool, up_limit: Option<f64>) -> StoreGain {
    let want = target - level.integrated_lufs;
    if want <= 0.0 {
        return StoreGain {
            gain_db: want,
            limited: false,
        };
    }
    if !turns_up {
        return StoreGain {
            gain_db: 0.0,
            limited: true,
        };
    }
    match up_limit {
        Some(limit) => {
            let room = (limit - level.true_peak_dbtp).max(0.0);
            if room < want {
                StoreGain {
                    gain_db: room,
                    limited: true,
                }
            } else {
                StoreGain {
                    gain_db: want,
                    limited: false,
                }
            }
        }
        None => StoreGain {
            gain_db: want,
            limited: false,
        },
    }
}

/// The preview for one profile; `None` when the store does not normalise.
pub fn preview(profile: &Profile, album: Level, tracks: &[Level]) -> Option<Preview> {
    let l = profile.loudness.as_ref()?;
    let g = |lv: Level| store_gain(l.target_lufs, lv, l.turns_up, l.up_limit_dbtp);
    let album_gain = g(album);
    let playlist: Vec<StoreGain> = tracks.iter().map(|t| g(*t)).collect();
    let tracks = playlist
        .iter()
        .map(|t| match l.mode {
            NormaliseMode::Album => album_gain,
            NormaliseMode::Track => *t,
        })
        .collect();
    Some(Preview {
        profile: profile.name.clone(),
        target_lufs: l.target_lufs,
        mode: l.mode,
        album: album_gain,
        tracks,
        playlist,
    })
}

impl Preview {
    /// One report line: "spotify (-14 LUFS, album): album -2.1 dB; tracks -2.1, ...".
    pub fn line(&self) -> String {
        let f = |g: &StoreGain| {
            format!(
                "{:+.1} dB{}",
                g.gain_db,
                if g.limited { " (limited)" } else { "" }
            )
        };
        let mode = match self.mode {
            NormaliseMode::Album => "album",
            NormaliseMode::Track => "track",
        };
        format!(
            "{} ({} LUFS, {mode} mode): album {}; tracks {}",
            self.profile,
            self.target_lufs,
            f(&self.album),
            self.tracks.iter().map(f).collect::<Vec<_>>().join(", ")
        )
    }
}
