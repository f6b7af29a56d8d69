//! CD-Text on synthetic input: TAB and MS-JIS round trips, limits,
//! typed errors and fuzzing of the decoder.

use glassmaster::disc::cdtext::{
    decode, decode_with_report, CdText, CdTextBlock, CdTextError, Charset, EncodeOptions, Fields,
};

use super::read;

#[test]
fn tab_option_round_trips() {
    let mut block = CdTextBlock::new(1, 3);
    block.disc.performer = Some("Band".into());
    for t in &mut block.tracks {
        t.performer = Some("Band".into());
        t.title = Some("Same".into());
    }
    let text = CdText {
        blocks: vec![block],
    };
    let plain = text.encode().unwrap();
    let tabbed = text.encode_with(&EncodeOptions { use_tab: true }).unwrap();
    assert!(tabbed.len() < plain.len());
    assert!(tabbed
        .chunks(18)
        .any(|p| p[4..16].windows(2).any(|w| w == [0, 9])));
    assert_eq!(decode(&plain).unwrap(), text.filled());
    assert_eq!(decode(&tabbed).unwrap(), text.filled());
}

#[test]
fn encoder_limits_and_charsets_are_typed_errors() {
    let mut block = CdTextBlock::new(1, 1);
    block.tracks[0].title = Some("Ōsaka".into());
    let err = CdText {
        blocks: vec![block.clone()],
    }
    .encode()
    .unwrap_err();
    assert!(
        matches!(&err, CdTextError::Unencodable { ch: 'Ō', .. }),
        "{err}"
    );
    assert!(err.to_string().contains("\"Ōsaka\""), "{err}");
    block.charset = Charset::Ascii;
    block.tracks[0].title = Some("Café".into());
    assert!(matches!(
        CdText {
            blocks: vec![block.clone()]
        }
        .encode(),
        Err(CdTextError::Unencodable { ch: 'é', .. })
    ));
    block.charset = Charset::Latin1;
    block.tracks[0].title = Some("x".repeat(253 * 12));
    assert!(matches!(
        CdText {
            blocks: vec![block.clone()]
        }
        .encode(),
        Err(CdTextError::TooManyTextPacks { count: 254, .. })
    ));
    block.tracks[0].title = Some("x".repeat(253 * 12 - 3));
    assert_eq!(
        CdText {
            blocks: vec![block.clone()]
        }
        .encode()
        .unwrap()
        .len(),
        256 * 18
    );
    block.tracks[0].title = Some("ok".into());
    let nine = CdText {
        blocks: vec![block.clone(); 9],
    };
    assert!(matches!(
        nine.encode(),
        Err(CdTextError::TooManyBlocks { count: 9 })
    ));
    block.tracks.push(Fields::default());
    assert!(matches!(
        CdText {
            blocks: vec![block]
        }
        .encode(),
        Err(CdTextError::BadBlock { .. })
    ));
    // Eight blocks encode and decode.
    let mut blocks = Vec::new();
    for i in 0..8u8 {
        let mut b = CdTextBlock::new(1, 2);
        b.language = i + 1;
        b.disc.title = Some(format!("Block {i}"));
        blocks.push(b);
    }
    let eight = CdText { blocks };
    assert_eq!(decode(&eight.encode().unwrap()).unwrap(), eight.filled());
}

#[test]
fn decoder_faults_are_typed_errors() {
    let t = "decoder_faults_are_typed_errors";
    let Some(good) = read("libburn/nightcats-cue.cdt", t) else {
        return;
    };
    let mut bad = good.clone();
    bad[18 * 3 + 6] ^= 0x20;
    assert!(matches!(
        decode(&bad),
        Err(CdTextError::Crc { index: 3, .. })
    ));
    let d = decode_with_report(&bad).unwrap();
    assert_eq!(d.report.bad_crc, vec![3]);
    assert!(matches!(
        decode(&good[..100]),
        Err(CdTextError::BadLength { len: 100 })
    ));
    assert!(matches!(decode(&[]), Err(CdTextError::Empty)));
    // Drop one title pack but keep CRCs right: size information disagrees.
    let mut cut: Vec<u8> = good[..18].to_vec();
    cut.extend_from_slice(&good[36..]);
    let mut resealed: Vec<u8> = Vec::new();
    for (i, p) in cut.chunks(18).enumerate() {
        let mut p: [u8; 18] = p.try_into().unwrap();
        p[2] = i as u8;
        glassmaster::disc::cdtext::seal_pack(&mut p);
        resealed.extend_from_slice(&p);
    }
    let err = decode(&resealed).unwrap_err();
    assert!(matches!(err, CdTextError::SizeInfo { .. }), "{err}");
    assert!(!decode_with_report(&resealed)
        .unwrap()
        .report
        .warnings
        .is_empty());
}

/// xorshift64*, fixed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn decoder_survives_fuzzing() {
    let t = "decoder_survives_fuzzing";
    let Some(seed) = read("libcdio/data/cdtext.cdt", t) else {
        return;
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    for round in 0..3000 {
        let mut bytes = seed.clone();
        match round % 3 {
            0 => bytes.truncate((rng.next() as usize) % seed.len()),
            1 => {
                for _ in 0..1 + rng.next() % 8 {
                    let i = (rng.next() as usize) % bytes.len();
                    bytes[i] = rng.next() as u8;
                }
            }
            _ => {
                let n = (rng.next() % 40) as usize * 18;
                bytes = (0..n).map(|_| rng.next() as u8).collect();
                for p in bytes.chunks_mut(18) {
                    p[0] = 0x80 | (p[0] & 0x0F);
                    let mut a: [u8; 18] = (&*p).try_into().unwrap();
                    glassmaster::disc::cdtext::seal_pack(&mut a);
                    p.copy_from_slice(&a);
                }
            }
        }
        if decode_with_report(&bytes).is_ok() {
            ok += 1;
        }
        let _ = decode(&bytes);
    }
    // Single-byte changes in text often still decode leniently.
    assert!(ok > 0);
}

/// An MS-JIS block: double-byte packs (DBCC bit set), TAB TAB repeats,
/// ISRCs single-byte, and back.
#[test]
fn msjis_block_round_trips() {
    let mut en = CdTextBlock::new(1, 3);
    en.disc.title = Some("Heathen".into());
    let mut ja = CdTextBlock::new(1, 3);
    ja.language = 0x69;
    ja.charset = Charset::MsJis;
    ja.disc.title = Some("ヒーゼン".into());
    for (i, t) in ja.tracks.iter_mut().enumerate() {
        t.title = Some(["サンデー", "カクタス", "カクタス"][i].into());
        t.performer = Some("デヴィッド・ボウイ".into());
        t.code = Some(format!("USRF30200{:03}", i + 1));
    }
    let text = CdText {
        blocks: vec![en, ja],
    };
    for use_tab in [false, true] {
        let bytes = text.encode_with(&EncodeOptions { use_tab }).unwrap();
        let packs: Vec<&[u8]> = bytes.chunks(18).collect();
        let ja_title = packs
            .iter()
            .find(|p| p[0] == 0x80 && p[3] & 0x70 == 0x10)
            .unwrap();
        assert_eq!(ja_title[3] & 0x80, 0x80, "DBCC bit on double-byte packs");
        assert_eq!(&ja_title[4..8], &[0x83, 0x71, 0x81, 0x5B]); // ヒー
        let isrc = packs
            .iter()
            .find(|p| p[0] == 0x8E && p[3] & 0x70 == 0x10)
            .unwrap();
        assert_eq!(isrc[3] & 0x80, 0, "ISRC packs are single-byte");
        assert_eq!(
            packs
                .iter()
                .any(|p| p[3] & 0x70 == 0x10 && p[4..16].windows(4).any(|w| w == [9, 9, 0, 0])),
            use_tab
        );
        assert_eq!(decode(&bytes).unwrap(), text.filled(), "use_tab {use_tab}");
    }
    // A character MS-JIS cannot hold here is a typed error.
    let mut bad = text.clone();
    bad.blocks[1].tracks[0].title = Some("Sunday".into());
    let err = bad.encode().unwrap_err();
    assert!(
        matches!(
            err,
            CdTextError::Unencodable {
                ch: 'S',
                charset: "MS-JIS",
                ..
            }
        ),
        "{err}"
    );
}
