//! The layout's arithmetic on the test album, worked out by hand, and
//! every Red Book error it raises.

use glassmaster::disc::layout::{LayoutError, SAMPLES_PER_FRAME};
use glassmaster::disc::{DiscLayout, DiscWarning, LayoutInput, TrackInput};

use super::{album, album_input};

fn frames_of(samples: u64) -> u64 {
    samples.div_ceil(SAMPLES_PER_FRAME)
}

#[test]
fn album_layout_by_hand() {
    let input = album_input();
    let l = album();
    let t = &l.tracks;
    let samples: Vec<u64> = input.tracks.iter().map(|t| t.samples).collect();
    assert_eq!(t.len(), 12);
    // Track 1: 2 s pause from 00:00:00.
    assert_eq!((t[0].pregap_frames, t[0].start_frame), (150, 150));
    assert_eq!(t[0].image.silence_before, 150 * 588);
    assert_eq!(t[0].image.audio_start, 150 * 588);
    // Track 2: track 1 padded to its frame, then 0.5 s = 37.5 → 38 frames.
    let end1 = 150 + frames_of(samples[0]);
    assert_eq!(u64::from(t[1].pregap_frame()), end1);
    assert_eq!(t[1].pregap_frames, 38);
    assert_eq!(u64::from(t[1].start_frame), end1 + 38);
    assert_eq!(
        t[1].image.silence_before,
        (end1 * 588 - (150 * 588 + samples[0])) + 38 * 588
    );
    assert_eq!(t[0].length_frames, (end1 - 150) as u32);
    // Track 3 is a segue: no pause, INDEX 01 on the frame nearest to where
    // its audio begins.
    let true_start = t[1].image.audio_start + samples[1];
    assert_eq!(t[2].pregap_frames, 0);
    assert_eq!(t[2].image.silence_before, 0);
    assert_eq!(t[2].image.audio_start, true_start);
    let nearest = (true_start as f64 / 588.0).round() as u32;
    assert_eq!(t[2].start_frame, nearest);
    assert_eq!(
        t[2].image.boundary_offset,
        true_start as i64 - i64::from(nearest) * 588
    );
    assert!(t[2].image.boundary_offset.abs() <= 294);
    assert_eq!(t[1].end_frame(), t[2].start_frame);
    // Track 4: 3 s pause, INDEX 02 at +2 s, INDEX 03 at +4.5 s (337.5 → 338).
    assert_eq!(t[3].pregap_frames, 225);
    let s4 = t[3].start_frame;
    assert_eq!(t[3].indexes, vec![s4, s4 + 150, s4 + 338]);
    // Track 6: pregap 0 but not a segue: starts on the frame after track
    // 5's padded end, with no INDEX 00.
    assert_eq!(t[5].pregap_frames, 0);
    assert_eq!(
        u64::from(t[5].start_frame),
        frames_of(t[4].image.audio_start + samples[4])
    );
    assert_eq!(t[5].numbered_indexes()[0], (1, t[5].start_frame));
    // Flags, ISRCs (dashes dropped), the track without one.
    assert!(t[1].control.copy_permitted && !t[1].control.pre_emphasis);
    assert!(t[7].control.copy_permitted && t[7].control.pre_emphasis);
    assert_eq!(t[1].isrc.as_deref(), Some("GBAYE2600002"));
    assert_eq!(t[5].isrc, None);
    // The image: every track's audio after the one before, the lead-out
    // on the frame after the last sample.
    let mut pos = 0;
    for (k, tr) in t.iter().enumerate() {
        assert_eq!(
            tr.image.audio_start,
            pos + tr.image.silence_before,
            "track {}",
            k + 1
        );
        assert_eq!(tr.image.audio_samples, samples[k]);
        pos = tr.image.audio_start + tr.image.audio_samples;
        if k > 0 {
            assert_eq!(t[k - 1].end_frame(), tr.pregap_frame(), "track {}", k + 1);
        }
    }
    assert_eq!(u64::from(l.total_frames), frames_of(pos));
    assert_eq!(l.tail_silence, u64::from(l.total_frames) * 588 - pos);
    assert_eq!(t[11].end_frame(), l.total_frames);
    // Text made Latin-1, with a warning naming each change.
    let text = l.text.as_ref().unwrap();
    assert_eq!(text.tracks[4].title.as_deref(), Some("Dvorák in Lódz"));
    assert_eq!(text.tracks[9].title.as_deref(), Some("?? \"Night\""));
    assert!(l.warnings.iter().any(|w| matches!(
        w,
        DiscWarning::NotLatin1 {
            track: Some(10),
            field: "TITLE",
            ..
        }
    )));
    assert!(!l
        .warnings
        .iter()
        .any(|w| matches!(w, DiscWarning::Long { .. })));
}

#[test]
fn report_fields_serialize_as_the_spec_says() {
    let l = album();
    let j = serde_json::to_value(l.tracks[3].report()).unwrap();
    let s = l.tracks[3].start_frame;
    assert_eq!(
        j,
        serde_json::json!({"start_frame": s, "pregap_frames": 225,
            "length_frames": l.tracks[3].length_frames, "indexes": [s, s + 150, s + 338]})
    );
    let d = serde_json::to_value(l.report()).unwrap();
    assert_eq!(
        d,
        serde_json::json!({"total_frames": l.total_frames, "mcn": "5012345678900"})
    );
}

#[test]
fn ddp_layout_numbers_every_index() {
    let l = album();
    let d = l.to_ddp("GM-TEST").unwrap();
    assert_eq!(d.total_sectors, l.total_frames);
    assert_eq!(d.upc.as_deref(), Some("5012345678900"));
    let t4: Vec<(u8, u32)> = d.tracks[3]
        .indexes
        .iter()
        .map(|i| (i.number, i.frame))
        .collect();
    let s = l.tracks[3].start_frame;
    assert_eq!(t4, vec![(0, s - 225), (1, s), (2, s + 150), (3, s + 338)]);
    assert_eq!(d.tracks[2].indexes.len(), 1, "a segue has no index 00");
    let text = glassmaster::disc::cdtext::decode(d.cdtext.as_ref().unwrap()).unwrap();
    let b = &text.blocks[0];
    assert_eq!(b.disc.code.as_deref(), Some("5012345678900"));
    assert_eq!(b.tracks[5].code.as_deref(), Some(""));
    assert_eq!(b.tracks[1].code.as_deref(), Some("GBAYE2600002"));
    assert_eq!(b.genre.as_ref().unwrap().code, 23);
}

fn simple(n: usize, secs: f64) -> LayoutInput {
    LayoutInput {
        gap_s: 2.0,
        mcn: None,
        tracks: (0..n)
            .map(|i| TrackInput {
                title: format!("T{}", i + 1),
                samples: (secs * 44_100.0) as u64,
                ..TrackInput::default()
            })
            .collect(),
        text: None,
        hidden: None,
    }
}

fn err(input: &LayoutInput) -> LayoutError {
    DiscLayout::new(input).expect_err("a Red Book violation")
}

#[test]
fn red_book_errors_are_typed_and_name_the_value() {
    // 100 tracks.
    let e = err(&simple(100, 5.0));
    assert_eq!(e, LayoutError::TrackCount { count: 100 });
    assert_eq!(e.to_string(), "the disc has 100 tracks; a CD holds 1 to 99");
    assert_eq!(err(&simple(0, 5.0)), LayoutError::TrackCount { count: 0 });
    assert!(DiscLayout::new(&simple(99, 4.0)).is_ok());

    // A 3 s track (the last: nothing pads it past 225 frames).
    let mut i = simple(3, 5.0);
    i.tracks[2].title = "Outro".into();
    i.tracks[2].samples = 3 * 44_100;
    let e = err(&i);
    assert!(
        matches!(
            e,
            LayoutError::TrackTooShort {
                track: 3,
                frames: 225,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "track 3 (\"Outro\") is 3.00 s long; a CD track must be at least 4 s"
    );
    // A 3.9 s track in the middle is short too (its pause belongs to the next).
    let mut i = simple(3, 5.0);
    i.tracks[1].samples = (3.9 * 44_100.0) as u64;
    assert!(matches!(
        err(&i),
        LayoutError::TrackTooShort { track: 2, .. }
    ));

    // 80:30 of audio.
    let e = err(&simple(2, 40.0 * 60.0 + 15.0));
    assert!(matches!(e, LayoutError::DiscTooLong { .. }), "{e:?}");
    assert!(e.to_string().contains("the disc runs 80:34:00 "), "{e}");
    assert!(e.to_string().contains("at most 79:57:74"), "{e}");
    // 75 minutes: allowed, with a warning.
    let l = DiscLayout::new(&simple(3, 25.0 * 60.0)).unwrap();
    assert!(matches!(l.warnings[..], [DiscWarning::Long { .. }]));
    assert!(l.warnings[0].to_string().contains("past 74:00"));

    // A bad MCN (wrong check digit) and a short one.
    for bad in ["5012345678901", "501234567890"] {
        let mut i = simple(2, 5.0);
        i.mcn = Some(bad.into());
        let e = err(&i);
        assert_eq!(e, LayoutError::Mcn { value: bad.into() });
        assert!(e.to_string().contains(bad));
    }

    // A dashed ISRC that is not 12 characters, and dashes in the wrong place.
    for bad in [
        "GB-AYE-26-0001",
        "GBA-YE-26-00001",
        "GBAYE260001",
        "gb1232600001",
    ] {
        let mut i = simple(2, 5.0);
        i.tracks[1].isrc = Some(bad.into());
        let e = err(&i);
        assert!(
            matches!(&e, LayoutError::Isrc { track: 2, value, .. } if value == bad),
            "{bad}: {e:?}"
        );
        assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
    }

    // Track 1's pause and segue.
    let mut i = simple(2, 5.0);
    i.tracks[0].pregap_s = Some(1.0);
    assert!(matches!(err(&i), LayoutError::FirstPause { .. }));
    let mut i = simple(2, 5.0);
    i.tracks[0].segue = true;
    assert!(matches!(err(&i), LayoutError::FirstSegue { .. }));
    let mut i = simple(2, 5.0);
    i.tracks[1].pregap_s = Some(-1.0);
    assert!(matches!(err(&i), LayoutError::BadPause { track: 2, .. }));

    // Indexes: past the end, not increasing, at INDEX 01.
    for (ix, what) in [
        (vec![5.5], "past the track's end"),
        (vec![2.0, 2.005], "not after the index before"),
        (vec![0.0], "not after INDEX 01"),
    ] {
        let mut i = simple(2, 5.0);
        i.tracks[0].indexes_s = ix;
        let e = err(&i);
        assert!(matches!(e, LayoutError::Index { track: 1, .. }), "{e:?}");
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[test]
fn segue_boundary_goes_to_the_nearest_frame() {
    // Track 1 ends 294 samples into a frame (a tie: the later frame), then
    // 293 (the earlier frame).
    for (extra, later) in [(294u64, true), (293, false), (0, false), (587, true)] {
        let mut i = simple(2, 5.0);
        i.tracks[0].samples = 5 * 44_100 + extra;
        i.tracks[1].segue = true;
        let l = DiscLayout::new(&i).unwrap();
        let end = 150 * 588 + i.tracks[0].samples;
        let base = (end / 588) as u32;
        assert_eq!(
            l.tracks[1].start_frame,
            if later && extra != 0 { base + 1 } else { base },
            "extra {extra}"
        );
        assert_eq!(l.tracks[1].image.audio_start, end);
        assert!(l.tracks[1].image.boundary_offset.abs() <= 294);
        assert_eq!(l.tracks[1].pregap_frames, 0);
    }
}

#[test]
fn layout_from_a_manifest() {
    use glassmaster::audio::AudioInfo;
    let dir = crate::util::scratch("disc-manifest");
    std::fs::create_dir_all(dir.join("mixes")).unwrap();
    for f in ["a.wav", "b.wav", "c.wav"] {
        std::fs::write(dir.join("mixes").join(f), b"").unwrap();
    }
    let yaml = r#"glassmaster: 1
release:
  title: Night Drive
  artist: The Example Band
  upc: "5012345678900"
  genre: Jazz
tracks:
  - file: mixes/a.wav
    title: One
    isrc: GB-AYE-26-00001
    composer: Ann Composer
    lyricist: Len Lyricist
    indexes: ["0:02.000"]
  - file: mixes/b.wav
    title: Two
    artist: Guest
    featuring: [Other]
    isrc: GBAYE2600002
    pregap: 0.5
  - file: mixes/c.wav
    title: Three
    isrc: GBAYE2600003
    segue: true
cd:
  gap_s: 3
  cd_text: true
  pre_emphasis: true
  copy_permitted: true
"#;
    let path = dir.join("album.yaml");
    std::fs::write(&path, yaml).unwrap();
    let probe = |_: &std::path::Path| {
        Ok(AudioInfo {
            sample_rate: 44_100,
            channels: 2,
            bit_depth: Some(16),
            float: false,
            frames: Some(6 * 44_100),
            codec: "pcm".into(),
        })
    };
    let loaded = glassmaster::manifest::load(&path, &probe);
    let m = loaded
        .manifest
        .unwrap_or_else(|| panic!("{:?}", loaded.diagnostics));
    let samples = [6 * 44_100 + 10, 6 * 44_100, 5 * 44_100];
    let l = DiscLayout::from_manifest(&m, &samples).unwrap();
    let t = &l.tracks;
    // Track 1 takes cd.gap_s (3 s), track 2 its own 0.5 s, track 3 none.
    assert_eq!((t[0].pregap_frames, t[0].start_frame), (225, 225));
    assert_eq!(t[0].indexes, vec![225, 375]);
    assert_eq!(t[1].pregap_frames, 38);
    assert_eq!(t[2].pregap_frames, 0);
    assert!(t[2].segue);
    assert_eq!(t[0].isrc.as_deref(), Some("GBAYE2600001"));
    assert!(t
        .iter()
        .all(|x| x.control.pre_emphasis && x.control.copy_permitted));
    assert_eq!(l.mcn.as_deref(), Some("5012345678900"));
    let text = l.text.as_ref().unwrap();
    assert_eq!(text.disc.title.as_deref(), Some("Night Drive"));
    assert_eq!(text.tracks[0].songwriter.as_deref(), Some("Len Lyricist"));
    assert_eq!(text.tracks[0].composer.as_deref(), Some("Ann Composer"));
    assert_eq!(
        text.tracks[1].performer.as_deref(),
        Some("Guest feat. Other")
    );
    assert_eq!(text.genre.as_ref().map(|g| g.code), Some(14));
    assert_eq!(
        DiscLayout::from_manifest(&m, &samples[..2]).unwrap_err(),
        LayoutError::LengthCount {
            tracks: 3,
            lengths: 2
        }
    );
}

/// Hidden track one audio by hand: 3 s pause, 1000.5 frames of hidden
/// audio padded to 1001, then INDEX 01; the image spans add up.
#[test]
fn hidden_track_in_the_pregap_by_hand() {
    use glassmaster::disc::layout::HiddenInput;
    let mut input = simple(2, 5.0);
    input.tracks[0].pregap_s = Some(3.0);
    input.hidden = Some(HiddenInput {
        title: "Secret".into(),
        samples: 1000 * 588 + 294,
    });
    let l = DiscLayout::new(&input).unwrap();
    let h = l.hidden.as_ref().unwrap();
    assert_eq!((h.start_frame, h.frames), (225, 1001));
    assert_eq!(h.image.silence_before, 225 * 588);
    assert_eq!(h.image.audio_start, 225 * 588);
    let t1 = &l.tracks[0];
    assert_eq!((t1.pregap_frame(), t1.start_frame), (0, 1226));
    assert_eq!(t1.pregap_frames, 1226);
    assert_eq!(t1.image.silence_before, 294, "padding to INDEX 01's frame");
    assert_eq!(t1.image.audio_start, 1226 * 588);
    assert_eq!(t1.numbered_indexes(), vec![(0, 0), (1, 1226)]);
    let written = h.image.silence_before
        + h.image.audio_samples
        + l.tracks
            .iter()
            .map(|t| t.image.silence_before + t.image.audio_samples)
            .sum::<u64>()
        + l.tail_silence;
    assert_eq!(written, l.image_samples());
    // Without it, the same disc starts 1001 frames earlier.
    input.hidden = None;
    let plain = DiscLayout::new(&input).unwrap();
    assert_eq!(plain.tracks[1].start_frame + 1001, l.tracks[1].start_frame);
    input.hidden = Some(HiddenInput {
        title: "Empty".into(),
        samples: 0,
    });
    assert!(matches!(err(&input), LayoutError::HiddenEmpty { .. }));
}
