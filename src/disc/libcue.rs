//! CUE sheets read by libcue (cargo feature `libcue`), the parser many
//! players use: the `init --from-cue` import, and the tests' independent
//! reading of every CUE sheet glassmaster writes.
//!
//! libcue is reached through its raw bindings (`cue-sys`). Every pointer it
//! returns is checked for NULL; the disc is freed when [`parse`] returns.
//! libcue 2.2 has no getter for CATALOG, so the disc's catalogue is read
//! from the head of its `Cd` struct (`int mode; char *catalog; ...`), whose
//! layout is fixed by the vendored source of the pinned `cue-sys` version.

use std::ffi::{c_char, c_int, CStr, CString};

use cue_sys as sys;

/// A disc as libcue read it. Frames are CD frames (75 a second).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CueDisc {
    pub catalog: Option<String>,
    pub text: CueText,
    pub tracks: Vec<CueTrack>,
}

/// CD-Text fields libcue knows (disc or track).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CueText {
    pub title: Option<String>,
    pub performer: Option<String>,
    pub songwriter: Option<String>,
    pub composer: Option<String>,
    pub arranger: Option<String>,
    pub message: Option<String>,
    pub genre: Option<String>,
    pub upc_isrc: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CueTrack {
    pub number: u32,
    pub filename: String,
    pub audio: bool,
    /// INDEX 01, in frames from the start of the track's file.
    pub start: i64,
    /// Frames up to the next track in the same file; `None` for the last
    /// track of a file.
    pub length: Option<i64>,
    /// Every INDEX given (00 to 99): (number, frames from the file start).
    pub indexes: Vec<(u32, i64)>,
    /// A `PREGAP` (silence the player makes up), in frames.
    pub pregap: Option<i64>,
    pub isrc: Option<String>,
    pub pre_emphasis: bool,
    pub copy_permitted: bool,
    pub four_channel: bool,
    pub text: CueText,
}

/// The head of libcue's `struct Cd` (cd.c): enough to reach `catalog`.
#[repr(C)]
struct CdHead {
    mode: c_int,
    catalog: *const c_char,
}

fn owned(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: libcue returns NUL-terminated strings it owns; they live
    // until cd_delete, and are copied here.
    let s = unsafe { CStr::from_ptr(p) };
    Some(String::from_utf8_lossy(s.to_bytes()).into_owned())
}

fn text(cdtext: *mut sys::CdtextPointer) -> CueText {
    if cdtext.is_null() {
        return CueText::default();
    }
    // SAFETY: cdtext is a valid pointer from libcue (checked above).
    let get = |pti| owned(unsafe { sys::cdtext_get(pti, cdtext) });
    CueText {
        title: get(sys::PTI::Title),
        performer: get(sys::PTI::Performer),
        songwriter: get(sys::PTI::Songwriter),
        composer: get(sys::PTI::Composer),
        arranger: get(sys::PTI::Arranger),
        message: get(sys::PTI::Message),
        genre: get(sys::PTI::Genre),
        upc_isrc: get(sys::PTI::UPC_ISRC),
    }
}

/// Parses a CUE sheet with libcue. The error is libcue's refusal (it
/// prints its own reason on stderr).
pub fn parse(sheet: &str) -> Result<CueDisc, String> {
    // libcue trips over trailing newlines (libcue issue 52).
    let c = CString::new(sheet.trim_end_matches(['\r', '\n']))
        .map_err(|_| "the CUE sheet contains a NUL byte".to_owned())?;
    // SAFETY: a valid NUL-terminated string; the result is checked for NULL.
    let cd = unsafe { sys::cue_parse_string(c.as_ptr()) };
    if cd.is_null() {
        return Err("libcue could not parse the CUE sheet".to_owned());
    }
    let disc = read(cd);
    // SAFETY: cd came from cue_parse_string and is freed once.
    unsafe { sys::cd_delete(cd) };
    Ok(disc)
}

fn read(cd: *mut sys::CdPointer) -> CueDisc {
    // SAFETY: cd is a valid, non-NULL Cd*; CdHead mirrors its first fields.
    let catalog = owned(unsafe { (*(cd as *const CdHead)).catalog });
    // SAFETY: cd is valid for all the getters below until cd_delete.
    let n = unsafe { sys::cd_get_ntrack(cd) };
    let mut tracks = Vec::new();
    for i in 1..=n {
        let t = unsafe { sys::cd_get_track(cd, i) };
        if t.is_null() {
            continue;
        }
        let flag = |f| unsafe { sys::track_is_set_flag(t, f) } != 0;
        let length = unsafe { sys::track_get_length(t) } as i64;
        let pregap = unsafe { sys::track_get_zero_pre(t) } as i64;
        let indexes = (0..=99)
            .filter_map(|k| {
                let v = unsafe { sys::track_get_index(t, k) } as i64;
                (v >= 0).then_some((k as u32, v))
            })
            .collect();
        tracks.push(CueTrack {
            number: i as u32,
            filename: owned(unsafe { sys::track_get_filename(t) }).unwrap_or_default(),
            audio: matches!(unsafe { sys::track_get_mode(t) }, sys::TrackMode::Audio),
            start: unsafe { sys::track_get_start(t) } as i64,
            length: (length >= 0).then_some(length),
            indexes,
            pregap: (pregap > 0).then_some(pregap),
            isrc: owned(unsafe { sys::track_get_isrc(t) }),
            pre_emphasis: flag(sys::TrackFlag::PreEmphasis),
            copy_permitted: flag(sys::TrackFlag::CopyPermitted),
            four_channel: flag(sys::TrackFlag::FourChannel),
            text: text(unsafe { sys::track_get_cdtext(t) }),
        });
    }
    CueDisc {
        catalog,
        text: text(unsafe { sys::cd_get_cdtext(cd) }),
        tracks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_catalog_indexes_and_text() {
        let sheet = "CATALOG 5012345678900\nPERFORMER \"The Band\"\nTITLE \"Night Drive\"\n\
FILE \"album.wav\" WAVE\n  TRACK 01 AUDIO\n    TITLE \"Intro\"\n    ISRC GBABC2600001\n    FLAGS PRE\n\
    INDEX 00 00:00:00\n    INDEX 01 00:02:00\n  TRACK 02 AUDIO\n    TITLE \"Two\"\n    FLAGS DCP\n\
    INDEX 00 01:00:00\n    INDEX 01 01:02:00\n    INDEX 02 01:30:10\n";
        let d = parse(sheet).unwrap();
        assert_eq!(d.catalog.as_deref(), Some("5012345678900"));
        assert_eq!(d.text.title.as_deref(), Some("Night Drive"));
        assert_eq!(d.tracks.len(), 2);
        let t1 = &d.tracks[0];
        assert_eq!(t1.start, 150);
        assert_eq!(t1.isrc.as_deref(), Some("GBABC2600001"));
        assert!(t1.pre_emphasis && !t1.copy_permitted);
        let t2 = &d.tracks[1];
        assert_eq!(t2.indexes, vec![(0, 4500), (1, 4650), (2, 6760)]);
        assert!(t2.copy_permitted);
        assert_eq!(t2.text.title.as_deref(), Some("Two"));
        assert!(parse("TRACK banana").is_err() || parse("TRACK banana").unwrap().tracks.is_empty());
    }
}
