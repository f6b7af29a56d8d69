//! The minutes per side of each analogue medium, read from the data table
//! `templates/analog.yaml` (compiled in): for vinyl the recommended and
//! the maximum side length of each size and speed, for a cassette the
//! minutes per side of each C length. Nothing about a medium's capacity
//! is written in code.

use std::sync::OnceLock;

use serde::Deserialize;

const TABLE: &str = include_str!("../../templates/analog.yaml");

/// One vinyl format's side lengths, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct VinylLimits {
    pub size: u32,
    pub rpm: u32,
    /// Past this the cut must be quieter: a warning.
    pub recommended: f64,
    /// Past this the side cannot be cut: an error.
    pub maximum: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct CassetteRow {
    length: String,
    side: f64,
}

#[derive(Debug, Clone, Deserialize)]
struct Table {
    vinyl: Vec<VinylLimits>,
    cassette: Vec<CassetteRow>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    // The table is part of the program; its unit test parses it.
    T.get_or_init(|| serde_saphyr::from_str(TABLE).expect("templates/analog.yaml parses"))
}

/// The side lengths of a `size`-inch record at `rpm`, if it is cut.
pub fn vinyl_limits(size: u32, rpm: u32) -> Option<VinylLimits> {
    table()
        .vinyl
        .iter()
        .find(|r| r.size == size && r.rpm == rpm)
        .copied()
}

/// The record sizes in the table, smallest first.
pub fn vinyl_sizes() -> Vec<u32> {
    let mut v: Vec<u32> = table().vinyl.iter().map(|r| r.size).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The speeds in the table, slowest first.
pub fn vinyl_speeds() -> Vec<u32> {
    let mut v: Vec<u32> = table().vinyl.iter().map(|r| r.rpm).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `33 1/3 rpm`, `45 rpm`.
pub fn rpm_name(rpm: u32) -> String {
    if rpm == 33 {
        "33 1/3 rpm".to_owned()
    } else {
        format!("{rpm} rpm")
    }
}

/// Minutes per side of a cassette length (`C60`), if known.
pub fn cassette_side_minutes(length: &str) -> Option<f64> {
    table()
        .cassette
        .iter()
        .find(|r| r.length.eq_ignore_ascii_case(length))
        .map(|r| r.side)
}

/// The cassette lengths in the table, shortest first.
pub fn cassette_lengths() -> Vec<&'static str> {
    table().cassette.iter().map(|r| r.length.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_holds_every_format_of_the_issue() {
        for size in [7, 10, 12] {
            for rpm in [33, 45] {
                let l = vinyl_limits(size, rpm).unwrap();
                assert!(0.0 < l.recommended && l.recommended < l.maximum, "{l:?}");
            }
        }
        assert!(vinyl_limits(12, 78).is_none());
        assert_eq!(cassette_side_minutes("C60"), Some(30.0));
        assert_eq!(cassette_side_minutes("c90"), Some(45.0));
        assert_eq!(cassette_lengths(), ["C46", "C60", "C90"]);
        assert_eq!(vinyl_sizes(), [7, 10, 12]);
        assert_eq!(vinyl_speeds(), [33, 45]);
    }
}
