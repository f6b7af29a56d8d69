//! Measurement: BS.1770-4 / EBU R128 loudness (integrated, LRA, momentary
//! and short-term max), 4x true peak, sample peak, DC offset, stereo
//! correlation, head and tail silence and clipping, per file and for an
//! album whose blocks are gated together.
