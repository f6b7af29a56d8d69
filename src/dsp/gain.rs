//! A static gain in dB, applied to both channels. The factor is computed
//! once in `new()`; processing is one multiply per sample.

use super::{check_param, db_to_lin, DspError};
use crate::audio::Block;

/// Static gain stage.
#[derive(Debug, Clone)]
pub struct Gain {
    gain_db: f64,
    factor: f64,
}

impl Gain {
    /// A gain of `gain_db` decibels (-120..=+48 dB).
    pub fn new(gain_db: f64) -> Result<Self, DspError> {
        let gain_db = check_param("gain_db", gain_db, -120.0, 48.0, "-120 to +48 dB")?;
        Ok(Gain {
            gain_db,
            factor: db_to_lin(gain_db),
        })
    }

    /// The gain in dB this stage applies.
    pub fn gain_db(&self) -> f64 {
        self.gain_db
    }

    /// The linear factor this stage applies.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// Multiplies the block by the gain, in place. A gain of exactly 0 dB
    /// leaves the samples bit-identical.
    pub fn process(&mut self, block: &mut Block) {
        if self.factor == 1.0 {
            return;
        }
        let g = self.factor;
        for s in block.left.iter_mut().chain(block.right.iter_mut()) {
            *s *= g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_db_doubles_roughly() {
        let mut g = Gain::new(6.0).unwrap();
        let mut b = Block {
            left: vec![0.25, -0.5],
            right: vec![0.1, 0.0],
        };
        g.process(&mut b);
        assert!((b.left[0] - 0.25 * 1.995_262_314_968_879_5).abs() < 1e-12);
        assert_eq!(b.right[1], 0.0);
        assert!(Gain::new(f64::NAN).is_err());
        assert!(Gain::new(60.0).is_err());
    }
}
