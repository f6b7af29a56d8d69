//! The three ways a manifest writes a time: seconds (`2.5`), minutes and
//! seconds (`"3:20.250"`), and CD frames (`"03:20:18"`, 75 to the second).

/// CD frames (sectors) per second.
pub const CD_FRAMES_PER_SECOND: f64 = 75.0;

/// Parses a time written as text. Numbers written as YAML numbers never
/// reach here. The error says what is wrong.
pub fn parse_time(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split(':').collect();
    let num = |s: &str, what: &str| -> Result<f64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(format!("\"{t}\": {what} \"{s}\" is not a number"));
        }
        s.parse::<f64>()
            .map_err(|_| format!("\"{t}\": {what} \"{s}\" is not a number"))
    };
    match parts.len() {
        1 => num(parts[0], "seconds"),
        2 => {
            let m = num(parts[0], "minutes")?;
            let s = num(parts[1], "seconds")?;
            if m.fract() != 0.0 {
                return Err(format!("\"{t}\": minutes must be whole"));
            }
            if s >= 60.0 {
                return Err(format!("\"{t}\": seconds must be under 60"));
            }
            Ok(m * 60.0 + s)
        }
        3 => {
            let vals: Vec<f64> = [
                ("minutes", parts[0]),
                ("seconds", parts[1]),
                ("frames", parts[2]),
            ]
            .iter()
            .map(|(w, s)| {
                let v = num(s, w)?;
                if v.fract() != 0.0 {
                    return Err(format!("\"{t}\": {w} must be whole in mm:ss:ff"));
                }
                Ok(v)
            })
            .collect::<Result<_, _>>()?;
            if vals[1] >= 60.0 {
                return Err(format!("\"{t}\": seconds must be under 60"));
            }
            if vals[2] >= CD_FRAMES_PER_SECOND {
                return Err(format!("\"{t}\": frames must be under 75"));
            }
            Ok(vals[0] * 60.0 + vals[1] + vals[2] / CD_FRAMES_PER_SECOND)
        }
        _ => Err(format!("\"{t}\" has too many colons")),
    }
}

/// `mm:ss:ff` of a frame count.
pub fn frames_to_msf(frames: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        frames / 4500,
        (frames / 75) % 60,
        frames % 75
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_notations() {
        assert_eq!(parse_time("2.5").unwrap(), 2.5);
        assert!((parse_time("3:20.250").unwrap() - 200.25).abs() < 1e-12);
        assert!((parse_time("03:20:18").unwrap() - (200.0 + 18.0 / 75.0)).abs() < 1e-12);
        assert!(parse_time("1:75").is_err());
        assert!(parse_time("00:10:75").unwrap_err().contains("under 75"));
        assert!(parse_time("1:2:3:4").is_err());
        assert!(parse_time("abc").is_err());
        assert!(parse_time("-1").is_err());
        assert_eq!(frames_to_msf(79 * 4500 + 57 * 75 + 74), "79:57:74");
    }
}
