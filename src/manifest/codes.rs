//! Release and recording codes: ISRC (ISO 3901) and UPC-A / EAN-13, whose
//! 13-digit form is the CD's Media Catalogue Number.

use std::fmt;

/// An International Standard Recording Code, stored without hyphens:
/// 2 letters (country), 3 letters or digits (registrant), 2 digits (year),
/// 5 digits (designation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Isrc(String);

impl Isrc {
    /// Parses an ISRC as a manifest may write it: hyphens allowed, letters
    /// of any case. The error says what is wrong with the value.
    pub fn parse(text: &str) -> Result<Isrc, String> {
        let compact: String = text
            .chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.chars().count() != 12 {
            return Err(format!(
                "ISRC \"{text}\" has {} characters without hyphens; an ISRC has 12 \
                 (2 letters, 3 letters or digits, 2 digits for the year, 5 digits)",
                compact.chars().count()
            ));
        }
        let b = compact.as_bytes();
        if !b[0..2].iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "ISRC \"{text}\" must begin with a two-letter country code"
            ));
        }
        if !b[2..5].iter().all(u8::is_ascii_alphanumeric) {
            return Err(format!(
                "ISRC \"{text}\": characters 3 to 5 (the registrant code) must be letters or digits"
            ));
        }
        if !b[5..7].iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "ISRC \"{text}\": characters 6 and 7 (the year) must be digits"
            ));
        }
        if !b[7..12].iter().all(u8::is_ascii_digit) {
            return Err(format!(
                "ISRC \"{text}\": the last 5 characters (the designation code) must be digits"
            ));
        }
        Ok(Isrc(compact))
    }

    /// Builds `CC XXX YY NNNNN` from a registrant prefix (`US-XYZ`), a
    /// two-digit year and a designation number.
    pub fn generate(registrant: &str, year: u32, designation: u32) -> Result<Isrc, String> {
        if designation > 99_999 {
            return Err(format!(
                "ISRC designation {designation} is past 99999, the largest a 5-digit code holds"
            ));
        }
        Isrc::parse(&format!(
            "{}{:02}{:05}",
            registrant.replace('-', ""),
            year % 100,
            designation
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Everything but the designation code: `CCXXXYY`.
    pub fn stem(&self) -> &str {
        &self.0[..7]
    }

    pub fn designation(&self) -> u32 {
        self.0[7..].parse().unwrap_or(0)
    }
}

impl fmt::Display for Isrc {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an ISRC registrant prefix (`US-XYZ` or `USXYZ`) and returns it
/// without hyphens, upper case.
pub fn parse_registrant(text: &str) -> Result<String, String> {
    let compact: String = text
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = compact.as_bytes();
    if b.len() != 5
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..].iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(format!(
            "ISRC registrant \"{text}\" must be a 2-letter country code and a 3-character \
             registrant code, like US-XYZ"
        ));
    }
    Ok(compact)
}

/// A release's barcode, kept as the 13-digit EAN/MCN form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Upc(String);

impl Upc {
    /// Accepts UPC-A (12 digits) or EAN-13 (13 digits) and verifies the GS1
    /// check digit. A UPC-A gains a leading 0.
    pub fn parse(text: &str) -> Result<Upc, String> {
        let t = text.trim();
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "UPC/EAN \"{t}\" must be digits only (12 for UPC-A, 13 for EAN-13)"
            ));
        }
        let ean = match t.len() {
            12 => format!("0{t}"),
            13 => t.to_owned(),
            n => {
                return Err(format!(
                    "UPC/EAN \"{t}\" has {n} digits; a UPC-A has 12 and an EAN-13 has 13"
                ))
            }
        };
        let want = gs1_check_digit(&ean[..12]);
        let got = ean.as_bytes()[12] - b'0';
        if want != got {
            return Err(format!(
                "UPC/EAN \"{t}\" has check digit {got}, but its digits call for {want}"
            ));
        }
        Ok(Upc(ean))
    }

    /// The 13-digit form, which is also the CD's MCN.
    pub fn ean13(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Upc {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// GS1 check digit of the 12 digits before it: weights 1,3,1,3,... from
/// the left of a 13-digit code.
pub fn gs1_check_digit(digits12: &str) -> u8 {
    let sum: u32 = digits12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks a DDEX Party ID (DPID): `PADPIDA`, ten digits and the ISO 7064
/// MOD 37,36 check character (`PADPIDA2014021302H`). Returns the DPID in
/// capitals.
pub fn check_dpid(text: &str) -> Result<String, String> {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let t = text.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    if b.len() != 18 || !t.starts_with("PADPIDA") || !b[7..17].iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "DDEX Party ID \"{}\" must be PADPIDA, ten digits and a check character \
             (18 characters, like PADPIDA2014021302H)",
            text.trim()
        ));
    }
    // ISO 7064 MOD 37,36 over the first 17 characters.
    let mut p = 36u32;
    for c in &b[..17] {
        let v = ALPHABET.iter().position(|a| a == c).unwrap_or(0) as u32;
        let s = match (p + v) % 36 {
            0 => 36,
            s => s,
        };
        p = (2 * s) % 37;
    }
    let want = ALPHABET[((37 - p) % 36) as usize];
    if b[17] != want {
        return Err(format!(
            "DDEX Party ID \"{}\" ends in {}, but its characters call for the check character {}",
            text.trim(),
            b[17] as char,
            want as char
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isrc_forms() {
        assert_eq!(
            Isrc::parse("GB-ABC-26-00001").unwrap().as_str(),
            "GBABC2600001"
        );
        assert_eq!(
            Isrc::parse("usxyz2600007").unwrap().as_str(),
            "USXYZ2600007"
        );
        assert!(Isrc::parse("GBABC260001")
            .unwrap_err()
            .contains("11 characters"));
        assert!(Isrc::parse("1BABC2600001").is_err());
        assert!(Isrc::parse("GBABC2A00001").is_err());
        assert!(Isrc::parse("GBAB!2600001").is_err());
        assert_eq!(
            Isrc::generate("US-XYZ", 26, 12).unwrap().as_str(),
            "USXYZ2600012"
        );
        assert!(Isrc::generate("US-XYZ", 26, 100_000).is_err());
    }

    #[test]
    fn upc_check_digits() {
        assert_eq!(
            Upc::parse("5012345678900").unwrap().ean13(),
            "5012345678900"
        );
        // UPC-A 036000291452 (a well-known example) → EAN-13 with a leading 0.
        assert_eq!(Upc::parse("036000291452").unwrap().ean13(), "0036000291452");
        assert!(Upc::parse("036000291453")
            .unwrap_err()
            .contains("check digit 3"));
        assert!(Upc::parse("12345").is_err());
        assert!(Upc::parse("50123456789OO").is_err());
        assert_eq!(gs1_check_digit("501234567890"), 0);
    }

    #[test]
    fn ddex_party_ids() {
        // Three DPIDs of the DDEX example message.
        for d in [
            "PADPIDA2014021302H",
            "PADPIDA2024072201A",
            "PADPIDA2013042401U",
        ] {
            assert_eq!(check_dpid(d).unwrap(), d);
        }
        assert!(check_dpid("PADPIDA2014021302X")
            .unwrap_err()
            .contains("check character H"));
        assert!(check_dpid("PADPIDA20140213").is_err());
        assert!(check_dpid("XADPIDA2014021302H").is_err());
    }
}
