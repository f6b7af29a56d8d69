//! Stereo width by mid/side scaling: M = (L+R)/2, S = (L-R)/2, the side
//! signal is scaled by `width` and the pair converted back. Width 0 folds
//! to mono, 1 leaves the samples bit-identical, above 1 widens. The mid
//! signal is never touched, so a mono source is unchanged at any width.

use super::{check_param, DspError};
use crate::audio::Block;

/// M/S width stage.
#[derive(Debug, Clone)]
pub struct StereoWidth {
    width: f64,
}

impl StereoWidth {
    /// `width` from 0 (mono) to 4; 1 is unchanged.
    pub fn new(width: f64) -> Result<Self, DspError> {
        let width = check_param(
            "width",
            width,
            0.0,
            4.0,
            "0 (mono) to 4; 1 leaves the image unchanged",
        )?;
        Ok(StereoWidth { width })
    }

    /// The width this stage applies.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Applies the width in place.
    pub fn process(&mut self, block: &mut Block) {
        if self.width == 1.0 {
            return;
        }
        let w = self.width;
        for (l, r) in block.left.iter_mut().zip(block.right.iter_mut()) {
            let m = 0.5 * (*l + *r);
            let s = 0.5 * (*l - *r) * w;
            *l = m + s;
            *r = m - s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_mono_and_one_is_identity() {
        let src = Block {
            left: vec![0.5, -0.25, 0.125],
            right: vec![0.1, 0.3, -0.7],
        };
        let mut b = src.clone();
        StereoWidth::new(1.0).unwrap().process(&mut b);
        assert_eq!(b.left, src.left);
        assert_eq!(b.right, src.right);
        StereoWidth::new(0.0).unwrap().process(&mut b);
        for i in 0..3 {
            assert_eq!(b.left[i], b.right[i]);
            assert!((b.left[i] - 0.5 * (src.left[i] + src.right[i])).abs() < 1e-15);
        }
        let mut w = src.clone();
        StereoWidth::new(2.0).unwrap().process(&mut w);
        let side = |b: &Block, i: usize| b.left[i] - b.right[i];
        assert!((side(&w, 0) - 2.0 * side(&src, 0)).abs() < 1e-15);
        assert!(StereoWidth::new(-1.0).is_err());
    }
}
