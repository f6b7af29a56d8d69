//! CD-Text encoder and decoder against the foreign test data (libburn,
//! libcdio, libcueify, cue2ddp) and a little fuzzing.

mod cue;
mod synthetic;

use std::path::{Path, PathBuf};

pub use cue::{cdtext_from_cue, msf, read_cue, MiniCue};

use glassmaster::disc::cdtext::{
    crc16, decode, decode_with_report, CdText, CdTextError, Charset, EncodeOptions, TextField,
};

pub const FOREIGN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/testdata/foreign");

/// The foreign file, or `None` (with a SKIP line) when the data is absent.
pub fn foreign(rel: &str, test: &str) -> Option<PathBuf> {
    let p = Path::new(FOREIGN).join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP {test}: {} is not there", p.display());
        None
    }
}

fn read(rel: &str, test: &str) -> Option<Vec<u8>> {
    foreign(rel, test).map(|p| std::fs::read(p).unwrap())
}

#[test]
fn crc16_check_value() {
    assert_eq!(crc16(b"123456789"), 0xCE3C);
}

#[test]
fn nightcats_cue_encodes_to_libburns_396_bytes() {
    let t = "nightcats_cue_encodes_to_libburns_396_bytes";
    let (Some(cue), Some(want)) = (
        read("libburn/NIGHTCATS.CUE", t),
        read("libburn/nightcats-cue.cdt", t),
    ) else {
        return;
    };
    let text = cdtext_from_cue(&read_cue(&cue), true);
    let got = text.encode().unwrap();
    assert_eq!(got.len(), 396);
    for (i, (g, w)) in got.chunks(18).zip(want.chunks(18)).enumerate() {
        assert_eq!(g, w, "pack {i}");
    }
    assert_eq!(got, want);
    // And back.
    let back = decode(&want).unwrap();
    let b = &back.blocks[0];
    assert_eq!(b.disc.text(TextField::Title), Some("Joyful Nights"));
    assert_eq!(b.disc.performer.as_deref(), Some(""));
    assert_eq!(
        b.track(2).unwrap().text(TextField::Songwriter),
        Some("Mother Goose")
    );
    assert_eq!(b.disc.text(TextField::Code), Some("1234567890123"));
    assert_eq!(
        b.track(3).unwrap().text(TextField::Code),
        Some("XYBLG1100006")
    );
    assert_eq!(back, text.filled());
}

/// libcdio's `cdtext-raw` output: language → disc/track → (key, value).
type Expected = Vec<(usize, u8, String, String)>;

fn parse_right(text: &str) -> Expected {
    let mut out = Vec::new();
    let (mut lang, mut track) = (0usize, 0u8);
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("Language ") {
            lang = rest.split_whitespace().next().unwrap().parse().unwrap();
        } else if l == "CD-TEXT for Disc:" {
            track = 0;
        } else if let Some(rest) = l.strip_prefix("CD-TEXT for Track") {
            track = rest.trim().trim_end_matches(':').parse().unwrap();
        } else if let Some((k, v)) = l.split_once(": ") {
            out.push((lang, track, k.to_string(), v.to_string()));
        }
    }
    out
}

/// Our decode in the same shape, empty fields left out as libcdio does.
fn flatten(text: &CdText) -> Expected {
    let mut out = Vec::new();
    for (lang, block) in text.blocks.iter().enumerate() {
        let slots = std::iter::once((0u8, &block.disc)).chain(
            block
                .tracks
                .iter()
                .enumerate()
                .map(|(i, f)| (block.first_track + i as u8, f)),
        );
        for (track, fields) in slots {
            for f in TextField::ALL {
                if let Some(v) = fields.text(f) {
                    let key = match (f, track) {
                        (TextField::Code, 0) => "UPC_EAN",
                        (TextField::Code, _) => "ISRC",
                        _ => f.name(),
                    };
                    out.push((lang, track, key.to_string(), v.to_string()));
                }
            }
            if track == 0 {
                if let Some(g) = &block.genre {
                    out.push((lang, 0, "GENRE".into(), g.text.clone()));
                    out.push((lang, 0, "GENRE_CODE".into(), g.code.to_string()));
                }
                if let Some(id) = &block.disc_id {
                    out.push((lang, 0, "DISC_ID".into(), id.clone()));
                }
            }
        }
    }
    out
}

fn check_against_right(cdt: &str, right: &str) -> Option<CdText> {
    let t = "libcdio_decodes_match_right_files";
    let (Some(bytes), Some(right)) = (read(cdt, t), read(right, t)) else {
        return None;
    };
    let text = decode(&bytes).unwrap_or_else(|e| panic!("{cdt}: {e}"));
    let mut want = parse_right(std::str::from_utf8(&right).unwrap());
    for w in &mut want {
        if w.2 == "GENRE_CODE" {
            w.3 = w.3.split_whitespace().next().unwrap().to_string();
        }
    }
    let mut got = flatten(&text);
    want.sort();
    got.sort();
    assert_eq!(got, want, "{cdt}");
    Some(text)
}

#[test]
fn libcdio_decodes_match_right_files() {
    let Some(t) = check_against_right("libcdio/data/cdtext.cdt", "libcdio/expected/cdtext.right")
    else {
        return;
    };
    assert_eq!(t.blocks.len(), 2);
    assert_eq!(
        (t.blocks[0].language, t.blocks[0].charset),
        (0x09, Charset::Ascii)
    );
    assert_eq!(
        (t.blocks[1].language, t.blocks[1].charset),
        (0x08, Charset::Latin1)
    );
    assert_eq!(
        t.blocks[1].disc.text(TextField::Title),
        Some("Freudvolle Nächte")
    );
    assert_eq!(
        t.blocks[1].track(3).unwrap().text(TextField::Performer),
        Some("Mia Kätzchen")
    );
    assert_eq!(t.blocks[0].track(3).unwrap().text(TextField::Message), None);
    assert_eq!(
        t.blocks[0].closed_info.as_deref(),
        Some("This is not to be shown by CD players")
    );
    let bytes = read("libcdio/data/cdtext.cdt", "").unwrap();
    let d = decode_with_report(&bytes).unwrap();
    assert!(d.report.trailing_nul && d.report.bad_crc.is_empty() && d.report.warnings.is_empty());
    assert_eq!(d.packs, 96);

    let k = check_against_right(
        "libcdio/data/cdtext-krosis.cdt",
        "libcdio/expected/cdtext-krosis.right",
    )
    .unwrap();
    let b = &k.blocks[0];
    assert_eq!(
        (b.first_track, b.last_track, b.charset),
        (1, 10, Charset::Latin1)
    );
    assert_eq!(b.disc.songwriter.as_deref(), Some(""));
    for n in 1..=10u8 {
        let tr = b.track(n).unwrap();
        for f in [
            TextField::Performer,
            TextField::Songwriter,
            TextField::Composer,
            TextField::Arranger,
        ] {
            assert_eq!(tr.text(f), Some("Krosis"), "track {n} {f:?}");
        }
        assert_eq!(
            tr.text(TextField::Code),
            Some(format!("QM72819052{:02}", n + 3).as_str())
        );
    }
    assert_eq!(
        b.track(10).unwrap().text(TextField::Title),
        Some("A Memior of Free Will")
    );

    let l = check_against_right(
        "libcdio/data/cdtext-libburnia.cdt",
        "libcdio/expected/cdtext-libburnia.right",
    )
    .unwrap();
    assert_eq!(
        l.blocks[1].disc.text(TextField::Title),
        Some("Nachtkratz II")
    );
}

#[test]
fn libburn_examples_crc_and_size_info() {
    let Some(hex) = read(
        "libburn/examples-libburn.hex",
        "libburn_examples_crc_and_size_info",
    ) else {
        return;
    };
    let packs: Vec<Vec<u8>> = String::from_utf8(hex)
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .map(|l| {
            (0..36)
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect();
    assert_eq!(packs.len(), 32);
    for (i, p) in packs.iter().enumerate() {
        assert!(glassmaster::disc::cdtext::pack_crc_ok(p), "pack {i}");
    }
    // The 0x8F example: three packs, decoded field by field in cdtext.txt.
    let info: Vec<u8> = packs[7..10]
        .iter()
        .flat_map(|p| p[4..16].to_vec())
        .collect();
    assert_eq!(&info[..4], &[0x01, 1, 3, 0]);
    assert_eq!(
        &info[4..20],
        &[6, 5, 4, 5, 7, 6, 1, 2, 0, 0, 0, 0, 0, 0, 6, 3]
    );
    assert_eq!((info[20], info[28]), (0x2c, 0x09));
    // The NIGHTCATS group decodes like the binary file.
    let nc: Vec<u8> = packs[10..].concat();
    let t = decode(&nc).unwrap();
    assert_eq!(
        t.blocks[0].track(1).unwrap().text(TextField::Performer),
        Some("Felix and The Purrs")
    );
    // An incomplete set (the TOC example) has no size information.
    let toc: Vec<u8> = packs[..3].concat();
    assert!(matches!(
        decode(&toc),
        Err(CdTextError::Sequence { index: 2, .. })
    ));
    assert!(matches!(
        decode_with_report(&toc),
        Err(CdTextError::NoSizeInfo { block: 0, found: 0 })
    ));
}

#[test]
fn libcueify_mock_three_blocks_and_msjis() {
    let t = "libcueify_mock_three_blocks_and_msjis";
    let (Some(raw), Some(toc5)) = (
        read(
            "cdtext/libcueify/check_cdtext.serialized_mock_cdtext.cdt",
            t,
        ),
        read(
            "cdtext/libcueify/check_cdtext.serialized_mock_cdtext.read-toc-format5.bin",
            t,
        ),
    ) else {
        return;
    };
    let text = decode(&raw).unwrap();
    let d = decode_with_report(&toc5).unwrap();
    assert!(d.report.header_skipped);
    assert_eq!(d.cdtext, text);
    assert_eq!(text.blocks.len(), 3);
    let [b0, b1, b2] = &text.blocks[..] else {
        unreachable!()
    };
    assert_eq!(
        (b0.language, b0.charset, b0.copyright),
        (0x09, Charset::Ascii, 0xC7)
    );
    assert_eq!((b1.language, b1.charset), (0x0F, Charset::Latin1));
    assert_eq!((b2.language, b2.charset), (0x69, Charset::MsJis));
    for b in &text.blocks {
        assert_eq!((b.first_track, b.last_track), (1, 12));
    }
    assert_eq!(b0.disc.text(TextField::Title), Some("Heathen"));
    // Single-byte TAB repeats the previous entry.
    assert_eq!(
        b0.track(5).unwrap().text(TextField::Performer),
        Some("David Bowie")
    );
    assert_eq!(
        b0.track(8).unwrap().text(TextField::Composer),
        Some("Tk2Composer")
    );
    assert_eq!(
        b0.track(9).unwrap().text(TextField::Composer),
        Some("Tk2Composer")
    );
    assert_eq!(
        b0.track(2).unwrap().text(TextField::Composer),
        Some("TrkComposer")
    );
    assert_eq!(b0.disc_id.as_deref(), Some("CK86630"));
    let g = b0.genre.as_ref().unwrap();
    assert_eq!((g.code, g.text.as_str()), (0x20, "Genre #32"));
    assert_eq!(b0.closed_info.as_deref(), Some("OnlyPrivate"));
    assert_eq!(
        b0.track(1).unwrap().text(TextField::Code),
        Some("US-RF3-02-00001")
    );
    assert_eq!(
        b0.raw_packs.iter().filter(|p| p.pack_type == 0x88).count(),
        5
    );
    assert_eq!(
        b0.raw_packs.iter().filter(|p| p.pack_type == 0x89).count(),
        2
    );
    assert!(b1
        .disc
        .text(TextField::Title)
        .unwrap()
        .starts_with("Pa\u{ef}en"));
    // Double-byte: kana through the table, TAB TAB repeats.
    assert_eq!(b2.disc.text(TextField::Title), Some("ヒーゼン"));
    assert_eq!(
        b2.track(1).unwrap().text(TextField::Title),
        Some("ヒーゼン")
    );
    assert_eq!(
        b2.track(2).unwrap().text(TextField::Title),
        Some("カクタス")
    );
    assert_eq!(
        b2.disc.text(TextField::Performer),
        Some("デヴィッド・ボウイ")
    );
    assert_eq!(
        b2.track(10).unwrap().text(TextField::Performer),
        Some("デヴィッド・ボウイ")
    );
    // Codes outside the small table are kept as private-use characters:
    // the CP932 user area as Windows maps it.
    assert_eq!(
        b2.track(12).unwrap().text(TextField::Performer),
        Some("\u{E475}")
    );
}

#[test]
fn libcueify_bowie_pressed_disc() {
    let t = "libcueify_bowie_pressed_disc";
    let (Some(raw), Some(toc5)) = (
        read("cdtext/libcueify/check_unportable.expected_cdtext.cdt", t),
        read(
            "cdtext/libcueify/check_unportable.expected_cdtext.read-toc-format5.bin",
            t,
        ),
    ) else {
        return;
    };
    let text = decode(&raw).unwrap();
    assert_eq!(decode(&toc5).unwrap(), text);
    assert_eq!(text.blocks.len(), 1);
    let b = &text.blocks[0];
    assert_eq!(b.charset, Charset::Ascii);
    let titles: Vec<&str> = std::iter::once(&b.disc)
        .chain(&b.tracks)
        .map(|f| f.text(TextField::Title).unwrap())
        .collect();
    assert_eq!(titles.len(), 13);
    assert_eq!(titles[0], "Heathen");
    assert_eq!(titles[1], "Sunday");
    assert_eq!(titles[8], "I Took A Trip On A Gemini Spaceship");
    assert_eq!(titles[9], "5:15 The Angels Have Gone");
    assert_eq!(titles[10], "Everyone Says 'Hi'");
    assert_eq!(titles[12], "Heathen (The Rays)");
    for tr in &b.tracks {
        assert_eq!(tr.text(TextField::Performer), Some("David Bowie"));
    }
    assert_eq!(b.disc_id.as_deref(), Some("CK86630"));
    assert_eq!(
        b.track(1).unwrap().text(TextField::Code),
        Some("US-RF3-02-00001")
    );
    assert_eq!(
        b.track(12).unwrap().text(TextField::Code),
        Some("US-RF3-02-00012")
    );
}

/// Every cue2ddp CDTEXT.BIN decodes (but 081), and matches its input.cue.
#[test]
fn cue2ddp_cdtext_bins_decode_and_match_the_cue() {
    let Some(root) = foreign(
        "ddp/cue2ddp",
        "cue2ddp_cdtext_bins_decode_and_match_the_cue",
    ) else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let bin = dir.join("CDTEXT.BIN");
        if !bin.exists() {
            continue;
        }
        seen += 1;
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&bin).unwrap();
        if name.starts_with("081") {
            let err = decode(&bytes).unwrap_err();
            assert!(
                matches!(
                    err,
                    CdTextError::Wrapped {
                        block: 0,
                        count: 1249
                    }
                ),
                "{err}"
            );
            assert!(decode_with_report(&bytes).is_err());
            continue;
        }
        let text = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = &text.blocks[0];
        assert_eq!(
            (b.language, b.charset, b.copyright),
            (0x09, Charset::Latin1, 0),
            "{name}"
        );
        if name.starts_with("092") {
            continue; // made by another encoder; see the round-trip test
        }
        let cue = read_cue(&std::fs::read(dir.join("input.cue")).unwrap());
        // cue2ddp writes what the cue has: the same model encodes to the same bytes.
        let want = cdtext_from_cue(&cue, false);
        assert_eq!(text, want.filled(), "{name}");
        assert_eq!(want.encode().unwrap(), bytes, "{name}: encoder differs");
    }
    assert_eq!(seen, 12); // the foreign README says 13: it counts 092's in.cdt too
}

#[test]
fn cue2ddp_specific_texts() {
    let t = "cue2ddp_specific_texts";
    let Some(bytes) = read("ddp/cue2ddp/031-latin1-cdtext/CDTEXT.BIN", t) else {
        return;
    };
    let b = decode(&bytes).unwrap().blocks.remove(0);
    assert_eq!(b.disc.text(TextField::Title), Some("Café Déjà Vu"));
    assert_eq!(b.disc.text(TextField::Performer), Some("Björk"));
    assert_eq!(b.track(1).unwrap().text(TextField::Title), Some("Über"));
    let b = decode(&read("ddp/cue2ddp/041-cdtext-track-only/CDTEXT.BIN", t).unwrap())
        .unwrap()
        .blocks
        .remove(0);
    assert_eq!(b.disc.performer.as_deref(), Some(""));
    assert_eq!(b.track(1).unwrap().performer.as_deref(), Some(""));
    assert_eq!(
        b.track(2).unwrap().text(TextField::Performer),
        Some("Only Two")
    );
    assert!(b.disc.title.is_none());
    let b = decode(&read("ddp/cue2ddp/063-cue-quote-in-title/CDTEXT.BIN", t).unwrap())
        .unwrap()
        .blocks
        .remove(0);
    assert!(std::iter::once(&b.disc)
        .chain(&b.tracks)
        .any(|f| f.text(TextField::Title) == Some("He said \"hi\" ok")));
    let b = decode(&read("ddp/cue2ddp/064-cue-empty-title/CDTEXT.BIN", t).unwrap())
        .unwrap()
        .blocks
        .remove(0);
    assert_eq!(b.track(1).unwrap().title.as_deref(), Some(""));
    let b = decode(&read("ddp/cue2ddp/024-cdtext-long/CDTEXT.BIN", t).unwrap())
        .unwrap()
        .blocks
        .remove(0);
    assert_eq!(
        b.track(1).unwrap().text(TextField::Title),
        Some("Another long track title, over thirty chars")
    );
}

/// Decode → encode gives the same bytes for sets a canonical encoder wrote.
#[test]
fn reencoding_reproduces_canonical_sets() {
    let t = "reencoding_reproduces_canonical_sets";
    let cases: &[(&str, bool, bool)] = &[
        // (file, use_tab, expected identical)
        ("libcdio/data/cdtext.cdt", false, true),
        ("libcdio/data/cdtext-libburnia.cdt", true, true),
        ("libcdio/data/cdtext-krosis.cdt", true, true),
        ("libburn/nightcats-cue.cdt", false, true),
        ("ddp/cue2ddp/092-ref-cdtext-extended/in.cdt", false, true),
        (
            "cdtext/libcueify/check_unportable.expected_cdtext.cdt",
            false,
            true,
        ),
        (
            "cdtext/libcueify/check_cdtext.serialized_mock_cdtext.cdt",
            true,
            false,
        ),
    ];
    for &(file, use_tab, same) in cases {
        let Some(bytes) = read(file, t) else { return };
        let text = decode(&bytes).unwrap();
        let again = text.encode_with(&EncodeOptions { use_tab }).unwrap();
        let stripped = if bytes.len() % 18 == 1 {
            &bytes[..bytes.len() - 1]
        } else {
            &bytes[..]
        };
        assert_eq!(again == stripped, same, "{file}");
        // Whatever the bytes, the text survives.
        assert_eq!(decode(&again).unwrap(), text, "{file}");
    }
}
