//! DDP 2.00 reader, verifier, extractor and writer against cue2ddp's
//! filesets (with IMAGE.DAT synthesised as the foreign README explains),
//! the js-ddppq-test PQ string, and corrupt inputs.

use std::path::{Path, PathBuf};

use glassmaster::disc::cdtext::{self, TextField};
use glassmaster::disc::ddp::{
    crc32, hash_file, parse_pq, write_fileset, Control, DdpError, DdpFileset, DiscLayout, Index,
    LayoutTrack, PqTrack, WriteOptions,
};

use crate::cdtext::{cdtext_from_cue, foreign, msf, read_cue, MiniCue};
use crate::util::{have_tool, scratch};

/// (experiment prefix, FRAMES, P, IMAGE.DAT MD5, CRC-32) from the README.
/// (experiments, FRAMES, P, MD5, CRC-32)
type ImageRow = (&'static [&'static str], u32, u32, Option<&'static str>, u32);

const IMAGES: &[ImageRow] = &[
    (
        &[
            "005", "006", "007", "010", "024", "030", "031", "063", "064", "073", "094",
        ],
        750,
        150,
        Some("bcebec4d225e28c6899a24a4c5b968b3"),
        0x5D3D_E4A4,
    ),
    (
        &["011", "021", "023", "025", "041", "092"],
        1500,
        150,
        Some("7b4dad7a5114569b4e25550ca6278dda"),
        0x3810_7698,
    ),
    (
        &["014"],
        2250,
        0,
        Some("16551afeac0b9d80e6d90af18c8a8d7e"),
        0x96AC_5AFF,
    ),
    (&["029", "081"], 29700, 150, None, 0xAEEF_0857),
];

fn image_params(name: &str) -> (u32, u32, Option<&'static str>, u32) {
    let (_, frames, p, md5, crc) = IMAGES
        .iter()
        .find(|(names, ..)| names.iter().any(|n| name.starts_with(n)))
        .unwrap_or_else(|| panic!("{name} is not in the README's table"));
    (*frames, *p, *md5, *crc)
}

/// P zero sectors, then FRAMES×588 stereo samples with L = i & 0xFFFF and
/// R = i >> 16 (ddp-reverse-eng's `mkwav` pattern).
fn synth_image(path: &Path, frames: u32, p: u32) {
    let mut bytes = vec![0u8; (p as usize) * 2352];
    bytes.reserve(frames as usize * 2352);
    for i in 0..frames * 588 {
        bytes.extend_from_slice(&((i & 0xFFFF) as u16).to_le_bytes());
        bytes.extend_from_slice(&((i >> 16) as u16).to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// A scratch copy of one cue2ddp experiment with its IMAGE.DAT.
fn prepared(name: &str, tag: &str) -> Option<(PathBuf, PathBuf)> {
    let src = foreign(&format!("ddp/cue2ddp/{name}"), name)?;
    let dir = scratch(&format!("ddp-{tag}-{name}"));
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let (frames, p, _, _) = image_params(name);
    synth_image(&dir.join("IMAGE.DAT"), frames, p);
    Some((src, dir))
}

fn experiments() -> Vec<String> {
    let Some(root) = foreign("ddp/cue2ddp", "ddp experiments") else {
        return Vec::new();
    };
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

fn control_of(flags: &[String]) -> Control {
    let has = |f: &str| flags.iter().any(|x| x == f);
    Control {
        pre_emphasis: has("PRE"),
        copy_permitted: has("DCP"),
        data: false,
        four_channel: has("4CH"),
        scms: has("SCMS"),
    }
}

/// What the fileset must say, from input.cue alone.
fn check_against_cue(name: &str, set: &DdpFileset, cue: &MiniCue, p: u32) {
    assert_eq!(set.upc(), cue.catalog.as_deref(), "{name} UPC");
    assert_eq!(set.tracks().len(), cue.tracks.len(), "{name} tracks");
    for (t, c) in set.tracks().iter().zip(&cue.tracks) {
        assert_eq!(t.number, c.number, "{name}");
        assert_eq!(t.isrc, c.text.code, "{name} track {} ISRC", t.number);
        assert_eq!(
            t.control,
            control_of(&c.flags),
            "{name} track {} flags",
            t.number
        );
        let mut want: Vec<(u8, u32)> = c.indexes.iter().map(|&(n, f)| (n, f + p)).collect();
        if c.number == 1 && want[0].0 != 0 {
            want.insert(0, (0, 0)); // cue2ddp's 0100 entry at 00:00:00
        }
        let got: Vec<(u8, u32)> = t.indexes.iter().map(|i| (i.number, i.frame)).collect();
        assert_eq!(got, want, "{name} track {} indexes", t.number);
    }
}

/// SUBCODE DESCRIPTOR rows of a ddpinfo dump: (track, index, A-time, C1).
fn ddpinfo_pq(text: &str) -> Vec<(String, String, String, String)> {
    text.lines()
        .filter(|l| l.starts_with("VVVS "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[1][..2].to_string(),
                f[1][2..].to_string(),
                f[2].to_string(),
                f[3].to_string(),
            )
        })
        .collect()
}

/// CD TEXT INFORMATION rows of a ddpinfo dump, rebuilt as 18-byte packs.
fn ddpinfo_cdtext(text: &str) -> Vec<Vec<u8>> {
    let start = text.find("CD TEXT INFORMATION").map_or(text.len(), |i| i);
    text[start..]
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<&str>>())
        .filter(|t| t.len() >= 21 && t[0].len() == 2 && u8::from_str_radix(t[0], 16).is_ok())
        .map(|t| {
            let hex = |s: &str| u8::from_str_radix(s, 16).unwrap();
            let dec = |s: &str| s.parse::<u8>().unwrap();
            let cp = dec(t[6]) | (dec(t[5]) << 4) | (dec(t[4]) << 7);
            let mut p = vec![hex(t[0]), dec(t[2]), hex(t[3]), cp];
            p.extend(t[7..19].iter().map(|s| hex(s)));
            let crc = u16::from_str_radix(t[t.len() - 1], 16).unwrap();
            p.extend(crc.to_be_bytes());
            p
        })
        .collect()
}

#[test]
fn cue2ddp_filesets_read_verify_and_extract() {
    let names = experiments();
    if names.is_empty() {
        return;
    }
    assert_eq!(names.len(), 20);
    for name in &names {
        let (src, dir) = prepared(name, "all").unwrap();
        let (frames, p, md5, crc) = image_params(name);
        let h = hash_file(&dir.join("IMAGE.DAT")).unwrap();
        assert_eq!(h.crc32, crc, "{name}: synthesised IMAGE.DAT CRC-32");
        if let Some(m) = md5 {
            assert_eq!(h.md5_hex(), m, "{name}: synthesised IMAGE.DAT MD5");
        }
        let set = DdpFileset::open(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(set.id.level, "DDP 2.00");
        assert_eq!(set.id.disc_type, "CD");
        assert_eq!(set.pq_file(), "SD");
        assert_eq!(set.image_sectors(), u64::from(frames + p), "{name}");
        assert_eq!(u64::from(set.lead_out()), set.image_sectors(), "{name}");
        assert_eq!(
            set.map.iter().find(|m| m.stream_type == "D0").unwrap().pre2,
            Some(150)
        );

        let report = set.verify().unwrap();
        let has_image_sum = set.checksums().iter().any(|c| c.name == "IMAGE.DAT");
        if name.starts_with("081") {
            // The wrapped CD-Text is the one fault of this set.
            let fails: Vec<_> = report.failures().map(|c| c.what.as_str()).collect();
            assert_eq!(fails, ["CD-Text"], "{name}: {report:?}");
            assert!(matches!(
                set.cdtext_error(),
                Some(cdtext::CdTextError::Wrapped { .. })
            ));
        } else {
            assert!(
                report.ok(),
                "{name}: {:?}",
                report.failures().collect::<Vec<_>>()
            );
        }
        // Every checksum list entry was checked.
        let listed = set.checksums().len();
        assert_eq!(
            report
                .checks
                .iter()
                .filter(|c| c.what == "checksum")
                .count(),
            listed.max(1)
        );
        assert_eq!(has_image_sum, !name.starts_with("011"), "{name}");

        if let Ok(cue) = std::fs::read(src.join("input.cue")) {
            let cue = read_cue(&cue);
            check_against_cue(name, &set, &cue, p);
            if set.cdtext_file().is_some() && !name.starts_with("081") && !name.starts_with("092") {
                assert_eq!(
                    set.cdtext(),
                    Some(&cdtext_from_cue(&cue, false).filled()),
                    "{name}"
                );
            }
        }
        if let Ok(info) = std::fs::read_to_string(src.join("ddpinfo-e.txt")) {
            let rows = ddpinfo_pq(&info);
            assert_eq!(rows.len(), set.pq.len(), "{name}");
            for (row, e) in rows.iter().zip(&set.pq) {
                let tk = match e.track {
                    PqTrack::LeadIn => "00".to_string(),
                    PqTrack::Track(n) => format!("{n:02}"),
                    PqTrack::LeadOut => "AA".to_string(),
                };
                let c1 = format!(
                    "{:X}{}",
                    e.control.nibble(),
                    if e.control.scms { 'S' } else { '1' }
                );
                let at = msf(&format!("{}:{}:{}", &row.2[..2], &row.2[2..4], &row.2[4..]));
                assert_eq!(
                    (&row.0, &row.1, at, &row.3),
                    (&tk, &format!("{:02}", e.index), e.frame, &c1),
                    "{name}"
                );
            }
            // ddpinfo's CD TEXT INFORMATION rows: type, T# (decimal), S#
            // (hex), Cp (decimal), 12 bytes, CRC, against the file.
            let rows = ddpinfo_cdtext(&info);
            if let Some(file) = set.cdtext_file() {
                let bytes = std::fs::read(dir.join(file)).unwrap();
                assert_eq!(rows.len() * 18, bytes.len(), "{name}");
                for (row, pack) in rows.iter().zip(bytes.chunks(18)) {
                    assert_eq!(&row[..], pack, "{name}");
                }
            }
            let dsl = info.lines().find(|l| l.starts_with("DSL:")).unwrap();
            let first_dsl: u64 = dsl.split('\'').nth(1).unwrap().trim().parse().unwrap();
            assert_eq!(set.map[0].length, Some(first_dsl), "{name}");
        }

        // Extract: the WAV's data chunk is IMAGE.DAT, byte for byte.
        if !name.starts_with("029") && !name.starts_with("081") {
            let out = dir.join("out");
            let x = set.extract(&out).unwrap();
            let wav = std::fs::read(&x.wav).unwrap();
            let image = std::fs::read(dir.join("IMAGE.DAT")).unwrap();
            assert_eq!(&wav[44..], &image[..], "{name}");
            assert_eq!(&wav[..4], b"RIFF");
            assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1);
            assert_eq!(
                u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize,
                image.len()
            );
            let cue = read_cue(&std::fs::read(&x.cue).unwrap());
            assert_eq!(cue.tracks.len(), set.tracks().len());
            assert!(matches!(set.extract(&out), Err(DdpError::Exists { .. })));
        }

        // One flipped byte in the image fails verify wherever a checksum covers it.
        if has_image_sum {
            let path = dir.join("IMAGE.DAT");
            let mut image = std::fs::read(&path).unwrap();
            let at = image.len() / 2 + 1;
            image[at] ^= 0x01;
            std::fs::write(&path, &image).unwrap();
            let r = DdpFileset::open(&dir).unwrap().verify().unwrap();
            let fails: Vec<_> = r.failures().filter(|c| c.what != "CD-Text").collect();
            assert!(
                !fails.is_empty()
                    && fails
                        .iter()
                        .all(|c| c.what == "checksum" && c.detail.starts_with("IMAGE.DAT")),
                "{name}: {fails:?}"
            );
        }
    }
}

/// Specific values, experiment by experiment.
#[test]
fn cue2ddp_specific_values() {
    let open = |name: &str| -> Option<DdpFileset> {
        let (_, dir) = prepared(name, "specific")?;
        Some(DdpFileset::open(dir).unwrap())
    };
    let Some(s) = open("005-isrc-upc") else {
        return;
    };
    assert_eq!(s.upc(), Some("0123456789012"));
    assert_eq!(s.pq[0].upc.as_deref(), Some("0123456789012"));
    assert_eq!(s.tracks()[0].isrc.as_deref(), Some("USABC1234567"));
    assert_eq!(s.tracks()[0].start(), Some(150));
    assert_eq!(s.lead_out(), 900);
    assert!(s.cdtext().is_none());

    let s = open("006-flags").unwrap();
    let c = s.tracks()[0].control;
    assert!(c.pre_emphasis && c.copy_permitted && c.four_channel && !c.scms);
    assert_eq!(c.nibble(), 0xB);

    let s = open("007-master-id").unwrap();
    assert_eq!(
        s.id.master_id,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl"
    );

    let s = open("010-flag-scms").unwrap();
    assert_eq!(
        s.tracks()[0].control,
        Control {
            scms: true,
            ..Control::default()
        }
    );

    let s = open("011-cdtext-cue").unwrap();
    assert_eq!(s.map.len(), 3);
    assert_eq!(s.map[0].length, Some(198));
    let b = &s.cdtext().unwrap().blocks[0];
    assert_eq!(b.disc.text(TextField::Title), Some("Disc Title"));
    assert_eq!(
        b.track(1).unwrap().text(TextField::Performer),
        Some("Perf One")
    );
    assert_eq!(b.track(2).unwrap().text(TextField::Songwriter), None);
    assert_eq!(s.tracks()[1].start(), Some(900));

    let s = open("014-three-tracks").unwrap();
    assert_eq!(s.pq.len(), 10);
    let ix: Vec<Vec<(u8, u32)>> = s
        .tracks()
        .iter()
        .map(|t| t.indexes.iter().map(|i| (i.number, i.frame)).collect())
        .collect();
    assert_eq!(
        ix,
        vec![
            vec![(0, 0), (1, 150)],
            vec![(0, 750), (1, 825), (2, 1125)],
            vec![(0, 1500), (1, 1650)]
        ]
    );
    assert_eq!((s.lead_out(), s.image_sectors()), (2250, 2250));

    let s = open("021-cdtext-missing-field").unwrap();
    let b = &s.cdtext().unwrap().blocks[0];
    assert_eq!(
        b.track(2).unwrap().text(TextField::Songwriter),
        Some("Writer Two")
    );
    assert_eq!(b.track(1).unwrap().songwriter.as_deref(), Some(""));

    let s = open("023-isrc-pregap").unwrap();
    let t2 = &s.tracks()[1];
    assert_eq!(t2.isrc.as_deref(), Some("USABC2222222"));
    assert_eq!(
        t2.indexes,
        vec![
            Index {
                number: 0,
                frame: 750
            },
            Index {
                number: 1,
                frame: 900
            }
        ]
    );
    assert_eq!(s.pq[3].isrc.as_deref(), Some("USABC2222222")); // on the 0200 entry

    let s = open("024-cdtext-long").unwrap();
    let b = &s.cdtext().unwrap().blocks[0];
    assert_eq!(
        b.disc.text(TextField::Title),
        Some("A disc title that is quite a bit longer than fifteen characters")
    );

    let s = open("025-embed-cue-full").unwrap();
    assert_eq!(s.upc(), Some("0123456789012"));
    let [t1, t2] = s.tracks() else { panic!() };
    assert_eq!(
        t1.control,
        Control {
            pre_emphasis: true,
            ..Control::default()
        }
    );
    assert_eq!(
        t2.control,
        Control {
            copy_permitted: true,
            four_channel: true,
            ..Control::default()
        }
    );
    assert_eq!(
        t1.indexes.iter().map(|i| i.frame).collect::<Vec<_>>(),
        vec![0, 150, 525]
    );
    assert_eq!(
        t2.indexes.iter().map(|i| i.frame).collect::<Vec<_>>(),
        vec![750, 900]
    );
    assert_eq!(s.lead_out(), 1650);
    // cue2ddp's own IMAGE.cue lists the same absolute indexes as ours.
    let theirs = read_cue(&std::fs::read(s.dir().join("IMAGE.cue")).unwrap());
    let ours = read_cue(glassmaster::disc::ddp::cue_sheet(&s).as_bytes());
    for (a, b) in theirs.tracks.iter().zip(&ours.tracks) {
        assert_eq!(
            (a.number, &a.indexes, &a.text.title, &a.flags),
            (b.number, &b.indexes, &b.text.title, &b.flags)
        );
    }
    assert_eq!(theirs.catalog, ours.catalog);

    let s = open("029-99-tracks").unwrap();
    assert_eq!(s.tracks().len(), 99);
    assert_eq!(s.pq.len(), 103);
    assert_eq!(s.tracks()[98].start(), Some(150 + 98 * 300));
    assert_eq!(s.lead_out(), 29850);

    let s = open("030-99-indexes").unwrap();
    assert_eq!(s.tracks()[0].indexes.len(), 100);
    assert_eq!(
        s.tracks()[0].indexes[99],
        Index {
            number: 99,
            frame: 150 + msf("00:06:45")
        }
    );

    let s = open("031-latin1-cdtext").unwrap();
    let b = &s.cdtext().unwrap().blocks[0];
    assert_eq!(b.disc.text(TextField::Title), Some("Café Déjà Vu"));
    assert_eq!(b.track(1).unwrap().text(TextField::Title), Some("Über"));

    let s = open("041-cdtext-track-only").unwrap();
    let b = &s.cdtext().unwrap().blocks[0];
    assert!(b.disc.title.is_none());
    assert_eq!(
        b.track(2).unwrap().text(TextField::Performer),
        Some("Only Two")
    );
}

#[test]
fn js_ddppq_string_parses() {
    let Some(p) = foreign("ddp/js-ddppq-test/PQDESCR", "js_ddppq_string_parses") else {
        return;
    };
    let pq = parse_pq("PQDESCR", &std::fs::read(p).unwrap()).unwrap();
    assert_eq!(pq.len(), 23);
    assert_eq!(pq[6].isrc.as_deref(), Some("US4DG1500606"));
    assert_eq!((pq[6].track, pq[6].index), (PqTrack::Track(5), 1));
    assert_eq!(pq[6].frame, msf("12:47:65"));
    assert_eq!(pq[6].control, Control::default());
    assert_eq!(pq[1].isrc.as_deref(), Some("USSM11404613"));
    let outs: Vec<_> = pq
        .iter()
        .filter(|e| e.track == PqTrack::LeadOut)
        .map(|e| e.frame)
        .collect();
    assert_eq!(outs, vec![msf("79:25:01"); 2]);
    assert!(pq.iter().all(|e| e.upc.is_none()));
    assert_eq!(
        pq.iter()
            .filter(|e| matches!(e.track, PqTrack::Track(_)) && e.index == 0)
            .count(),
        1
    );
    // Zero-padded hours ("HHMMSSFF") read the same as blank ones.
    let mut bytes = std::fs::read(foreign("ddp/js-ddppq-test/PQDESCR", "").unwrap()).unwrap();
    bytes[6 * 64 + 8..6 * 64 + 10].copy_from_slice(b"00");
    assert_eq!(
        parse_pq("PQDESCR", &bytes).unwrap()[6].frame,
        msf("12:47:65")
    );
}

#[test]
fn crc32_matches_the_usual_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn code_rules() {
    use glassmaster::disc::ddp::{isrc_valid, upc_valid};
    assert!(isrc_valid("USABC1234567") && isrc_valid("QM7281905204"));
    assert!(
        !isrc_valid("US-RF3-02-00001")
            && !isrc_valid("usabc1234567")
            && !isrc_valid("US1BC123456X")
    );
    assert!(upc_valid("0123456789012") && upc_valid("5012345678900") && upc_valid("1234567890128"));
    assert!(
        !upc_valid("1234567890123") && !upc_valid("012345678901") && !upc_valid("01234567890a2")
    );
}

fn synthetic_layout() -> DiscLayout {
    let mut text = cdtext::CdTextBlock::new(1, 2);
    text.disc.title = Some("Écoute".into());
    text.tracks[0].title = Some("One".into());
    text.tracks[1].title = Some("Two".into());
    text.tracks[1].performer = Some("Zoë".into());
    DiscLayout {
        upc: Some("5012345678900".into()),
        master_id: "GM-0001".into(),
        tracks: vec![
            LayoutTrack {
                number: 1,
                indexes: vec![
                    Index {
                        number: 1,
                        frame: 150,
                    },
                    Index {
                        number: 2,
                        frame: 400,
                    },
                ],
                isrc: Some("GBABC2600001".into()),
                control: Control {
                    copy_permitted: true,
                    ..Control::default()
                },
            },
            LayoutTrack {
                number: 2,
                indexes: vec![
                    Index {
                        number: 0,
                        frame: 600,
                    },
                    Index {
                        number: 1,
                        frame: 675,
                    },
                ],
                isrc: Some("GBABC2600002".into()),
                control: Control {
                    pre_emphasis: true,
                    scms: true,
                    ..Control::default()
                },
            },
        ],
        total_sectors: 1000,
        cdtext: Some(cdtext::CdText { blocks: vec![text] }.encode().unwrap()),
    }
}

#[test]
fn writer_round_trips_through_the_reader() {
    let dir = scratch("ddp-write-synthetic");
    synth_image(&dir.join("IMAGE.DAT"), 850, 150);
    let layout = synthetic_layout();
    let w = write_fileset(&dir, &layout, &WriteOptions::default()).unwrap();
    let names: Vec<&str> = w.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["DDPID", "DDPMS", "CDTEXT.BIN", "PQDESCR", "IMAGE.DAT"]
    );
    let list = std::fs::read_to_string(dir.join("CHECKSUM.MD5")).unwrap();
    assert_eq!(list.lines().count(), 5);
    assert!(list.lines().all(|l| l.len() > 34 && &l[32..34] == "  "));

    let set = DdpFileset::open(&dir).unwrap();
    assert!(set.verify().unwrap().ok());
    assert_eq!(set.pq_file(), "PQDESCR");
    assert_eq!(set.upc(), Some("5012345678900"));
    assert_eq!(set.id.master_id, "GM-0001");
    let t = set.tracks();
    assert_eq!(
        t[0].indexes,
        vec![
            Index {
                number: 0,
                frame: 0
            },
            Index {
                number: 1,
                frame: 150
            },
            Index {
                number: 2,
                frame: 400
            }
        ]
    );
    assert_eq!(t[1].indexes, layout.tracks[1].indexes);
    assert_eq!(
        (t[0].isrc.as_deref(), t[1].isrc.as_deref()),
        (Some("GBABC2600001"), Some("GBABC2600002"))
    );
    assert_eq!(
        (t[0].control, t[1].control),
        (layout.tracks[0].control, layout.tracks[1].control)
    );
    assert_eq!(set.lead_out(), 1000);
    assert_eq!(
        set.pq
            .iter()
            .filter(|e| e.track == PqTrack::LeadOut)
            .count(),
        2
    );
    let b = &set.cdtext().unwrap().blocks[0];
    assert_eq!(b.track(2).unwrap().text(TextField::Performer), Some("Zoë"));
    // The PQ descriptor: lead-in with UPC, an entry per index, lead-out twice.
    let pq = std::fs::read(dir.join("PQDESCR")).unwrap();
    assert_eq!(
        &pq[..64],
        format!("VVVS0000  00000001              5012345678900{:19}", "").as_bytes()
    );
    assert_eq!(&pq[64..96], b"VVVS0100  00000021  GBABC2600001");
    assert_eq!(&pq[4 * 64..4 * 64 + 18], b"VVVS0200  0008001S");
    assert_eq!(pq.len(), 8 * 64);
}

/// Our writer against cue2ddp for the same disc: byte-identical DDPID,
/// PQ descriptor and CD-Text; DDPMS identical when the PQ file is named
/// "SD" as cue2ddp names it.
#[test]
fn writer_matches_cue2ddp_bytes() {
    for name in [
        "005-isrc-upc",
        "025-embed-cue-full",
        "014-three-tracks",
        "023-isrc-pregap",
    ] {
        let Some((src, theirs_dir)) = prepared(name, "theirs") else {
            return;
        };
        let theirs = DdpFileset::open(theirs_dir).unwrap();
        let cue = read_cue(&std::fs::read(src.join("input.cue")).unwrap());
        let layout = DiscLayout {
            upc: theirs.upc().map(str::to_string),
            master_id: String::new(),
            tracks: theirs
                .tracks()
                .iter()
                .map(|t| LayoutTrack {
                    number: t.number,
                    indexes: t.indexes.clone(),
                    isrc: t.isrc.clone(),
                    control: t.control,
                })
                .collect(),
            total_sectors: theirs.lead_out(),
            cdtext: theirs
                .cdtext()
                .map(|_| cdtext_from_cue(&cue, false).encode().unwrap()),
        };
        let dir = scratch(&format!("ddp-rewrite-{name}"));
        std::fs::copy(theirs.image_path(), dir.join("IMAGE.DAT")).unwrap();
        let opts = WriteOptions {
            pq_file: "SD".into(),
            ..WriteOptions::default()
        };
        write_fileset(&dir, &layout, &opts).unwrap();
        for f in ["DDPID", "DDPMS", "SD", "CDTEXT.BIN"] {
            if src.join(f).exists() {
                assert_eq!(
                    std::fs::read(dir.join(f)).unwrap(),
                    std::fs::read(src.join(f)).unwrap(),
                    "{name} {f}"
                );
            }
        }
        // Their CHECKSUM.MD5 (` *NAME`) and ours (`  NAME`) give the same sums.
        if let Ok(list) = std::fs::read_to_string(src.join("CHECKSUM.MD5")) {
            let ours = std::fs::read_to_string(dir.join("CHECKSUM.MD5")).unwrap();
            let norm =
                |s: &str| -> Vec<String> { s.lines().map(|l| l.replace(" *", "  ")).collect() };
            assert_eq!(norm(&ours), norm(&list), "{name}");
        }
    }
}

#[test]
fn writer_refuses_bad_layouts() {
    let dir = scratch("ddp-write-bad");
    synth_image(&dir.join("IMAGE.DAT"), 850, 150);
    let good = synthetic_layout();
    type Edit = Box<dyn Fn(&mut DiscLayout)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|l| l.upc = Some("12345".into())), "UPC/EAN"),
        (
            Box::new(|l| l.tracks[0].isrc = Some("GB-ABC-26-00001".into())),
            "ISRC",
        ),
        (
            Box::new(|l| l.tracks[0].indexes[0].frame = 100),
            "150 frames",
        ),
        (Box::new(|l| l.tracks[1].number = 3), "out of sequence"),
        (
            Box::new(|l| l.tracks[1].indexes[0].frame = 300),
            "not after",
        ),
        (Box::new(|l| l.total_sectors = 999), "bytes, expected"),
        (
            Box::new(|l| l.tracks[1].indexes.retain(|i| i.number != 1)),
            "no index 01",
        ),
        (Box::new(|l| l.cdtext = Some(vec![0x80; 18])), "CD-Text"),
        (
            Box::new(|l| l.upc = Some("5012345678901".into())),
            "GS1 check digit",
        ),
        (
            Box::new(|l| {
                let mut b = cdtext::CdTextBlock::new(1, 3);
                b.disc.title = Some("Three".into());
                l.cdtext = Some(cdtext::CdText { blocks: vec![b] }.encode().unwrap());
            }),
            "covers tracks 1..3, the disc has 1..2",
        ),
    ];
    for (edit, needle) in cases {
        let mut l = good.clone();
        edit(&mut l);
        let err = write_fileset(&dir, &l, &WriteOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} (wanted {needle:?})"
        );
    }
}

#[test]
fn reader_faults_are_typed_errors() {
    let Some((_, dir)) = prepared("025-embed-cue-full", "faults") else {
        return;
    };
    let orig = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let (ddpid, ddpms, sd) = (orig("DDPID"), orig("DDPMS"), orig("SD"));
    let with = |f: &str, bytes: &[u8]| -> Result<DdpFileset, DdpError> {
        std::fs::write(dir.join(f), bytes).unwrap();
        let r = DdpFileset::open(&dir);
        std::fs::write(dir.join(f), orig_bytes(f, &ddpid, &ddpms, &sd)).unwrap();
        r
    };
    let mut b = ddpms.clone();
    b[256 + 14..256 + 22].copy_from_slice(b"  16x0  ");
    let e = with("DDPMS", &b).unwrap_err().to_string();
    assert!(
        e.contains("DDPMS") && e.contains("DSL") && e.contains("16x0"),
        "{e}"
    );
    let e = with("DDPMS", &ddpms[..200]).unwrap_err();
    assert!(matches!(e, DdpError::Length { .. }), "{e}");
    let mut b = sd.clone();
    b[64 + 12..64 + 14].copy_from_slice(b"61");
    let e = with("SD", &b).unwrap_err().to_string();
    assert!(e.contains("SD entry 1") && e.contains("A-time"), "{e}");
    let mut b = sd.clone();
    b[64 * 2 + 16] = b'Z';
    assert!(with("SD", &b).unwrap_err().to_string().contains("C1"));
    let mut b = ddpid.clone();
    b[..8].copy_from_slice(b"XYZ 2.00");
    assert!(with("DDPID", &b).unwrap_err().to_string().contains("level"));
    std::fs::remove_file(dir.join("SD")).unwrap();
    assert!(matches!(
        DdpFileset::open(&dir),
        Err(DdpError::MissingFile { .. })
    ));
    std::fs::write(dir.join("sd"), &sd).unwrap();
    assert!(
        DdpFileset::open(&dir).is_ok(),
        "file names match without regard to case"
    );
    // Fuzz: random damage to the map and PQ never panics.
    let mut x: u64 = 0x1234_5678_9ABC_DEF1;
    for round in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (f, base) = if round % 2 == 0 {
            ("DDPMS", &ddpms)
        } else {
            ("sd", &sd)
        };
        let mut b = base.clone();
        if round % 5 == 0 {
            b.truncate((x as usize) % b.len());
        } else {
            let i = (x as usize >> 8) % b.len();
            b[i] = (x >> 40) as u8;
        }
        std::fs::write(dir.join(f), &b).unwrap();
        let _ = DdpFileset::open(&dir).map(|s| s.verify());
        std::fs::write(dir.join(f), base).unwrap();
    }
}

fn orig_bytes<'a>(f: &str, ddpid: &'a [u8], ddpms: &'a [u8], sd: &'a [u8]) -> &'a [u8] {
    match f {
        "DDPID" => ddpid,
        "DDPMS" => ddpms,
        _ => sd,
    }
}

/// The HOFA/Sonoris dialect: zero-padded numbers, `PQDESCR` as the file
/// name, SCR "0", hours written as "00" and the UPC on every PQ entry.
#[test]
fn zero_padded_dialect_reads_the_same() {
    let Some((_, dir)) = prepared("025-embed-cue-full", "zeros") else {
        return;
    };
    let plain = DdpFileset::open(&dir).unwrap();
    let mut ms = std::fs::read(dir.join("DDPMS")).unwrap();
    for rec in ms.chunks_mut(128) {
        for (at, len) in [(14, 8), (46, 4), (71, 3)] {
            let field = &mut rec[at..at + len];
            if field.iter().any(|b| b.is_ascii_digit()) {
                field
                    .iter_mut()
                    .filter(|b| **b == b' ')
                    .for_each(|b| *b = b'0');
            }
        }
        if &rec[74..76] == b"SD" {
            rec[74..81].copy_from_slice(b"PQDESCR");
        }
        if rec[41] == b'1' {
            rec[41] = b'0';
        }
    }
    let mut pq = std::fs::read(dir.join("SD")).unwrap();
    for e in pq.chunks_mut(64) {
        e[8..10].copy_from_slice(b"00");
        e[32..45].copy_from_slice(b"0123456789012");
    }
    // The lead-out once only, as some writers do.
    pq.truncate(pq.len() - 64);
    assert_eq!(&ms[128 + 14..128 + 22], b"00000512");
    ms[128 + 14..128 + 22].copy_from_slice(b"00000448");
    std::fs::remove_file(dir.join("SD")).unwrap();
    std::fs::write(dir.join("PQDESCR"), &pq).unwrap();
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    for f in ["CHECKSUM.MD5", "CHECKSUM.TXT"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let z = DdpFileset::open(&dir).unwrap();
    assert_eq!(z.pq_file(), "PQDESCR");
    assert_eq!(z.pq.len(), 7);
    assert!(z
        .pq
        .iter()
        .all(|e| e.upc.as_deref() == Some("0123456789012")));
    assert_eq!(z.map[2].length, Some(1650));
    assert_eq!(z.map[2].pre2, Some(150));
    assert_eq!(z.tracks(), plain.tracks());
    assert_eq!((z.upc(), z.lead_out()), (plain.upc(), plain.lead_out()));
    assert_eq!(z.cdtext(), plain.cdtext());
    assert!(z.verify().unwrap().ok());
}

/// A CD-Text pack with a bad CRC: the text still reads, verify fails.
#[test]
fn bad_cdtext_crc_fails_verify_but_reads() {
    let Some((_, dir)) = prepared("011-cdtext-cue", "badcrc") else {
        return;
    };
    let path = dir.join("CDTEXT.BIN");
    let mut b = std::fs::read(&path).unwrap();
    b[18 + 17] ^= 0xFF;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &b).unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.cdtext_report().unwrap().bad_crc, vec![1]);
    let b = &set.cdtext().unwrap().blocks[0];
    assert_eq!(
        b.track(1).unwrap().text(TextField::Title),
        Some("Track One")
    );
    let r = set.verify().unwrap();
    let fails: Vec<_> = r.failures().collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].what == "CD-Text" && fails[0].detail.contains("bad CRC in packs [1]"));
}

/// Compares `got` with the golden file, or rewrites it with
/// GLASSMASTER_BLESS=1.
fn golden(rel: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    if std::env::var_os("GLASSMASTER_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{}: no golden file (run with GLASSMASTER_BLESS=1)",
            path.display()
        )
    });
    assert_eq!(got, want, "{}", path.display());
}

/// The extracted CUE sheets of cue2ddp's fullest sets, as golden files.
#[test]
fn extracted_cue_sheets_match_golden() {
    for name in [
        "025-embed-cue-full",
        "014-three-tracks",
        "011-cdtext-cue",
        "010-flag-scms",
    ] {
        let Some((_, dir)) = prepared(name, "golden") else {
            return;
        };
        let set = DdpFileset::open(&dir).unwrap();
        let x = set.extract(dir.join("out")).unwrap();
        let cue = std::fs::read_to_string(&x.cue).unwrap();
        assert_eq!(cue, glassmaster::disc::ddp::cue_sheet(&set));
        golden(&format!("ddp/{name}.album.cue"), &cue);
    }
}

/// A checksum list that does not parse: the fileset opens, verify fails
/// and names the list and line.
#[test]
fn unreadable_checksum_list_fails_verify() {
    let Some((_, dir)) = prepared("021-cdtext-missing-field", "badlist") else {
        return;
    };
    std::fs::write(dir.join("EXTRA.md5"), "not a checksum line\n").unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.checksum_errors().len(), 1);
    let r = set.verify().unwrap();
    let fails: Vec<_> = r.failures().collect();
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(
        fails[0].detail.contains("EXTRA.md5 line 1"),
        "{}",
        fails[0].detail
    );
    // A listed file that is missing fails too.
    std::fs::write(dir.join("EXTRA.md5"), format!("{:032x}  GONE.BIN\n", 0)).unwrap();
    let r = DdpFileset::open(&dir).unwrap().verify().unwrap();
    assert!(r
        .failures()
        .any(|c| c.detail.contains("GONE.BIN, which is missing")));
}

fn run(tool: &str, args: &[&str], cwd: &Path) -> (String, String, bool) {
    let out = std::process::Command::new(tool)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// ffprobe, cuetools and cdrdao read what extract writes.
#[test]
fn extracted_files_pass_independent_readers() {
    let t = "extracted_files_pass_independent_readers";
    let Some((_, dir)) = prepared("025-embed-cue-full", "tools") else {
        return;
    };
    let set = DdpFileset::open(&dir).unwrap();
    let out = dir.join("out");
    set.extract(&out).unwrap();
    if have_tool("ffprobe", t) {
        let (o, e, ok) = run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,sample_rate,channels,duration",
                "-of",
                "compact",
                "album.wav",
            ],
            &out,
        );
        assert!(ok && e.is_empty(), "{e}");
        assert_eq!(
            o.trim(),
            "stream|codec_name=pcm_s16le|sample_rate=44100|channels=2|duration=22.000000"
        );
    }
    if have_tool("cueprint", t) {
        let (o, e, _) = run("cueprint", &["-i", "cue", "album.cue"], &out);
        assert!(e.is_empty(), "{e}");
        assert!(
            o.contains("ISRC:\t\tUSABC1111111") && o.contains("title:\t\tTwo"),
            "{o}"
        );
    }
    if have_tool("cuebreakpoints", t) {
        let (o, e, _) = run("cuebreakpoints", &["album.cue"], &out);
        assert!(e.is_empty(), "{e}");
        assert_eq!(o.trim(), "0:12.00");
    }
    // cdrdao's CUE reader stops at INDEX 02 (a cdrdao bug), so give it 011.
    let Some((_, dir)) = prepared("011-cdtext-cue", "tools") else {
        return;
    };
    DdpFileset::open(&dir)
        .unwrap()
        .extract(dir.join("out"))
        .unwrap();
    if have_tool("cdrdao", t) {
        let (o, e, ok) = run("cdrdao", &["toc-info", "album.cue"], &dir.join("out"));
        assert!(ok, "{o}{e}");
        assert!(
            format!("{o}{e}").contains("2 tracks, length 00:22:00, 1650 blocks"),
            "{o}{e}"
        );
    }
}

/// A writer that leaves track 1's 150-sector pregap out of the image (DSL
/// = sectors in the file, PRE2 150, lead-out 150 past the image's end):
/// verify accepts it and extract puts the silence back.
#[test]
fn pregap_outside_the_image() {
    let Some((_, dir)) = prepared("005-isrc-upc", "outside") else {
        return;
    };
    let full = std::fs::read(dir.join("IMAGE.DAT")).unwrap();
    std::fs::write(dir.join("IMAGE.DAT"), &full[150 * 2352..]).unwrap();
    let mut ms = std::fs::read(dir.join("DDPMS")).unwrap();
    assert_eq!(&ms[128 + 14..128 + 22], b"     900");
    ms[128 + 14..128 + 22].copy_from_slice(b"     750");
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    for f in ["CHECKSUM.MD5", "CHECKSUM.TXT"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(
        (set.image_sectors(), set.image_start_frame(), set.lead_out()),
        (750, 150, 900)
    );
    let r = set.verify().unwrap();
    assert!(r.ok(), "{:?}", r.failures().collect::<Vec<_>>());
    let x = set.extract(dir.join("out")).unwrap();
    assert_eq!(x.data_bytes, full.len() as u64);
    assert_eq!(&std::fs::read(&x.wav).unwrap()[44..], &full[..]);
    // Without the PRE2 the same image is 150 frames short.
    ms[128 + 46..128 + 50].copy_from_slice(b"    ");
    std::fs::write(dir.join("DDPMS"), &ms).unwrap();
    let set = DdpFileset::open(&dir).unwrap();
    assert_eq!(set.image_start_frame(), 0);
    let fails: Vec<_> = set
        .verify()
        .unwrap()
        .failures()
        .map(|c| c.what.clone())
        .collect();
    assert_eq!(fails, ["lead-out"]);
}
