//! MS-JIS (Shift JIS, CP932) double-byte codes ↔ Unicode, for the kana and
//! full-width forms only.
//!
//! A complete Shift JIS table (kanji) is out of scope. Codes outside this
//! small table map losslessly to U+F0000 + code (Supplementary Private Use
//! Area-A) and back, so decoding and re-encoding keeps every byte; the
//! CP932 user area 0xF040..0xF9FC maps to U+E000.. as Windows maps it.

/// Private-use plane that carries codes outside the table.
const RAW_BASE: u32 = 0xF0000;

/// (first code, last code, first Unicode scalar) runs without gaps.
const RUNS: &[(u16, u16, u32)] = &[
    (0x8140, 0x8142, 0x3000), // ideographic space 、 。
    (0x824F, 0x8258, 0xFF10), // full-width digits
    (0x8260, 0x8279, 0xFF21), // full-width A..Z
    (0x8281, 0x829A, 0xFF41), // full-width a..z
    (0x829F, 0x82F1, 0x3041), // hiragana
    (0x8340, 0x837E, 0x30A1), // katakana ァ..ミ
    (0x8380, 0x8396, 0x30E0), // katakana ム..ヶ
];

/// Single codes.
const SINGLES: &[(u16, u32)] = &[
    (0x8143, 0xFF0C),
    (0x8144, 0xFF0E),
    (0x8145, 0x30FB),
    (0x8146, 0xFF1A),
    (0x8147, 0xFF1B),
    (0x8148, 0xFF1F),
    (0x8149, 0xFF01),
    (0x815B, 0x30FC),
    (0x815E, 0xFF0F),
    (0x8169, 0xFF08),
    (0x816A, 0xFF09),
    (0x8175, 0x300C),
    (0x8176, 0x300D),
    (0x8177, 0x300E),
    (0x8178, 0x300F),
    (0x81F4, 0x266A),
    (0x81F5, 0x2020),
    (0x81F6, 0x2021),
];

fn user_area(code: u16) -> Option<u32> {
    let [hi, lo] = code.to_be_bytes();
    if !(0xF0..=0xF9).contains(&hi) || !(0x40..=0xFC).contains(&lo) || lo == 0x7F {
        return None;
    }
    let trail = u32::from(lo) - 0x40 - u32::from(lo > 0x7F);
    Some(0xE000 + u32::from(hi - 0xF0) * 188 + trail)
}

/// The character for a double-byte code (never fails: unknown codes become
/// private-use characters).
pub(super) fn decode_pair(code: u16) -> char {
    let scalar = RUNS
        .iter()
        .find(|(a, b, _)| (*a..=*b).contains(&code))
        .map(|(a, _, u)| u + u32::from(code - a))
        .or_else(|| SINGLES.iter().find(|(c, _)| *c == code).map(|(_, u)| *u))
        .or_else(|| user_area(code))
        .unwrap_or(RAW_BASE + u32::from(code));
    char::from_u32(scalar).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The double-byte code of a character, if it has one.
pub(super) fn encode_char(ch: char) -> Option<u16> {
    let u = u32::from(ch);
    if (RAW_BASE..=RAW_BASE + 0xFFFF).contains(&u) {
        return Some((u - RAW_BASE) as u16);
    }
    if (0xE000..0xE000 + 10 * 188).contains(&u) {
        let idx = u - 0xE000;
        let hi = 0xF0 + idx / 188;
        let t = idx % 188;
        let lo = if t < 0x3F { t + 0x40 } else { t + 0x41 };
        return Some(((hi << 8) | lo) as u16);
    }
    for &(a, b, first) in RUNS {
        let n = u32::from(b - a);
        if (first..=first + n).contains(&u) {
            return Some(a + (u - first) as u16);
        }
    }
    SINGLES.iter().find(|(_, s)| *s == u).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for hi in 0x81..=0xFCu16 {
            for lo in 0x40..=0xFCu16 {
                let code = (hi << 8) | lo;
                assert_eq!(encode_char(decode_pair(code)), Some(code), "{code:#06x}");
            }
        }
        assert_eq!(decode_pair(0x8371), 'ヒ');
        assert_eq!(decode_pair(0x815B), 'ー');
        assert_eq!(decode_pair(0xF040), '\u{E000}');
    }
}
