//! DDP 2.00 reader against cue2ddp's filesets (with IMAGE.DAT synthesised
//! as the foreign README explains) and the js-ddppq-test PQ string. The
//! writer is tested in `ddp/write.rs`, dialects, faults and extraction in
//! `ddp/faults.rs`, a bounded fuzz of the reader in `ddp/fuzz.rs`.

mod faults;
mod fuzz;
mod write;

use std::path::{Path, PathBuf};

use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::{
    crc32, hash_file, parse_pq, Control, DdpError, DdpFileset, Index, PqTrack,
};

use crate::cdtext::{cdtext_from_cue, foreign, msf, read_cue, MiniCue};
use crate::util::scratch;

/// (experiment prefix, FRAMES, P, IMAGE.DAT MD5, CRC-32) from the README.
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

pub(crate) fn image_params(name: &str) -> (u32, u32, Option<&'static str>, u32) {
    let (_, frames, p, md5, crc) = IMAGES
        .iter()
        .find(|(names, ..)| names.iter().any(|n| name.starts_with(n)))
        .unwrap_or_else(|| panic!("{name} is not in the README's table"));
    (*frames, *p, *md5, *crc)
}

/// P zero sectors, then FRAMES×588 stereo samples with L = i & 0xFFFF and
/// R = i >> 16 (ddp-reverse-eng's `mkwav` pattern).
pub(crate) fn synth_image(path: &Path, frames: u32, p: u32) {
    let mut bytes = vec![0u8; (p as usize) * 2352];
    bytes.reserve(frames as usize * 2352);
    for i in 0..frames * 588 {
        bytes.extend_from_slice(&((i & 0xFFFF) as u16).to_le_bytes());
        bytes.extend_from_slice(&((i >> 16) as u16).to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// A scratch copy of one cue2ddp experiment with its IMAGE.DAT.
pub(crate) fn prepared(name: &str, tag: &str) -> Option<(PathBuf, PathBuf)> {
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

pub(crate) fn experiments() -> Vec<String> {
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
                Some(glassmaster::disc::cdtext::CdTextError::Wrapped { .. })
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
