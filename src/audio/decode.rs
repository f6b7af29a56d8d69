//! Decoding with symphonia (to be written).

/// Streaming decoder (to be written).
pub struct Decoder;
