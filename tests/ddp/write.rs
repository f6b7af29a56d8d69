//! The DDP writer: a synthetic disc written and read back, cue2ddp's
//! bytes for the same discs, refused layouts.

use glassmaster::disc::cdtext;
use glassmaster::disc::cdtext::TextField;
use glassmaster::disc::ddp::{
    write_fileset, Control, DdpFileset, DiscLayout, Index, LayoutTrack, PqTrack, WriteOptions,
};

use super::{prepared, synth_image};
use crate::cdtext::{cdtext_from_cue, read_cue};
use crate::util::scratch;

pub(crate) fn synthetic_layout() -> DiscLayout {
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
        // With the default name the DDPMS differs from cue2ddp's in the PQ
        // packet's DSI field only.
        let dir = scratch(&format!("ddp-rewrite-default-{name}"));
        std::fs::copy(theirs.image_path(), dir.join("IMAGE.DAT")).unwrap();
        write_fileset(&dir, &layout, &WriteOptions::default()).unwrap();
        let ours = std::fs::read(dir.join("DDPMS")).unwrap();
        let cue2ddp = std::fs::read(src.join("DDPMS")).unwrap();
        let differ: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != cue2ddp[i]).collect();
        let pq_packet = if layout.cdtext.is_some() { 128 } else { 0 };
        assert!(
            differ
                .iter()
                .all(|i| (pq_packet + 74..pq_packet + 91).contains(i)),
            "{name}: {differ:?}"
        );
        assert_eq!(&ours[pq_packet + 74..pq_packet + 81], b"PQDESCR");
        assert_eq!(
            std::fs::read(dir.join("PQDESCR")).unwrap(),
            std::fs::read(src.join("SD")).unwrap()
        );
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
