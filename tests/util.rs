//! Shared test helpers.

use std::path::PathBuf;
use std::process::Command;

/// Path of the built `glassmaster` binary.
#[allow(dead_code)]
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_glassmaster"))
}

/// True when `tool` runs on this machine; prints a skip message when not.
#[allow(dead_code)]
pub fn have_tool(tool: &str, test: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-version")
        .output()
        .or_else(|_| Command::new(tool).arg("--version").output())
        .is_ok();
    if !ok {
        eprintln!("SKIP {test}: `{tool}` is not installed");
    }
    ok
}

/// True when the python3 on PATH imports `modules` ("numpy, scipy");
/// prints a skip message when not.
#[allow(dead_code)]
pub fn have_python(modules: &str, test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP {test}: python3 cannot `import {modules}` (pip install them)");
    }
    ok
}

/// A fresh scratch folder under target/ for one test.
#[allow(dead_code)]
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a 16-bit PCM WAV of a sine at -12 dBFS (the same on every
/// channel), `secs` long.
#[allow(dead_code)]
pub fn write_wav_i16(path: &std::path::Path, rate: u32, channels: u16, secs: f64, freq: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * f64::from(rate)) as usize;
    for i in 0..n {
        let v = (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin() * 0.25;
        let s = (v * 32767.0).round() as i16;
        for _ in 0..channels {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Seeded mutations of valid inputs for the bounded fuzz loops (manifest,
/// DDP, CUE): bit flips, byte insertions (random or from a dictionary of
/// bytes that matter to the format), deletions, truncations, runs doubled
/// and splices from another valid input. Same seed, same cases.
#[allow(dead_code)]
pub struct Mutator {
    state: u64,
    /// Bytes worth inserting for this format (punctuation, digits, ...).
    pub dictionary: &'static [u8],
}

#[allow(dead_code)]
impl Mutator {
    pub fn new(seed: u64, dictionary: &'static [u8]) -> Mutator {
        Mutator {
            state: seed | 1,
            dictionary,
        }
    }

    /// xorshift64.
    pub fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// `base` with 1 to 4 mutations; `others` are valid inputs to splice
    /// from (may be empty).
    pub fn mutate(&mut self, base: &[u8], others: &[&[u8]]) -> Vec<u8> {
        let mut m = base.to_vec();
        for _ in 0..1 + self.below(4) {
            let i = self.below(m.len());
            match self.below(8) {
                0 if !m.is_empty() => m[i] ^= 1 << self.below(8),
                1 => {
                    let b = if self.dictionary.is_empty() || self.below(3) == 0 {
                        self.next() as u8
                    } else {
                        self.dictionary[self.below(self.dictionary.len())]
                    };
                    m.insert(i, b);
                }
                2 if !m.is_empty() => {
                    let n = 1 + self.below(16.min(m.len() - i));
                    m.drain(i..i + n);
                }
                3 => m.truncate(i),
                4 if !m.is_empty() => {
                    // A run of the input doubled in place.
                    let n = 1 + self.below(64.min(m.len() - i));
                    let run: Vec<u8> = m[i..i + n].to_vec();
                    m.splice(i..i, run);
                }
                5 if !others.is_empty() => {
                    // Splice: a piece of another valid input replaces ours
                    // from here on, or is put in here.
                    let o = others[self.below(others.len())];
                    let from = self.below(o.len());
                    let n = self.below(o.len() - from + 1);
                    if self.below(2) == 0 {
                        m.truncate(i);
                        m.extend_from_slice(&o[from..]);
                    } else {
                        m.splice(i..i, o[from..from + n].iter().copied());
                    }
                }
                6 if !m.is_empty() => {
                    let j = self.below(m.len());
                    m.swap(i, j);
                }
                _ if !m.is_empty() => {
                    m[i] = if self.dictionary.is_empty() {
                        self.next() as u8
                    } else {
                        self.dictionary[self.below(self.dictionary.len())]
                    };
                }
                _ => m.push(self.next() as u8),
            }
        }
        m
    }
}

/// Runs `case` under `catch_unwind`, panicking with `what` (the input
/// shown) when it panicked: for the fuzz loops.
#[allow(dead_code)]
pub fn no_panic(what: impl FnOnce() -> String, case: impl FnOnce()) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
    if r.is_err() {
        panic!("panicked on {}", what());
    }
}
